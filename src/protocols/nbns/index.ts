// NetBIOS Name Service (UDP 137) as a datagram analyzer: host names from registrations, refreshes
// and positive responses (RFC 1002 §4.2.2, §4.2.13), and from node status name tables (§4.2.18).

import { createDatagramAnalyzer } from '../_core/datagram.ts';
import { defineProtocol, type AnalyzerContext, type AssetFact, type StreamAnalyzer } from '../_core/types.ts';
import { decodeNbns, type NbnsMessage, type NbnsRecord } from './decode.ts';

export { decodeNbns, decodeNetbiosLabel } from './decode.ts';
export type { NbnsMessage, NbnsRecord, NbnsQuestion, NbnsRdata, NetbiosName } from './decode.ts';

/** Name facts emitted for one datagram at most. */
export const MAX_NBNS_FACTS_PER_DATAGRAM = 32;

/** Suffixes that name a host: <00> workstation service, <20> file server service. */
const HOST_SUFFIXES: ReadonlySet<number> = new Set([0x00, 0x20]);
/** Requests that claim a name for an address: registration, refresh, multi-homed registration. */
const CLAIMS: ReadonlySet<number> = new Set([5, 8, 9, 15]);
/** Responses whose positive answer binds a name to an address: query, registration, refresh. */
const ANSWERS: ReadonlySet<number> = new Set([0, 5, 8, 9, 15]);

type NameFact = Extract<AssetFact, { kind: 'name' }>;

/**
 * Name facts (source `nbns`) in a message: unique <00>/<20> names with their addresses from the
 * additional records of claims and the answers of positive responses, and node status name
 * tables with the unit id as the MAC. Group names are skipped. At most MAX_NBNS_FACTS_PER_DATAGRAM;
 * `limited` is set when some were left out.
 */
export function nameFactsFromNbns(msg: NbnsMessage): { facts: NameFact[]; limited: boolean } {
  const facts: NameFact[] = [];
  const seen = new Set<string>();
  let limited = false;
  const add = (f: NameFact): void => {
    if (f.name === '' || f.name === '*') return;
    const key = `${f.name}\u0000${f.ip ?? ''}\u0000${f.mac ?? ''}`;
    if (seen.has(key)) return;
    if (facts.length === MAX_NBNS_FACTS_PER_DATAGRAM) {
      limited = true;
      return;
    }
    seen.add(key);
    facts.push(f);
  };
  let records: readonly NbnsRecord[] = [];
  if (msg.response) {
    if (msg.rcode === 0 && ANSWERS.has(msg.opcode)) records = msg.answers;
  } else if (CLAIMS.has(msg.opcode)) records = msg.additional;
  for (const rr of records) {
    if (!HOST_SUFFIXES.has(rr.name.suffix)) continue;
    if (rr.data.kind !== 'nb') continue;
    for (const a of rr.data.addresses) {
      if (!a.group && a.ip !== '0.0.0.0') add({ kind: 'name', name: rr.name.name, ip: a.ip, source: 'nbns' });
    }
  }
  if (msg.response && msg.rcode === 0 && msg.opcode === 0) {
    for (const rr of msg.answers) {
      if (rr.data.kind !== 'nbstat' || rr.data.unitId === undefined || rr.data.unitId === 0) continue;
      for (const n of rr.data.names) {
        if (!n.group && HOST_SUFFIXES.has(n.suffix))
          add({ kind: 'name', name: n.name, mac: rr.data.unitId, source: 'nbns' });
      }
    }
  }
  return { facts, limited };
}

export function createNbnsAnalyzer(ctx: AnalyzerContext): StreamAnalyzer {
  return createDatagramAnalyzer(ctx, {
    decode: decodeNbns,
    truncatedCode: 'nbns.truncated',
    onMessage(c, m) {
      const { facts, limited } = nameFactsFromNbns(m);
      for (const f of facts) c.fact(f);
      if (limited) c.anomaly('nbns.too_many_names');
    },
  });
}

export const nbnsProtocol = defineProtocol({
  name: 'nbns',
  transport: 'udp',
  ports: [137],
  createAnalyzer: createNbnsAnalyzer,
});
