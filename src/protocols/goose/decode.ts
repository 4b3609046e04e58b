// IEC 61850 GOOSE frame decoder: header (IEC 61850-8-1 Annex C), the BER-encoded goosePdu
// (8-1 Annex A, IECGoosePdu; ITU-T X.690 BER) and a bounded walk of allData (8-1 §8.1.3 Data).
// Input is the frame payload after the ethertype (VLAN tags removed).

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { TextMemo } from '../../core/text.ts';
import {
  DATA_TAG,
  DATA_TYPES,
  FIELD,
  HEADER_LENGTH,
  MAX_DATA_DEPTH,
  MAX_GOOSE_APPID,
  MAX_TEXT,
  MAX_VALUES,
  SIMULATION_BIT,
  TAG_GOOSE_PDU,
  TAG_GSE_MANAGEMENT_PDU,
  type GooseDataType,
} from './constants.ts';

export interface GooseHeader {
  readonly appid: number;
  /** Length from APPID to the end of the APDU (at least 8). */
  readonly length: number;
  readonly reserved1: number;
  readonly reserved2: number;
  /** Reserved1 bit 15 (Edition 2 Simulation). */
  readonly simulationBit: boolean;
}

/** UtcTime (IEC 61850-8-1 §8.1.3.7): seconds since 1970, 24-bit fraction of a second, quality. */
export interface UtcTime {
  readonly seconds: number;
  readonly fraction: number;
  readonly quality: number;
  /** seconds and fraction in microseconds (fraction truncated). */
  readonly micros: number;
}

export type DataCounts = Readonly<Record<GooseDataType, number>>;

export interface GoosePdu {
  readonly gocbRef: string;
  readonly timeAllowedToLive: number;
  readonly datSet: string;
  /** Absent when the publisher leaves it out (it defaults to the gocbRef's GoID). */
  readonly goID?: string;
  readonly t: UtcTime;
  readonly stNum: number;
  readonly sqNum: number;
  /** `simulation` in Edition 2, `test` in Edition 1. */
  readonly simulation: boolean;
  readonly confRev: number;
  readonly ndsCom: boolean;
  readonly numDatSetEntries: number;
  /** Top-level entries of allData. */
  readonly entries: number;
  /** Elements of each Data type in allData, nested ones included. */
  readonly counts: DataCounts;
  /**
   * The first simple values in document order (at most 16): booleans as 0/1, integers, unsigned,
   * and bit strings of at most 8 bits (double-point positions) as the value of their bits.
   */
  readonly values: readonly number[];
  /** The contents of allData (a view), for a further walk with `walkGooseData`. */
  readonly allData: Uint8Array;
}

export type GooseFrame =
  | { readonly kind: 'goose'; readonly header: GooseHeader; readonly pdu: GoosePdu }
  /** gseMngtPdu (GSE management, ethertype 0x88B9): counted, not decoded further. */
  | { readonly kind: 'gse_management'; readonly header: GooseHeader };

/** A BER rule broken in a way that leaves nothing sensible to decode. */
class BerError extends Error {
  readonly code: string;
  readonly offset: number;
  constructor(code: string, offset: number) {
    super(code);
    this.code = code;
    this.offset = offset;
  }
}

/** One reader for all frames: decoding is synchronous and never re-entrant. */
const READER = new Reader(new Uint8Array(0));

/** gocbRef, datSet and goID repeat in every frame of a publisher: decoded once, then looked up. */
const TEXTS = new TextMemo(256, MAX_TEXT);

/**
 * The last names and allData a publisher sent, and what the allData walk found. A publisher repeats the same allData
 * in every retransmission until its state changes, so the walk runs once per state; the analyzer
 * keeps one memo per communication (tests decode without one).
 */
export class GooseDataMemo {
  /** The last gocbRef, datSet and goID bytes and their text. */
  readonly textBytes: Uint8Array[] = [];
  readonly texts: string[] = [];
  data: Uint8Array | null = null;
  counts: DataCounts = newCounts();
  values: readonly number[] = [];
  entries = 0;

  /** True when `b[start, end)` equals the remembered allData. */
  matches(b: Uint8Array, start: number, end: number): boolean {
    const d = this.data;
    if (d === null || d.length !== end - start) return false;
    for (let i = 0; i < d.length; i++) if (d[i] !== b[start + i]) return false;
    return true;
  }
}

const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

/**
 * Decodes one GOOSE (or GSE management) frame payload. The header length must cover the 8 header
 * bytes and fit in the frame (`goose.bad_length`); BER tags and lengths are checked against the
 * bytes left (`goose.truncated`, `goose.bad_ber_length`); allData nesting is bounded
 * (`goose.too_deep`); mandatory fields must be present (`goose.missing_field`). Out-of-range
 * values that still decode are anomalies. Bytes after the header length (padding) are ignored.
 */
export function decodeGooseFrame(bytes: Uint8Array, memo?: GooseDataMemo): Decoded<GooseFrame> {
  if (bytes.length < HEADER_LENGTH + 2) return malformed('goose.truncated', 0);
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length < HEADER_LENGTH + 2 || length > bytes.length) return malformed('goose.bad_length', 2);
  found.length = 0;
  const r = READER.reset(bytes, 0, length);
  try {
    const appid = r.u16();
    r.skip(2);
    const reserved1 = r.u16();
    const reserved2 = r.u16();
    const header: GooseHeader = {
      appid,
      length,
      reserved1,
      reserved2,
      simulationBit: (reserved1 & SIMULATION_BIT) !== 0,
    };
    const tag = r.u8();
    const pduLength = berLength(r);
    const end = r.pos + pduLength;
    if (tag === TAG_GSE_MANAGEMENT_PDU) {
      r.pos = end;
      return done({ kind: 'gse_management', header }, length);
    }
    if (tag !== TAG_GOOSE_PDU) return malformed('goose.unknown_pdu', HEADER_LENGTH);
    if (appid > MAX_GOOSE_APPID) weird('goose.appid_out_of_range');
    if (end < length) weird('goose.trailing_bytes');
    const pdu = decodePdu(r, end, memo);
    return done({ kind: 'goose', header, pdu }, length);
  } catch (e) {
    if (e instanceof ShortRead) return malformed('goose.truncated', e.offset);
    if (e instanceof BerError) return malformed(e.code, e.offset);
    throw e;
  }
}

function done(frame: GooseFrame, consumed: number): Decoded<GooseFrame> {
  return found.length === 0 ? ok(frame, consumed) : ok(frame, consumed, found.slice());
}

/** BER definite length (X.690 §8.1.3), checked against the bytes left. */
function berLength(r: Reader): number {
  const first = r.u8();
  let n = first;
  if (first >= 0x80) {
    const octets = first & 0x7f;
    // 0x80 is the indefinite form, not allowed in GOOSE (DER-like encoding); over 4 octets is absurd.
    if (octets === 0 || octets > 4) throw new BerError('goose.bad_ber_length', r.pos - 1);
    n = 0;
    for (let i = 0; i < octets; i++) n = n * 256 + r.u8();
  }
  if (n > r.remaining) throw new ShortRead(r.pos);
  return n;
}

/** A tag byte; high-tag-number forms (low five bits all set) are not used by GOOSE. */
function berTag(r: Reader): number {
  const tag = r.u8();
  if ((tag & 0x1f) === 0x1f) throw new BerError('goose.unsupported_tag', r.pos - 1);
  return tag;
}

// What the allData walk found for the PDU being decoded (module-level: decoding is synchronous).
let walkCounts: Record<GooseDataType, number> = newCounts();
let walkValues: number[] = [];
const EMPTY_COUNTS: DataCounts = newCounts();
const NO_VALUES: readonly number[] = [];
// Why the last walk failed: a malformed code and its offset in the walked bytes.
let walkError = '';
let walkErrorAt = 0;

function newCounts(): Record<GooseDataType, number> {
  const c = {} as Record<GooseDataType, number>;
  for (const t of DATA_TYPES) c[t] = 0;
  return c;
}

function decodePdu(r: Reader, end: number, memo: GooseDataMemo | undefined): GoosePdu {
  let gocbRef: string | undefined;
  let timeAllowedToLive = -1;
  let datSet: string | undefined;
  let goID: string | undefined;
  let t: UtcTime | undefined;
  let stNum = -1;
  let sqNum = -1;
  let simulation = false;
  let confRev = -1;
  let ndsCom = false;
  let numDatSetEntries = -1;
  let allData: Uint8Array | undefined;
  let entries = 0;
  let counts: DataCounts = EMPTY_COUNTS;
  let values: readonly number[] = NO_VALUES;
  let lastTag = -1;
  while (r.pos < end) {
    const tag = berTag(r);
    const len = berLength(r);
    const at = r.pos;
    if (at + len > end) throw new ShortRead(at);
    if (tag <= lastTag) weird('goose.field_order');
    lastTag = tag;
    switch (tag) {
      case FIELD.gocbRef:
        gocbRef = text(r, len, memo, 0);
        break;
      case FIELD.timeAllowedToLive:
        timeAllowedToLive = unsignedField(r, len);
        break;
      case FIELD.datSet:
        datSet = text(r, len, memo, 1);
        break;
      case FIELD.goID:
        goID = text(r, len, memo, 2);
        break;
      case FIELD.t:
        if (len !== 8) {
          weird('goose.bad_utc_time');
          r.skip(len);
        } else t = utcTime(r);
        break;
      case FIELD.stNum:
        stNum = unsignedField(r, len);
        break;
      case FIELD.sqNum:
        sqNum = unsignedField(r, len);
        break;
      case FIELD.simulation:
        simulation = booleanField(r, len);
        break;
      case FIELD.confRev:
        confRev = unsignedField(r, len);
        break;
      case FIELD.ndsCom:
        ndsCom = booleanField(r, len);
        break;
      case FIELD.numDatSetEntries:
        numDatSetEntries = unsignedField(r, len);
        break;
      case FIELD.allData: {
        allData = r.take(len);
        if (memo?.matches(r.bytes, at, at + len) === true) {
          entries = memo.entries;
          counts = memo.counts;
          values = memo.values;
          break;
        }
        walkCounts = newCounts();
        walkValues = [];
        entries = walk(r.bytes, at, at + len, 0, collect);
        if (entries < 0) throw new BerError(walkError, walkErrorAt);
        counts = walkCounts;
        values = walkValues;
        if (memo !== undefined) {
          memo.data = allData.slice();
          memo.entries = entries;
          memo.counts = counts;
          memo.values = values;
        }
        break;
      }
      default:
        // security [12] and anything newer: skipped.
        if (tag !== 0x8c && tag !== 0xac) weird('goose.unknown_field');
        r.skip(len);
    }
  }
  if (
    gocbRef === undefined ||
    datSet === undefined ||
    t === undefined ||
    timeAllowedToLive < 0 ||
    stNum < 0 ||
    sqNum < 0 ||
    confRev < 0 ||
    numDatSetEntries < 0 ||
    allData === undefined
  ) {
    throw new BerError('goose.missing_field', r.pos);
  }
  if (numDatSetEntries !== entries) weird('goose.entry_count_mismatch');
  const pdu: { -readonly [K in keyof GoosePdu]: GoosePdu[K] } = {
    gocbRef,
    timeAllowedToLive,
    datSet,
    t,
    stNum,
    sqNum,
    simulation,
    confRev,
    ndsCom,
    numDatSetEntries,
    entries,
    counts,
    values,
    allData,
  };
  if (goID !== undefined) pdu.goID = goID;
  return pdu;
}

/** A name field: the publisher's last one when the bytes are the same, else through the memo. */
function text(r: Reader, len: number, memo: GooseDataMemo | undefined, field: number): string {
  r.need(len);
  const b = r.bytes;
  const at = r.pos;
  r.pos += len;
  if (memo === undefined) return TEXTS.printable(b, at, len, MAX_TEXT);
  const last = memo.textBytes[field];
  if (last !== undefined && last.length === len) {
    let i = 0;
    while (i < len && last[i] === b[at + i]) i++;
    if (i === len) return memo.texts[field]!;
  }
  const s = TEXTS.printable(b, at, len, MAX_TEXT);
  memo.textBytes[field] = b.slice(at, at + len);
  memo.texts[field] = s;
  return s;
}

function booleanField(r: Reader, len: number): boolean {
  if (len !== 1) weird('goose.bad_boolean');
  const v = len > 0 ? r.bytes[r.pos] !== 0 : false;
  r.skip(len);
  return v;
}

/** An INTEGER field that must not be negative (counters, revisions, times); bad ones read as 0. */
function unsignedField(r: Reader, len: number): number {
  const v = berInteger(r.bytes, r.pos, len);
  r.skip(len);
  if (len === 0 || len > 5 || v < 0) {
    weird('goose.bad_integer');
    return v < 0 || len === 0 ? 0 : v;
  }
  return v;
}

/** Two's-complement BER INTEGER (X.690 §8.3); exact up to 6 octets, approximate beyond. */
export function berInteger(b: Uint8Array, off: number, len: number): number {
  if (len === 0) return 0;
  let v = b[off]! >= 0x80 ? b[off]! - 256 : b[off]!;
  for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
  return v;
}

function utcTime(r: Reader): UtcTime {
  const seconds = r.u32();
  const fraction = r.u24();
  const quality = r.u8();
  return { seconds, fraction, quality, micros: seconds * 1e6 + Math.floor((fraction * 1e6) / 0x1000000) };
}

/** A visitor of allData elements, in document order (pre-order); `content` is a view. */
export type DataVisitor = (type: GooseDataType, tag: number, content: Uint8Array, depth: number) => void;

/** The walk's own visitor: the element's content is `b[start, end)`, no view made. */
type ElementVisitor = (
  type: GooseDataType,
  tag: number,
  b: Uint8Array,
  start: number,
  end: number,
  depth: number,
) => void;

interface WalkResult {
  /** '' or a malformed code. */
  readonly error: string;
  readonly offset: number;
  /** Elements directly inside the walked range. */
  readonly entries: number;
}

/**
 * Walks the Data elements of `data` (an allData, structure or array content), calling `visit` for
 * each element, nested ones included. Lengths are checked against the enclosing element; nesting
 * deeper than MAX_DATA_DEPTH is `goose.too_deep`.
 */
export function walkGooseData(data: Uint8Array, visit: DataVisitor): WalkResult {
  const entries = walk(data, 0, data.length, 0, (type, tag, b, start, end, depth) =>
    visit(type, tag, b.subarray(start, end), depth),
  );
  return entries < 0
    ? { error: walkError, offset: walkErrorAt, entries: 0 }
    : { error: '', offset: data.length, entries };
}

function fail(code: string, offset: number): number {
  walkError = code;
  walkErrorAt = offset;
  return -1;
}

/**
 * The elements of `b[start, end)` with offsets into `b`; returns how many are directly inside, or
 * -1 with `walkError` / `walkErrorAt` (an offset into `b`) set.
 */
function walk(b: Uint8Array, start: number, end: number, depth: number, visit: ElementVisitor): number {
  if (depth >= MAX_DATA_DEPTH) return fail('goose.too_deep', start);
  let p = start;
  let entries = 0;
  while (p < end) {
    const tag = b[p]!;
    if ((tag & 0x1f) === 0x1f) return fail('goose.unsupported_tag', p);
    if (p + 1 >= end) return fail('goose.truncated', p);
    let len = b[p + 1]!;
    let q = p + 2;
    if (len >= 0x80) {
      const octets = len & 0x7f;
      if (octets === 0 || octets > 4) return fail('goose.bad_ber_length', p + 1);
      if (q + octets > end) return fail('goose.truncated', q);
      len = 0;
      for (let i = 0; i < octets; i++) len = len * 256 + b[q + i]!;
      q += octets;
    }
    if (len > end - q) return fail('goose.truncated', q);
    const number = tag & 0x1f;
    const type: GooseDataType = (tag & 0xc0) === 0x80 ? (DATA_TYPES[number] ?? 'unknown') : 'unknown';
    visit(type, number, b, q, q + len, depth);
    if ((tag & 0x20) !== 0 && (number === DATA_TAG.array || number === DATA_TAG.structure)) {
      if (walk(b, q, q + len, depth + 1, visit) < 0) return -1;
    }
    entries++;
    p = q + len;
  }
  return entries;
}

/**
 * Elements directly inside a structure or array content, without descending (a test accessor for
 * tshark's item counts); -1 when the content is not a run of well-formed elements.
 */
export function countGooseElements(content: Uint8Array): number {
  let n = 0;
  let p = 0;
  while (p < content.length) {
    if (p + 1 >= content.length) return -1;
    let len = content[p + 1]!;
    let q = p + 2;
    if (len >= 0x80) {
      const octets = len & 0x7f;
      if (octets === 0 || octets > 4 || q + octets > content.length) return -1;
      len = 0;
      for (let i = 0; i < octets; i++) len = len * 256 + content[q + i]!;
      q += octets;
    }
    if (len > content.length - q) return -1;
    n++;
    p = q + len;
  }
  return n;
}

/** The decoder's visitor: counts per type and the first simple values. */
function collect(type: GooseDataType, _tag: number, b: Uint8Array, start: number, end: number): void {
  walkCounts[type]++;
  if (walkValues.length >= MAX_VALUES) return;
  const len = end - start;
  if (type === 'boolean') walkValues.push(len > 0 && b[start] !== 0 ? 1 : 0);
  else if (type === 'integer' || type === 'unsigned') {
    if (len > 0 && len <= 6) walkValues.push(berInteger(b, start, len));
  } else if (type === 'bit_string') {
    // First octet: unused bits in the last octet; at most 8 significant bits kept (Dbpos, Tcmd).
    if (len === 2 && b[start]! <= 7) walkValues.push(b[start + 1]! >> b[start]!);
  }
}
