// MQTT names and classes: control packet types and their fixed-header flags (MQTT 3.1.1 §2.2, MQTT 5.0
// §2.1), CONNACK return codes (3.1.1 §3.2.2.3), reason codes (5.0 §2.4), properties (5.0 §2.2.2.2) and the
// Sparkplug B topic namespace (Sparkplug 3.0 §4.1).

import type { AccessClass } from '../_core/types.ts';

/** IANA port of MQTT; 8883 is MQTT over TLS and is not decoded. */
export const MQTT_PORT = 1883;
/** Largest Remaining Length a four-byte variable byte integer holds (3.1.1 §2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;
/** Largest packet framed whole (default); larger ones are read up to MAX_HEAD bytes and the rest skipped. */
export const DEFAULT_MAX_PDU = 1024 * 1024;
/** Bytes of an oversized packet kept for decoding: a topic of any length and its properties fit. */
export const MAX_HEAD = 65_535 + 2 + 2 + 4096;

export const TYPE = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
} as const;

/** Packet type names, indexed by type (0 and anything above 15 are invalid). */
export const TYPE_NAMES: readonly string[] = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
];

/**
 * Smallest Remaining Length of each type under any version: CONNECT has at least a protocol name
 * ("MQTT", 6 bytes), level, flags, keep alive and a client id length; SUBSCRIBE a packet id, a filter
 * of one character and its options; PINGREQ/PINGRESP are empty.
 */
export const MIN_REMAINING: readonly number[] = [0, 12, 2, 2, 2, 2, 2, 2, 6, 3, 5, 2, 0, 0, 0, 0];

/** MQTT protocol levels: 3 is MQTT 3.1 ("MQIsdp"), 4 is 3.1.1, 5 is 5.0. */
export const VERSION_NAMES: Readonly<Record<number, string>> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

/** CONNACK return codes of MQTT 3.1 and 3.1.1 (§3.2.2.3). */
export const CONNACK_CODES: Readonly<Record<number, string>> = {
  0: 'accepted',
  1: 'unacceptable_protocol_version',
  2: 'identifier_rejected',
  3: 'server_unavailable',
  4: 'bad_user_name_or_password',
  5: 'not_authorized',
};

/** MQTT 5.0 reason codes (§2.4); 0x00 is Success / Normal disconnection / Granted QoS 0. */
export const REASON_CODES: Readonly<Record<number, string>> = {
  0x00: 'success',
  0x01: 'granted_qos_1',
  0x02: 'granted_qos_2',
  0x04: 'disconnect_with_will_message',
  0x10: 'no_matching_subscribers',
  0x11: 'no_subscription_existed',
  0x18: 'continue_authentication',
  0x19: 're_authenticate',
  0x80: 'unspecified_error',
  0x81: 'malformed_packet',
  0x82: 'protocol_error',
  0x83: 'implementation_specific_error',
  0x84: 'unsupported_protocol_version',
  0x85: 'client_identifier_not_valid',
  0x86: 'bad_user_name_or_password',
  0x87: 'not_authorized',
  0x88: 'server_unavailable',
  0x89: 'server_busy',
  0x8a: 'banned',
  0x8b: 'server_shutting_down',
  0x8c: 'bad_authentication_method',
  0x8d: 'keep_alive_timeout',
  0x8e: 'session_taken_over',
  0x8f: 'topic_filter_invalid',
  0x90: 'topic_name_invalid',
  0x91: 'packet_identifier_in_use',
  0x92: 'packet_identifier_not_found',
  0x93: 'receive_maximum_exceeded',
  0x94: 'topic_alias_invalid',
  0x95: 'packet_too_large',
  0x96: 'message_rate_too_high',
  0x97: 'quota_exceeded',
  0x98: 'administrative_action',
  0x99: 'payload_format_invalid',
  0x9a: 'retain_not_supported',
  0x9b: 'qos_not_supported',
  0x9c: 'use_another_server',
  0x9d: 'server_moved',
  0x9e: 'shared_subscriptions_not_supported',
  0x9f: 'connection_rate_exceeded',
  0xa0: 'maximum_connect_time',
  0xa1: 'subscription_identifiers_not_supported',
  0xa2: 'wildcard_subscriptions_not_supported',
};

/** Name of a CONNACK code: 3.1.1 return codes below version 5, reason codes from version 5. */
export function connackCodeName(code: number, version: number): string {
  if (version < 5) return CONNACK_CODES[code] ?? `return_code_${code}`;
  return reasonCodeName(code);
}

export function reasonCodeName(code: number): string {
  return REASON_CODES[code] ?? `reason_0x${code.toString(16).padStart(2, '0')}`;
}

/** SUBACK return code of a failed subscription in 3.1.1; from 5.0 every code from 0x80 is a failure. */
export const SUBACK_FAILURE = 0x80;

/** Property value types (5.0 §2.2.2.2). */
export const PROP_BYTE = 1;
export const PROP_U16 = 2;
export const PROP_U32 = 4;
export const PROP_VARINT = 5;
export const PROP_STRING = 6;
export const PROP_BINARY = 7;
export const PROP_PAIR = 8;

/** Property identifier → value type; identifiers not listed are malformed. */
export const PROPERTY_TYPES: Readonly<Record<number, number>> = {
  0x01: PROP_BYTE, // Payload Format Indicator
  0x02: PROP_U32, // Message Expiry Interval
  0x03: PROP_STRING, // Content Type
  0x08: PROP_STRING, // Response Topic
  0x09: PROP_BINARY, // Correlation Data
  0x0b: PROP_VARINT, // Subscription Identifier
  0x11: PROP_U32, // Session Expiry Interval
  0x12: PROP_STRING, // Assigned Client Identifier
  0x13: PROP_U16, // Server Keep Alive
  0x15: PROP_STRING, // Authentication Method
  0x16: PROP_BINARY, // Authentication Data
  0x17: PROP_BYTE, // Request Problem Information
  0x18: PROP_U32, // Will Delay Interval
  0x19: PROP_BYTE, // Request Response Information
  0x1a: PROP_STRING, // Response Information
  0x1c: PROP_STRING, // Server Reference
  0x1f: PROP_STRING, // Reason String
  0x21: PROP_U16, // Receive Maximum
  0x22: PROP_U16, // Topic Alias Maximum
  0x23: PROP_U16, // Topic Alias
  0x24: PROP_BYTE, // Maximum QoS
  0x25: PROP_BYTE, // Retain Available
  0x26: PROP_PAIR, // User Property
  0x27: PROP_U32, // Maximum Packet Size
  0x28: PROP_BYTE, // Wildcard Subscription Available
  0x29: PROP_BYTE, // Subscription Identifier Available
  0x2a: PROP_BYTE, // Shared Subscription Available
};

/** The property identifiers kept in a decoded record. */
export const PROP = {
  payloadFormat: 0x01,
  messageExpiry: 0x02,
  contentType: 0x03,
  responseTopic: 0x08,
  subscriptionIdentifier: 0x0b,
  sessionExpiry: 0x11,
  assignedClientIdentifier: 0x12,
  serverKeepAlive: 0x13,
  authenticationMethod: 0x15,
  reasonString: 0x1f,
  receiveMaximum: 0x21,
  topicAliasMaximum: 0x22,
  topicAlias: 0x23,
  maximumQos: 0x24,
  userProperty: 0x26,
  maximumPacketSize: 0x27,
} as const;

export interface OperationInfo {
  readonly operation: string;
  readonly access: AccessClass;
}

function op(name: string, access: AccessClass): OperationInfo {
  return Object.freeze({ operation: `mqtt.${name}`, access });
}

export const OPS = {
  connect: op('connect', 'other'),
  publish: op('publish', 'write'),
  deliver: op('deliver', 'read'),
  subscribe: op('subscribe', 'read'),
  unsubscribe: op('unsubscribe', 'other'),
  ping: op('ping', 'diagnostic'),
  disconnect: op('disconnect', 'other'),
  serverDisconnect: op('server_disconnect', 'other'),
  auth: op('auth', 'other'),
} as const;

/** `spBv1.0/` in bytes: the Sparkplug B topic namespace. */
export const SPARKPLUG_PREFIX: readonly number[] = [0x73, 0x70, 0x42, 0x76, 0x31, 0x2e, 0x30, 0x2f];

/**
 * Sparkplug B message types published by a client. Births and deaths announce nodes and their
 * metrics (discovery); NDATA/DDATA report values to the broker (write, like any publish); NCMD/DCMD
 * write to an edge node or device (control); STATE is the host application's birth and death.
 * `devices`: whether the topic carries a device id (D*), i.e. five levels instead of four.
 */
export const SPARKPLUG_TYPES: ReadonlyMap<string, OperationInfo & { readonly devices: boolean }> = new Map(
  (
    [
      ['NBIRTH', 'discovery', false],
      ['NDEATH', 'discovery', false],
      ['DBIRTH', 'discovery', true],
      ['DDEATH', 'discovery', true],
      ['NDATA', 'write', false],
      ['DDATA', 'write', true],
      ['NCMD', 'control', false],
      ['DCMD', 'control', true],
    ] as const
  ).map(([t, access, devices]) => [t, Object.freeze({ ...op(`sparkplug_${t.toLowerCase()}`, access), devices })]),
);

export const SPARKPLUG_STATE = op('sparkplug_state', 'discovery');
