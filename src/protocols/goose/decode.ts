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

/** Index of a Data type in DATA_TYPES (0 = unknown) for a tag byte. */
function typeIndex(tag: number): number {
  const number = tag & 0x1f;
  return (tag & 0xc0) === 0x80 && number < DATA_TYPES.length ? number : 0;
}

/**
 * A GOOSE decoder that writes each frame into its own fields instead of new records: the layer-2
 * analyzer keeps one per communication and reads the fields after each `decode`, so the packet
 * path allocates nothing per frame. It also remembers what the publisher repeats: the names
 * (compared with the last frame's bytes before any decoding) and the allData with what its walk
 * found (a publisher resends the same allData until its state changes, so the walk runs once per
 * state). Fields are valid until the next `decode`. `decodeGooseFrame` is the same decoding as
 * immutable records.
 */
export class GooseDecoder {
  /** 'goose' or 'gse_management' (valid after a successful decode). */
  kind: 'goose' | 'gse_management' = 'goose';
  appid = 0;
  length = 0;
  reserved1 = 0;
  reserved2 = 0;
  gocbRef = '';
  timeAllowedToLive = 0;
  datSet = '';
  /** '' when absent (`hasGoID` false). */
  goID = '';
  hasGoID = false;
  tSeconds = 0;
  tFraction = 0;
  tQuality = 0;
  stNum = 0;
  sqNum = 0;
  simulation = false;
  confRev = 0;
  ndsCom = false;
  numDatSetEntries = 0;
  entries = 0;
  /** Elements of each Data type (indexed as DATA_TYPES), nested ones included. */
  readonly counts = new Int32Array(DATA_TYPES.length);
  /** The first simple values of allData (see GoosePdu.values); reused by the next frame. */
  readonly values: number[] = [];
  /** allData's contents: `bytes[allDataStart, allDataEnd)` of the decoded buffer. */
  allDataStart = 0;
  allDataEnd = 0;
  /** Anomalies of the last frame (out-of-range values that still decode); reused. */
  readonly anomalies: string[] = [];
  /** After a failed decode: where, from the start of the frame. */
  errorOffset = 0;

  // What the publisher repeats: the last names' bytes and text, the last allData's bytes.
  private readonly textBytes: (Uint8Array | null)[] = [null, null, null];
  private readonly texts: string[] = ['', '', ''];
  private data: Uint8Array | null = null;
  /**
   * The last frame when it decoded as a goosePdu without anomalies, and where its t and sqNum
   * values sit (from the frame's start): a retransmission differs only there, so it is taken by
   * comparing the rest of the bytes (see `repeat`).
   */
  private last: Uint8Array | null = null;
  private lastBuf = new Uint8Array(0);
  private lastView: DataView<ArrayBufferLike> = new DataView(this.lastBuf.buffer);
  private lastTAt = 0;
  private lastSqAt = 0;
  private lastSqLen = 0;
  private lastAllDataAt = 0;
  private tAt = 0;
  private sqAt = 0;
  private sqLen = 0;

  /**
   * Decodes the GOOSE (or GSE management) frame payload `bytes[off, off + len)` (after the
   * ethertype, VLAN tags removed). Returns '' when it decodes, else the malformed code with
   * `errorOffset` set. The header length must cover the 8 header bytes and fit in the frame
   * (`goose.bad_length`); BER tags and lengths are checked against the bytes left (`goose.truncated`,
   * `goose.bad_ber_length`); allData nesting is bounded (`goose.too_deep`); mandatory fields must be
   * present (`goose.missing_field`). Bytes after the header length (padding) are ignored.
   */
  decode(bytes: Uint8Array, off: number, len: number): string {
    if (len < HEADER_LENGTH + 2) return this.fail('goose.truncated', 0);
    const length = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    if (length < HEADER_LENGTH + 2 || length > len) return this.fail('goose.bad_length', 2);
    if (this.repeat(bytes, off, length)) return '';
    while (this.anomalies.length > 0) this.anomalies.pop();
    this.last = null;
    const code = this.full(bytes, off, length);
    if (code === '' && this.kind === 'goose' && this.anomalies.length === 0) {
      if (this.lastBuf.length !== length) {
        this.lastBuf = new Uint8Array(length);
        this.lastView = new DataView(this.lastBuf.buffer);
      }
      const copy = this.lastBuf;
      for (let i = 0; i < length; i++) copy[i] = bytes[off + i]!;
      this.last = copy;
      this.lastTAt = this.tAt - off;
      this.lastSqAt = this.sqAt - off;
      this.lastSqLen = this.sqLen;
      this.lastAllDataAt = this.allDataStart - off;
    }
    return code;
  }

  /**
   * A retransmission of the last frame: the same bytes but for the t value and the sqNum value
   * (same length, not negative). Every field but those two is then what the last decode found,
   * and the last decode had no anomalies, so none of its fields needs checking again.
   */
  private repeat(b: Uint8Array, off: number, length: number): boolean {
    const last = this.last;
    if (last === null || last.length !== length) return false;
    const tAt = this.lastTAt;
    const sqAt = this.lastSqAt;
    const lastView = this.lastView;
    const view = viewOf(b);
    if (
      !sameBytes(lastView, view, off, 0, tAt) ||
      !sameBytes(lastView, view, off, tAt + 8, sqAt) ||
      !sameBytes(lastView, view, off, sqAt + this.lastSqLen, length)
    )
      return false;
    const sq = berInteger(b, off + sqAt, this.lastSqLen);
    if (sq < 0) return false;
    this.sqNum = sq;
    const t = off + tAt;
    this.tSeconds = ((b[t]! << 24) | (b[t + 1]! << 16) | (b[t + 2]! << 8) | b[t + 3]!) >>> 0;
    this.tFraction = (b[t + 4]! << 16) | (b[t + 5]! << 8) | b[t + 6]!;
    this.tQuality = b[t + 7]!;
    const shift = off + this.lastAllDataAt - this.allDataStart;
    this.allDataStart += shift;
    this.allDataEnd += shift;
    return true;
  }

  /** The whole decode of `bytes[off, off + length)`. */
  private full(bytes: Uint8Array, off: number, length: number): string {
    const r = READER.reset(bytes, off, off + length);
    try {
      this.appid = r.u16();
      r.skip(2);
      this.reserved1 = r.u16();
      this.reserved2 = r.u16();
      this.length = length;
      const tag = r.u8();
      const pduLength = berLength(r);
      const end = r.pos + pduLength;
      if (tag === TAG_GSE_MANAGEMENT_PDU) {
        this.kind = 'gse_management';
        return '';
      }
      if (tag !== TAG_GOOSE_PDU) return this.fail('goose.unknown_pdu', HEADER_LENGTH);
      if (this.appid > MAX_GOOSE_APPID) this.weird('goose.appid_out_of_range');
      if (end < off + length) this.weird('goose.trailing_bytes');
      this.kind = 'goose';
      this.pdu(r, end);
      return '';
    } catch (e) {
      if (e instanceof ShortRead) return this.fail('goose.truncated', e.offset - off);
      if (e instanceof BerError) return this.fail(e.code, e.offset - off);
      throw e;
    }
  }

  private fail(code: string, offset: number): string {
    this.errorOffset = offset;
    return code;
  }

  private weird(code: string): void {
    if (!this.anomalies.includes(code)) this.anomalies.push(code);
  }

  private pdu(r: Reader, end: number): void {
    let seen = 0;
    let lastTag = -1;
    this.hasGoID = false;
    this.goID = '';
    this.simulation = false;
    this.ndsCom = false;
    while (r.pos < end) {
      const tag = berTag(r);
      const len = berLength(r);
      const at = r.pos;
      if (at + len > end) throw new ShortRead(at);
      if (tag <= lastTag) this.weird('goose.field_order');
      lastTag = tag;
      switch (tag) {
        case FIELD.gocbRef:
          this.gocbRef = this.text(r, len, 0);
          seen |= 1;
          break;
        case FIELD.timeAllowedToLive:
          this.timeAllowedToLive = this.unsignedField(r, len);
          seen |= 2;
          break;
        case FIELD.datSet:
          this.datSet = this.text(r, len, 1);
          seen |= 4;
          break;
        case FIELD.goID:
          this.goID = this.text(r, len, 2);
          this.hasGoID = true;
          break;
        case FIELD.t:
          if (len !== 8) {
            this.weird('goose.bad_utc_time');
            r.skip(len);
          } else {
            this.tAt = at;
            this.tSeconds = r.u32();
            this.tFraction = r.u24();
            this.tQuality = r.u8();
            seen |= 8;
          }
          break;
        case FIELD.stNum:
          this.stNum = this.unsignedField(r, len);
          seen |= 16;
          break;
        case FIELD.sqNum:
          this.sqAt = at;
          this.sqLen = len;
          this.sqNum = this.unsignedField(r, len);
          seen |= 32;
          break;
        case FIELD.simulation:
          this.simulation = this.booleanField(r, len);
          break;
        case FIELD.confRev:
          this.confRev = this.unsignedField(r, len);
          seen |= 64;
          break;
        case FIELD.ndsCom:
          this.ndsCom = this.booleanField(r, len);
          break;
        case FIELD.numDatSetEntries:
          this.numDatSetEntries = this.unsignedField(r, len);
          seen |= 128;
          break;
        case FIELD.allData:
          r.skip(len);
          this.allData(r.bytes, at, at + len);
          seen |= 256;
          break;
        default:
          // security [12] and anything newer: skipped.
          if (tag !== 0x8c && tag !== 0xac) this.weird('goose.unknown_field');
          r.skip(len);
      }
    }
    if (seen !== 511) throw new BerError('goose.missing_field', r.pos);
    if (this.numDatSetEntries !== this.entries) this.weird('goose.entry_count_mismatch');
  }

  /** The allData at `b[start, end)`: walked unless it is the publisher's last one again. */
  private allData(b: Uint8Array, start: number, end: number): void {
    this.allDataStart = start;
    this.allDataEnd = end;
    const d = this.data;
    const n = end - start;
    if (d !== null && d.length === n) {
      let i = 0;
      while (i < n && d[i] === b[start + i]) i++;
      // Only a walk changes entries, counts and values, and a walk that fails forgets `data`:
      // they are still those of this allData.
      if (i === n) return;
    }
    this.counts.fill(0);
    // Emptied by pop: setting the length to 0 would give up the array's storage.
    while (this.values.length > 0) this.values.pop();
    collectCounts = this.counts;
    collectValues = this.values;
    const entries = walk(b, start, end, 0, collect);
    if (entries < 0) {
      this.data = null;
      throw new BerError(walkError, walkErrorAt);
    }
    this.entries = entries;
    // Remember it (the copy reuses the last one's storage when the length is the same).
    const copy = d !== null && d.length === n ? d : new Uint8Array(n);
    for (let i = 0; i < n; i++) copy[i] = b[start + i]!;
    this.data = copy;
  }

  /** A name field: the publisher's last one when the bytes are the same, else through the memo. */
  private text(r: Reader, len: number, field: number): string {
    r.need(len);
    const b = r.bytes;
    const at = r.pos;
    r.pos += len;
    const last = this.textBytes[field];
    if (last !== null && last !== undefined && last.length === len) {
      let i = 0;
      while (i < len && last[i] === b[at + i]) i++;
      if (i === len) return this.texts[field]!;
    }
    const s = TEXTS.printable(b, at, len, MAX_TEXT);
    this.textBytes[field] = b.slice(at, at + len);
    this.texts[field] = s;
    return s;
  }

  private booleanField(r: Reader, len: number): boolean {
    if (len !== 1) this.weird('goose.bad_boolean');
    const v = len > 0 ? r.bytes[r.pos] !== 0 : false;
    r.skip(len);
    return v;
  }

  /** An INTEGER field that must not be negative (counters, revisions, times); bad ones read as 0. */
  private unsignedField(r: Reader, len: number): number {
    r.need(len);
    const v = berInteger(r.bytes, r.pos, len);
    r.pos += len;
    if (len === 0 || len > 5 || v < 0) {
      this.weird('goose.bad_integer');
      return v < 0 || len === 0 ? 0 : v;
    }
    return v;
  }
}

// A DataView of the buffer frames are being decoded from (frames of one capture batch share it).
let viewedBytes: Uint8Array | null = null;
let viewed: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(b: Uint8Array): DataView {
  if (b !== viewedBytes) {
    viewedBytes = b;
    viewed = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return viewed;
}

/** True when `a[from, to)` equals `b[off + from, off + to)`; compared four bytes at a time. */
function sameBytes(a: DataView, b: DataView, off: number, from: number, to: number): boolean {
  let i = from;
  for (; i + 4 <= to; i += 4) if (a.getUint32(i) !== b.getUint32(off + i)) return false;
  for (; i < to; i++) if (a.getUint8(i) !== b.getUint8(off + i)) return false;
  return true;
}

/**
 * Decodes one GOOSE frame payload into immutable records (see `GooseDecoder.decode`). By default
 * with a fresh decoder; passing one that has decoded earlier frames must give the same result.
 */
export function decodeGooseFrame(bytes: Uint8Array, d = new GooseDecoder()): Decoded<GooseFrame> {
  const code = d.decode(bytes, 0, bytes.length);
  if (code !== '') return malformed(code, d.errorOffset);
  const header: GooseHeader = {
    appid: d.appid,
    length: d.length,
    reserved1: d.reserved1,
    reserved2: d.reserved2,
    simulationBit: (d.reserved1 & SIMULATION_BIT) !== 0,
  };
  const anomalies = d.anomalies.length === 0 ? undefined : d.anomalies.slice();
  if (d.kind === 'gse_management') return ok({ kind: 'gse_management', header }, d.length, anomalies);
  const counts = {} as Record<GooseDataType, number>;
  for (let i = 0; i < DATA_TYPES.length; i++) counts[DATA_TYPES[i]!] = d.counts[i]!;
  const pdu: { -readonly [K in keyof GoosePdu]: GoosePdu[K] } = {
    gocbRef: d.gocbRef,
    timeAllowedToLive: d.timeAllowedToLive,
    datSet: d.datSet,
    t: utcTime(d.tSeconds, d.tFraction, d.tQuality),
    stNum: d.stNum,
    sqNum: d.sqNum,
    simulation: d.simulation,
    confRev: d.confRev,
    ndsCom: d.ndsCom,
    numDatSetEntries: d.numDatSetEntries,
    entries: d.entries,
    counts,
    values: d.values.slice(),
    allData: bytes.subarray(d.allDataStart, d.allDataEnd),
  };
  if (d.hasGoID) pdu.goID = d.goID;
  return ok({ kind: 'goose', header, pdu }, d.length, anomalies);
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

// Where the allData walk being run puts its counts and values (decoding is synchronous), and why
// the last walk failed: a malformed code and its offset in the walked bytes.
let collectCounts = new Int32Array(DATA_TYPES.length);
let collectValues: number[] = [];
let walkError = '';
let walkErrorAt = 0;

/** Two's-complement BER INTEGER (X.690 §8.3); exact up to 6 octets, approximate beyond. */
export function berInteger(b: Uint8Array, off: number, len: number): number {
  if (len === 0) return 0;
  let v = b[off]! >= 0x80 ? b[off]! - 256 : b[off]!;
  for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
  return v;
}

/** UtcTime from its parts: micros is seconds and fraction in microseconds (fraction truncated). */
export function utcTime(seconds: number, fraction: number, quality: number): UtcTime {
  return { seconds, fraction, quality, micros: seconds * 1e6 + Math.floor((fraction * 1e6) / 0x1000000) };
}

/** A visitor of allData elements, in document order (pre-order); `content` is a view. */
export type DataVisitor = (type: GooseDataType, tag: number, content: Uint8Array, depth: number) => void;

/** The walk's own visitor: the element's content is `b[start, end)`, no view made. */
type ElementVisitor = (type: number, tag: number, b: Uint8Array, start: number, end: number, depth: number) => void;

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
    visit(DATA_TYPES[type]!, tag, b.subarray(start, end), depth),
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
    visit(typeIndex(tag), number, b, q, q + len, depth);
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
function collect(type: number, _tag: number, b: Uint8Array, start: number, end: number): void {
  collectCounts[type]!++;
  const values = collectValues;
  if (values.length >= MAX_VALUES) return;
  const len = end - start;
  if (type === DATA_TAG.boolean) values.push(len > 0 && b[start] !== 0 ? 1 : 0);
  else if (type === DATA_TAG.integer || type === DATA_TAG.unsigned) {
    if (len > 0 && len <= 6) values.push(berInteger(b, start, len));
  } else if (type === DATA_TAG.bitString) {
    // First octet: unused bits in the last octet; at most 8 significant bits kept (Dbpos, Tcmd).
    if (len === 2 && b[start]! <= 7) values.push(b[start + 1]! >> b[start]!);
  }
}
