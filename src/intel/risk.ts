// A per-asset risk score (0–100) with the factors that make it up, so a person sees why an asset
// ranks where it does: how much it matters (criticality), how exposed it is (reached from other
// zones, from IT, from the internet), what is known to be wrong with it (advisories), and what
// risky operations it received (writes, program changes, stops).

import { isPublicIp } from '../model/classify.ts';
import type { Asset, Communication } from '../model/types.ts';
import type { ZoneState } from './zones.ts';

export interface RiskFactor {
  factor: 'criticality' | 'exposure' | 'vulnerabilities' | 'operations';
  points: number;
  detail: string;
}

export interface Risk {
  score: number;
  rating: 'high' | 'medium' | 'low';
  factors: RiskFactor[];
}

/** What risk needs of an advisory match (see advisories/match.ts). */
export interface VulnerabilitySignal {
  advisoryId: string;
  status: 'affected' | 'possibly_affected' | 'not_affected';
  maxCvss: number | null;
}

const CRITICALITY_POINTS = { high: 30, medium: 15, low: 5 } as const;

export interface RiskContext {
  assets: ReadonlyMap<string, Asset>;
  zones: ZoneState;
  /** Communications by server asset id. */
  inbound: ReadonlyMap<string, readonly Communication[]>;
}

export function riskContext(assets: readonly Asset[], comms: readonly Communication[], zones: ZoneState): RiskContext {
  const inbound = new Map<string, Communication[]>();
  for (const c of comms) {
    if (c.server.startsWith('group:')) continue;
    const l = inbound.get(c.server) ?? [];
    l.push(c);
    inbound.set(c.server, l);
  }
  return { assets: new Map(assets.map((a) => [a.id, a])), zones, inbound };
}

function n(k: number, one: string, many = `${one}s`): string {
  return `${k} ${k === 1 ? one : many}`;
}

export function assessRisk(a: Asset, vulns: readonly VulnerabilitySignal[], ctx: RiskContext): Risk {
  const factors: RiskFactor[] = [];
  const crit = a.criticality?.value ?? 'low';
  factors.push({
    factor: 'criticality',
    points: CRITICALITY_POINTS[crit],
    detail: `${crit} criticality${a.criticality?.source === 'person' ? ' (set by a person)' : ` (${a.role.replace(/_/g, ' ')})`}`,
  });

  const own = ctx.zones.members.get(a.id)?.zone;
  const fromZones = new Set<string>();
  const itClients = new Set<string>();
  const internetClients = new Set<string>();
  let writes = 0;
  let programs = 0;
  const writers = new Set<string>();
  const programmers = new Set<string>();
  for (const c of ctx.inbound.get(a.id) ?? []) {
    const client = ctx.assets.get(c.client);
    const z = ctx.zones.members.get(c.client)?.zone;
    if (z !== undefined && z !== own) fromZones.add(z);
    if (client !== undefined) {
      if (client.ips.some(isPublicIp) || client.level?.value === 5) internetClients.add(client.id);
      else if (client.role === 'it_host' || (client.level?.value ?? 0) >= 4) itClients.add(client.id);
    }
    for (const o of Object.values(c.operations)) {
      if (o.access === 'write') {
        writes += o.count;
        writers.add(c.client);
      } else if (o.access === 'program' || o.access === 'control') {
        programs += o.count;
        programmers.add(c.client);
      }
    }
  }
  let exposure = Math.min(15, fromZones.size * 5);
  const exp: string[] = [];
  if (fromZones.size > 0) exp.push(`reached from ${n(fromZones.size, 'other zone')}`);
  if (internetClients.size > 0) {
    exposure += 25;
    exp.push(`reached from ${n(internetClients.size, 'internet address', 'internet addresses')}`);
  } else if (itClients.size > 0) {
    exposure += 15;
    exp.push(`reached from ${n(itClients.size, 'IT host')}`);
  }
  if (exposure > 0) factors.push({ factor: 'exposure', points: exposure, detail: exp.join('; ') });

  const affected = vulns.filter((v) => v.status === 'affected');
  const possible = vulns.filter((v) => v.status === 'possibly_affected');
  const top = (l: readonly VulnerabilitySignal[]): number => Math.max(0, ...l.map((v) => v.maxCvss ?? 5));
  let vp = 0;
  const vd: string[] = [];
  if (affected.length > 0) {
    vp = Math.round(top(affected) * 3);
    vd.push(`affected by ${n(affected.length, 'advisory', 'advisories')} (highest CVSS ${top(affected).toFixed(1)})`);
  }
  if (possible.length > 0) {
    vp = Math.max(vp, Math.round(top(possible) * 1.5));
    vd.push(`possibly affected by ${n(possible.length, 'advisory', 'advisories')} (firmware or model not confirmed)`);
  }
  if (vp > 0) factors.push({ factor: 'vulnerabilities', points: Math.min(30, vp), detail: vd.join('; ') });

  let op = 0;
  const od: string[] = [];
  if (programs > 0) {
    op += 15;
    od.push(`received ${n(programs, 'program/control operation')} from ${n(programmers.size, 'client')}`);
  }
  if (writes > 0) {
    op += writers.size > 1 ? 10 : 5;
    od.push(`received ${n(writes, 'write')} from ${n(writers.size, 'client')}`);
  }
  if (op > 0) factors.push({ factor: 'operations', points: Math.min(25, op), detail: od.join('; ') });

  const score = Math.min(
    100,
    factors.reduce((s, f) => s + f.points, 0),
  );
  return { score, rating: score >= 60 ? 'high' : score >= 35 ? 'medium' : 'low', factors };
}
