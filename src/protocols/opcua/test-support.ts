// Test support: annotated hex fixtures, a recording AnalyzerContext, and a replay of captured frames
// through TCP reassembly (TcpStream per direction) into a stream analyzer, one analyzer per
// connection whatever its ports (as tshark's `-d tcp.port==P,proto` would decode it).

import { decodeFrame } from '../link/decode.ts';
import { FRAME, PacketView, TCP_ACK, TCP_SYN } from '../link/packet.ts';
import { TcpStream } from '../_core/tcp-stream.ts';
import type { AnalyzerContext, Direction, StreamAnalyzer } from '../_core/types.ts';

import { Ctx as RecordingContext, type Ev } from '../_core/testing.ts';

export { cat, Ctx as RecordingContext, hex, type Ev } from '../_core/testing.ts';

/** `bytes` cut at the given points (taken modulo its length + 1); each piece is a copy. */
export function chunks(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const ps = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...ps, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

/** One captured frame, numbered from 1 like tshark's frame.number. */
export interface CapturedFrame {
  readonly number: number;
  readonly linkType: number;
  readonly data: Uint8Array;
  readonly tsMicros: number;
}

/** A PDU the analyzer traced, with the frame whose bytes completed it. */
export interface TracedPdu {
  readonly frame: number;
  readonly dir: Direction;
  readonly code: number;
}

/** What one TCP connection's analyzer reported. */
export interface ReplayedConnection {
  /** `client > server` endpoints (`ip:port`, IPv6 in hex). */
  readonly key: string;
  readonly clientPort: number;
  readonly serverPort: number;
  readonly pdus: TracedPdu[];
  readonly events: Ev[];
  /** The frames whose TCP payload belonged to the connection, and the direction of each. */
  readonly frames: number[];
  readonly dirs: Direction[];
}

interface Conn {
  readonly out: ReplayedConnection;
  readonly analyzer: StreamAnalyzer;
  readonly streams: readonly [TcpStream, TcpStream];
  readonly synSeen: [boolean, boolean];
  readonly clientKey: string;
}

function endpoint(b: Uint8Array, p: PacketView, src: boolean): string {
  const port = src ? p.srcPort : p.dstPort;
  if (p.ipVersion === 4) {
    const ip = src ? p.srcIp : p.dstIp;
    return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${port}`;
  }
  const off = src ? p.srcIp6Offset : p.dstIp6Offset;
  let s = '';
  for (let i = 0; i < 16; i++) s += b[off + i]!.toString(16).padStart(2, '0');
  return `[${s}]:${port}`;
}

/**
 * Replays frames through per-connection TCP reassembly into analyzers made by `create`. The client is
 * the sender of a SYN (or the receiver of a SYN+ACK); without a handshake, the side using one of
 * `serverPorts`, else the first sender. Directions whose start was not seen begin with `gap(dir, 0)`,
 * as in the pipeline. Only connections with payload are returned.
 */
export function replayTcp(
  frames: Iterable<CapturedFrame>,
  create: (ctx: AnalyzerContext) => StreamAnalyzer,
  serverPorts: ReadonlySet<number>,
): ReplayedConnection[] {
  const p = new PacketView();
  const conns = new Map<string, Conn>();
  const order: Conn[] = [];
  let current = 0;
  for (const f of frames) {
    decodeFrame(f.data, 0, f.data.length, f.linkType, p);
    if (p.status !== FRAME.ok || p.ipProto !== 6 || p.srcPort < 0) continue;
    const src = endpoint(f.data, p, true);
    const dst = endpoint(f.data, p, false);
    const key = src < dst ? `${src} ${dst}` : `${dst} ${src}`;
    const syn = (p.tcpFlags & TCP_SYN) !== 0;
    const ack = (p.tcpFlags & TCP_ACK) !== 0;
    let c = conns.get(key);
    if (c === undefined) {
      if (!syn && p.payloadLength === 0) continue;
      let senderIsClient: boolean;
      if (syn) senderIsClient = !ack;
      else if (serverPorts.has(p.srcPort) !== serverPorts.has(p.dstPort)) senderIsClient = serverPorts.has(p.dstPort);
      else senderIsClient = true;
      const clientKey = senderIsClient ? src : dst;
      const ctx = new RecordingContext();
      const out: ReplayedConnection = {
        key: senderIsClient ? `${src} > ${dst}` : `${dst} > ${src}`,
        clientPort: senderIsClient ? p.srcPort : p.dstPort,
        serverPort: senderIsClient ? p.dstPort : p.srcPort,
        pdus: [],
        events: ctx.events,
        frames: [],
        dirs: [],
      };
      const analyzer = create({
        operation: (op) => ctx.operation(op),
        fact: (fact) => ctx.fact(fact),
        anomaly: (code) => ctx.anomaly(code),
        confirm: () => ctx.confirm(),
        violate: (code) => ctx.violate(code),
        pdu: (dir, code) => {
          out.pdus.push({ frame: current, dir, code });
        },
      });
      const sink = (dir: Direction): ConstructorParameters<typeof TcpStream>[0] => ({
        data: (b, ts) => analyzer.data(dir, b, ts),
        gap: (n) => analyzer.gap(dir, n),
      });
      c = {
        out,
        analyzer,
        streams: [new TcpStream(sink(0)), new TcpStream(sink(1))],
        synSeen: [false, false],
        clientKey,
      };
      conns.set(key, c);
      order.push(c);
    }
    const dir: Direction = src === c.clientKey ? 0 : 1;
    const stream = c.streams[dir];
    if (syn) {
      c.synSeen[dir] = true;
      stream.syn(p.tcpSeq);
    }
    if (p.payloadLength === 0) continue;
    current = f.number;
    c.out.frames.push(f.number);
    c.out.dirs.push(dir);
    if (!stream.isStarted && !c.synSeen[dir]) c.analyzer.gap(dir, 0);
    stream.segment(p.tcpSeq, f.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength), f.tsMicros);
  }
  for (const c of order) {
    current = c.out.frames.at(-1) ?? 0;
    c.streams[0].flush();
    c.streams[1].flush();
    c.analyzer.end();
  }
  return order.filter((c) => c.out.frames.length > 0).map((c) => c.out);
}

/**
 * Aligns two sequences of PDU codes (longest common subsequence) and returns the pairs that agree
 * and the unmatched items of each side with their positions, so disagreements can be named by frame.
 */
export function alignCodes(
  theirs: readonly number[],
  ours: readonly number[],
): { agree: number; onlyTheirs: number[]; onlyOurs: number[] } {
  const n = theirs.length;
  const m = ours.length;
  // Common prefix and suffix first: most sequences agree entirely, so the table stays small.
  let lo = 0;
  while (lo < n && lo < m && theirs[lo] === ours[lo]) lo++;
  let hi = 0;
  while (hi < n - lo && hi < m - lo && theirs[n - 1 - hi] === ours[m - 1 - hi]) hi++;
  const a = theirs.slice(lo, n - hi);
  const b = ours.slice(lo, m - hi);
  const w = b.length + 1;
  const t = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      t[i * w + j] = a[i] === b[j] ? t[(i + 1) * w + j + 1]! + 1 : Math.max(t[(i + 1) * w + j]!, t[i * w + j + 1]!);
  const onlyTheirs: number[] = [];
  const onlyOurs: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (t[(i + 1) * w + j]! >= t[i * w + j + 1]!) onlyTheirs.push(lo + i++);
    else onlyOurs.push(lo + j++);
  }
  while (i < a.length) onlyTheirs.push(lo + i++);
  while (j < b.length) onlyOurs.push(lo + j++);
  return { agree: lo + hi + t[0]!, onlyTheirs, onlyOurs };
}
