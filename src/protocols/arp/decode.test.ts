import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeArp, type ArpPacket } from './decode.ts';
import { formatMac } from '../../core/text.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function value(bytes: Uint8Array): ArpPacket {
  const d = decodeArp(bytes);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return d.value;
}

// it/arp.pcap frame 1, after the two 802.1Q tags; tshark: opcode 1, ca:03:0d:b4:00:1c 192.168.2.200
// asks for 192.168.2.254, target MAC 00:00:00:00:00:00. The Ethernet padding follows.
const REQUEST = `
  0001              // hardware type: Ethernet
  0800              // protocol type: IPv4
  06 04             // hlen 6, plen 4
  0001              // opcode: request
  ca030db4001c      // sender MAC
  c0a802c8          // sender IP 192.168.2.200
  000000000000      // target MAC (unknown)
  c0a802fe          // target IP 192.168.2.254
  0000000000000000000000000000 // padding to the Ethernet minimum
`;

test('request from a real capture, padding not consumed', () => {
  const d = decodeArp(fromHex(REQUEST));
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.equal(d.consumed, 28);
  assert.deepEqual(d.anomalies, []);
  const v = d.value;
  assert.equal(v.operation, 'request');
  assert.equal(v.opcode, 1);
  assert.equal(formatMac(v.senderMac), 'ca:03:0d:b4:00:1c');
  assert.equal(v.senderIp, '192.168.2.200');
  assert.equal(v.targetMac, 0);
  assert.equal(v.targetIp, '192.168.2.254');
  assert.equal(v.gratuitous, false);
  assert.equal(v.probe, false);
});

test('reply (it/lldp-siemens.pcapng frame 39: 50:7b:9d:76:77:d5 is-at for 192.168.0.5)', () => {
  const v = value(
    fromHex(`
      0001 0800 06 04
      0002              // opcode: reply
      507b9d7677d5      // sender MAC
      c0a80005          // sender IP 192.168.0.5
      e0dca03421d4      // target MAC
      c0a80001          // target IP 192.168.0.1
    `),
  );
  assert.equal(v.operation, 'reply');
  assert.equal(formatMac(v.senderMac), '50:7b:9d:76:77:d5');
  assert.equal(v.senderIp, '192.168.0.5');
  assert.equal(formatMac(v.targetMac), 'e0:dc:a0:34:21:d4');
  assert.equal(v.targetIp, '192.168.0.1');
  assert.equal(v.gratuitous, false);
});

test('gratuitous request and reply (sender IP = target IP)', () => {
  const req = value(fromHex('0001 0800 0604 0001 001b1b010203 0a000005 000000000000 0a000005'));
  assert.equal(req.gratuitous, true);
  assert.equal(req.probe, false);
  const rep = value(fromHex('0001 0800 0604 0002 001b1b010203 0a000005 ffffffffffff 0a000005'));
  assert.equal(rep.gratuitous, true);
});

test('probe: request with sender IP 0.0.0.0 (RFC 5227)', () => {
  const v = value(fromHex('0001 0800 0604 0001 001b1b010203 00000000 000000000000 0a000005'));
  assert.equal(v.probe, true);
  assert.equal(v.gratuitous, false);
  assert.equal(v.senderIp, '0.0.0.0');
});

test('odd opcodes and group sender MACs are anomalies on an ok record', () => {
  const d = decodeArp(fromHex('0001 0800 0604 0007 011b1b010203 0a000001 000000000000 0a000002'));
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.equal(d.value.operation, 'unknown');
  assert.deepEqual(d.anomalies, ['arp.unknown_opcode', 'arp.multicast_sender_mac']);
});

test('other hardware/protocol types, bad lengths and short packets', () => {
  assert.deepEqual(decodeArp(fromHex('0006 0800 0604 0001')), {
    kind: 'malformed',
    code: 'arp.unsupported',
    offset: 0,
  });
  assert.deepEqual(decodeArp(fromHex('0001 86dd 0610 0001')), {
    kind: 'malformed',
    code: 'arp.unsupported',
    offset: 0,
  });
  assert.deepEqual(decodeArp(fromHex('0001 0800 0804 0001')), {
    kind: 'malformed',
    code: 'arp.bad_address_length',
    offset: 4,
  });
  const short = decodeArp(fromHex(REQUEST).subarray(0, 27));
  assert.deepEqual(short, { kind: 'malformed', code: 'arp.truncated', offset: 8 });
  assert.equal(decodeArp(new Uint8Array(0)).kind, 'malformed');
});

test('property: total and never over-consumes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, valid) => {
      if (valid && b.length >= 6) b.set([0, 1, 8, 0, 6, 4]);
      const d = decodeArp(b);
      if (d.kind === 'ok') assert.ok(d.consumed <= b.length);
    }),
    { numRuns: 2000 },
  );
});
