// DNP3 names and classes (IEEE 1815-2012): link-layer functions (§9.2.4.1.3), application function
// codes (§4.2.2.5, Table 4-2), IIN bits (§4.2.2.7.2), qualifier codes (§4.2.2.7.3) and object sizes
// (Annex A object library), with the access class each function code stands for.

import type { AccessClass } from '../_core/types.ts';

/** DNP3 over TCP and UDP (IEEE 1815-2012 Annex E, §E.2): port 20000. */
export const DNP3_PORT = 20000;

/** Link frame: 0x05 0x64 start octets. */
export const START_0 = 0x05;
export const START_1 = 0x64;
/** Header: start (2), length, control, destination (2), source (2), CRC (2). */
export const LINK_HEADER_LENGTH = 10;
/** The length octet counts control, destination, source and user data: 5..255. */
export const MIN_LINK_LENGTH = 5;
/** Largest link frame: 10 + 250 user data octets + 16 block CRCs of 2 octets. */
export const MAX_LINK_FRAME = 292;
/** User data is cut into blocks of at most 16 octets, each followed by its CRC. */
export const BLOCK_SIZE = 16;

/** Link control octet (§9.2.4.1.3). */
export const CTL_DIR = 0x80;
export const CTL_PRM = 0x40;
export const CTL_FCB = 0x20;
export const CTL_FCV = 0x10;
export const CTL_FUNC = 0x0f;

/** Transport header (§8.2.1). */
export const TR_FIN = 0x80;
export const TR_FIR = 0x40;
export const TR_SEQ = 0x3f;

/** Application control (§4.2.2.4). */
export const AC_FIR = 0x80;
export const AC_FIN = 0x40;
export const AC_CON = 0x20;
export const AC_UNS = 0x10;
export const AC_SEQ = 0x0f;

/** Link functions with the primary bit set (§9.2.4.1.3.1, Table 9-1). */
export const LINK_PRIMARY_FUNCTIONS: Readonly<Record<number, string>> = {
  0: 'reset_link_states',
  1: 'reset_user_process',
  2: 'test_link_states',
  3: 'confirmed_user_data',
  4: 'unconfirmed_user_data',
  9: 'request_link_status',
};

/** Link functions with the primary bit clear (Table 9-2). */
export const LINK_SECONDARY_FUNCTIONS: Readonly<Record<number, string>> = {
  0: 'ack',
  1: 'nack',
  11: 'link_status',
  14: 'link_not_functioning',
  15: 'not_supported',
};

export function linkFunctionName(primary: boolean, fn: number): string {
  return (primary ? LINK_PRIMARY_FUNCTIONS : LINK_SECONDARY_FUNCTIONS)[fn] ?? `link_function_${fn}`;
}

/** The two primary functions that carry transport segments. */
export const LINK_CONFIRMED_USER_DATA = 3;
export const LINK_UNCONFIRMED_USER_DATA = 4;

/** Application function codes used by the analyzer. */
export const FC = {
  confirm: 0,
  read: 1,
  write: 2,
  select: 3,
  operate: 4,
  directOperate: 5,
  directOperateNr: 6,
  authenticateReq: 32,
  authenticateErr: 33,
  response: 129,
  unsolicitedResponse: 130,
  authenticateResp: 131,
} as const;

export interface FunctionInfo {
  readonly code: number;
  /** snake_case name without the protocol prefix. */
  readonly name: string;
  /** `dnp3.<name>`, precomputed for operation events. */
  readonly operation: string;
  readonly access: AccessClass;
  /** No response is expected (the `_nr` functions and authentication errors). */
  readonly noResponse: boolean;
  /** Requests whose object headers carry no object data (only ranges or index lists). */
  readonly headersOnly: boolean;
}

function info(code: number, name: string, access: AccessClass, noResponse = false, headersOnly = false): FunctionInfo {
  return Object.freeze({ code, name, operation: `dnp3.${name}`, access, noResponse, headersOnly });
}

const KNOWN: readonly FunctionInfo[] = [
  info(0, 'confirm', 'other', true),
  info(1, 'read', 'read', false, true),
  info(2, 'write', 'write'),
  info(3, 'select', 'control'),
  info(4, 'operate', 'control'),
  info(5, 'direct_operate', 'control'),
  info(6, 'direct_operate_nr', 'control', true),
  info(7, 'immediate_freeze', 'read', false, true),
  info(8, 'immediate_freeze_nr', 'read', true, true),
  info(9, 'freeze_clear', 'read', false, true),
  info(10, 'freeze_clear_nr', 'read', true, true),
  info(11, 'freeze_at_time', 'read'),
  info(12, 'freeze_at_time_nr', 'read', true),
  info(13, 'cold_restart', 'control'),
  info(14, 'warm_restart', 'control'),
  info(15, 'initialize_data', 'write'),
  info(16, 'initialize_application', 'control'),
  info(17, 'start_application', 'control'),
  info(18, 'stop_application', 'control'),
  info(19, 'save_configuration', 'write'),
  info(20, 'enable_unsolicited', 'control', false, true),
  info(21, 'disable_unsolicited', 'control', false, true),
  info(22, 'assign_class', 'write', false, true),
  info(23, 'delay_measure', 'diagnostic'),
  info(24, 'record_current_time', 'write'),
  info(25, 'open_file', 'file'),
  info(26, 'close_file', 'file'),
  info(27, 'delete_file', 'file'),
  info(28, 'get_file_info', 'file'),
  info(29, 'authenticate_file', 'file'),
  info(30, 'abort_file', 'file'),
  info(31, 'activate_config', 'file'),
  info(32, 'authenticate_req', 'other'),
  info(33, 'authenticate_err', 'other', true),
  info(129, 'response', 'read'),
  info(130, 'unsolicited_response', 'read'),
  info(131, 'authenticate_resp', 'other'),
];

/** Indexed by function code 0..255; undefined codes get `function_<n>`, class 'other'. */
const BY_CODE: readonly FunctionInfo[] = Array.from(
  { length: 256 },
  (_, code) => KNOWN.find((f) => f.code === code) ?? info(code, `function_${code}`, 'other'),
);

export function functionInfo(code: number): FunctionInfo {
  return BY_CODE[code & 0xff]!;
}

/** Function codes 129..131 come from an outstation and carry IIN octets (§4.2.2.2). */
export function isResponseFunction(code: number): boolean {
  return code >= FC.response && code <= FC.authenticateResp;
}

/**
 * IIN bit names, indexed by bit number 0..15 of the value `IIN1 << 8 | IIN2` (§4.2.2.7.2): bit 15 is
 * IIN1.7 device_restart, bit 0 is IIN2.0 no_func_code_support.
 */
export const IIN_BIT_NAMES: readonly string[] = [
  'no_func_code_support', // IIN2.0
  'object_unknown', // IIN2.1
  'parameter_error', // IIN2.2
  'event_buffer_overflow', // IIN2.3
  'already_executing', // IIN2.4
  'config_corrupt', // IIN2.5
  'reserved_2', // IIN2.6
  'reserved_1', // IIN2.7
  'broadcast', // IIN1.0
  'class_1_events', // IIN1.1
  'class_2_events', // IIN1.2
  'class_3_events', // IIN1.3
  'need_time', // IIN1.4
  'local_control', // IIN1.5
  'device_trouble', // IIN1.6
  'device_restart', // IIN1.7
];

/** IIN bits that say the request itself failed: IIN2.0, 2.1, 2.2 and 2.4. */
export const IIN_REQUEST_ERRORS = 0x0017;

/** Names of the set IIN bits, most significant (IIN1.7) first. */
export function iinNames(iin: number): string[] {
  const out: string[] = [];
  for (let bit = 15; bit >= 0; bit--) if ((iin >> bit) & 1) out.push(IIN_BIT_NAMES[bit]!);
  return out;
}

/** Range specifier codes (qualifier bits 0–3, §4.2.2.7.3.2). */
export const RANGE_CODES: Readonly<Record<number, string>> = {
  0: 'start_stop_8',
  1: 'start_stop_16',
  2: 'start_stop_32',
  3: 'address_8',
  4: 'address_16',
  5: 'address_32',
  6: 'all',
  7: 'count_8',
  8: 'count_16',
  9: 'count_32',
  11: 'free_format_count_8',
};

/** Object prefix codes (qualifier bits 4–6, §4.2.2.7.3.1). */
export const PREFIX_CODES: Readonly<Record<number, string>> = {
  0: 'none',
  1: 'index_8',
  2: 'index_16',
  3: 'index_32',
  4: 'size_8',
  5: 'size_16',
  6: 'size_32',
};

/** Octets of a prefix code's prefix (index or object size); -1 for the reserved code 7. */
export function prefixOctets(prefixCode: number): number {
  switch (prefixCode) {
    case 0:
      return 0;
    case 1:
    case 4:
      return 1;
    case 2:
    case 5:
      return 2;
    case 3:
    case 6:
      return 4;
    default:
      return -1;
  }
}

/**
 * How an object's data is sized: a fixed number of octets, a number of bits packed without
 * prefixes (binary inputs/outputs), `variable` (the data itself or a size prefix says: device
 * attributes, files, authentication, application ids), or `none` (class objects, and variation 0
 * which only appears in requests).
 */
export type ObjectSize =
  | { readonly kind: 'octets'; readonly n: number }
  | { readonly kind: 'bits'; readonly n: number }
  | { readonly kind: 'variable' }
  | { readonly kind: 'none' };

/** One frozen record per size, made on first use: `objectSize` runs per object header. */
const OCTETS: ObjectSize[] = [];
const octets = (n: number): ObjectSize => (OCTETS[n] ??= Object.freeze({ kind: 'octets', n }));
const BITS_1: ObjectSize = Object.freeze({ kind: 'bits', n: 1 });
const BITS_2: ObjectSize = Object.freeze({ kind: 'bits', n: 2 });
const VARIABLE: ObjectSize = Object.freeze({ kind: 'variable' });
const NONE: ObjectSize = Object.freeze({ kind: 'none' });

/**
 * Object data sizes per group, indexed by variation (index 0 unused), from the Annex A object
 * library. Flags are one octet, times 6 (DNP3 time), relative times 2.
 */
const SIZES: Readonly<Record<number, readonly (number | ObjectSize)[]>> = {
  1: [0, BITS_1, 1], // binary input: packed, with flags
  2: [0, 1, 7, 3], // binary input event
  3: [0, BITS_2, 1], // double-bit input
  4: [0, 1, 7, 3], // double-bit input event
  10: [0, BITS_1, 1], // binary output: packed (write), status
  11: [0, 1, 7], // binary output event
  12: [0, 11, 11, BITS_1], // CROB, pattern control block, pattern mask
  13: [0, 1, 7], // binary output command event
  20: [0, 5, 3, 5, 3, 4, 2, 4, 2], // counter
  21: [0, 5, 3, 5, 3, 11, 9, 11, 9, 4, 2, 4, 2], // frozen counter
  22: [0, 5, 3, 5, 3, 11, 9, 11, 9], // counter event
  23: [0, 5, 3, 5, 3, 11, 9, 11, 9], // frozen counter event
  30: [0, 5, 3, 4, 2, 5, 9], // analog input
  31: [0, 5, 3, 11, 9, 4, 2, 5, 9], // frozen analog input
  32: [0, 5, 3, 11, 9, 5, 9, 11, 15], // analog input event
  33: [0, 5, 3, 11, 9, 5, 9, 11, 15], // frozen analog input event
  34: [0, 2, 4, 4], // analog input deadband
  40: [0, 5, 3, 5, 9], // analog output status
  41: [0, 5, 3, 5, 9], // analog output block: value + control status
  42: [0, 5, 3, 11, 9, 5, 9, 11, 15], // analog output event
  43: [0, 5, 3, 11, 9, 5, 9, 11, 15], // analog output command event
  50: [0, 6, 10, 6, 11], // time and date, with interval, last recorded, indexed
  51: [0, 6, 6], // common time of occurrence
  52: [0, 2, 2], // time delay coarse, fine
  80: [0, BITS_1], // internal indications
  101: [0, 2, 4, 8], // BCD
  102: [0, 1], // unsigned integer
  121: [0, 7], // security statistic
  122: [0, 7, 13], // security statistic event
};

/** The data size of group/variation objects, or undefined when the group/variation is unknown. */
export function objectSize(group: number, variation: number): ObjectSize | undefined {
  if (group === 60) return variation >= 1 && variation <= 4 ? NONE : undefined;
  // Octet strings and virtual terminal objects: the variation is the length (0 = any, in requests).
  if (group >= 110 && group <= 113) return variation === 0 ? NONE : octets(variation);
  // Device attributes (type, length, value), files, application ids, authentication.
  if (group === 0 || group === 70 || group === 90 || group === 120) return VARIABLE;
  const row = SIZES[group];
  if (row === undefined) return undefined;
  if (variation === 0) return NONE;
  const s = row[variation];
  if (s === undefined || s === 0) return undefined;
  return typeof s === 'number' ? octets(s) : s;
}

/** Some group names for messages and docs (Annex A). */
export const GROUP_NAMES: Readonly<Record<number, string>> = {
  0: 'device_attributes',
  1: 'binary_input',
  2: 'binary_input_event',
  3: 'double_bit_input',
  4: 'double_bit_input_event',
  10: 'binary_output',
  11: 'binary_output_event',
  12: 'binary_command',
  13: 'binary_output_command_event',
  20: 'counter',
  21: 'frozen_counter',
  22: 'counter_event',
  23: 'frozen_counter_event',
  30: 'analog_input',
  31: 'frozen_analog_input',
  32: 'analog_input_event',
  33: 'frozen_analog_input_event',
  34: 'analog_input_deadband',
  40: 'analog_output_status',
  41: 'analog_output',
  42: 'analog_output_event',
  43: 'analog_output_command_event',
  50: 'time_and_date',
  51: 'common_time_of_occurrence',
  52: 'time_delay',
  60: 'class_data',
  70: 'file_control',
  80: 'internal_indications',
  90: 'application_identifier',
  101: 'bcd',
  102: 'unsigned_integer',
  110: 'octet_string',
  111: 'octet_string_event',
  112: 'virtual_terminal_output',
  113: 'virtual_terminal_event',
  120: 'authentication',
  121: 'security_statistic',
  122: 'security_statistic_event',
};

/**
 * Groups whose objects name points (inputs, outputs, counters, analogs, BCD, octet strings): the
 * first such header of a request gives the operation's address range.
 */
export function isPointGroup(group: number): boolean {
  return (group >= 1 && group <= 43) || group === 101 || group === 102 || group === 110 || group === 112;
}

/**
 * Device attribute variations (group 0, §A.1) reported as identity: the key names a field of the
 * identity fact, or `extra.<name>`.
 */
export const DEVICE_ATTRIBUTES: Readonly<Record<number, string>> = {
  242: 'firmware', // device manufacturer's software version
  243: 'extra.hardwareVersion',
  245: 'extra.location',
  246: 'extra.deviceId', // user-assigned id code/number
  247: 'extra.deviceName', // user-assigned device name
  248: 'serial', // device serial number
  249: 'extra.subsetAndConformance',
  250: 'product', // device manufacturer's product name and model
  252: 'vendor', // device manufacturer's name
};

/** Broadcast destinations (§9.2.5.3.2): 0xFFFD..0xFFFF. No response is sent to them. */
export function isBroadcast(address: number): boolean {
  return address >= 0xfffd;
}
