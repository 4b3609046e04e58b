// EtherNet/IP analyzers and their registration (CIP Vol 2: encapsulation on TCP and UDP 44818,
// class 0/1 I/O on UDP 2222): frames and decodes encapsulation messages, traces their command and
// CIP service codes, and hands them to the per-flow pairing state.

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { createDatagramAnalyzer } from '../_core/datagram.ts';
import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import { CPF, ENIP_IO_PORT, ENIP_PORT, MAX_CPF_ITEMS, MAX_ENCAP_MESSAGE, MAX_CIP_DEPTH, SERVICE } from './constants.ts';
import { decodeEnip, frameEnip, u16le, u32le, type CipMessage } from './decode.ts';
import { FAST, fastMessage, frameEnipAt } from './fast.ts';
import { EnipTransactions, REQUEST, RESPONSE } from './state.ts';

export { decodeEnip, decodeCip, decodePath, frameEnip } from './decode.ts';
export type { CipMessage, CipPath, CipRequest, CipResponse, EnipBody, EnipMessage } from './decode.ts';

/** Codes reported to `ctx.pdu` for CIP services, above the 16-bit encapsulation commands. */
export const CIP_PDU_BASE = 0x10000;
const SERVICE_MSP = SERVICE.multipleServicePacket;

/**
 * One EtherNet/IP flow on port 44818 (TCP: `datagram` false, a framed byte stream per direction;
 * UDP: one message per datagram).
 *
 * - Before the flow is confirmed, bytes that are not an encapsulation message violate the protocol
 *   (`enip.not_enip`) and the analyzer ignores the flow from then on; afterwards a bad frame is the
 *   anomaly `enip.bad_frame` and the framer resynchronises.
 * - The first message that decodes completely confirms the flow (a broadcast ListIdentity flow
 *   never sees a reply, so an exchange cannot be required).
 * - `ctx.pdu` gets each message's command, then each CIP service it carries as 0x10000 + the service
 *   code without the response bit (tshark's `enip.command` and `cip.sc`), in tshark's order.
 */
export class EnipAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly framers: readonly [PduFramer, PduFramer] | null;
  private readonly transactions: EnipTransactions;
  private confirmed = false;
  private detached = false;
  /** Whether the fast path is tried (tests turn it off to compare it with the general path). */
  private readonly fast: boolean;

  /** `fast` false: no fast path and no reuse of records, a reference for tests. */
  constructor(ctx: AnalyzerContext, datagram = false, maxPending?: number, fast = true) {
    this.ctx = ctx;
    this.fast = fast;
    this.transactions = new EnipTransactions(ctx, maxPending, fast);
    if (datagram) this.framers = null;
    else {
      const bad = (): void => this.badFrame();
      this.framers = [
        new PduFramer(frameEnip, (pdu, ts) => this.message(0, pdu, ts), bad, MAX_ENCAP_MESSAGE),
        new PduFramer(frameEnip, (pdu, ts) => this.message(1, pdu, ts), bad, MAX_ENCAP_MESSAGE),
      ];
    }
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
    if (this.framers !== null) {
      this.framers[dir].data(bytes, tsMicros);
      return;
    }
    // A datagram holds exactly one message.
    const len = frameEnip(bytes);
    if (len === bytes.length) this.message(dir, bytes, tsMicros);
    else if (len > 0 && len < bytes.length) {
      this.message(dir, bytes.subarray(0, len), tsMicros);
      if (!this.detached) this.ctx.anomaly('enip.trailing_bytes');
    } else if (this.confirmed) this.ctx.anomaly(len === 0 ? 'enip.truncated' : 'enip.bad_frame');
    else this.violate();
  }

  /** `data` for `buf[off, off + len)`: a segment that is one whole common message is handled in place. */
  dataAt(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    if (this.framers === null) {
      this.data(dir, buf.subarray(off, off + len), tsMicros);
      return;
    }
    const framer = this.framers[dir];
    if (framer.idle && frameEnipAt(buf, off, len) === len && this.fastMessage(dir, buf, off, len, tsMicros)) {
      framer.deliveredWhole(len);
      return;
    }
    framer.data(buf.subarray(off, off + len), tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (this.detached || this.framers === null) return;
    this.framers[dir].gap(lostBytes);
  }

  end(): void {
    if (this.detached) return;
    this.transactions.flush();
  }

  private message(dir: Direction, bytes: Uint8Array, ts: number): void {
    if (this.detached || this.fastMessage(dir, bytes, 0, bytes.length, ts)) return;
    const d = decodeEnip(bytes);
    if (d.kind !== 'ok') {
      if (this.confirmed) this.ctx.anomaly(d.kind === 'malformed' ? d.code : 'enip.truncated');
      else this.violate();
      return;
    }
    const m = d.value;
    const trace = this.ctx.pdu;
    if (trace !== undefined) {
      trace(dir, m.command);
      if (m.body.kind === 'send_data' && m.body.cip !== null) traceCip(trace, dir, m.body.cip, 0);
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    this.transactions.message(m, dir, ts);
  }

  /**
   * A whole message `b[o, o + n)` of the fast path's shapes (fast.ts), handled without its decoded
   * record: the same trace, confirmation and pairing as the general path. False when not taken.
   */
  private fastMessage(dir: Direction, b: Uint8Array, o: number, n: number, ts: number): boolean {
    if (!this.fast || !fastMessage(b, o, n)) return false;
    const trace = this.ctx.pdu;
    if (trace !== undefined) {
      trace(dir, FAST.command);
      if (FAST.response) {
        trace(dir, CIP_PDU_BASE + FAST.service);
        for (let i = 0; i < RESPONSE.replies; i++) trace(dir, CIP_PDU_BASE + RESPONSE.replyService[i]!);
      } else {
        const S = REQUEST;
        if (S.routed) trace(dir, CIP_PDU_BASE + FAST.service);
        if (S.multiple) trace(dir, CIP_PDU_BASE + SERVICE_MSP);
        for (let i = 0; i < S.count; i++) trace(dir, CIP_PDU_BASE + S.service[i]!);
      }
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    if (FAST.response) this.transactions.response(dir, FAST.command, FAST.contextLo, FAST.contextHi, FAST.sequence);
    else this.transactions.request(dir, FAST.command, FAST.contextLo, FAST.contextHi, FAST.sequence, ts);
    return true;
  }

  private badFrame(): void {
    if (this.detached) return;
    if (this.confirmed) this.ctx.anomaly('enip.bad_frame');
    else this.violate();
  }

  private violate(): void {
    this.detached = true;
    this.ctx.violate('enip.not_enip');
  }
}

function traceCip(trace: (dir: Direction, code: number) => void, dir: Direction, m: CipMessage, depth: number): void {
  trace(dir, CIP_PDU_BASE + m.service);
  if (depth >= MAX_CIP_DEPTH) return;
  if (m.kind === 'request') {
    const d = m.detail;
    if (d.kind === 'unconnected_send') {
      if (d.embedded !== null) traceCip(trace, dir, d.embedded, depth + 1);
    } else if (d.kind === 'multiple_service_packet') {
      for (const s of d.services) traceCip(trace, dir, s, depth + 1);
    }
  } else if (m.detail.kind === 'multiple_service_packet') {
    for (const s of m.detail.replies) traceCip(trace, dir, s, depth + 1);
  }
}

/** A class 0/1 I/O packet (Vol 2 §3-3.2): a sequenced address item and a connected data item. */
export interface IoPacket {
  readonly connectionId: number;
  /** Encapsulation sequence number of the sequenced address item. */
  readonly sequence: number;
  /** Bytes of I/O data (after the optional 16-bit CIP sequence count). */
  readonly dataLength: number;
}

/**
 * Decodes the common packet format of a UDP I/O datagram. Only the framing is checked; the I/O data
 * itself is application specific and is not decoded.
 */
export function decodeIoPacket(b: Uint8Array): Decoded<IoPacket> {
  if (b.length < 2) return incomplete(2);
  const count = u16le(b, 0);
  if (count < 2 || count > MAX_CPF_ITEMS) return malformed('enip-io.bad_item_count', 0);
  let p = 2;
  let connectionId = -1;
  let sequence = -1;
  let dataLength = -1;
  for (let i = 0; i < count; i++) {
    if (p + 4 > b.length) return malformed('enip-io.truncated', p);
    const type = u16le(b, p);
    const length = u16le(b, p + 2);
    p += 4;
    if (p + length > b.length) return malformed('enip-io.truncated', p);
    if (type === CPF.sequencedAddress && length === 8) {
      connectionId = u32le(b, p);
      sequence = u32le(b, p + 4);
    } else if (type === CPF.connectedAddress && length === 4) connectionId = u32le(b, p);
    else if (type === CPF.connectedData) dataLength = length;
    else if (type !== CPF.sockaddrOT && type !== CPF.sockaddrTO) return malformed('enip-io.unexpected_item', p - 4);
    p += length;
  }
  if (connectionId < 0 || dataLength < 0) return malformed('enip-io.missing_item', 2);
  return ok({ connectionId, sequence, dataLength }, p, p < b.length ? ['enip-io.trailing_bytes'] : undefined);
}

/** First bytes a client sent: an encapsulation header with a known command and zero options. */
function probe(bytes: Uint8Array): boolean {
  return frameEnip(bytes) > 0;
}

export const enipProtocol = defineProtocol({
  name: 'enip',
  transport: 'tcp',
  ports: [ENIP_PORT],
  probe,
  createAnalyzer: (ctx) => new EnipAnalyzer(ctx, false),
});

/** ListIdentity (often broadcast), ListServices and ListInterfaces over UDP. */
export const enipUdpProtocol = defineProtocol({
  name: 'enip',
  transport: 'udp',
  ports: [ENIP_PORT],
  probe,
  createAnalyzer: (ctx) => new EnipAnalyzer(ctx, true),
});

/**
 * Class 0/1 implicit messaging: cyclic I/O data, confirmed and counted by the pipeline but not
 * decoded; no operations (the connection was set up by a Forward Open, which is one).
 */
export const enipIoProtocol = defineProtocol({
  name: 'enip-io',
  transport: 'udp',
  ports: [ENIP_IO_PORT],
  createAnalyzer: (ctx) =>
    createDatagramAnalyzer(ctx, {
      decode: decodeIoPacket,
      truncatedCode: 'enip-io.truncated',
      violationCode: 'enip-io.not_enip_io',
      onMessage: () => undefined,
    }),
});
