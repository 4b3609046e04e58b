// EtherNet/IP encapsulation and CIP message decoder: encapsulation header and commands (CIP Vol 2
// §2-3, §2-4), common packet format (Vol 2 §2-6), ListIdentity/ListServices replies (Vol 2 §2-4.2,
// §2-4.3), CIP message router requests and responses (Vol 1 §2-4), EPATH segments (Vol 1 Appendix C),
// Unconnected Send and Forward Open/Close (Vol 1 §3-5.5), Multiple Service Packet (Vol 1 § ),
// Logix tag services (Rockwell 1756-PM020) and the Identity object's attributes (Vol 1 §5-2).

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { TextMemo, formatIpv4, printable } from '../../core/text.ts';
import {
  CLASS,
  COMMAND,
  CPF,
  ENCAP_HEADER_LENGTH,
  LOGIX_TYPE,
  MAX_CIP_DEPTH,
  MAX_CPF_ITEMS,
  MAX_ENCAP_DATA,
  MAX_MSP_SERVICES,
  RESPONSE_BIT,
  SERVICE,
  commandInfo,
} from './constants.ts';

/** Values kept from a write (the first ones). */
export const MAX_VALUES = 16;
/** Longest tag name kept (characters). */
const MAX_SYMBOL = 256;
/** Route hops kept from a path. */
const MAX_HOPS = 8;

export interface EncapHeader {
  readonly command: number;
  /** Bytes of data after the 24-byte header. */
  readonly length: number;
  readonly sessionHandle: number;
  readonly status: number;
  /** The 8-byte sender context as two little-endian halves; replies echo it. */
  readonly contextLo: number;
  readonly contextHi: number;
  readonly options: number;
}

/** One common packet format item; `data` is a view of the message. */
export interface CpfItem {
  readonly type: number;
  readonly length: number;
  readonly data: Uint8Array;
}

/** A hop of a route (port segment): the port and its link address (slot, node, or IP text). */
export interface PortHop {
  readonly port: number;
  /** One-byte link address (backplane slot, node number), or -1 when it is longer. */
  readonly link: number;
  /** Longer link addresses (usually an IP address as ASCII), printable. */
  readonly linkText?: string;
}

export interface ElectronicKey {
  readonly vendorId: number;
  readonly deviceType: number;
  readonly productCode: number;
  readonly compatibility: boolean;
  readonly majorRevision: number;
  readonly minorRevision: number;
}

/** What an EPATH addresses; -1 for logical values that are absent. */
export interface CipPath {
  readonly classId: number;
  readonly instance: number;
  readonly attribute: number;
  readonly member: number;
  readonly connectionPoint: number;
  /** Tag name from ANSI extended symbol segments (0x91), dotted; array indexes as `[n]`. */
  readonly symbol: string;
  readonly hops: readonly PortHop[];
  readonly key?: ElectronicKey;
  /** False when a segment could not be read (the fields hold what came before it). */
  readonly complete: boolean;
}

export interface ForwardOpenRequest {
  readonly kind: 'forward_open';
  readonly large: boolean;
  readonly priorityTick: number;
  readonly timeoutTicks: number;
  readonly otConnectionId: number;
  readonly toConnectionId: number;
  readonly connectionSerial: number;
  readonly originatorVendor: number;
  readonly originatorSerial: number;
  readonly timeoutMultiplier: number;
  /** Requested packet intervals, µs. */
  readonly otRpi: number;
  readonly toRpi: number;
  /** Network connection parameters (16-bit, or 32-bit for Large Forward Open). */
  readonly otParams: number;
  readonly toParams: number;
  /** Transport class and trigger byte: class in the low nibble. */
  readonly transport: number;
  readonly connectionPath: CipPath;
}

export type RequestDetail =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'unconnected_send';
      readonly priorityTick: number;
      readonly timeoutTicks: number;
      /** The request to deliver; null when it could not be decoded. */
      readonly embedded: CipRequest | null;
      readonly route: readonly PortHop[];
    }
  | { readonly kind: 'multiple_service_packet'; readonly count: number; readonly services: readonly CipRequest[] }
  | ForwardOpenRequest
  | {
      readonly kind: 'forward_close';
      readonly connectionSerial: number;
      readonly originatorVendor: number;
      readonly originatorSerial: number;
      readonly connectionPath: CipPath;
    }
  | { readonly kind: 'read_tag'; readonly elements: number; readonly offset: number }
  /** Read Modify Write Tag: OR then AND masks of `maskSize` bytes (little-endian; -1 above 4 bytes). */
  | { readonly kind: 'read_modify_write'; readonly maskSize: number; readonly orMask: number; readonly andMask: number }
  | {
      readonly kind: 'write_tag';
      readonly dataType: number;
      readonly elements: number;
      readonly offset: number;
      /** The first values written, for atomic types. */
      readonly values: readonly number[];
    };

export interface CipRequest {
  readonly kind: 'request';
  readonly service: number;
  readonly path: CipPath;
  /** Request data after the path. */
  readonly data: Uint8Array;
  readonly detail: RequestDetail;
}

export type ResponseDetail =
  | { readonly kind: 'none' }
  | { readonly kind: 'multiple_service_packet'; readonly count: number; readonly replies: readonly CipResponse[] };

export interface CipResponse {
  readonly kind: 'response';
  /** Service code without the response bit. */
  readonly service: number;
  readonly generalStatus: number;
  /** Additional (extended) status words; the first is the usual extended status. */
  readonly extStatus: readonly number[];
  readonly data: Uint8Array;
  readonly detail: ResponseDetail;
}

export type CipMessage = CipRequest | CipResponse;

/** Identity object attributes 1–8 as Get_Attributes_All and ListIdentity carry them (Vol 1 §5-2.2). */
export interface IdentityAttributes {
  readonly vendorId: number;
  readonly deviceType: number;
  readonly productCode: number;
  readonly majorRevision: number;
  readonly minorRevision: number;
  readonly status: number;
  readonly serialNumber: number;
  readonly productName: string;
  /** -1 when absent (the attribute is optional). */
  readonly state: number;
}

export interface ListIdentityItem extends IdentityAttributes {
  readonly encapsulationVersion: number;
  readonly socketFamily: number;
  readonly socketPort: number;
  readonly socketAddress: string;
}

export interface ListServicesItem {
  readonly type: number;
  readonly version: number;
  readonly capabilities: number;
  readonly name: string;
}

export type EnipBody =
  /** A command without data (ListIdentity/ListServices/ListInterfaces requests, NOP). */
  | { readonly kind: 'empty' }
  | { readonly kind: 'register_session'; readonly protocolVersion: number; readonly optionFlags: number }
  | { readonly kind: 'list_identity'; readonly items: readonly ListIdentityItem[] }
  | { readonly kind: 'list_services'; readonly items: readonly ListServicesItem[] }
  /** SendRRData (unconnected) and SendUnitData (connected) with the CIP message they carry, if any. */
  | {
      readonly kind: 'send_data';
      readonly interfaceHandle: number;
      readonly timeout: number;
      readonly items: readonly CpfItem[];
      /** Connected address item (SendUnitData), or -1. */
      readonly connectionId: number;
      /** Sequence count of the connected data item, or -1. */
      readonly sequence: number;
      readonly cip: CipMessage | null;
    }
  /** ListInterfaces replies and other item lists. */
  | { readonly kind: 'items'; readonly items: readonly CpfItem[] }
  | { readonly kind: 'raw'; readonly data: Uint8Array };

export interface EnipMessage extends EncapHeader {
  readonly body: EnipBody;
}

const NO_BYTES = new Uint8Array(0);
const EMPTY: EnipBody = Object.freeze({ kind: 'empty' });
const NO_DETAIL: RequestDetail = Object.freeze({ kind: 'none' });
const NO_REPLY_DETAIL: ResponseDetail = Object.freeze({ kind: 'none' });
const NO_HOPS: readonly PortHop[] = Object.freeze([]);
const NO_NUMBERS: readonly number[] = Object.freeze([]);
const READER = new Reader(NO_BYTES);

// Anomalies of the message being decoded (decoding is synchronous: one list suffices).
const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

/**
 * Frame length of an encapsulation message for PduFramer: 24 + length field. 0 until the header
 * is complete (or the command is already known to be wrong); -1 when the command is not an
 * encapsulation command, the length is above 65511 or the options field is not 0 (Vol 2 §2-3.1:
 * receivers discard such messages). Decided by the header alone.
 */
export function frameEnip(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < 2) return 0;
  if (bytes[1] !== 0 || commandInfo(bytes[0]!) === undefined) return -1;
  if (n < 4) return 0;
  const length = bytes[2]! | (bytes[3]! << 8);
  if (length > MAX_ENCAP_DATA) return -1;
  if (n < ENCAP_HEADER_LENGTH) return 0;
  if ((bytes[20]! | bytes[21]! | bytes[22]! | bytes[23]!) !== 0) return -1;
  return ENCAP_HEADER_LENGTH + length;
}

/**
 * Decodes one encapsulation message at the start of `bytes`. `consumed` is 24 + length; bytes after
 * it are ignored. Out-of-specification values that still decode are anomalies; fields shorter than
 * their lengths are `malformed('enip.truncated')`.
 */
export function decodeEnip(bytes: Uint8Array): Decoded<EnipMessage> {
  const framed = frameEnip(bytes);
  if (framed < 0) {
    if (bytes.length >= 2 && (bytes[1] !== 0 || commandInfo(bytes[0]!) === undefined))
      return malformed('enip.bad_command', 0);
    if (bytes.length >= 4 && (bytes[2]! | (bytes[3]! << 8)) > MAX_ENCAP_DATA) return malformed('enip.bad_length', 2);
    return malformed('enip.bad_options', 20);
  }
  if (framed === 0) return incomplete(ENCAP_HEADER_LENGTH);
  if (bytes.length < framed) return incomplete(framed);
  found.length = 0;
  const r = READER.reset(bytes, 0, framed);
  try {
    const msg = decodeMessage(r);
    return found.length === 0 ? ok(msg, framed) : ok(msg, framed, found.slice());
  } catch (e) {
    if (e instanceof ShortRead) return malformed('enip.truncated', e.offset);
    throw e;
  }
}

function decodeMessage(r: Reader): EnipMessage {
  const command = r.u16le();
  const length = r.u16le();
  const sessionHandle = r.u32le();
  const status = r.u32le();
  const contextLo = r.u32le();
  const contextHi = r.u32le();
  const options = r.u32le();
  if (length === 0) return { command, length, sessionHandle, status, contextLo, contextHi, options, body: EMPTY };
  const body = decodeBody(r, command);
  if (r.remaining > 0) weird('enip.trailing_bytes');
  return { command, length, sessionHandle, status, contextLo, contextHi, options, body };
}

function decodeBody(r: Reader, command: number): EnipBody {
  switch (command) {
    case COMMAND.registerSession:
      return { kind: 'register_session', protocolVersion: r.u16le(), optionFlags: r.u16le() };
    case COMMAND.listIdentity: {
      const items = decodeItems(r);
      const out: ListIdentityItem[] = [];
      for (const it of items) {
        if (it.type === CPF.listIdentity) out.push(decodeListIdentityItem(new Reader(it.data)));
        else weird('enip.unexpected_item');
      }
      return { kind: 'list_identity', items: out };
    }
    case COMMAND.listServices: {
      const items = decodeItems(r);
      const out: ListServicesItem[] = [];
      for (const it of items) {
        const s = new Reader(it.data);
        out.push({
          type: it.type,
          version: s.u16le(),
          capabilities: s.u16le(),
          name: printable(s.take(Math.min(16, s.remaining)), 16),
        });
      }
      return { kind: 'list_services', items: out };
    }
    case COMMAND.listInterfaces:
      return { kind: 'items', items: decodeItems(r) };
    case COMMAND.sendRRData:
    case COMMAND.sendUnitData:
      return decodeSendData(r, command === COMMAND.sendUnitData);
    default:
      return { kind: 'raw', data: r.take(r.remaining) };
  }
}

function decodeItems(r: Reader): CpfItem[] {
  const count = r.u16le();
  if (count > MAX_CPF_ITEMS) weird('enip.too_many_items');
  // Each item takes at least 4 bytes, so the message length bounds the loop; past MAX_CPF_ITEMS
  // items are read (to check the framing) but not kept.
  const items: CpfItem[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.u16le();
    const length = r.u16le();
    const data = r.take(length);
    if (i < MAX_CPF_ITEMS) items.push({ type, length, data });
  }
  return items;
}

function decodeSendData(r: Reader, connected: boolean): EnipBody {
  const interfaceHandle = r.u32le();
  const timeout = r.u16le();
  const items = decodeItems(r);
  if (interfaceHandle !== 0) weird('enip.bad_interface_handle');
  let connectionId = -1;
  let sequence = -1;
  let cip: CipMessage | null = null;
  for (const it of items) {
    switch (it.type) {
      case CPF.connectedAddress:
        if (it.length === 4) connectionId = u32le(it.data, 0);
        else weird('enip.bad_item_length');
        break;
      case CPF.unconnectedData:
        if (connected) weird('enip.unexpected_item');
        if (it.length > 0 && cip === null) cip = decodeCipIn(it.data, 0);
        break;
      case CPF.connectedData:
        if (!connected) weird('enip.unexpected_item');
        if (it.length >= 2) {
          sequence = it.data[0]! | (it.data[1]! << 8);
          if (it.length > 2 && cip === null) cip = decodeCipIn(it.data.subarray(2), 0);
        } else weird('enip.bad_item_length');
        break;
      case CPF.nullAddress:
        if (it.length !== 0) weird('enip.bad_item_length');
        break;
      case CPF.sockaddrOT:
      case CPF.sockaddrTO:
      case CPF.sequencedAddress:
        break;
      default:
        weird('enip.unexpected_item');
    }
  }
  return { kind: 'send_data', interfaceHandle, timeout, items, connectionId, sequence, cip };
}

function decodeListIdentityItem(s: Reader): ListIdentityItem {
  const encapsulationVersion = s.u16le();
  // The socket address is big-endian (sockaddr_in in network order, Vol 2 §2-6.3.2).
  const socketFamily = s.u16();
  const socketPort = s.u16();
  const socketAddress = formatIpv4(s.u32());
  s.skip(8);
  return { encapsulationVersion, socketFamily, socketPort, socketAddress, ...decodeIdentityFrom(s) };
}

function decodeIdentityFrom(s: Reader): IdentityAttributes {
  const vendorId = s.u16le();
  const deviceType = s.u16le();
  const productCode = s.u16le();
  const majorRevision = s.u8();
  const minorRevision = s.u8();
  const status = s.u16le();
  const serialNumber = s.u32le();
  const nameLength = s.u8();
  const productName = printable(s.take(nameLength), 255);
  const state = s.remaining > 0 ? s.u8() : -1;
  return { vendorId, deviceType, productCode, majorRevision, minorRevision, status, serialNumber, productName, state };
}

/**
 * The Identity object's attributes from a Get_Attributes_All reply (class 1), or null when the data
 * is too short for them.
 */
export function decodeIdentityAttributes(data: Uint8Array): IdentityAttributes | null {
  try {
    return decodeIdentityFrom(new Reader(data));
  } catch (e) {
    if (e instanceof ShortRead) return null;
    throw e;
  }
}

/** Forward Open reply data (Vol 1 Table 3-5.18). */
export interface ForwardOpenReply {
  readonly otConnectionId: number;
  readonly toConnectionId: number;
  readonly connectionSerial: number;
  readonly originatorVendor: number;
  readonly originatorSerial: number;
  /** Actual packet intervals, µs. */
  readonly otApi: number;
  readonly toApi: number;
}

/** The data of a successful Forward Open / Large Forward Open reply, or null when too short. */
export function decodeForwardOpenReply(data: Uint8Array): ForwardOpenReply | null {
  if (data.length < 26) return null;
  return {
    otConnectionId: u32le(data, 0),
    toConnectionId: u32le(data, 4),
    connectionSerial: u16le(data, 8),
    originatorVendor: u16le(data, 10),
    originatorSerial: u32le(data, 12),
    otApi: u32le(data, 16),
    toApi: u32le(data, 20),
  };
}

/**
 * Decodes a CIP message (request or response) from its own bytes. Never throws: a message too
 * short for its fields is `malformed('enip.bad_cip')`.
 */
export function decodeCip(bytes: Uint8Array): Decoded<CipMessage> {
  found.length = 0;
  try {
    const m = decodeCipMessage(new Reader(bytes), 0);
    return found.length === 0 ? ok(m, bytes.length) : ok(m, bytes.length, found.slice());
  } catch (e) {
    if (e instanceof ShortRead) return malformed('enip.bad_cip', e.offset);
    throw e;
  }
}

/** A CIP message inside an item: a short one is an anomaly of the enclosing message, not fatal. */
function decodeCipIn(bytes: Uint8Array, depth: number): CipMessage | null {
  try {
    return decodeCipMessage(new Reader(bytes), depth);
  } catch (e) {
    if (e instanceof ShortRead) {
      weird('enip.bad_cip');
      return null;
    }
    throw e;
  }
}

function decodeCipMessage(r: Reader, depth: number): CipMessage {
  const sc = r.u8();
  if (sc & RESPONSE_BIT) return decodeResponse(r, sc & 0x7f, depth);
  return decodeRequest(r, sc, depth);
}

function decodeRequest(r: Reader, service: number, depth: number): CipRequest {
  const words = r.u8();
  const path = decodePath(r.take(words * 2));
  if (!path.complete) weird('enip.bad_path');
  const data = r.remaining > 0 ? r.take(r.remaining) : NO_BYTES;
  const detail = decodeRequestDetail(service, path, data, depth);
  return { kind: 'request', service, path, data, detail };
}

function decodeResponse(r: Reader, service: number, depth: number): CipResponse {
  r.skip(1); // reserved
  const generalStatus = r.u8();
  const extWords = r.u8();
  let extStatus = NO_NUMBERS;
  if (extWords > 0) {
    const ext: number[] = [];
    for (let i = 0; i < extWords; i++) ext.push(r.u16le());
    extStatus = ext;
  }
  const data = r.remaining > 0 ? r.take(r.remaining) : NO_BYTES;
  let detail = NO_REPLY_DETAIL;
  if (service === SERVICE.multipleServicePacket && data.length >= 2 && depth < MAX_CIP_DEPTH) {
    const m = decodeMultiple(data, depth, false);
    detail = { kind: 'multiple_service_packet', count: m.count, replies: m.messages as CipResponse[] };
  }
  return { kind: 'response', service, generalStatus, extStatus, data, detail };
}

function decodeRequestDetail(service: number, path: CipPath, data: Uint8Array, depth: number): RequestDetail {
  const cls = path.classId;
  if (service === SERVICE.multipleServicePacket) {
    if (depth >= MAX_CIP_DEPTH) return NO_DETAIL;
    const m = decodeMultiple(data, depth, true);
    return { kind: 'multiple_service_packet', count: m.count, services: m.messages as CipRequest[] };
  }
  if (cls === CLASS.connectionManager) {
    switch (service) {
      case SERVICE.unconnectedSend:
        return depth < MAX_CIP_DEPTH ? decodeUnconnectedSend(data, depth) : NO_DETAIL;
      case SERVICE.forwardOpen:
      case SERVICE.largeForwardOpen:
        return decodeForwardOpen(data, service === SERVICE.largeForwardOpen);
      case SERVICE.forwardClose:
        return decodeForwardClose(data);
      default:
        return NO_DETAIL;
    }
  }
  if (cls === CLASS.symbol || (cls < 0 && path.symbol !== '')) {
    switch (service) {
      case SERVICE.readTag:
        return data.length >= 2 ? { kind: 'read_tag', elements: u16le(data, 0), offset: 0 } : badTagData();
      case SERVICE.readTagFragmented:
        return data.length >= 6 ? { kind: 'read_tag', elements: u16le(data, 0), offset: u32le(data, 2) } : badTagData();
      case SERVICE.writeTag:
      case SERVICE.writeTagFragmented:
        return decodeWriteTag(data, service === SERVICE.writeTagFragmented);
      case SERVICE.readModifyWriteTag:
        return decodeReadModifyWrite(data);
      default:
        return NO_DETAIL;
    }
  }
  return NO_DETAIL;
}

function badTagData(): RequestDetail {
  weird('enip.bad_tag_request');
  return NO_DETAIL;
}

/** Unconnected Send request data (Vol 1 Table 3-5.20). */
function decodeUnconnectedSend(data: Uint8Array, depth: number): RequestDetail {
  const r = new Reader(data);
  try {
    const priorityTick = r.u8();
    const timeoutTicks = r.u8();
    const size = r.u16le();
    const message = r.take(size);
    if (size & 1) r.skip(1); // pad byte
    const routeWords = r.u8();
    r.skip(1); // reserved
    const route = decodePath(r.take(routeWords * 2));
    if (!route.complete) weird('enip.bad_path');
    if (r.remaining > 0) weird('enip.trailing_bytes');
    const inner = decodeCipIn(message, depth + 1);
    let embedded: CipRequest | null = null;
    if (inner !== null && inner.kind === 'request') embedded = inner;
    else if (inner !== null) weird('enip.bad_embedded_message');
    return { kind: 'unconnected_send', priorityTick, timeoutTicks, embedded, route: route.hops };
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    weird('enip.bad_unconnected_send');
    return NO_DETAIL;
  }
}

/**
 * Multiple Service Packet data (Vol 1 § ): a count, offsets from the start of the count, and
 * the embedded requests (or replies) between consecutive offsets.
 */
function decodeMultiple(data: Uint8Array, depth: number, requests: boolean): { count: number; messages: CipMessage[] } {
  const messages: CipMessage[] = [];
  if (data.length < 2) {
    weird('enip.bad_multiple_service_packet');
    return { count: 0, messages };
  }
  const count = u16le(data, 0);
  if (2 + 2 * count > data.length) {
    weird('enip.bad_multiple_service_packet');
    return { count, messages };
  }
  if (count > MAX_MSP_SERVICES) weird('enip.too_many_services');
  const n = Math.min(count, MAX_MSP_SERVICES);
  for (let i = 0; i < n; i++) {
    const start = u16le(data, 2 + 2 * i);
    const end = i + 1 < count ? u16le(data, 4 + 2 * i) : data.length;
    if (start < 2 + 2 * count || end > data.length || start >= end) {
      weird('enip.bad_multiple_service_packet');
      break;
    }
    const m = decodeCipIn(data.subarray(start, end), depth + 1);
    if (m === null) break;
    if ((m.kind === 'request') !== requests) {
      weird('enip.bad_multiple_service_packet');
      break;
    }
    messages.push(m);
  }
  return { count, messages };
}

function decodeForwardOpen(data: Uint8Array, large: boolean): RequestDetail {
  const r = new Reader(data);
  try {
    const priorityTick = r.u8();
    const timeoutTicks = r.u8();
    const otConnectionId = r.u32le();
    const toConnectionId = r.u32le();
    const connectionSerial = r.u16le();
    const originatorVendor = r.u16le();
    const originatorSerial = r.u32le();
    const timeoutMultiplier = r.u8();
    r.skip(3);
    const otRpi = r.u32le();
    const otParams = large ? r.u32le() : r.u16le();
    const toRpi = r.u32le();
    const toParams = large ? r.u32le() : r.u16le();
    const transport = r.u8();
    const words = r.u8();
    const connectionPath = decodePath(r.take(words * 2));
    if (!connectionPath.complete) weird('enip.bad_path');
    return {
      kind: 'forward_open',
      large,
      priorityTick,
      timeoutTicks,
      otConnectionId,
      toConnectionId,
      connectionSerial,
      originatorVendor,
      originatorSerial,
      timeoutMultiplier,
      otRpi,
      toRpi,
      otParams,
      toParams,
      transport,
      connectionPath,
    };
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    weird('enip.bad_forward_open');
    return NO_DETAIL;
  }
}

function decodeForwardClose(data: Uint8Array): RequestDetail {
  const r = new Reader(data);
  try {
    r.skip(2); // priority/tick, timeout ticks
    const connectionSerial = r.u16le();
    const originatorVendor = r.u16le();
    const originatorSerial = r.u32le();
    const words = r.u8();
    r.skip(1);
    const connectionPath = decodePath(r.take(words * 2));
    return { kind: 'forward_close', connectionSerial, originatorVendor, originatorSerial, connectionPath };
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    weird('enip.bad_forward_close');
    return NO_DETAIL;
  }
}

/** Write Tag (0x4D) and Write Tag Fragmented (0x53) request data (1756-PM020). */
function decodeWriteTag(data: Uint8Array, fragmented: boolean): RequestDetail {
  const r = new Reader(data);
  try {
    const dataType = r.u16le();
    if (dataType === LOGIX_TYPE.struct) r.skip(2); // structure handle
    const elements = r.u16le();
    const offset = fragmented ? r.u32le() : 0;
    const values = atomicValues(dataType, r.bytes.subarray(r.pos, r.end), elements);
    return { kind: 'write_tag', dataType, elements, offset, values };
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    return badTagData();
  }
}

/** Read Modify Write Tag (0x4E) request data: mask size, OR masks, AND masks (1756-PM020). */
function decodeReadModifyWrite(data: Uint8Array): RequestDetail {
  if (data.length < 2) return badTagData();
  const maskSize = u16le(data, 0);
  if (data.length < 2 + 2 * maskSize || maskSize === 0) return badTagData();
  return {
    kind: 'read_modify_write',
    maskSize,
    orMask: maskSize <= 4 ? leBytes(data, 2, maskSize) : -1,
    andMask: maskSize <= 4 ? leBytes(data, 2 + maskSize, maskSize) : -1,
  };
}

/** The `n`-byte little-endian unsigned value at `b[o]`. */
export function leBytes(b: Uint8Array, o: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[o + i]!;
  return v;
}

const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/** Up to MAX_VALUES little-endian values of a Logix atomic type (none for structures and strings). */
export function atomicValues(dataType: number, b: Uint8Array, elements: number): number[] {
  const size = typeSize(dataType);
  if (size === 0) return [];
  const n = Math.min(elements, Math.floor(b.length / size), MAX_VALUES);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (dataType) {
      case LOGIX_TYPE.bool:
        out.push(b[o]! !== 0 ? 1 : 0);
        break;
      case LOGIX_TYPE.sint:
        out.push((b[o]! << 24) >> 24);
        break;
      case LOGIX_TYPE.usint:
        out.push(b[o]!);
        break;
      case LOGIX_TYPE.int:
        out.push((u16le(b, o) << 16) >> 16);
        break;
      case LOGIX_TYPE.uint:
        out.push(u16le(b, o));
        break;
      case LOGIX_TYPE.dint:
        out.push(u32le(b, o) | 0);
        break;
      case LOGIX_TYPE.udint:
        out.push(u32le(b, o));
        break;
      case LOGIX_TYPE.lint:
        out.push((u32le(b, o + 4) | 0) * 2 ** 32 + u32le(b, o));
        break;
      case LOGIX_TYPE.ulint:
        out.push(u32le(b, o + 4) * 2 ** 32 + u32le(b, o));
        break;
      case LOGIX_TYPE.real:
        F32_BYTES.set(b.subarray(o, o + 4));
        out.push(F32[0]!);
        break;
      case LOGIX_TYPE.lreal:
        F64_BYTES.set(b.subarray(o, o + 8));
        out.push(F64[0]!);
        break;
    }
  }
  return out;
}

function typeSize(t: number): number {
  switch (t) {
    case LOGIX_TYPE.bool:
    case LOGIX_TYPE.sint:
    case LOGIX_TYPE.usint:
      return 1;
    case LOGIX_TYPE.int:
    case LOGIX_TYPE.uint:
      return 2;
    case LOGIX_TYPE.dint:
    case LOGIX_TYPE.udint:
    case LOGIX_TYPE.real:
      return 4;
    case LOGIX_TYPE.lint:
    case LOGIX_TYPE.ulint:
    case LOGIX_TYPE.lreal:
      return 8;
    default:
      return 0;
  }
}

/**
 * Decodes a padded EPATH (Vol 1 Appendix C-1): port, logical (8/16/32-bit class, instance,
 * member, connection point, attribute; electronic key), network, symbolic and data (simple, ANSI
 * extended symbol) segments. Never throws; `complete` is false when a segment is cut short or of a
 * kind not expected in a message path (data type segments, reserved types).
 */
export function decodePath(b: Uint8Array): CipPath {
  let classId = -1;
  let instance = -1;
  let attribute = -1;
  let member = -1;
  let connectionPoint = -1;
  let symbol = '';
  let hops: PortHop[] | null = null;
  let key: ElectronicKey | undefined;
  let complete = true;
  const end = b.length;
  let p = 0;
  while (p < end) {
    const seg = b[p]!;
    const type = seg >> 5;
    if (type === 0) {
      // Port segment: [seg][link size if extended][port u16 if 15][link][pad to even]
      const extendedLink = (seg & 0x10) !== 0;
      let port = seg & 0x0f;
      let q = p + 1;
      let linkSize = 1;
      if (extendedLink) {
        if (q >= end) {
          complete = false;
          break;
        }
        linkSize = b[q++]!;
      }
      if (port === 15) {
        if (q + 2 > end) {
          complete = false;
          break;
        }
        port = u16le(b, q);
        q += 2;
      }
      if (q + linkSize > end) {
        complete = false;
        break;
      }
      const hop: PortHop =
        linkSize === 1
          ? { port, link: b[q]! }
          : { port, link: -1, linkText: printable(b.subarray(q, q + linkSize), 64) };
      q += linkSize;
      if ((q - p) & 1) q++;
      hops ??= [];
      if (hops.length < MAX_HOPS) hops.push(hop);
      p = q;
      continue;
    }
    if (type === 1) {
      const logical = (seg >> 2) & 7;
      const format = seg & 3;
      if (logical === 5) {
        // Special: electronic key (format 0, key format 4, 8 bytes of key data).
        if (format !== 0 || p + 10 > end || b[p + 1] !== 4) {
          complete = false;
          break;
        }
        const mj = b[p + 8]!;
        key = {
          vendorId: u16le(b, p + 2),
          deviceType: u16le(b, p + 4),
          productCode: u16le(b, p + 6),
          compatibility: (mj & 0x80) !== 0,
          majorRevision: mj & 0x7f,
          minorRevision: b[p + 9]!,
        };
        p += 10;
        continue;
      }
      let value: number;
      if (format === 0) {
        if (p + 2 > end) {
          complete = false;
          break;
        }
        value = b[p + 1]!;
        p += 2;
      } else if (format === 1) {
        if (p + 4 > end) {
          complete = false;
          break;
        }
        value = u16le(b, p + 2);
        p += 4;
      } else if (format === 2) {
        if (p + 6 > end) {
          complete = false;
          break;
        }
        value = u32le(b, p + 2);
        p += 6;
      } else {
        complete = false;
        break;
      }
      switch (logical) {
        case 0:
          if (classId < 0) classId = value;
          break;
        case 1:
          if (instance < 0) instance = value;
          break;
        case 2:
          // After a tag name a member segment is an array index.
          if (symbol !== '' && symbol.length < MAX_SYMBOL) symbol += `[${value}]`;
          else if (member < 0) member = value;
          break;
        case 3:
          if (connectionPoint < 0) connectionPoint = value;
          break;
        case 4:
          if (attribute < 0) attribute = value;
          break;
        default:
          // 6: service id, 7: reserved
          break;
      }
      continue;
    }
    if (type === 2) {
      // Network segment: subtypes with bit 4 set carry a word count, the others one byte.
      if (p + 2 > end) {
        complete = false;
        break;
      }
      p += seg & 0x10 ? 2 + 2 * b[p + 1]! : 2;
      continue;
    }
    if (type === 3) {
      // Symbolic segment: size in the low bits, then ASCII; size 0 is the extended format.
      const size = seg & 0x1f;
      if (size === 0 || p + 1 + size > end) {
        complete = false;
        break;
      }
      symbol = appendSymbol(symbol, b, p + 1, size);
      p += 1 + size + (size & 1 ? 0 : 1);
      continue;
    }
    if (seg === 0x91) {
      // ANSI extended symbol segment: length, characters, pad to even.
      if (p + 2 > end) {
        complete = false;
        break;
      }
      const len = b[p + 1]!;
      if (p + 2 + len > end) {
        complete = false;
        break;
      }
      symbol = appendSymbol(symbol, b, p + 2, len);
      p += 2 + len + (len & 1);
      continue;
    }
    if (seg === 0x80) {
      // Simple data segment: word count, data (configuration data of a Forward Open).
      if (p + 2 > end) {
        complete = false;
        break;
      }
      p += 2 + 2 * b[p + 1]!;
      continue;
    }
    complete = false;
    break;
  }
  if (p > end) complete = false;
  const path = { classId, instance, attribute, member, connectionPoint, symbol, hops: hops ?? NO_HOPS, complete };
  return key === undefined ? path : { ...path, key };
}

/** Tag names repeat in every poll: decoded once per distinct name. */
const SYMBOLS = new TextMemo(256, 64);

/** `symbol` with the name segment `b[off, off + len)` appended (dotted), bounded. */
function appendSymbol(symbol: string, b: Uint8Array, off: number, len: number): string {
  if (symbol.length >= MAX_SYMBOL) return symbol;
  const s = SYMBOLS.printable(b, off, len, MAX_SYMBOL);
  return (symbol === '' ? s : `${symbol}.${s}`).slice(0, MAX_SYMBOL);
}

export function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/**
 * Calls `each(code)` for every CIP service of a message in tshark's order (cip.sc): the message's
 * own service, then the embedded message of an Unconnected Send, the services of a Multiple Service
 * Packet request, or the replies of its response.
 */
export function forEachCipService(m: CipMessage, each: (service: number) => void): void {
  each(m.service);
  if (m.kind === 'request') {
    const d = m.detail;
    if (d.kind === 'unconnected_send') {
      if (d.embedded !== null) forEachCipService(d.embedded, each);
    } else if (d.kind === 'multiple_service_packet') {
      for (const s of d.services) forEachCipService(s, each);
    }
  } else if (m.detail.kind === 'multiple_service_packet') {
    for (const s of m.detail.replies) forEachCipService(s, each);
  }
}
