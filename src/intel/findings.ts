// Cross-level findings: conversations that skip Purdue levels (an IT host talking straight to a
// PLC) and internet-routable addresses talking to levels 0–2. One finding per client → server pair,
// with the protocols and the riskiest operations, in plain words.

import { isPublicIp, levelName, OT_PROTOCOLS } from '../model/classify.ts';
import type { Asset, Communication, PurdueLevel } from '../model/types.ts';

export type Severity = 'high' | 'medium' | 'low';

export interface Finding {
  id: string;
  kind: 'level_skip' | 'internet_to_control';
  severity: Severity;
  client: string;
  server: string;
  clientLevel: PurdueLevel;
  serverLevel: PurdueLevel;
  protocols: string[];
  /** Write, program and control operations carried, with counts. */
  riskyOperations: { name: string; count: number }[];
  text: string;
  firstSeen: string;
  lastSeen: string;
}

const RANK: readonly PurdueLevel[] = [0, 1, 2, 3, 3.5, 4, 5];

function rank(l: PurdueLevel): number {
  return RANK.indexOf(l);
}

export function assetLabel(a: Asset): string {
  const name = a.names[0]?.name;
  const addr = a.ips[0] ?? a.macs[0] ?? a.id;
  return name !== undefined && name !== addr ? `${addr} (${name})` : addr;
}

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { high: 0, medium: 1, low: 2 };

export function crossLevelFindings(assets: readonly Asset[], comms: readonly Communication[]): Finding[] {
  const byId = new Map(assets.map((a) => [a.id, a]));
  const pairs = new Map<string, Finding>();
  for (const c of comms) {
    const a = byId.get(c.client);
    const b = byId.get(c.server);
    const la = a?.level?.value;
    const lb = b?.level?.value;
    if (a === undefined || b === undefined || la === undefined || lb === undefined || la === null || lb === null)
      continue;
    const publicSide = [a, b].find((x) => x.ips.some(isPublicIp) || x.level?.value === 5);
    const low = Math.min(la, lb);
    let kind: Finding['kind'] | null = null;
    if (publicSide !== undefined && low <= 2) kind = 'internet_to_control';
    else if (Math.abs(rank(la) - rank(lb)) >= 2 && low <= 3) kind = 'level_skip';
    if (kind === null) continue;
    const key = `${c.client}>${c.server}`;
    let f = pairs.get(key);
    if (f === undefined) {
      f = {
        id: `${kind}:${key}`,
        kind,
        severity: 'low',
        client: c.client,
        server: c.server,
        clientLevel: la,
        serverLevel: lb,
        protocols: [],
        riskyOperations: [],
        text: '',
        firstSeen: c.firstSeen,
        lastSeen: c.lastSeen,
      };
      pairs.set(key, f);
    }
    if (!f.protocols.includes(c.protocol)) f.protocols.push(c.protocol);
    for (const [name, o] of Object.entries(c.operations))
      if (o.access === 'write' || o.access === 'program' || o.access === 'control') {
        const e = f.riskyOperations.find((r) => r.name === name);
        if (e !== undefined) e.count += o.count;
        else f.riskyOperations.push({ name, count: o.count });
      }
    if (c.firstSeen < f.firstSeen) f.firstSeen = c.firstSeen;
    if (c.lastSeen > f.lastSeen) f.lastSeen = c.lastSeen;
  }
  for (const f of pairs.values()) {
    const a = byId.get(f.client)!;
    const b = byId.get(f.server)!;
    const itSide = a.role === 'it_host' || b.role === 'it_host';
    const industrial = f.protocols.some((p) => OT_PROTOCOLS.has(p));
    f.severity =
      f.kind === 'internet_to_control' || f.riskyOperations.length > 0
        ? 'high'
        : itSide || industrial
          ? 'medium'
          : 'low';
    f.riskyOperations.sort((x, y) => y.count - x.count || (x.name < y.name ? -1 : 1));
    const between = RANK.slice(
      Math.min(rank(f.clientLevel), rank(f.serverLevel)) + 1,
      Math.max(rank(f.clientLevel), rank(f.serverLevel)),
    );
    const ops =
      f.riskyOperations.length > 0
        ? `, including ${f.riskyOperations
            .slice(0, 3)
            .map((r) => `${r.name} ×${r.count}`)
            .join(', ')}`
        : '';
    const who = (x: Asset, l: PurdueLevel): string =>
      `${assetLabel(x)} (${x.role.replace(/_/g, ' ')}, ${levelName(l).replace(/ \(.*/, '')})`;
    f.text =
      f.kind === 'internet_to_control'
        ? `${who(a, f.clientLevel)} talks to ${who(b, f.serverLevel)} over ${f.protocols.join(', ')}${ops}: an internet-routable address in conversation with the control levels`
        : `${who(a, f.clientLevel)} talks straight to ${who(b, f.serverLevel)} over ${f.protocols.join(', ')}${ops}: skips level${between.length === 1 ? '' : 's'} ${between.join(', ')}`;
  }
  return [...pairs.values()].sort(
    (x, y) => SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity] || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
  );
}
