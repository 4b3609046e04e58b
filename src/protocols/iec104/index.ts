// IEC 60870-5-104 stream analyzer and its registration (TCP port 2404, 104 §10): frames APDUs per
// direction (§5), decodes APCI and ASDU, checks send sequence numbers and reports operations.

import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import {
  ASDU_HEADER_LENGTH,
  COT_CAUSE,
  IEC104_PORT,
  IOA_LENGTH,
  MAX_APDU_SIZE,
  MAX_VALUES,
  isKnownType,
  typeInfo,
  uFunction,
} from './constants.ts';
import { decodeIec104Apdu, elementValue, frameIec104Apdu, frameIec104ApduAt } from './decode.ts';
import { Iec104Session } from './state.ts';

export { decodeIec104Apdu, frameIec104Apdu } from './decode.ts';

/** Added to a U-frame's utype in `ctx.pdu` codes; ASDU type ids are below it. */
export const U_FRAME_PDU = 0x100;
export type { Iec104Apdu, Iec104Asdu, Iec104Object } from './decode.ts';

/**
 * One IEC 104 connection. Either side may send any APDU; what an ASDU is (command, confirmation,
 * report) follows from its cause of transmission, not from the direction.
 *
 * - The first APDU whose fields are all well-formed (U/S-frame spare octets zero, one U function;
 *   I-frame with a defined type id whose objects fill the APDU exactly) confirms the flow.
 * - Before that, bytes that do not frame as an APDU violate the protocol (`iec104.not_iec104`) and
 *   the analyzer detaches; after it they are the anomaly `iec104.bad_frame` and the framer
 *   resynchronises. A direction whose start was not seen should begin with `gap(dir, 0)`.
 * - An I-frame whose send sequence number N(S) is not the one expected on that side is the anomaly
 *   `iec104.sequence_gap` (expectations restart after a gap).
 * - `ctx.pdu(dir, code)`: the type id of each I-frame's ASDU (0..255, tshark's
 *   `iec60870_asdu.typeid`), and for each U-frame `U_FRAME_PDU` + tshark's `iec60870_104.utype`
 *   (control octet >> 2: 1 STARTDT act, 2 con, 4 STOPDT act, 8 con, 16 TESTFR act, 32 con), so the
 *   two fields cannot be mistaken for each other (utype 1 vs type id 1). S-frames are not reported.
 */
export class Iec104Analyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly framers: readonly [PduFramer, PduFramer];
  private readonly session: Iec104Session;
  /** Next N(S) expected per side, or -1 when unknown. */
  private readonly nextSend = [-1, -1];
  private confirmed = false;
  private detached = false;
  /** Whether common APDUs take `fast` (off only to test it against the general path). */
  private readonly fastPath: boolean;

  constructor(ctx: AnalyzerContext, maxPending?: number, fastPath = true) {
    this.ctx = ctx;
    this.fastPath = fastPath;
    this.session = new Iec104Session(ctx, maxPending);
    const bad = (): void => this.badFrame();
    this.framers = [
      new PduFramer(frameIec104Apdu, (pdu, ts) => this.apdu(0, pdu, ts), bad, MAX_APDU_SIZE),
      new PduFramer(frameIec104Apdu, (pdu, ts) => this.apdu(1, pdu, ts), bad, MAX_APDU_SIZE),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
    this.framers[dir].data(bytes, tsMicros);
  }

  /**
   * `data` for `buf[off, off + len)`: whole APDUs at the start of a segment (the usual case) are
   * taken in place while the framer holds nothing; the rest goes through the framer.
   */
  dataAt(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    const framer = this.framers[dir];
    const end = off + len;
    while (off < end && framer.idle) {
      const size = frameIec104ApduAt(buf, off, end - off);
      if (size <= 0 || off + size > end) break;
      framer.deliveredWhole(size);
      if (!this.fastPath || !this.fast(dir, buf, off, size, tsMicros))
        this.general(dir, buf.subarray(off, off + size), tsMicros);
      if (this.detached) return;
      off += size;
    }
    if (off < end) framer.data(buf.subarray(off, end), tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (this.detached) return;
    this.framers[dir].gap(lostBytes);
    this.nextSend[dir] = -1;
  }

  end(): void {
    if (this.detached) return;
    this.session.flush();
  }

  private apdu(dir: Direction, bytes: Uint8Array, ts: number): void {
    if (this.detached) return;
    if (this.fastPath && this.fast(dir, bytes, 0, bytes.length, ts)) return;
    this.general(dir, bytes, ts);
  }

  /** Any framed APDU, through its decoded record. */
  private general(dir: Direction, bytes: Uint8Array, ts: number): void {
    const d = decodeIec104Apdu(bytes);
    if (d.kind !== 'ok') {
      // The framer hands over whole APDUs of a valid length, so only `malformed` is expected.
      this.ctx.anomaly(d.kind === 'malformed' ? d.code : 'iec104.truncated');
      return;
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    if (!this.confirmed && anomalies.length === 0) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    const apdu = d.value;
    switch (apdu.format) {
      case 'i': {
        const expected = this.nextSend[dir]!;
        if (expected >= 0 && apdu.sendSeq !== expected) this.ctx.anomaly('iec104.sequence_gap');
        this.nextSend[dir] = (apdu.sendSeq + 1) & 0x7fff;
        this.ctx.pdu?.(dir, apdu.asdu.typeId);
        this.session.asdu(apdu.asdu, ts);
        break;
      }
      case 'u':
        this.ctx.pdu?.(dir, U_FRAME_PDU + apdu.utype);
        this.session.uFrame(apdu.control, dir, ts);
        break;
      case 's':
        break;
    }
  }

  /**
   * The APDU `b[o, o + size)` (framed) when it has a common shape — an S-frame, or an I-frame of a
   * monitor report (fixed-size elements filling the APDU exactly, a cause that is not a command's
   * or a response's) — handled as the general path does, without the decoded records. False: the
   * general path must take it.
   */
  private fast(dir: Direction, b: Uint8Array, o: number, size: number, ts: number): boolean {
    const c1 = b[o + 2]!;
    if ((c1 & 1) !== 0) {
      if ((c1 & 3) === 3) {
        // U-frame: one function bit and zero octets 2–4, else the general path says what is wrong.
        if (uFunction(c1) === undefined || b[o + 3] !== 0 || b[o + 4] !== 0 || b[o + 5] !== 0) return false;
        this.confirm();
        this.ctx.pdu?.(dir, U_FRAME_PDU + (c1 >> 2));
        this.session.uFrame(c1, dir, ts);
        return true;
      }
      // S-frame: only its fields to check.
      if (c1 !== 1 || b[o + 3] !== 0) this.ctx.anomaly('iec104.bad_apci_fields');
      else this.confirm();
      return true;
    }
    const a = o + 6;
    const typeId = b[a]!;
    const vsq = b[a + 1]!;
    const cause = b[a + 2]! & COT_CAUSE;
    // Requests (5), commands and their confirmations (6..10, 44..47) are paired by the session.
    if ((cause >= 5 && cause <= 10) || (cause >= 44 && cause <= 47)) return false;
    const info = typeInfo(typeId);
    const each = info.size;
    const count = vsq & 0x7f;
    if (count === 0 || each < 0 || !isKnownType(typeId)) return false;
    const sq = (vsq & 0x80) !== 0;
    let p = a + ASDU_HEADER_LENGTH;
    if (p + (sq ? IOA_LENGTH + count * each : count * (IOA_LENGTH + each)) !== o + size) return false;
    this.confirm();
    const expected = this.nextSend[dir]!;
    const sendSeq = (c1 | (b[o + 3]! << 8)) >>> 1;
    if (expected >= 0 && sendSeq !== expected) this.ctx.anomaly('iec104.sequence_gap');
    this.nextSend[dir] = (sendSeq + 1) & 0x7fff;
    this.ctx.pdu?.(dir, typeId);
    let values: number[] | null = null;
    const kept = count < MAX_VALUES ? count : MAX_VALUES;
    let ioa = 0;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < count; i++) {
      if (!sq || i === 0) {
        ioa = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
        p += IOA_LENGTH;
      } else ioa = (ioa + 1) & 0xffffff;
      if (i === 0) lo = hi = ioa;
      else if (ioa < lo) lo = ioa;
      else if (ioa > hi) hi = ioa;
      if (i < kept) {
        // A type has a value for every element or for none: the array is made once, to size.
        const v = elementValue(typeId, b, p);
        if (v !== undefined) (values ??= new Array<number>(kept))[i] = v;
      }
      p += each;
    }
    this.session.reportMonitor(info, b[a + 4]! | (b[a + 5]! << 8), lo, hi, values, ts);
    return true;
  }

  private confirm(): void {
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
  }

  private badFrame(): void {
    if (this.detached) return;
    if (this.confirmed) {
      this.ctx.anomaly('iec104.bad_frame');
      return;
    }
    this.detached = true;
    this.ctx.violate('iec104.not_iec104');
  }
}

/** First bytes a client sent: a start octet, a length in range and a control field that fits it. */
function probe(bytes: Uint8Array): boolean {
  return frameIec104Apdu(bytes) >= 0 && bytes.length >= 2;
}

export const iec104Protocol = defineProtocol({
  name: 'iec104',
  transport: 'tcp',
  ports: [IEC104_PORT],
  probe,
  createAnalyzer: (ctx) => new Iec104Analyzer(ctx),
});
