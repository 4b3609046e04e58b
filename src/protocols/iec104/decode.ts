// IEC 60870-5-104 APDU decoder: APCI (104 §5: start octet, length, I-, S- and U-format control
// fields) and the ASDU (101 §7 with the 104 field sizes of §8: COT with originator address, 2-octet
// common address, 3-octet information object addresses), with the values of the common types.

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import type { AccessClass } from '../_core/types.ts';
import {
  ASDU_HEADER_LENGTH,
  COT_CAUSE,
  COT_NEGATIVE,
  COT_TEST,
  IOA_LENGTH,
  MAX_APDU_LENGTH,
  MAX_OBJECTS,
  MAX_VALUES,
  MIN_APDU_LENGTH,
  START,
  cotName,
  isKnownType,
  typeInfo,
  uFunction,
  type TypeKind,
} from './constants.ts';

/**
 * Frame length of an APDU for PduFramer: 0 until the first control octet is present; -1 when the
 * start octet is not 0x68, the length is outside 4..253, or the control octet does not fit the
 * length (S- and U-frames are exactly 4 octets, I-frames carry at least an ASDU header). Decided
 * by the header alone.
 */
export function frameIec104Apdu(bytes: Uint8Array): number {
  return frameIec104ApduAt(bytes, 0, bytes.length);
}

/** `frameIec104Apdu` of `bytes[off, off + n)`, without a view. */
export function frameIec104ApduAt(bytes: Uint8Array, off: number, n: number): number {
  if (n < 1) return 0;
  if (bytes[off] !== START) return -1;
  if (n < 2) return 0;
  const length = bytes[off + 1]!;
  if (length < MIN_APDU_LENGTH || length > MAX_APDU_LENGTH) return -1;
  if (n < 3) return 0;
  const c1 = bytes[off + 2]!;
  if ((c1 & 1) === 0 ? length < MIN_APDU_LENGTH + ASDU_HEADER_LENGTH : length !== MIN_APDU_LENGTH) return -1;
  return length + 2;
}

export interface Iec104Object {
  /** Information object address (3 octets, little-endian). */
  readonly ioa: number;
  /** The element's value for the common types (state, step, set-point, measured value, counter). */
  readonly value?: number;
}

export interface Iec104Asdu {
  readonly typeId: number;
  readonly typeName: string;
  readonly kind: TypeKind;
  readonly access: AccessClass;
  /** Variable structure qualifier: SQ (one address, consecutive elements) and the number of objects. */
  readonly sq: boolean;
  readonly count: number;
  /** The raw cause of transmission octet, its cause (0..63) and name, P/N and T bits. */
  readonly cot: number;
  readonly cause: number;
  readonly causeName: string;
  readonly negative: boolean;
  readonly test: boolean;
  readonly originator: number;
  /** Common address of the ASDU (station address, 2 octets little-endian). */
  readonly commonAddress: number;
  /** Decoded information objects (all of them when the type's element size is known). */
  readonly objects: readonly Iec104Object[];
  /** Values of the first MAX_VALUES objects that have one. */
  readonly values: readonly number[];
  /** Commands: the select/execute bit (S/E) of the first object; undefined for other types. */
  readonly select?: boolean;
}

export type Iec104Apdu =
  | {
      readonly format: 'i';
      readonly length: number;
      /** Send and receive sequence numbers N(S), N(R) (15 bits each). */
      readonly sendSeq: number;
      readonly recvSeq: number;
      readonly asdu: Iec104Asdu;
    }
  | { readonly format: 's'; readonly length: number; readonly recvSeq: number }
  | {
      readonly format: 'u';
      readonly length: number;
      /** The first control octet (0x07 STARTDT act ... 0x83 TESTFR con). */
      readonly control: number;
      /** tshark's `iec60870_104.utype`: the control octet without its two format bits. */
      readonly utype: number;
      /** `startdt`, `stopdt`, `testfr`, or `invalid` when not exactly one function bit is set. */
      readonly function: string;
      readonly confirmation: boolean;
    };

const NO_VALUES: readonly number[] = Object.freeze([]);
const BAD_FIELDS: readonly string[] = Object.freeze(['iec104.bad_apci_fields']);
const BAD_U_FUNCTION: readonly string[] = Object.freeze(['iec104.bad_u_function']);
const BAD_U_AND_FIELDS: readonly string[] = Object.freeze(['iec104.bad_apci_fields', 'iec104.bad_u_function']);
const VIEW_BYTES = new Uint8Array(4);
const VIEW = new DataView(VIEW_BYTES.buffer);

/**
 * Decodes the APDU at the start of `bytes`; `consumed` is length + 2. `incomplete.needed` is the
 * total size needed. A bad start octet, length or control field is `malformed('iec104.bad_apci')`;
 * an I-frame too short for its ASDU header `malformed('iec104.truncated')`. ASDU oddities are
 * anomalies on an ok record: objects that do not fill the APDU exactly (`iec104.asdu_length`), a
 * type id without a definition (`iec104.unknown_type`, objects not decoded), no objects
 * (`iec104.no_objects`).
 */
export function decodeIec104Apdu(bytes: Uint8Array): Decoded<Iec104Apdu> {
  const n = bytes.length;
  const size = frameIec104ApduAt(bytes, 0, n);
  if (size < 0) {
    // An I-format control field with a length too short for the ASDU header.
    const length = bytes[1] ?? 0;
    const short =
      length >= MIN_APDU_LENGTH && length < MIN_APDU_LENGTH + ASDU_HEADER_LENGTH && ((bytes[2] ?? 1) & 1) === 0;
    return malformed(short ? 'iec104.truncated' : 'iec104.bad_apci', short ? 2 : 0);
  }
  if (size === 0) return incomplete(3);
  if (n < size) return incomplete(size);
  const length = size - 2;
  const c1 = bytes[2]!;
  if ((c1 & 1) === 0) {
    const found: string[] = [];
    const asdu = decodeAsdu(bytes, 6, size, found);
    const apdu: Iec104Apdu = {
      format: 'i',
      length,
      sendSeq: (c1 | (bytes[3]! << 8)) >>> 1,
      recvSeq: (bytes[4]! | (bytes[5]! << 8)) >>> 1,
      asdu,
    };
    return ok(apdu, size, found.length > 0 ? found : undefined);
  }
  // Octets that must be zero: S-frame bits 2–7 and octet 2; U-frame octets 2–4 (§5.2, §5.3).
  const s = (c1 & 3) === 1;
  const u = s ? undefined : uFunction(c1);
  const badFields = s ? c1 !== 1 || bytes[3] !== 0 : bytes[3] !== 0 || bytes[4] !== 0 || bytes[5] !== 0;
  if (s) {
    const recvSeq = (bytes[4]! | (bytes[5]! << 8)) >>> 1;
    return ok({ format: 's', length, recvSeq }, size, badFields ? BAD_FIELDS : undefined);
  }
  const anomalies =
    u !== undefined ? (badFields ? BAD_FIELDS : undefined) : badFields ? BAD_U_AND_FIELDS : BAD_U_FUNCTION;
  const apdu: Iec104Apdu = {
    format: 'u',
    length,
    control: c1,
    utype: c1 >> 2,
    function: u?.name ?? 'invalid',
    confirmation: u?.confirmation ?? false,
  };
  return ok(apdu, size, anomalies);
}

function decodeAsdu(b: Uint8Array, start: number, end: number, found: string[]): Iec104Asdu {
  const typeId = b[start]!;
  const vsq = b[start + 1]!;
  const cot = b[start + 2]!;
  const info = typeInfo(typeId);
  const sq = (vsq & 0x80) !== 0;
  const count = vsq & 0x7f;
  const cause = cot & COT_CAUSE;
  const objects: Iec104Object[] = [];
  let values: number[] | null = null;
  let select: boolean | undefined;
  let p = start + ASDU_HEADER_LENGTH;
  const size = info.size;
  if (count === 0) found.push('iec104.no_objects');
  if (!isKnownType(typeId)) found.push('iec104.unknown_type');
  else if (size >= 0 && count > 0) {
    // SQ = 1: one address, then `count` elements for consecutive addresses; else address + element each.
    const need = sq ? IOA_LENGTH + count * size : count * (IOA_LENGTH + size);
    if (p + need !== end) found.push('iec104.asdu_length');
    let ioa = 0;
    for (let i = 0; i < count && i < MAX_OBJECTS; i++) {
      if (!sq || i === 0) {
        if (p + IOA_LENGTH > end) break;
        ioa = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
        p += IOA_LENGTH;
      } else ioa = (ioa + 1) & 0xffffff;
      if (p + size > end) break;
      const v = elementValue(typeId, b, p);
      if (i === 0 && info.kind === 'command' && typeId !== 51 && typeId !== 64)
        select = (b[p + commandQualifierOffset(typeId)]! & 0x80) !== 0;
      p += size;
      if (v === undefined) objects.push({ ioa });
      else {
        objects.push({ ioa, value: v });
        if ((values ??= []).length < MAX_VALUES) values.push(v);
      }
    }
  } else if (count > 0 && p + IOA_LENGTH <= end) {
    // Elements of variable size (file segments, secure authentication): the first address only.
    objects.push({ ioa: b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) });
  }
  const asdu: Iec104Asdu = {
    typeId,
    typeName: info.name,
    kind: info.kind,
    access: info.access,
    sq,
    count,
    cot,
    cause,
    causeName: cotName(cause),
    negative: (cot & COT_NEGATIVE) !== 0,
    test: (cot & COT_TEST) !== 0,
    originator: b[start + 3]!,
    commonAddress: b[start + 4]! | (b[start + 5]! << 8),
    objects,
    values: values ?? NO_VALUES,
  };
  return select === undefined ? asdu : { ...asdu, select };
}

/**
 * Where the qualifier with the S/E bit sits in a command element: SCO/DCO/RCO first (types 45–47,
 * 58–60), QOS after the value for set-points (48–50, 61–63). Bitstring commands have none.
 */
function commandQualifierOffset(typeId: number): number {
  switch (typeId) {
    case 48:
    case 49:
    case 61:
    case 62:
      return 2;
    case 50:
    case 63:
      return 4;
    default:
      return 0;
  }
}

function int16(b: Uint8Array, p: number): number {
  return ((b[p]! | (b[p + 1]! << 8)) << 16) >> 16;
}

function uint32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function float32(b: Uint8Array, p: number): number {
  VIEW_BYTES[0] = b[p]!;
  VIEW_BYTES[1] = b[p + 1]!;
  VIEW_BYTES[2] = b[p + 2]!;
  VIEW_BYTES[3] = b[p + 3]!;
  return VIEW.getFloat32(0, true);
}

/** The value of one element of the common types (101 §7.2.6), or undefined. */
export function elementValue(typeId: number, b: Uint8Array, p: number): number | undefined {
  switch (typeId) {
    case 1: // SIQ: SPI
    case 2:
    case 30:
    case 45: // SCO: SCS
    case 58:
      return b[p]! & 0x01;
    case 3: // DIQ: DPI
    case 4:
    case 31:
    case 46: // DCO: DCS
    case 59:
    case 47: // RCO: RCS
    case 60:
      return b[p]! & 0x03;
    case 5: // VTI: 7-bit signed step position
    case 6:
    case 32:
      return ((b[p]! & 0x7f) << 25) >> 25;
    case 7: // BSI: 32-bit string
    case 8:
    case 33:
    case 51:
    case 64:
    case 20: // SCD: status and status change detection
      return uint32(b, p);
    case 9: // NVA: normalized value, −1 .. 1 − 2^-15
    case 10:
    case 34:
    case 21:
    case 48:
    case 61:
    case 110:
      return int16(b, p) / 32768;
    case 11: // SVA: scaled value
    case 12:
    case 35:
    case 49:
    case 62:
    case 111:
      return int16(b, p);
    case 13: // IEEE STD 754 short float
    case 14:
    case 36:
    case 50:
    case 63:
    case 112:
      return float32(b, p);
    case 15: // BCR: binary counter reading
    case 16:
    case 37:
      return uint32(b, p) | 0;
    case 70: // COI: cause of initialization
      return b[p]! & 0x7f;
    case 100: // QOI, QCC, QRP, QPA
    case 101:
    case 105:
    case 113:
      return b[p]!;
    default:
      return undefined;
  }
}
