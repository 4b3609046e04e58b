import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeNbns, decodeNetbiosLabel, type NbnsMessage } from './decode.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** First-level encoding of a 15-character name padded with spaces, plus the suffix byte. */
function encoded(name: string, suffix: number): string {
  const raw = Buffer.concat([Buffer.from(name.padEnd(15, ' '), 'latin1'), Buffer.from([suffix])]);
  let s = '';
  for (const c of raw) s += String.fromCharCode(0x41 + (c >> 4), 0x41 + (c & 15));
  return `20 ${ascii(s)}`;
}

function value(bytes: Uint8Array): NbnsMessage {
  const d = decodeNbns(bytes);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  assert.equal(d.consumed, bytes.length);
  assert.deepEqual(d.anomalies, []);
  return d.value;
}

// profinet/profinet-mixed-dcp-rt-lldp.pcap frame 120. tshark: Registration NB KW-VLIPC<00>
// (Workstation/Redirector), broadcast, additional record TTL 3 days 11:20, flags 0x6000 (unique,
// ONT 3), address 192.168.1.1.
const REGISTRATION = `
  92f9                  // transaction id
  2910                  // request, opcode 5 (registration), RD, B
  0001 0000 0000 0001   // 1 question, 1 additional
  20 454c4648434e4647454d454a4641454443414341434143414341434143414141 00  // KW-VLIPC<00>
  0020 0001             // NB, IN
  c00c                  // -> the question name
  0020 0001 000493e0    // NB, IN, ttl 300000
  0006 6000 c0a80101    // rdlength 6: NB_FLAGS unique H-node, 192.168.1.1
`;

// The same capture, frame 122: WORKGROUP<00> registered as a group name (NB_FLAGS 0xe000).
const GROUP_REGISTRATION = `
  92fa 2910 0001 0000 0000 0001
  20 464845504643454c454846434550464646414341434143414341434143414141 00  // WORKGROUP<00>
  0020 0001 c00c 0020 0001 000493e0 0006 e000 c0a80101
`;

test('name registration (real capture)', () => {
  const m = value(fromHex(REGISTRATION));
  assert.equal(m.id, 0x92f9);
  assert.equal(m.response, false);
  assert.equal(m.opcodeName, 'registration');
  assert.equal(m.broadcast, true);
  assert.equal(m.recursionDesired, true);
  assert.deepEqual(m.questions, [
    { name: { name: 'KW-VLIPC', suffix: 0, scope: '' }, type: 32, typeName: 'NB', class: 1 },
  ]);
  assert.deepEqual(m.additional, [
    {
      name: { name: 'KW-VLIPC', suffix: 0, scope: '' },
      type: 32,
      typeName: 'NB',
      class: 1,
      ttl: 300000,
      rdlength: 6,
      data: { kind: 'nb', addresses: [{ ip: '192.168.1.1', group: false, nodeType: 'h' }] },
    },
  ]);
});

test('group name registration (real capture)', () => {
  const m = value(fromHex(GROUP_REGISTRATION));
  assert.equal(m.questions[0]!.name.name, 'WORKGROUP');
  assert.deepEqual(m.additional[0]!.data, {
    kind: 'nb',
    addresses: [{ ip: '192.168.1.1', group: true, nodeType: 'h' }],
  });
});

test('positive query response with two addresses and a scope', () => {
  const m = value(
    fromHex(`
      1234 8500 0000 0001 0000 0000            // response, opcode 0, AA, RD
      ${encoded('PLC-ENG1', 0x20)} 04 ${ascii('corp')} 00  // PLC-ENG1<20>.corp
      0020 0001 00000e10 000c                   // NB IN ttl 3600, 12 bytes
      2000 0a000001                             // unique, P-node, 10.0.0.1
      4000 0a000002                             // unique, M-node, 10.0.0.2
    `),
  );
  assert.equal(m.response, true);
  assert.equal(m.authoritative, true);
  assert.deepEqual(m.answers[0]!.name, { name: 'PLC-ENG1', suffix: 0x20, scope: 'corp' });
  assert.deepEqual(m.answers[0]!.data, {
    kind: 'nb',
    addresses: [
      { ip: '10.0.0.1', group: false, nodeType: 'p' },
      { ip: '10.0.0.2', group: false, nodeType: 'm' },
    ],
  });
});

test('node status response: name table and unit id', () => {
  const m = value(
    fromHex(`
      0001 8400 0000 0001 0000 0000
      20 434b${'4141'.repeat(15)} 00            // "*" and 15 NULs: the wildcard name
      0021 0001 00000000 0035                   // NBSTAT IN, 53 bytes
      02                                        // two names
      ${ascii('HMI01'.padEnd(15, ' '))} 00 0400 // HMI01<00> unique, active
      ${ascii('WORKGROUP'.padEnd(15, ' '))} 00 8400 // WORKGROUP<00> group
      001b1b010203                              // unit id
      ${'00'.repeat(10)}                        // (statistics, cut short)
    `),
  );
  assert.equal(m.answers[0]!.name.name, '*');
  assert.deepEqual(m.answers[0]!.data, {
    kind: 'nbstat',
    names: [
      { name: 'HMI01', suffix: 0, group: false, flags: 0x0400 },
      { name: 'WORKGROUP', suffix: 0, group: true, flags: 0x8400 },
    ],
    unitId: 0x001b1b010203,
  });
});

test('first-level encoding', () => {
  const label = fromHex(ascii('ELFHCNFGEMEJFAEDCACACACACACACAAA'));
  assert.deepEqual(Array.from(decodeNetbiosLabel(label)!), [...Buffer.from('KW-VLIPC       '), 0]);
  assert.equal(decodeNetbiosLabel(label.subarray(1)), undefined);
  assert.equal(decodeNetbiosLabel(fromHex(ascii('Z'.repeat(32)))), undefined);
});

test('malformed: bad names, counts, truncation', () => {
  // A DNS-style name where the encoded one belongs.
  assert.deepEqual(
    decodeNbns(fromHex(`0001 0100 0001 0000 0000 0000 04 ${ascii('wpad')} 00 0020 0001 ${'00'.repeat(30)}`)),
    {
      kind: 'malformed',
      code: 'nbns.bad_name',
      offset: 12,
    },
  );
  assert.deepEqual(decodeNbns(fromHex('0001 0100 0100 0000 0000 0000')), {
    kind: 'malformed',
    code: 'nbns.bad_count',
    offset: 4,
  });
  assert.deepEqual(decodeNbns(fromHex(REGISTRATION).subarray(0, 64)), {
    kind: 'malformed',
    code: 'nbns.truncated',
    offset: 62,
  });
  assert.deepEqual(decodeNbns(fromHex('00')), { kind: 'malformed', code: 'nbns.truncated', offset: 0 });
});

test('anomalies: reserved flags, odd NB length, trailing bytes, unknown opcode', () => {
  const d = decodeNbns(
    fromHex(`
      0001 a060 0000 0001 0000 0000            // response, opcode 4 (unknown), reserved bits
      ${encoded('X', 0)} 00 0020 0001 00000000 0007 6000 0a000001 ff
      ee                                        // trailing
    `),
  );
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.deepEqual(d.anomalies, [
    'nbns.unknown_opcode',
    'nbns.reserved_flags',
    'nbns.bad_rdata_length',
    'nbns.trailing_bytes',
  ]);
});

test('property: total and never over-consumes, on random bytes and on mutated real messages', () => {
  const seeds = [REGISTRATION, GROUP_REGISTRATION].map(fromHex);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const d = decodeNbns(b);
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
        const d = decodeNbns(part);
        if (d.kind === 'ok') assert.ok(d.consumed <= part.length);
      },
    ),
    { numRuns: 3000 },
  );
});
