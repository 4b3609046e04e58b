// OPC UA names and classes: UA Connection Protocol message types (OPC 10000-6 §7.1.2), service
// encoding NodeIds (ns=0 `*_Encoding_DefaultBinary`, checked against the public NodeIds.csv), security
// policies (OPC 10000-7) and the StatusCodes the transport and session layers report (StatusCode.csv).

import type { AccessClass } from '../_core/types.ts';

/** IANA port of opc.tcp (OPC 10000-6 §7.2; 4843 is opc.tcp over TLS and is not decoded). */
export const OPCUA_PORT = 4840;

/** Every UA Connection Protocol message starts with type (3 ASCII), chunk type (1) and size (UInt32). */
export const HEADER_LENGTH = 8;
/** Sizes above this are not OPC UA headers at all (nobody negotiates buffers this large). */
export const MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** Largest chunk framed and decoded; larger chunks are an anomaly and the stream resynchronises. */
export const DEFAULT_MAX_PDU = 1024 * 1024;
/** HEL/RHE strings: EndpointUrl and ServerUri are at most 4096 bytes (§7.1.2.3, §7.1.2.6). */
export const MAX_URL_LENGTH = 4096;
/** Receive/SendBufferSize below this violate §7.1.2.3 ("shall be at least 8192 bytes"). */
export const MIN_BUFFER_SIZE = 8192;

/** The three ASCII letters packed big-endian into a number: `HEL` is 0x48454c (the tshark trace code). */
export function packType(t: string): number {
  return (t.charCodeAt(0) << 16) | (t.charCodeAt(1) << 8) | t.charCodeAt(2);
}

export const MESSAGE_TYPE = {
  hello: packType('HEL'),
  acknowledge: packType('ACK'),
  error: packType('ERR'),
  reverseHello: packType('RHE'),
  open: packType('OPN'),
  message: packType('MSG'),
  close: packType('CLO'),
} as const;

export type MessageTypeName = 'HEL' | 'ACK' | 'ERR' | 'RHE' | 'OPN' | 'MSG' | 'CLO';

/** Name of a packed message type, or null when it is not one of the seven. */
export function messageTypeName(packed: number): MessageTypeName | null {
  switch (packed) {
    case MESSAGE_TYPE.hello:
      return 'HEL';
    case MESSAGE_TYPE.acknowledge:
      return 'ACK';
    case MESSAGE_TYPE.error:
      return 'ERR';
    case MESSAGE_TYPE.reverseHello:
      return 'RHE';
    case MESSAGE_TYPE.open:
      return 'OPN';
    case MESSAGE_TYPE.message:
      return 'MSG';
    case MESSAGE_TYPE.close:
      return 'CLO';
    default:
      return null;
  }
}

/** Chunk types (§6.7.2.2): F final, C intermediate, A abort. */
export const CHUNK = { final: 0x46, intermediate: 0x43, abort: 0x41 } as const;

/**
 * Smallest valid size of each message type: header plus the fixed fields (strings and byte strings
 * counted by their 4-byte length only).
 */
export const MIN_SIZE: Readonly<Record<MessageTypeName, number>> = {
  HEL: HEADER_LENGTH + 20 + 4,
  ACK: HEADER_LENGTH + 20,
  ERR: HEADER_LENGTH + 4 + 4,
  RHE: HEADER_LENGTH + 4 + 4,
  // SecureChannelId, three length-prefixed security header fields, sequence number, request id.
  OPN: HEADER_LENGTH + 4 + 12 + 8,
  // SecureChannelId, TokenId, sequence number, request id.
  MSG: HEADER_LENGTH + 4 + 4 + 8,
  CLO: HEADER_LENGTH + 4 + 4 + 8,
};

/** MessageSecurityMode (OPC 10000-4 §7.20). */
export const SECURITY_MODES: Readonly<Record<number, string>> = {
  0: 'Invalid',
  1: 'None',
  2: 'Sign',
  3: 'SignAndEncrypt',
};

export function securityModeName(mode: number): string {
  return SECURITY_MODES[mode] ?? `mode_${mode}`;
}

/** ApplicationType (OPC 10000-4 §7.2). */
export const APPLICATION_TYPES: Readonly<Record<number, string>> = {
  0: 'Server',
  1: 'Client',
  2: 'ClientAndServer',
  3: 'DiscoveryServer',
};

export function applicationTypeName(t: number): string {
  return APPLICATION_TYPES[t] ?? `type_${t}`;
}

/** SecurityTokenRequestType of OpenSecureChannel (OPC 10000-4 §5.5.2.2). */
export const TOKEN_REQUEST_TYPES: Readonly<Record<number, string>> = { 0: 'Issue', 1: 'Renew' };

const POLICY_PREFIX = 'http://opcfoundation.org/UA/SecurityPolicy#';
/** The policies OPC 10000-7 defines for UA-TCP secure channels (short names as in the URIs). */
export const SECURITY_POLICIES: ReadonlySet<string> = new Set([
  'None',
  'Basic128Rsa15',
  'Basic256',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
]);

/**
 * The short name of a SecurityPolicyUri: the fragment of a standard URI (`None`, `Basic256Sha256`,
 * ...); any other URI is returned as it is (vendor policies), an empty one as ''.
 */
export function securityPolicyName(uri: string): string {
  if (uri.startsWith(POLICY_PREFIX)) return uri.slice(POLICY_PREFIX.length);
  return uri;
}

export interface ServiceInfo {
  /** snake_case service name without the protocol prefix (`read`, `create_session`). */
  readonly name: string;
  /** `opcua.<name>`, precomputed for the operation events. */
  readonly operation: string;
  readonly access: AccessClass;
  /** Encoding NodeIds (ns=0) of the request and of the response. */
  readonly requestId: number;
  readonly responseId: number;
}

function service(name: string, requestId: number, responseId: number, access: AccessClass): ServiceInfo {
  return Object.freeze({ name, operation: `opcua.${name}`, access, requestId, responseId });
}

/**
 * Services of OPC 10000-4 with their `*Request_Encoding_DefaultBinary` / `*Response_...` NodeIds.
 * Access classes: reading values, history and subscriptions is read; writing values, history updates
 * and address-space changes (AddNodes & co.) are write; Call runs methods, so control; discovery and
 * browsing are discovery; channel and session management is other.
 */
export const SERVICES: readonly ServiceInfo[] = [
  service('find_servers', 422, 425, 'discovery'),
  service('find_servers_on_network', 12208, 12209, 'discovery'),
  service('get_endpoints', 428, 431, 'discovery'),
  service('register_server', 437, 440, 'discovery'),
  service('register_server2', 12211, 12212, 'discovery'),
  service('open_secure_channel', 446, 449, 'other'),
  service('close_secure_channel', 452, 455, 'other'),
  service('create_session', 461, 464, 'other'),
  service('activate_session', 467, 470, 'other'),
  service('close_session', 473, 476, 'other'),
  service('cancel', 479, 482, 'other'),
  service('add_nodes', 488, 491, 'write'),
  service('add_references', 494, 497, 'write'),
  service('delete_nodes', 500, 503, 'write'),
  service('delete_references', 506, 509, 'write'),
  service('browse', 527, 530, 'discovery'),
  service('browse_next', 533, 536, 'discovery'),
  service('translate_browse_paths_to_node_ids', 554, 557, 'discovery'),
  service('register_nodes', 560, 563, 'other'),
  service('unregister_nodes', 566, 569, 'other'),
  service('query_first', 615, 618, 'read'),
  service('query_next', 621, 624, 'read'),
  service('read', 631, 634, 'read'),
  service('history_read', 664, 667, 'read'),
  service('write', 673, 676, 'write'),
  service('history_update', 700, 703, 'write'),
  service('call', 712, 715, 'control'),
  service('create_monitored_items', 751, 754, 'read'),
  service('modify_monitored_items', 763, 766, 'read'),
  service('set_monitoring_mode', 769, 772, 'read'),
  service('set_triggering', 775, 778, 'read'),
  service('delete_monitored_items', 781, 784, 'read'),
  service('create_subscription', 787, 790, 'read'),
  service('modify_subscription', 793, 796, 'read'),
  service('set_publishing_mode', 799, 802, 'read'),
  service('publish', 826, 829, 'read'),
  service('republish', 832, 835, 'read'),
  service('transfer_subscriptions', 841, 844, 'read'),
  service('delete_subscriptions', 847, 850, 'read'),
];

/** ServiceFault_Encoding_DefaultBinary: the response to any request that failed as a whole. */
export const SERVICE_FAULT = 397;

export const SVC = {
  getEndpoints: 428,
  getEndpointsResponse: 431,
  findServersResponse: 425,
  openSecureChannel: 446,
  openSecureChannelResponse: 449,
  closeSecureChannel: 452,
  createSession: 461,
  createSessionResponse: 464,
  write: 673,
  publish: 826,
} as const;

export type ServiceRole = 'request' | 'response' | 'fault';

export interface ServiceLookup {
  readonly info: ServiceInfo;
  readonly role: ServiceRole;
}

const BY_ID = new Map<number, ServiceLookup>();
for (const s of SERVICES) {
  BY_ID.set(s.requestId, Object.freeze({ info: s, role: 'request' as const }));
  BY_ID.set(s.responseId, Object.freeze({ info: s, role: 'response' as const }));
}
BY_ID.set(
  SERVICE_FAULT,
  Object.freeze({ info: service('service_fault', SERVICE_FAULT, SERVICE_FAULT, 'other'), role: 'fault' as const }),
);

/** The service a numeric ns=0 encoding id stands for, or undefined. */
export function lookupService(id: number): ServiceLookup | undefined {
  return BY_ID.get(id);
}

/** An operation for an encoding id outside the table: `opcua.service_<id>`, class other. */
export function unknownService(id: number): ServiceInfo {
  return service(`service_${id}`, id, -1, 'other');
}

/** Operation of MSG chunks on a channel whose policy is not None: the body cannot be read. */
export const ENCRYPTED_MESSAGE = service('encrypted_message', MESSAGE_TYPE.message, -1, 'other');
/** HEL/ACK: the connection handshake, reported as one operation. */
export const HELLO = service('hello', MESSAGE_TYPE.hello, MESSAGE_TYPE.acknowledge, 'other');

/** StatusCodes an ERR message or a ServiceFault typically carries (StatusCode.csv). */
export const STATUS_CODES: Readonly<Record<number, string>> = {
  0x00000000: 'Good',
  0x80010000: 'BadUnexpectedError',
  0x80020000: 'BadInternalError',
  0x80030000: 'BadOutOfMemory',
  0x80040000: 'BadResourceUnavailable',
  0x80050000: 'BadCommunicationError',
  0x80060000: 'BadEncodingError',
  0x80070000: 'BadDecodingError',
  0x80080000: 'BadEncodingLimitsExceeded',
  0x800a0000: 'BadTimeout',
  0x800b0000: 'BadServiceUnsupported',
  0x800c0000: 'BadShutdown',
  0x800d0000: 'BadServerNotConnected',
  0x800e0000: 'BadServerHalted',
  0x800f0000: 'BadNothingToDo',
  0x80100000: 'BadTooManyOperations',
  0x80120000: 'BadCertificateInvalid',
  0x80130000: 'BadSecurityChecksFailed',
  0x80140000: 'BadCertificateTimeInvalid',
  0x80170000: 'BadCertificateUriInvalid',
  0x801a0000: 'BadCertificateUntrusted',
  0x801f0000: 'BadUserAccessDenied',
  0x80200000: 'BadIdentityTokenInvalid',
  0x80210000: 'BadIdentityTokenRejected',
  0x80220000: 'BadSecureChannelIdInvalid',
  0x80230000: 'BadInvalidTimestamp',
  0x80240000: 'BadNonceInvalid',
  0x80250000: 'BadSessionIdInvalid',
  0x80260000: 'BadSessionClosed',
  0x80270000: 'BadSessionNotActivated',
  0x80280000: 'BadSubscriptionIdInvalid',
  0x802a0000: 'BadRequestHeaderInvalid',
  0x80330000: 'BadNodeIdInvalid',
  0x80340000: 'BadNodeIdUnknown',
  0x80350000: 'BadAttributeIdInvalid',
  0x803a0000: 'BadNotReadable',
  0x803b0000: 'BadNotWritable',
  0x803c0000: 'BadOutOfRange',
  0x803d0000: 'BadNotSupported',
  0x80530000: 'BadRequestTypeInvalid',
  0x80540000: 'BadSecurityModeRejected',
  0x80550000: 'BadSecurityPolicyRejected',
  0x80560000: 'BadTooManySessions',
  0x80740000: 'BadTypeMismatch',
  0x80750000: 'BadMethodInvalid',
  0x80760000: 'BadArgumentsMissing',
  0x80780000: 'BadTooManyPublishRequests',
  0x80790000: 'BadNoSubscription',
  0x807d0000: 'BadTcpServerTooBusy',
  0x807e0000: 'BadTcpMessageTypeInvalid',
  0x807f0000: 'BadTcpSecureChannelUnknown',
  0x80800000: 'BadTcpMessageTooLarge',
  0x80810000: 'BadTcpNotEnoughResources',
  0x80820000: 'BadTcpInternalError',
  0x80830000: 'BadTcpEndpointUrlInvalid',
  0x80840000: 'BadRequestInterrupted',
  0x80850000: 'BadRequestTimeout',
  0x80860000: 'BadSecureChannelClosed',
  0x80870000: 'BadSecureChannelTokenUnknown',
  0x80880000: 'BadSequenceNumberInvalid',
  0x80be0000: 'BadProtocolVersionUnsupported',
};

export function statusCodeName(code: number): string {
  const name = STATUS_CODES[code];
  if (name !== undefined) return name;
  const severity = code >>> 30;
  return `${severity === 0 ? 'Good' : severity === 1 ? 'Uncertain' : 'Bad'}_0x${code.toString(16).padStart(8, '0')}`;
}

/** True for StatusCodes with severity Bad (top two bits 10 or 11). */
export function isBad(code: number): boolean {
  return code >>> 31 === 1;
}
