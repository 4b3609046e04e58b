// IEC 60870-5-104 names and classes: APCI (IEC 60870-5-104 §5: start 0x68, length, I/S/U control
// fields), ASDU type identifications (IEC 60870-5-101 §7.2.1, with the 104 additions of §8),
// causes of transmission (101 §7.2.3) and the information element size of each type (101 §7.3).

import type { AccessClass } from '../_core/types.ts';

/** IEC 60870-5-104 well-known port (§10). */
export const IEC104_PORT = 2404;
export const START = 0x68;
/** The length octet counts the four control octets and the ASDU: 4..253 (§5). */
export const MIN_APDU_LENGTH = 4;
export const MAX_APDU_LENGTH = 253;
/** Largest APDU on the wire: start, length, 253 octets. */
export const MAX_APDU_SIZE = 255;
/** ASDU header in 104: type, variable structure qualifier, COT (2 octets), common address (2). */
export const ASDU_HEADER_LENGTH = 6;
/** Information object address: 3 octets in 104. */
export const IOA_LENGTH = 3;

/** U-frame functions: the first control octet (§5.3). */
export const U_FUNCTIONS = {
  startdtAct: 0x07,
  startdtCon: 0x0b,
  stopdtAct: 0x13,
  stopdtCon: 0x23,
  testfrAct: 0x43,
  testfrCon: 0x83,
} as const;

export interface UInfo {
  /** `startdt`, `stopdt`, `testfr`. */
  readonly name: string;
  readonly confirmation: boolean;
  readonly access: AccessClass;
}

const U_INFO: Readonly<Record<number, UInfo>> = {
  0x07: { name: 'startdt', confirmation: false, access: 'control' },
  0x0b: { name: 'startdt', confirmation: true, access: 'control' },
  0x13: { name: 'stopdt', confirmation: false, access: 'control' },
  0x23: { name: 'stopdt', confirmation: true, access: 'control' },
  0x43: { name: 'testfr', confirmation: false, access: 'diagnostic' },
  0x83: { name: 'testfr', confirmation: true, access: 'diagnostic' },
};

/** The U-frame function of a first control octet, or undefined when it is not exactly one. */
export function uFunction(control: number): UInfo | undefined {
  return U_INFO[control];
}

/** Cause of transmission names (101 §7.2.3, Table 14). */
export const COT_NAMES: Readonly<Record<number, string>> = {
  1: 'periodic',
  2: 'background',
  3: 'spontaneous',
  4: 'initialized',
  5: 'request',
  6: 'activation',
  7: 'activation_con',
  8: 'deactivation',
  9: 'deactivation_con',
  10: 'activation_termination',
  11: 'return_remote',
  12: 'return_local',
  13: 'file_transfer',
  14: 'authentication',
  15: 'session_key',
  16: 'user_key',
  20: 'interrogated_station',
  37: 'requested_counter_general',
  44: 'unknown_type',
  45: 'unknown_cause',
  46: 'unknown_common_address',
  47: 'unknown_ioa',
};

export function cotName(cause: number): string {
  const known = COT_NAMES[cause];
  if (known !== undefined) return known;
  if (cause >= 21 && cause <= 36) return `interrogated_group_${cause - 20}`;
  if (cause >= 38 && cause <= 41) return `requested_counter_group_${cause - 37}`;
  return `cause_${cause}`;
}

export const COT = {
  request: 5,
  activation: 6,
  activationCon: 7,
  deactivation: 8,
  deactivationCon: 9,
  activationTermination: 10,
  unknownType: 44,
  unknownIoa: 47,
} as const;

/** COT octet bits (101 §7.2.3). */
export const COT_TEST = 0x80;
export const COT_NEGATIVE = 0x40;
export const COT_CAUSE = 0x3f;

export type TypeKind = 'monitor' | 'command' | 'system' | 'parameter' | 'file' | 'security';

export interface TypeInfo {
  readonly typeId: number;
  /** `M_SP_NA_1` ... as in the standard. */
  readonly name: string;
  /** `iec104.<name in lower case>`, precomputed for operation events. */
  readonly operation: string;
  readonly kind: TypeKind;
  readonly access: AccessClass;
  /** Octets of one information element (without its address), or -1 when variable/unknown. */
  readonly size: number;
}

function t(typeId: number, name: string, kind: TypeKind, access: AccessClass, size: number): TypeInfo {
  return Object.freeze({ typeId, name, operation: `iec104.${name.toLowerCase()}`, kind, access, size });
}

/**
 * Sizes: SIQ/DIQ/QDS/SCO/DCO/RCO/QOI/QCC/QRP/COI 1, VTI+QDS 2, NVA/SVA+QDS 3, IEEE float+QDS 5,
 * BCR 5, BSI+QDS 5, CP24Time2a 3, CP56Time2a 7, CP16Time2a 2.
 */
const KNOWN: readonly TypeInfo[] = [
  t(1, 'M_SP_NA_1', 'monitor', 'read', 1),
  t(2, 'M_SP_TA_1', 'monitor', 'read', 4),
  t(3, 'M_DP_NA_1', 'monitor', 'read', 1),
  t(4, 'M_DP_TA_1', 'monitor', 'read', 4),
  t(5, 'M_ST_NA_1', 'monitor', 'read', 2),
  t(6, 'M_ST_TA_1', 'monitor', 'read', 5),
  t(7, 'M_BO_NA_1', 'monitor', 'read', 5),
  t(8, 'M_BO_TA_1', 'monitor', 'read', 8),
  t(9, 'M_ME_NA_1', 'monitor', 'read', 3),
  t(10, 'M_ME_TA_1', 'monitor', 'read', 6),
  t(11, 'M_ME_NB_1', 'monitor', 'read', 3),
  t(12, 'M_ME_TB_1', 'monitor', 'read', 6),
  t(13, 'M_ME_NC_1', 'monitor', 'read', 5),
  t(14, 'M_ME_TC_1', 'monitor', 'read', 8),
  t(15, 'M_IT_NA_1', 'monitor', 'read', 5),
  t(16, 'M_IT_TA_1', 'monitor', 'read', 8),
  t(17, 'M_EP_TA_1', 'monitor', 'read', 6),
  t(18, 'M_EP_TB_1', 'monitor', 'read', 7),
  t(19, 'M_EP_TC_1', 'monitor', 'read', 7),
  t(20, 'M_PS_NA_1', 'monitor', 'read', 5),
  t(21, 'M_ME_ND_1', 'monitor', 'read', 2),
  t(30, 'M_SP_TB_1', 'monitor', 'read', 8),
  t(31, 'M_DP_TB_1', 'monitor', 'read', 8),
  t(32, 'M_ST_TB_1', 'monitor', 'read', 9),
  t(33, 'M_BO_TB_1', 'monitor', 'read', 12),
  t(34, 'M_ME_TD_1', 'monitor', 'read', 10),
  t(35, 'M_ME_TE_1', 'monitor', 'read', 10),
  t(36, 'M_ME_TF_1', 'monitor', 'read', 12),
  t(37, 'M_IT_TB_1', 'monitor', 'read', 12),
  t(38, 'M_EP_TD_1', 'monitor', 'read', 10),
  t(39, 'M_EP_TE_1', 'monitor', 'read', 11),
  t(40, 'M_EP_TF_1', 'monitor', 'read', 11),
  t(41, 'S_IT_TC_1', 'security', 'other', -1),
  t(45, 'C_SC_NA_1', 'command', 'control', 1),
  t(46, 'C_DC_NA_1', 'command', 'control', 1),
  t(47, 'C_RC_NA_1', 'command', 'control', 1),
  t(48, 'C_SE_NA_1', 'command', 'control', 3),
  t(49, 'C_SE_NB_1', 'command', 'control', 3),
  t(50, 'C_SE_NC_1', 'command', 'control', 5),
  t(51, 'C_BO_NA_1', 'command', 'control', 4),
  t(58, 'C_SC_TA_1', 'command', 'control', 8),
  t(59, 'C_DC_TA_1', 'command', 'control', 8),
  t(60, 'C_RC_TA_1', 'command', 'control', 8),
  t(61, 'C_SE_TA_1', 'command', 'control', 10),
  t(62, 'C_SE_TB_1', 'command', 'control', 10),
  t(63, 'C_SE_TC_1', 'command', 'control', 12),
  t(64, 'C_BO_TA_1', 'command', 'control', 11),
  t(70, 'M_EI_NA_1', 'monitor', 'read', 1),
  // Secure authentication (IEC 62351-5 / 60870-5-7): variable-size elements, not decoded.
  t(81, 'S_CH_NA_1', 'security', 'other', -1),
  t(82, 'S_RP_NA_1', 'security', 'other', -1),
  t(83, 'S_AR_NA_1', 'security', 'other', -1),
  t(84, 'S_KR_NA_1', 'security', 'other', -1),
  t(85, 'S_KS_NA_1', 'security', 'other', -1),
  t(86, 'S_KC_NA_1', 'security', 'other', -1),
  t(87, 'S_ER_NA_1', 'security', 'other', -1),
  t(90, 'S_US_NA_1', 'security', 'other', -1),
  t(91, 'S_UQ_NA_1', 'security', 'other', -1),
  t(92, 'S_UR_NA_1', 'security', 'other', -1),
  t(93, 'S_UK_NA_1', 'security', 'other', -1),
  t(94, 'S_UA_NA_1', 'security', 'other', -1),
  t(95, 'S_UC_NA_1', 'security', 'other', -1),
  t(100, 'C_IC_NA_1', 'system', 'read', 1),
  t(101, 'C_CI_NA_1', 'system', 'read', 1),
  t(102, 'C_RD_NA_1', 'system', 'read', 0),
  t(103, 'C_CS_NA_1', 'system', 'write', 7),
  t(104, 'C_TS_NA_1', 'system', 'diagnostic', 2),
  t(105, 'C_RP_NA_1', 'system', 'control', 1),
  t(106, 'C_CD_NA_1', 'system', 'diagnostic', 2),
  t(107, 'C_TS_TA_1', 'system', 'diagnostic', 9),
  t(110, 'P_ME_NA_1', 'parameter', 'write', 3),
  t(111, 'P_ME_NB_1', 'parameter', 'write', 3),
  t(112, 'P_ME_NC_1', 'parameter', 'write', 5),
  t(113, 'P_AC_NA_1', 'parameter', 'write', 1),
  t(120, 'F_FR_NA_1', 'file', 'file', 6),
  t(121, 'F_SR_NA_1', 'file', 'file', 7),
  t(122, 'F_SC_NA_1', 'file', 'file', 4),
  t(123, 'F_LS_NA_1', 'file', 'file', 5),
  t(124, 'F_AF_NA_1', 'file', 'file', 4),
  t(125, 'F_SG_NA_1', 'file', 'file', -1),
  t(126, 'F_DR_TA_1', 'file', 'file', 13),
  t(127, 'F_SC_NB_1', 'file', 'file', 16),
];

/** Indexed by type id 0..255; undefined ids get `type_<n>` with an unknown size. */
const BY_ID: readonly (TypeInfo | undefined)[] = Array.from({ length: 256 }, (_, id) =>
  KNOWN.find((x) => x.typeId === id),
);
const UNKNOWN: readonly TypeInfo[] = Array.from({ length: 256 }, (_, id) =>
  t(id, `type_${id}`, 'monitor', 'other', -1),
);

/** The type's name, kind, access class and element size; ids without a definition get `type_<n>`. */
export function typeInfo(typeId: number): TypeInfo {
  return BY_ID[typeId & 0xff] ?? UNKNOWN[typeId & 0xff]!;
}

/** Whether the type id is defined by 101/104 (or the secure authentication extension). */
export function isKnownType(typeId: number): boolean {
  return BY_ID[typeId & 0xff] !== undefined;
}

/** Maximum values kept per ASDU (operation values). */
export const MAX_VALUES = 16;
/** Information objects decoded per ASDU (the number field allows 127). */
export const MAX_OBJECTS = 127;
