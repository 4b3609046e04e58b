// Per-connection MQTT state (3.1.1 §4.3, 5.0 §4.3): the protocol level from CONNECT, requests waiting
// for their acknowledgement by Packet Identifier (separately for each sender), PINGREQs in order,
// topic aliases (5.0 §3.3.2.3.4), the distinct topics seen, Sparkplug B topics and identity facts.

import { LIMITS } from '../../core/limits.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import {
  OPS,
  SPARKPLUG_PREFIX,
  SPARKPLUG_STATE,
  SPARKPLUG_TYPES,
  SUBACK_FAILURE,
  TYPE,
  VERSION_NAMES,
  type OperationInfo,
} from './constants.ts';
import { topicText, type MqttBody, type MqttPacket } from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;
type Op = Mutable<OperationEvent>;

interface Pending {
  readonly op: Op;
  /** The packet type that acknowledges it (PUBACK, PUBREC, SUBACK, UNSUBACK). */
  readonly ack: number;
}

/** Distinct topic names remembered per direction (by hash). */
export const MAX_TOPICS = 1024;
/** Topic aliases remembered per direction. */
const MAX_ALIASES = 1024;
/** PINGREQs waiting for a PINGRESP. */
const MAX_PINGS = 16;
/** Distinct identity facts per connection. */
const MAX_FACTS = 8;
/** `$SYS/broker/version`: brokers (Mosquitto and others) publish their name and version there. */
const SYS_VERSION = new TextEncoder().encode('$SYS/broker/version');

/** What a topic stands for: its hash (for the distinct count) and its operation. */
interface TopicClass {
  readonly hash: number;
  readonly info: OperationInfo;
}

/** FNV-1a over the topic's bytes: distinct topics are counted without keeping their text. */
function hashTopic(t: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t[i]!, 0x01000193);
  return h >>> 0;
}

const STATE = new TextEncoder().encode('STATE');
/** The Sparkplug message types as bytes, to classify topics without decoding them. */
const SPARKPLUG_TYPE_BYTES: ReadonlyArray<readonly [Uint8Array, OperationInfo & { readonly devices: boolean }]> = [
  ...SPARKPLUG_TYPES,
].map(([name, t]) => [new TextEncoder().encode(name), t] as const);

/** Whether `t[from, to)` is exactly `name`. */
function levelIs(t: Uint8Array, from: number, to: number, name: Uint8Array): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (t[from + i] !== name[i]) return false;
  return true;
}

function startsWith(t: Uint8Array, prefix: ArrayLike<number>): boolean {
  if (t.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (t[i] !== prefix[i]) return false;
  return true;
}

function equals(t: Uint8Array, other: Uint8Array): boolean {
  return t.length === other.length && startsWith(t, other);
}

export class MqttSession {
  /** Protocol level of the CONNECT (4 = 3.1.1 until one is seen). */
  version = 4;
  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  /** Requests by Packet Identifier: [0] sent by the client (acknowledged by the broker), [1] deliveries. */
  private readonly pending: readonly [Map<number, Pending>, Map<number, Pending>] = [new Map(), new Map()];
  private connecting: Op | null = null;
  private connects = 0;
  private readonly pings: number[] = [];
  private readonly topics: readonly [Set<number>, Set<number>] = [new Set(), new Set()];
  private readonly aliases: readonly [Map<number, TopicClass>, Map<number, TopicClass>] = [new Map(), new Map()];
  private readonly facts = new Set<string>();
  private clientFact: IdentityFact | null = null;
  private paired = false;

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
  }

  /** True once a request was acknowledged (the connection is confirmed then). */
  get answered(): boolean {
    return this.paired;
  }

  packet(dir: Direction, p: MqttPacket, ts: number): void {
    const b = p.body;
    switch (b.kind) {
      case 'connect':
        if (dir === 1) return this.ctx.anomaly('mqtt.unexpected_direction');
        return this.connect(b, ts);
      case 'connack': {
        if (dir === 0) return this.ctx.anomaly('mqtt.unexpected_direction');
        const op = this.connecting;
        if (op === null) return this.ctx.anomaly('mqtt.unmatched_response');
        this.connecting = null;
        if (b.returnCode !== 0) op.exception = b.returnCode;
        this.answer(op);
        const assigned = b.properties?.assignedClientIdentifier;
        if (assigned !== undefined && assigned !== '' && this.clientFact !== null) {
          this.fact({ ...this.clientFact, extra: { ...this.clientFact.extra, clientId: assigned } });
        }
        return;
      }
      case 'publish':
        return this.publish(dir, p.flags, b, ts);
      case 'ack':
        // PUBREL and PUBCOMP complete the QoS 2 exchange after PUBREC answered the PUBLISH.
        if (p.type === TYPE.pubrel || p.type === TYPE.pubcomp) return;
        return this.acknowledge(dir === 0 ? 1 : 0, p.type, b.packetId, b.reasonCode >= 0x80 ? b.reasonCode : -1);
      case 'subscribe':
      case 'unsubscribe': {
        if (dir === 1) return this.ctx.anomaly('mqtt.unexpected_direction');
        const sub = b.kind === 'subscribe';
        const op = newOp(sub ? OPS.subscribe : OPS.unsubscribe, p.type, ts);
        op.quantity = b.filterCount;
        return this.request(0, b.packetId, { op, ack: sub ? TYPE.suback : TYPE.unsuback });
      }
      case 'suback':
      case 'unsuback': {
        if (dir === 0) return this.ctx.anomaly('mqtt.unexpected_direction');
        // 3.1.1 SUBACK failure is 0x80; 5.0 reason codes from 0x80 are failures.
        let failure = -1;
        for (let i = 0; i < b.codes.length; i++) {
          if (b.codes[i]! >= SUBACK_FAILURE) {
            failure = b.codes[i]!;
            break;
          }
        }
        return this.acknowledge(0, p.type, b.packetId, failure, b.kind === 'suback' ? b.codes.length : -1);
      }
      case 'ping':
        if (p.type === TYPE.pingreq) {
          if (dir === 1) return this.ctx.anomaly('mqtt.unexpected_direction');
          if (this.pings.length >= MAX_PINGS) this.unanswered(newOp(OPS.ping, TYPE.pingreq, this.pings.shift()!));
          this.pings.push(ts);
          return;
        }
        if (dir === 0) return this.ctx.anomaly('mqtt.unexpected_direction');
        if (this.pings.length === 0) return this.ctx.anomaly('mqtt.unmatched_response');
        return this.answer(newOp(OPS.ping, TYPE.pingreq, this.pings.shift()!));
      case 'disconnect': {
        const op = newOp(dir === 0 ? OPS.disconnect : OPS.serverDisconnect, p.type, ts);
        if (b.reasonCode >= 0x80) op.exception = b.reasonCode;
        this.ctx.operation(op);
        return;
      }
      case 'auth':
        // AUTH from the client continues an enhanced authentication; the broker's AUTH answers it.
        if (dir === 0) this.ctx.operation(newOp(OPS.auth, p.type, ts));
        return;
    }
  }

  /** End of connection: requests still waiting are unanswered. */
  flush(): void {
    if (this.connecting !== null) this.unanswered(this.connecting);
    this.connecting = null;
    for (const table of this.pending) {
      for (const p of table.values()) this.unanswered(p.op);
      table.clear();
    }
    for (const ts of this.pings) this.unanswered(newOp(OPS.ping, TYPE.pingreq, ts));
    this.pings.length = 0;
  }

  private connect(b: Extract<MqttBody, { kind: 'connect' }>, ts: number): void {
    if (++this.connects > 1) this.ctx.anomaly('mqtt.repeated_connect');
    this.version = b.protocolLevel;
    if (this.connecting !== null) this.unanswered(this.connecting);
    this.connecting = newOp(OPS.connect, TYPE.connect, ts);
    const extra: Record<string, string> = {
      protocolVersion: VERSION_NAMES[b.protocolLevel] ?? String(b.protocolLevel),
      usernamePresent: String(b.usernameFlag),
    };
    if (b.clientId !== '') extra.clientId = b.clientId;
    if (b.willTopic !== null) {
      extra.willTopic = b.willTopic;
      Object.assign(extra, sparkplugIds(b.willTopic));
    }
    const fact: IdentityFact = { kind: 'identity', side: 0, protocol: 'mqtt', extra };
    this.clientFact = fact;
    this.fact(fact);
  }

  private publish(dir: Direction, flags: number, b: Extract<MqttBody, { kind: 'publish' }>, ts: number): void {
    const cls = this.classify(dir, b.topic, b.properties?.topicAlias);
    const info = dir === 0 ? cls.info : OPS.deliver;
    const op = newOp(info, TYPE.publish, ts);
    const topics = this.topics[dir];
    if (topics.size < MAX_TOPICS) topics.add(cls.hash);
    op.quantity = topics.size;
    if (dir === 1 && b.topic.length > 0 && equals(b.topic, SYS_VERSION)) this.brokerVersion(b);
    if (dir === 0 && cls.info.operation === 'mqtt.sparkplug_nbirth') {
      const ids = sparkplugIds(topicText(b.topic));
      if (this.clientFact !== null || Object.keys(ids).length > 0)
        this.fact({ kind: 'identity', side: 0, protocol: 'mqtt', extra: { ...this.clientFact?.extra, ...ids } });
    }
    const qos = (flags >> 1) & 3;
    // A retransmission (DUP) of a PUBLISH still waiting for its acknowledgement is the same request.
    if (qos > 0 && (flags & 8) !== 0 && this.pending[dir].has(b.packetId)) return;
    if (qos === 0) {
      // QoS 0 has no acknowledgement: reported at once.
      this.ctx.operation(op);
      return;
    }
    this.request(dir, b.packetId, { op, ack: qos === 1 ? TYPE.puback : TYPE.pubrec });
  }

  /** The operation of a topic (Sparkplug B or plain) and its hash, following 5.0 topic aliases. */
  private classify(dir: Direction, topic: Uint8Array, alias: number | undefined): TopicClass {
    const aliases = this.aliases[dir];
    if (topic.length === 0 && alias !== undefined) {
      const known = aliases.get(alias);
      if (known !== undefined) return known;
      this.ctx.anomaly('mqtt.unknown_topic_alias');
    }
    const cls: TopicClass = { hash: hashTopic(topic), info: this.sparkplug(topic) };
    if (alias !== undefined && topic.length > 0 && (aliases.size < MAX_ALIASES || aliases.has(alias)))
      aliases.set(alias, cls);
    return cls;
  }

  /** `spBv1.0/<group>/<type>/<edge node>[/<device>]` or `spBv1.0/STATE/<host>`; otherwise a plain publish. */
  private sparkplug(topic: Uint8Array): OperationInfo {
    if (!startsWith(topic, SPARKPLUG_PREFIX)) return OPS.publish;
    // Levels after `spBv1.0/`, read on the bytes (NDATA and DDATA are the bulk of Sparkplug traffic).
    const start = SPARKPLUG_PREFIX.length;
    let levels = 1;
    let empty = topic.length === start;
    let firstEnd = topic.length;
    let typeStart = -1;
    let typeEnd = topic.length;
    let prev = start - 1;
    for (let i = start; i < topic.length; i++) {
      if (topic[i] !== 0x2f) continue;
      if (i === prev + 1) empty = true;
      if (levels === 1) {
        firstEnd = i;
        typeStart = i + 1;
      } else if (levels === 2) typeEnd = i;
      levels++;
      prev = i;
    }
    if (prev === topic.length - 1) empty = true;
    if (!empty) {
      if (levels === 2 && levelIs(topic, start, firstEnd, STATE)) return SPARKPLUG_STATE;
      for (const [name, t] of SPARKPLUG_TYPE_BYTES) {
        if (typeStart >= 0 && levelIs(topic, typeStart, typeEnd, name)) {
          if (levels === (t.devices ? 4 : 3)) return t;
          break;
        }
      }
    }
    this.ctx.anomaly('mqtt.bad_sparkplug_topic');
    return OPS.publish;
  }

  /** `$SYS/broker/version` delivered by the broker: its product and version (Mosquitto: "mosquitto version 2.0.18"). */
  private brokerVersion(b: Extract<MqttBody, { kind: 'publish' }>): void {
    const text = topicText(b.payload).trim().slice(0, 128);
    if (text === '') return;
    const m = /^(.*\S)\s+version\s+(\S+)$/i.exec(text);
    const fact: IdentityFact = { kind: 'identity', side: 1, protocol: 'mqtt' };
    if (m !== null) {
      fact.product = m[1]!;
      fact.firmware = m[2]!;
    } else fact.product = text;
    this.fact(fact);
  }

  private request(dir: Direction, packetId: number, p: Pending): void {
    const table = this.pending[dir];
    const old = table.get(packetId);
    if (old !== undefined) {
      table.delete(packetId);
      this.unanswered(old.op);
    } else if (table.size >= this.maxPending) {
      const oldest = table.keys().next();
      if (oldest.done !== true) {
        const o = table.get(oldest.value)!;
        table.delete(oldest.value);
        this.unanswered(o.op);
      }
    }
    table.set(packetId, p);
  }

  /** An acknowledgement of a request sent in `requestDir`; `count` of SUBACK codes is checked against the filters. */
  private acknowledge(requestDir: Direction, type: number, packetId: number, failure: number, count = -1): void {
    const table = this.pending[requestDir];
    const p = table.get(packetId);
    if (p === undefined) {
      this.ctx.anomaly('mqtt.unmatched_response');
      return;
    }
    table.delete(packetId);
    if (p.ack !== type || (count >= 0 && count !== p.op.quantity)) this.ctx.anomaly('mqtt.response_mismatch');
    if (failure >= 0) p.op.exception = failure;
    this.answer(p.op);
  }

  private answer(op: Op): void {
    op.responded = true;
    this.paired = true;
    this.ctx.operation(op);
  }

  private unanswered(op: Op): void {
    this.ctx.anomaly('mqtt.unanswered_request');
    this.ctx.operation(op);
  }

  private fact(fact: IdentityFact): void {
    const key = JSON.stringify(fact);
    if (this.facts.has(key) || this.facts.size >= MAX_FACTS) return;
    this.facts.add(key);
    this.ctx.fact(fact);
  }
}

/** Sparkplug ids named by a topic: group and edge node (NBIRTH, DDATA, ...), or host (STATE). */
function sparkplugIds(topic: string): Record<string, string> {
  const levels = topic.split('/');
  if (levels[0] !== 'spBv1.0') return {};
  if (levels[1] === 'STATE' && levels[2] !== undefined && levels[2] !== '') return { sparkplugHostId: levels[2] };
  if (levels.length >= 4 && SPARKPLUG_TYPES.has(levels[2]!))
    return { sparkplugGroupId: levels[1]!, sparkplugEdgeNodeId: levels[3]! };
  return {};
}

function newOp(info: OperationInfo, code: number, ts: number): Op {
  return { name: info.operation, protocol: 'mqtt', code, access: info.access, tsMicros: ts, responded: false };
}
