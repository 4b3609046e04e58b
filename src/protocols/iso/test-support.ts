// Test support for the port-102 analyzers: annotated hex fixtures, a recording AnalyzerContext (with
// the `rename` hook), and a capture replay that reassembles TCP per direction and feeds the
// demultiplexer, recording per frame what it reports (the differential tests read the frames).

import { FRAME, PacketView, TCP_SYN } from '../link/packet.ts';
import { decodeFrame } from '../link/decode.ts';
import { TcpStream, type TcpStreamLimits, type TcpStreamSink } from '../_core/tcp-stream.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent, StreamAnalyzer } from '../_core/types.ts';
import { ISO_TSAP_PORT } from './constants.ts';
import { IsoTsapAnalyzer } from './index.ts';

export { hex } from '../_core/testing.ts';

/** A TPKT + class 0 DT (EOT set unless told) around a TSDU. */
export function tpktDt(tsdu: Uint8Array, eot = true): Uint8Array {
  const out = new Uint8Array(7 + tsdu.length);
  out.set([3, 0, (out.length >> 8) & 255, out.length & 255, 2, 0xf0, eot ? 0x80 : 0x00], 0);
  out.set(tsdu, 7);
  return out;
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type Event =
  | { t: 'op'; op: OperationEvent }
  | { t: 'fact'; fact: AssetFact }
  | { t: 'anomaly'; code: string }
  | { t: 'confirm' }
  | { t: 'violate'; code: string }
  | { t: 'rename'; protocol: string }
  | { t: 'pdu'; dir: Direction; code: number };

/** Records every report; `protocol` follows `rename`. */
export class RecordingContext implements AnalyzerContext {
  readonly events: Event[] = [];
  protocol = 's7comm';
  confirmed = false;
  readonly pdu: (dir: Direction, code: number) => void;
  private readonly onFact: ((fact: AssetFact) => void) | undefined;

  constructor(onPdu?: (dir: Direction, code: number) => void, onFact?: (fact: AssetFact) => void) {
    this.pdu = (dir, code): void => {
      this.events.push({ t: 'pdu', dir, code });
      onPdu?.(dir, code);
    };
    this.onFact = onFact;
  }

  operation(op: OperationEvent): void {
    this.events.push({ t: 'op', op: { ...op, ...(op.values ? { values: [...op.values] } : {}) } });
  }
  fact(fact: AssetFact): void {
    this.events.push({ t: 'fact', fact });
    this.onFact?.(fact);
  }
  anomaly(code: string): void {
    this.events.push({ t: 'anomaly', code });
  }
  confirm(): void {
    this.confirmed = true;
    this.events.push({ t: 'confirm' });
  }
  violate(code: string): void {
    this.events.push({ t: 'violate', code });
  }
  rename(protocol: string): void {
    this.protocol = protocol;
    this.events.push({ t: 'rename', protocol });
  }

  ops(): OperationEvent[] {
    return this.events.flatMap((e) => (e.t === 'op' ? [e.op] : []));
  }
  facts(): AssetFact[] {
    return this.events.flatMap((e) => (e.t === 'fact' ? [e.fact] : []));
  }
  anomalies(): string[] {
    return this.events.flatMap((e) => (e.t === 'anomaly' ? [e.code] : []));
  }
  pdus(): Array<[Direction, number]> {
    return this.events.flatMap((e): Array<[Direction, number]> => (e.t === 'pdu' ? [[e.dir, e.code]] : []));
  }
  kinds(): string[] {
    return this.events.map((e) => e.t);
  }
}

/** One PDU code reported while a frame was being processed. */
export interface FrameTrace {
  readonly frame: number;
  readonly flow: number;
  readonly dir: Direction;
  readonly code: number;
}

/** One fact reported while a frame was being processed. */
export interface FrameFact {
  readonly frame: number;
  readonly flow: number;
  readonly fact: AssetFact;
}

export interface ReplayFlow {
  readonly id: number;
  readonly ctx: RecordingContext;
  readonly analyzer: StreamAnalyzer;
  readonly streams: [TcpStream, TcpStream];
  readonly synSeen: [boolean, boolean];
}

/**
 * Like tshark on captures saved with a display filter (frames without S7 removed, so TCP has holes
 * that never fill): a segment ahead of the expected sequence number is a gap at once.
 */
export const SKIP_HOLES: TcpStreamLimits = { maxBufferedBytes: 0, maxBufferedSegments: 0 };

/**
 * Replays IPv4 TCP packets to or from port 102 (in capture order) through TcpStream and the
 * port-102 analyzer, one per connection, recording PDU codes and facts by frame number (1-based,
 * counting every packet given).
 */
export class CaptureReplay {
  readonly traces: FrameTrace[] = [];
  readonly facts: FrameFact[] = [];
  readonly flows: ReplayFlow[] = [];
  frame = 0;
  private readonly byKey = new Map<string, ReplayFlow>();
  private readonly view = new PacketView();
  private readonly limits: TcpStreamLimits | undefined;
  private readonly zeroView: boolean;
  private readonly fastPath: boolean;

  /**
   * `zeroView` hands in-order segments over through `dataAt`, as the packet path does; `fastPath`
   * false keeps S7comm off its fast path.
   */
  constructor(limits?: TcpStreamLimits, zeroView = false, fastPath = true) {
    this.limits = limits;
    this.zeroView = zeroView;
    this.fastPath = fastPath;
  }

  packet(buf: Uint8Array, off: number, len: number, linkType: number, ts: number): void {
    this.frame++;
    const p = this.view;
    decodeFrame(buf, off, len, linkType, p);
    if (p.status !== FRAME.ok || p.ipVersion !== 4 || p.ipProto !== 6) return;
    const toServer = p.dstPort === ISO_TSAP_PORT;
    if (!toServer && p.srcPort !== ISO_TSAP_PORT) return;
    const key = toServer
      ? `${p.srcIp}:${p.srcPort}>${p.dstIp}:${p.dstPort}`
      : `${p.dstIp}:${p.dstPort}>${p.srcIp}:${p.srcPort}`;
    let flow = this.byKey.get(key);
    if (flow === undefined) flow = this.open(key);
    const dir: Direction = toServer ? 0 : 1;
    const stream = flow.streams[dir];
    if ((p.tcpFlags & TCP_SYN) !== 0) {
      stream.syn(p.tcpSeq);
      flow.synSeen[dir] = true;
    }
    if (p.payloadLength > 0) {
      if (!stream.isStarted && !flow.synSeen[dir]) flow.analyzer.gap(dir, 0);
      stream.segmentAt(p.tcpSeq, buf, p.payloadOffset, p.payloadLength, ts);
    }
  }

  /** End of capture: flush the streams and end every analyzer. */
  finish(): void {
    for (const f of this.flows) {
      f.streams[0].flush();
      f.streams[1].flush();
      f.analyzer.end();
    }
  }

  private open(key: string): ReplayFlow {
    const id = this.flows.length;
    const ctx = new RecordingContext(
      (dir, code) => this.traces.push({ frame: this.frame, flow: id, dir, code }),
      (fact) => this.facts.push({ frame: this.frame, flow: id, fact }),
    );
    const analyzer = new IsoTsapAnalyzer(ctx, undefined, this.fastPath);
    const sink = (dir: Direction): TcpStreamSink => {
      const data = (b: Uint8Array, ts: number): void => analyzer.data(dir, b, ts);
      const gap = (n: number): void => analyzer.gap(dir, n);
      if (!this.zeroView) return { data, gap };
      const dataAt = (b: Uint8Array, off: number, len: number, ts: number): void =>
        analyzer.dataAt(dir, b, off, len, ts);
      return { data, dataAt, gap };
    };
    const flow: ReplayFlow = {
      id,
      ctx,
      analyzer,
      streams: [new TcpStream(sink(0), this.limits), new TcpStream(sink(1), this.limits)],
      synSeen: [false, false],
    };
    this.flows.push(flow);
    this.byKey.set(key, flow);
    return flow;
  }
}

/** Per-frame PDU codes (one direction per frame), as tshark shows them or as we traced them. */
export interface FrameCodes {
  readonly dir: Direction;
  readonly codes: number[];
}

/**
 * Compact text for a checked-in reference: `<frame delta><'>' to server | '<' from server><codes in
 * hex joined by '.'>` per frame, space separated.
 */
export function encodeFrames(frames: ReadonlyMap<number, FrameCodes>): string {
  let prev = 0;
  const out: string[] = [];
  for (const [frame, f] of [...frames].sort((a, b) => a[0] - b[0])) {
    out.push(`${frame - prev}${f.dir === 0 ? '>' : '<'}${f.codes.map((c) => c.toString(16)).join('.')}`);
    prev = frame;
  }
  return out.join(' ');
}

export function decodeFrames(s: string): Map<number, FrameCodes> {
  const m = new Map<number, FrameCodes>();
  let frame = 0;
  for (const e of s.split(' ').filter(Boolean)) {
    const x = /^(\d+)([<>])(.*)$/.exec(e);
    if (x === null) throw new Error(`bad reference entry ${e}`);
    frame += Number(x[1]);
    const codes = x[3] === '' ? [] : x[3]!.split('.').map((h) => parseInt(h, 16));
    m.set(frame, { dir: x[2] === '>' ? 0 : 1, codes });
  }
  return m;
}

/** Our traced codes by frame, for the flows kept. */
export function tracedFrames(traces: readonly FrameTrace[], keep: (flow: number) => boolean): Map<number, FrameCodes> {
  const m = new Map<number, FrameCodes>();
  for (const t of traces) {
    if (!keep(t.flow)) continue;
    const f = m.get(t.frame);
    if (f === undefined) m.set(t.frame, { dir: t.dir, codes: [t.code] });
    else f.codes.push(t.code);
  }
  return m;
}

export interface Disagreement {
  readonly frame: number;
  readonly tshark: string;
  readonly ours: string;
}

export interface Agreement {
  /** PDUs compared: per frame, the larger of the two counts. */
  compared: number;
  agreeing: number;
  readonly disagreements: Disagreement[];
}

/** Compares per-frame codes as multisets (tshark lists each field's values apart). */
export function compareFrames(
  theirs: ReadonlyMap<number, FrameCodes>,
  ours: ReadonlyMap<number, FrameCodes>,
): Agreement {
  const a: Agreement = { compared: 0, agreeing: 0, disagreements: [] };
  const frames = new Set([...theirs.keys(), ...ours.keys()]);
  const show = (f: FrameCodes | undefined): string =>
    f === undefined ? '-' : `${f.dir === 0 ? '>' : '<'}${[...f.codes].sort((x, y) => x - y).join('.')}`;
  for (const frame of [...frames].sort((x, y) => x - y)) {
    const t = theirs.get(frame);
    const o = ours.get(frame);
    const tc = t?.codes ?? [];
    const oc = o?.codes ?? [];
    const n = Math.max(tc.length, oc.length);
    let same = 0;
    if (t !== undefined && o !== undefined && t.dir === o.dir) {
      const left = [...oc];
      for (const c of tc) {
        const i = left.indexOf(c);
        if (i >= 0) {
          left.splice(i, 1);
          same++;
        }
      }
    }
    a.compared += n;
    a.agreeing += same;
    if (same < n) a.disagreements.push({ frame, tshark: show(t), ours: show(o) });
  }
  return a;
}
