// DNP3 analyzer and its registration on TCP and UDP port 20000 (IEEE 1815-2012 Annex E): link
// frames (§9.2) cut from the stream or datagram, transport reassembly (§8), application fragments
// (§4) paired into operations.

import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import {
  BLOCK_SIZE,
  CTL_FUNC,
  CTL_PRM,
  DNP3_PORT,
  LINK_CONFIRMED_USER_DATA,
  LINK_HEADER_LENGTH,
  LINK_UNCONFIRMED_USER_DATA,
  MAX_LINK_FRAME,
  MIN_LINK_LENGTH,
  TR_FIN,
  TR_FIR,
  isResponseFunction,
} from './constants.ts';
import {
  SCAN,
  copyUserData,
  dataCrcsOk,
  frameDnp3Link,
  frameDnp3LinkAt,
  lastFrameRejectWasCrc,
  scanDnp3Apdu,
} from './decode.ts';
import { Dnp3Transactions, TransportReassembler } from './state.ts';

export { decodeDnp3Apdu, decodeDnp3Link, encodeDnp3Link, frameDnp3Link } from './decode.ts';
export type { Dnp3Apdu, Dnp3Attribute, Dnp3LinkFrame, Dnp3ObjectHeader } from './decode.ts';

/**
 * One DNP3 flow over TCP (a byte stream per direction, cut into link frames) or UDP (each datagram
 * holds one or more whole link frames).
 *
 * - The first link frame with a valid header CRC and valid data-block CRCs confirms the flow: two
 *   start octets and a 16-bit CRC over the header are strong evidence, and an outstation that only
 *   reports unsolicited data must be recognised too.
 * - Before confirmation, bytes that are not a link frame violate the protocol (`dnp3.not_dnp3`) and
 *   the analyzer detaches. After it, a bad frame is the anomaly `dnp3.bad_frame` (`dnp3.bad_crc`
 *   for a header CRC mismatch) and the framer resynchronises.
 * - A data block with a bad CRC is the anomaly `dnp3.bad_crc` (before confirmation too: the header
 *   CRC was right); that frame's data is not used and it does not confirm the flow.
 * - Request or response is decided by the application function code, not by the flow direction:
 *   either side may have opened the connection.
 * - `ctx.pdu(dir, code)` is called once per application fragment, at the link frame that
 *   completes it, with the application function code (tshark's `dnp3.al.func`).
 */
export class Dnp3Analyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly udp: boolean;
  private readonly framers: readonly [PduFramer, PduFramer] | null;
  private readonly transport: readonly [TransportReassembler, TransportReassembler];
  private readonly transactions: Dnp3Transactions;
  /** User data of one frame without its block CRCs (at most 250 octets). */
  private readonly scratch = new Uint8Array(MAX_LINK_FRAME);
  private confirmed = false;
  private detached = false;

  constructor(ctx: AnalyzerContext, transport: 'tcp' | 'udp' = 'tcp', maxPending?: number) {
    this.ctx = ctx;
    this.udp = transport === 'udp';
    this.transactions = new Dnp3Transactions(ctx, maxPending);
    this.transport = [new TransportReassembler(ctx), new TransportReassembler(ctx)];
    if (this.udp) this.framers = null;
    else {
      const bad = (): void => this.badFrame(lastFrameRejectWasCrc());
      this.framers = [
        new PduFramer(frameDnp3Link, (f, ts) => this.frame(0, f, 0, f.length, ts), bad, MAX_LINK_FRAME),
        new PduFramer(frameDnp3Link, (f, ts) => this.frame(1, f, 0, f.length, ts), bad, MAX_LINK_FRAME),
      ];
    }
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
    if (this.framers === null) this.datagram(dir, bytes, tsMicros);
    else this.framers[dir].data(bytes, tsMicros);
  }

  /**
   * `data` for `buf[off, off + len)`: whole link frames at the start of a segment (the usual case)
   * are taken in place while the framer holds nothing; the rest goes through the framer.
   */
  dataAt(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    const framers = this.framers;
    if (framers === null) {
      this.datagram(dir, buf.subarray(off, off + len), tsMicros);
      return;
    }
    const framer = framers[dir];
    const end = off + len;
    while (off < end && framer.idle) {
      const size = frameDnp3LinkAt(buf, off, end - off);
      if (size <= 0 || off + size > end) break;
      framer.deliveredWhole(size);
      this.frame(dir, buf, off, size, tsMicros);
      if (this.detached) return;
      off += size;
    }
    if (off < end) framer.data(buf.subarray(off, end), tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (this.detached) return;
    this.framers?.[dir].gap(lostBytes);
    this.transport[dir].reset();
  }

  end(): void {
    if (this.detached) return;
    this.transactions.flush();
  }

  /** One or more whole link frames in a UDP datagram. */
  private datagram(dir: Direction, bytes: Uint8Array, ts: number): void {
    const n = bytes.length;
    let off = 0;
    while (off < n && !this.detached) {
      const size = frameDnp3LinkAt(bytes, off, n - off);
      if (size <= 0 || off + size > n) {
        if (size < 0) this.badFrame(lastFrameRejectWasCrc());
        else if (this.confirmed) this.ctx.anomaly('dnp3.truncated');
        else {
          this.detached = true;
          this.ctx.violate('dnp3.not_dnp3');
        }
        return;
      }
      this.frame(dir, bytes, off, size, ts);
      off += size;
    }
  }

  /** One whole link frame `f[off, off + size)` whose header CRC is right. */
  private frame(dir: Direction, f: Uint8Array, off: number, size: number, ts: number): void {
    if (this.detached) return;
    const n = f[off + 2]! - MIN_LINK_LENGTH;
    // A valid header CRC is already strong evidence of DNP3: a bad data block is corruption (even
    // before confirmation), not another protocol.
    if (n > 0 && !dataCrcsOk(f, off, size)) {
      this.ctx.anomaly('dnp3.bad_crc');
      return;
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    if (n === 0) return;
    const control = f[off + 3]!;
    const fn = control & CTL_FUNC;
    if ((control & CTL_PRM) === 0 || (fn !== LINK_CONFIRMED_USER_DATA && fn !== LINK_UNCONFIRMED_USER_DATA))
      this.ctx.anomaly('dnp3.unexpected_user_data');
    const destination = f[off + 4]! | (f[off + 5]! << 8);
    const source = f[off + 6]! | (f[off + 7]! << 8);
    const th = f[off + LINK_HEADER_LENGTH]!;
    // The user data without block CRCs, after the transport header: in place when it lies in the
    // first block, else copied to the scratch buffer.
    let data = f;
    let start = off + LINK_HEADER_LENGTH + 1;
    let end = off + LINK_HEADER_LENGTH + n;
    if (n > BLOCK_SIZE) {
      data = this.scratch;
      start = 1;
      end = copyUserData(f, off, size, data, 0);
    }
    const key = source * 65536 + destination;
    const transport = this.transport[dir];
    // A fragment in one segment (most requests and short responses) needs no reassembly.
    if ((th & (TR_FIR | TR_FIN)) === (TR_FIR | TR_FIN) && !transport.has(key)) {
      this.fragment(dir, source, destination, data, start, end, ts);
      return;
    }
    const whole = transport.add(key, th, data, start, end);
    if (whole >= 0) this.fragment(dir, source, destination, transport.whole, 0, whole, ts);
  }

  /** A whole application fragment `bytes[start, end)` from `source` to `destination`. */
  private fragment(
    dir: Direction,
    source: number,
    destination: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    ts: number,
  ): void {
    if (!scanDnp3Apdu(bytes, start, end)) {
      this.ctx.anomaly('dnp3.truncated');
      return;
    }
    const apdu = SCAN;
    const anomalies = apdu.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    const fc = apdu.functionCode;
    this.ctx.pdu?.(dir, fc);
    if (isResponseFunction(fc)) this.transactions.response(apdu, source, destination, dir, ts);
    else this.transactions.request(apdu, source, destination, ts);
  }

  private badFrame(crc: boolean): void {
    if (this.detached) return;
    if (this.confirmed) {
      this.ctx.anomaly(crc ? 'dnp3.bad_crc' : 'dnp3.bad_frame');
      return;
    }
    this.detached = true;
    this.ctx.violate('dnp3.not_dnp3');
  }
}

/** First bytes of a flow: the start octets and a plausible length (header CRC once 10 octets are in). */
function probe(bytes: Uint8Array): boolean {
  return frameDnp3Link(bytes) >= 0 && bytes.length >= 2;
}

export const dnp3Protocol = defineProtocol({
  name: 'dnp3',
  transport: 'tcp',
  ports: [DNP3_PORT],
  probe,
  createAnalyzer: (ctx) => new Dnp3Analyzer(ctx, 'tcp'),
});

export const dnp3UdpProtocol = defineProtocol({
  name: 'dnp3',
  transport: 'udp',
  ports: [DNP3_PORT],
  probe,
  createAnalyzer: (ctx) => new Dnp3Analyzer(ctx, 'udp'),
});
