// Merges a new analysis into an existing model (the store's inventory): one device stays one asset
// across captures. Assets match by id, then by a shared MAC, then by a shared IP when one side has
// no MAC; communications are re-keyed onto the merged asset ids and their counters summed.

import { addRange } from './ranges.ts';
import type { AnalysisDocument, Asset, Communication, OperationSummary } from './types.ts';
import { compareAssets, compareIps } from './build.ts';

const MAX_ISSUES = 1000;

function union<T>(a: readonly T[], b: readonly T[]): T[] {
  return [...new Set([...a, ...b])];
}

function mergeAsset(into: Asset, a: Asset): void {
  into.macs = union(into.macs, a.macs);
  into.ips = union(into.ips, a.ips).sort(compareIps);
  into.vendor ??= a.vendor;
  const names = new Map(into.names.map((n) => [n.name, n]));
  for (const n of a.names) if (!names.has(n.name)) names.set(n.name, n);
  into.names = [...names.values()];
  into.vlans = union(into.vlans, a.vlans).sort((x, y) => x - y);
  if (into.role === 'unknown' && a.role !== 'unknown') into.role = a.role;
  into.roleEvidence = union(into.roleEvidence, a.roleEvidence);
  const ids = new Set(into.identity.map((i) => JSON.stringify(i)));
  for (const i of a.identity) if (!ids.has(JSON.stringify(i))) into.identity.push(i);
  into.protocols = {
    served: union(into.protocols.served, a.protocols.served).sort(),
    used: union(into.protocols.used, a.protocols.used).sort(),
  };
  if (a.dhcp !== undefined) into.dhcp = { ...into.dhcp, ...a.dhcp };
  if (a.lldp !== undefined) into.lldp = { ...into.lldp, ...a.lldp };
  if (a.kind === 'router') into.kind = 'router';
  if (a.firstSeen < into.firstSeen) into.firstSeen = a.firstSeen;
  if (a.lastSeen > into.lastSeen) into.lastSeen = a.lastSeen;
  into.packets += a.packets;
  into.bytes += a.bytes;
}

function mergeOperation(into: OperationSummary, o: OperationSummary): void {
  into.count += o.count;
  into.responses += o.responses;
  into.exceptions += o.exceptions;
  if (o.exceptionCodes !== undefined) {
    into.exceptionCodes ??= {};
    for (const [k, v] of Object.entries(o.exceptionCodes)) into.exceptionCodes[k] = (into.exceptionCodes[k] ?? 0) + v;
  }
  if (o.units !== undefined) into.units = union(into.units ?? [], o.units).sort((a, b) => a - b);
  if (o.ranges !== undefined) {
    into.ranges ??= {};
    for (const [space, list] of Object.entries(o.ranges)) {
      const l = (into.ranges[space] ??= []);
      for (const [lo, hi] of list) addRange(l, lo, hi);
    }
  }
  if (o.firstSeen < into.firstSeen) into.firstSeen = o.firstSeen;
  if (o.lastSeen > into.lastSeen) into.lastSeen = o.lastSeen;
}

function mergeComm(into: Communication, c: Communication): void {
  into.confirmed ||= c.confirmed;
  into.vlans = union(into.vlans, c.vlans).sort((a, b) => a - b);
  into.flows += c.flows;
  into.packets += c.packets;
  into.bytes += c.bytes;
  into.packetsToServer += c.packetsToServer;
  into.packetsToClient += c.packetsToClient;
  into.bytesToServer += c.bytesToServer;
  into.bytesToClient += c.bytesToClient;
  if (c.firstSeen < into.firstSeen) into.firstSeen = c.firstSeen;
  if (c.lastSeen > into.lastSeen) into.lastSeen = c.lastSeen;
  for (const [name, o] of Object.entries(c.operations)) {
    const e = into.operations[name];
    if (e === undefined) into.operations[name] = structuredClone(o);
    else mergeOperation(e, o);
  }
}

/** Returns a new document: `base` (may be empty) with `next` merged in. Inputs are not modified. */
export function mergeDocuments(
  base: AnalysisDocument,
  next: AnalysisDocument,
  /** Filled with asset ids that changed (old id → id in the result), for state keyed by asset id. */
  remap: Map<string, string> = new Map(),
): AnalysisDocument {
  const out = structuredClone(base);
  const add = structuredClone(next);
  const byId = new Map(out.assets.map((a) => [a.id, a]));
  const byMac = new Map<string, Asset>();
  const byIp = new Map<string, Asset>();
  const index = (a: Asset): void => {
    byId.set(a.id, a);
    if (a.kind !== 'router') for (const m of a.macs) byMac.set(m, a);
    if (a.kind !== 'router')
      for (const ip of a.ips) if (!byIp.has(ip) || byIp.get(ip)!.macs.length === 0) byIp.set(ip, a);
  };
  out.assets.forEach(index);
  for (const a of add.assets) {
    let match = byId.get(a.id);
    if (match === undefined && a.kind !== 'router') {
      for (const m of a.macs) match ??= byMac.get(m);
      if (match === undefined) {
        for (const ip of a.ips) {
          const e = byIp.get(ip);
          if (e !== undefined && (e.macs.length === 0 || a.macs.length === 0)) {
            match = e;
            break;
          }
        }
      }
    }
    if (match === undefined) {
      out.assets.push(a);
      index(a);
      continue;
    }
    // An IP-only asset that now has a MAC takes the MAC-based id.
    if (match.macs.length === 0 && a.macs.length > 0 && match.id !== a.id) {
      remap.set(match.id, a.id);
      byId.delete(match.id);
      match.id = a.id;
    }
    if (a.id !== match.id) remap.set(a.id, match.id);
    mergeAsset(match, a);
    index(match);
  }
  // Deduplicate assets that now share an id, keeping the first.
  const seen = new Set<string>();
  out.assets = out.assets.filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
  out.assets.sort(compareAssets);

  const final = (id: string): string => {
    let cur = id;
    for (let i = 0; i < 8 && remap.has(cur); i++) cur = remap.get(cur)!;
    return cur;
  };
  const comms = new Map<string, Communication>();
  for (const c of [...out.communications, ...add.communications]) {
    c.client = final(c.client);
    c.server = final(c.server);
    c.id = `${c.client}>${c.server}/${c.transport}/${c.port}/${c.protocol}`;
    const e = comms.get(c.id);
    if (e === undefined) comms.set(c.id, c);
    else mergeComm(e, c);
  }
  out.communications = [...comms.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const groups = new Map(out.groups.map((g) => [g.id, g]));
  for (const g of add.groups) if (!groups.has(g.id)) groups.set(g.id, g);
  out.groups = [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : 1));

  const protos = new Map(out.protocols.map((p) => [p.protocol, p]));
  for (const p of add.protocols) {
    const e = protos.get(p.protocol);
    if (e === undefined) protos.set(p.protocol, p);
    else {
      e.packets += p.packets;
      e.bytes += p.bytes;
    }
  }
  const commCount = new Map<string, number>();
  for (const c of out.communications) commCount.set(c.protocol, (commCount.get(c.protocol) ?? 0) + 1);
  out.protocols = [...protos.values()]
    .map((p) => ({ ...p, communications: commCount.get(p.protocol) ?? 0 }))
    .sort((a, b) => b.packets - a.packets || (a.protocol < b.protocol ? -1 : 1));

  for (const [k, v] of Object.entries(add.anomalies)) out.anomalies[k] = (out.anomalies[k] ?? 0) + v;
  out.anomalies = Object.fromEntries(Object.entries(out.anomalies).sort((a, b) => (a[0] < b[0] ? -1 : 1)));

  const cap = out.capture;
  const nc = add.capture;
  cap.files = [...cap.files, ...nc.files];
  cap.packets += nc.packets;
  cap.bytes += nc.bytes;
  cap.start = [cap.start, nc.start].filter((x): x is string => x !== null).sort()[0] ?? null;
  cap.end =
    [cap.end, nc.end]
      .filter((x): x is string => x !== null)
      .sort()
      .at(-1) ?? null;
  const lts = new Map(cap.linkTypes.map((l) => [l.value, l]));
  for (const l of nc.linkTypes) {
    const e = lts.get(l.value);
    if (e === undefined) lts.set(l.value, l);
    else e.packets += l.packets;
  }
  cap.linkTypes = [...lts.values()].sort((a, b) => a.value - b.value);
  cap.truncated ||= nc.truncated;
  cap.issues = [...cap.issues, ...nc.issues].slice(0, MAX_ISSUES);

  for (const k of Object.keys(out.stats) as (keyof AnalysisDocument['stats'])[]) out.stats[k] += add.stats[k];
  return out;
}
