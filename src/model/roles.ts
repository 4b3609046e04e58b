// Roles suggested by what an asset does on the wire, each with the evidence behind it: a server of
// a controller protocol is a controller (PLC, RTU or IED); a host that downloads programs or stops
// CPUs is an engineering workstation; a host that polls controllers is an HMI or SCADA server.
// Routers and LLDP bridges are decided earlier (build.ts) and win over these.

import { grouped } from '../core/text.ts';
import type { Asset, AssetRole, Communication } from './types.ts';

/** Server roles by confirmed protocol. */
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

/** Protocols whose clients poll controllers for process data. */
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

/** Roles of the *sender* of publish-style layer-2 protocols. */
const PUBLISHER_ROLES: Readonly<Record<string, AssetRole>> = { goose: 'ied' };

interface Tally {
  served: Map<string, { clients: Set<string>; requests: number }>;
  programs: Map<string, number>;
  publishes: Map<string, number>;
  polls: Map<string, { servers: Set<string>; reads: number }>;
}

function tally(map: Map<string, Tally>, id: string): Tally {
  let t = map.get(id);
  if (t === undefined) {
    t = { served: new Map(), programs: new Map(), polls: new Map(), publishes: new Map() };
    map.set(id, t);
  }
  return t;
}

function fmt(n: number): string {
  return grouped(n);
}

/** Suggests a role (with evidence) for every asset whose role is still `unknown`; changes `assets` in place. */
export function suggestRoles(assets: Asset[], communications: readonly Communication[]): void {
  const byId = new Map(assets.map((a) => [a.id, a]));
  const t = new Map<string, Tally>();
  for (const c of communications) {
    if (!c.confirmed) continue;
    const requests = Object.values(c.operations).reduce((n, o) => n + o.count, 0);
    if (SERVER_ROLES[c.protocol] !== undefined && !c.server.startsWith('group:')) {
      const s = tally(t, c.server).served;
      const e = s.get(c.protocol) ?? { clients: new Set<string>(), requests: 0 };
      e.clients.add(c.client);
      e.requests += requests;
      s.set(c.protocol, e);
    }
    const client = tally(t, c.client);
    if (PUBLISHER_ROLES[c.protocol] !== undefined) {
      const n = Object.values(c.operations).reduce((k, o) => k + o.count, 0);
      client.publishes.set(c.protocol, (client.publishes.get(c.protocol) ?? 0) + n);
    }
    for (const [name, o] of Object.entries(c.operations)) {
      if (
        o.access === 'program' ||
        (o.access === 'control' && /stop|start|restart|reset|download|upload|delete/.test(name))
      ) {
        client.programs.set(name, (client.programs.get(name) ?? 0) + o.count);
      }
      if (o.access === 'read' && SUPERVISORY[c.protocol] !== undefined && !c.server.startsWith('group:')) {
        const p = client.polls.get(c.protocol) ?? { servers: new Set<string>(), reads: 0 };
        p.servers.add(c.server);
        p.reads += o.count;
        client.polls.set(c.protocol, p);
      }
    }
  }
  for (const [id, x] of t) {
    const a = byId.get(id);
    if (a === undefined || a.role !== 'unknown') continue;
    if (x.programs.size > 0) {
      a.role = 'engineering_workstation';
      const ops = [...x.programs].sort((p, q) => q[1] - p[1]).map(([n, k]) => `${n} ×${fmt(k)}`);
      a.roleEvidence.push(`issued program/control operations: ${ops.slice(0, 4).join(', ')}`);
      continue;
    }
    const served = [...x.served].sort((p, q) => q[1].requests - p[1].requests)[0];
    if (served !== undefined) {
      const [proto, e] = served;
      a.role = SERVER_ROLES[proto]!;
      a.roleEvidence.push(
        `serves ${proto} to ${fmt(e.clients.size)} client${e.clients.size === 1 ? '' : 's'} (${fmt(e.requests)} requests)`,
      );
      continue;
    }
    const pub = [...x.publishes].sort((p, q) => q[1] - p[1])[0];
    if (pub !== undefined) {
      a.role = PUBLISHER_ROLES[pub[0]]!;
      a.roleEvidence.push(`publishes ${pub[0]} (${fmt(pub[1])} messages)`);
      continue;
    }
    const poll = [...x.polls].sort((p, q) => q[1].reads - p[1].reads)[0];
    if (poll !== undefined && poll[1].reads >= 10) {
      const [proto, p] = poll;
      a.role = SUPERVISORY[proto]!;
      a.roleEvidence.push(
        `polls ${fmt(p.servers.size)} ${proto} server${p.servers.size === 1 ? '' : 's'} (${fmt(p.reads)} reads)`,
      );
    }
  }
}
