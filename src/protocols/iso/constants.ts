// ISO transport on TCP: TPKT (RFC 1006 §6) and the COTP TPDU codes and parameters of ISO 8073 /
// X.224 §13 used on port 102 by S7comm, S7comm-plus and IEC 61850 MMS.

/** The ISO-TSAP port (RFC 1006 §5). */
export const ISO_TSAP_PORT = 102;
/** TPKT version (RFC 1006 §6). */
export const TPKT_VERSION = 3;
export const TPKT_HEADER_LENGTH = 4;
/** TPKT length is 16 bits and counts the header. */
export const MAX_TPKT_LENGTH = 65_535;
/** Smallest TPKT: header + LI + DT code + EOT/NR octet (class 0 DT, X.224 §13.7). */
export const MIN_TPKT_LENGTH = 7;
/**
 * Largest TSDU reassembled from DT TPDUs. X.224 leaves it unbounded; this bound keeps one flow's
 * buffer small while covering what MMS servers send in practice (IEC 61850 reports and file reads
 * of tens of kilobytes).
 */
export const MAX_TSDU_LENGTH = 128 * 1024;

/** TPDU codes (X.224 §13.1, Table 8): the high nibble of the second header octet. */
export const TPDU = {
  ed: 0x10,
  ea: 0x20,
  rj: 0x50,
  ak: 0x60,
  er: 0x70,
  dr: 0x80,
  dc: 0xc0,
  cc: 0xd0,
  cr: 0xe0,
  dt: 0xf0,
} as const;

/**
 * Smallest length indicator per TPDU code (X.224 §13.3–13.12, class 0 or the normal format):
 * -1 for codes that are not TPDUs.
 */
export const MIN_LI: readonly number[] = (() => {
  const t = new Array<number>(16).fill(-1);
  t[TPDU.ed >> 4] = 4;
  t[TPDU.ea >> 4] = 4;
  t[TPDU.rj >> 4] = 4;
  t[TPDU.ak >> 4] = 4;
  t[TPDU.er >> 4] = 4;
  t[TPDU.dr >> 4] = 6;
  t[TPDU.dc >> 4] = 5;
  t[TPDU.cc >> 4] = 6;
  t[TPDU.cr >> 4] = 6;
  t[TPDU.dt >> 4] = 2;
  return t;
})();

export const TPDU_NAMES: Readonly<Record<number, string>> = {
  [TPDU.ed]: 'expedited_data',
  [TPDU.ea]: 'expedited_data_ack',
  [TPDU.rj]: 'reject',
  [TPDU.ak]: 'data_ack',
  [TPDU.er]: 'tpdu_error',
  [TPDU.dr]: 'disconnect_request',
  [TPDU.dc]: 'disconnect_confirm',
  [TPDU.cc]: 'connection_confirm',
  [TPDU.cr]: 'connection_request',
  [TPDU.dt]: 'data',
};

/** Variable-part parameter codes of CR/CC/DR (X.224 §13.3.4, §13.5.3). */
export const COTP_PARAM = {
  tpduSize: 0xc0,
  callingTsap: 0xc1,
  calledTsap: 0xc2,
  checksum: 0xc3,
  versionNumber: 0xc4,
  preferredMaxTpduSize: 0xf0,
  additionalOptions: 0xc6,
  additionalInfo: 0xe0,
} as const;

/** EOT flag in the DT TPDU's last fixed octet (X.224 §13.7.3 c). */
export const DT_EOT = 0x80;

/** The flow's application protocol, found in the first TSDU. */
export type IsoApplication = 's7comm' | 's7comm_plus' | 'mms';
