// OPC UA binary decoder: UA Connection Protocol messages (OPC 10000-6 §7.1.2: HEL, ACK, ERR, RHE),
// UA Secure Conversation chunks (§6.7: OPN with the asymmetric, MSG/CLO with the symmetric security
// header, sequence header), and the service body when it is plain text (§5.2 binary encoding;
// request/response structures of OPC 10000-4).

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { utf8Text } from '../../core/text.ts';
import {
  CHUNK,
  HEADER_LENGTH,
  MAX_MESSAGE_SIZE,
  MAX_URL_LENGTH,
  MIN_BUFFER_SIZE,
  MIN_SIZE,
  SERVICE_FAULT,
  SVC,
  lookupService,
  messageTypeName,
  securityPolicyName,
  statusCodeName,
  unknownService,
  type MessageTypeName,
  type ServiceInfo,
  type ServiceRole,
} from './constants.ts';

export interface OpcUaHeader {
  /** The three type letters packed big-endian (`HEL` = 0x48454c). */
  readonly messageType: number;
  readonly type: MessageTypeName;
  /** `F` final, `C` intermediate, `A` abort. */
  readonly chunkType: 'F' | 'C' | 'A';
  readonly messageSize: number;
}

export interface ApplicationDescription {
  readonly applicationUri: string;
  readonly productUri: string;
  /** Text of the ApplicationName LocalizedText. */
  readonly applicationName: string;
  readonly applicationType: number;
  /** The first DiscoveryUrls (at most MAX_KEPT). */
  readonly discoveryUrls: readonly string[];
}

export interface EndpointDescription {
  readonly endpointUrl: string;
  readonly server: ApplicationDescription;
  readonly securityMode: number;
  readonly securityPolicyUri: string;
  readonly securityLevel: number;
}

/** What was read after the request/response header; bodies of other services are not decoded. */
export type ServiceDetails =
  | { readonly kind: 'none' }
  /** Requests addressing a list (nodes to read/write, methods, items): its length, and values written. */
  | { readonly kind: 'count'; readonly count: number; readonly values: readonly number[] }
  | {
      readonly kind: 'open_request';
      readonly clientProtocolVersion: number;
      readonly requestType: number;
      readonly securityMode: number;
      readonly requestedLifetime: number;
    }
  | {
      readonly kind: 'open_response';
      readonly serverProtocolVersion: number;
      readonly channelId: number;
      readonly tokenId: number;
      readonly revisedLifetime: number;
    }
  | {
      readonly kind: 'create_session_request';
      readonly client: ApplicationDescription;
      readonly serverUri: string;
      readonly endpointUrl: string;
      readonly sessionName: string;
    }
  /** GetEndpoints and CreateSession responses: the first endpoints and how many there were. */
  | { readonly kind: 'endpoints'; readonly total: number; readonly endpoints: readonly EndpointDescription[] }
  /** FindServers response. */
  | { readonly kind: 'servers'; readonly total: number; readonly servers: readonly ApplicationDescription[] };

export interface ServiceBody {
  /** Numeric identifier of the body's TypeId (an encoding NodeId), or -1 when it is not numeric. */
  readonly typeId: number;
  readonly namespace: number;
  readonly service: ServiceInfo;
  /** 'unknown' for TypeIds outside the service table (or outside namespace 0). */
  readonly role: ServiceRole | 'unknown';
  /** RequestHandle of the request or response header; -1 when the header was not read. */
  readonly requestHandle: number;
  /** ServiceResult of a response header (a ServiceFault's reason); 0 for requests. */
  readonly serviceResult: number;
  readonly details: ServiceDetails;
}

export type OpcUaMessage =
  | {
      readonly kind: 'hello';
      readonly header: OpcUaHeader;
      readonly protocolVersion: number;
      readonly receiveBufferSize: number;
      readonly sendBufferSize: number;
      readonly maxMessageSize: number;
      readonly maxChunkCount: number;
      readonly endpointUrl: string;
    }
  | {
      readonly kind: 'acknowledge';
      readonly header: OpcUaHeader;
      readonly protocolVersion: number;
      readonly receiveBufferSize: number;
      readonly sendBufferSize: number;
      readonly maxMessageSize: number;
      readonly maxChunkCount: number;
    }
  | {
      readonly kind: 'error';
      readonly header: OpcUaHeader;
      readonly error: number;
      readonly errorName: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'reverse_hello';
      readonly header: OpcUaHeader;
      readonly serverUri: string;
      readonly endpointUrl: string;
    }
  | {
      readonly kind: 'open';
      readonly header: OpcUaHeader;
      readonly secureChannelId: number;
      readonly securityPolicyUri: string;
      /** Short name: None, Basic256Sha256, ... (the URI itself when it is not a standard one). */
      readonly securityPolicy: string;
      /** Lengths of SenderCertificate and ReceiverCertificateThumbprint; -1 when null. */
      readonly senderCertificateLength: number;
      readonly receiverThumbprintLength: number;
      /** Sequence header and body are readable only when the policy is None; -1 / null otherwise. */
      readonly sequenceNumber: number;
      readonly requestId: number;
      readonly body: ServiceBody | null;
    }
  | {
      readonly kind: 'message' | 'close';
      readonly header: OpcUaHeader;
      readonly secureChannelId: number;
      readonly tokenId: number;
      /** -1 when the chunk was decoded as encrypted (`plain` false). */
      readonly sequenceNumber: number;
      readonly requestId: number;
      /** Service body of a plain F or C chunk (the first chunk of a message carries the TypeId). */
      readonly body: ServiceBody | null;
      /** An abort chunk's Error and Reason (§6.7.3). */
      readonly abort: { readonly error: number; readonly reason: string } | null;
    };

/** Endpoints, servers and discovery URLs kept per message (the counts are reported whole). */
export const MAX_KEPT = 16;
/** Values of a WriteRequest kept (the first ones written; OperationEvent.values holds 16). */
export const MAX_VALUES = 16;
/** Array lengths above this are not believed, whatever the bytes left. */
const MAX_ARRAY = 1_000_000;
/** Nesting of DiagnosticInfo, Variant and DataValue followed before giving up. */
const MAX_DEPTH = 8;
/** Characters kept of URIs, URLs and names. */
const MAX_TEXT = 512;

/** A field that cannot be valid whatever follows (bad length, unknown encoding). */
class BadField extends Error {
  readonly code: string;
  readonly offset: number;
  constructor(code: string, offset: number) {
    super(code);
    this.code = code;
    this.offset = offset;
  }
}

const NO_BYTES = new Uint8Array(0);
/** One reader for all messages: decoding is synchronous and never re-entrant. */
const READER = new Reader(NO_BYTES);
const NONE: ServiceDetails = Object.freeze({ kind: 'none' });
const NO_VALUES: readonly number[] = Object.freeze([]);

// Anomalies of the message being decoded (module-level: decoding is synchronous).
const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

function chunkOf(c: number): 'F' | 'C' | 'A' | null {
  return c === CHUNK.final ? 'F' : c === CHUNK.intermediate ? 'C' : c === CHUNK.abort ? 'A' : null;
}

/**
 * Frame length of one chunk for PduFramer: its MessageSize; 0 until the 8 header bytes are present
 * (earlier when the first letters already rule it out); -1 when the type is not one of the seven,
 * the chunk type is not F/C/A (HEL, ACK, ERR and RHE are always F), or the size is below the type's
 * minimum or above 16 MiB. Decided by the header alone.
 */
export function frameOpcUa(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n >= 1) {
    const c = bytes[0]!;
    // H(EL) A(CK) E(RR) R(HE) O(PN) M(SG) C(LO)
    if (c !== 0x48 && c !== 0x41 && c !== 0x45 && c !== 0x52 && c !== 0x4f && c !== 0x4d && c !== 0x43) return -1;
  }
  if (n < 3) return 0;
  const type = messageTypeName((bytes[0]! << 16) | (bytes[1]! << 8) | bytes[2]!);
  if (type === null) return -1;
  if (n < 4) return 0;
  const chunk = chunkOf(bytes[3]!);
  if (chunk === null) return -1;
  if (chunk !== 'F' && type !== 'OPN' && type !== 'MSG' && type !== 'CLO') return -1;
  if (n < HEADER_LENGTH) return 0;
  const size = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  if (size < MIN_SIZE[type] || size > MAX_MESSAGE_SIZE) return -1;
  return size;
}

/**
 * Decodes one chunk at the start of `bytes` (bytes after MessageSize are ignored).
 *
 * - `plain`: whether the symmetric part of MSG/CLO chunks is readable, i.e. the channel's policy is
 *   None (the caller knows it from the OPN). When false only SecureChannelId and TokenId are read.
 *   OPN decides for itself from its SecurityPolicyUri.
 * - `body`: whether to decode the service body (false for the continuation chunks of a message).
 *
 * Header and security header faults are `malformed`; a service body that stops short in a final
 * chunk is the anomaly `opcua.truncated_body` (in an intermediate chunk that is expected).
 */
export function decodeOpcUa(bytes: Uint8Array, plain = true, body = true): Decoded<OpcUaMessage> {
  const n = bytes.length;
  if (n < HEADER_LENGTH) return incomplete(HEADER_LENGTH);
  const packed = (bytes[0]! << 16) | (bytes[1]! << 8) | bytes[2]!;
  const type = messageTypeName(packed);
  if (type === null) return malformed('opcua.bad_message_type', 0);
  const chunkType = chunkOf(bytes[3]!);
  if (chunkType === null || (chunkType !== 'F' && type !== 'OPN' && type !== 'MSG' && type !== 'CLO'))
    return malformed('opcua.bad_chunk_type', 3);
  const size = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  if (size < MIN_SIZE[type] || size > MAX_MESSAGE_SIZE) return malformed('opcua.bad_message_size', 4);
  if (n < size) return incomplete(size);
  const header: OpcUaHeader = { messageType: packed, type, chunkType, messageSize: size };
  found.length = 0;
  const r = READER.reset(bytes, HEADER_LENGTH, size);
  try {
    const value = decodeAfterHeader(r, header, plain, body);
    const anomalies = found.length === 0 ? undefined : found.slice();
    return ok(value, size, anomalies);
  } catch (e) {
    if (e instanceof ShortRead) return malformed('opcua.truncated', e.offset);
    if (e instanceof BadField) return malformed(e.code, e.offset);
    throw e;
  } finally {
    READER.reset(NO_BYTES);
  }
}

function decodeAfterHeader(r: Reader, header: OpcUaHeader, plain: boolean, wantBody: boolean): OpcUaMessage {
  switch (header.type) {
    case 'HEL': {
      const protocolVersion = r.u32le();
      const receiveBufferSize = r.u32le();
      const sendBufferSize = r.u32le();
      const maxMessageSize = r.u32le();
      const maxChunkCount = r.u32le();
      const endpointUrl = readUrl(r);
      if (receiveBufferSize < MIN_BUFFER_SIZE || sendBufferSize < MIN_BUFFER_SIZE) weird('opcua.bad_buffer_size');
      trailing(r);
      return {
        kind: 'hello',
        header,
        protocolVersion,
        receiveBufferSize,
        sendBufferSize,
        maxMessageSize,
        maxChunkCount,
        endpointUrl,
      };
    }
    case 'ACK': {
      const protocolVersion = r.u32le();
      const receiveBufferSize = r.u32le();
      const sendBufferSize = r.u32le();
      const maxMessageSize = r.u32le();
      const maxChunkCount = r.u32le();
      if (receiveBufferSize < MIN_BUFFER_SIZE || sendBufferSize < MIN_BUFFER_SIZE) weird('opcua.bad_buffer_size');
      trailing(r);
      return {
        kind: 'acknowledge',
        header,
        protocolVersion,
        receiveBufferSize,
        sendBufferSize,
        maxMessageSize,
        maxChunkCount,
      };
    }
    case 'ERR': {
      const error = r.u32le();
      const reason = readText(r);
      trailing(r);
      return { kind: 'error', header, error, errorName: statusCodeName(error), reason };
    }
    case 'RHE': {
      const serverUri = readUrl(r);
      const endpointUrl = readUrl(r);
      trailing(r);
      return { kind: 'reverse_hello', header, serverUri, endpointUrl };
    }
    case 'OPN': {
      const secureChannelId = r.u32le();
      const securityPolicyUri = readText(r);
      const senderCertificateLength = skipBytes(r);
      const receiverThumbprintLength = skipBytes(r);
      const securityPolicy = securityPolicyName(securityPolicyUri);
      let sequenceNumber = -1;
      let requestId = -1;
      let body: ServiceBody | null = null;
      if (securityPolicy === 'None') {
        sequenceNumber = r.u32le();
        requestId = r.u32le();
        if (wantBody) body = readBody(r, header.chunkType === 'F');
      }
      return {
        kind: 'open',
        header,
        secureChannelId,
        securityPolicyUri,
        securityPolicy,
        senderCertificateLength,
        receiverThumbprintLength,
        sequenceNumber,
        requestId,
        body,
      };
    }
    case 'MSG':
    case 'CLO': {
      const secureChannelId = r.u32le();
      const tokenId = r.u32le();
      let sequenceNumber = -1;
      let requestId = -1;
      let body: ServiceBody | null = null;
      let abort: { error: number; reason: string } | null = null;
      if (plain) {
        sequenceNumber = r.u32le();
        requestId = r.u32le();
        if (header.chunkType === 'A') {
          const error = r.u32le();
          abort = { error, reason: readText(r) };
        } else if (wantBody) body = readBody(r, header.chunkType === 'F');
      }
      return {
        kind: header.type === 'MSG' ? 'message' : 'close',
        header,
        secureChannelId,
        tokenId,
        sequenceNumber,
        requestId,
        body,
        abort,
      };
    }
  }
}

function trailing(r: Reader): void {
  if (r.remaining > 0) weird('opcua.trailing_bytes');
}

// ---- built-in types (OPC 10000-6 §5.2.2) ----

/** Int32 length of a String/ByteString/array: -1 is null; other negative values are invalid. */
function readLength(r: Reader): number {
  const at = r.pos;
  const len = r.u32le() | 0;
  if (len < -1) throw new BadField('opcua.bad_length', at);
  return len;
}

/** A String as text (bounded); null and empty strings are ''. */
function readText(r: Reader, max = MAX_TEXT): string {
  const len = readLength(r);
  if (len <= 0) return '';
  return utf8Text(r.take(len), max);
}

/** HEL/RHE strings are limited to 4096 bytes (§7.1.2.3). */
function readUrl(r: Reader): string {
  const len = readLength(r);
  if (len <= 0) return '';
  if (len > MAX_URL_LENGTH) weird('opcua.url_too_long');
  return utf8Text(r.take(len), MAX_TEXT);
}

/** Skips a String or ByteString; returns its length (-1 for null). */
function skipBytes(r: Reader): number {
  const len = readLength(r);
  if (len > 0) r.skip(len);
  return len;
}

/**
 * Whether the body being read ends with its chunk. The first chunk of a multi-chunk message is cut
 * by design, so its array lengths are not checked against the bytes left (the ceiling still holds).
 */
let finalChunk = true;

/** Length of an array whose elements take at least `minSize` bytes, checked against the bytes left. */
function readArrayLength(r: Reader, minSize: number): number {
  const at = r.pos;
  const len = readLength(r);
  if (len <= 0) return 0;
  if (len > MAX_ARRAY || (finalChunk && len * minSize > r.remaining)) throw new BadField('opcua.bad_array_length', at);
  return len;
}

/** The namespace of the last NodeId read by `readNodeId`. */
let lastNamespace = 0;

/**
 * Reads a NodeId (or, with `expanded`, an ExpandedNodeId); returns its numeric identifier, or -1 for
 * String, Guid and ByteString identifiers.
 */
function readNodeId(r: Reader, expanded = false): number {
  const at = r.pos;
  const enc = r.u8();
  if (!expanded && (enc & 0xc0) !== 0) throw new BadField('opcua.bad_node_id', at);
  let id = -1;
  switch (enc & 0x3f) {
    case 0:
      lastNamespace = 0;
      id = r.u8();
      break;
    case 1:
      lastNamespace = r.u8();
      id = r.u16le();
      break;
    case 2:
      lastNamespace = r.u16le();
      id = r.u32le();
      break;
    case 3:
    case 5:
      lastNamespace = r.u16le();
      skipBytes(r);
      break;
    case 4:
      lastNamespace = r.u16le();
      r.skip(16);
      break;
    default:
      throw new BadField('opcua.bad_node_id', at);
  }
  if ((enc & 0x80) !== 0) skipBytes(r); // NamespaceUri
  if ((enc & 0x40) !== 0) r.skip(4); // ServerIndex
  return id;
}

function skipLocalizedText(r: Reader): void {
  const mask = r.u8();
  if ((mask & 0x01) !== 0) skipBytes(r);
  if ((mask & 0x02) !== 0) skipBytes(r);
}

function readLocalizedText(r: Reader): string {
  const mask = r.u8();
  if ((mask & 0x01) !== 0) skipBytes(r); // Locale
  return (mask & 0x02) !== 0 ? readText(r) : '';
}

function skipDiagnosticInfo(r: Reader, depth: number): void {
  const at = r.pos;
  const mask = r.u8();
  // SymbolicId, NamespaceUri, LocalizedText and Locale are Int32 indexes into the string table.
  if ((mask & 0x01) !== 0) r.skip(4);
  if ((mask & 0x02) !== 0) r.skip(4);
  if ((mask & 0x04) !== 0) r.skip(4);
  if ((mask & 0x08) !== 0) r.skip(4);
  if ((mask & 0x10) !== 0) skipBytes(r); // AdditionalInfo
  if ((mask & 0x20) !== 0) r.skip(4); // InnerStatusCode
  if ((mask & 0x40) !== 0) {
    if (depth >= MAX_DEPTH) throw new BadField('opcua.too_deep', at);
    skipDiagnosticInfo(r, depth + 1);
  }
}

function skipExtensionObject(r: Reader): void {
  readNodeId(r);
  const at = r.pos;
  const enc = r.u8();
  if (enc === 1 || enc === 2) skipBytes(r);
  else if (enc !== 0) throw new BadField('opcua.bad_extension_object', at);
}

function skipStringArray(r: Reader): void {
  const n = readArrayLength(r, 4);
  for (let i = 0; i < n; i++) skipBytes(r);
}

// Scalar sizes of the fixed-size built-in types 1..13 (Boolean .. DateTime), 14 Guid, 19 StatusCode.
const FIXED_SIZE: readonly number[] = [0, 1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, -1, 8, 16, -1, -1, -1, -1, 4];

/** Skips one value of built-in type `t` (OPC 10000-6 §5.1.2 table 1). */
function skipBuiltin(r: Reader, t: number, depth: number, at: number): void {
  const fixed = t < FIXED_SIZE.length ? FIXED_SIZE[t]! : -1;
  if (fixed > 0) {
    r.skip(fixed);
    return;
  }
  if (depth >= MAX_DEPTH) throw new BadField('opcua.too_deep', at);
  switch (t) {
    case 12: // String
    case 15: // ByteString
    case 16: // XmlElement
      skipBytes(r);
      return;
    case 17:
      readNodeId(r);
      return;
    case 18:
      readNodeId(r, true);
      return;
    case 20: // QualifiedName
      r.skip(2);
      skipBytes(r);
      return;
    case 21:
      skipLocalizedText(r);
      return;
    case 22:
      skipExtensionObject(r);
      return;
    case 23:
      skipDataValue(r, depth + 1);
      return;
    case 24:
      readVariant(r, depth + 1);
      return;
    case 25:
      skipDiagnosticInfo(r, depth + 1);
      return;
    default:
      throw new BadField('opcua.bad_variant', at);
  }
}

/** Shared scratch for turning little-endian bytes into floats without a DataView per value. */
const SCRATCH = new Uint8Array(8);
const F32 = new Float32Array(SCRATCH.buffer, 0, 1);
const F64 = new Float64Array(SCRATCH.buffer, 0, 1);

/** A scalar numeric value of built-in type 1..11 as a number (64-bit integers may round). */
function readNumber(r: Reader, t: number): number {
  switch (t) {
    case 1:
    case 3:
      return r.u8();
    case 2:
      return (r.u8() << 24) >> 24;
    case 4:
      return (r.u16le() << 16) >> 16;
    case 5:
      return r.u16le();
    case 6:
      return r.u32le() | 0;
    case 7:
      return r.u32le();
    case 8: {
      const lo = r.u32le();
      return (r.u32le() | 0) * 2 ** 32 + lo;
    }
    case 9: {
      const lo = r.u32le();
      return r.u32le() * 2 ** 32 + lo;
    }
    case 10:
      SCRATCH.set(r.take(4));
      return F32[0]!;
    default:
      SCRATCH.set(r.take(8));
      return F64[0]!;
  }
}

/**
 * Reads a Variant; returns its value when it is a numeric scalar (Boolean .. Double), NaN otherwise
 * (arrays, strings, structures are skipped).
 */
function readVariant(r: Reader, depth: number): number {
  const at = r.pos;
  const mask = r.u8();
  const t = mask & 0x3f;
  if (t === 0) return Number.NaN; // null variant
  if (t > 25) throw new BadField('opcua.bad_variant', at);
  if ((mask & 0x80) === 0) {
    if (t <= 11) return readNumber(r, t);
    skipBuiltin(r, t, depth, at);
    return Number.NaN;
  }
  const n = readArrayLength(r, t < FIXED_SIZE.length && FIXED_SIZE[t]! > 0 ? FIXED_SIZE[t]! : 1);
  for (let i = 0; i < n; i++) skipBuiltin(r, t, depth, at);
  if ((mask & 0x40) !== 0) {
    const dims = readArrayLength(r, 4);
    r.skip(dims * 4);
  }
  return Number.NaN;
}

/** Reads a DataValue; returns the value as readVariant does (NaN when absent or not numeric). */
function readDataValue(r: Reader, depth: number): number {
  const mask = r.u8();
  let value = Number.NaN;
  if ((mask & 0x01) !== 0) value = readVariant(r, depth);
  if ((mask & 0x02) !== 0) r.skip(4); // StatusCode
  if ((mask & 0x04) !== 0) r.skip(8); // SourceTimestamp
  if ((mask & 0x10) !== 0) r.skip(2); // SourcePicoseconds
  if ((mask & 0x08) !== 0) r.skip(8); // ServerTimestamp
  if ((mask & 0x20) !== 0) r.skip(2); // ServerPicoseconds
  return value;
}

function skipDataValue(r: Reader, depth: number): void {
  readDataValue(r, depth);
}

function readApplicationDescription(r: Reader): ApplicationDescription {
  const applicationUri = readText(r);
  const productUri = readText(r);
  const applicationName = readLocalizedText(r);
  const applicationType = r.u32le();
  skipBytes(r); // GatewayServerUri
  skipBytes(r); // DiscoveryProfileUri
  const n = readArrayLength(r, 4);
  const discoveryUrls: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i < MAX_KEPT) discoveryUrls.push(readText(r));
    else skipBytes(r);
  }
  return { applicationUri, productUri, applicationName, applicationType, discoveryUrls };
}

function readEndpointDescription(r: Reader): EndpointDescription {
  const endpointUrl = readText(r);
  const server = readApplicationDescription(r);
  skipBytes(r); // ServerCertificate
  const securityMode = r.u32le();
  const securityPolicyUri = readText(r);
  const tokens = readArrayLength(r, 20);
  for (let i = 0; i < tokens; i++) {
    // UserTokenPolicy: PolicyId, TokenType, IssuedTokenType, IssuerEndpointUrl, SecurityPolicyUri
    skipBytes(r);
    r.skip(4);
    skipBytes(r);
    skipBytes(r);
    skipBytes(r);
  }
  skipBytes(r); // TransportProfileUri
  const securityLevel = r.u8();
  return { endpointUrl, server, securityMode, securityPolicyUri, securityLevel };
}

/** Reads the endpoints array (the first MAX_KEPT; the rest only counted). */
function readEndpoints(r: Reader): ServiceDetails {
  const total = readArrayLength(r, 30);
  const endpoints: EndpointDescription[] = [];
  for (let i = 0; i < total && i < MAX_KEPT; i++) endpoints.push(readEndpointDescription(r));
  return { kind: 'endpoints', total, endpoints };
}

/**
 * Fields between the request header and the list a request addresses, for the services whose
 * `quantity` is that list's length: D Double, U UInt32, B Boolean, N NodeId, T DateTime,
 * X ExtensionObject.
 */
const COUNT_PREFIX: ReadonlyMap<number, string> = new Map([
  [631, 'DU'], // Read: MaxAge, TimestampsToReturn, NodesToRead
  [673, ''], // Write: NodesToWrite
  [712, ''], // Call: MethodsToCall
  [527, 'NTUU'], // Browse: View (ViewId, Timestamp, ViewVersion), RequestedMaxReferencesPerNode, NodesToBrowse
  [533, 'B'], // BrowseNext: ReleaseContinuationPoints, ContinuationPoints
  [554, ''], // TranslateBrowsePathsToNodeIds: BrowsePaths
  [560, ''], // RegisterNodes
  [566, ''], // UnregisterNodes
  [664, 'XUB'], // HistoryRead: HistoryReadDetails, TimestampsToReturn, ReleaseContinuationPoints, NodesToRead
  [700, ''], // HistoryUpdate: HistoryUpdateDetails
  [488, ''], // AddNodes
  [494, ''], // AddReferences
  [500, ''], // DeleteNodes
  [506, ''], // DeleteReferences
  [751, 'UU'], // CreateMonitoredItems: SubscriptionId, TimestampsToReturn, ItemsToCreate
  [763, 'UU'], // ModifyMonitoredItems
  [769, 'UU'], // SetMonitoringMode: SubscriptionId, MonitoringMode, MonitoredItemIds
  [781, 'U'], // DeleteMonitoredItems: SubscriptionId, MonitoredItemIds
  [799, 'B'], // SetPublishingMode: PublishingEnabled, SubscriptionIds
  [826, ''], // Publish: SubscriptionAcknowledgements
  [841, ''], // TransferSubscriptions: SubscriptionIds
  [847, ''], // DeleteSubscriptions: SubscriptionIds
]);

function skipPrefix(r: Reader, prefix: string): void {
  for (let i = 0; i < prefix.length; i++) {
    switch (prefix.charCodeAt(i)) {
      case 0x44: // D
      case 0x54: // T
        r.skip(8);
        break;
      case 0x55: // U
        r.skip(4);
        break;
      case 0x42: // B
        r.skip(1);
        break;
      case 0x4e: // N
        readNodeId(r);
        break;
      default: // X
        skipExtensionObject(r);
    }
  }
}

// RequestHandle and ServiceResult of the header being read, set as soon as they are read so that a
// body cut short after them still reports them (module-level: decoding is synchronous).
let headerHandle = -1;
let headerResult = 0;

function readRequestHeader(r: Reader): void {
  readNodeId(r); // AuthenticationToken
  r.skip(8); // Timestamp
  headerHandle = r.u32le();
  r.skip(4); // ReturnDiagnostics
  skipBytes(r); // AuditEntryId
  r.skip(4); // TimeoutHint
  skipExtensionObject(r); // AdditionalHeader
}

function readResponseHeader(r: Reader): void {
  r.skip(8); // Timestamp
  headerHandle = r.u32le();
  headerResult = r.u32le();
  skipDiagnosticInfo(r, 0);
  skipStringArray(r);
  skipExtensionObject(r);
}

function readRequestDetails(r: Reader, typeId: number): ServiceDetails {
  switch (typeId) {
    case SVC.openSecureChannel: {
      const clientProtocolVersion = r.u32le();
      const requestType = r.u32le();
      const securityMode = r.u32le();
      skipBytes(r); // ClientNonce
      const requestedLifetime = r.u32le();
      return { kind: 'open_request', clientProtocolVersion, requestType, securityMode, requestedLifetime };
    }
    case SVC.createSession: {
      const client = readApplicationDescription(r);
      const serverUri = readText(r);
      const endpointUrl = readText(r);
      const sessionName = readText(r);
      return { kind: 'create_session_request', client, serverUri, endpointUrl, sessionName };
    }
    case SVC.write:
      return readWriteRequest(r);
    default: {
      const prefix = COUNT_PREFIX.get(typeId);
      if (prefix === undefined) return NONE;
      skipPrefix(r, prefix);
      return { kind: 'count', count: readArrayLength(r, 1), values: NO_VALUES };
    }
  }
}

/** WriteRequest: NodesToWrite, keeping the numeric scalar values written (non-numeric ones are left out). */
function readWriteRequest(r: Reader): ServiceDetails {
  const count = readArrayLength(r, 8);
  const values: number[] = [];
  try {
    for (let i = 0; i < count && values.length < MAX_VALUES; i++) {
      readNodeId(r); // NodeId
      r.skip(4); // AttributeId
      skipBytes(r); // IndexRange
      const v = readDataValue(r, 0);
      if (!Number.isNaN(v)) values.push(v);
    }
  } catch (e) {
    // The first chunk of a chunked write ends somewhere in the list: keep what it holds.
    if (finalChunk || !(e instanceof ShortRead)) throw e;
  }
  return { kind: 'count', count, values };
}

function readResponseDetails(r: Reader, typeId: number): ServiceDetails {
  switch (typeId) {
    case SVC.openSecureChannelResponse: {
      const serverProtocolVersion = r.u32le();
      const channelId = r.u32le();
      const tokenId = r.u32le();
      r.skip(8); // CreatedAt
      const revisedLifetime = r.u32le();
      return { kind: 'open_response', serverProtocolVersion, channelId, tokenId, revisedLifetime };
    }
    case SVC.getEndpointsResponse:
      return readEndpoints(r);
    case SVC.createSessionResponse:
      readNodeId(r); // SessionId
      readNodeId(r); // AuthenticationToken
      r.skip(8); // RevisedSessionTimeout
      skipBytes(r); // ServerNonce
      skipBytes(r); // ServerCertificate
      return readEndpoints(r);
    case SVC.findServersResponse: {
      const total = readArrayLength(r, 20);
      const servers: ApplicationDescription[] = [];
      for (let i = 0; i < total && i < MAX_KEPT; i++) servers.push(readApplicationDescription(r));
      return { kind: 'servers', total, servers };
    }
    default:
      return NONE;
  }
}

/**
 * The body of a plain chunk: TypeId, request or response header, then the details of the services
 * PlantGuard reads. A body that stops short keeps what was read; in a final chunk that is the
 * anomaly `opcua.truncated_body` (an intermediate chunk is cut by design). A bad field inside the
 * body is the anomaly `opcua.bad_body`: the chunk itself (header, sequence) stays valid.
 */
function readBody(r: Reader, final: boolean): ServiceBody | null {
  finalChunk = final;
  let typeId: number;
  let namespace: number;
  try {
    typeId = readNodeId(r);
    namespace = lastNamespace;
  } catch (e) {
    bodyFault(e, final);
    return null;
  }
  const lookup = namespace === 0 && typeId >= 0 ? lookupService(typeId) : undefined;
  const service = lookup?.info ?? unknownService(typeId);
  const role = lookup?.role ?? 'unknown';
  let details = NONE;
  headerHandle = -1;
  headerResult = 0;
  if (role === 'unknown') return { typeId, namespace, service, role, requestHandle: -1, serviceResult: 0, details };
  try {
    if (role === 'request') {
      readRequestHeader(r);
      details = readRequestDetails(r, typeId);
    } else {
      readResponseHeader(r);
      if (typeId !== SERVICE_FAULT) details = readResponseDetails(r, typeId);
    }
  } catch (e) {
    bodyFault(e, final);
  }
  return { typeId, namespace, service, role, requestHandle: headerHandle, serviceResult: headerResult, details };
}

function bodyFault(e: unknown, final: boolean): void {
  if (e instanceof ShortRead) {
    if (final) weird('opcua.truncated_body');
    return;
  }
  if (e instanceof BadField) {
    weird('opcua.bad_body');
    return;
  }
  throw e;
}

/**
 * Strict check of the first bytes a client sent (for probing unknown ports): a HEL whose size matches
 * its EndpointUrl, protocol version 0 and buffer sizes of at least 8192; or a ReverseHello (sent by a
 * server that opened the connection) whose size matches its two strings.
 */
export function probeOpcUa(bytes: Uint8Array): boolean {
  const size = frameOpcUa(bytes);
  if (size <= 0 || bytes.length < 16) return false;
  const r = READER.reset(bytes, HEADER_LENGTH, Math.min(bytes.length, size));
  try {
    if (bytes[0] === 0x48) {
      if (r.u32le() !== 0) return false;
      if (r.u32le() < MIN_BUFFER_SIZE || r.u32le() < MIN_BUFFER_SIZE) return false;
      r.skip(8);
      const len = r.u32le() | 0;
      return len >= -1 && len <= MAX_URL_LENGTH && size === MIN_SIZE.HEL + Math.max(len, 0);
    }
    if (bytes[0] === 0x52) {
      const a = r.u32le() | 0;
      if (a < -1 || a > MAX_URL_LENGTH) return false;
      r.skip(Math.max(a, 0));
      const b = r.u32le() | 0;
      return b >= -1 && b <= MAX_URL_LENGTH && size === MIN_SIZE.RHE + Math.max(a, 0) + Math.max(b, 0);
    }
    return false;
  } catch (e) {
    if (e instanceof ShortRead) return false;
    throw e;
  } finally {
    READER.reset(NO_BYTES);
  }
}
