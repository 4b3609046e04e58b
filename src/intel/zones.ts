// The zone model: a suggestion from what was seen (Purdue levels, VLANs and subnets, and clusters
// of controllers that talk among themselves), reconciled with what a person decided. Zones have a
// stable id; suggested zones remember the suggestion keys that fed them, so re-analysis refreshes
// their members and names but never a person's choices: a renamed zone keeps its name, a pinned
// asset stays where it was put, merged zones stay merged. Everything here is pure: the store keeps
// the state, the CLI applies the edits.

import { compareIps } from '../model/build.ts';
import { levelName, OT_PROTOCOLS } from '../model/classify.ts';
import type { AccessClass } from '../protocols/_core/types.ts';
import type { Asset, Communication, DecisionSource, PurdueLevel } from '../model/types.ts';

export interface Zone {
  /** Stable id (a slug of the first name); never changes. */
  id: string;
  name: string;
  nameSource: DecisionSource;
  level: PurdueLevel | null;
  /** `suggested` zones come from the suggestion; `person` zones were made by a split. */
  origin: 'suggested' | 'person';
  /** Suggestion keys whose assets land here (several after a merge). */
  keys: string[];
  /** Why the suggestion grouped these assets. */
  reason: string;
}

export interface ZoneMember {
  zone: string;
  source: DecisionSource;
}

export interface ZoneState {
  zones: Zone[];
  /** Asset id → its zone. */
  members: Map<string, ZoneMember>;
}

export interface SuggestedZone {
  key: string;
  name: string;
  level: PurdueLevel | null;
  members: string[];
  reason: string;
}

export class ZoneError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function emptyZoneState(): ZoneState {
  return { zones: [], members: new Map() };
}

const LEVEL_WORD: Readonly<Record<string, string>> = {
  '0': 'field-devices',
  '1': 'controllers',
  '2': 'supervisory',
  '3': 'operations',
  '3.5': 'dmz',
  '4': 'enterprise',
  '5': 'external',
};

/** Where an asset sits on the network: its VLAN, else its IPv4 /24 or IPv6 /64, else layer 2 only. */
function segmentOf(a: Asset): { key: string; label: string; text: string } {
  const vlan = a.vlans[0];
  if (vlan !== undefined) return { key: `vlan${vlan}`, label: `vlan${vlan}`, text: `VLAN ${vlan}` };
  const v4 = a.ips.find((ip) => ip.includes('.') && !ip.includes(':'));
  if (v4 !== undefined) {
    const net = `${v4.split('.').slice(0, 3).join('.')}.0/24`;
    return { key: net, label: net.replace(/[./]/g, '-'), text: `subnet ${net}` };
  }
  const v6 = a.ips[0];
  if (v6 !== undefined) {
    const net = `${v6.split(':').slice(0, 4).join(':')}::/64`;
    return { key: net, label: net.replace(/[:/]+/g, '-').replace(/-+$/, ''), text: `subnet ${net}` };
  }
  return { key: 'l2', label: 'l2', text: 'layer 2 only (no IP address)' };
}

/** A common leading word of the members' names (`line2` of `line2-plc1`, `line2-hmi`), if any. */
function commonPrefix(names: readonly string[]): string | null {
  if (names.length < 2) return null;
  const words = names.map((n) => n.toLowerCase().split(/[-_.\s]+/)[0] ?? '');
  const first = words[0]!;
  if (first.length < 3 || !/^[a-z][a-z0-9]*$/.test(first)) return null;
  return words.every((w) => w === first) ? first : null;
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'zone'
  );
}

/** Assets of levels 0–2 joined by industrial conversations, not counting hubs that talk to every cluster. */
function clusters(assets: readonly Asset[], comms: readonly Communication[]): Map<string, string> {
  const low = new Map<string, Asset>();
  for (const a of assets) {
    const l = a.level?.value;
    if (l !== undefined && l !== null && l <= 2 && a.role !== 'engineering_workstation' && a.role !== 'network_device')
      low.set(a.id, a);
  }
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const id of low.keys()) parent.set(id, id);
  for (const c of comms) {
    if (!OT_PROTOCOLS.has(c.protocol) || !low.has(c.client) || !low.has(c.server)) continue;
    const a = find(c.client);
    const b = find(c.server);
    if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
  }
  const out = new Map<string, string>();
  for (const id of low.keys()) out.set(id, find(id));
  return out;
}

/** The suggested zone model: one zone per (level, segment), split further by communication cluster. */
export function suggestZones(assets: readonly Asset[], comms: readonly Communication[]): SuggestedZone[] {
  const cluster = clusters(assets, comms);
  const clusterAssets = new Map<string, Asset[]>();
  const byId = new Map(assets.map((a) => [a.id, a]));
  for (const [id, root] of cluster) clusterAssets.set(root, [...(clusterAssets.get(root) ?? []), byId.get(id)!]);
  const learntName = (a: Asset): string => a.names.find((x) => x.source !== 'person')?.name ?? '';
  const prefixOf = (members: readonly Asset[]): string | null => {
    const names = members.map(learntName).filter((x) => x !== '');
    return commonPrefix(names.length === members.length ? names : []);
  };
  interface Bucket {
    level: PurdueLevel | null;
    seg: ReturnType<typeof segmentOf>;
    members: Asset[];
  }
  const buckets = new Map<string, Bucket>();
  for (const a of assets) {
    const level = a.level?.value ?? null;
    const seg =
      level === 5 ? { key: 'internet', label: 'internet', text: 'internet-routable addresses' } : segmentOf(a);
    const key = `${level === null ? 'L?' : `L${level}`}|${seg.key}`;
    const b = buckets.get(key) ?? { level, seg, members: [] };
    b.members.push(a);
    buckets.set(key, b);
  }
  const out: SuggestedZone[] = [];
  for (const [key, b] of buckets) {
    // Split a bucket by communication cluster when it holds two or more clusters of two or more assets.
    const byCluster = new Map<string, Asset[]>();
    for (const a of b.members) {
      const c = cluster.get(a.id) ?? '';
      byCluster.set(c, [...(byCluster.get(c) ?? []), a]);
    }
    const big = [...byCluster].filter(([c]) => c !== '' && (clusterAssets.get(c)?.length ?? 0) >= 2);
    const parts: [string, Asset[]][] = big.length >= 2 ? [...byCluster] : [['', b.members]];
    parts.sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
    let n = 0;
    for (const [c, members] of parts) {
      const level = b.level;
      const word = level === null ? 'unclassified' : LEVEL_WORD[String(level)]!;
      const split = parts.length > 1;
      const prefix = prefixOf(members) ?? (split && c !== '' ? prefixOf(clusterAssets.get(c) ?? []) : null);
      const where = level === 5 ? 'internet' : (prefix ?? b.seg.label);
      if (split && prefix === null && c !== '') n++;
      const suffix = split && prefix === null && c !== '' ? `-${n}` : '';
      const name = `${level === null ? 'L?' : `L${level}`}-${where}-${word}${suffix}`;
      const reasons = [
        level === null ? 'level unknown' : levelName(level),
        b.seg.text,
        ...(split ? [`one of ${parts.length} groups of assets that talk among themselves`] : []),
      ];
      out.push({
        key: split ? `${key}|${c === '' ? 'rest' : c}` : key,
        name,
        level,
        members: members.map((a) => a.id).sort(),
        reason: reasons.join('; '),
      });
    }
  }
  return out.sort((a, b) => (a.level ?? 9) - (b.level ?? 9) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function cloneState(s: ZoneState): ZoneState {
  return {
    zones: s.zones.map((z) => ({ ...z, keys: [...z.keys] })),
    members: new Map([...s.members].map(([k, v]) => [k, { ...v }])),
  };
}

function uniqueId(zones: readonly Zone[], name: string): string {
  const base = slug(name);
  const ids = new Set(zones.map((z) => z.id));
  if (!ids.has(base)) return base;
  for (let i = 2; ; i++) if (!ids.has(`${base}-${i}`)) return `${base}-${i}`;
}

function uniqueName(zones: readonly Zone[], name: string, self?: Zone): string {
  const taken = new Set(zones.filter((z) => z !== self).map((z) => z.name.toLowerCase()));
  if (!taken.has(name.toLowerCase())) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name}-${i}`.toLowerCase())) return `${name}-${i}`;
}

/**
 * Applies a fresh suggestion to the stored state: new keys become zones, suggested names and
 * members are refreshed, and every person's choice (names, pinned members, merges, zones made by a
 * split) is kept. Suggested zones left without members are dropped.
 */
export function reconcileZones(state: ZoneState, suggestion: readonly SuggestedZone[]): ZoneState {
  const s = cloneState(state);
  const byKey = new Map<string, Zone>();
  for (const z of s.zones) for (const k of z.keys) byKey.set(k, z);
  const members = new Map([...s.members].filter(([, m]) => m.source === 'person'));
  for (const sz of suggestion) {
    let z = byKey.get(sz.key);
    if (z === undefined) {
      z = {
        id: uniqueId(s.zones, sz.name),
        name: uniqueName(s.zones, sz.name),
        nameSource: 'inferred',
        level: sz.level,
        origin: 'suggested',
        keys: [sz.key],
        reason: sz.reason,
      };
      s.zones.push(z);
      byKey.set(sz.key, z);
    } else {
      if (z.nameSource === 'inferred' && z.keys.length === 1) z.name = uniqueName(s.zones, sz.name, z);
      if (z.keys.length === 1) {
        z.level = sz.level;
        z.reason = sz.reason;
      }
    }
    for (const m of sz.members) if (!members.has(m)) members.set(m, { zone: z.id, source: 'inferred' });
  }
  const used = new Set([...members.values()].map((m) => m.zone));
  s.zones = s.zones.filter((z) => used.has(z.id) || z.nameSource === 'person' || z.origin === 'person');
  s.members = members;
  return s;
}

/** Finds a zone by id or name (case-insensitive). */
export function findZone(state: ZoneState, ref: string): Zone {
  const l = ref.toLowerCase();
  const z = state.zones.find((x) => x.id === ref) ?? state.zones.find((x) => x.name.toLowerCase() === l);
  if (z === undefined) {
    const known = state.zones.map((x) => x.name).slice(0, 8);
    throw new ZoneError(
      'zone.not_found',
      `no zone "${ref}"${known.length > 0 ? ` (zones: ${known.join(', ')}${state.zones.length > 8 ? ', …' : ''})` : ' (the store has no zones yet: run plantguard analyze --db first)'}`,
    );
  }
  return z;
}

function checkName(name: string): string {
  const n = name.trim();
  if (n === '' || n.length > 80 || /[\u0000-\u001f]/.test(n))
    throw new ZoneError('zone.bad_name', `a zone name must be 1–80 printable characters (got "${name}")`);
  return n;
}

export function renameZone(state: ZoneState, ref: string, name: string): ZoneState {
  const s = cloneState(state);
  const z = findZone(s, ref);
  const n = checkName(name);
  if (s.zones.some((x) => x !== z && x.name.toLowerCase() === n.toLowerCase()))
    throw new ZoneError('zone.name_taken', `another zone is already named "${n}"`);
  z.name = n;
  z.nameSource = 'person';
  return s;
}

/** Moves every asset and suggestion key of `from` zones into `into`; the `from` zones are gone. */
export function mergeZones(state: ZoneState, from: readonly string[], into: string): ZoneState {
  const s = cloneState(state);
  const target = findZone(s, into);
  const sources = from.map((r) => findZone(s, r));
  for (const z of sources) {
    if (z === target) throw new ZoneError('zone.merge_self', `cannot merge zone "${z.name}" into itself`);
    target.keys.push(...z.keys);
    for (const m of s.members.values()) if (m.zone === z.id) m.zone = target.id;
  }
  const gone = new Set(sources.map((z) => z.id));
  s.zones = s.zones.filter((z) => !gone.has(z.id));
  return s;
}

/** A new zone (made by a person) holding the given assets, pinned there. */
export function splitZone(state: ZoneState, ref: string, name: string, assets: readonly string[]): ZoneState {
  const s = cloneState(state);
  const from = findZone(s, ref);
  const n = checkName(name);
  if (s.zones.some((x) => x.name.toLowerCase() === n.toLowerCase()))
    throw new ZoneError('zone.name_taken', `another zone is already named "${n}"`);
  if (assets.length === 0) throw new ZoneError('zone.no_assets', 'name at least one asset to move into the new zone');
  for (const a of assets)
    if (s.members.get(a)?.zone !== from.id)
      throw new ZoneError('zone.not_member', `asset ${a} is not in zone "${from.name}"`);
  const z: Zone = {
    id: uniqueId(s.zones, n),
    name: n,
    nameSource: 'person',
    level: from.level,
    origin: 'person',
    keys: [],
    reason: `split from ${from.name} by a person`,
  };
  s.zones.push(z);
  for (const a of assets) s.members.set(a, { zone: z.id, source: 'person' });
  return s;
}

/** Pins assets to a zone: re-analysis never moves them again. */
export function assignAssets(state: ZoneState, ref: string, assets: readonly string[]): ZoneState {
  const s = cloneState(state);
  const z = findZone(s, ref);
  for (const a of assets) s.members.set(a, { zone: z.id, source: 'person' });
  return s;
}

/** Un-pins assets: the next suggestion places them again. */
export function releaseAssets(state: ZoneState, assets: readonly string[]): ZoneState {
  const s = cloneState(state);
  for (const a of assets) {
    const m = s.members.get(a);
    if (m !== undefined) m.source = 'inferred';
  }
  return s;
}

export interface Conduit {
  from: string;
  to: string;
  communications: number;
  packets: number;
  bytes: number;
  /** `protocol/transport/port`, e.g. `modbus/tcp/502`. */
  services: string[];
  operations: { name: string; access: AccessClass; count: number }[];
  /** Client → server asset pairs (ids), at most 20. */
  pairs: [string, string][];
  firstSeen: string;
  lastSeen: string;
}

const ACCESS_ORDER: readonly AccessClass[] = [
  'program',
  'control',
  'write',
  'file',
  'diagnostic',
  'read',
  'discovery',
  'other',
];

/** Which zone talks to which, with which services and operations (client zone → server zone). */
export function conduits(state: ZoneState, comms: readonly Communication[]): Conduit[] {
  const zoneOf = (id: string): string | undefined => state.members.get(id)?.zone;
  const out = new Map<string, Conduit & { ops: Map<string, { access: AccessClass; count: number }> }>();
  for (const c of comms) {
    if (c.server.startsWith('group:')) continue;
    const from = zoneOf(c.client);
    const to = zoneOf(c.server);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}>${to}`;
    let k = out.get(key);
    if (k === undefined) {
      k = {
        from,
        to,
        communications: 0,
        packets: 0,
        bytes: 0,
        services: [],
        operations: [],
        pairs: [],
        firstSeen: c.firstSeen,
        lastSeen: c.lastSeen,
        ops: new Map(),
      };
      out.set(key, k);
    }
    k.communications++;
    k.packets += c.packets;
    k.bytes += c.bytes;
    const svc = `${c.protocol}/${c.transport}/${c.transport === 'ethernet' ? `0x${c.port.toString(16).padStart(4, '0')}` : c.port}`;
    if (!k.services.includes(svc)) k.services.push(svc);
    if (k.pairs.length < 20 && !k.pairs.some(([a, b]) => a === c.client && b === c.server))
      k.pairs.push([c.client, c.server]);
    if (c.firstSeen < k.firstSeen) k.firstSeen = c.firstSeen;
    if (c.lastSeen > k.lastSeen) k.lastSeen = c.lastSeen;
    for (const [name, o] of Object.entries(c.operations)) {
      const e = k.ops.get(name) ?? { access: o.access, count: 0 };
      e.count += o.count;
      k.ops.set(name, e);
    }
  }
  return [...out.values()]
    .map(({ ops, ...k }) => ({
      ...k,
      services: k.services.sort(),
      operations: [...ops]
        .map(([name, o]) => ({ name, access: o.access, count: o.count }))
        .sort(
          (a, b) =>
            ACCESS_ORDER.indexOf(a.access) - ACCESS_ORDER.indexOf(b.access) ||
            b.count - a.count ||
            (a.name < b.name ? -1 : 1),
        ),
    }))
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
}

/** Assets of a zone in address order (ids). */
export function zoneMembers(state: ZoneState, zoneId: string, assets: readonly Asset[]): Asset[] {
  return assets
    .filter((a) => state.members.get(a.id)?.zone === zoneId)
    .sort((a, b) => {
      const ia = a.ips[0];
      const ib = b.ips[0];
      return ia !== undefined && ib !== undefined ? compareIps(ia, ib) : a.id < b.id ? -1 : 1;
    });
}
