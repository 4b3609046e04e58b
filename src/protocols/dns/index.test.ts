import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalyzerContext, AssetFact } from '../_core/types.ts';
import { addressFromReverseName, createDnsAnalyzer, dnsProtocol, MAX_NAME_FACTS_PER_DATAGRAM } from './index.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function recorder(): { ctx: AnalyzerContext; facts: AssetFact[]; calls: string[] } {
  const facts: AssetFact[] = [];
  const calls: string[] = [];
  const ctx: AnalyzerContext = {
    operation: () => calls.push('operation'),
    fact: (f) => facts.push(f),
    anomaly: (c) => calls.push(`anomaly ${c}`),
    confirm: () => calls.push('confirm'),
    violate: (c) => calls.push(`violate ${c}`),
  };
  return { ctx, facts, calls };
}

// it/malcolm-dns.pcap frame 1188. tshark: www.google.com CNAME www.l.google.com,
// A 72.14.209.104 and 72.14.209.99.
const GOOGLE = `
  de0d 8180 0001 0003 0000 0000
  03 777777 06 676f6f676c65 03 636f6d 00 0001 0001    // www.google.com A IN
  c00c 0005 0001 00060281 0008 03 777777 01 6c c010   // CNAME www.l.google.com
  c02c 0001 0001 00000078 0004 480ed168               // www.l.google.com A 72.14.209.104
  c02c 0001 0001 00000078 0004 480ed163               // www.l.google.com A 72.14.209.99
`;

// it/malcolm-dns.pcap frame 141: 1.2.2.4.in-addr.arpa PTR a.resolvers.level3.net.
const PTR = `
  4303 8180 0001 0001 0000 0000
  01 31 01 32 01 32 01 34 07 696e2d61646472 04 61727061 00 000c 0001
  c00c 000c 0001 00006f38 0018 01 61 09 7265736f6c76657273 06 6c6576656c33 03 6e6574 00
`;

test('dnsProtocol registration', () => {
  assert.equal(dnsProtocol.name, 'dns');
  assert.equal(dnsProtocol.transport, 'udp');
  assert.deepEqual(dnsProtocol.ports, [53, 5353, 5355]);
});

test('A answers through a CNAME name both the canonical name and the alias', () => {
  const { ctx, facts, calls } = recorder();
  const a = dnsProtocol.createAnalyzer(ctx);
  a.data(1, fromHex(GOOGLE), 0);
  assert.deepEqual(calls, ['confirm']);
  assert.deepEqual(facts, [
    { kind: 'name', name: 'www.l.google.com', ip: '72.14.209.104', source: 'dns' },
    { kind: 'name', name: 'www.google.com', ip: '72.14.209.104', source: 'dns' },
    { kind: 'name', name: 'www.l.google.com', ip: '72.14.209.99', source: 'dns' },
    { kind: 'name', name: 'www.google.com', ip: '72.14.209.99', source: 'dns' },
  ]);
});

test('PTR under in-addr.arpa names the address of the reversed name', () => {
  const { ctx, facts } = recorder();
  dnsProtocol.createAnalyzer(ctx).data(1, fromHex(PTR), 0);
  assert.deepEqual(facts, [{ kind: 'name', name: 'a.resolvers.level3.net', ip: '4.2.2.1', source: 'dns' }]);
});

test('mDNS announcement gives mdns facts; service PTRs give none', () => {
  const { ctx, facts } = recorder();
  const mdns = fromHex(`
    0000 8400 0000 0002 0000 0001
    04 706c6331 05 6c6f63616c 00 0001 8001 00000078 0004 c0a8000a   // plc1.local A 192.168.0.10
    c00c 001c 8001 00000078 0010 fe800000000000000000000000000001    // plc1.local AAAA fe80::1
    05 5f68747470 04 5f746370 c011 000c 0001 00001194 0007 04 706c6331 c042  // _http._tcp PTR
  `);
  dnsProtocol.createAnalyzer(ctx).data(1, mdns, 0);
  assert.deepEqual(facts, [
    { kind: 'name', name: 'plc1.local', ip: '192.168.0.10', source: 'mdns' },
    { kind: 'name', name: 'plc1.local', ip: 'fe80::1', source: 'mdns' },
  ]);
  const forced = recorder();
  createDnsAnalyzer(forced.ctx, 'llmnr').data(1, fromHex(PTR), 0);
  assert.equal(forced.facts[0]?.kind === 'name' && forced.facts[0].source, 'llmnr');
});

test('queries and error responses give no facts', () => {
  const { ctx, facts, calls } = recorder();
  const a = dnsProtocol.createAnalyzer(ctx);
  const query = fromHex(GOOGLE);
  query[2] = 0x01; // QR = 0
  a.data(0, query, 0);
  const nx = fromHex(GOOGLE);
  nx[3] = 0x83; // rcode 3
  a.data(1, nx, 0);
  assert.deepEqual(facts, []);
  assert.deepEqual(calls, ['confirm']);
});

test('garbage before confirmation violates; after it, it is an anomaly', () => {
  const first = recorder();
  const a = dnsProtocol.createAnalyzer(first.ctx);
  a.data(0, fromHex('0001 8180 ffff ffff ffff ffff'), 0);
  a.data(1, fromHex(GOOGLE), 0); // ignored: detached
  assert.deepEqual(first.calls, ['violate dns.bad_count']);
  assert.deepEqual(first.facts, []);

  const later = recorder();
  const b = dnsProtocol.createAnalyzer(later.ctx);
  b.data(1, fromHex(GOOGLE), 0);
  b.data(1, fromHex('0001 81'), 0);
  b.gap(0, 10);
  b.end();
  assert.deepEqual(later.calls, ['confirm', 'anomaly dns.truncated']);
});

test('facts per datagram are bounded', () => {
  const n = 40;
  let rrs = '';
  for (let i = 0; i < n; i++) rrs += `02 6869 00 0001 0001 00000010 0004 0a0000${i.toString(16).padStart(2, '0')}`;
  const { ctx, facts, calls } = recorder();
  dnsProtocol
    .createAnalyzer(ctx)
    .data(1, fromHex(`0001 8180 0000 ${n.toString(16).padStart(4, '0')} 0000 0000 ${rrs}`), 0);
  assert.equal(facts.length, MAX_NAME_FACTS_PER_DATAGRAM);
  assert.deepEqual(calls, ['confirm', 'anomaly dns.too_many_names']);
});

test('reverse names', () => {
  assert.equal(addressFromReverseName('10.0.168.192.in-addr.arpa'), '192.168.0.10');
  assert.equal(addressFromReverseName('10.0.168.192.IN-ADDR.ARPA'), '192.168.0.10');
  assert.equal(addressFromReverseName('0.168.192.in-addr.arpa'), undefined);
  assert.equal(addressFromReverseName('300.0.168.192.in-addr.arpa'), undefined);
  assert.equal(addressFromReverseName('01.0.168.192.in-addr.arpa'), undefined);
  const v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa';
  assert.equal(addressFromReverseName(v6), 'fe80::1');
  assert.equal(addressFromReverseName('b.a.9.8.ip6.arpa'), undefined);
  assert.equal(addressFromReverseName('www.example.com'), undefined);
});
