// Modbus/TCP stream analyzer and its registration (Messaging on TCP/IP v1.0b, port 502; Application
// Protocol v1.1b3): frames each direction, decodes ADUs, pairs them and reports to the context.

import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import { EXCEPTION_BIT, MAX_ADU_LENGTH, MODBUS_PORT } from './constants.ts';
import { decodeModbusAdu, frameModbusAdu, frameModbusAduAt } from './decode.ts';
import { ModbusTransactions } from './state.ts';

export { decodeModbusAdu, frameModbusAdu } from './decode.ts';
export type { ModbusAdu, ModbusPdu } from './decode.ts';

/**
 * One Modbus/TCP flow. Direction 0 carries requests, 1 responses.
 *
 * - Before the flow is confirmed, bytes that do not frame as an ADU violate the protocol
 *   (`modbus.not_modbus`) and the analyzer ignores the flow from then on. After confirmation a bad
 *   frame is the anomaly `modbus.bad_frame` and the framer resynchronises.
 * - The first request answered by a response confirms the flow.
 * - A direction whose start was not seen (capture began mid-stream) should begin with `gap(dir, 0)`:
 *   the framer then searches for an ADU boundary instead of calling the first bytes a violation.
 */
export class ModbusAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly requests: PduFramer;
  private readonly responses: PduFramer;
  private readonly transactions: ModbusTransactions;
  private confirmed = false;
  private detached = false;

  constructor(ctx: AnalyzerContext, maxPending?: number) {
    this.ctx = ctx;
    this.transactions = new ModbusTransactions(ctx, maxPending);
    const bad = (): void => this.badFrame();
    this.requests = new PduFramer(frameModbusAdu, (pdu, ts) => this.adu(0, pdu, ts), bad, MAX_ADU_LENGTH);
    this.responses = new PduFramer(frameModbusAdu, (pdu, ts) => this.adu(1, pdu, ts), bad, MAX_ADU_LENGTH);
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
    (dir === 0 ? this.requests : this.responses).data(bytes, tsMicros);
  }

  /** `data` for `buf[off, off + len)`: a segment that is one whole polling read is paired in place. */
  dataAt(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    const framer = dir === 0 ? this.requests : this.responses;
    if (
      framer.idle &&
      len >= 8 &&
      frameModbusAduAt(buf, off, len) === len &&
      this.fastRead(dir, buf, off, len, tsMicros)
    ) {
      framer.deliveredWhole(len);
      return;
    }
    framer.data(buf.subarray(off, off + len), tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (this.detached) return;
    (dir === 0 ? this.requests : this.responses).gap(lostBytes);
  }

  end(): void {
    if (this.detached) return;
    this.transactions.flush();
  }

  private adu(dir: Direction, bytes: Uint8Array, ts: number): void {
    if (this.detached) return;
    if (this.fastRead(dir, bytes, 0, bytes.length, ts)) return;
    const d = decodeModbusAdu(bytes, dir);
    if (d.kind !== 'ok') {
      // The framer hands over whole ADUs, so only `malformed` is expected here.
      this.ctx.anomaly(d.kind === 'malformed' ? d.code : 'modbus.truncated');
      return;
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    this.ctx.pdu?.(dir, d.value.functionCode);
    if (dir === 0) this.transactions.request(d.value, ts);
    else if (this.transactions.response(d.value) && !this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
  }

  /**
   * Polling reads (functions 1–4) are most of the traffic on a plant floor: a request of exactly
   * address + quantity, and a response of exactly byte count + data, are paired here without
   * building the decoded records. Anything else — other functions, exceptions, odd lengths,
   * quantities out of range — takes the general path, which gives the same result for these.
   */
  private fastRead(dir: Direction, b: Uint8Array, o: number, n: number, ts: number): boolean {
    const fc = b[o + 7]!;
    if (fc < 1 || fc > 4) return false;
    const length = (b[o + 4]! << 8) | b[o + 5]!;
    if (dir === 0) {
      if (length !== 6 || n < 12) return false;
      const quantity = (b[o + 10]! << 8) | b[o + 11]!;
      if (quantity < 1 || quantity > (fc <= 2 ? 2000 : 125)) return false;
      this.ctx.pdu?.(0, fc);
      this.transactions.readRequest(
        (b[o]! << 8) | b[o + 1]!,
        b[o + 6]!,
        fc,
        (b[o + 8]! << 8) | b[o + 9]!,
        quantity,
        ts,
      );
      return true;
    }
    const byteCount = b[o + 8]!;
    if (length !== 3 + byteCount || n < 9 + byteCount || (fc >= 3 && byteCount % 2 !== 0)) return false;
    this.ctx.pdu?.(1, fc);
    if (this.transactions.readResponse((b[o]! << 8) | b[o + 1]!, b[o + 6]!, fc, byteCount) && !this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    return true;
  }

  private badFrame(): void {
    if (this.detached) return;
    if (this.confirmed) {
      this.ctx.anomaly('modbus.bad_frame');
      return;
    }
    this.detached = true;
    this.ctx.violate('modbus.not_modbus');
  }
}

/** First bytes a client sent: an MBAP header with protocol id 0, a sane length and a request code. */
function probe(bytes: Uint8Array, dir: Direction): boolean {
  return frameModbusAdu(bytes) > 0 && (dir === 1 || (bytes[7]! & EXCEPTION_BIT) === 0);
}

export const modbusProtocol = defineProtocol({
  name: 'modbus',
  transport: 'tcp',
  ports: [MODBUS_PORT],
  probe,
  createAnalyzer: (ctx) => new ModbusAnalyzer(ctx),
});
