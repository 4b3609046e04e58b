// IEC 60870-5-104 stream analyzer and its registration (TCP port 2404, 104 §10): frames APDUs per
// direction (§5), decodes APCI and ASDU, checks send sequence numbers and reports operations.

import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import { IEC104_PORT, MAX_APDU_SIZE } from './constants.ts';
import { decodeIec104Apdu, frameIec104Apdu } from './decode.ts';
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

  constructor(ctx: AnalyzerContext, maxPending?: number) {
    this.ctx = ctx;
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
