// The bidirectional flow table: one record per (address, port) pair and transport, client and
// server decided from the handshake or, mid-stream, from well-known ports; idle and absolute
// timeouts; a bound with eviction (counted). TCP payload is reordered per direction (TcpStream)
// and handed to the protocol analyzer registered for the server port.

import type {
  AnalyzerContext,
  AssetFact,
  Direction,
  OperationEvent,
  ProtocolDefinition,
  StreamAnalyzer,
} from '../protocols/_core/types.ts';
import { TcpStream, type TcpStreamSink } from '../protocols/_core/tcp-stream.ts';
import { isServicePort, portName } from '../protocols/ports.ts';
import type { Collector, OpAgg } from './collector.ts';

export const TRANSPORT_TCP = 6;
export const TRANSPORT_UDP = 17;

export interface FlowLimits {
  maxFlows: number;
  flowIdleMicros: number;
  flowMaxMicros: number;
  tcpMaxBufferedBytes: number;
  tcpMaxBufferedSegments: number;
}

/** Endpoint key of an address: `ip:<text>`, `group:<text>` (broadcast/multicast) or `mac:<aa:bb..>`. */
export type EndpointKey = string;

export class Flow implements AnalyzerContext {
  next: Flow | null = null;
  readonly hash: number;
  readonly kA: number;
  readonly kB: number;
  readonly pA: number;
  readonly pB: number;
  readonly proto: number;
  /** True when the canonical side A is the client. */
  readonly clientIsA: boolean;
  readonly cKey: EndpointKey;
  readonly sKey: EndpointKey;
  readonly cIp: string;
  readonly sIp: string;
  readonly cPort: number;
  readonly sPort: number;
  cMac = -1;
  sMac = -1;
  readonly vlan: number;
  /**
   * First and last timestamps (µs). Kept in a Float64Array: a double stored in an object field is
   * boxed, so `lastTs = ts` on every packet would allocate.
   */
  readonly times = new Float64Array(2);
  get firstTs(): number {
    return this.times[0]!;
  }
  get lastTs(): number {
    return this.times[1]!;
  }
  set lastTs(ts: number) {
    this.times[1] = ts;
  }
  pkts0 = 0;
  pkts1 = 0;
  bytes0 = 0;
  bytes1 = 0;
  fin0 = false;
  fin1 = false;
  rst = false;
  def: ProtocolDefinition | null;
  /**
   * True when the dissector was chosen by the client's port (e.g. a connection opened *from* port
   * 502): the analyzer's direction 0 (requests) is then server → client.
   */
  flip = false;
  /** Fragment frames credited to this flow beyond the one that completed each datagram. */
  extraFragmentFrames = 0;
  extraFragmentBytes = 0;
  analyzer: StreamAnalyzer | null = null;
  streams: [TcpStream, TcpStream] | null = null;
  confirmed = false;
  violated = false;
  ops: Map<string, OpAgg> | null = null;
  /** Per direction: a SYN was seen, so the stream starts at its beginning. */
  synSeen: [boolean, boolean] = [false, false];
  readonly table: FlowTable;

  constructor(
    table: FlowTable,
    hash: number,
    kA: number,
    kB: number,
    pA: number,
    pB: number,
    proto: number,
    clientIsA: boolean,
    ends: { cKey: string; sKey: string; cIp: string; sIp: string },
    vlan: number,
    ts: number,
    def: ProtocolDefinition | null,
  ) {
    this.table = table;
    this.hash = hash;
    this.kA = kA;
    this.kB = kB;
    this.pA = pA;
    this.pB = pB;
    this.proto = proto;
    this.clientIsA = clientIsA;
    this.cKey = ends.cKey;
    this.sKey = ends.sKey;
    this.cIp = ends.cIp;
    this.sIp = ends.sIp;
    this.cPort = clientIsA ? pA : pB;
    this.sPort = clientIsA ? pB : pA;
    this.vlan = vlan;
    this.times[0] = ts;
    this.times[1] = ts;
    this.def = def;
  }

  // AnalyzerContext: what the protocol analyzer reports about this flow.
  operation(op: OperationEvent): void {
    this.ops ??= new Map();
    this.table.collector.addOperation(this.ops, op);
  }

  fact(fact: AssetFact): void {
    this.table.onFact(this, fact);
  }

  anomaly(code: string): void {
    this.table.collector.anomaly(code);
  }

  confirm(): void {
    this.confirmed = true;
  }

  /** The confirmed protocol's name when the analyzer found a sibling protocol (see AnalyzerContext.rename). */
  private renamed: string | null = null;
  rename(protocol: string): void {
    this.renamed = protocol;
  }

  get pdu(): ((dir: Direction, code: number) => void) | undefined {
    const t = this.table.trace;
    if (t === null) return undefined;
    const name = this.renamed ?? this.def?.name ?? 'unknown';
    return (dir: Direction, code: number): void => t(name, dir, code);
  }

  violate(code: string): void {
    this.table.collector.anomaly(code);
    if (!this.confirmed) this.violated = true;
    this.analyzer = null;
    this.streams = null;
  }

  /** Starts the analyzer on first payload (so handshake-only flows cost nothing). */
  startAnalyzer(): StreamAnalyzer | null {
    const def = this.def;
    if (def === null || this.violated) return null;
    const a = def.createAnalyzer(this);
    this.analyzer = a;
    if (this.proto === TRANSPORT_TCP) {
      const lim = {
        maxBufferedBytes: this.table.limits.tcpMaxBufferedBytes,
        maxBufferedSegments: this.table.limits.tcpMaxBufferedSegments,
      };
      const sink = (flowDir: Direction): TcpStreamSink => {
        const dir: Direction = this.flip ? ((1 - flowDir) as Direction) : flowDir;
        return {
          data: (b: Uint8Array, ts: number): void => {
            this.analyzer?.data(dir, b, ts);
          },
          dataAt: (buf: Uint8Array, off: number, len: number, ts: number): void => {
            const an = this.analyzer;
            if (an === null) return;
            if (an.dataAt !== undefined) an.dataAt(dir, buf, off, len, ts);
            else an.data(dir, buf.subarray(off, off + len), ts);
          },
          gap: (n: number): void => {
            this.table.tcpGaps++;
            this.table.tcpGapBytes += n;
            this.analyzer?.gap(dir, n);
          },
        };
      };
      this.streams = [new TcpStream(sink(0), lim), new TcpStream(sink(1), lim)];
      this.synSeen = [false, false];
    }
    return a;
  }

  /** The protocol name for the model: confirmed by a dissector, else named by port. */
  protocolName(): { name: string; confirmed: boolean } {
    if (this.confirmed && this.def !== null) return { name: this.renamed ?? this.def.name, confirmed: true };
    if (this.violated) return { name: 'unknown', confirmed: false };
    if (this.proto === TRANSPORT_TCP || this.proto === TRANSPORT_UDP) {
      const t = this.proto === TRANSPORT_TCP ? 'tcp' : 'udp';
      return { name: portName(t, this.sPort) ?? 'unknown', confirmed: false };
    }
    return { name: 'unknown', confirmed: false };
  }
}

export interface Registry {
  tcp: Map<number, ProtocolDefinition>;
  udp: Map<number, ProtocolDefinition>;
}

export function buildRegistry(defs: readonly ProtocolDefinition[]): Registry {
  const r: Registry = { tcp: new Map(), udp: new Map() };
  for (const d of defs) for (const p of d.ports) (d.transport === 'tcp' ? r.tcp : r.udp).set(p, d);
  return r;
}

/** Decides which side of a first packet is the server when no SYN told us. */
export function senderIsServer(
  transport: 'tcp' | 'udp',
  sport: number,
  dport: number,
  registered: (port: number) => boolean,
): boolean {
  const sKnown = registered(sport) || isServicePort(transport, sport);
  const dKnown = registered(dport) || isServicePort(transport, dport);
  if (sKnown !== dKnown) return sKnown;
  if (sport < 1024 !== dport < 1024) return sport < 1024;
  if (sKnown && dKnown) return sport < dport;
  // Neither is a known service: the lower port is more likely the listener; ties mean the first
  // sender is the client.
  return sport < dport && dport >= 49152;
}

function mix(a: number, b: number, ports: number, proto: number): number {
  let h = Math.imul((a >>> 0) ^ (a > 0xffffffff ? 0x5bd1e995 : 0), 0x9e3779b1);
  h ^= Math.imul((b >>> 0) ^ (b > 0xffffffff ? 0x1b873593 : 0), 0x85ebca77);
  h ^= Math.imul(ports, 0xc2b2ae3d) ^ proto;
  h ^= h >>> 15;
  return h & 0x3fffffff;
}

export class FlowTable {
  readonly buckets = new Map<number, Flow>();
  size = 0;
  created = 0;
  evicted = 0;
  timedOut = 0;
  tcpGaps = 0;
  tcpGapBytes = 0;
  readonly limits: FlowLimits;
  readonly collector: Collector;
  readonly registry: Registry;
  /** Called when a flow ends (closed, timed out, evicted or at end of input). */
  readonly onEnd: (f: Flow) => void;
  readonly onFact: (f: Flow, fact: AssetFact) => void;
  private lastSweepTs = 0;
  /** Per-PDU trace hook (protocol, direction, code); null on the fast path. */
  trace: ((protocol: string, dir: Direction, code: number) => void) | null = null;

  constructor(
    limits: FlowLimits,
    collector: Collector,
    registry: Registry,
    onEnd: (f: Flow) => void,
    onFact: (f: Flow, fact: AssetFact) => void,
  ) {
    this.limits = limits;
    this.collector = collector;
    this.registry = registry;
    this.onEnd = onEnd;
    this.onFact = onFact;
  }

  // The canonical key of the last `canonical` call: side A is the lower (address, port).
  private kA = 0;
  private kB = 0;
  private pA = 0;
  private pB = 0;
  private srcFirst = false;

  /** Sets the canonical key fields for a packet from (src, sport) to (dst, dport); returns its hash. */
  private canonical(src: number, dst: number, sport: number, dport: number, proto: number): number {
    const srcFirst = src < dst || (src === dst && sport <= dport);
    this.srcFirst = srcFirst;
    this.kA = srcFirst ? src : dst;
    this.kB = srcFirst ? dst : src;
    this.pA = srcFirst ? sport : dport;
    this.pB = srcFirst ? dport : sport;
    return mix(this.kA, this.kB, (this.pA << 16) | this.pB, proto);
  }

  /** Finds the flow of a packet from (src, sport) to (dst, dport), in either direction, or null. */
  lookup(src: number, dst: number, sport: number, dport: number, proto: number): Flow | null {
    const h = this.canonical(src, dst, sport, dport, proto);
    const { kA, kB, pA, pB } = this;
    let f = this.buckets.get(h) ?? null;
    while (f !== null) {
      if (f.kA === kA && f.kB === kB && f.pA === pA && f.pB === pB && f.proto === proto) return f;
      f = f.next;
    }
    return null;
  }

  create(
    src: number,
    dst: number,
    sport: number,
    dport: number,
    proto: number,
    senderIsClient: boolean,
    ends: { cKey: string; sKey: string; cIp: string; sIp: string },
    vlan: number,
    ts: number,
  ): Flow {
    if (this.size >= this.limits.maxFlows) this.evictOldest();
    const h = this.canonical(src, dst, sport, dport, proto);
    const { kA, kB, pA, pB, srcFirst } = this;
    const clientIsA = senderIsClient === srcFirst;
    const sPort = senderIsClient ? dport : sport;
    const cPort = senderIsClient ? sport : dport;
    let def: ProtocolDefinition | null = null;
    let flip = false;
    const reg = proto === TRANSPORT_TCP ? this.registry.tcp : proto === TRANSPORT_UDP ? this.registry.udp : null;
    if (reg !== null) {
      def = reg.get(sPort) ?? null;
      if (def === null) {
        def = reg.get(cPort) ?? null;
        // UDP discovery answers (DHCP 67→68, NBNS 137→137) keep their direction; a TCP connection
        // opened from a service port has the service on the client side.
        flip = def !== null && proto === TRANSPORT_TCP;
      }
    }
    const f = new Flow(this, h, kA, kB, pA, pB, proto, clientIsA, ends, vlan, ts, def);
    f.flip = flip;
    f.next = this.buckets.get(h) ?? null;
    this.buckets.set(h, f);
    this.size++;
    this.created++;
    return f;
  }

  /** Removes a flow from the table and reports it ended. */
  end(f: Flow): void {
    const head = this.buckets.get(f.hash);
    if (head === f) {
      if (f.next === null) this.buckets.delete(f.hash);
      else this.buckets.set(f.hash, f.next);
    } else {
      let p = head ?? null;
      while (p !== null && p.next !== f) p = p.next;
      if (p !== null) p.next = f.next;
    }
    f.next = null;
    this.size--;
    this.onEnd(f);
  }

  /** Ends idle, closed and over-age flows; cheap unless enough capture time passed. */
  maybeSweep(now: number): void {
    const interval = 5_000_000 * Math.max(1, Math.floor(this.size / 10_000));
    if (now - this.lastSweepTs < interval) return;
    this.lastSweepTs = now;
    const idle = this.limits.flowIdleMicros;
    const closedGrace = Math.min(idle, 30_000_000);
    const maxAge = this.limits.flowMaxMicros;
    const ended: Flow[] = [];
    for (const head of this.buckets.values()) {
      for (let f: Flow | null = head; f !== null; f = f.next) {
        const quiet = now - f.lastTs;
        if (quiet > idle || ((f.rst || (f.fin0 && f.fin1)) && quiet > closedGrace) || now - f.firstTs > maxAge)
          ended.push(f);
      }
    }
    for (const f of ended) {
      this.timedOut++;
      this.end(f);
    }
  }

  private evictOldest(): void {
    const all: Flow[] = [];
    for (const head of this.buckets.values()) for (let f: Flow | null = head; f !== null; f = f.next) all.push(f);
    all.sort((a, b) => a.lastTs - b.lastTs);
    const n = Math.max(1, Math.ceil(all.length / 10));
    for (let i = 0; i < n; i++) {
      this.evicted++;
      this.end(all[i]!);
    }
  }

  /** Ends every flow (end of input). */
  endAll(): void {
    const all: Flow[] = [];
    for (const head of this.buckets.values()) for (let f: Flow | null = head; f !== null; f = f.next) all.push(f);
    all.sort((a, b) => a.firstTs - b.firstTs);
    for (const f of all) this.end(f);
  }
}
