// MQTT control packet decoder, versions 3.1 (level 3), 3.1.1 (level 4, OASIS Standard §2–§3) and 5.0
// (level 5, OASIS Standard §2–§3, properties §2.2.2): fixed header, variable header and payload of the
// fifteen packet types. Passwords are skipped, never read; PUBLISH payloads are only measured.

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { utf8Text } from '../../core/text.ts';
import {
  MIN_REMAINING,
  PROP,
  PROPERTY_TYPES,
  PROP_BINARY,
  PROP_BYTE,
  PROP_PAIR,
  PROP_STRING,
  PROP_U16,
  PROP_U32,
  PROP_VARINT,
  TYPE,
  TYPE_NAMES,
  connackCodeName,
} from './constants.ts';

/** MQTT 5.0 properties PlantGuard keeps; the others are checked and skipped. */
export interface MqttProperties {
  /** Properties present (User Properties counted one by one). */
  readonly count: number;
  readonly userProperties: number;
  readonly payloadFormat?: number;
  readonly messageExpiry?: number;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly subscriptionIdentifier?: number;
  readonly sessionExpiry?: number;
  readonly assignedClientIdentifier?: string;
  readonly serverKeepAlive?: number;
  readonly authenticationMethod?: string;
  readonly reasonString?: string;
  readonly receiveMaximum?: number;
  readonly topicAliasMaximum?: number;
  readonly topicAlias?: number;
  readonly maximumQos?: number;
  readonly maximumPacketSize?: number;
}

export interface TopicFilter {
  readonly filter: string;
  /** Requested QoS (bits 0-1 of the options byte). */
  readonly qos: number;
  /** The whole subscription options byte (5.0: No Local, Retain As Published, Retain Handling). */
  readonly options: number;
}

export type MqttBody =
  | {
      readonly kind: 'connect';
      /** `MQTT` (3.1.1, 5.0) or `MQIsdp` (3.1). */
      readonly protocolName: string;
      readonly protocolLevel: number;
      readonly flags: number;
      readonly cleanSession: boolean;
      readonly willFlag: boolean;
      readonly willQos: number;
      readonly willRetain: boolean;
      readonly usernameFlag: boolean;
      /** Whether a password is present. The password itself is never read. */
      readonly passwordFlag: boolean;
      readonly keepAlive: number;
      readonly properties: MqttProperties | null;
      readonly clientId: string;
      readonly willTopic: string | null;
    }
  | {
      readonly kind: 'connack';
      readonly sessionPresent: boolean;
      /** 3.1.1 return code or 5.0 reason code, and its name. */
      readonly returnCode: number;
      readonly returnCodeName: string;
      readonly properties: MqttProperties | null;
    }
  | {
      readonly kind: 'publish';
      readonly dup: boolean;
      readonly qos: number;
      readonly retain: boolean;
      /** The topic name's UTF-8 bytes (a view, no copy); empty when a 5.0 Topic Alias stands for it. */
      readonly topic: Uint8Array;
      /** -1 for QoS 0. */
      readonly packetId: number;
      readonly properties: MqttProperties | null;
      /** Application message length (the payload itself is not decoded). */
      readonly payloadLength: number;
      /** The payload bytes present (a view; cut short when only the packet's head was kept). */
      readonly payload: Uint8Array;
    }
  /** PUBACK, PUBREC, PUBREL, PUBCOMP: a packet id and (5.0) a reason code, 0 when omitted. */
  | {
      readonly kind: 'ack';
      readonly packetId: number;
      readonly reasonCode: number;
      readonly properties: MqttProperties | null;
    }
  | {
      readonly kind: 'subscribe';
      readonly packetId: number;
      readonly properties: MqttProperties | null;
      /** The first MAX_FILTERS filters; `filterCount` counts them all. */
      readonly filters: readonly TopicFilter[];
      readonly filterCount: number;
    }
  | {
      readonly kind: 'unsubscribe';
      readonly packetId: number;
      readonly properties: MqttProperties | null;
      readonly filters: readonly string[];
      readonly filterCount: number;
    }
  /** SUBACK return codes, or UNSUBACK reason codes (5.0; none before). */
  | {
      readonly kind: 'suback' | 'unsuback';
      readonly packetId: number;
      readonly properties: MqttProperties | null;
      readonly codes: Uint8Array;
    }
  | { readonly kind: 'ping' }
  /** DISCONNECT and AUTH: reason code (0 when omitted; 5.0 only) and properties. */
  | { readonly kind: 'disconnect' | 'auth'; readonly reasonCode: number; readonly properties: MqttProperties | null };

export interface MqttPacket {
  readonly type: number;
  /** snake_case name of the type: `connect`, `publish`, ... */
  readonly typeName: string;
  /** The low four bits of the first byte. */
  readonly flags: number;
  readonly remainingLength: number;
  /** Fixed header length: 1 + the Remaining Length's bytes. */
  readonly headerLength: number;
  readonly body: MqttBody;
}

/** Topic filters kept per SUBSCRIBE/UNSUBSCRIBE (all are counted). */
export const MAX_FILTERS = 32;
/** Characters kept of client ids, topics and property strings. */
const MAX_TEXT = 256;

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
const READER = new Reader(NO_BYTES);
const PING: MqttBody = Object.freeze({ kind: 'ping' });
const NO_PROPERTIES: MqttProperties = Object.freeze({ count: 0, userProperties: 0 });

const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

/** Whether the fixed-header flags are the ones the type requires (3.1.1 §2.2.2, 5.0 §2.1.3). */
function flagsValid(type: number, flags: number): boolean {
  if (type === TYPE.publish) return (flags & 0x06) !== 0x06; // QoS 3 is invalid
  if (type === TYPE.pubrel || type === TYPE.subscribe || type === TYPE.unsubscribe) return flags === 0x02;
  return flags === 0;
}

/**
 * Frame length of the packet at `bytes[off, off + n)`: 1 + length bytes + Remaining Length; 0 when
 * more header bytes are needed; -1 when it cannot be a packet: type 0, flags the type forbids, a
 * Remaining Length over four bytes, or below the type's minimum (PINGREQ/PINGRESP must be empty).
 */
export function frameMqttAt(bytes: Uint8Array, off: number, n: number): number {
  if (n < 1) return 0;
  const b0 = bytes[off]!;
  const type = b0 >> 4;
  if (type === 0 || !flagsValid(type, b0 & 15)) return -1;
  let value = 0;
  let mult = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= n) return 0;
    const b = bytes[off + i]!;
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) {
      if (value < MIN_REMAINING[type]! || ((type === TYPE.pingreq || type === TYPE.pingresp) && value !== 0)) return -1;
      return 1 + i + value;
    }
    mult *= 128;
  }
  return -1;
}

export function frameMqtt(bytes: Uint8Array): number {
  return frameMqttAt(bytes, 0, bytes.length);
}

/**
 * Decodes the packet at the start of `bytes` for protocol level `version` (properties and reason
 * codes from 5). When `bytes` holds only the packet's head (an oversized PUBLISH whose payload was
 * skipped), `total` must be the packet's full length: the head is decoded and the payload length
 * computed; without it a short packet is `incomplete`. Bytes after the
 * packet are ignored. A field running past the packet is `malformed('mqtt.truncated')`.
 */
export function decodeMqtt(bytes: Uint8Array, version = 4, total = -1): Decoded<MqttPacket> {
  const n = bytes.length;
  const len = frameMqttAt(bytes, 0, n);
  if (len === 0) return incomplete(Math.min(n + 1, 5));
  if (len < 0) {
    const type = n > 0 ? bytes[0]! >> 4 : 0;
    return malformed(type === 0 || !flagsValid(type, bytes[0]! & 15) ? 'mqtt.bad_fixed_header' : 'mqtt.bad_length', 0);
  }
  const whole = n >= len;
  if (!whole && total !== len) return incomplete(len);
  const b0 = bytes[0]!;
  const type = b0 >> 4;
  const flags = b0 & 15;
  let headerLength = 2;
  while (bytes[headerLength - 1]! & 0x80) headerLength++;
  const remainingLength = len - headerLength;
  found.length = 0;
  const end = Math.min(n, len);
  const r = READER.reset(bytes, headerLength, end);
  try {
    const body = decodeBody(r, type, flags, version, len - headerLength, whole);
    if (whole && r.remaining > 0) weird('mqtt.trailing_bytes');
    const packet: MqttPacket = { type, typeName: TYPE_NAMES[type]!, flags, remainingLength, headerLength, body };
    return ok(packet, end, found.length === 0 ? undefined : found.slice());
  } catch (e) {
    if (e instanceof ShortRead) return malformed('mqtt.truncated', e.offset);
    if (e instanceof BadField) return malformed(e.code, e.offset);
    throw e;
  } finally {
    READER.reset(NO_BYTES);
  }
}

function decodeBody(
  r: Reader,
  type: number,
  flags: number,
  version: number,
  remaining: number,
  whole: boolean,
): MqttBody {
  const v5 = version >= 5;
  switch (type) {
    case TYPE.connect:
      return decodeConnect(r);
    case TYPE.connack: {
      const f = r.u8();
      if ((f & 0xfe) !== 0) weird('mqtt.bad_connack_flags');
      const returnCode = r.u8();
      const properties = v5 && r.remaining > 0 ? readProperties(r) : null;
      return {
        kind: 'connack',
        sessionPresent: (f & 1) === 1,
        returnCode,
        returnCodeName: connackCodeName(returnCode, version),
        properties,
      };
    }
    case TYPE.publish: {
      const qos = (flags >> 1) & 3;
      const start = r.pos;
      const topicLength = r.u16();
      const topic = r.take(topicLength);
      const packetId = qos > 0 ? r.u16() : -1;
      if (packetId === 0) weird('mqtt.zero_packet_id');
      const properties = v5 ? readProperties(r) : null;
      if (topicLength === 0 && properties?.topicAlias === undefined) weird('mqtt.empty_topic');
      const payloadLength = remaining - (r.pos - start);
      const payload = r.take(whole ? payloadLength : r.remaining);
      return {
        kind: 'publish',
        dup: (flags & 8) !== 0,
        qos,
        retain: (flags & 1) !== 0,
        topic,
        packetId,
        properties,
        payloadLength,
        payload,
      };
    }
    case TYPE.puback:
    case TYPE.pubrec:
    case TYPE.pubrel:
    case TYPE.pubcomp: {
      const packetId = r.u16();
      const reasonCode = v5 && r.remaining > 0 ? r.u8() : 0;
      const properties = v5 && r.remaining > 0 ? readProperties(r) : null;
      return { kind: 'ack', packetId, reasonCode, properties };
    }
    case TYPE.subscribe: {
      const packetId = r.u16();
      const properties = v5 ? readProperties(r) : null;
      const filters: TopicFilter[] = [];
      let filterCount = 0;
      while (r.remaining > 0) {
        const filter = readString(r);
        const at = r.pos;
        const options = r.u8();
        if ((options & 3) === 3 || (options & (v5 ? 0xc0 : 0xfc)) !== 0)
          throw new BadField('mqtt.bad_subscription_options', at);
        if (filters.length < MAX_FILTERS) filters.push({ filter, qos: options & 3, options });
        filterCount++;
      }
      if (filterCount === 0) weird('mqtt.no_topic_filters');
      return { kind: 'subscribe', packetId, properties, filters, filterCount };
    }
    case TYPE.unsubscribe: {
      const packetId = r.u16();
      const properties = v5 ? readProperties(r) : null;
      const filters: string[] = [];
      let filterCount = 0;
      while (r.remaining > 0) {
        const filter = readString(r);
        if (filters.length < MAX_FILTERS) filters.push(filter);
        filterCount++;
      }
      if (filterCount === 0) weird('mqtt.no_topic_filters');
      return { kind: 'unsubscribe', packetId, properties, filters, filterCount };
    }
    case TYPE.suback:
    case TYPE.unsuback: {
      const packetId = r.u16();
      const properties = v5 ? readProperties(r) : null;
      const codes = r.take(r.remaining);
      if (type === TYPE.suback && codes.length === 0) weird('mqtt.no_return_codes');
      return { kind: type === TYPE.suback ? 'suback' : 'unsuback', packetId, properties, codes };
    }
    case TYPE.pingreq:
    case TYPE.pingresp:
      return PING;
    case TYPE.disconnect:
    case TYPE.auth: {
      if (!v5 && (r.remaining > 0 || type === TYPE.auth))
        weird(type === TYPE.auth ? 'mqtt.auth_before_v5' : 'mqtt.trailing_bytes');
      const reasonCode = v5 && r.remaining > 0 ? r.u8() : 0;
      const properties = v5 && r.remaining > 0 ? readProperties(r) : null;
      if (!v5) r.pos = r.end;
      return { kind: type === TYPE.disconnect ? 'disconnect' : 'auth', reasonCode, properties };
    }
    default:
      throw new BadField('mqtt.bad_fixed_header', 0);
  }
}

function decodeConnect(r: Reader): MqttBody {
  const protocolName = readString(r);
  const protocolLevel = r.u8();
  if (!(
    (protocolName === 'MQTT' && (protocolLevel === 4 || protocolLevel === 5)) ||
    (protocolName === 'MQIsdp' && protocolLevel === 3)
  ))
    throw new BadField('mqtt.bad_protocol', 2);
  const v5 = protocolLevel >= 5;
  const flags = r.u8();
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  const passwordFlag = (flags & 0x40) !== 0;
  const usernameFlag = (flags & 0x80) !== 0;
  if ((flags & 1) !== 0) weird('mqtt.bad_connect_flags');
  if ((!willFlag && (willQos !== 0 || willRetain)) || willQos === 3) weird('mqtt.bad_will_flags');
  if (!v5 && passwordFlag && !usernameFlag) weird('mqtt.password_without_username');
  const keepAlive = r.u16();
  const properties = v5 ? readProperties(r) : null;
  const clientId = readString(r);
  let willTopic: string | null = null;
  if (willFlag) {
    if (v5) readProperties(r); // Will Properties
    willTopic = readString(r);
    r.skip(r.u16()); // Will Payload
  }
  if (usernameFlag) r.skip(r.u16()); // the user name is not kept, only its presence
  if (passwordFlag) r.skip(r.u16()); // never read
  return {
    kind: 'connect',
    protocolName,
    protocolLevel,
    flags,
    cleanSession: (flags & 0x02) !== 0,
    willFlag,
    willQos,
    willRetain,
    usernameFlag,
    passwordFlag,
    keepAlive,
    properties,
    clientId,
    willTopic,
  };
}

/** A UTF-8 Encoded String (two-byte length), as bounded text. */
function readString(r: Reader): string {
  const len = r.u16();
  return len === 0 ? '' : utf8Text(r.take(len), MAX_TEXT);
}

/** A Variable Byte Integer (at most four bytes). */
function readVarint(r: Reader): number {
  const at = r.pos;
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    const b = r.u8();
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return value;
    mult *= 128;
  }
  throw new BadField('mqtt.bad_varint', at);
}

type MutableProperties = { -readonly [K in keyof MqttProperties]: MqttProperties[K] };

/** MQTT 5.0 properties: a Variable Byte Integer length, then identifier/value pairs. */
function readProperties(r: Reader): MqttProperties {
  const length = readVarint(r);
  if (length === 0) return NO_PROPERTIES;
  const end = r.pos + length;
  if (end > r.end) throw new ShortRead(r.pos);
  const p: MutableProperties = { count: 0, userProperties: 0 };
  const outer = r.end;
  r.end = end;
  try {
    while (r.remaining > 0) {
      const at = r.pos;
      const id = readVarint(r);
      const t = PROPERTY_TYPES[id];
      if (t === undefined) throw new BadField('mqtt.bad_property', at);
      p.count++;
      switch (t) {
        case PROP_BYTE: {
          const v = r.u8();
          if (id === PROP.payloadFormat) p.payloadFormat = v;
          else if (id === PROP.maximumQos) p.maximumQos = v;
          break;
        }
        case PROP_U16: {
          const v = r.u16();
          if (id === PROP.serverKeepAlive) p.serverKeepAlive = v;
          else if (id === PROP.receiveMaximum) p.receiveMaximum = v;
          else if (id === PROP.topicAliasMaximum) p.topicAliasMaximum = v;
          else if (id === PROP.topicAlias) p.topicAlias = v;
          break;
        }
        case PROP_U32: {
          const v = r.u32();
          if (id === PROP.messageExpiry) p.messageExpiry = v;
          else if (id === PROP.sessionExpiry) p.sessionExpiry = v;
          else if (id === PROP.maximumPacketSize) p.maximumPacketSize = v;
          break;
        }
        case PROP_VARINT: {
          const v = readVarint(r);
          if (id === PROP.subscriptionIdentifier && p.subscriptionIdentifier === undefined)
            p.subscriptionIdentifier = v;
          break;
        }
        case PROP_STRING: {
          const v = readString(r);
          if (id === PROP.contentType) p.contentType = v;
          else if (id === PROP.responseTopic) p.responseTopic = v;
          else if (id === PROP.assignedClientIdentifier) p.assignedClientIdentifier = v;
          else if (id === PROP.authenticationMethod) p.authenticationMethod = v;
          else if (id === PROP.reasonString) p.reasonString = v;
          break;
        }
        case PROP_BINARY:
          r.skip(r.u16());
          break;
        case PROP_PAIR:
          r.skip(r.u16());
          r.skip(r.u16());
          p.userProperties++;
          break;
      }
    }
  } finally {
    r.end = outer;
  }
  return p;
}

/** A topic's bytes as text (bounded). */
export function topicText(topic: Uint8Array): string {
  return utf8Text(topic, MAX_TEXT);
}
