import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalyzerContext, AssetFact } from '../_core/types.ts';
import { nbnsProtocol } from './index.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

function encoded(name: string, suffix: number): string {
  const raw = Buffer.concat([Buffer.from(name.padEnd(15, ' '), 'latin1'), Buffer.from([suffix])]);
  let s = '';
  for (const c of raw) s += String.fromCharCode(0x41 + (c >> 4), 0x41 + (c & 15));
  return `20 ${ascii(s)} 00`;
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

/** Request or response with one question/answer-free name and one NB record in `section`. */
function message(
  flags: string,
  section: 'answer' | 'additional',
  name: string,
  suffix: number,
  rdata: string,
): Uint8Array {
  const counts = section === 'answer' ? '0000 0001 0000 0000' : '0001 0000 0000 0001';
  const question = section === 'answer' ? '' : `${encoded(name, suffix)} 0020 0001`;
  const owner = section === 'answer' ? encoded(name, suffix) : 'c00c';
  const len = (rdata.replace(/\s+/g, '').length / 2).toString(16).padStart(4, '0');
  return fromHex(`abcd ${flags} ${counts} ${question} ${owner} 0020 0001 000493e0 ${len} ${rdata}`);
}

test('nbnsProtocol registration', () => {
  assert.equal(nbnsProtocol.name, 'nbns');
  assert.equal(nbnsProtocol.transport, 'udp');
  assert.deepEqual(nbnsProtocol.ports, [137]);
});

test('registrations name the address in their additional record; group names are skipped', () => {
  const { ctx, facts, calls } = recorder();
  const a = nbnsProtocol.createAnalyzer(ctx);
  // profinet/profinet-mixed-dcp-rt-lldp.pcap frames 120 (KW-VLIPC<00>) and 122 (WORKGROUP<00>, group).
  a.data(
    0,
    fromHex(
      '92f92910000100000000000120454c4648434e4647454d454a4641454443414341434143414341434143414141' +
        '0000200001c00c00200001000493e000066000c0a80101',
    ),
    0,
  );
  a.data(
    0,
    fromHex(
      '92fa2910000100000000000120464845504643454c454846434550464646414341434143414341434143414141' +
        '0000200001c00c00200001000493e00006e000c0a80101',
    ),
    0,
  );
  // Refresh (opcode 8) of the server name <20>: the same fact again (deduplication is the model's).
  a.data(0, message('4010', 'additional', 'KW-VLIPC', 0x20, '6000 c0a80102'), 0);
  assert.deepEqual(calls, ['confirm']);
  assert.deepEqual(facts, [
    { kind: 'name', name: 'KW-VLIPC', ip: '192.168.1.1', source: 'nbns' },
    { kind: 'name', name: 'KW-VLIPC', ip: '192.168.1.2', source: 'nbns' },
  ]);
});

test('positive responses name their addresses; other suffixes, negatives and queries do not', () => {
  const { ctx, facts } = recorder();
  const a = nbnsProtocol.createAnalyzer(ctx);
  a.data(1, message('8500', 'answer', 'PLC-ENG1', 0x20, '2000 0a000001 2000 0a000002'), 0);
  a.data(1, message('8500', 'answer', 'CORP', 0x1c, '2000 0a000009'), 0); // <1c>: domain controllers
  a.data(1, message('8503', 'answer', 'GONE', 0x00, ''), 0); // rcode 3: name error
  a.data(0, fromHex(`abce 0110 0001 0000 0000 0000 ${encoded('WPAD', 0)} 0020 0001`), 0);
  assert.deepEqual(facts, [
    { kind: 'name', name: 'PLC-ENG1', ip: '10.0.0.1', source: 'nbns' },
    { kind: 'name', name: 'PLC-ENG1', ip: '10.0.0.2', source: 'nbns' },
  ]);
});

test('node status responses name the unit id MAC', () => {
  const { ctx, facts } = recorder();
  nbnsProtocol.createAnalyzer(ctx).data(
    1,
    fromHex(`
      0001 8400 0000 0001 0000 0000
      20 434b${'4141'.repeat(15)} 00 0021 0001 00000000 002b
      02
      ${ascii('HMI01'.padEnd(15, ' '))} 20 0400
      ${ascii('WORKGROUP'.padEnd(15, ' '))} 00 8400
      001b1b010203
    `),
    0,
  );
  assert.deepEqual(facts, [{ kind: 'name', name: 'HMI01', mac: 0x001b1b010203, source: 'nbns' }]);
});

test('garbage first violates; garbage later is an anomaly', () => {
  const first = recorder();
  nbnsProtocol.createAnalyzer(first.ctx).data(0, fromHex('ffff'), 0);
  assert.deepEqual(first.calls, ['violate nbns.truncated']);

  const later = recorder();
  const a = nbnsProtocol.createAnalyzer(later.ctx);
  a.data(0, fromHex(`abce 0110 0001 0000 0000 0000 ${encoded('WPAD', 0)} 0020 0001`), 0);
  a.data(0, fromHex(`abce 0110 0001 0000 0000 0000 04 ${ascii('wpad')} 00 0020 0001 ${'00'.repeat(30)}`), 0);
  a.gap(0, 1);
  a.end();
  assert.deepEqual(later.calls, ['confirm', 'anomaly nbns.bad_name']);
});
