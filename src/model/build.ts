// Turns what the packet path collected into the model: one asset per device (a MAC that carried
// many IPs is a router, and the IPs behind it are devices of their own), communications between
// assets, groups for broadcast/multicast destinations, and the protocol breakdown.

import type { Limits } from '../core/limits.ts';
import { formatMac, formatTime } from '../core/text.ts';
import { lookupVendor } from '../protocols/oui/index.ts';
import type { CommAgg, Collector, OpAgg } from '../pipeline/collector.ts';
import { classifyAssets } from './classify.ts';
import type { Asset, AssetIdentity, Communication, Group, OperationSummary, ProtocolStat } from './types.ts';

interface Draft {
  id: string;
  kind: 'device' | 'router';
  macs: Set<number>;
  ips: Set<string>;
  routerEvidence: string | null;
}

function ipSortKey(ip: string): string {
  if (ip.includes('.') && !ip.includes(':'))
    return (
      '4' +
      ip
        .split('.')
        .map((o) => o.padStart(3, '0'))
        .join('.')
    );
  return '6' + ip;
}

/** Assets in the order people read them: by first IP address, then MAC-only ones by id. */
export function compareAssets(a: Asset, b: Asset): number {
  const ia = a.ips[0];
  const ib = b.ips[0];
  if (ia !== undefined && ib !== undefined) return compareIps(ia, ib) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (ia !== undefined) return -1;
  if (ib !== undefined) return 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function compareIps(a: string, b: string): number {
  const ka = ipSortKey(a);
  const kb = ipSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function opSummary(o: OpAgg): OperationSummary {
  const s: OperationSummary = {
    code: o.code,
    access: o.access,
    count: o.count,
    responses: o.responses,
    exceptions: o.exceptions,
    firstSeen: formatTime(o.firstTs),
    lastSeen: formatTime(o.lastTs),
  };
  if (o.exceptionCodes !== null)
    s.exceptionCodes = Object.fromEntries(
      [...o.exceptionCodes].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]),
    );
  if (o.units !== null) s.units = [...o.units].sort((a, b) => a - b);
  if (o.ranges !== null)
    s.ranges = Object.fromEntries(
      [...o.ranges]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([k, v]) => [k, v.map((r) => [r[0], r[1]] as [number, number])]),
    );
  return s;
}

export interface BuiltModel {
  assets: Asset[];
  groups: Group[];
  communications: Communication[];
  protocols: ProtocolStat[];
}

export function buildModel(c: Collector, limits: Limits): BuiltModel {
  // 1. Routers: a MAC that was the source of many IP addresses it never claimed in ARP/DHCP.
  const routerMacs = new Set<number>();
  for (const m of c.macs.values()) {
    let foreign = 0;
    for (const ip of m.srcIps) if (!m.arpIps.has(ip)) foreign++;
    if (foreign >= limits.routerMacMinIps) routerMacs.add(m.mac);
  }
  // Who owns each IP according to ARP/DHCP.
  const arpOwner = new Map<string, number>();
  for (const m of c.macs.values()) for (const ip of m.arpIps) if (!arpOwner.has(ip)) arpOwner.set(ip, m.mac);

  // 2. Each IP goes to its owning MAC's device (ARP first, else the MAC it was seen with most).
  const drafts = new Map<string, Draft>(); // by asset id
  const byMac = new Map<number, Draft>();
  const byIp = new Map<string, Draft>();
  const draftForMac = (mac: number): Draft => {
    let d = byMac.get(mac);
    if (d === undefined) {
      const router = routerMacs.has(mac);
      d = {
        id: `mac:${formatMac(mac)}`,
        kind: router ? 'router' : 'device',
        macs: new Set([mac]),
        ips: new Set(),
        routerEvidence: null,
      };
      if (router) {
        const n = c.macs.get(mac)?.srcIps.size ?? 0;
        d.routerEvidence = `MAC ${formatMac(mac)} was the source of ${n} IP addresses: a router or gateway forwarding for devices behind it`;
      }
      byMac.set(mac, d);
      drafts.set(d.id, d);
    }
    return d;
  };
  const ips = [...c.ips.values()].sort((a, b) => compareIps(a.ip, b.ip));
  for (const a of ips) {
    let owner = arpOwner.get(a.ip);
    if (owner === undefined || (routerMacs.has(owner) && !c.macs.get(owner)?.arpIps.has(a.ip))) {
      owner = undefined;
      let best = -1;
      for (const [mac, n] of a.macs) {
        if (routerMacs.has(mac)) continue;
        if (n > best) {
          best = n;
          owner = mac;
        }
      }
    }
    let d: Draft;
    if (owner !== undefined) d = draftForMac(owner);
    else {
      d = { id: `ip:${a.ip}`, kind: 'device', macs: new Set(), ips: new Set(), routerEvidence: null };
      drafts.set(d.id, d);
    }
    if (d.ips.size < limits.maxIpsPerAsset) d.ips.add(a.ip);
    byIp.set(a.ip, d);
    let nonRouter = 0;
    for (const mac of a.macs.keys()) if (!routerMacs.has(mac)) nonRouter++;
    if (nonRouter > 1) c.anomaly('asset.ip_with_several_macs');
  }
  // 3. MACs seen only at layer 2 (or only as routers) are assets of their own, with the addresses
  //    they claimed in ARP/DHCP even when no IP traffic of theirs was seen.
  for (const m of c.macs.values()) {
    const d = draftForMac(m.mac);
    for (const ip of m.arpIps) {
      if (byIp.has(ip) || d.ips.size >= limits.maxIpsPerAsset) continue;
      d.ips.add(ip);
      byIp.set(ip, d);
    }
  }

  // 3b. A device that speaks LLDP from a port MAC of its own (switch ports, Siemens PLC ports) is
  //     the device its chassis MAC or management address names, not a second asset.
  const alias = new Map<string, string>();
  const nameOwner = (name: string): Draft | undefined => {
    let owner: Draft | undefined;
    for (const [endpoint, names] of c.names) {
      if (!names.has(name)) continue;
      const d = endpoint.startsWith('ip:') ? byIp.get(endpoint.slice(3)) : drafts.get(endpoint);
      if (d === undefined || (owner !== undefined && owner !== d)) return undefined;
      owner = d;
    }
    return owner;
  };
  /** Port MACs of one chassis seen so far, for chassis that have no asset of their own. */
  const chassisGroups = new Map<string, Draft>();
  for (const [mac, info] of c.lldp) {
    const l = byMac.get(mac);
    if (l === undefined || l.kind === 'router' || l.ips.size > 0) continue;
    let target: Draft | undefined;
    if (info.chassisMac !== undefined && info.chassisMac !== mac) target = byMac.get(info.chassisMac);
    if (target === undefined && info.chassisId !== undefined && info.chassisId !== '') {
      // Several port MACs announcing one chassis id are one device, and so is the device whose
      // DHCP/DNS name that chassis id is (PROFINET station names are used as both).
      target = chassisGroups.get(info.chassisId) ?? nameOwner(info.chassisId);
      if (target === undefined) chassisGroups.set(info.chassisId, l);
    }
    if (target === undefined || target.ips.size === 0) {
      const owners = new Set(
        (info.managementAddresses ?? []).map((a) => byIp.get(a)).filter((d): d is Draft => d !== undefined),
      );
      if (owners.size === 1) target = [...owners][0];
    }
    if (target === undefined || target === l || target.kind === 'router') {
      // Standalone: the management addresses it announces are its own.
      for (const a of info.managementAddresses ?? []) {
        if ((!a.includes('.') && !a.includes(':')) || a === '0.0.0.0' || a === '::' || a.startsWith('127.')) continue;
        if (byIp.has(a) || l.ips.size >= limits.maxIpsPerAsset) continue;
        l.ips.add(a);
        byIp.set(a, l);
      }
      continue;
    }
    target.macs.add(mac);
    byMac.set(mac, target);
    drafts.delete(l.id);
    alias.set(l.id, target.id);
  }

  const resolve = (endpoint: string): string | null => {
    if (endpoint.startsWith('ip:')) return byIp.get(endpoint.slice(3))?.id ?? null;
    if (endpoint.startsWith('mac:')) return alias.get(endpoint) ?? (drafts.has(endpoint) ? endpoint : null);
    return endpoint; // group:
  };

  // 4. Communications between assets (several IPs of one device fold into one).
  const groups = new Map<string, Group>();
  const commOut = new Map<string, Communication>();
  const served = new Map<string, Set<string>>();
  const used = new Map<string, Set<string>>();
  const mergedOps = new Map<string, Map<string, OpAgg>>();
  for (const ca of c.comms.values()) {
    const client = resolve(ca.client);
    const server = resolve(ca.server);
    if (client === null || server === null) continue;
    if (server.startsWith('group:')) {
      const addr = server.slice(6);
      if (!groups.has(server))
        groups.set(server, {
          id: server,
          address: addr,
          kind: addr === '255.255.255.255' || addr === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : 'multicast',
        });
    }
    const id = `${client}>${server}/${ca.transport}/${ca.port}/${ca.protocol}`;
    let out = commOut.get(id);
    if (out === undefined) {
      out = newComm(id, client, server, ca);
      commOut.set(id, out);
      mergedOps.set(id, new Map());
    } else addComm(out, ca);
    c.mergeOps(mergedOps.get(id)!, ca.ops);
    if (ca.protocol !== 'unknown') {
      if (!served.has(server)) served.set(server, new Set());
      served.get(server)!.add(ca.protocol);
      if (!used.has(client)) used.set(client, new Set());
      used.get(client)!.add(ca.protocol);
    }
  }
  for (const [id, out] of commOut) {
    const ops = mergedOps.get(id)!;
    out.operations = Object.fromEntries(
      [...ops].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, o]) => [name, opSummary(o)]),
    );
  }

  // 5. Assets.
  const identities = new Map<string, AssetIdentity[]>();
  for (const { endpoint, fact } of c.identities) {
    const id = resolve(endpoint);
    if (id === null || id.startsWith('group:')) continue;
    const list = identities.get(id) ?? [];
    const ident: AssetIdentity = { protocol: fact.protocol };
    if (fact.vendor !== undefined) ident.vendor = fact.vendor;
    if (fact.product !== undefined) ident.product = fact.product;
    if (fact.productCode !== undefined) ident.productCode = fact.productCode;
    if (fact.model !== undefined) ident.model = fact.model;
    if (fact.firmware !== undefined) ident.firmware = fact.firmware;
    if (fact.serial !== undefined) ident.serial = fact.serial;
    if (fact.extra !== undefined && Object.keys(fact.extra).length > 0) ident.extra = { ...fact.extra };
    const key = JSON.stringify(ident);
    if (!list.some((x) => JSON.stringify(x) === key) && list.length < 16) list.push(ident);
    identities.set(id, list);
  }
  const assets: Asset[] = [];
  for (const d of drafts.values()) {
    let first = Infinity;
    let last = -Infinity;
    let packets = 0;
    let bytes = 0;
    const vlans = new Set<number>();
    const names = new Map<string, string>();
    const addNames = (key: string): void => {
      const n = c.names.get(key);
      if (n !== undefined)
        for (const [name, src] of n) if (!names.has(name) && names.size < limits.maxNamesPerAsset) names.set(name, src);
    };
    for (const ip of d.ips) {
      addNames(`ip:${ip}`);
      const a = c.ips.get(ip);
      if (a === undefined) continue;
      first = Math.min(first, a.firstTs);
      last = Math.max(last, a.lastTs);
      packets += a.packets;
      bytes += a.bytes;
      for (const v of a.vlans) vlans.add(v);
    }
    const macs = [...d.macs];
    for (const mac of macs) {
      const m = c.macs.get(mac);
      if (m === undefined) continue;
      first = Math.min(first, m.firstTs);
      last = Math.max(last, m.lastTs);
      packets += m.l2Packets;
      bytes += m.l2Bytes;
      if (d.ips.size === 0) {
        packets += m.ipPackets;
        bytes += m.ipBytes;
      }
      for (const v of m.vlans) vlans.add(v);
      addNames(`mac:${formatMac(mac)}`);
    }
    if (!Number.isFinite(first)) continue;
    const primary = macs[0];
    const lldp = macs.map((m) => c.lldp.get(m)).find((x) => x !== undefined);
    const dhcp = macs.map((m) => c.dhcp.get(m)).find((x) => x !== undefined);
    // The router evidence (how many IPs one MAC carried) is only known here; classification keeps it.
    const roleEvidence: string[] = d.routerEvidence !== null ? [d.routerEvidence] : [];
    const asset: Asset = {
      id: d.id,
      kind: d.kind,
      macs: macs.map(formatMac),
      ips: [...d.ips].sort(compareIps),
      vendor: primary !== undefined ? (lookupVendor(primary) ?? null) : null,
      names: [...names].map(([name, source]) => ({ name, source })),
      vlans: [...vlans].sort((a, b) => a - b),
      role: 'unknown',
      roleEvidence,
      identity: identities.get(d.id) ?? [],
      protocols: { served: [...(served.get(d.id) ?? [])].sort(), used: [...(used.get(d.id) ?? [])].sort() },
      firstSeen: formatTime(first),
      lastSeen: formatTime(last),
      packets,
      bytes,
    };
    if (dhcp !== undefined) asset.dhcp = { ...dhcp };
    if (lldp !== undefined) {
      asset.lldp = {};
      if (lldp.systemName !== undefined) asset.lldp.systemName = lldp.systemName;
      if (lldp.systemDescription !== undefined) asset.lldp.systemDescription = lldp.systemDescription;
      if (lldp.capabilities !== undefined) asset.lldp.capabilities = lldp.capabilities;
      if (lldp.managementAddresses !== undefined) asset.lldp.managementAddresses = lldp.managementAddresses;
      if (lldp.portId !== undefined) asset.lldp.portId = lldp.portId;
    }
    assets.push(asset);
  }
  assets.sort(compareAssets);

  const communications = [...commOut.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  classifyAssets(assets, communications);
  const commCount = new Map<string, number>();
  for (const cm of communications) commCount.set(cm.protocol, (commCount.get(cm.protocol) ?? 0) + 1);
  const protocols: ProtocolStat[] = [...c.protocolPackets]
    .map(([protocol, v]) => ({
      protocol,
      packets: v.packets,
      bytes: v.bytes,
      communications: commCount.get(protocol) ?? 0,
    }))
    .sort((a, b) => b.packets - a.packets || (a.protocol < b.protocol ? -1 : 1));
  return { assets, groups: [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), communications, protocols };
}

function newComm(id: string, client: string, server: string, ca: CommAgg): Communication {
  return {
    id,
    client,
    server,
    transport: ca.transport,
    port: ca.port,
    protocol: ca.protocol,
    confirmed: ca.confirmed,
    vlans: [...ca.vlans].sort((a, b) => a - b),
    flows: ca.flows,
    packets: ca.pkts0 + ca.pkts1,
    bytes: ca.bytes0 + ca.bytes1,
    packetsToServer: ca.pkts0,
    packetsToClient: ca.pkts1,
    bytesToServer: ca.bytes0,
    bytesToClient: ca.bytes1,
    firstSeen: formatTime(ca.firstTs),
    lastSeen: formatTime(ca.lastTs),
    operations: {},
  };
}

function addComm(out: Communication, ca: CommAgg): void {
  out.confirmed ||= ca.confirmed;
  out.vlans = [...new Set([...out.vlans, ...ca.vlans])].sort((a, b) => a - b);
  out.flows += ca.flows;
  out.packets += ca.pkts0 + ca.pkts1;
  out.bytes += ca.bytes0 + ca.bytes1;
  out.packetsToServer += ca.pkts0;
  out.packetsToClient += ca.pkts1;
  out.bytesToServer += ca.bytes0;
  out.bytesToClient += ca.bytes1;
  const f = formatTime(ca.firstTs);
  const l = formatTime(ca.lastTs);
  if (f < out.firstSeen) out.firstSeen = f;
  if (l > out.lastSeen) out.lastSeen = l;
}
