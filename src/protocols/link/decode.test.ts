import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame } from './decode.ts';
import { FRAME, LINKTYPE, macAt, PacketView } from './packet.ts';
import { IpReassembler } from './ip-reassembly.ts';

const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex'));

// Ethernet II + 802.1Q (VLAN 10) + 802.1Q (VLAN 20) + IPv4 + TCP SYN to 502.
const QINQ_TCP = h(`
  00 1b 1b 00 00 01        # dst MAC (Siemens OUI)
  00 80 f4 00 00 02        # src MAC (Telemecanique OUI)
  88 a8 00 0a              # S-tag, VLAN 10
  81 00 00 14              # C-tag, VLAN 20
  08 00                    # IPv4
  45 00 00 28 12 34 40 00 40 06 00 00   # v4, ihl 5, total 40, id 0x1234, DF, ttl 64, TCP
  0a 0a 0a 01              # src 10.10.10.1
  0a 0a 0a 02              # dst 10.10.10.2
  c3 50 01 f6              # sport 50000, dport 502
  00 00 00 64 00 00 00 00  # seq 100, ack 0
  50 02 ff ff 00 00 00 00  # data offset 5, SYN
`);

test('Ethernet + QinQ + IPv4 + TCP: every field', () => {
  const p = new PacketView();
  decodeFrame(QINQ_TCP, 0, QINQ_TCP.length, LINKTYPE.ethernet, p);
  assert.equal(p.status, FRAME.ok);
  assert.equal(macAt(QINQ_TCP, p.dstMacOffset), 0x001b1b000001);
  assert.equal(macAt(QINQ_TCP, p.srcMacOffset), 0x0080f4000002);
  assert.equal(p.vlan, 10);
  assert.equal(p.innerVlan, 20);
  assert.equal(p.etherType, 0x0800);
  assert.equal(p.ipVersion, 4);
  assert.equal(p.srcIp, 0x0a0a0a01);
  assert.equal(p.dstIp, 0x0a0a0a02);
  assert.equal(p.ttl, 64);
  assert.equal(p.ipProto, 6);
  assert.equal(p.srcPort, 50000);
  assert.equal(p.dstPort, 502);
  assert.equal(p.tcpSeq, 100);
  assert.equal(p.tcpFlags, 0x02);
  assert.equal(p.payloadLength, 0);
});

test('a frame cut inside the TCP header is malformed with a code, never a throw', () => {
  const p = new PacketView();
  decodeFrame(QINQ_TCP, 0, QINQ_TCP.length - 5, LINKTYPE.ethernet, p);
  assert.equal(p.status, FRAME.malformed);
  assert.equal(p.anomaly, 'tcp.truncated_header');
  assert.equal(macAt(QINQ_TCP, p.srcMacOffset), 0x0080f4000002);
});

test('Linux cooked v1 and v2 carry the source MAC and protocol', () => {
  const ip = QINQ_TCP.subarray(22);
  const sll = new Uint8Array(16 + ip.length);
  sll.set(h('0000 0001 0006 0080f4000002 0000 0800'), 0); // outgoing, ARPHRD_ETHER, addr len 6
  sll.set(ip, 16);
  const p = new PacketView();
  decodeFrame(sll, 0, sll.length, LINKTYPE.linuxSll, p);
  assert.equal(p.status, FRAME.ok);
  assert.equal(macAt(sll, p.srcMacOffset), 0x0080f4000002);
  assert.equal(p.dstPort, 502);
  const sll2 = new Uint8Array(20 + ip.length);
  sll2.set(h('0800 0000 00000002 0001 04 06 0080f4000002 0000'), 0); // proto, reserved, ifindex, hatype, pkttype, addrlen, addr
  sll2.set(ip, 20);
  decodeFrame(sll2, 0, sll2.length, LINKTYPE.linuxSll2, p);
  assert.equal(p.status, FRAME.ok);
  assert.equal(macAt(sll2, p.srcMacOffset), 0x0080f4000002);
  assert.equal(p.srcPort, 50000);
});

test('raw IP and BSD null/loopback (both byte orders)', () => {
  const ip = QINQ_TCP.subarray(22);
  const p = new PacketView();
  decodeFrame(ip, 0, ip.length, LINKTYPE.raw, p);
  assert.equal(p.status, FRAME.ok);
  assert.equal(macAt(ip, p.srcMacOffset), -1);
  assert.equal(p.dstPort, 502);
  for (const fam of ['02000000', '00000002']) {
    const nul = new Uint8Array(4 + ip.length);
    nul.set(h(fam), 0);
    nul.set(ip, 4);
    decodeFrame(nul, 0, nul.length, LINKTYPE.null, p);
    assert.equal(p.status, FRAME.ok, fam);
    assert.equal(p.dstIp, 0x0a0a0a02);
  }
});

test('unsupported link types are reported as such', () => {
  const p = new PacketView();
  decodeFrame(QINQ_TCP, 0, QINQ_TCP.length, 105, p);
  assert.equal(p.status, FRAME.unsupportedLink);
});

test('IPv6 with hop-by-hop and destination options reaches UDP', () => {
  const f = h(`
    333300000001 0080f4000002 86dd
    60000000 0020 00 40                  # payload 32, next header hop-by-hop, hop limit 64
    fe800000000000000000000000000001     # src fe80::1
    ff020000000000000000000000000001     # dst ff02::1
    3c 00 0000 00000000                  # hop-by-hop: next = dest options (60), len 0 (8 bytes)
    11 00 0000 00000000                  # dest options: next = UDP, len 0
    0222 0223 0010 0000 01020304 05060708 # UDP 546 -> 547, length 16, 8 payload bytes
  `);
  const p = new PacketView();
  decodeFrame(f, 0, f.length, LINKTYPE.ethernet, p);
  assert.equal(p.status, FRAME.ok);
  assert.equal(p.ipVersion, 6);
  assert.equal(p.ipProto, 17);
  assert.equal(p.srcPort, 546);
  assert.equal(p.dstPort, 547);
  assert.equal(p.payloadLength, 8);
});

test('IPv4 fragments are flagged and reassembled, first-arrived data winning', () => {
  const r = new IpReassembler({ maxDatagrams: 4, maxBytes: 65535, timeoutMicros: 1e6 });
  assert.equal(r.add('k', 8, false, Uint8Array.from([9, 10, 11, 12]), 0), null);
  const whole = r.add('k', 0, true, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 1);
  assert.deepEqual(whole, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  // bounded: the oldest incomplete datagram is evicted
  for (let i = 0; i < 6; i++) r.add(`x${i}`, 0, true, Uint8Array.of(1), 2);
  assert.equal(r.size, 4);
  assert.equal(r.counters.evicted, 2);
  // timeout
  r.add('late', 0, true, Uint8Array.of(1), 5_000_000);
  assert.equal(r.counters.timedOut, 4);
  // overlap counted
  r.add('o', 0, true, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 5_000_000);
  const o = r.add('o', 4, false, Uint8Array.of(0, 0, 0, 0, 9), 5_000_000);
  assert.deepEqual(o, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
  assert.equal(r.counters.overlaps, 1);
});

test('decodeFrame is total on random bytes and every link type', () => {
  const p = new PacketView();
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(0, 1, 12, 101, 108, 113, 228, 229, 276, 105),
      (bytes, lt) => {
        decodeFrame(bytes, 0, bytes.length, lt, p);
        if (p.status === FRAME.ok && p.payloadLength > 0) {
          assert.ok(p.payloadOffset + p.payloadLength <= bytes.length);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('IPv4 inside IPv6 (IP-in-IP) is decapsulated: the inner addresses and ports are the conversation', () => {
  const inner = QINQ_TCP.subarray(22); // IPv4 + TCP 10.10.10.1:50000 -> 10.10.10.2:502
  const outer = h(`
    001b1b000001 0080f4000002 86dd
    60000000 0028 04 40                 # payload 40 bytes, next header 4 (IPv4), hop limit 64
    20010db8000000000000000000000001    # 2001:db8::1
    20010db8000000000000000000000002    # 2001:db8::2
  `);
  const f = new Uint8Array(outer.length + inner.length);
  f.set(outer, 0);
  f.set(inner, outer.length);
  const p = new PacketView();
  decodeFrame(f, 0, f.length, LINKTYPE.ethernet, p);
  assert.equal(p.status, FRAME.ok);
  assert.equal(p.tunnelDepth, 1);
  assert.equal(p.ipVersion, 4);
  assert.equal(p.srcIp, 0x0a0a0a01);
  assert.equal(p.dstPort, 502);
  assert.equal(p.srcIp6Offset, -1);
});
