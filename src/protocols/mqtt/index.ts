// MQTT 3.1, 3.1.1 and 5.0 over TCP (port 1883; 8883 is TLS and not decoded) stream analyzer and its
// registration: frames each direction, decodes control packets, pairs them and reports to the context.

import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import { DEFAULT_MAX_PDU, MQTT_PORT, TYPE } from './constants.ts';
import { decodeMqtt, frameMqtt } from './decode.ts';
import { MqttFramer } from './framer.ts';
import { MqttSession } from './state.ts';

export { decodeMqtt, frameMqtt, topicText } from './decode.ts';
export type { MqttBody, MqttPacket, MqttProperties } from './decode.ts';

export interface MqttOptions {
  /** Largest packet framed whole (default 1 MiB); larger ones are decoded from their first 68 KiB. */
  readonly maxPdu?: number;
  /** Requests waiting per sender (default LIMITS.pendingRequestsPerFlow). */
  readonly maxPending?: number;
}

/**
 * One MQTT connection. Direction 0 is the client, 1 the broker.
 *
 * - Where the start of a direction was seen, its first packet must be CONNECT (client) or CONNACK or
 *   AUTH (broker); bytes that do not frame, a packet that does not decode, or another first packet,
 *   violate the protocol (`mqtt.not_mqtt`) until the connection is confirmed; afterwards they are
 *   anomalies and the framer resynchronises.
 * - The first acknowledged request (CONNACK, SUBACK, PUBACK, PINGRESP, ...) confirms the connection.
 * - A direction whose start was not seen should begin with `gap(dir, 0)` (the pipeline does this).
 */
export class MqttAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly framers: readonly [MqttFramer, MqttFramer];
  private readonly session: MqttSession;
  /** Per direction: no packet yet, and whether its start was seen (no gap before the first bytes). */
  private readonly first: [boolean, boolean] = [true, true];
  private readonly fromStart: [boolean, boolean] = [true, true];
  private confirmed = false;
  private detached = false;

  constructor(ctx: AnalyzerContext, opts: MqttOptions = {}) {
    this.ctx = ctx;
    this.session = new MqttSession(ctx, opts.maxPending);
    const maxPdu = opts.maxPdu ?? DEFAULT_MAX_PDU;
    const loss = (): void => this.loss();
    this.framers = [
      new MqttFramer(
        (pdu, total, ts) => this.packet(0, pdu, total, ts),
        loss,
        maxPdu,
        (pdu) => this.plausible(0, pdu),
      ),
      new MqttFramer(
        (pdu, total, ts) => this.packet(1, pdu, total, ts),
        loss,
        maxPdu,
        (pdu) => this.plausible(1, pdu),
      ),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (!this.detached) this.framers[dir].data(bytes, tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (this.detached) return;
    if (this.first[dir]) this.fromStart[dir] = false;
    this.framers[dir].gap(lostBytes);
  }

  end(): void {
    if (!this.detached) this.session.flush();
  }

  private packet(dir: Direction, pdu: Uint8Array, total: number, ts: number): void {
    if (this.detached) return;
    const d = decodeMqtt(pdu, this.session.version, total);
    if (d.kind !== 'ok') {
      this.bad(d.kind === 'malformed' ? d.code : 'mqtt.truncated');
      return;
    }
    const p = d.value;
    if (this.first[dir]) {
      this.first[dir] = false;
      const opening = dir === 0 ? p.type === TYPE.connect : p.type === TYPE.connack || p.type === TYPE.auth;
      if (this.fromStart[dir] && !opening && !this.confirmed) {
        this.detach();
        return;
      }
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    if (total > pdu.length && p.type !== TYPE.publish) this.ctx.anomaly('mqtt.oversized');
    this.ctx.pdu?.(dir, p.type);
    this.session.packet(dir, p, ts);
    if (!this.confirmed && this.session.answered) {
      this.confirmed = true;
      this.ctx.confirm();
    }
  }

  /** A resynchronisation candidate: a packet this side may send that decodes without any anomaly. */
  private plausible(dir: Direction, pdu: Uint8Array): boolean {
    const d = decodeMqtt(pdu, this.session.version);
    if (d.kind !== 'ok' || d.anomalies.length > 0) return false;
    return (dir === 0 ? CLIENT_TYPES : BROKER_TYPES).has(d.value.type);
  }

  private bad(code: string): void {
    if (this.confirmed) this.ctx.anomaly(code);
    else this.detach();
  }

  private loss(): void {
    this.bad('mqtt.bad_frame');
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.ctx.violate('mqtt.not_mqtt');
  }
}

/** Packet types each side sends (3.1.1 §2.2.1; AUTH and DISCONNECT both ways in 5.0). */
const CLIENT_TYPES: ReadonlySet<number> = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15]);
const BROKER_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]);

/** Whether `bytes[at..]` is the length-prefixed protocol name `name` followed by one of `levels`. */
function protocolNameAt(bytes: Uint8Array, at: number, name: string, levels: readonly number[]): boolean {
  if (bytes.length < at + 3 + name.length || bytes[at] !== 0 || bytes[at + 1] !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[at + 2 + i] !== name.charCodeAt(i)) return false;
  return levels.includes(bytes[at + 2 + name.length]!);
}

/** A client's first bytes: a CONNECT with protocol name MQTT (level 4 or 5) or MQIsdp (level 3). */
function probe(bytes: Uint8Array, dir: Direction): boolean {
  if (dir !== 0 || bytes.length < 2 || bytes[0] !== 0x10 || frameMqtt(bytes) <= 0) return false;
  let h = 1;
  while (h < bytes.length && (bytes[h]! & 0x80) !== 0) h++;
  return protocolNameAt(bytes, h + 1, 'MQTT', [4, 5]) || protocolNameAt(bytes, h + 1, 'MQIsdp', [3]);
}

export const mqttProtocol = defineProtocol({
  name: 'mqtt',
  transport: 'tcp',
  ports: [MQTT_PORT],
  probe,
  createAnalyzer: (ctx) => new MqttAnalyzer(ctx),
});
