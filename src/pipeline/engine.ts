// The packet path: frames → L2–L4 decode → flow table + TCP reordering → protocol analyzers, and the
// layer-2 protocols that never reach IP (ARP, LLDP, Profinet, GOOSE...). Allocation-free per packet
// on the common path; everything learnt goes to the Collector.

import type { PacketBatch } from '../capture/types.ts';
import type { Limits } from '../core/limits.ts';
import { formatIpv4, formatIpv6, formatMac } from '../core/text.ts';
import type {
  AnalyzerContext,
  AssetFact,
  Direction,
  L2ProtocolDefinition,
  OperationEvent,
  ProtocolDefinition,
  StreamAnalyzer,
} from '../protocols/_core/types.ts';
import { decodeArp } from '../protocols/arp/decode.ts';
import { etherTypeName, ipProtocolName, LLC_SAP_BASE } from '../protocols/ethertypes.ts';
import { decodeFrame, decodeTransport } from '../protocols/link/decode.ts';
import { IpReassembler } from '../protocols/link/ip-reassembly.ts';
import { FRAME, macAt, PacketView, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../protocols/link/packet.ts';
import { decodeLldp, type LldpPdu } from '../protocols/lldp/decode.ts';
import { Collector, type CommAgg, type MacAgg } from './collector.ts';
import { buildRegistry, type Flow, FlowTable, senderIsServer, TRANSPORT_TCP, TRANSPORT_UDP } from './flows.ts';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_LLDP = 0x88cc;
const BROADCAST_MAC = 0xffffffffffff;
/** First IPv6 address id; IPv4 addresses use their 32-bit value below it. */
const IPV6_BASE = 0x100000000;

export interface EngineOptions {
  limits: Limits;
  protocols: readonly ProtocolDefinition[];
  /** Protocols carried directly in Ethernet frames (Profinet, GOOSE, ...). */
  l2Protocols?: readonly L2ProtocolDefinition[] | undefined;
  /** Per-PDU trace: 1-based frame number of the packet that completed the PDU, protocol, direction, code. */
  trace?: ((frame: number, protocol: string, dir: Direction, code: number) => void) | undefined;
  /** Called with every flow as it ends (for per-conversation traces and differential tests). */
  onFlow?: ((flow: FlowRecord) => void) | undefined;
}

/** A finished flow as the outside sees it. */
export interface FlowRecord {
  transport: number;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  protocol: string;
  packets: number;
  bytes: number;
  firstTs: number;
  lastTs: number;
  /** IP fragment frames counted beyond the frame that completed each datagram (tshark counts only that one). */
  extraFragmentFrames: number;
  extraFragmentBytes: number;
}

function isGroupMac(mac: number): boolean {
  // The I/G bit is the least significant bit of the first octet.
  return mac >= 0 && Math.floor(mac / 0x10000000000) % 2 === 1;
}

/** What a layer-2 analyzer reports about one (source MAC, destination, ethertype) communication. */
class L2Context implements AnalyzerContext {
  analyzer: StreamAnalyzer | null = null;
  private readonly engine: Engine;
  private readonly comm: CommAgg;
  private readonly protocol: string;

  constructor(engine: Engine, comm: CommAgg, protocol: string) {
    this.engine = engine;
    this.comm = comm;
    this.protocol = protocol;
  }

  operation(op: OperationEvent): void {
    this.engine.collector.addOperation(this.comm.ops, op);
  }

  fact(fact: AssetFact): void {
    this.engine.l2Fact(this.comm, fact);
  }

  anomaly(code: string): void {
    this.engine.collector.anomaly(code);
  }

  confirm(): void {
    this.comm.confirmed = true;
  }

  violate(code: string): void {
    this.engine.collector.anomaly(code);
    this.analyzer = null;
  }

  get pdu(): ((dir: Direction, code: number) => void) | undefined {
    const t = this.engine.l2Trace;
    if (t === null) return undefined;
    return (dir: Direction, code: number): void => t(this.protocol, dir, code);
  }
}

/** A layer-2 communication as the packet path finds it: by source MAC, destination and ethertype. */
interface L2Entry {
  readonly comm: CommAgg;
  readonly et: number;
  /** Its analyzer context; null when no dissector takes the ethertype; undefined until looked up. */
  ctx: L2Context | null | undefined;
}

/** One layer-2 triple and everything a frame of it updates (see Engine.l2Cached). */
interface L2CacheSlot {
  readonly src: number;
  readonly dst: number;
  readonly et: number;
  readonly counter: { packets: number; bytes: number };
  readonly srcAgg: MacAgg;
  readonly dstAgg: MacAgg | null;
  readonly entry: L2Entry;
}

const L2_CACHE_SLOTS = 256;

/** The cache slot of a (source MAC, destination MAC, ethertype) triple. */
function l2Slot(src: number, dst: number, et: number): number {
  const h = Math.imul((src % 0x1000000) ^ Math.imul(dst % 0x1000000, 0x9e3779b1) ^ et, 0x85ebca77);
  return (h ^ (h >>> 16)) & (L2_CACHE_SLOTS - 1);
}

/** Frames of a datagram in reassembly, and what its first fragment said (for datagrams never completed). */
interface FragMeta {
  frames: number;
  bytes: number;
  first: {
    src: number;
    dst: number;
    proto: number;
    sport: number;
    dport: number;
    srcMac: number;
    dstMac: number;
    vlan: number;
    ts: number;
    tcpFlags: number;
    icmpType: number;
  } | null;
}

export class Engine {
  readonly collector: Collector;
  readonly flows: FlowTable;
  readonly reassembler: IpReassembler;
  readonly linkTypePackets = new Map<number, number>();
  packets = 0;
  bytes = 0;
  /** First and last timestamps seen (µs), in a Float64Array so updating them allocates nothing. */
  private readonly span = Float64Array.of(Infinity, -Infinity);
  get firstTs(): number {
    return this.span[0]!;
  }
  get lastTs(): number {
    return this.span[1]!;
  }
  private readonly pv = new PacketView();
  /** The current packet's timestamp (µs). */
  private readonly now = new Float64Array(1);
  /** Layer-2 communications by source MAC, then destination MAC and ethertype. */
  private readonly l2Comms = new Map<number, Map<number, L2Entry[]>>();
  private readonly l2Cache: (L2CacheSlot | undefined)[] = new Array<L2CacheSlot | undefined>(L2_CACHE_SLOTS);
  private curLink = -1;
  private curLinkCount = 0;
  private readonly ipv6Ids = new Map<string, number>();
  private readonly ipv6Text: string[] = [];
  private readonly limits: Limits;
  /** Fragments waiting per datagram key: frames and wire bytes, credited to the flow on completion. */
  private readonly fragFrames = new Map<string, FragMeta>();

  private readonly onFlow: ((flow: FlowRecord) => void) | undefined;
  private readonly l2Defs = new Map<number, L2ProtocolDefinition>();
  private readonly l2Analyzers = new Map<CommAgg, L2Context>();
  /** Per-PDU trace for layer-2 analyzers (protocol, direction, code); null on the fast path. */
  l2Trace: ((protocol: string, dir: Direction, code: number) => void) | null = null;

  constructor(opts: EngineOptions) {
    this.limits = opts.limits;
    this.onFlow = opts.onFlow;
    this.collector = new Collector(opts.limits);
    this.flows = new FlowTable(
      opts.limits,
      this.collector,
      buildRegistry(opts.protocols),
      (f) => this.flowEnded(f),
      (f, fact) => this.flowFact(f, fact),
    );
    const trace = opts.trace;
    if (trace !== undefined) {
      this.flows.trace = (proto, dir, code) => trace(this.packets, proto, dir, code);
      this.l2Trace = (proto, dir, code) => trace(this.packets, proto, dir, code);
    }
    for (const d of opts.l2Protocols ?? []) for (const et of d.etherTypes) this.l2Defs.set(et, d);
    this.reassembler = new IpReassembler({
      maxDatagrams: opts.limits.ipFragMaxDatagrams,
      maxBytes: opts.limits.ipFragMaxBytes,
      timeoutMicros: opts.limits.ipFragTimeoutMicros,
    });
  }

  batch(b: PacketBatch): void {
    const { data, offset, capLen, origLen, tsMicros, linkType } = b;
    const now = this.now;
    for (let i = 0; i < b.count; i++) {
      // The timestamp travels through a Float64Array: passing a double to a call that is not
      // inlined boxes it, one allocation per packet.
      now[0] = tsMicros[i]!;
      this.packetNow(data, offset[i]!, capLen[i]!, origLen[i]!, linkType[i]!);
    }
  }

  packet(buf: Uint8Array, off: number, capLen: number, wireLen: number, ts: number, linkType: number): void {
    this.now[0] = ts;
    this.packetNow(buf, off, capLen, wireLen, linkType);
  }

  /** One frame; its timestamp is `now[0]`. */
  private packetNow(buf: Uint8Array, off: number, capLen: number, wireLen: number, linkType: number): void {
    const ts = this.now[0]!;
    this.packets++;
    this.bytes += wireLen;
    const span = this.span;
    if (ts < span[0]!) span[0] = ts;
    if (ts > span[1]!) span[1] = ts;
    if (linkType === this.curLink) this.curLinkCount++;
    else this.switchLink(linkType);
    if ((this.packets & 0x3fff) === 0) this.flows.maybeSweep(ts);
    const p = this.pv;
    decodeFrame(buf, off, capLen, linkType, p);
    const st = p.status;
    if (st === FRAME.unsupportedLink) return;
    if (st === FRAME.malformed) {
      this.collector.anomaly(p.anomaly ?? 'frame.malformed');
      // A frame cut inside L3/L4 still tells which MAC sent it.
      const sm = macAt(buf, p.srcMacOffset);
      if (sm >= 0 && !isGroupMac(sm)) this.l2Seen(sm, p.vlan, ts, wireLen, false);
      return;
    }
    const et = p.etherType;
    if (et !== ETH_IPV4 && et !== ETH_IPV6) {
      this.l2Frame(buf, p, ts, wireLen);
      return;
    }
    if (p.tunnelDepth > 0) this.tunnel(buf, p, ts, wireLen);
    if (st === FRAME.fragment) {
      if (!this.fragment(buf, p, ts, wireLen)) return;
    }
    this.ipPacket(buf, p, wireLen);
  }

  /** Feeds a fragment; returns true (with `pv` now describing the whole datagram) when it completed one. */
  private fragment(buf: Uint8Array, p: PacketView, ts: number, wireLen: number): boolean {
    const src = p.ipVersion === 4 ? String(p.srcIp) : formatIpv6(buf, p.srcIp6Offset);
    const dst = p.ipVersion === 4 ? String(p.dstIp) : formatIpv6(buf, p.dstIp6Offset);
    const key = `${p.ipVersion}|${src}|${dst}|${p.ipId}|${p.ipProto}`;
    let meta = this.fragFrames.get(key);
    if (meta === undefined) {
      if (this.fragFrames.size >= this.limits.ipFragMaxDatagrams * 2) this.fragFrames.clear();
      meta = { frames: 0, bytes: 0, first: null };
      this.fragFrames.set(key, meta);
    }
    meta.frames++;
    meta.bytes += wireLen;
    if (p.fragOffset === 0 && meta.first === null) {
      // Keep the first fragment's transport header facts: if the datagram never completes, its frames
      // still belong to that conversation.
      const src = this.addrId(buf, p, true);
      const dst = this.addrId(buf, p, false);
      const proto = p.ipProto;
      const save = { srcMac: macAt(buf, p.srcMacOffset), dstMac: macAt(buf, p.dstMacOffset), vlan: p.vlan };
      decodeTransport(buf, p.l4Offset, p.l4End, proto, p);
      const ported = (proto === TRANSPORT_TCP || proto === TRANSPORT_UDP) && p.srcPort >= 0;
      meta.first = {
        src,
        dst,
        proto,
        sport: ported ? p.srcPort : 0,
        dport: ported ? p.dstPort : 0,
        ...save,
        ts,
        tcpFlags: p.tcpFlags,
        icmpType: p.icmpType,
      };
      p.status = FRAME.fragment;
    }
    const whole = this.reassembler.add(key, p.fragOffset, p.moreFragments, buf.subarray(p.l4Offset, p.l4End), ts);
    if (whole === null) return false;
    this.fragFrames.delete(key);
    this.collector.anomaly('ip.fragmented_datagram');
    // Re-point the view at the reassembled datagram; addresses stay as decoded from this fragment.
    const proto = p.ipProto;
    p.status = FRAME.ok;
    decodeTransport(whole, 0, whole.length, proto, p);
    if (p.status !== FRAME.ok) {
      this.collector.anomaly(p.anomaly ?? 'ip.bad_reassembled_datagram');
      return false;
    }
    this.pendingFragFrames = meta.frames - 1;
    this.pendingFragBytes = meta.bytes - wireLen;
    this.reassembledBuf = whole;
    return true;
  }

  private pendingFragFrames = 0;
  private pendingFragBytes = 0;
  private reassembledBuf: Uint8Array | null = null;

  private addrId(buf: Uint8Array, p: PacketView, src: boolean): number {
    if (p.ipVersion === 4) return src ? p.srcIp : p.dstIp;
    const o = src ? p.srcIp6Offset : p.dstIp6Offset;
    const text = formatIpv6(buf, o);
    let id = this.ipv6Ids.get(text);
    if (id === undefined) {
      id = IPV6_BASE + this.ipv6Text.length;
      this.ipv6Ids.set(text, id);
      this.ipv6Text.push(text);
    }
    return id;
  }

  /**
   * The endpoints of an IP-in-IP tunnel are devices too, and the tunnel is a communication of
   * theirs (transport `ip`, the inner protocol number as port); the inner packet is analysed as usual.
   */
  private tunnel(buf: Uint8Array, p: PacketView, ts: number, wireLen: number): void {
    const c = this.collector;
    c.anomaly('ip.tunnelled');
    const v6 = p.outerVersion === 6;
    const src = v6 ? formatIpv6(buf, p.outerSrcIp6Offset) : formatIpv4(p.outerSrcIp);
    const dst = v6 ? formatIpv6(buf, p.outerDstIp6Offset) : formatIpv4(p.outerDstIp);
    // One communication per tunnel, both ways: the first side seen sending is the client.
    const name = ipProtocolName(p.outerProto);
    const back = c.comms.get(`ip:${dst}|ip:${src}|ip|${p.outerProto}|${name}`);
    const comm = back ?? c.comm(`ip:${src}`, `ip:${dst}`, 'ip', p.outerProto, name, true, ts);
    if (comm !== null) {
      if (comm.flows === 0) comm.flows = 1;
      if (back !== undefined) {
        comm.pkts1++;
        comm.bytes1 += wireLen;
      } else {
        comm.pkts0++;
        comm.bytes0 += wireLen;
      }
      if (ts > comm.lastTs) comm.lastTs = ts;
      if (p.vlan >= 0) comm.vlans.add(p.vlan);
    }
    for (const [ip, mac] of [
      [src, macAt(buf, p.srcMacOffset)],
      [dst, -1],
    ] as const) {
      const a = c.ip(ip, ts);
      if (a === null) continue;
      a.packets++;
      a.bytes += wireLen;
      if (ts > a.lastTs) a.lastTs = ts;
      if (p.vlan >= 0) a.vlans.add(p.vlan);
      if (mac >= 0 && !isGroupMac(mac)) {
        a.macs.set(mac, (a.macs.get(mac) ?? 0) + 1);
        const m = c.mac(mac, ts);
        if (m !== null && m.srcIps.size < 4096) m.srcIps.add(ip);
      }
    }
  }

  private addrText(id: number): string {
    return id >= IPV6_BASE ? this.ipv6Text[id - IPV6_BASE]! : formatIpv4(id);
  }

  private isGroupAddr(id: number, mac: number): boolean {
    if (mac >= 0 && isGroupMac(mac)) return true;
    if (id >= IPV6_BASE) return this.ipv6Text[id - IPV6_BASE]!.startsWith('ff');
    return id >= 0xe0000000; // 224.0.0.0/4 multicast, 240/4 reserved and 255.255.255.255
  }

  private endpointKey(id: number, mac: number, group: boolean): string {
    if (group) return `group:${this.addrText(id)}`;
    // 0.0.0.0 and :: are hosts without an address yet (DHCP, duplicate address detection).
    if ((id === 0 || (id >= IPV6_BASE && this.ipv6Text[id - IPV6_BASE] === '::')) && mac >= 0)
      return `mac:${formatMac(mac)}`;
    return `ip:${this.addrText(id)}`;
  }

  /** One IP packet; its timestamp is `now[0]` (not a parameter: a double argument would be boxed). */
  private ipPacket(buf: Uint8Array, p: PacketView, wireLen: number): void {
    const ts = this.now[0]!;
    let frames = 1;
    let bytes = wireLen;
    let payloadBuf = buf;
    if (this.reassembledBuf !== null) {
      payloadBuf = this.reassembledBuf;
      frames += this.pendingFragFrames;
      bytes += this.pendingFragBytes;
      this.reassembledBuf = null;
    }
    const proto = p.ipProto;
    const isTcp = proto === TRANSPORT_TCP;
    const ported = isTcp || proto === TRANSPORT_UDP;
    const src = this.addrId(buf, p, true);
    const dst = this.addrId(buf, p, false);
    const sport = ported ? p.srcPort : 0;
    const dport = ported ? p.dstPort : 0;
    let f = this.flows.lookup(src, dst, sport, dport, proto);
    const flags = p.tcpFlags;
    if (
      f !== null &&
      isTcp &&
      (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN &&
      (f.rst || f.fin0 || f.fin1 || f.pkts0 + f.pkts1 > 3)
    ) {
      // A new connection reusing the 4-tuple of one that ended.
      this.flows.end(f);
      f = null;
    }
    if (f === null)
      f = this.newFlow(p, macAt(buf, p.srcMacOffset), macAt(buf, p.dstMacOffset), src, dst, sport, dport, proto, ts);
    const senderIsA = src === f.kA && sport === f.pA;
    const dir = senderIsA === f.clientIsA ? 0 : 1;
    f.times[1] = ts; // not the setter: a double argument would be boxed
    if (frames > 1) {
      f.extraFragmentFrames += frames - 1;
      f.extraFragmentBytes += bytes - wireLen;
    }
    if (dir === 0) {
      f.pkts0 += frames;
      f.bytes0 += bytes;
      if (f.cMac < 0) f.cMac = macAt(buf, p.srcMacOffset);
    } else {
      f.pkts1 += frames;
      f.bytes1 += bytes;
      if (f.sMac < 0) f.sMac = macAt(buf, p.srcMacOffset);
    }
    if (isTcp) {
      if ((flags & TCP_RST) !== 0) f.rst = true;
      if ((flags & TCP_FIN) !== 0) {
        if (dir === 0) f.fin0 = true;
        else f.fin1 = true;
      }
      if (f.def === null || f.violated) return;
      const plen = p.payloadLength;
      if ((flags & TCP_SYN) !== 0) {
        if (f.streams === null) f.startAnalyzer();
        const st = f.streams?.[dir];
        if (st !== undefined && !st.isStarted) {
          st.syn(p.tcpSeq);
          f.synSeen[dir] = true;
        }
      }
      if (plen > 0) {
        if (f.streams === null) f.startAnalyzer();
        const st = f.streams?.[dir];
        if (st === undefined) return;
        // A direction whose start we never saw may begin inside a PDU: let the framer resynchronise.
        if (!st.isStarted && !f.synSeen[dir]) f.analyzer?.gap(f.flip ? ((1 - dir) as Direction) : dir, 0);
        st.segmentAt(p.tcpSeq, payloadBuf, p.payloadOffset, plen, ts);
      }
    } else if (proto === TRANSPORT_UDP) {
      if (f.def === null || f.violated) return;
      const a = f.analyzer ?? f.startAnalyzer();
      if (a === null) return;
      if (a.dataAt !== undefined) a.dataAt(dir, payloadBuf, p.payloadOffset, p.payloadLength, ts);
      else a.data(dir, payloadBuf.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength), ts);
    }
  }

  private newFlow(
    p: PacketView,
    srcMac: number,
    dstMac: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    proto: number,
    ts: number,
  ): Flow {
    const dstGroup = this.isGroupAddr(dst, dstMac);
    let senderIsClient = true;
    if (dstGroup) senderIsClient = true;
    else if (proto === TRANSPORT_TCP) {
      const fl = p.tcpFlags;
      if ((fl & (TCP_SYN | TCP_ACK)) === TCP_SYN) senderIsClient = true;
      else if ((fl & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) senderIsClient = false;
      else senderIsClient = !senderIsServer('tcp', sport, dport, (port) => this.flows.registry.tcp.has(port));
    } else if (proto === TRANSPORT_UDP) {
      senderIsClient = !senderIsServer('udp', sport, dport, (port) => this.flows.registry.udp.has(port));
    } else if (proto === 1 || proto === 58) {
      // Echo replies, unreachables and other errors come from the side that was addressed.
      const t = p.icmpType;
      const isReply = proto === 1 ? t === 0 || t === 3 || t === 11 || t === 14 : t === 129 || t < 128;
      senderIsClient = !isReply;
    }
    const srcKey = this.endpointKey(src, srcMac, false);
    const dstKey = this.endpointKey(dst, dstMac, dstGroup);
    const srcIp = this.addrText(src);
    const dstIp = this.addrText(dst);
    const ends = senderIsClient
      ? { cKey: srcKey, sKey: dstKey, cIp: srcIp, sIp: dstIp }
      : { cKey: dstKey, sKey: srcKey, cIp: dstIp, sIp: srcIp };
    return this.flows.create(src, dst, sport, dport, proto, senderIsClient, ends, p.vlan, ts);
  }

  private flowEnded(f: Flow): void {
    if (f.streams !== null) {
      f.streams[0].flush();
      f.streams[1]?.flush();
    }
    f.analyzer?.end();
    const c = this.collector;
    const { name, confirmed } = f.protocolName();
    const transport =
      f.proto === TRANSPORT_TCP
        ? 'tcp'
        : f.proto === TRANSPORT_UDP
          ? 'udp'
          : f.proto === 1
            ? 'icmp'
            : f.proto === 58
              ? 'icmpv6'
              : 'ip';
    const port = transport === 'tcp' || transport === 'udp' ? f.sPort : transport === 'ip' ? f.proto : 0;
    const protocol =
      transport === 'ip' ? ipProtocolName(f.proto) : transport === 'icmp' || transport === 'icmpv6' ? transport : name;
    const comm = c.comm(f.cKey, f.sKey, transport, port, protocol, confirmed, f.firstTs);
    const pkts = f.pkts0 + f.pkts1;
    const bytes = f.bytes0 + f.bytes1;
    if (comm !== null) {
      comm.flows++;
      comm.pkts0 += f.pkts0;
      comm.pkts1 += f.pkts1;
      comm.bytes0 += f.bytes0;
      comm.bytes1 += f.bytes1;
      if (f.firstTs < comm.firstTs) comm.firstTs = f.firstTs;
      if (f.lastTs > comm.lastTs) comm.lastTs = f.lastTs;
      if (f.vlan >= 0) comm.vlans.add(f.vlan);
      if (f.ops !== null) c.mergeOps(comm.ops, f.ops);
    }
    c.countProtocol(protocol, pkts, bytes);
    this.onFlow?.({
      transport: f.proto,
      clientIp: f.cIp,
      clientPort: f.cPort,
      serverIp: f.sIp,
      serverPort: f.sPort,
      protocol,
      packets: pkts,
      bytes,
      firstTs: f.firstTs,
      lastTs: f.lastTs,
      extraFragmentFrames: f.extraFragmentFrames,
      extraFragmentBytes: f.extraFragmentBytes,
    });
    this.ipSeen(f.cKey, f.cIp, f.cMac, f.pkts0, pkts, bytes, f, f.pkts0 > 0);
    // A host talking to itself (loopback captures) counts its packets once.
    if (f.sKey !== f.cKey) this.ipSeen(f.sKey, f.sIp, f.sMac, f.pkts1, pkts, bytes, f, f.pkts1 > 0);
  }

  private ipSeen(
    key: string,
    ip: string,
    mac: number,
    sent: number,
    pkts: number,
    bytes: number,
    f: Flow,
    sentSomething: boolean,
  ): void {
    if (!key.startsWith('ip:')) {
      if (key.startsWith('mac:') && mac >= 0) this.l2Count(mac, f.vlan, f.firstTs, f.lastTs, pkts, bytes);
      return;
    }
    const a = this.collector.ip(ip, f.firstTs);
    if (a === null) return;
    a.packets += pkts;
    a.bytes += bytes;
    if (f.firstTs < a.firstTs) a.firstTs = f.firstTs;
    if (f.lastTs > a.lastTs) a.lastTs = f.lastTs;
    if (f.vlan >= 0) a.vlans.add(f.vlan);
    if (mac >= 0 && sentSomething && !isGroupMac(mac)) {
      a.macs.set(mac, (a.macs.get(mac) ?? 0) + sent);
      const m = this.collector.mac(mac, f.firstTs);
      if (m !== null) {
        m.lastTs = Math.max(m.lastTs, f.lastTs);
        if (m.srcIps.size < 4096) m.srcIps.add(ip);
        m.ipPackets += pkts;
        m.ipBytes += bytes;
        if (f.vlan >= 0) m.vlans.add(f.vlan);
      }
    }
  }

  private l2Count(mac: number, vlan: number, first: number, last: number, pkts: number, bytes: number): void {
    const m = this.collector.mac(mac, first);
    if (m === null) return;
    m.lastTs = Math.max(m.lastTs, last);
    m.l2Packets += pkts;
    m.l2Bytes += bytes;
    if (vlan >= 0) m.vlans.add(vlan);
  }

  private l2Seen(mac: number, vlan: number, ts: number, bytes: number, count: boolean): void {
    const m = this.collector.mac(mac, ts);
    if (m === null) return;
    if (count) {
      m.l2Packets++;
      m.l2Bytes += bytes;
    }
    if (vlan >= 0) m.vlans.add(vlan);
  }

  private l2Frame(buf: Uint8Array, p: PacketView, ts: number, wireLen: number): void {
    const at = p.l3Offset;
    // IEEE 802.3 frames carry an 802.2 LLC header instead of an ethertype: key them by their SAP
    // (LLC_SAP_BASE + DSAP when DSAP = SSAP), so BACnet/Ethernet, STP and friends are told apart.
    let et = p.etherType;
    if (et === 0 && p.l3End - at >= 3 && buf[at] === buf[at + 1]) et = LLC_SAP_BASE + buf[at]!;
    const src = macAt(buf, p.srcMacOffset);
    const dst = macAt(buf, p.dstMacOffset);
    if (et !== ETH_ARP && et !== ETH_LLDP && this.l2Cached(buf, p, et, src, dst, ts, wireLen)) return;
    const name = etherTypeName(et);
    this.collector.countProtocol(name, 1, wireLen);
    if (src >= 0 && !isGroupMac(src)) this.l2Seen(src, p.vlan, ts, wireLen, true);
    if (et === ETH_ARP) {
      const r = decodeArp(buf.subarray(at, p.l3End));
      if (r.kind !== 'ok') {
        this.collector.anomaly(r.kind === 'malformed' ? r.code : 'arp.truncated');
        return;
      }
      const arp = r.value;
      if (arp.senderIp !== '0.0.0.0' && !isGroupMac(arp.senderMac)) {
        const m = this.collector.mac(arp.senderMac, ts);
        if (m !== null && m.arpIps.size < 64) m.arpIps.add(arp.senderIp);
      }
      return;
    }
    if (et === ETH_LLDP) {
      const r = decodeLldp(buf.subarray(at, p.l3End));
      if (r.kind !== 'ok') {
        this.collector.anomaly(r.kind === 'malformed' ? r.code : 'lldp.truncated');
        return;
      }
      this.lldpSeen(src, r.value);
      return;
    }
    // Other layer-2 protocols (Profinet, GOOSE, SV, PTP, EtherCAT...): a communication between MACs.
    if (src < 0 || isGroupMac(src)) return;
    // Cyclic layer-2 traffic (GOOSE, SV, Profinet RT) repeats the same triple: find its
    // communication by numbers before building any text key.
    let byDst = this.l2Comms.get(src);
    if (byDst === undefined) {
      byDst = new Map();
      this.l2Comms.set(src, byDst);
    }
    let list = byDst.get(dst);
    let entry: L2Entry | undefined;
    if (list !== undefined) for (let i = 0; i < list.length; i++) if (list[i]!.et === et) entry = list[i];
    if (entry === undefined) {
      const dstKey =
        dst === BROADCAST_MAC
          ? 'group:ff:ff:ff:ff:ff:ff'
          : isGroupMac(dst)
            ? `group:${formatMac(dst)}`
            : `mac:${formatMac(dst)}`;
      const c = this.collector.comm(`mac:${formatMac(src)}`, dstKey, 'ethernet', et, name, false, ts);
      if (c === null) return;
      entry = { comm: c, et, ctx: undefined };
      if (list === undefined) {
        list = [];
        if (byDst.size < 4096) byDst.set(dst, list);
      }
      if (list.length < 16) list.push(entry);
    }
    const comm = entry.comm;
    this.l2Remember(src, dst, et, name, entry);
    if (comm.flows === 0) comm.flows = 1;
    comm.pkts0++;
    comm.bytes0 += wireLen;
    if (ts < comm.firstTs) comm.firstTs = ts;
    if (ts > comm.lastTs) comm.lastTs = ts;
    if (p.vlan >= 0) comm.vlans.add(p.vlan);
    if (dst >= 0 && !isGroupMac(dst)) this.l2Seen(dst, p.vlan, ts, wireLen, false);
    let ctx = entry.ctx;
    if (ctx === undefined) {
      ctx = this.l2Analyzer(comm, et);
      entry.ctx = ctx;
    }
    if (ctx === null) return;
    const a = ctx.analyzer;
    if (a === null) return;
    if (a.dataAt !== undefined) a.dataAt(0, buf, at, p.l3End - at, ts);
    else a.data(0, buf.subarray(at, p.l3End), ts);
  }

  /**
   * Cyclic layer-2 traffic (GOOSE, Sampled Values, Profinet RT, PTP) repeats a few (source,
   * destination, ethertype) triples: a direct-mapped cache of them holds everything a frame
   * updates (protocol counter, both MACs' records, the communication and its analyzer), so such a
   * frame costs no Map lookup. Returns false when the frame is not in the cache (then l2Frame does
   * the lookups and remembers the triple); a hit updates exactly what l2Frame would.
   */
  private l2Cached(
    buf: Uint8Array,
    p: PacketView,
    et: number,
    src: number,
    dst: number,
    ts: number,
    wireLen: number,
  ): boolean {
    const slot = l2Slot(src, dst, et);
    const c = this.l2Cache[slot];
    if (c === undefined || c.src !== src || c.dst !== dst || c.et !== et) return false;
    c.counter.packets++;
    c.counter.bytes += wireLen;
    const vlan = p.vlan;
    const s = c.srcAgg;
    if (ts < s.firstTs) s.firstTs = ts;
    if (ts > s.lastTs) s.lastTs = ts;
    s.l2Packets++;
    s.l2Bytes += wireLen;
    if (vlan >= 0) s.vlans.add(vlan);
    const entry = c.entry;
    const comm = entry.comm;
    if (comm.flows === 0) comm.flows = 1;
    comm.pkts0++;
    comm.bytes0 += wireLen;
    if (ts < comm.firstTs) comm.firstTs = ts;
    if (ts > comm.lastTs) comm.lastTs = ts;
    if (vlan >= 0) comm.vlans.add(vlan);
    const d = c.dstAgg;
    if (d !== null) {
      if (ts < d.firstTs) d.firstTs = ts;
      if (ts > d.lastTs) d.lastTs = ts;
      if (vlan >= 0) d.vlans.add(vlan);
    }
    let ctx = entry.ctx;
    if (ctx === undefined) {
      ctx = this.l2Analyzer(comm, et);
      entry.ctx = ctx;
    }
    if (ctx === null) return true;
    const a = ctx.analyzer;
    if (a === null) return true;
    const at = p.l3Offset;
    if (a.dataAt !== undefined) a.dataAt(0, buf, at, p.l3End - at, ts);
    else a.data(0, buf.subarray(at, p.l3End), ts);
    return true;
  }

  /**
   * Caches a triple l2Frame has just resolved, when both MACs have their records (neither table
   * was full: a full table must go on counting what it drops, frame by frame).
   */
  private l2Remember(src: number, dst: number, et: number, name: string, entry: L2Entry): void {
    const srcAgg = this.collector.macs.get(src);
    if (srcAgg === undefined) return;
    let dstAgg: MacAgg | null = null;
    if (dst >= 0 && !isGroupMac(dst)) {
      // Made by l2Frame after this call on a destination's first frame: cached from its next one.
      const m = this.collector.macs.get(dst);
      if (m === undefined) return;
      dstAgg = m;
    }
    this.l2Cache[l2Slot(src, dst, et)] = {
      src,
      dst,
      et,
      counter: this.collector.protocolCounter(name),
      srcAgg,
      dstAgg,
      entry,
    };
  }

  /** The analyzer context of a layer-2 communication (made on first use), or null when no dissector takes its ethertype. */
  private l2Analyzer(comm: CommAgg, et: number): L2Context | null {
    const def = this.l2Defs.get(et);
    if (def === undefined) return null;
    let ctx = this.l2Analyzers.get(comm);
    if (ctx === undefined) {
      ctx = new L2Context(this, comm, def.name);
      ctx.analyzer = def.createAnalyzer(ctx);
      this.l2Analyzers.set(comm, ctx);
    }
    return ctx;
  }

  /** An identity fact from a layer-2 analyzer: side 0 is the sending MAC, side 1 the destination. */
  l2Fact(comm: CommAgg, fact: AssetFact): void {
    if (fact.kind === 'identity') {
      const endpoint = fact.side === 0 ? comm.client : comm.server;
      if (!endpoint.startsWith('group:') && this.collector.identities.length < 10_000)
        this.collector.identities.push({ endpoint, fact });
      return;
    }
    if (fact.kind === 'name') {
      if (fact.ip !== undefined) this.collector.name(`ip:${fact.ip}`, fact.name, fact.source);
      else if (fact.mac !== undefined) this.collector.name(`mac:${formatMac(fact.mac)}`, fact.name, fact.source);
    }
  }

  private lldpSeen(src: number, l: LldpPdu): void {
    if (src < 0) return;
    const info = this.collector.lldp.get(src) ?? {};
    if (l.systemName !== undefined) info.systemName = l.systemName;
    if (l.systemDescription !== undefined) info.systemDescription = l.systemDescription;
    if (l.enabledCapabilities !== undefined) info.capabilities = [...l.enabledCapabilities];
    if (l.managementAddresses !== undefined && l.managementAddresses.length > 0)
      info.managementAddresses = l.managementAddresses.map((m) => m.address);
    if (l.portId !== undefined) info.portId = l.portId.value;
    if (l.chassisId !== undefined) {
      info.chassisId = l.chassisId.value;
      if (l.chassisId.mac !== undefined) info.chassisMac = l.chassisId.mac;
    }
    this.collector.lldp.set(src, info);
    if (l.systemName !== undefined) this.collector.name(`mac:${formatMac(src)}`, l.systemName, 'lldp');
  }

  private flowFact(f: Flow, fact: AssetFact): void {
    const c = this.collector;
    switch (fact.kind) {
      case 'name':
        if (fact.ip !== undefined) c.name(`ip:${fact.ip}`, fact.name, fact.source);
        else if (fact.mac !== undefined) c.name(`mac:${formatMac(fact.mac)}`, fact.name, fact.source);
        return;
      case 'identity':
        if (c.identities.length < 10_000) c.identities.push({ endpoint: fact.side === 0 ? f.cKey : f.sKey, fact });
        return;
      case 'dhcp': {
        const d = c.dhcp.get(fact.mac) ?? {};
        if (fact.hostname !== undefined) {
          d.hostname = fact.hostname;
          c.name(`mac:${formatMac(fact.mac)}`, fact.hostname, 'dhcp');
        }
        if (fact.vendorClass !== undefined) d.vendorClass = fact.vendorClass;
        if (fact.parameterRequestList !== undefined) d.parameterRequestList = [...fact.parameterRequestList];
        c.dhcp.set(fact.mac, d);
        if (c.dhcp.size > this.limits.maxAssets) c.dhcp.delete(fact.mac);
        const ip = fact.assignedIp ?? fact.requestedIp;
        if (fact.assignedIp !== undefined && ip !== undefined && ip !== '0.0.0.0') {
          const m = c.mac(fact.mac, f.firstTs);
          if (m !== null && m.arpIps.size < 64) m.arpIps.add(ip);
        }
        return;
      }
    }
  }

  private switchLink(linkType: number): void {
    if (this.curLink >= 0)
      this.linkTypePackets.set(this.curLink, (this.linkTypePackets.get(this.curLink) ?? 0) + this.curLinkCount);
    this.curLink = linkType;
    this.curLinkCount = 1;
  }

  /** Credits the frames of datagrams that never completed to the conversation their first fragment named. */
  private creditIncompleteFragments(): void {
    for (const meta of this.fragFrames.values()) {
      const first = meta.first;
      if (first === null) continue;
      const p = this.pv;
      p.reset();
      p.vlan = first.vlan;
      p.tcpFlags = first.tcpFlags;
      p.icmpType = first.icmpType;
      let f = this.flows.lookup(first.src, first.dst, first.sport, first.dport, first.proto);
      f ??= this.newFlow(
        p,
        first.srcMac,
        first.dstMac,
        first.src,
        first.dst,
        first.sport,
        first.dport,
        first.proto,
        first.ts,
      );
      const senderIsA = first.src === f.kA && first.sport === f.pA;
      if (senderIsA === f.clientIsA) {
        f.pkts0 += meta.frames;
        f.bytes0 += meta.bytes;
        if (f.cMac < 0) f.cMac = first.srcMac;
      } else {
        f.pkts1 += meta.frames;
        f.bytes1 += meta.bytes;
        if (f.sMac < 0) f.sMac = first.srcMac;
      }
      if (first.ts > f.lastTs) f.lastTs = first.ts;
    }
    this.fragFrames.clear();
  }

  /** Ends all flows and incomplete reassembly; call once at the end of input. */
  finish(): void {
    for (const ctx of this.l2Analyzers.values()) ctx.analyzer?.end();
    this.creditIncompleteFragments();
    this.switchLink(-1);
    this.linkTypePackets.delete(-1);
    this.flows.endAll();
    const left = this.reassembler.incomplete();
    if (left > 0) this.collector.anomaly('ip.incomplete_fragments', left);
    const rc = this.reassembler.counters;
    if (rc.timedOut > 0) this.collector.anomaly('ip.fragment_timeout', rc.timedOut);
    if (rc.overlaps > 0) this.collector.anomaly('ip.fragment_overlap', rc.overlaps);
    if (rc.oversize > 0) this.collector.anomaly('ip.fragment_oversize', rc.oversize);
    if (rc.evicted > 0) this.collector.anomaly('ip.fragment_evicted', rc.evicted);
    if (this.flows.evicted > 0) this.collector.anomaly('flow.evicted', this.flows.evicted);
  }
}
