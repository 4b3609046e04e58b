// Everything the packet path learns, aggregated per address, MAC, communication and fact, before the
// model resolves addresses into assets. Every table is bounded; what a bound drops is counted.

import { addRange } from '../model/ranges.ts';
import type { AccessClass, AssetFact, OperationEvent } from '../protocols/_core/types.ts';

export interface OpAgg {
  code: number;
  access: AccessClass;
  count: number;
  responses: number;
  exceptions: number;
  exceptionCodes: Map<number, number> | null;
  units: Set<number> | null;
  /** addressSpace → list of [first, last] ranges, merged lazily at output. */
  ranges: Map<string, [number, number][]> | null;
  firstTs: number;
  lastTs: number;
  /** The last unit and address space seen: polling repeats them, so most ops skip the lookups. */
  lastUnit: number;
  lastSpace: string;
  lastList: [number, number][] | null;
}

/** OpAgg as the packet path builds it: timestamps in a Float64Array, so updating them allocates nothing. */
class OperationTotals implements OpAgg {
  readonly code: number;
  readonly access: AccessClass;
  count = 0;
  responses = 0;
  exceptions = 0;
  exceptionCodes: Map<number, number> | null = null;
  units: Set<number> | null = null;
  ranges: Map<string, [number, number][]> | null = null;
  lastUnit = -1;
  lastSpace = '';
  lastList: [number, number][] | null = null;
  /** [firstTs, lastTs] (µs). */
  readonly times = new Float64Array(2);

  constructor(code: number, access: AccessClass, ts: number) {
    this.code = code;
    this.access = access;
    this.times[0] = ts;
    this.times[1] = ts;
  }

  get firstTs(): number {
    return this.times[0]!;
  }
  set firstTs(ts: number) {
    this.times[0] = ts;
  }
  get lastTs(): number {
    return this.times[1]!;
  }
  set lastTs(ts: number) {
    this.times[1] = ts;
  }
}

export interface CommAgg {
  /** Endpoint keys: `ip:<addr>` or `mac:<number>`. */
  client: string;
  server: string;
  transport: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'ip' | 'ethernet';
  port: number;
  protocol: string;
  confirmed: boolean;
  vlans: Set<number>;
  flows: number;
  pkts0: number;
  pkts1: number;
  bytes0: number;
  bytes1: number;
  firstTs: number;
  lastTs: number;
  ops: Map<string, OpAgg>;
}

/** What was seen of one IP address. */
export interface IpAgg {
  ip: string;
  /** Source MACs this IP was seen with (as IP source), with packet counts. */
  macs: Map<number, number>;
  vlans: Set<number>;
  firstTs: number;
  lastTs: number;
  packets: number;
  bytes: number;
}

/** What was seen of one MAC address at layer 2. */
export interface MacAgg {
  mac: number;
  /** IPs this MAC announced for itself in ARP (sender protocol address). */
  arpIps: Set<string>;
  /** IPs seen as source behind this MAC (routed traffic makes this large). */
  srcIps: Set<string>;
  vlans: Set<number>;
  firstTs: number;
  lastTs: number;
  /** Frames/bytes that were not IP (ARP, LLDP, Profinet...) sent by this MAC. */
  l2Packets: number;
  l2Bytes: number;
  /** Frames/bytes of IP traffic sent or received with this MAC. */
  ipPackets: number;
  ipBytes: number;
}

export interface LldpInfo {
  systemName?: string;
  systemDescription?: string;
  capabilities?: string[];
  managementAddresses?: string[];
  portId?: string;
  chassisId?: string;
  /** The chassis id as a MAC number when its subtype is a MAC address. */
  chassisMac?: number;
}

export interface IdentityFact {
  endpoint: string;
  fact: Extract<AssetFact, { kind: 'identity' }>;
}

export class Collector {
  readonly ips = new Map<string, IpAgg>();
  readonly macs = new Map<number, MacAgg>();
  readonly comms = new Map<string, CommAgg>();
  /** endpoint key → name → source */
  readonly names = new Map<string, Map<string, string>>();
  readonly identities: IdentityFact[] = [];
  readonly dhcp = new Map<number, { hostname?: string; vendorClass?: string; parameterRequestList?: number[] }>();
  readonly lldp = new Map<number, LldpInfo>();
  readonly anomalies = new Map<string, number>();
  readonly protocolPackets = new Map<string, { packets: number; bytes: number }>();
  commsDropped = 0;
  private lastOps: Map<string, OpAgg> | null = null;
  private lastOpName = '';
  private lastOp: OpAgg | null = null;
  addressesDropped = 0;
  readonly maxComms: number;
  readonly maxAddresses: number;
  readonly maxNames: number;
  readonly maxOps: number;

  constructor(limits: {
    maxCommunications: number;
    maxAssets: number;
    maxNamesPerAsset: number;
    maxOperationsPerCommunication: number;
  }) {
    this.maxComms = limits.maxCommunications;
    this.maxAddresses = limits.maxAssets;
    this.maxNames = limits.maxNamesPerAsset;
    this.maxOps = limits.maxOperationsPerCommunication;
  }

  anomaly(code: string, n = 1): void {
    this.anomalies.set(code, (this.anomalies.get(code) ?? 0) + n);
  }

  countProtocol(name: string, packets: number, bytes: number): void {
    const p = this.protocolCounter(name);
    p.packets += packets;
    p.bytes += bytes;
  }

  /** The packet and byte counter of a protocol (made at zero on first use; never removed). */
  protocolCounter(name: string): { packets: number; bytes: number } {
    let p = this.protocolPackets.get(name);
    if (p === undefined) {
      p = { packets: 0, bytes: 0 };
      this.protocolPackets.set(name, p);
    }
    return p;
  }

  ip(ip: string, ts: number): IpAgg | null {
    let a = this.ips.get(ip);
    if (a === undefined) {
      if (this.ips.size + this.macs.size >= this.maxAddresses) {
        this.addressesDropped++;
        return null;
      }
      a = { ip, macs: new Map(), vlans: new Set(), firstTs: ts, lastTs: ts, packets: 0, bytes: 0 };
      this.ips.set(ip, a);
    }
    return a;
  }

  mac(mac: number, ts: number): MacAgg | null {
    let m = this.macs.get(mac);
    if (m === undefined) {
      if (this.ips.size + this.macs.size >= this.maxAddresses) {
        this.addressesDropped++;
        return null;
      }
      m = {
        mac,
        arpIps: new Set(),
        srcIps: new Set(),
        vlans: new Set(),
        firstTs: ts,
        lastTs: ts,
        l2Packets: 0,
        l2Bytes: 0,
        ipPackets: 0,
        ipBytes: 0,
      };
      this.macs.set(mac, m);
    }
    if (ts < m.firstTs) m.firstTs = ts;
    if (ts > m.lastTs) m.lastTs = ts;
    return m;
  }

  name(endpoint: string, name: string, source: string): void {
    const clean = name.trim();
    if (clean === '' || clean.length > 255) return;
    let n = this.names.get(endpoint);
    if (n === undefined) {
      n = new Map();
      this.names.set(endpoint, n);
    }
    if (!n.has(clean) && n.size < this.maxNames) n.set(clean, source);
  }

  comm(
    client: string,
    server: string,
    transport: CommAgg['transport'],
    port: number,
    protocol: string,
    confirmed: boolean,
    ts: number,
  ): CommAgg | null {
    const key = `${client}|${server}|${transport}|${port}|${protocol}`;
    let c = this.comms.get(key);
    if (c === undefined) {
      if (this.comms.size >= this.maxComms) {
        this.commsDropped++;
        return null;
      }
      c = {
        client,
        server,
        transport,
        port,
        protocol,
        confirmed,
        vlans: new Set(),
        flows: 0,
        pkts0: 0,
        pkts1: 0,
        bytes0: 0,
        bytes1: 0,
        firstTs: ts,
        lastTs: ts,
        ops: new Map(),
      };
      this.comms.set(key, c);
    }
    if (confirmed) c.confirmed = true;
    return c;
  }

  /** Adds one operation (request) to a per-flow or per-communication operation table. */
  addOperation(ops: Map<string, OpAgg>, op: OperationEvent): void {
    // Analyzers report runs of the same operation on the same flow (a publisher's messages, a
    // poll): the last table and name are checked before the lookup. Tables never lose entries.
    let a: OpAgg | undefined;
    if (ops === this.lastOps && op.name === this.lastOpName) a = this.lastOp!;
    else {
      a = ops.get(op.name);
      if (a === undefined) {
        if (ops.size >= this.maxOps) {
          this.anomaly('operations.table_full');
          return;
        }
        a = new OperationTotals(op.code, op.access, op.tsMicros);
        ops.set(op.name, a);
      }
      this.lastOps = ops;
      this.lastOpName = op.name;
      this.lastOp = a;
    }
    a.count++;
    if (op.responded) a.responses++;
    if (op.exception !== undefined) {
      a.exceptions++;
      a.exceptionCodes ??= new Map();
      a.exceptionCodes.set(op.exception, (a.exceptionCodes.get(op.exception) ?? 0) + 1);
    }
    const unit = op.unit;
    if (unit !== undefined && unit !== a.lastUnit) {
      a.units ??= new Set();
      if (a.units.size < 256) a.units.add(unit);
      a.lastUnit = unit;
    }
    if (op.address !== undefined && op.quantity !== undefined && op.quantity > 0) {
      const space = op.addressSpace ?? 'address';
      let list = a.lastList;
      if (list === null || space !== a.lastSpace) {
        a.ranges ??= new Map();
        list = a.ranges.get(space) ?? null;
        if (list === null) {
          list = [];
          a.ranges.set(space, list);
        }
        a.lastSpace = space;
        a.lastList = list;
      }
      addRange(list, op.address, op.address + op.quantity - 1);
    }
    const t = op.tsMicros;
    if (a instanceof OperationTotals) {
      const times = a.times;
      if (t < times[0]!) times[0] = t;
      if (t > times[1]!) times[1] = t;
    } else {
      if (t < a.firstTs) a.firstTs = t;
      if (t > a.lastTs) a.lastTs = t;
    }
  }

  mergeOps(into: Map<string, OpAgg>, from: Map<string, OpAgg>): void {
    for (const [name, f] of from) {
      const a = into.get(name);
      if (a === undefined) {
        if (into.size >= this.maxOps) {
          this.anomaly('operations.table_full');
          continue;
        }
        into.set(name, f);
        continue;
      }
      a.count += f.count;
      a.responses += f.responses;
      a.exceptions += f.exceptions;
      if (f.exceptionCodes !== null) {
        a.exceptionCodes ??= new Map();
        for (const [k, v] of f.exceptionCodes) a.exceptionCodes.set(k, (a.exceptionCodes.get(k) ?? 0) + v);
      }
      if (f.units !== null) {
        a.units ??= new Set();
        for (const u of f.units) if (a.units.size < 256) a.units.add(u);
      }
      if (f.ranges !== null) {
        a.ranges ??= new Map();
        for (const [space, list] of f.ranges) {
          let l = a.ranges.get(space);
          if (l === undefined) {
            l = [];
            a.ranges.set(space, l);
          }
          for (const [lo, hi] of list) addRange(l, lo, hi);
        }
      }
      a.firstTs = Math.min(a.firstTs, f.firstTs);
      a.lastTs = Math.max(a.lastTs, f.lastTs);
    }
  }
}
