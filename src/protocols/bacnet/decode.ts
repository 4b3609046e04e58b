// BACnet/IP decoder: BVLC (ANSI/ASHRAE 135-2020 Annex J.2), NPDU (§6.2), APDU headers (§20.1), the
// tag encoding (§20.2) and the service parameters PlantGuard reports: object/property/array
// index/priority/values of ReadProperty(Multiple) and WriteProperty(Multiple) (§15.5, §15.7, §15.9,
// §15.10) and their ACKs, I-Am/I-Have/Who-Is/Who-Has (§16.9, §16.10), file access (§14), device
// management (§16.1, §16.4) and the error, reject and abort PDUs.

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { formatIpv4, printable, utf8Text } from '../../core/text.ts';
import { APDU, BVLC, BVLC_TYPE_IP, BVLC_HEADER_LENGTH, CONFIRMED, NPCI, UNCONFIRMED, bvlcInfo } from './constants.ts';

/** Values kept per property (the first ones). */
export const MAX_VALUES = 16;
/** Object specifications and property references kept from one ReadPropertyMultiple/WPM/RPM-ACK. */
const MAX_ENTRIES = 256;
/** Longest character string kept. */
const MAX_TEXT = 256;
/** Nesting of constructed values followed before giving up (opening/closing tags). */
const MAX_DEPTH = 16;

export interface ObjectId {
  readonly type: number;
  readonly instance: number;
}

/** One application-tagged value (§20.2.1): numbers for the numeric types, text for strings. */
export type BacnetValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'unsigned' | 'signed' | 'real' | 'double' | 'enumerated'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'object'; readonly value: ObjectId }
  /** Octet strings, bit strings, dates and times, and constructed values: kept by kind only. */
  | { readonly kind: 'other'; readonly tag: number };

export interface PropertyRef {
  readonly property: number;
  /** -1 when absent. */
  readonly arrayIndex: number;
}

export interface PropertyWrite extends PropertyRef {
  readonly values: readonly BacnetValue[];
  /** -1 when absent. */
  readonly priority: number;
}

export interface PropertyResult extends PropertyRef {
  readonly object: ObjectId;
  readonly values: readonly BacnetValue[];
  /** Error class and code of a property that could not be read, else -1. */
  readonly errorClass: number;
  readonly errorCode: number;
}

export type ServiceRequest =
  /** Not decoded: a later segment, or a service without parameters PlantGuard reports. */
  | { readonly kind: 'none' }
  | ({ readonly kind: 'read_property'; readonly object: ObjectId } & PropertyRef)
  | {
      readonly kind: 'read_property_multiple';
      readonly specs: readonly { readonly object: ObjectId; readonly properties: readonly PropertyRef[] }[];
    }
  | ({ readonly kind: 'write_property'; readonly object: ObjectId } & PropertyWrite)
  | {
      readonly kind: 'write_property_multiple';
      readonly specs: readonly { readonly object: ObjectId; readonly writes: readonly PropertyWrite[] }[];
    }
  /** Services about one object: SubscribeCOV, CreateObject, DeleteObject, Who-Has, I-Have, COV notifications. */
  | { readonly kind: 'object'; readonly object: ObjectId; readonly device?: ObjectId; readonly name?: string }
  | {
      readonly kind: 'file';
      readonly object: ObjectId;
      readonly stream: boolean;
      /** Start position (stream) or record. */
      readonly start: number;
      /** Octets/records requested (read), or octets written (write). */
      readonly count: number;
    }
  | {
      readonly kind: 'i_am';
      readonly device: ObjectId;
      readonly maxApdu: number;
      readonly segmentation: number;
      readonly vendorId: number;
    }
  /** Who-Is; -1 limits when absent (all devices). */
  | { readonly kind: 'who_is'; readonly low: number; readonly high: number }
  | { readonly kind: 'reinitialize_device'; readonly state: number; readonly password: boolean }
  | {
      readonly kind: 'device_communication_control';
      readonly duration: number;
      readonly enable: number;
      readonly password: boolean;
    }
  | { readonly kind: 'private_transfer'; readonly vendorId: number; readonly serviceNumber: number };

export type ServiceAck =
  | { readonly kind: 'none' }
  | ({
      readonly kind: 'read_property';
      readonly object: ObjectId;
      readonly values: readonly BacnetValue[];
    } & PropertyRef)
  | { readonly kind: 'read_property_multiple'; readonly results: readonly PropertyResult[] };

export type Apdu =
  | {
      readonly kind: 'confirmed_request';
      readonly segmented: boolean;
      readonly moreFollows: boolean;
      readonly segmentedResponseAccepted: boolean;
      /** Encoded max segments (0–7) and max APDU length (0–15) fields. */
      readonly maxSegments: number;
      readonly maxApdu: number;
      readonly invokeId: number;
      /** Segment sequence number and proposed window size, -1 when not segmented. */
      readonly sequence: number;
      readonly window: number;
      readonly service: number;
      readonly request: ServiceRequest;
    }
  | { readonly kind: 'unconfirmed_request'; readonly service: number; readonly request: ServiceRequest }
  | { readonly kind: 'simple_ack'; readonly invokeId: number; readonly service: number }
  | {
      readonly kind: 'complex_ack';
      readonly segmented: boolean;
      readonly moreFollows: boolean;
      readonly invokeId: number;
      readonly sequence: number;
      readonly window: number;
      readonly service: number;
      readonly ack: ServiceAck;
    }
  | {
      readonly kind: 'segment_ack';
      readonly nak: boolean;
      readonly server: boolean;
      readonly invokeId: number;
      readonly sequence: number;
      readonly window: number;
    }
  | {
      readonly kind: 'error';
      readonly invokeId: number;
      readonly service: number;
      /** -1 when the error parameters could not be read. */
      readonly errorClass: number;
      readonly errorCode: number;
    }
  | { readonly kind: 'reject'; readonly invokeId: number; readonly reason: number }
  | { readonly kind: 'abort'; readonly server: boolean; readonly invokeId: number; readonly reason: number };

export interface NetworkMessage {
  readonly type: number;
  /** Proprietary messages (0x80–0xFF) carry a vendor id; else -1. */
  readonly vendorId: number;
  /** Network numbers a Who-Is-Router/I-Am-Router/I-Could-Be-Router message names. */
  readonly networks: readonly number[];
  readonly data: Uint8Array;
}

export interface Npdu {
  readonly version: number;
  readonly control: number;
  readonly expectingReply: boolean;
  readonly priority: number;
  /** Destination and source specifiers; -1 network and empty address when absent. */
  readonly dnet: number;
  readonly dadr: Uint8Array;
  readonly snet: number;
  readonly sadr: Uint8Array;
  /** -1 when there is no destination specifier. */
  readonly hopCount: number;
  readonly network: NetworkMessage | null;
  readonly apdu: Apdu | null;
}

export interface BacnetMessage {
  readonly bvlcType: number;
  readonly bvlcFunction: number;
  readonly length: number;
  /** Forwarded-NPDU: the B/IP address (`a.b.c.d:port`) of the device that sent the original. */
  readonly forwardedFrom?: string;
  /** BVLC-Result code, or Register-Foreign-Device time-to-live (s); -1 otherwise. */
  readonly bvlcValue: number;
  readonly npdu: Npdu | null;
}

const NO_BYTES: Uint8Array = new Uint8Array(0);
const NO_REQUEST: ServiceRequest = Object.freeze({ kind: 'none' });
const NO_ACK: ServiceAck = Object.freeze({ kind: 'none' });
const NO_NUMBERS: readonly number[] = Object.freeze([]);
const READER = new Reader(NO_BYTES);

// Anomalies of the datagram being decoded (decoding is synchronous: one list suffices).
const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

/**
 * Decodes one BACnet/IP datagram (BVLL). A BVLC length that is not the datagram's is an anomaly
 * (`bacnet.length_mismatch` / `bacnet.trailing_bytes`) and the shorter of the two bounds the
 * message; NPDU header fields running past the end are `malformed('bacnet.truncated')`; service
 * parameters that cannot be read are the anomaly `bacnet.bad_service_data` on a valid message.
 */
export function decodeBacnet(bytes: Uint8Array): Decoded<BacnetMessage> {
  const n = bytes.length;
  if (n < BVLC_HEADER_LENGTH) return n === 0 ? incomplete(BVLC_HEADER_LENGTH) : shortOrWrong(bytes);
  if (bytes[0] !== BVLC_TYPE_IP) return malformed('bacnet.bad_bvlc_type', 0);
  const fn = bytes[1]!;
  const info = bvlcInfo(fn);
  if (info === undefined) return malformed('bacnet.bad_bvlc_function', 1);
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length < BVLC_HEADER_LENGTH) return malformed('bacnet.bad_length', 2);
  found.length = 0;
  // A length that disagrees with the datagram is an anomaly; the datagram's own end is used (some
  // devices count wrongly, e.g. icsnpp-bacnet-example.pcap frame 573 claims 17 of 13 bytes).
  if (length !== n) weird(length > n ? 'bacnet.length_mismatch' : 'bacnet.trailing_bytes');
  const end = Math.min(length, n);
  const r = READER.reset(bytes, BVLC_HEADER_LENGTH, end);
  try {
    const m = decodeBvll(r, fn, length);
    return found.length === 0 ? ok(m, end) : ok(m, end, found.slice());
  } catch (e) {
    if (e instanceof ShortRead) return malformed('bacnet.truncated', e.offset);
    throw e;
  }
}

/**
 * Decodes one BACnet/Ethernet frame payload (ANSI/ASHRAE 135 clause 7): an ISO 8802-2 LLC header
 * (DSAP = SSAP = 0x82, control 0x03 UI) and the NPDU. The result has no BVLC: `bvlcType` 0 and
 * `bvlcFunction` −1, so both transports share everything above the link.
 */
export function decodeBacnetEthernet(bytes: Uint8Array): Decoded<BacnetMessage> {
  if (bytes.length < 4) return incomplete(4);
  if (bytes[0] !== 0x82 || bytes[1] !== 0x82 || bytes[2] !== 0x03) return malformed('bacnet.bad_llc_header', 0);
  found.length = 0;
  const r = READER.reset(bytes, 3, bytes.length);
  try {
    const m: BacnetMessage = {
      bvlcType: 0,
      bvlcFunction: -1,
      length: bytes.length,
      bvlcValue: -1,
      npdu: decodeNpdu(r),
    };
    return found.length === 0 ? ok(m, bytes.length) : ok(m, bytes.length, found.slice());
  } catch (e) {
    if (e instanceof ShortRead) return malformed('bacnet.truncated', e.offset);
    throw e;
  }
}

function shortOrWrong(bytes: Uint8Array): Decoded<BacnetMessage> {
  return bytes[0] === BVLC_TYPE_IP ? incomplete(BVLC_HEADER_LENGTH) : malformed('bacnet.bad_bvlc_type', 0);
}

function decodeBvll(r: Reader, fn: number, length: number): BacnetMessage {
  const base = { bvlcType: BVLC_TYPE_IP, bvlcFunction: fn, length };
  switch (fn) {
    case BVLC.result:
      return { ...base, bvlcValue: r.u16(), npdu: null };
    case BVLC.registerForeignDevice:
      return { ...base, bvlcValue: r.u16(), npdu: null };
    case BVLC.forwardedNpdu: {
      const ip = formatIpv4(r.u32());
      const port = r.u16();
      return { ...base, forwardedFrom: `${ip}:${port}`, bvlcValue: -1, npdu: decodeNpdu(r) };
    }
    case BVLC.distributeBroadcastToNetwork:
    case BVLC.originalUnicastNpdu:
    case BVLC.originalBroadcastNpdu:
      return { ...base, bvlcValue: -1, npdu: decodeNpdu(r) };
    case BVLC.writeBdt:
    case BVLC.readBdtAck:
      // Broadcast distribution table entries: address, port, mask (10 octets each).
      if (r.remaining % 10 !== 0) weird('bacnet.bad_length');
      r.skip(r.remaining);
      return { ...base, bvlcValue: -1, npdu: null };
    case BVLC.readFdtAck:
      // Foreign device table entries: address, port, TTL, remaining (10 octets each).
      if (r.remaining % 10 !== 0) weird('bacnet.bad_length');
      r.skip(r.remaining);
      return { ...base, bvlcValue: -1, npdu: null };
    case BVLC.deleteFdtEntry:
      r.skip(6);
      return { ...base, bvlcValue: -1, npdu: null };
    default:
      // Read-BDT and Read-FDT carry nothing; Secure-BVLL is not decoded.
      r.skip(r.remaining);
      return { ...base, bvlcValue: -1, npdu: null };
  }
}

/** NPDU (§6.2): version, control, optional destination/source specifiers and hop count, then data. */
function decodeNpdu(r: Reader): Npdu {
  const version = r.u8();
  if (version !== 1) weird('bacnet.bad_npdu_version');
  const control = r.u8();
  if (control & 0x50) weird('bacnet.reserved_bits_set');
  let dnet = -1;
  let dadr = NO_BYTES;
  let snet = -1;
  let sadr = NO_BYTES;
  let hopCount = -1;
  if (control & NPCI.destination) {
    dnet = r.u16();
    dadr = r.take(r.u8());
  }
  if (control & NPCI.source) {
    snet = r.u16();
    const slen = r.u8();
    if (slen === 0) weird('bacnet.bad_source_address');
    sadr = r.take(slen);
  }
  if (control & NPCI.destination) hopCount = r.u8();
  const base = {
    version,
    control,
    expectingReply: (control & NPCI.expectingReply) !== 0,
    priority: control & NPCI.priority,
    dnet,
    dadr,
    snet,
    sadr,
    hopCount,
  };
  if (control & NPCI.networkMessage) return { ...base, network: decodeNetworkMessage(r), apdu: null };
  if (r.remaining === 0) {
    weird('bacnet.empty_apdu');
    return { ...base, network: null, apdu: null };
  }
  return { ...base, network: null, apdu: decodeApdu(r) };
}

function decodeNetworkMessage(r: Reader): NetworkMessage {
  const type = r.u8();
  const vendorId = type >= 0x80 ? r.u16() : -1;
  const data = r.remaining > 0 ? r.take(r.remaining) : NO_BYTES;
  let networks = NO_NUMBERS;
  // Who-Is-Router-To-Network (optional network), I-Am-Router and I-Could-Be-Router (list / one).
  if ((type === 0x00 || type === 0x01 || type === 0x02 || type === 0x04 || type === 0x05) && data.length >= 2) {
    const nets: number[] = [];
    const count = type === 0x02 ? 1 : Math.min(data.length >> 1, MAX_ENTRIES);
    for (let i = 0; i < count; i++) nets.push((data[2 * i]! << 8) | data[2 * i + 1]!);
    networks = nets;
  }
  return { type, vendorId, networks, data };
}

/** APDU (§20.1): the fixed header of each type, then the service parameters. */
function decodeApdu(r: Reader): Apdu {
  const b0 = r.u8();
  const type = b0 >> 4;
  switch (type) {
    case APDU.confirmedRequest: {
      const segmented = (b0 & 0x08) !== 0;
      const b1 = r.u8();
      const invokeId = r.u8();
      const sequence = segmented ? r.u8() : -1;
      const window = segmented ? r.u8() : -1;
      const service = r.u8();
      const request = segmented ? NO_REQUEST : safeRequest(r, service, true);
      return {
        kind: 'confirmed_request',
        segmented,
        moreFollows: (b0 & 0x04) !== 0,
        segmentedResponseAccepted: (b0 & 0x02) !== 0,
        maxSegments: (b1 >> 4) & 0x07,
        maxApdu: b1 & 0x0f,
        invokeId,
        sequence,
        window,
        service,
        request,
      };
    }
    case APDU.unconfirmedRequest: {
      const service = r.u8();
      return {
        kind: 'unconfirmed_request',
        service,
        request: safeRequest(r, service, false),
      };
    }
    case APDU.simpleAck:
      return { kind: 'simple_ack', invokeId: r.u8(), service: r.u8() };
    case APDU.complexAck: {
      const segmented = (b0 & 0x08) !== 0;
      const invokeId = r.u8();
      const sequence = segmented ? r.u8() : -1;
      const window = segmented ? r.u8() : -1;
      const service = r.u8();
      const ack = segmented ? NO_ACK : safeAck(r, service);
      return {
        kind: 'complex_ack',
        segmented,
        moreFollows: (b0 & 0x04) !== 0,
        invokeId,
        sequence,
        window,
        service,
        ack,
      };
    }
    case APDU.segmentAck:
      return {
        kind: 'segment_ack',
        nak: (b0 & 0x02) !== 0,
        server: (b0 & 0x01) !== 0,
        invokeId: r.u8(),
        sequence: r.u8(),
        window: r.u8(),
      };
    case APDU.error: {
      const invokeId = r.u8();
      const service = r.u8();
      const errorClass = safeError(r);
      return { kind: 'error', invokeId, service, errorClass, errorCode: errorClass < 0 ? -1 : ERROR_CODE[0]! };
    }
    case APDU.reject:
      return { kind: 'reject', invokeId: r.u8(), reason: r.u8() };
    case APDU.abort:
      return { kind: 'abort', server: (b0 & 0x01) !== 0, invokeId: r.u8(), reason: r.u8() };
    default:
      weird('bacnet.bad_apdu_type');
      throw new ShortRead(r.pos - 1);
  }
}

// Service parameters are decoded on their own: when they cannot be read the APDU still counts
// (anomaly `bacnet.bad_service_data`) with what its header says.

function safeRequest(r: Reader, service: number, confirmed: boolean): ServiceRequest {
  try {
    return confirmed ? decodeConfirmedRequest(r, service) : decodeUnconfirmedRequest(r, service);
  } catch (e) {
    return badParameters(r, e, NO_REQUEST);
  }
}

function safeAck(r: Reader, service: number): ServiceAck {
  try {
    return decodeAck(r, service);
  } catch (e) {
    return badParameters(r, e, NO_ACK);
  }
}

/** Error class (returned) and code (in ERROR_CODE[0]); -1 when they cannot be read. */
const ERROR_CODE = new Int32Array(1);
function safeError(r: Reader): number {
  try {
    // BACnet-Error: two enumerated values, inside context tag [0] for some services.
    if (nextIsOpening(r, 0)) r.skip(1);
    const errorClass = appUint(r, 9);
    ERROR_CODE[0] = appUint(r, 9);
    r.pos = r.end;
    return errorClass;
  } catch (e) {
    return badParameters(r, e, -1);
  }
}

function badParameters<T>(r: Reader, e: unknown, none: T): T {
  if (!(e instanceof ShortRead)) throw e;
  weird('bacnet.bad_service_data');
  r.pos = r.end;
  return none;
}

// ---- tags (§20.2.1) ----

/** A tag header; `length` is the content length (0 for opening/closing and booleans). */
interface Tag {
  number: number;
  context: boolean;
  opening: boolean;
  closing: boolean;
  /** Length/value/type field: for application booleans, the value. */
  lvt: number;
  length: number;
}

/** Reads a tag header (extended tag numbers and lengths included) into `t`. */
function readTag(r: Reader, t: Tag): Tag {
  const b = r.u8();
  let number = b >> 4;
  if (number === 15) number = r.u8();
  const context = (b & 0x08) !== 0;
  const lvt = b & 0x07;
  t.number = number;
  t.context = context;
  t.opening = context && lvt === 6;
  t.closing = context && lvt === 7;
  t.lvt = lvt;
  if (t.opening || t.closing || (!context && number === 1)) t.length = 0;
  else if (lvt < 5) t.length = lvt;
  else {
    let len = r.u8();
    if (len === 254) len = r.u16();
    else if (len === 255) len = r.u32();
    t.length = len;
  }
  return t;
}

const TAG: Tag = { number: 0, context: false, opening: false, closing: false, lvt: 0, length: 0 };
const PEEK: Tag = { number: 0, context: false, opening: false, closing: false, lvt: 0, length: 0 };

/** The next tag without consuming it, or null at the end of the data. */
function peekTag(r: Reader): Tag | null {
  if (r.remaining === 0) return null;
  const pos = r.pos;
  readTag(r, PEEK);
  r.pos = pos;
  return PEEK;
}

/** True when the next tag is context tag `n` (not an opening or closing tag). */
function nextIsContext(r: Reader, n: number): boolean {
  const t = peekTag(r);
  return t !== null && t.context && t.number === n && !t.opening && !t.closing;
}

function nextIsOpening(r: Reader, n: number): boolean {
  const t = peekTag(r);
  return t !== null && t.opening && t.number === n;
}

function nextIsClosing(r: Reader, n: number): boolean {
  const t = peekTag(r);
  return t !== null && t.closing && t.number === n;
}

function expectOpening(r: Reader, n: number): void {
  const t = readTag(r, TAG);
  if (!t.opening || t.number !== n) bad(r);
}

function expectClosing(r: Reader, n: number): void {
  const t = readTag(r, TAG);
  if (!t.closing || t.number !== n) bad(r);
}

function bad(r: Reader): never {
  throw new ShortRead(r.pos);
}

/** A big-endian unsigned of 1–8 octets (above 2^53 precision is lost; such values are rare). */
function uintOf(r: Reader, len: number): number {
  if (len > 8) bad(r);
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + r.u8();
  return v;
}

function sintOf(r: Reader, len: number): number {
  if (len === 0) return 0;
  const u = uintOf(r, len);
  const limit = 2 ** (8 * len - 1);
  return u >= limit ? u - 2 * limit : u;
}

function objectIdOf(r: Reader, len: number): ObjectId {
  if (len !== 4) bad(r);
  const v = r.u32();
  return { type: v >>> 22, instance: v & 0x3fffff };
}

/** A context-tagged unsigned/enumerated with tag number `n`. */
function contextUint(r: Reader, n: number): number {
  const t = readTag(r, TAG);
  if (!t.context || t.number !== n || t.opening || t.closing) bad(r);
  return uintOf(r, t.length);
}

function contextObjectId(r: Reader, n: number): ObjectId {
  const t = readTag(r, TAG);
  if (!t.context || t.number !== n || t.opening || t.closing) bad(r);
  return objectIdOf(r, t.length);
}

function optionalContextUint(r: Reader, n: number): number {
  return nextIsContext(r, n) ? contextUint(r, n) : -1;
}

/** An application-tagged value of the expected type number. */
function appValue(r: Reader, expected: number): BacnetValue {
  const t = readTag(r, TAG);
  if (t.context || t.number !== expected) bad(r);
  return valueOf(r, t);
}

function appUint(r: Reader, expected: number): number {
  const v = appValue(r, expected);
  return 'value' in v && typeof v.value === 'number' ? v.value : -1;
}

function appObjectId(r: Reader): ObjectId {
  const v = appValue(r, 12);
  if (v.kind !== 'object') bad(r);
  return v.value;
}

const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function floatOf(r: Reader, len: number): number {
  const b = r.take(len);
  const dst = len === 4 ? F32_BYTES : F64_BYTES;
  for (let i = 0; i < len; i++) dst[i] = b[LITTLE_ENDIAN ? len - 1 - i : i]!;
  return len === 4 ? F32[0]! : F64[0]!;
}

/** The value of an application tag whose header was just read. */
function valueOf(r: Reader, t: Tag): BacnetValue {
  const len = t.length;
  switch (t.number) {
    case 0:
      return { kind: 'null' };
    case 1:
      return { kind: 'boolean', value: t.lvt !== 0 };
    case 2:
      return { kind: 'unsigned', value: uintOf(r, len) };
    case 3:
      return { kind: 'signed', value: sintOf(r, len) };
    case 4:
      if (len !== 4) bad(r);
      return { kind: 'real', value: floatOf(r, 4) };
    case 5:
      if (len !== 8) bad(r);
      return { kind: 'double', value: floatOf(r, 8) };
    case 7:
      return { kind: 'string', value: charString(r.take(len)) };
    case 9:
      return { kind: 'enumerated', value: uintOf(r, len) };
    case 12:
      return { kind: 'object', value: objectIdOf(r, len) };
    default:
      // 6 octet string, 8 bit string, 10 date, 11 time, 13–15 reserved
      r.skip(len);
      return { kind: 'other', tag: t.number };
  }
}

/** A CharacterString (§20.2.9): character set octet, then the characters. */
export function charString(b: Uint8Array): string {
  if (b.length === 0) return '';
  const set = b[0]!;
  const chars = b.subarray(1);
  switch (set) {
    case 0: // ISO 10646 UTF-8 (formerly ANSI X3.4)
      return utf8Text(chars, MAX_TEXT);
    case 4: {
      // UCS-2, big-endian
      let s = '';
      for (let i = 0; i + 1 < chars.length && s.length < MAX_TEXT; i += 2) {
        const c = (chars[i]! << 8) | chars[i + 1]!;
        if (c === 0) break;
        s += c >= 0x20 && c !== 0x7f ? String.fromCharCode(c) : '.';
      }
      return s;
    }
    default:
      // 5 ISO 8859-1, and the rarer sets as bytes
      return printable(chars, MAX_TEXT);
  }
}

/**
 * The values between an opening and closing tag `n` (the abstract-syntax-and-type of a property):
 * application-tagged values are kept (up to MAX_VALUES); context-tagged and constructed parts are
 * skipped. Consumes the closing tag.
 */
function valuesUntilClosing(r: Reader, n: number): BacnetValue[] {
  const out: BacnetValue[] = [];
  let depth = 0;
  for (;;) {
    const t = readTag(r, TAG);
    if (t.closing) {
      if (depth === 0) {
        if (t.number !== n) bad(r);
        return out;
      }
      depth--;
      continue;
    }
    if (t.opening) {
      if (++depth > MAX_DEPTH) bad(r);
      continue;
    }
    if (t.context || depth > 0) {
      r.skip(t.length);
      if (depth === 0 && out.length < MAX_VALUES) out.push({ kind: 'other', tag: t.number });
      continue;
    }
    const v = valueOf(r, t);
    if (out.length < MAX_VALUES) out.push(v);
  }
}

// ---- services ----

function decodeConfirmedRequest(r: Reader, service: number): ServiceRequest {
  switch (service) {
    case CONFIRMED.readProperty: {
      const object = contextObjectId(r, 0);
      const property = contextUint(r, 1);
      const arrayIndex = optionalContextUint(r, 2);
      return { kind: 'read_property', object, property, arrayIndex };
    }
    case CONFIRMED.readPropertyMultiple: {
      const specs: { object: ObjectId; properties: PropertyRef[] }[] = [];
      let entries = 0;
      while (r.remaining > 0) {
        const object = contextObjectId(r, 0);
        expectOpening(r, 1);
        const properties: PropertyRef[] = [];
        while (!nextIsClosing(r, 1)) {
          const property = contextUint(r, 0);
          const arrayIndex = optionalContextUint(r, 1);
          if (entries++ < MAX_ENTRIES) properties.push({ property, arrayIndex });
        }
        expectClosing(r, 1);
        if (specs.length < MAX_ENTRIES) specs.push({ object, properties });
      }
      return { kind: 'read_property_multiple', specs };
    }
    case CONFIRMED.writeProperty: {
      const object = contextObjectId(r, 0);
      const property = contextUint(r, 1);
      const arrayIndex = optionalContextUint(r, 2);
      expectOpening(r, 3);
      const values = valuesUntilClosing(r, 3);
      const priority = optionalContextUint(r, 4);
      return { kind: 'write_property', object, property, arrayIndex, values, priority };
    }
    case CONFIRMED.writePropertyMultiple: {
      const specs: { object: ObjectId; writes: PropertyWrite[] }[] = [];
      let entries = 0;
      while (r.remaining > 0) {
        const object = contextObjectId(r, 0);
        expectOpening(r, 1);
        const writes: PropertyWrite[] = [];
        while (!nextIsClosing(r, 1)) {
          const property = contextUint(r, 0);
          const arrayIndex = optionalContextUint(r, 1);
          expectOpening(r, 2);
          const values = valuesUntilClosing(r, 2);
          const priority = optionalContextUint(r, 3);
          if (entries++ < MAX_ENTRIES) writes.push({ property, arrayIndex, values, priority });
        }
        expectClosing(r, 1);
        if (specs.length < MAX_ENTRIES) specs.push({ object, writes });
      }
      return { kind: 'write_property_multiple', specs };
    }
    case CONFIRMED.subscribeCov:
    case CONFIRMED.subscribeCovProperty: {
      contextUint(r, 0); // subscriber process identifier
      return { kind: 'object', object: contextObjectId(r, 1) };
    }
    case CONFIRMED.confirmedCovNotification:
      return decodeCovNotification(r);
    case CONFIRMED.atomicReadFile:
    case CONFIRMED.atomicWriteFile: {
      const object = appObjectId(r);
      const stream = nextIsOpening(r, 0);
      if (!stream && !nextIsOpening(r, 1)) bad(r);
      r.skip(1); // opening tag [0] or [1]
      const start = sintOf(r, readAppLength(r, 3));
      let count: number;
      if (service === CONFIRMED.atomicReadFile) count = uintOf(r, readAppLength(r, 2));
      else if (stream) count = readAppLength(r, 6);
      else count = uintOf(r, readAppLength(r, 2)); // record count, then the records
      r.pos = r.end;
      return { kind: 'file', object, stream, start, count };
    }
    case CONFIRMED.createObject: {
      expectOpening(r, 0);
      const t = readTag(r, TAG);
      // [0] object type (enumerated) or [1] object identifier
      const object = t.number === 1 ? objectIdOf(r, t.length) : { type: uintOf(r, t.length), instance: -1 };
      r.pos = r.end;
      return { kind: 'object', object };
    }
    case CONFIRMED.deleteObject:
      return { kind: 'object', object: appObjectId(r) };
    case CONFIRMED.reinitializeDevice: {
      const state = contextUint(r, 0);
      const password = nextIsContext(r, 1);
      r.pos = r.end;
      return { kind: 'reinitialize_device', state, password };
    }
    case CONFIRMED.deviceCommunicationControl: {
      const duration = optionalContextUint(r, 0);
      const enable = contextUint(r, 1);
      const password = nextIsContext(r, 2);
      r.pos = r.end;
      return { kind: 'device_communication_control', duration, enable, password };
    }
    case CONFIRMED.confirmedPrivateTransfer:
      return decodePrivateTransfer(r);
    default:
      r.pos = r.end;
      return NO_REQUEST;
  }
}

/** The content length of an application tag of the expected type. */
function readAppLength(r: Reader, expected: number): number {
  const t = readTag(r, TAG);
  if (t.context || t.number !== expected) bad(r);
  return t.length;
}

function decodeCovNotification(r: Reader): ServiceRequest {
  contextUint(r, 0); // subscriber process identifier
  const device = contextObjectId(r, 1);
  const object = contextObjectId(r, 2);
  r.pos = r.end;
  return { kind: 'object', object, device };
}

function decodePrivateTransfer(r: Reader): ServiceRequest {
  const vendorId = contextUint(r, 0);
  const serviceNumber = contextUint(r, 1);
  r.pos = r.end;
  return { kind: 'private_transfer', vendorId, serviceNumber };
}

function decodeUnconfirmedRequest(r: Reader, service: number): ServiceRequest {
  switch (service) {
    case UNCONFIRMED.iAm: {
      const device = appObjectId(r);
      const maxApdu = appUint(r, 2);
      const segmentation = appUint(r, 9);
      const vendorId = appUint(r, 2);
      return { kind: 'i_am', device, maxApdu, segmentation, vendorId };
    }
    case UNCONFIRMED.iHave: {
      const device = appObjectId(r);
      const object = appObjectId(r);
      const name = appValue(r, 7);
      return { kind: 'object', object, device, name: name.kind === 'string' ? name.value : '' };
    }
    case UNCONFIRMED.whoIs: {
      if (r.remaining === 0) return { kind: 'who_is', low: -1, high: -1 };
      const low = contextUint(r, 0);
      const high = contextUint(r, 1);
      return { kind: 'who_is', low, high };
    }
    case UNCONFIRMED.whoHas: {
      optionalContextUint(r, 0);
      optionalContextUint(r, 1);
      const t = readTag(r, TAG);
      if (t.context && t.number === 2) return { kind: 'object', object: objectIdOf(r, t.length) };
      if (t.context && t.number === 3) {
        return { kind: 'object', object: { type: -1, instance: -1 }, name: charString(r.take(t.length)) };
      }
      return bad(r);
    }
    case UNCONFIRMED.unconfirmedCovNotification:
      return decodeCovNotification(r);
    case UNCONFIRMED.unconfirmedPrivateTransfer:
      return decodePrivateTransfer(r);
    default:
      r.pos = r.end;
      return NO_REQUEST;
  }
}

function decodeAck(r: Reader, service: number): ServiceAck {
  switch (service) {
    case CONFIRMED.readProperty: {
      const object = contextObjectId(r, 0);
      const property = contextUint(r, 1);
      const arrayIndex = optionalContextUint(r, 2);
      expectOpening(r, 3);
      const values = valuesUntilClosing(r, 3);
      return { kind: 'read_property', object, property, arrayIndex, values };
    }
    case CONFIRMED.readPropertyMultiple: {
      const results: PropertyResult[] = [];
      while (r.remaining > 0) {
        const object = contextObjectId(r, 0);
        expectOpening(r, 1);
        while (!nextIsClosing(r, 1)) {
          const property = contextUint(r, 2);
          const arrayIndex = optionalContextUint(r, 3);
          let values: BacnetValue[] = [];
          let errorClass = -1;
          let errorCode = -1;
          if (nextIsOpening(r, 4)) {
            r.skip(1);
            values = valuesUntilClosing(r, 4);
          } else {
            expectOpening(r, 5);
            errorClass = appUint(r, 9);
            errorCode = appUint(r, 9);
            expectClosing(r, 5);
          }
          if (results.length < MAX_ENTRIES)
            results.push({ object, property, arrayIndex, values, errorClass, errorCode });
        }
        expectClosing(r, 1);
      }
      return { kind: 'read_property_multiple', results };
    }
    default:
      r.pos = r.end;
      return NO_ACK;
  }
}

/** The numbers among values (reals, unsigned, signed, enumerated, booleans as 0/1), at most `max`. */
export function numericValues(values: readonly BacnetValue[], max = MAX_VALUES): number[] {
  const out: number[] = [];
  for (const v of values) {
    if (out.length >= max) break;
    switch (v.kind) {
      case 'boolean':
        out.push(v.value ? 1 : 0);
        break;
      case 'unsigned':
      case 'signed':
      case 'real':
      case 'double':
      case 'enumerated':
        out.push(v.value);
        break;
      case 'null':
      case 'string':
      case 'object':
      case 'other':
        break;
    }
  }
  return out;
}
