// The OSI upper layers between COTP and MMS: session SPDUs (ISO 8327-1 §8.3: SI, LI, PI/PGI units,
// basic concatenation of GT/PT with DT), presentation PPDUs (ISO 8823-1 §8: CP, CPA, CPR, ARU,
// fully- and simply-encoded user data) and ACSE APDUs (ISO 8650-1: AARQ, AARE, RLRQ, RLRE, ABRT,
// user-information EXTERNAL), walked only as far as the embedded MMS PDU.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { BER_CLASS, Tlv, findChild } from './ber.ts';

/** Session SPDU identifiers (ISO 8327-1 §8.3, Table 8). */
export const SPDU = {
  dataTransfer: 1,
  giveTokens: 1,
  pleaseTokens: 2,
  expeditedData: 5,
  prepare: 7,
  notFinished: 8,
  finish: 9,
  disconnect: 10,
  refuse: 12,
  connect: 13,
  accept: 14,
  connectDataOverflow: 15,
  overflowAccept: 16,
  giveTokensConfirm: 21,
  giveTokensAck: 22,
  abort: 25,
  abortAccept: 26,
  typedData: 33,
  capabilityData: 61,
  capabilityDataAck: 62,
} as const;

export const SPDU_NAMES: Readonly<Record<number, string>> = {
  1: 'data_transfer',
  2: 'please_tokens',
  5: 'expedited_data',
  7: 'prepare',
  8: 'not_finished',
  9: 'finish',
  10: 'disconnect',
  12: 'refuse',
  13: 'connect',
  14: 'accept',
  15: 'connect_data_overflow',
  16: 'overflow_accept',
  21: 'give_tokens_confirm',
  22: 'give_tokens_ack',
  25: 'abort',
  26: 'abort_accept',
  33: 'typed_data',
  61: 'capability_data',
  62: 'capability_data_ack',
};

/** PGI codes carrying the presentation PDU (ISO 8327-1 §8.3.1.x: User Data, Extended User Data). */
const PGI_USER_DATA = 193;
const PGI_EXTENDED_USER_DATA = 194;

export interface Spdu {
  /** The SPDU that carries the user data: DT (1) after a GT, or a category 1 SPDU (CN, AC, ...). */
  readonly type: number;
  readonly name: string;
  /** The presentation PDU (a view), or null when this SPDU carries none. */
  readonly userData: Uint8Array | null;
}

/**
 * Decodes the session layer of one TSDU. Malformed codes: `mms.bad_spdu` (lengths that do not fit,
 * unknown SPDU identifier).
 */
export function decodeSpdu(b: Uint8Array): Decoded<Spdu> {
  let si = b.length > 0 ? b[0]! : -1;
  if (SPDU_NAMES[si] === undefined) return malformed('mms.bad_spdu', 0);
  let end = spduEnd(b, 0);
  if (end < 0) return malformed('mms.bad_spdu', 0);
  let paramsStart = paramsAt;
  // Basic concatenation (§6.3.7): a category 0 SPDU (GT, PT) followed by a category 2 one (DT, ...).
  if ((si === SPDU.giveTokens || si === SPDU.pleaseTokens) && end < b.length && categoryTwo(b[end]!)) {
    const at = end;
    si = b[at]!;
    end = spduEnd(b, at);
    if (end < 0) return malformed('mms.bad_spdu', at);
    paramsStart = paramsAt;
  }
  if (categoryTwo(si)) {
    // The user information follows the SPDU's parameters, to the end of the TSDU.
    const userData = end < b.length ? b.subarray(end) : null;
    return ok({ type: si, name: SPDU_NAMES[si]!, userData }, b.length);
  }
  // Category 1: the user data is a PGI among the parameters.
  let userData: Uint8Array | null = null;
  let p = paramsStart;
  while (p < end) {
    const code = b[p]!;
    const l = unitLength(b, p + 1, end);
    if (l < 0) return malformed('mms.bad_spdu', p);
    const valueStart = p + (b[p + 1] === 0xff ? 4 : 2);
    if (valueStart + l > end) return malformed('mms.bad_spdu', p);
    if (code === PGI_USER_DATA || code === PGI_EXTENDED_USER_DATA) userData = b.subarray(valueStart, valueStart + l);
    p = valueStart + l;
  }
  return ok({ type: si, name: SPDU_NAMES[si]!, userData }, end);
}

function categoryTwo(si: number): boolean {
  return si === SPDU.dataTransfer || si === SPDU.expeditedData || si === SPDU.typedData;
}

/** Set by `spduEnd`: where the parameters of the SPDU it read start. */
let paramsAt = 0;

/** End of the SPDU (SI, LI, parameters) at `at`, or -1 when its length does not fit the bytes. */
function spduEnd(b: Uint8Array, at: number): number {
  const l = unitLength(b, at + 1, b.length);
  if (l < 0) return -1;
  paramsAt = at + (b[at + 1] === 0xff ? 4 : 2);
  return paramsAt + l <= b.length ? paramsAt + l : -1;
}

/** A length octet, or 0xFF and two octets (§8.2.5); -1 when cut short. */
function unitLength(b: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  const l = b[at]!;
  if (l !== 0xff) return l;
  if (at + 3 > end) return -1;
  return (b[at + 1]! << 8) | b[at + 2]!;
}

/** What the presentation and ACSE layers of one SPDU's user data carry. */
export interface UpperLayers {
  /** The ACSE APDU tag ([APPLICATION n]: 0 AARQ, 1 AARE, 2 RLRQ, 3 RLRE, 4 ABRT), or -1. */
  readonly acse: number;
  /** The MMS PDU (a view), or null. */
  readonly mms: Uint8Array | null;
}

const NOTHING: UpperLayers = Object.freeze({ acse: -1, mms: null });
const t = new Tlv();
const u = new Tlv();

/**
 * Walks a presentation PDU (CP/CPA/CPR/ARU, or the user data of DT/FN/DN) to its first
 * presentation data value, and an ACSE APDU to its user information, returning the MMS PDU found.
 * Presentation contexts are not tracked: ACSE APDUs are [APPLICATION n], MMS PDUs context-specific.
 */
export function upperLayers(p: Uint8Array): UpperLayers {
  if (!t.read(p, 0, p.length)) return NOTHING;
  let start = t.start;
  let end = t.end;
  if (t.is(BER_CLASS.universal, 17)) {
    // CP-type / CPA-PPDU (SET): normal-mode-parameters [2], then its user-data.
    if (!findChild(p, start, end, BER_CLASS.context, 2, u)) return NOTHING;
    if (!findChild(p, u.start, u.end, BER_CLASS.application, 1, t)) return NOTHING;
    start = t.start;
    end = t.end;
  } else if (t.is(BER_CLASS.universal, 16) || t.is(BER_CLASS.context, 0)) {
    // CPR-PPDU / ARP-PPDU (SEQUENCE) or ARU-PPDU normal mode [0]: user-data among the fields.
    if (!findChild(p, start, end, BER_CLASS.application, 1, t)) return NOTHING;
    start = t.start;
    end = t.end;
  } else if (t.is(BER_CLASS.application, 0)) {
    // Simply-encoded-data: the OCTET STRING is the APDU.
    return apdu(p.subarray(start, end));
  } else if (!t.is(BER_CLASS.application, 1)) return NOTHING;
  // Fully-encoded-data: SEQUENCE OF PDV-list; the first one is taken.
  if (!t.read(p, start, end) || !t.is(BER_CLASS.universal, 16)) return NOTHING;
  const value = pdvValue(p, t.start, t.end);
  return value === null ? NOTHING : apdu(value);
}

/** The presentation-data-values of a PDV-list: single-ASN1-type [0] or octet-aligned [1] contents. */
function pdvValue(p: Uint8Array, start: number, end: number): Uint8Array | null {
  let pos = start;
  for (let i = 0; i < 4 && pos < end; i++) {
    if (!u.read(p, pos, end)) return null;
    if (u.cls === BER_CLASS.context && (u.tag === 0 || u.tag === 1)) return p.subarray(u.start, u.end);
    pos = u.next;
  }
  return null;
}

/** An embedded APDU: MMS as is, or ACSE with MMS in its user-information EXTERNAL. */
function apdu(a: Uint8Array): UpperLayers {
  if (!t.read(a, 0, a.length)) return NOTHING;
  if (t.cls !== BER_CLASS.application) return { acse: -1, mms: a };
  const acse = t.tag;
  // user-information [30] (AARQ/AARE) or [30]/[? ] in RLRQ/RLRE/ABRT: Association-information.
  if (!findChild(a, t.start, t.end, BER_CLASS.context, 30, u)) return { acse, mms: null };
  // SEQUENCE OF EXTERNAL: the first.
  if (!t.read(a, u.start, u.end) || !t.is(BER_CLASS.universal, 8)) return { acse, mms: null };
  // EXTERNAL: direct-reference, indirect-reference, then encoding single-ASN1-type [0] / octet-aligned [1].
  let pos = t.start;
  const end = t.end;
  for (let i = 0; i < 5 && pos < end; i++) {
    if (!u.read(a, pos, end)) break;
    if (u.cls === BER_CLASS.context && (u.tag === 0 || u.tag === 1)) return { acse, mms: a.subarray(u.start, u.end) };
    pos = u.next;
  }
  return { acse, mms: null };
}
