// Classification of every asset: its role (with a confidence and the evidence behind it), its
// Purdue level (with the reasoning) and its criticality. Inference reads what the asset did on the
// wire (protocols served and used, operations issued, polling), what it said about itself
// (identities, LLDP, DHCP, IT fingerprints) and, for levels, who it talks to. A person's choice
// (role, level, criticality) always wins and is never overwritten by inference; levels and
// criticality follow a chosen role.

import { grouped } from '../core/text.ts';
import { fingerprintAsset, type Fingerprint } from './fingerprints.ts';
import type { Asset, AssetRole, Communication, Criticality, PurdueLevel } from './types.ts';

/** What a person decided about one asset. Unset fields are left to inference. */
export interface AssetChoices {
  role?: AssetRole;
  level?: PurdueLevel;
  criticality?: Criticality;
  /** A display name chosen by a person (shown before any learnt name). */
  name?: string;
  note?: string;
}

export type Choices = ReadonlyMap<string, AssetChoices>;

export const ROLES: readonly AssetRole[] = [
  'plc',
  'rtu',
  'ied',
  'hmi',
  'engineering_workstation',
  'historian',
  'opc_server',
  'scada_server',
  'network_device',
  'it_host',
  'unknown',
];

export const LEVELS: readonly PurdueLevel[] = [0, 1, 2, 3, 3.5, 4, 5];

export const CRITICALITIES: readonly Criticality[] = ['high', 'medium', 'low'];

/** Controller protocols by the role of their server. */
const SERVER_ROLES: Readonly<Record<string, AssetRole>> = {
  modbus: 'plc',
  s7comm: 'plc',
  s7comm_plus: 'plc',
  enip: 'plc',
  dnp3: 'rtu',
  iec104: 'rtu',
  mms: 'ied',
  opcua: 'opc_server',
  bacnet: 'plc',
};

/** Protocols whose clients poll controllers for process data, by the role such a client has. */
const SUPERVISORY: Readonly<Record<string, AssetRole>> = {
  modbus: 'hmi',
  s7comm: 'hmi',
  s7comm_plus: 'hmi',
  enip: 'hmi',
  opcua: 'hmi',
  bacnet: 'hmi',
  dnp3: 'scada_server',
  iec104: 'scada_server',
  mms: 'scada_server',
};

/** Roles of the sender of publish-style layer-2 protocols. */
const PUBLISHER_ROLES: Readonly<Record<string, AssetRole>> = { goose: 'ied', sv: 'ied' };

/** Protocols that only industrial devices and their clients speak. */
export const OT_PROTOCOLS: ReadonlySet<string> = new Set([
  ...Object.keys(SERVER_ROLES),
  'goose',
  'sv',
  'profinet',
  'profinet-rt',
  'profinet-cm',
  'enip-io',
  'mqtt',
  // Named by port only (no dissector yet), but only industrial equipment speaks them.
  'omron-fins',
  'melsec',
  'codesys',
  'ge-srtp',
  'pcworx',
  'proconos',
  'redlion',
  'niagara-fox',
  'niagara-fox-tls',
  'emerson-roc',
  'ff-hse',
  'opcua-tls',
  'mqtt-tls',
]);

/** Application protocols of desktops, servers and office networks (not of embedded controllers). */
const IT_PROTOCOLS: ReadonlySet<string> = new Set([
  'http',
  'https',
  'http-alt',
  'https-alt',
  'tls',
  'ssh',
  'smb',
  'netbios-ssn',
  'rdp',
  'dns',
  'kerberos',
  'ldap',
  'ldaps',
  'msrpc',
  'smtp',
  'imap',
  'pop3',
  'mysql',
  'mssql',
  'postgresql',
  'winrm',
  'vnc',
  'ftp',
  'telnet',
  'nbns',
  'ssdp',
  'ws-discovery',
  'llmnr',
  'mdns',
  'dhcpv6',
  'sunrpc',
  'lpd',
]);

/** MAC vendors (OUI) that make industrial equipment: such a device is not called an IT host on protocols alone. */
const INDUSTRIAL_VENDORS =
  /siemens|rockwell|allen-bradley|schneider|phoenix contact|wago|beckhoff|moxa|hirschmann|belden|general electric|\bge\b|abb|omron|mitsubishi|yokogawa|honeywell|emerson|schweitzer|b&r|pilz|turck|festo|hilscher|prosoft|red lion|advantech|westermo|ruggedcom|sel\b/i;

/** CIP/identity device types that name the role outright. */
const DEVICE_TYPE_ROLES: readonly (readonly [RegExp, AssetRole])[] = [
  [/programmable logic controller|\bplc\b|\bcpu\b/i, 'plc'],
  [/remote terminal|\brtu\b/i, 'rtu'],
  [/protection relay|\bied\b|\brelay\b/i, 'ied'],
  [/human-machine interface|operator interface|\bhmi\b|panel/i, 'hmi'],
  [/switch|router|gateway|firewall|scalance x/i, 'network_device'],
];

const ROLE_LEVEL: Readonly<Record<AssetRole, PurdueLevel | null>> = {
  plc: 1,
  rtu: 1,
  ied: 1,
  hmi: 2,
  engineering_workstation: 2,
  scada_server: 2,
  opc_server: 2,
  historian: 3,
  network_device: null,
  it_host: 4,
  unknown: null,
};

const ROLE_CRITICALITY: Readonly<Record<AssetRole, Criticality>> = {
  plc: 'high',
  rtu: 'high',
  ied: 'high',
  scada_server: 'high',
  engineering_workstation: 'high',
  hmi: 'medium',
  historian: 'medium',
  opc_server: 'medium',
  network_device: 'medium',
  it_host: 'low',
  unknown: 'low',
};

const CRITICALITY_REASON: Readonly<Record<AssetRole, string>> = {
  plc: 'a controller: it drives the process directly',
  rtu: 'a remote terminal unit: it drives the process directly',
  ied: 'a protection/control device: it acts on the process directly',
  scada_server: 'a SCADA master: it commands the field devices',
  engineering_workstation: 'an engineering workstation: it can reprogram and stop controllers',
  hmi: 'an HMI: operators see and steer the process through it',
  historian: 'a historian: process records and a bridge toward IT',
  opc_server: 'an OPC server: it relays process data between systems',
  network_device: 'network infrastructure: the plant depends on it to communicate',
  it_host: 'an IT host: no direct part in controlling the process',
  unknown: 'role unknown: default until a person decides',
};

const fmt = grouped;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmt(n)} ${n === 1 ? one : many}`;
}

function isGroup(id: string): boolean {
  return id.startsWith('group:');
}

/** True for an address that is routable on the internet (not private, loopback, link-local, CGNAT, multicast). */
export function isPublicIp(ip: string): boolean {
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    return !(
      l === '::' ||
      l === '::1' ||
      l.startsWith('fe8') ||
      l.startsWith('fe9') ||
      l.startsWith('fea') ||
      l.startsWith('feb') ||
      l.startsWith('fc') ||
      l.startsWith('fd') ||
      l.startsWith('ff')
    );
  }
  const o = ip.split('.').map(Number);
  if (o.length !== 4 || o.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return false;
  const [a, b] = o as [number, number, number, number];
  if (a === 10 || a === 127 || a === 0 || a >= 224) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 169 && b === 254) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 192 && b === 0 && o[2] === 2) return false; // TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  return true;
}

interface Tally {
  served: Map<string, { clients: Set<string>; requests: number }>;
  programs: Map<string, number>;
  publishes: Map<string, number>;
  polls: Map<string, { servers: Set<string>; reads: number; seconds: number }>;
  otClientOf: Set<string>;
  itOnly: boolean;
  peers: Set<string>;
}

function newTally(): Tally {
  return {
    served: new Map(),
    programs: new Map(),
    polls: new Map(),
    publishes: new Map(),
    otClientOf: new Set(),
    itOnly: true,
    peers: new Set(),
  };
}

function span(c: Communication): number {
  const s = (Date.parse(c.lastSeen) - Date.parse(c.firstSeen)) / 1000;
  return Number.isFinite(s) && s > 0 ? s : 0;
}

function tallies(communications: readonly Communication[]): Map<string, Tally> {
  const t = new Map<string, Tally>();
  const get = (id: string): Tally => {
    let x = t.get(id);
    if (x === undefined) {
      x = newTally();
      t.set(id, x);
    }
    return x;
  };
  for (const c of communications) {
    const client = get(c.client);
    const server = isGroup(c.server) ? null : get(c.server);
    client.peers.add(c.server);
    server?.peers.add(c.client);
    const ot = OT_PROTOCOLS.has(c.protocol);
    if (ot) {
      client.itOnly = false;
      if (server !== null) server.itOnly = false;
    }
    if (!c.confirmed) continue;
    let requests = 0;
    for (const o of Object.values(c.operations)) requests += o.count;
    if (server !== null && SERVER_ROLES[c.protocol] !== undefined) {
      const e = server.served.get(c.protocol) ?? { clients: new Set<string>(), requests: 0 };
      e.clients.add(c.client);
      e.requests += requests;
      server.served.set(c.protocol, e);
      client.otClientOf.add(c.server);
    }
    if (PUBLISHER_ROLES[c.protocol] !== undefined)
      client.publishes.set(c.protocol, (client.publishes.get(c.protocol) ?? 0) + Math.max(requests, c.packets));
    for (const [name, o] of Object.entries(c.operations)) {
      if (
        o.access === 'program' ||
        (o.access === 'control' && /stop|start|restart|reset|download|upload|delete/.test(name))
      )
        client.programs.set(name, (client.programs.get(name) ?? 0) + o.count);
      if (o.access === 'read' && SUPERVISORY[c.protocol] !== undefined && server !== null) {
        const p = client.polls.get(c.protocol) ?? { servers: new Set<string>(), reads: 0, seconds: 0 };
        p.servers.add(c.server);
        p.reads += o.count;
        p.seconds = Math.max(p.seconds, span(c));
        client.polls.set(c.protocol, p);
      }
    }
  }
  return t;
}

interface Inferred {
  role: AssetRole;
  confidence: number;
  evidence: string[];
}

function identityRole(a: Asset): { role: AssetRole; line: string } | null {
  for (const i of a.identity) {
    const deviceType = i.extra?.deviceType ?? '';
    const text = [deviceType, i.product, i.model].filter((x) => x !== undefined && x !== '').join(' ');
    if (text === '') continue;
    for (const [re, role] of DEVICE_TYPE_ROLES) {
      if (!re.test(text)) continue;
      // The identity of a module in a chassis (route 1/n) describes the chassis slot, not this address.
      const where = i.extra?.route !== undefined ? ` (slot ${i.extra.route})` : '';
      return { role, line: `${i.protocol} identity says "${text.slice(0, 80)}"${where}` };
    }
  }
  return null;
}

function inferRole(a: Asset, x: Tally | undefined, fp: Fingerprint): Inferred {
  const ev: string[] = [];
  const caps = a.lldp?.capabilities ?? [];
  if (a.kind === 'router')
    return {
      role: 'network_device',
      confidence: 0.9,
      evidence: [
        ...a.roleEvidence.filter((e) => e.includes('router or gateway')).slice(0, 1),
        ...(a.roleEvidence.some((e) => e.includes('router or gateway'))
          ? []
          : [
              'one MAC address carried traffic of many IP addresses: a router or gateway forwarding for devices behind it',
            ]),
      ],
    };
  // Controllers with an integrated switch announce bridge *and* station: they are not switches.
  if (caps.includes('router') || (caps.includes('bridge') && !caps.includes('station')))
    return { role: 'network_device', confidence: 0.9, evidence: [`LLDP enabled capabilities: ${caps.join(', ')}`] };
  const ident = identityRole(a);
  if (x !== undefined && x.programs.size > 0) {
    const ops = [...x.programs].sort((p, q) => q[1] - p[1]).map(([n, k]) => `${n} ×${fmt(k)}`);
    ev.push(`issued program/control operations: ${ops.slice(0, 4).join(', ')}`);
    const eng = fp.hints.includes('engineering_software');
    if (eng) ev.push(...fp.evidence.slice(0, 2));
    return { role: 'engineering_workstation', confidence: eng ? 0.95 : 0.85, evidence: ev };
  }
  const served = x === undefined ? undefined : [...x.served].sort((p, q) => q[1].requests - p[1].requests)[0];
  if (served !== undefined) {
    const [proto, e] = served;
    let role = SERVER_ROLES[proto]!;
    ev.push(`serves ${proto} to ${plural(e.clients.size, 'client')} (${plural(e.requests, 'request')})`);
    let confidence = e.requests > 0 ? 0.8 : 0.65;
    if (ident !== null && ident.role !== 'network_device' && ident.role !== 'hmi') {
      if (ident.role === role || (role === 'plc' && ident.role !== 'plc')) {
        role = ident.role;
        confidence = 0.95;
      }
      ev.push(ident.line);
    }
    const publishes = [...(x?.publishes ?? [])];
    if (publishes.length > 0 && role === 'ied') {
      ev.push(`publishes ${publishes.map(([p, n]) => `${p} (${plural(n, 'message')})`).join(', ')}`);
      confidence = Math.max(confidence, 0.9);
    }
    return { role, confidence, evidence: ev };
  }
  const pub = x === undefined ? undefined : [...x.publishes].sort((p, q) => q[1] - p[1])[0];
  if (pub !== undefined) {
    ev.push(`publishes ${pub[0]} (${plural(pub[1], 'message')})`);
    return { role: PUBLISHER_ROLES[pub[0]]!, confidence: 0.85, evidence: ev };
  }
  if (ident !== null) return { role: ident.role, confidence: 0.75, evidence: [ident.line] };
  const poll = x === undefined ? undefined : [...x.polls].sort((p, q) => q[1].reads - p[1].reads)[0];
  if (poll !== undefined && poll[1].reads >= 10) {
    const [proto, p] = poll;
    const rate =
      p.seconds > 0 ? `, about ${(p.reads / p.seconds).toFixed(p.reads / p.seconds < 10 ? 1 : 0)} reads/s` : '';
    ev.push(`polls ${plural(p.servers.size, `${proto} server`)} (${plural(p.reads, 'read')}${rate})`);
    if (fp.hints.includes('historian_software')) {
      ev.push(...fp.evidence.slice(0, 2));
      return { role: 'historian', confidence: 0.85, evidence: ev };
    }
    let confidence = 0.7;
    if (fp.hints.includes('hmi_software')) {
      confidence = 0.9;
      ev.push(...fp.evidence.slice(0, 2));
    } else if (p.servers.size >= 5 && proto === 'opcua') return { role: 'historian', confidence: 0.55, evidence: ev };
    return { role: SUPERVISORY[proto]!, confidence, evidence: ev };
  }
  if (fp.hints.includes('network_device'))
    return { role: 'network_device', confidence: 0.7, evidence: fp.evidence.slice(0, 3) };
  if (fp.hints.includes('historian_software'))
    return { role: 'historian', confidence: 0.6, evidence: fp.evidence.slice(0, 3) };
  if (fp.hints.includes('engineering_software'))
    return { role: 'engineering_workstation', confidence: 0.6, evidence: fp.evidence.slice(0, 3) };
  if (fp.hints.includes('hmi_software')) return { role: 'hmi', confidence: 0.6, evidence: fp.evidence.slice(0, 3) };
  const industrial = a.vendor !== null && INDUSTRIAL_VENDORS.test(a.vendor);
  const itProtocols = [...new Set([...a.protocols.used, ...a.protocols.served])].filter((p) => IT_PROTOCOLS.has(p));
  const osHint = fp.hints.some((h) => h === 'desktop_os' || h === 'server_os' || h === 'mobile_os' || h === 'browser');
  if (x !== undefined && x.otClientOf.size > 0) {
    const line = `client of ${plural(x.otClientOf.size, 'industrial server')}, too few reads to call it an HMI`;
    if (!industrial && (osHint || itProtocols.length >= 2)) {
      ev.push(`IT protocols seen (${itProtocols.slice(0, 6).join(', ')})`, ...(osHint ? fp.evidence.slice(0, 2) : []));
      ev.push(`also a ${line}`);
      return { role: 'it_host', confidence: osHint ? 0.7 : 0.5, evidence: ev };
    }
    ev.push(line);
    return { role: 'unknown', confidence: 0, evidence: ev };
  }
  if (x !== undefined && !x.itOnly) {
    const ot = [...new Set([...a.protocols.used, ...a.protocols.served])].filter((p) => OT_PROTOCOLS.has(p));
    if (ot.length > 0) ev.push(`speaks ${ot.join(', ')} (named by port, no dissector confirmed it)`);
    return { role: 'unknown', confidence: 0, evidence: ev };
  }
  if (industrial) {
    ev.push(`MAC vendor ${a.vendor} makes industrial equipment; no industrial protocol seen to tell its role`);
    return { role: 'unknown', confidence: 0, evidence: ev };
  }
  if (osHint || (itProtocols.length >= 2 && !fp.hints.includes('embedded'))) {
    ev.push(
      itProtocols.length > 0
        ? `only IT protocols seen (${itProtocols.slice(0, 6).join(', ')})`
        : 'no industrial protocol seen',
    );
    if (osHint) ev.push(...fp.evidence.slice(0, 3));
    return { role: 'it_host', confidence: osHint ? (itProtocols.length > 0 ? 0.8 : 0.7) : 0.5, evidence: ev };
  }
  return { role: 'unknown', confidence: 0, evidence: ev };
}

function levelOf(a: Asset | undefined): PurdueLevel | null {
  return a?.level?.value ?? null;
}

const LEVEL_NAMES: Readonly<Record<string, string>> = {
  '0': 'level 0 (process: sensors, actuators, I/O)',
  '1': 'level 1 (basic control)',
  '2': 'level 2 (supervisory control)',
  '3': 'level 3 (site operations)',
  '3.5': 'level 3.5 (industrial DMZ)',
  '4': 'level 4 (enterprise IT)',
  '5': 'level 5 (internet / external)',
};

export function levelName(l: PurdueLevel): string {
  return LEVEL_NAMES[String(l)] ?? `level ${l}`;
}

function isFieldDevice(a: Asset): string | null {
  for (const i of a.identity) {
    if (i.extra?.deviceRole === 'io_device' && !a.protocols.served.some((p) => SERVER_ROLES[p] !== undefined))
      return `PROFINET IO device${i.product !== undefined ? ` ${i.product}` : ''}`;
    const t = i.extra?.deviceType ?? '';
    if (/general purpose discrete i\/o|analog i\/o|generic device|drive|motor|sensor|encoder|valve/i.test(t))
      return `${i.protocol} device type "${t}"`;
  }
  return null;
}

/**
 * Classifies every asset in place: role (choice or inference) with confidence and evidence, Purdue
 * level with reasons, criticality with reasons. Runs again from scratch on every call.
 */
export function classifyAssets(
  assets: Asset[],
  communications: readonly Communication[],
  choices: Choices = new Map(),
): void {
  const t = tallies(communications);
  for (const a of assets) {
    const chosen = choices.get(a.id);
    const fp = fingerprintAsset(a);
    if (chosen?.role !== undefined) {
      a.role = chosen.role;
      a.roleConfidence = 1;
      a.roleSource = 'person';
      a.roleEvidence = [`set by a person${chosen.note !== undefined ? `: ${chosen.note}` : ''}`];
      continue;
    }
    const r = inferRole(a, t.get(a.id), fp);
    a.role = r.role;
    a.roleConfidence = Math.round(r.confidence * 100) / 100;
    a.roleSource = 'inferred';
    a.roleEvidence = r.evidence;
    if (fp.os !== null && !a.roleEvidence.some((e) => fp.evidence.includes(e)))
      a.roleEvidence.push(...fp.evidence.slice(0, 1));
  }
  // Levels: first from the role (and public addresses), then the rest from their neighbours.
  const byId = new Map(assets.map((a) => [a.id, a]));
  const neighbours = new Map<string, Set<string>>();
  const link = (x: string, y: string): void => {
    if (isGroup(x) || isGroup(y) || x === y) return;
    if (!neighbours.has(x)) neighbours.set(x, new Set());
    neighbours.get(x)!.add(y);
  };
  /** Servers of industrial protocols each asset is a client of. */
  const clientOf = new Map<string, Set<string>>();
  for (const c of communications) {
    link(c.client, c.server);
    link(c.server, c.client);
    if (OT_PROTOCOLS.has(c.protocol) && !isGroup(c.server)) {
      if (!clientOf.has(c.client)) clientOf.set(c.client, new Set());
      clientOf.get(c.client)!.add(c.server);
    }
  }
  const pending: Asset[] = [];
  for (const a of assets) {
    const chosen = choices.get(a.id);
    if (chosen?.level !== undefined) {
      a.level = { value: chosen.level, source: 'person', reasons: ['set by a person'] };
      continue;
    }
    const pub = a.ips.find(isPublicIp);
    if (pub !== undefined && a.macs.length === 0) {
      a.level = {
        value: 5,
        source: 'inferred',
        reasons: [`${pub} is an internet-routable address seen behind a router: outside the plant`],
      };
      continue;
    }
    const field = a.role === 'unknown' || a.role === 'plc' ? isFieldDevice(a) : null;
    if (field !== null && (a.role === 'unknown' || a.roleConfidence! < 0.9)) {
      a.level = { value: 0, source: 'inferred', reasons: [`${field}: a field device under a controller`] };
      continue;
    }
    const base = ROLE_LEVEL[a.role];
    if (base === null) {
      pending.push(a);
      continue;
    }
    const reasons = [`role ${a.role.replace(/_/g, ' ')} sits at ${levelName(base)}`];
    let value: PurdueLevel = base;
    if (pub !== undefined) {
      value = 5;
      reasons.push(`but ${pub} is an internet-routable address: outside the plant`);
    }
    a.level = { value, source: 'inferred', reasons };
  }
  // IT hosts that both reach into the control levels and are reached from IT are the DMZ (3.5):
  // a jump host or a data diode's far side. Those only talking to controllers stay 4 (a finding).
  for (const a of assets) {
    if (a.level?.source !== 'inferred' || a.role !== 'it_host' || a.level.value !== 4) continue;
    const ns = [...(neighbours.get(a.id) ?? [])].map((n) => byId.get(n)).filter((n) => n !== undefined);
    const low = ns.filter((n) => (n.level?.value ?? 9) <= 3 && n.role !== 'it_host');
    const high = ns.filter((n) => n.role === 'it_host' && n.level?.value === 4);
    if (low.length > 0 && high.length > 0 && a.protocols.served.length > 0) {
      a.level = {
        value: 3.5,
        source: 'inferred',
        reasons: [
          `talks to ${plural(low.length, 'control-side asset')} and to ${plural(high.length, 'IT host')}, and serves ${a.protocols.served.slice(0, 3).join(', ')}: a DMZ host between the two`,
        ],
      };
    }
  }
  // Network devices and unknowns: the most common level among their neighbours (lowest on a tie).
  for (let round = 0; round < 2; round++) {
    for (const a of pending) {
      if (a.level !== undefined && round > 0) continue;
      const servers = [...(clientOf.get(a.id) ?? [])].map((n) => levelOf(byId.get(n))).filter((l) => l !== null);
      if (a.role === 'unknown' && servers.length > 0 && Math.min(...servers) <= 1) {
        const l = (Math.min(...servers) + 1) as PurdueLevel;
        a.level = {
          value: l,
          source: 'inferred',
          reasons: [
            `role unknown; a client of industrial servers at ${levelName(Math.min(...servers) as PurdueLevel)}: at least ${levelName(l)}`,
          ],
        };
        continue;
      }
      const counts = new Map<PurdueLevel, number>();
      for (const n of neighbours.get(a.id) ?? []) {
        const l = levelOf(byId.get(n));
        if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
      }
      const best = [...counts].sort((p, q) => q[1] - p[1] || p[0] - q[0])[0];
      if (best !== undefined) {
        a.level = {
          value: best[0],
          source: 'inferred',
          reasons: [
            `${a.role === 'network_device' ? 'network device' : 'role unknown'}; ${plural(best[1], 'of its peers', 'of its peers')} ${best[1] === 1 ? 'is' : 'are'} at ${levelName(best[0])}`,
          ],
        };
      } else if (round === 1)
        a.level = { value: null, source: 'inferred', reasons: ['no role and no classified peer: level unknown'] };
    }
  }
  for (const a of assets) {
    a.level ??= { value: null, source: 'inferred', reasons: ['no role and no classified peer: level unknown'] };
    const chosen = choices.get(a.id);
    a.names = a.names.filter((n) => n.source !== 'person');
    if (chosen?.name !== undefined) a.names.unshift({ name: chosen.name, source: 'person' });
    if (chosen?.criticality !== undefined) {
      a.criticality = { value: chosen.criticality, source: 'person', reasons: ['set by a person'] };
      continue;
    }
    a.criticality = {
      value: ROLE_CRITICALITY[a.role],
      source: 'inferred',
      reasons: [`default for the role: ${CRITICALITY_REASON[a.role]}`],
    };
    if (a.role === 'network_device' && a.level.value !== null && a.level.value <= 2) {
      a.criticality = {
        value: 'high',
        source: 'inferred',
        reasons: [`network device at ${levelName(a.level.value)}: the control network depends on it`],
      };
    }
  }
}
