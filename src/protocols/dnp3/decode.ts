// DNP3 decoders: link frames (IEEE 1815-2012 §9.2: start octets, length, control, addresses, CRC
// per header and per 16-octet data block), the transport header (§8.2) and application fragments
// (§4.2: application control, function code, IIN, object headers with qualifier and range, object
// data skipped by size from the Annex A object library).

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { printable } from '../../core/text.ts';
import type { AccessClass } from '../_core/types.ts';
import {
  AC_CON,
  AC_FIN,
  AC_FIR,
  AC_SEQ,
  AC_UNS,
  BLOCK_SIZE,
  CTL_DIR,
  CTL_FCB,
  CTL_FCV,
  CTL_FUNC,
  CTL_PRM,
  LINK_HEADER_LENGTH,
  MIN_LINK_LENGTH,
  START_0,
  START_1,
  TR_FIN,
  TR_FIR,
  TR_SEQ,
  functionInfo,
  iinNames,
  isPointGroup,
  isResponseFunction,
  linkFunctionName,
  objectSize,
  prefixOctets,
  type ObjectSize,
} from './constants.ts';
import { crcDnp, crcMatches } from './crc.ts';

// ---------------------------------------------------------------------------------------------
// Link layer (§9.2)
// ---------------------------------------------------------------------------------------------

/** Total octets of a link frame whose length octet is `length` (≥ 5): header, data, block CRCs. */
export function linkFrameSize(length: number): number {
  const data = length - MIN_LINK_LENGTH;
  return LINK_HEADER_LENGTH + data + 2 * Math.ceil(data / BLOCK_SIZE);
}

/**
 * Frame length of a link frame for PduFramer: 0 until the 10 header octets are present; -1 when
 * the start octets are not 0x05 0x64, the length is below 5 or the header CRC is wrong; else the
 * frame's total size. Decided by the header alone.
 */
export function frameDnp3Link(bytes: Uint8Array): number {
  return frameDnp3LinkAt(bytes, 0, bytes.length);
}

let lastRejectWasCrc = false;

/** Whether the last `frameDnp3Link(At)` call answered -1 because of a header CRC mismatch. */
export function lastFrameRejectWasCrc(): boolean {
  return lastRejectWasCrc;
}

/** `frameDnp3Link` of `bytes[off, off + n)`, without a view. */
export function frameDnp3LinkAt(bytes: Uint8Array, off: number, n: number): number {
  lastRejectWasCrc = false;
  if (n < 1) return 0;
  if (bytes[off] !== START_0) return -1;
  if (n < 2) return 0;
  if (bytes[off + 1] !== START_1) return -1;
  if (n < 3) return 0;
  const length = bytes[off + 2]!;
  if (length < MIN_LINK_LENGTH) return -1;
  if (n < LINK_HEADER_LENGTH) return 0;
  if (!crcMatches(bytes, off, off + 8)) {
    lastRejectWasCrc = true;
    return -1;
  }
  return linkFrameSize(length);
}

/** True when every data block of the whole frame at `bytes[off..]` carries its right CRC. */
export function dataCrcsOk(bytes: Uint8Array, off: number, frameSize: number): boolean {
  const end = off + frameSize;
  for (let p = off + LINK_HEADER_LENGTH; p < end; p += BLOCK_SIZE + 2) {
    const blockEnd = Math.min(p + BLOCK_SIZE, end - 2);
    if (!crcMatches(bytes, p, blockEnd)) return false;
  }
  return true;
}

/**
 * Copies the user data of the whole frame at `bytes[off..]` (block CRCs removed) into `out` at
 * `outOff`; returns the octets copied. The caller checked the CRCs and that `out` has room.
 */
export function copyUserData(
  bytes: Uint8Array,
  off: number,
  frameSize: number,
  out: Uint8Array,
  outOff: number,
): number {
  const end = off + frameSize;
  let o = outOff;
  for (let p = off + LINK_HEADER_LENGTH; p < end; p += BLOCK_SIZE + 2) {
    const blockEnd = Math.min(p + BLOCK_SIZE, end - 2);
    // At most 16 octets: a loop is cheaper than a view per block.
    for (let i = p; i < blockEnd; i++) out[o++] = bytes[i]!;
  }
  return o - outOff;
}

export interface Dnp3LinkFrame {
  /** The length octet: control, addresses and user data (5..255). */
  readonly length: number;
  readonly control: number;
  /** DIR: set on frames from the master (§9.2.4.1.3.1). */
  readonly dir: boolean;
  /** PRM: set on primary (initiating) frames. */
  readonly primary: boolean;
  /** FCB/FCV on primary frames; on secondary frames bit 5 is reserved and bit 4 is DFC. */
  readonly fcb: boolean;
  readonly fcv: boolean;
  readonly function: number;
  readonly functionName: string;
  readonly destination: number;
  readonly source: number;
  /** Octets of user data (length − 5). */
  readonly userDataLength: number;
  /** False when a data block's CRC is wrong: the user data must not be used (anomaly `dnp3.bad_crc`). */
  readonly dataCrcOk: boolean;
  /** The user data without the block CRCs (a view when it fits one block, else a copy). */
  readonly userData: Uint8Array;
  /** Transport header fields, when there is user data. */
  readonly transport?: { readonly fin: boolean; readonly fir: boolean; readonly seq: number };
}

const NO_BYTES: Uint8Array = new Uint8Array(0);

/**
 * Decodes the link frame at the start of `bytes`. `consumed` is the frame's size; more bytes after
 * it are ignored. A bad header CRC is `malformed('dnp3.bad_crc')` (the length cannot be trusted); a
 * bad data-block CRC is the anomaly `dnp3.bad_crc` on a frame whose `userData` is empty.
 */
export function decodeDnp3Link(bytes: Uint8Array): Decoded<Dnp3LinkFrame> {
  const n = bytes.length;
  const size = frameDnp3LinkAt(bytes, 0, n);
  if (size < 0) return malformed(lastRejectWasCrc ? 'dnp3.bad_crc' : 'dnp3.bad_frame', 0);
  if (size === 0) return incomplete(Math.max(LINK_HEADER_LENGTH, n + 1));
  if (n < size) return incomplete(size);
  const length = bytes[2]!;
  const control = bytes[3]!;
  const primary = (control & CTL_PRM) !== 0;
  const fn = control & CTL_FUNC;
  const crcOk = dataCrcsOk(bytes, 0, size);
  const dataLength = length - MIN_LINK_LENGTH;
  let userData = NO_BYTES;
  if (crcOk && dataLength > 0) {
    if (dataLength <= BLOCK_SIZE) userData = bytes.subarray(LINK_HEADER_LENGTH, LINK_HEADER_LENGTH + dataLength);
    else {
      userData = new Uint8Array(dataLength);
      copyUserData(bytes, 0, size, userData, 0);
    }
  }
  const base = {
    length,
    control,
    dir: (control & CTL_DIR) !== 0,
    primary,
    fcb: (control & CTL_FCB) !== 0,
    fcv: (control & CTL_FCV) !== 0,
    function: fn,
    functionName: linkFunctionName(primary, fn),
    destination: bytes[4]! | (bytes[5]! << 8),
    source: bytes[6]! | (bytes[7]! << 8),
    userDataLength: dataLength,
    dataCrcOk: crcOk,
    userData,
  };
  const th = userData[0];
  const frame: Dnp3LinkFrame =
    th === undefined
      ? base
      : { ...base, transport: { fin: (th & TR_FIN) !== 0, fir: (th & TR_FIR) !== 0, seq: th & TR_SEQ } };
  return ok(frame, size, crcOk ? undefined : ['dnp3.bad_crc']);
}

/** Builds a link frame around `userData` (CRCs computed): for tests and tools. */
export function encodeDnp3Link(control: number, destination: number, source: number, userData: Uint8Array): Uint8Array {
  const length = MIN_LINK_LENGTH + userData.length;
  const out = new Uint8Array(linkFrameSize(length));
  out.set([START_0, START_1, length, control, destination & 0xff, destination >> 8, source & 0xff, source >> 8]);
  let crc = crcDnp(out, 0, 8);
  out[8] = crc & 0xff;
  out[9] = crc >> 8;
  let o = LINK_HEADER_LENGTH;
  for (let p = 0; p < userData.length; p += BLOCK_SIZE) {
    const block = userData.subarray(p, Math.min(p + BLOCK_SIZE, userData.length));
    out.set(block, o);
    crc = crcDnp(out, o, o + block.length);
    o += block.length;
    out[o++] = crc & 0xff;
    out[o++] = crc >> 8;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Application layer (§4.2)
// ---------------------------------------------------------------------------------------------

/** Object headers recorded per fragment; later ones are parsed (to find the end) but not kept. */
export const MAX_OBJECT_HEADERS = 64;
/** Values and device attributes kept per fragment. */
export const MAX_VALUES = 16;
export const MAX_ATTRIBUTES = 16;

export interface Dnp3ObjectHeader {
  readonly group: number;
  readonly variation: number;
  readonly qualifier: number;
  /** Qualifier bits 4–6: none, index prefix (1, 2, 4 octets) or object size prefix. */
  readonly prefixCode: number;
  /** Qualifier bits 0–3: start/stop, address, all, count, free format. */
  readonly rangeCode: number;
  /** Start and stop indices (range codes 0–2), or the address (3–5, start = stop). */
  readonly start?: number;
  readonly stop?: number;
  /** Objects announced by the range (count, or stop − start + 1); 0 for 'all' (range code 6). */
  readonly count: number;
  /** Lowest and highest point index named, from the range or from the index prefixes. */
  readonly minIndex?: number;
  readonly maxIndex?: number;
  /** Octets of prefixes and object data after the range field. */
  readonly dataLength: number;
}

/** A device attribute (group 0, §A.1): its variation and value as text. */
export interface Dnp3Attribute {
  readonly variation: number;
  /** Data type code: 1 visible string, 2 unsigned integer, 3 signed, 4 float, 5 octet string ... */
  readonly type: number;
  readonly value: string;
}

export interface Dnp3Apdu {
  readonly control: number;
  readonly fir: boolean;
  readonly fin: boolean;
  readonly con: boolean;
  readonly uns: boolean;
  readonly seq: number;
  readonly functionCode: number;
  readonly functionName: string;
  readonly access: AccessClass;
  /** Function codes 129..131: sent by an outstation, with IIN. */
  readonly response: boolean;
  /** `IIN1 << 8 | IIN2` on responses. */
  readonly iin?: number;
  readonly iinNames?: readonly string[];
  /** The first MAX_OBJECT_HEADERS object headers. */
  readonly objects: readonly Dnp3ObjectHeader[];
  /** Object headers parsed in all. */
  readonly objectCount: number;
  /** False when object parsing stopped before the end (an anomaly says why). */
  readonly objectsComplete: boolean;
  /** Values of the first point header: CROB control codes, analog output values, output bits. */
  readonly values: readonly number[];
  /** First non-zero control status of CROB or analog output objects, else 0 (§A.8.1, §A.23). */
  readonly controlStatus: number;
  /** Device attributes (group 0) with a text or unsigned value. */
  readonly attributes: readonly Dnp3Attribute[];
}

/** One reader for all fragments: decoding is synchronous and never re-entrant. */
const READER = new Reader(NO_BYTES);
const NO_VALUES: readonly number[] = Object.freeze([]);
const NO_ATTRIBUTES: readonly Dnp3Attribute[] = Object.freeze([]);

/**
 * What the analyzer needs of a fragment, filled by `scanDnp3Apdu` with the same walk as
 * `decodeDnp3Apdu` but without the object header records; valid until the next decode.
 */
export interface Dnp3Scan {
  control: number;
  functionCode: number;
  /** `IIN1 << 8 | IIN2` on responses (129..131), else -1. */
  iin: number;
  controlStatus: number;
  /** The first point-group header among the first MAX_OBJECT_HEADERS: group and variation, or -1. */
  pointGroup: number;
  pointVariation: number;
  /** Its lowest and highest index, or -1 when it names none. */
  pointMin: number;
  pointMax: number;
  /** A new array per fragment when not empty: it may be kept. */
  values: readonly number[];
  attributes: readonly Dnp3Attribute[];
  /** The fragment's anomalies (scratch: read before the next decode). */
  anomalies: readonly string[];
}

/** The result of the last `scanDnp3Apdu` (or `decodeDnp3Apdu`). */
export const SCAN: Dnp3Scan = {
  control: 0,
  functionCode: 0,
  iin: -1,
  controlStatus: 0,
  pointGroup: -1,
  pointVariation: -1,
  pointMin: -1,
  pointMax: -1,
  values: NO_VALUES,
  attributes: NO_ATTRIBUTES,
  anomalies: [],
};

/**
 * Decodes an application fragment (transport header removed). The function code decides the
 * layout: 129..131 carry IIN; requests of functions that only name objects (read, freeze, class
 * assignment, unsolicited enable/disable) carry headers without data. Object parsing stops with an
 * anomaly at an object of unknown size (`dnp3.unknown_object`), a reserved qualifier
 * (`dnp3.bad_qualifier`), a range with stop < start (`dnp3.bad_range`) or data past the end of the
 * fragment (`dnp3.object_overrun`); the fragment is still `ok`. Fewer than 2 (4 on responses)
 * octets is `malformed('dnp3.truncated')`.
 */
export function decodeDnp3Apdu(bytes: Uint8Array): Decoded<Dnp3Apdu> {
  const r = READER.reset(bytes);
  try {
    return decodeApdu(r, bytes);
  } catch (e) {
    if (e instanceof ShortRead) return malformed('dnp3.truncated', e.offset);
    throw e;
  }
}

/**
 * `decodeDnp3Apdu` of `bytes[start, end)` into SCAN, for the packet path: no records, no view.
 * False when the decoder would answer `malformed('dnp3.truncated')`.
 */
export function scanDnp3Apdu(bytes: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n < 2 || (n < 4 && isResponseFunction(bytes[start + 1]!))) return false;
  try {
    walkApdu(READER.reset(bytes, start, end), bytes, null);
  } catch (e) {
    if (e instanceof ShortRead) return false;
    throw e;
  }
  return true;
}

// Per-fragment scratch, reset by walkApdu; decoding is synchronous.
const found: string[] = [];
let values: number[] | null = null;
let attributes: Dnp3Attribute[] | null = null;
let controlStatus = 0;
/** Whether the header being parsed is the one that gives the values. */
let collect = false;
let objectCount = 0;
let objectsComplete = true;

function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

function decodeApdu(r: Reader, bytes: Uint8Array): Decoded<Dnp3Apdu> {
  const objects: Dnp3ObjectHeader[] = [];
  walkApdu(r, bytes, objects);
  const s = SCAN;
  const control = s.control;
  const functionCode = s.functionCode;
  const info = functionInfo(functionCode);
  const iin = s.iin;
  const apdu: Dnp3Apdu = {
    control,
    fir: (control & AC_FIR) !== 0,
    fin: (control & AC_FIN) !== 0,
    con: (control & AC_CON) !== 0,
    uns: (control & AC_UNS) !== 0,
    seq: control & AC_SEQ,
    functionCode,
    functionName: info.name,
    access: info.access,
    response: isResponseFunction(functionCode),
    ...(iin >= 0 ? { iin, iinNames: iinNames(iin) } : {}),
    objects,
    objectCount,
    objectsComplete,
    values: s.values,
    controlStatus: s.controlStatus,
    attributes: s.attributes,
  };
  return ok(apdu, bytes.length, found.length > 0 ? found.slice() : undefined);
}

/**
 * The walk shared by `decodeDnp3Apdu` and `scanDnp3Apdu`: fills SCAN and, when `objects` is given,
 * the object header records.
 */
function walkApdu(r: Reader, bytes: Uint8Array, objects: Dnp3ObjectHeader[] | null): void {
  found.length = 0;
  values = null;
  attributes = null;
  controlStatus = 0;
  const s = SCAN;
  s.pointGroup = -1;
  s.pointVariation = -1;
  s.pointMin = -1;
  s.pointMax = -1;
  const control = r.u8();
  const functionCode = r.u8();
  const response = isResponseFunction(functionCode);
  const iin = response ? r.u16() : -1;
  s.control = control;
  s.functionCode = functionCode;
  s.iin = iin;
  const headersOnly = !response && functionInfo(functionCode).headersOnly;
  let count = 0;
  let complete = true;
  let valuesTaken = false;
  while (r.remaining > 0) {
    if (r.remaining < 3) {
      weird('dnp3.object_overrun');
      complete = false;
      break;
    }
    const group = bytes[r.pos]!;
    collect = !response && !valuesTaken && isPointGroup(group);
    if (!objectHeader(r, bytes, headersOnly, response)) {
      complete = false;
      break;
    }
    if (collect && hCount > 0) valuesTaken = true;
    if (count < MAX_OBJECT_HEADERS) {
      if (objects !== null) objects.push(headerRecord());
      if (s.pointGroup < 0 && isPointGroup(group)) {
        s.pointGroup = group;
        s.pointVariation = hVariation;
        s.pointMin = hMin;
        s.pointMax = hMin >= 0 ? hMax : -1;
      }
    }
    count++;
  }
  objectCount = count;
  objectsComplete = complete;
  s.controlStatus = controlStatus;
  s.values = values ?? NO_VALUES;
  s.attributes = attributes ?? NO_ATTRIBUTES;
  s.anomalies = found;
}

/** Reads an unsigned little-endian integer of 1, 2 or 4 octets. */
function uintLe(r: Reader, octets: number): number {
  switch (octets) {
    case 1:
      return r.u8();
    case 2:
      return r.u16le();
    default:
      return r.u32le();
  }
}

// The header last parsed by objectHeader (-1: absent).
let hGroup = 0;
let hVariation = 0;
let hQualifier = 0;
let hPrefixCode = 0;
let hRangeCode = 0;
let hStart = -1;
let hStop = -1;
let hCount = 0;
let hMin = -1;
let hMax = -1;
let hDataLength = 0;

/** The record of the header last parsed. */
function headerRecord(): Dnp3ObjectHeader {
  const h = {
    group: hGroup,
    variation: hVariation,
    qualifier: hQualifier,
    prefixCode: hPrefixCode,
    rangeCode: hRangeCode,
    count: hCount,
    dataLength: hDataLength,
  };
  if (hStart >= 0 && hMin >= 0) return { ...h, start: hStart, stop: hStop, minIndex: hMin, maxIndex: hMax };
  if (hStart >= 0) return { ...h, start: hStart, stop: hStop };
  if (hMin >= 0) return { ...h, minIndex: hMin, maxIndex: hMax };
  return h;
}

/**
 * One object header and its objects (§4.2.2.7) into the h* fields; false when parsing must stop
 * (anomaly recorded). The reader ends after the header's objects.
 */
function objectHeader(r: Reader, bytes: Uint8Array, headersOnly: boolean, response: boolean): boolean {
  const group = r.u8();
  const variation = r.u8();
  const qualifier = r.u8();
  const prefixCode = (qualifier >> 4) & 0x07;
  const rangeCode = qualifier & 0x0f;
  let start = -1;
  let stop = -1;
  let count: number;
  switch (rangeCode) {
    case 0:
    case 1:
    case 2: {
      const w = rangeCode === 0 ? 1 : rangeCode === 1 ? 2 : 4;
      if (r.remaining < 2 * w) return badHeader('dnp3.object_overrun');
      start = uintLe(r, w);
      stop = uintLe(r, w);
      if (stop < start) return badHeader('dnp3.bad_range');
      count = stop - start + 1;
      break;
    }
    case 3:
    case 4:
    case 5: {
      const w = rangeCode === 3 ? 1 : rangeCode === 4 ? 2 : 4;
      if (r.remaining < w) return badHeader('dnp3.object_overrun');
      start = stop = uintLe(r, w);
      count = 1;
      break;
    }
    case 6:
      count = 0;
      break;
    case 7:
    case 8:
    case 9: {
      const w = rangeCode === 7 ? 1 : rangeCode === 8 ? 2 : 4;
      if (r.remaining < w) return badHeader('dnp3.object_overrun');
      count = uintLe(r, w);
      break;
    }
    case 11:
      if (r.remaining < 1) return badHeader('dnp3.object_overrun');
      count = r.u8();
      break;
    default:
      return badHeader('dnp3.bad_qualifier');
  }
  // With range code 11 the prefix code gives the size of an object size prefix (1, 2 or 4 octets).
  const sizePrefix =
    rangeCode === 11
      ? prefixOctets(prefixCode > 3 ? prefixCode : prefixCode + 3)
      : prefixCode >= 4
        ? prefixOctets(prefixCode)
        : 0;
  const indexPrefix = rangeCode === 11 || prefixCode >= 4 ? 0 : prefixOctets(prefixCode);
  if (indexPrefix < 0 || sizePrefix < 0) return badHeader('dnp3.bad_qualifier');
  const dataStart = r.pos;
  let minIndex = start;
  let maxIndex = stop;
  if (count > 0) {
    const size: ObjectSize | undefined = headersOnly ? NO_DATA : objectSize(group, variation);
    if (size === undefined) return badHeader('dnp3.unknown_object');
    if (!objects(r, bytes, group, variation, count, indexPrefix, sizePrefix, size, response)) return false;
    if (indexPrefix > 0) {
      minIndex = scanMin;
      maxIndex = scanMax;
    }
  }
  hGroup = group;
  hVariation = variation;
  hQualifier = qualifier;
  hPrefixCode = prefixCode;
  hRangeCode = rangeCode;
  hStart = start;
  hStop = stop;
  hCount = count;
  hMin = minIndex;
  hMax = maxIndex;
  hDataLength = r.pos - dataStart;
  return true;
}

const NO_DATA: ObjectSize = Object.freeze({ kind: 'none' });

function badHeader(code: string): false {
  weird(code);
  return false;
}

function overrun(): false {
  weird('dnp3.object_overrun');
  return false;
}

// Lowest and highest index seen by `objects` when objects carry index prefixes.
let scanMin = -1;
let scanMax = -1;

/** Moves past `count` objects; false (anomaly recorded) when they do not fit or cannot be sized. */
function objects(
  r: Reader,
  bytes: Uint8Array,
  group: number,
  variation: number,
  count: number,
  indexPrefix: number,
  sizePrefix: number,
  size: ObjectSize,
  response: boolean,
): boolean {
  scanMin = -1;
  scanMax = -1;
  // Packed bits: no prefixes allowed; the objects fill whole octets together.
  if (size.kind === 'bits') {
    if (indexPrefix > 0 || sizePrefix > 0) {
      weird('dnp3.bad_qualifier');
      return false;
    }
    const octets = Math.ceil((count * size.n) / 8);
    if (octets > r.remaining) return overrun();
    if (collect && size.n === 1) {
      const n = Math.min(count, MAX_VALUES);
      for (let i = 0; i < n; i++) (values ??= []).push((bytes[r.pos + (i >> 3)]! >> (i & 7)) & 1);
    }
    r.skip(octets);
    return true;
  }
  const fixed = size.kind === 'octets' ? size.n : size.kind === 'none' ? 0 : -1;
  // Fixed-size objects without size prefixes: check the whole run at once, then walk it only
  // when something must be read (indices, values, statuses).
  if (sizePrefix === 0 && fixed >= 0) {
    const each = indexPrefix + fixed;
    if (each === 0) return true;
    if (count > r.remaining / each) return overrun();
    const watch = indexPrefix > 0 || (collect && fixed > 0) || (response && (group === 12 || group === 41));
    if (!watch) {
      r.skip(count * each);
      return true;
    }
    if (group !== 12 && group !== 41) {
      // Only the index prefixes matter (events, mostly): read them in place, the run is in bounds.
      const end = r.pos + count * each;
      if (indexPrefix > 0) for (let p = r.pos; p < end; p += each) noteIndex(indexAt(bytes, p, indexPrefix));
      r.pos = end;
      return true;
    }
    for (let i = 0; i < count; i++) {
      if (indexPrefix > 0) noteIndex(uintLe(r, indexPrefix));
      if (fixed > 0) objectData(r, bytes, group, variation, fixed, i);
    }
    return true;
  }
  // Variable-size objects: a size prefix, or the device attribute layout (type, length, value).
  if (sizePrefix === 0 && group !== 0) {
    // Files, application ids and authentication objects need a size prefix, except the two
    // fixed authentication requests (g120v3 aggressive mode: 6 octets; g120v4 key status: 2).
    const n = group === 120 && variation === 3 ? 6 : group === 120 && variation === 4 ? 2 : -1;
    if (n < 0) {
      weird('dnp3.unknown_object');
      return false;
    }
    if (count > r.remaining / (indexPrefix + n)) return overrun();
    for (let i = 0; i < count; i++) {
      if (indexPrefix > 0) noteIndex(uintLe(r, indexPrefix));
      r.skip(n);
    }
    return true;
  }
  // Each object takes at least one octet here, which bounds the loop by the bytes left.
  if (count > r.remaining) return overrun();
  for (let i = 0; i < count; i++) {
    if (r.remaining < indexPrefix + sizePrefix) return overrun();
    if (indexPrefix > 0) noteIndex(uintLe(r, indexPrefix));
    let n: number;
    if (sizePrefix > 0) n = uintLe(r, sizePrefix);
    else {
      // Device attribute: data type code, length, value.
      if (r.remaining < 2) return overrun();
      const type = r.u8();
      n = r.u8();
      if (n > r.remaining) return overrun();
      if (attributes === null || attributes.length < MAX_ATTRIBUTES)
        attribute(variation, type, r.bytes.subarray(r.pos, r.pos + n));
    }
    if (n > r.remaining) return overrun();
    r.skip(n);
  }
  return true;
}

/** The unsigned little-endian index prefix of 1, 2 or 4 octets at `bytes[p]`. */
function indexAt(bytes: Uint8Array, p: number, octets: number): number {
  if (octets === 1) return bytes[p]!;
  if (octets === 2) return bytes[p]! | (bytes[p + 1]! << 8);
  return (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0;
}

function noteIndex(i: number): void {
  if (scanMin < 0 || i < scanMin) scanMin = i;
  if (i > scanMax) scanMax = i;
}

/** Reads what matters of one fixed-size object (values of the first point header, statuses). */
function objectData(r: Reader, bytes: Uint8Array, group: number, variation: number, n: number, i: number): void {
  const p = r.pos;
  r.skip(n);
  if (group === 12 && (variation === 1 || variation === 2)) {
    // CROB: control code, count, on time, off time, status (§A.8.1).
    if (collect && i < MAX_VALUES) (values ??= []).push(bytes[p]!);
    const status = bytes[p + 10]! & 0x7f;
    if (status !== 0 && controlStatus === 0) controlStatus = status;
    return;
  }
  if (group === 41) {
    // Analog output block: value, then status (§A.23).
    if (collect && i < MAX_VALUES) (values ??= []).push(analogValue(bytes, p, variation));
    const status = bytes[p + n - 1]! & 0x7f;
    if (status !== 0 && controlStatus === 0) controlStatus = status;
  }
}

const VIEW_BYTES = new Uint8Array(8);
const VIEW = new DataView(VIEW_BYTES.buffer);

/** Value of an analog output block (g41): v1 int32, v2 int16, v3 float32, v4 float64, little-endian. */
function analogValue(bytes: Uint8Array, p: number, variation: number): number {
  switch (variation) {
    case 1:
      return bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    case 2:
      return ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >> 16;
    case 3:
      VIEW_BYTES.set(bytes.subarray(p, p + 4));
      return VIEW.getFloat32(0, true);
    default:
      VIEW_BYTES.set(bytes.subarray(p, p + 8));
      return VIEW.getFloat64(0, true);
  }
}

function attribute(variation: number, type: number, value: Uint8Array): void {
  if (type === 1) (attributes ??= []).push({ variation, type, value: printable(value) });
  else if (type === 2 && value.length >= 1 && value.length <= 4) {
    let v = 0;
    for (let i = value.length - 1; i >= 0; i--) v = v * 256 + value[i]!;
    (attributes ??= []).push({ variation, type, value: String(v) });
  }
}
