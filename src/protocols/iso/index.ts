// The ISO-on-TCP analyzer for port 102 (RFC 1006 TPKT + ISO 8073 COTP class 0): frames TPKTs,
// reassembles TSDUs from DT TPDUs, finds the application in the first TSDU (S7comm 0x32,
// S7comm-plus 0x72, or an ISO 8327 session carrying MMS) and hands every TSDU to its session.

import { PduFramer } from '../_core/pdu-framer.ts';
import { defineProtocol, type AnalyzerContext, type Direction, type StreamAnalyzer } from '../_core/types.ts';
import { decodeMmsPdu } from '../mms/decode.ts';
import { SPDU, decodeSpdu, upperLayers } from '../mms/osi.ts';
import { MmsSession } from '../mms/state.ts';
import { decodeS7Pdu } from '../s7comm/decode.ts';
import { S7PlusSession } from '../s7comm/plus-state.ts';
import { S7PLUS_PROTOCOL_ID, S7PLUS_VERSION } from '../s7comm/plus.ts';
import { S7Session } from '../s7comm/state.ts';
import { S7_PROTOCOL_ID } from '../s7comm/constants.ts';
import {
  DT_EOT,
  ISO_TSAP_PORT,
  MAX_TPKT_LENGTH,
  MAX_TSDU_LENGTH,
  MIN_TPKT_LENGTH,
  TPDU,
  TPKT_VERSION,
  type IsoApplication,
} from './constants.ts';
import { decodeCotp, frameTpkt } from './decode.ts';
import { TsduAssembler } from './reassembly.ts';
import type { IsoLink, TsduHandler } from './types.ts';

export { decodeCotp, frameTpkt, type CotpTpdu } from './decode.ts';
export { TsduAssembler } from './reassembly.ts';
export type { IsoLink, TsduHandler } from './types.ts';
export type { IsoApplication } from './constants.ts';

/** The application carried by a first TSDU, or null when it is none of those known. */
export function classifyTsdu(t: Uint8Array): IsoApplication | null {
  if (t.length === 0) return null;
  const first = t[0]!;
  if (first === S7_PROTOCOL_ID) return decodeS7Pdu(t).kind === 'ok' ? 's7comm' : null;
  if (first === S7PLUS_PROTOCOL_ID) {
    const v = t.length >= 4 ? t[1]! : -1;
    return v === S7PLUS_VERSION.v1 ||
      v === S7PLUS_VERSION.v2 ||
      v === S7PLUS_VERSION.v3 ||
      v === S7PLUS_VERSION.extKeepAlive ||
      v === S7PLUS_VERSION.keepAlive
      ? 's7comm_plus'
      : null;
  }
  const s = decodeSpdu(t);
  if (s.kind !== 'ok') return null;
  const { type, userData } = s.value;
  if (type === SPDU.connect || type === SPDU.accept || type === SPDU.dataTransfer) {
    // These carry the MMS PDU (initiate in CN/AC, the rest in DT): it must be there and decode.
    const mms = userData === null ? null : upperLayers(userData).mms;
    return mms !== null && decodeMmsPdu(mms).kind === 'ok' ? 'mms' : null;
  }
  // Release, refusal and abort SPDUs of an association caught late: they must fill the TSDU.
  return RELEASE_OR_ABORT.has(type) && s.consumed === t.length ? 'mms' : null;
}

const RELEASE_OR_ABORT: ReadonlySet<number> = new Set([
  SPDU.notFinished,
  SPDU.finish,
  SPDU.disconnect,
  SPDU.refuse,
  SPDU.abort,
  SPDU.abortAccept,
]);

/** A TLS record (secure S7comm-plus after InitSSL): not classified, and not a violation either. */
function isTlsRecord(b: Uint8Array): boolean {
  return b.length >= 5 && b[0]! >= 0x14 && b[0]! <= 0x17 && b[1] === 0x03 && b[2]! <= 0x04;
}

/**
 * One ISO-on-TCP flow. Direction 0 is the client side (requests, usually), 1 the server (port 102).
 *
 * - Before any valid TPDU, bytes that do not frame as a TPKT violate the protocol (`cotp.not_cotp`);
 *   later a bad frame is the anomaly `cotp.bad_frame` and the framer resynchronises.
 * - The application is found in the first non-empty TSDU; a TSDU that is none of those known
 *   violates the protocol (`s7comm.not_s7comm`). The flow is then named through the context's
 *   `rename` (`s7comm`, `s7comm_plus`, `mms`) and confirmed when a first request is
 *   answered, or at the second application PDU decoded without error (pushed reports).
 * - TSDUs are reassembled up to MAX_TSDU_LENGTH (`cotp.tsdu_too_long` beyond); a gap drops the
 *   TSDU in progress.
 * - Other anomalies: `cotp.tpdu_error` (ER TPDU), the COTP decoder's codes.
 */
export class IsoTsapAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly framers: readonly [PduFramer, PduFramer];
  private readonly tsdus: readonly [TsduAssembler, TsduAssembler];
  private readonly link: IsoLink;
  private readonly maxPending: number | undefined;
  private readonly fastPath: boolean;
  private app: TsduHandler | null = null;
  private appName: IsoApplication | null = null;
  private confirmed = false;
  private detached = false;
  /** A valid TPDU was decoded: framing errors are anomalies from then on. */
  private synced = false;
  /** Application PDUs decoded without error (two confirm the flow). */
  private validPdus = 0;

  /** `fastPath` false keeps S7comm off its fast path (to test that both paths agree). */
  constructor(ctx: AnalyzerContext, maxPending?: number, fastPath = true) {
    this.ctx = ctx;
    this.maxPending = maxPending;
    this.fastPath = fastPath;
    const bad = (): void => this.badFrame();
    this.framers = [
      new PduFramer(frameTpkt, (pdu, ts) => this.tpkt(0, pdu, ts), bad, MAX_TPKT_LENGTH),
      new PduFramer(frameTpkt, (pdu, ts) => this.tpkt(1, pdu, ts), bad, MAX_TPKT_LENGTH),
    ];
    this.tsdus = [new TsduAssembler(MAX_TSDU_LENGTH), new TsduAssembler(MAX_TSDU_LENGTH)];
    const confirm = (): void => {
      if (this.confirmed || this.detached) return;
      this.confirmed = true;
      ctx.confirm();
    };
    this.link = {
      ctx,
      answered: confirm,
      decoded: (): void => {
        if (++this.validPdus >= 2) confirm();
      },
    };
  }

  /** The application found, or null before the first TSDU. */
  get application(): IsoApplication | null {
    return this.appName;
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
    this.framers[dir].data(bytes, tsMicros);
  }

  /**
   * `data` for `buf[off, off + len)`. A segment that is one whole TPKT holding a class 0 DT with EOT
   * (a whole TSDU), with nothing held by the framer or the reassembler, goes straight to the
   * application, through its `tsduAt` when it has one (no view at all): no framer or reassembler
   * round. This is what the framer, `tpkt` and `dt` would do with it.
   */
  dataAt(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    const framer = this.framers[dir];
    const app = this.app;
    if (
      app !== null &&
      len > MIN_TPKT_LENGTH &&
      buf[off] === TPKT_VERSION &&
      buf[off + 1] === 0 &&
      ((buf[off + 2]! << 8) | buf[off + 3]!) === len &&
      buf[off + 4] === 2 &&
      buf[off + 5] === TPDU.dt &&
      (buf[off + 6]! & DT_EOT) !== 0 &&
      framer.idle &&
      this.tsdus[dir].idle
    ) {
      this.synced = true;
      framer.deliveredWhole(len);
      if (app.tsduAt === undefined || !app.tsduAt(dir, buf, off + 7, len - 7, tsMicros)) {
        app.tsdu(dir, buf.subarray(off + 7, off + len), tsMicros);
      }
      return;
    }
    framer.data(buf.subarray(off, off + len), tsMicros);
  }

  gap(dir: Direction, lostBytes: number): void {
    if (this.detached) return;
    this.framers[dir].gap(lostBytes);
    this.tsdus[dir].reset();
    this.app?.gap(dir);
  }

  end(): void {
    if (this.detached) return;
    this.app?.end();
  }

  private tpkt(dir: Direction, pdu: Uint8Array, ts: number): void {
    if (this.detached) return;
    // Class 0 DT (LI 2): most TPKTs; no record needed.
    if (pdu[4] === 2 && pdu[5] === TPDU.dt) {
      this.synced = true;
      this.dt(dir, pdu.subarray(7), (pdu[6]! & DT_EOT) !== 0, ts);
      return;
    }
    const d = decodeCotp(pdu);
    if (d.kind !== 'ok') {
      this.ctx.anomaly(d.kind === 'malformed' ? d.code : 'cotp.truncated');
      return;
    }
    this.synced = true;
    for (const a of d.anomalies) this.ctx.anomaly(a);
    const t = d.value;
    if (t.kind === 'data') this.dt(dir, t.data, t.eot, ts);
    else if (t.kind === 'error') this.ctx.anomaly('cotp.tpdu_error');
  }

  private dt(dir: Direction, data: Uint8Array, eot: boolean, ts: number): void {
    const assembler = this.tsdus[dir];
    const tsdu = assembler.push(data, eot);
    if (assembler.overflowed) this.ctx.anomaly('cotp.tsdu_too_long');
    if (tsdu === null || tsdu.length === 0) return;
    let app = this.app;
    if (app === null) {
      app = this.identify(tsdu);
      if (app === null) return;
    }
    app.tsdu(dir, tsdu, ts);
  }

  /** Starts the session of the application this first TSDU belongs to. */
  private identify(tsdu: Uint8Array): TsduHandler | null {
    const name = classifyTsdu(tsdu);
    if (name === null) {
      if (!isTlsRecord(tsdu)) {
        this.detached = true;
        this.ctx.violate('s7comm.not_s7comm');
      }
      return null;
    }
    this.appName = name;
    this.app =
      name === 's7comm'
        ? new S7Session(this.link, this.maxPending, this.fastPath)
        : name === 's7comm_plus'
          ? new S7PlusSession(this.link, this.maxPending)
          : new MmsSession(this.link, this.maxPending);
    this.ctx.rename?.(name);
    return this.app;
  }

  private badFrame(): void {
    if (this.detached) return;
    if (this.synced) {
      this.ctx.anomaly('cotp.bad_frame');
      return;
    }
    this.detached = true;
    this.ctx.violate('cotp.not_cotp');
  }
}

/** First bytes a client sent: a TPKT header whose COTP header is a known TPDU. */
function probe(bytes: Uint8Array): boolean {
  return frameTpkt(bytes) > 0;
}

/**
 * The analyzer registered for TCP 102. It is named `s7comm` (what port 102 is named by); on finding
 * S7comm-plus or MMS it renames the flow through the context's `rename` hook, and confirms it by
 * that application's PDUs.
 */
export const isoTsapProtocol = defineProtocol({
  name: 's7comm',
  transport: 'tcp',
  ports: [ISO_TSAP_PORT],
  probe,
  createAnalyzer: (ctx) => new IsoTsapAnalyzer(ctx),
});
