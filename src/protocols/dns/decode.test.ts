import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDns, type DnsMessage } from './decode.ts';
import { labelText, readNameLabels } from './name.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function value(bytes: Uint8Array): DnsMessage {
  const d = decodeDns(bytes);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  assert.equal(d.consumed, bytes.length);
  return d.value;
}

// it/malcolm-dns.pcap frame 1009. tshark: www.expoactive.com CNAME expoactive.com, A 72.3.133.240.
const CNAME_A_RESPONSE = `
  530e                                  // id
  8180                                  // QR=1, opcode 0, RD, RA, rcode 0
  0001 0002 0000 0000                   // 1 question, 2 answers
  03 777777 0a 6578706f616374697665 03 636f6d 00  // www.expoactive.com
  0001 0001                             // type A, class IN
  c00c                                  // name -> offset 12 (www.expoactive.com)
  0005 0001 0000012c 0002               // CNAME, IN, ttl 300, rdlength 2
  c010                                  //   -> offset 16 (expoactive.com)
  c010                                  // name -> expoactive.com
  0001 0001 0000012c 0004               // A, IN, ttl 300, rdlength 4
  480385f0                              //   72.3.133.240
`;

test('response with CNAME chain and compressed names (real capture)', () => {
  const m = value(fromHex(CNAME_A_RESPONSE));
  assert.equal(m.id, 0x530e);
  assert.equal(m.response, true);
  assert.equal(m.opcodeName, 'query');
  assert.equal(m.recursionDesired, true);
  assert.equal(m.recursionAvailable, true);
  assert.equal(m.rcodeName, 'noerror');
  assert.deepEqual(m.questions, [
    { name: 'www.expoactive.com', type: 1, typeName: 'A', class: 1, unicastResponse: false },
  ]);
  assert.equal(m.answers.length, 2);
  assert.deepEqual(m.answers[0], {
    name: 'www.expoactive.com',
    type: 5,
    typeName: 'CNAME',
    class: 1,
    cacheFlush: false,
    ttl: 300,
    rdlength: 2,
    data: { kind: 'name', name: 'expoactive.com' },
  });
  assert.equal(m.answers[1]!.name, 'expoactive.com');
  assert.deepEqual(m.answers[1]!.data, { kind: 'a', address: '72.3.133.240' });
});

// it/malcolm-dns.pcap frame 2996. tshark: ns2.weberdns.de AAAA 2001:470:1f0b:16b0::a26:53, plus OPT.
test('AAAA answer and an EDNS OPT pseudo-record kept raw (real capture)', () => {
  const m = value(
    fromHex(`
      3f7f 8180 0001 0001 0000 0001
      03 6e7332 08 7765626572646e73 02 6465 00 001c 0001   // ns2.weberdns.de AAAA IN
      c00c 001c 0001 00000e10 0010                          // AAAA, ttl 3600, 16 bytes
      200104701f0b16b0000000000a260053
      00 0029 05ac 00000000 0000                            // OPT: root, udp size 1452
    `),
  );
  assert.equal(m.questions[0]!.name, 'ns2.weberdns.de');
  assert.equal(m.questions[0]!.typeName, 'AAAA');
  assert.deepEqual(m.answers[0]!.data, { kind: 'aaaa', address: '2001:470:1f0b:16b0::a26:53' });
  assert.equal(m.answers[0]!.ttl, 3600);
  assert.equal(m.additional[0]!.name, '.');
  assert.equal(m.additional[0]!.typeName, 'OPT');
  assert.equal(m.additional[0]!.class, 1452);
  assert.deepEqual(m.additional[0]!.data, { kind: 'raw', length: 0 });
});

// it/malcolm-dns.pcap frame 141. tshark: 1.2.2.4.in-addr.arpa PTR a.resolvers.level3.net.
const PTR_RESPONSE = `
  4303 8180 0001 0001 0000 0000
  01 31 01 32 01 32 01 34 07 696e2d61646472 04 61727061 00  // 1.2.2.4.in-addr.arpa
  000c 0001                                                 // PTR IN
  c00c 000c 0001 00006f38 0018                              // PTR, ttl 28472, 24 bytes
  01 61 09 7265736f6c76657273 06 6c6576656c33 03 6e6574 00  // a.resolvers.level3.net
`;

test('PTR answer (real capture)', () => {
  const m = value(fromHex(PTR_RESPONSE));
  assert.equal(m.questions[0]!.name, '1.2.2.4.in-addr.arpa');
  assert.equal(m.answers[0]!.ttl, 28472);
  assert.deepEqual(m.answers[0]!.data, { kind: 'name', name: 'a.resolvers.level3.net' });
});

// Hand-built mDNS announcement (RFC 6762 §8.3): id 0, QR+AA, answers with the cache-flush bit.
const MDNS_ANNOUNCEMENT = `
  0000 8400 0000 0002 0000 0001
  04 706c6331 05 6c6f63616c 00             // plc1.local
  0001 8001 00000078 0004 c0a8000a         // A, cache-flush + IN, ttl 120, 192.168.0.10
  c00c 001c 8001 00000078 0010             // plc1.local AAAA, cache-flush + IN
  fe800000000000000000000000000001         //   fe80::1
  05 5f68747470 04 5f746370 c011           // _http._tcp.local (pointer to "local")
  000c 0001 00001194 0007                  // PTR IN, ttl 4500, 7 bytes
  04 706c6331 c042                         //   plc1 + pointer to offset 66 (_http._tcp.local)
`;

test('mDNS announcement: cache-flush bit, pointers into earlier names', () => {
  const m = value(fromHex(MDNS_ANNOUNCEMENT));
  assert.equal(m.authoritative, true);
  assert.equal(m.answers[0]!.cacheFlush, true);
  assert.equal(m.answers[0]!.class, 1);
  assert.deepEqual(m.answers[0]!.data, { kind: 'a', address: '192.168.0.10' });
  assert.equal(m.answers[1]!.name, 'plc1.local');
  assert.deepEqual(m.answers[1]!.data, { kind: 'aaaa', address: 'fe80::1' });
  assert.equal(m.additional[0]!.name, '_http._tcp.local');
  assert.deepEqual(m.additional[0]!.data, { kind: 'name', name: 'plc1._http._tcp.local' });
});

test('mDNS query with the unicast-response bit', () => {
  const m = value(fromHex('0000 0000 0001 0000 0000 0000  04 706c6331 05 6c6f63616c 00  0001 8001'));
  assert.equal(m.response, false);
  assert.deepEqual(m.questions[0], { name: 'plc1.local', type: 1, typeName: 'A', class: 1, unicastResponse: true });
});

test('bad names: pointer loop, reserved label type, name past the end', () => {
  // Question name is a pointer to itself.
  assert.deepEqual(decodeDns(fromHex('0001 0100 0001 0000 0000 0000 c00c 0001 0001')), {
    kind: 'malformed',
    code: 'dns.pointer_loop',
    offset: 12,
  });
  // Two pointers to each other.
  const pingPong = fromHex('0001 0100 0001 0000 0000 0000 c00e c00c 0001 0001');
  assert.equal(decodeDns(pingPong).kind, 'malformed');
  assert.deepEqual(decodeDns(fromHex('0001 0100 0001 0000 0000 0000 41 00 0001 0001')), {
    kind: 'malformed',
    code: 'dns.bad_label_type',
    offset: 12,
  });
  assert.deepEqual(decodeDns(fromHex('0001 0100 0001 0000 0000 0000 0a 6162 0001 0001')), {
    kind: 'malformed',
    code: 'dns.truncated',
    offset: 12,
  });
  // Pointer beyond the message.
  assert.equal(decodeDns(fromHex('0001 0100 0001 0000 0000 0000 c0ff 0001 0001')).kind, 'malformed');
});

test('names longer than 255 octets are malformed', () => {
  const labels = Array.from({ length: 5 }, () => '3f' + '61'.repeat(63)).join('');
  const d = decodeDns(fromHex(`0001 0100 0001 0000 0000 0000 ${labels} 00 0001 0001`));
  assert.equal(d.kind, 'malformed');
  if (d.kind === 'malformed') assert.equal(d.code, 'dns.name_too_long');
});

test('counts that cannot fit the bytes left are malformed before any loop', () => {
  assert.deepEqual(decodeDns(fromHex('0001 8180 ffff ffff ffff ffff')), {
    kind: 'malformed',
    code: 'dns.bad_count',
    offset: 4,
  });
  assert.deepEqual(decodeDns(fromHex('0001 81')), { kind: 'malformed', code: 'dns.truncated', offset: 2 });
});

test('at most 64 records per section are decoded', () => {
  const d = decodeDns(fromHex(`0001 0100 0041 0000 0000 0000 ${'00 0001 0001'.repeat(65)}`));
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.equal(d.value.questions.length, 64);
  assert.equal(d.value.counts.questions, 65);
  assert.deepEqual(d.anomalies, ['dns.too_many_records']);
  assert.equal(d.consumed, 12 + 64 * 5);
});

test('wrong A length and trailing bytes are anomalies on an ok message', () => {
  const d = decodeDns(fromHex('0001 8180 0000 0001 0000 0000  00 0001 0001 00000001 0003 010203  ff'));
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.deepEqual(d.value.answers[0]!.data, { kind: 'raw', length: 3 });
  assert.deepEqual(d.anomalies, ['dns.bad_rdata_length', 'dns.trailing_bytes']);
  assert.equal(d.consumed, 12 + 14);
});

test('label presentation: escapes, UTF-8 and binary', () => {
  assert.equal(labelText(Uint8Array.from([0x61, 0x2e, 0x62])), 'a\\.b');
  assert.equal(labelText(new TextEncoder().encode('Büro PC')), 'Büro PC');
  assert.equal(labelText(Uint8Array.from([0x61, 0x00, 0xff])), 'a\\000\\255');
  const res = readNameLabels(fromHex('01 61 c0 00'), 0);
  assert.equal(res.ok, false);
});

test('property: total and never over-consumes, on random bytes and on mutated real messages', () => {
  const seeds = [CNAME_A_RESPONSE, PTR_RESPONSE, MDNS_ANNOUNCEMENT].map(fromHex);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      const d = decodeDns(b);
      if (d.kind === 'ok') assert.ok(d.consumed <= b.length);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      (which, edits, cut) => {
        const b = seeds[which]!.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        const part = b.subarray(0, cut % (b.length + 1));
        const d = decodeDns(part);
        if (d.kind === 'ok') assert.ok(d.consumed <= part.length);
      },
    ),
    { numRuns: 3000 },
  );
});
