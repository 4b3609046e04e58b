// Test support: annotated hex fixtures, a recording AnalyzerContext, and the replay of captured
// TCP/UDP payloads (per flow, in frame order) through an analyzer, for the tshark differential test.

import { TcpStream } from './tcp-stream.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent, StreamAnalyzer } from './types.ts';

/** Hex digits with `//` comments and any whitespace; throws on anything else. */
export function hex(annotated: string): Uint8Array {
  const digits = annotated
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`not an even run of hex digits: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
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

/** `stream` cut at the positions `cuts` (taken modulo its length + 1), as consecutive views. */
export function segments(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    if (p > prev) out.push(stream.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

export type Ev =
  | { t: 'op'; op: OperationEvent }
  | { t: 'fact'; fact: AssetFact }
  | { t: 'anomaly'; code: string }
  | { t: 'confirm' }
  | { t: 'violate'; code: string }
  | { t: 'pdu'; dir: Direction; code: number };

/** Records everything an analyzer reports; `pdu` events only when `withPdu`. */
export class Ctx implements AnalyzerContext {
  readonly events: Ev[] = [];
  readonly pdu: ((dir: Direction, code: number) => void) | undefined;
  constructor(withPdu = false) {
    this.pdu = withPdu ? (dir, code) => this.events.push({ t: 'pdu', dir, code }) : undefined;
  }
  operation(op: OperationEvent): void {
    // Analyzers may reuse the event and its values array (the context keeps none of it): copy both.
    this.events.push({ t: 'op', op: op.values === undefined ? { ...op } : { ...op, values: [...op.values] } });
  }
  fact(fact: AssetFact): void {
    this.events.push({ t: 'fact', fact });
  }
  anomaly(code: string): void {
    this.events.push({ t: 'anomaly', code });
  }
  confirm(): void {
    this.events.push({ t: 'confirm' });
  }
  violate(code: string): void {
    this.events.push({ t: 'violate', code });
  }
  ops(): OperationEvent[] {
    return this.events.flatMap((e) => (e.t === 'op' ? [e.op] : []));
  }
  anomalies(): string[] {
    return this.events.flatMap((e) => (e.t === 'anomaly' ? [e.code] : []));
  }
  /** The kinds of what was reported, in order (per-PDU trace events left out). */
  kinds(): string[] {
    return this.events.filter((e) => e.t !== 'pdu').map((e) => e.t);
  }
  identities(): Extract<AssetFact, { kind: 'identity' }>[] {
    return this.events.flatMap((e) => (e.t === 'fact' && e.fact.kind === 'identity' ? [e.fact] : []));
  }
  facts(): AssetFact[] {
    return this.events.flatMap((e) => (e.t === 'fact' ? [e.fact] : []));
  }
  pdus(): number[] {
    return this.events.flatMap((e) => (e.t === 'pdu' ? [e.code] : []));
  }
}

/** A Ctx that always records the per-PDU trace, and leaves it out of `kinds()`. */
export class TraceCtx extends Ctx {
  constructor() {
    super(true);
  }
  override kinds(): string[] {
    return this.events.filter((e) => e.t !== 'pdu').map((e) => e.t);
  }
}

/** One captured segment or datagram with a payload. */
export interface PacketRow {
  readonly frame: number;
  /** tshark's tcp.stream / udp.stream index. */
  readonly stream: number;
  readonly dir: Direction;
  /** tcp.seq_raw (0 for UDP). */
  readonly seq: number;
  readonly payload: string;
}

export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * tshark dissects TCP segments in frame order and does not wait for a missing segment (out-of-order
 * reassembly is off by default): to compare per frame, the replay buffers nothing either, so a hole
 * in the capture is declared lost at once (`gap`) instead of after TcpStream's bounds.
 */
const NO_BUFFERING = { maxBufferedBytes: 0, maxBufferedSegments: 0 };

/**
 * Feeds every row, in frame order, to one analyzer per stream (through TcpStream per direction for
 * TCP). Returns, per frame number, the codes the analyzer passed to `ctx.pdu` while that frame's
 * bytes were delivered, plus every event per stream.
 */
export function replay(
  rows: readonly PacketRow[],
  transport: 'tcp' | 'udp',
  create: (ctx: AnalyzerContext) => StreamAnalyzer,
): { codes: Map<number, number[]>; events: Map<number, Ev[]> } {
  const codes = new Map<number, number[]>();
  const events = new Map<number, Ev[]>();
  let current = 0;
  interface Flow {
    readonly ctx: Ctx;
    readonly analyzer: StreamAnalyzer;
    readonly streams: readonly [TcpStream, TcpStream] | null;
  }
  const flows = new Map<number, Flow>();
  class TracingCtx extends Ctx {
    override readonly pdu = (dir: Direction, code: number): void => {
      this.events.push({ t: 'pdu', dir, code });
      let list = codes.get(current);
      if (list === undefined) codes.set(current, (list = []));
      list.push(code);
    };
  }
  for (const row of rows) {
    let flow = flows.get(row.stream);
    if (flow === undefined) {
      const ctx = new TracingCtx();
      const analyzer = create(ctx);
      const sink = (dir: Direction) => ({
        data: (b: Uint8Array, ts: number) => analyzer.data(dir, b, ts),
        gap: (n: number) => analyzer.gap(dir, n),
      });
      flow = {
        ctx,
        analyzer,
        streams:
          transport === 'tcp' ? [new TcpStream(sink(0), NO_BUFFERING), new TcpStream(sink(1), NO_BUFFERING)] : null,
      };
      flows.set(row.stream, flow);
      events.set(row.stream, ctx.events);
    }
    current = row.frame;
    const bytes = fromHex(row.payload);
    if (flow.streams === null) flow.analyzer.data(row.dir, bytes, row.frame);
    else flow.streams[row.dir].segment(row.seq, bytes, row.frame);
  }
  current = -1;
  for (const f of flows.values()) {
    f.streams?.[0].flush();
    f.streams?.[1].flush();
    f.analyzer.end();
  }
  return { codes, events };
}
