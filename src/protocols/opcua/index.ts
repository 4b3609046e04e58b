// OPC UA binary (opc.tcp, OPC 10000-6 §7, port 4840) stream analyzer and its registration: frames
// each direction into chunks, decodes them, pairs requests and responses and reports to the context.

import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import { DEFAULT_MAX_PDU, MAX_MESSAGE_SIZE, OPCUA_PORT } from './constants.ts';
import { decodeOpcUa, frameOpcUa, probeOpcUa } from './decode.ts';
import { OpcUaSession } from './state.ts';

export { decodeOpcUa, frameOpcUa, probeOpcUa } from './decode.ts';
export type { OpcUaHeader, OpcUaMessage, ServiceBody, ServiceDetails } from './decode.ts';

export interface OpcUaOptions {
  /** Largest chunk framed (default 1 MiB); larger chunks are the anomaly `opcua.message_too_large`. */
  readonly maxPdu?: number;
  /** Requests waiting for a response (default LIMITS.pendingRequestsPerFlow). */
  readonly maxPending?: number;
}

/**
 * One opc.tcp connection. Direction 0 is the TCP client.
 *
 * - Before the flow is confirmed, bytes that do not frame as an OPC UA chunk, or a chunk that does
 *   not decode, violate the protocol (`opcua.not_opcua`) and the analyzer stops. After confirmation
 *   they are anomalies (`opcua.bad_frame`, the decoder's code) and the framer resynchronises.
 * - The first answered request (ACK to HEL, OPN response, a paired service) confirms the flow.
 * - A direction whose start was not seen should begin with `gap(dir, 0)` (the pipeline does this).
 */
export class OpcUaAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly framers: readonly [PduFramer, PduFramer];
  private readonly session: OpcUaSession;
  private readonly maxPdu: number;
  private confirmed = false;
  private detached = false;
  /** Set by the frame function: the last header it read was valid but larger than maxPdu. */
  private oversized = false;

  constructor(ctx: AnalyzerContext, opts: OpcUaOptions = {}) {
    this.ctx = ctx;
    this.maxPdu = Math.min(opts.maxPdu ?? DEFAULT_MAX_PDU, MAX_MESSAGE_SIZE);
    this.session = new OpcUaSession(ctx, opts.maxPending);
    const frame = (b: Uint8Array): number => {
      const n = frameOpcUa(b);
      this.oversized = n > this.maxPdu;
      return n;
    };
    const bad = (): void => this.badFrame();
    this.framers = [
      new PduFramer(frame, (pdu, ts) => this.chunk(0, pdu, ts), bad, this.maxPdu),
      new PduFramer(frame, (pdu, ts) => this.chunk(1, pdu, ts), bad, this.maxPdu),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (!this.detached) this.framers[dir].data(bytes, tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (!this.detached) this.framers[dir].gap(lostBytes);
  }

  end(): void {
    if (!this.detached) this.session.flush();
  }

  private chunk(dir: Direction, bytes: Uint8Array, ts: number): void {
    if (this.detached) return;
    // Continuation chunks carry the middle of a message: only their headers are decoded. The
    // RequestId sits at a fixed offset of MSG/CLO chunks (after the 8-byte header, channel and token).
    const symmetric = bytes[0] === 0x4d || bytes[0] === 0x43;
    const continuation =
      symmetric &&
      this.session.continues(dir, (bytes[20]! | (bytes[21]! << 8) | (bytes[22]! << 16) | (bytes[23]! << 24)) >>> 0);
    let d = decodeOpcUa(bytes, true, !continuation);
    // On a channel not known to use policy None, a MSG/CLO chunk is read only when it decodes as a
    // known service in the right direction: that is a Sign-mode channel (the body is plain text, as
    // tshark also finds). Otherwise it is encrypted and only its clear header is decoded.
    if (
      !this.session.plain &&
      symmetric &&
      !(d.kind === 'ok' && this.session.readable(dir, d.value, d.anomalies.length))
    )
      d = decodeOpcUa(bytes, false);
    if (d.kind !== 'ok') {
      // The framer hands over whole chunks, so only `malformed` is expected here.
      const code = d.kind === 'malformed' ? d.code : 'opcua.truncated';
      if (!this.confirmed) this.detach();
      else this.ctx.anomaly(code);
      return;
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    const code = this.session.message(dir, d.value, ts);
    this.ctx.pdu?.(dir, code);
    if (!this.confirmed && this.session.answered) {
      this.confirmed = true;
      this.ctx.confirm();
    }
  }

  private badFrame(): void {
    if (this.detached) return;
    if (!this.confirmed) {
      this.detach();
      return;
    }
    this.ctx.anomaly(this.oversized ? 'opcua.message_too_large' : 'opcua.bad_frame');
  }

  private detach(): void {
    this.detached = true;
    this.ctx.violate('opcua.not_opcua');
  }
}

export const opcuaProtocol = defineProtocol({
  name: 'opcua',
  transport: 'tcp',
  ports: [OPCUA_PORT],
  probe: (bytes) => probeOpcUa(bytes),
  createAnalyzer: (ctx) => new OpcUaAnalyzer(ctx),
});
