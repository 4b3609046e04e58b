// DNS, mDNS and LLMNR over UDP as a datagram analyzer: confirms on a valid message and turns
// answers into name facts (A/AAAA, and PTR under in-addr.arpa / ip6.arpa, RFC 1035 §3.5, RFC 3596 §2.5).

import { createDatagramAnalyzer } from '../_core/datagram.ts';
import { formatIpv6 } from '../../core/text.ts';
import { defineProtocol, type AnalyzerContext, type AssetFact, type StreamAnalyzer } from '../_core/types.ts';
import { decodeDns, type DnsMessage, type DnsRecord } from './decode.ts';

export { decodeDns } from './decode.ts';
export type { DnsMessage, DnsQuestion, DnsRecord, DnsRdata } from './decode.ts';

/** Name facts emitted for one datagram at most. */
export const MAX_NAME_FACTS_PER_DATAGRAM = 32;

export type DnsNameSource = 'dns' | 'mdns' | 'llmnr';

/** The address a reverse-lookup name stands for ("4.3.2.1.in-addr.arpa" → "1.2.3.4"), if it is one. */
export function addressFromReverseName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.in-addr.arpa')) {
    const parts = lower.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reverse().join('.');
  }
  if (lower.endsWith('.ip6.arpa')) {
    const nibbles = lower.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = parseInt(nibbles[31 - 2 * i]! + nibbles[30 - 2 * i]!, 16);
    return formatIpv6(b);
  }
  return undefined;
}

/** mDNS shows itself by `.local` names or the cache-flush / unicast-response class bit. */
function looksLikeMdns(msg: DnsMessage): boolean {
  const local = (n: string): boolean => /\.local$/i.test(n);
  if (msg.questions.some((q) => q.unicastResponse || local(q.name))) return true;
  return [msg.answers, msg.additional].some((s) => s.some((r) => r.cacheFlush || local(r.name)));
}

function factFor(rr: DnsRecord, source: string): AssetFact | undefined {
  const d = rr.data;
  switch (d.kind) {
    case 'a':
    case 'aaaa':
      return rr.name === '.' ? undefined : { kind: 'name', name: rr.name, ip: d.address, source };
    case 'name': {
      if (rr.type !== 12 || d.name === '.') return undefined;
      const ip = addressFromReverseName(rr.name);
      return ip === undefined ? undefined : { kind: 'name', name: d.name, ip, source };
    }
    case 'raw':
      return undefined;
  }
}

/** Aliases followed back from an address record's owner through CNAMEs; a cycle stops the walk. */
const MAX_ALIAS_DEPTH = 8;

/**
 * Name → address facts from a response's answer and additional sections (mDNS announcements put
 * addresses in either), deduplicated, at most `MAX_NAME_FACTS_PER_DATAGRAM`. An address record
 * reached through CNAMEs also names the aliases (www.example.com CNAME web1 → both names).
 * `limited` is set when facts were left out.
 */
export function nameFactsFromDns(msg: DnsMessage, source: string): { facts: AssetFact[]; limited: boolean } {
  const facts: AssetFact[] = [];
  if (!msg.response || msg.rcode !== 0) return { facts, limited: false };
  const aliasesOf = new Map<string, string[]>();
  for (const rr of msg.answers) {
    if (rr.type !== 5 || rr.data.kind !== 'name') continue;
    const target = rr.data.name.toLowerCase();
    const list = aliasesOf.get(target) ?? [];
    list.push(rr.name);
    aliasesOf.set(target, list);
  }
  const seen = new Set<string>();
  let limited = false;
  const add = (name: string, ip: string): void => {
    const key = `${name.toLowerCase()}\u0000${ip}`;
    if (seen.has(key)) return;
    if (facts.length === MAX_NAME_FACTS_PER_DATAGRAM) {
      limited = true;
      return;
    }
    seen.add(key);
    facts.push({ kind: 'name', name, ip, source });
  };
  for (const rr of [...msg.answers, ...msg.additional]) {
    const f = factFor(rr, source);
    if (f?.kind !== 'name' || f.ip === undefined) continue;
    add(f.name, f.ip);
    if (rr.type === 12) continue;
    let names = [rr.name.toLowerCase()];
    const visited = new Set(names);
    for (let depth = 0; depth < MAX_ALIAS_DEPTH && names.length > 0; depth++) {
      const next: string[] = [];
      for (const n of names) {
        for (const alias of aliasesOf.get(n) ?? []) {
          const key = alias.toLowerCase();
          if (visited.has(key)) continue;
          visited.add(key);
          add(alias, f.ip);
          next.push(key);
        }
      }
      names = next;
    }
  }
  return { facts, limited };
}

/**
 * One analyzer per UDP flow. `source` names where the facts come from; left out, it is `mdns` for
 * messages that look like mDNS and `dns` otherwise (the analyzer is not told the port).
 */
export function createDnsAnalyzer(ctx: AnalyzerContext, source?: DnsNameSource): StreamAnalyzer {
  return createDatagramAnalyzer(ctx, {
    decode: decodeDns,
    truncatedCode: 'dns.truncated',
    onMessage(c, m) {
      const { facts, limited } = nameFactsFromDns(m, source ?? (looksLikeMdns(m) ? 'mdns' : 'dns'));
      for (const f of facts) c.fact(f);
      if (limited) c.anomaly('dns.too_many_names');
    },
  });
}

export const dnsProtocol = defineProtocol({
  name: 'dns',
  transport: 'udp',
  ports: [53, 5353, 5355],
  createAnalyzer: (ctx) => createDnsAnalyzer(ctx),
});
