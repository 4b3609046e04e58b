import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '../core/limits.ts';
import { buildModel } from '../model/build.ts';
import { etherTypeName } from '../protocols/ethertypes.ts';
import { L2_PROTOCOLS, PROTOCOLS } from '../protocols/registry.ts';
import { arpReply, frame, type FrameSpec } from '../../test/helpers/packets.ts';
import { Engine } from './engine.ts';

const PLC_MAC = 0x0080f4000001;
const HMI_MAC = 0x001422000002;
const ROUTER_MAC = 0x008063000003;

function feed(e: Engine, frames: [Uint8Array, number][]): void {
  for (const [f, ts] of frames) e.packet(f, 0, f.length, f.length, ts, 1);
}

function tcp(spec: Partial<FrameSpec> & Pick<FrameSpec, 'src' | 'dst' | 'sport' | 'dport'>): Uint8Array {
  return frame({ srcMac: HMI_MAC, dstMac: PLC_MAC, proto: 'tcp', ...spec });
}

test('client and server come from the handshake, even against the port heuristic', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS });
  // 10.0.0.9 opens a connection from port 502 to port 40000: the SYN decides.
  feed(e, [
    [tcp({ src: '10.0.0.9', dst: '10.0.0.1', sport: 502, dport: 40000, flags: 0x02 }), 1],
    [
      tcp({
        src: '10.0.0.1',
        dst: '10.0.0.9',
        sport: 40000,
        dport: 502,
        flags: 0x12,
        srcMac: PLC_MAC,
        dstMac: HMI_MAC,
      }),
      2,
    ],
  ]);
  e.finish();
  const comms = [...e.collector.comms.values()];
  assert.equal(comms.length, 1);
  assert.equal(comms[0]!.client, 'ip:10.0.0.9');
  assert.equal(comms[0]!.server, 'ip:10.0.0.1');
  assert.equal(comms[0]!.port, 40000);
});

test('mid-stream flows: the well-known port is the server', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS });
  feed(e, [
    [
      tcp({
        src: '10.0.0.1',
        dst: '10.0.0.9',
        sport: 502,
        dport: 51000,
        flags: 0x10,
        srcMac: PLC_MAC,
        dstMac: HMI_MAC,
      }),
      1,
    ],
  ]);
  e.finish();
  const c = [...e.collector.comms.values()][0]!;
  assert.equal(c.client, 'ip:10.0.0.9');
  assert.equal(c.server, 'ip:10.0.0.1');
  assert.equal(c.pkts1, 1);
  assert.equal(c.protocol, 'modbus');
  assert.equal(c.confirmed, false);
});

test('the flow table is bounded: the least recently seen flows are evicted and counted', () => {
  const e = new Engine({ limits: { ...LIMITS, maxFlows: 100 }, protocols: PROTOCOLS });
  for (let i = 0; i < 1000; i++)
    feed(e, [[tcp({ src: '10.0.0.9', dst: '10.0.0.1', sport: 10000 + i, dport: 502, flags: 0x02 }), i]]);
  assert.ok(e.flows.size <= 100, `flows in table: ${e.flows.size}`);
  assert.ok(e.flows.evicted >= 900);
  e.finish();
  assert.equal(e.flows.created, 1000);
  // Nothing is lost: every packet is still in the one communication.
  const c = [...e.collector.comms.values()][0]!;
  assert.equal(c.flows, 1000);
  assert.equal(c.pkts0, 1000);
  assert.equal(e.collector.anomalies.get('flow.evicted'), e.flows.evicted);
});

test('idle flows time out and a new SYN on the same 4-tuple starts a new flow', () => {
  const e = new Engine({ limits: { ...LIMITS, flowIdleMicros: 60_000_000 }, protocols: PROTOCOLS });
  const a = (ts: number, flags: number): [Uint8Array, number] => [
    tcp({ src: '10.0.0.9', dst: '10.0.0.1', sport: 40000, dport: 502, flags }),
    ts,
  ];
  feed(e, [a(0, 0x02), a(1, 0x10)]);
  // 20 000 unrelated packets two hours later trigger a sweep.
  for (let i = 0; i < 20_000; i++)
    feed(e, [[tcp({ src: '10.0.0.8', dst: '10.0.0.2', sport: 40001, dport: 502, flags: 0x10 }), 7_200_000_000 + i]]);
  assert.equal(e.flows.timedOut, 1);
  feed(e, [a(7_300_000_000, 0x02), a(7_300_000_001, 0x10), a(7_300_000_002, 0x11), a(7_300_000_003, 0x02)]);
  e.finish();
  assert.equal(e.flows.created, 4);
  const c = e.collector.comms.get('ip:10.0.0.9|ip:10.0.0.1|tcp|502|modbus')!;
  assert.equal(c.flows, 3);
});

test('VLAN ids are kept on flows and assets', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS });
  feed(e, [[tcp({ src: '10.0.0.9', dst: '10.0.0.1', sport: 40000, dport: 502, flags: 0x02, vlans: [100, 7] }), 1]]);
  e.finish();
  const m = buildModel(e.collector, { ...LIMITS });
  assert.deepEqual(m.communications[0]!.vlans, [100]);
  assert.deepEqual(m.assets.find((a) => a.ips.includes('10.0.0.9'))!.vlans, [100]);
});

test('a MAC carrying many IPs is a router; the IPs behind it are devices of their own', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS });
  const frames: [Uint8Array, number][] = [[arpReply(ROUTER_MAC, '10.0.0.254', PLC_MAC, '10.0.0.1'), 0]];
  // Four remote hosts reach the PLC through the router; the PLC answers to the router's MAC.
  for (let i = 1; i <= 4; i++) {
    frames.push([
      frame({
        srcMac: ROUTER_MAC,
        dstMac: PLC_MAC,
        src: `10.9.0.${i}`,
        dst: '10.0.0.1',
        proto: 'tcp',
        sport: 40000 + i,
        dport: 502,
        flags: 0x02,
      }),
      i,
    ]);
    frames.push([
      frame({
        srcMac: PLC_MAC,
        dstMac: ROUTER_MAC,
        src: '10.0.0.1',
        dst: `10.9.0.${i}`,
        proto: 'tcp',
        sport: 502,
        dport: 40000 + i,
        flags: 0x12,
      }),
      i + 0.5,
    ]);
  }
  feed(e, frames);
  e.finish();
  const m = buildModel(e.collector, { ...LIMITS });
  const router = m.assets.find((a) => a.kind === 'router')!;
  assert.deepEqual(router.macs, ['00:80:63:00:00:03']);
  assert.deepEqual(router.ips, ['10.0.0.254']);
  assert.equal(router.role, 'network_device');
  assert.match(router.roleEvidence[0]!, /source of 4 IP addresses/);
  const plc = m.assets.find((a) => a.ips.includes('10.0.0.1'))!;
  assert.deepEqual(plc.macs, ['00:80:f4:00:00:01']);
  for (let i = 1; i <= 4; i++) {
    const remote = m.assets.find((a) => a.ips.includes(`10.9.0.${i}`))!;
    assert.equal(remote.id, `ip:10.9.0.${i}`);
    assert.deepEqual(remote.macs, []);
  }
  assert.equal(m.assets.length, 6);
  assert.equal(m.communications.filter((c) => c.server === plc.id).length, 4);
});

test('a UDP broadcast goes to a group, not to an asset', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS });
  feed(e, [
    [
      frame({
        srcMac: HMI_MAC,
        dstMac: 0xffffffffffff,
        src: '10.0.0.9',
        dst: '255.255.255.255',
        proto: 'udp',
        sport: 50000,
        dport: 44818,
      }),
      1,
    ],
  ]);
  e.finish();
  const m = buildModel(e.collector, { ...LIMITS });
  assert.equal(m.assets.length, 1);
  assert.deepEqual(m.groups, [{ id: 'group:255.255.255.255', address: '255.255.255.255', kind: 'broadcast' }]);
  assert.equal(m.communications[0]!.server, 'group:255.255.255.255');
});

test('a host talking to itself counts each packet once', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS });
  feed(e, [
    [tcp({ src: '127.0.0.1', dst: '127.0.0.1', sport: 40000, dport: 4840, flags: 0x02, srcMac: 0, dstMac: 0 }), 1],
    [tcp({ src: '127.0.0.1', dst: '127.0.0.1', sport: 4840, dport: 40000, flags: 0x12, srcMac: 0, dstMac: 0 }), 2],
  ]);
  e.finish();
  const m = buildModel(e.collector, { ...LIMITS });
  assert.equal(m.assets.length, 1);
  assert.equal(m.assets[0]!.packets, 2);
});

test('property: the whole packet path never throws on hostile frames', async () => {
  const { default: fc } = await import('fast-check');
  // Real-looking headers with random tails reach deeper than uniformly random bytes.
  const tcpTo = (port: number) =>
    fc
      .uint8Array({ maxLength: 300 })
      .map((payload) => tcp({ src: '10.0.0.9', dst: '10.0.0.1', sport: 40000, dport: port, payload, flags: 0x18 }));
  const udpTo = (port: number) =>
    fc.uint8Array({ maxLength: 300 }).map((payload) =>
      frame({
        srcMac: HMI_MAC,
        dstMac: PLC_MAC,
        src: '10.0.0.9',
        dst: '10.0.0.1',
        proto: 'udp',
        sport: 40000,
        dport: port,
        payload,
      }),
    );
  const anyFrame = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    // Every registered dissector's port gets hostile payloads.
    ...[502, 20000, 2404, 102, 44818, 4840, 1883].map(tcpTo),
    ...[53, 67, 137, 47808, 44818, 2222, 20000].map(udpTo),
    fc.uint8Array({ minLength: 14, maxLength: 200 }).map((b) => {
      // Ethernet with a chosen ethertype: ARP, LLDP, VLAN, IPv4, IPv6, Profinet, GOOSE, GSE, 802.3+LLC.
      const types = [0x0806, 0x88cc, 0x8100, 0x0800, 0x86dd, 0x8892, 0x88b8, 0x88b9, 0x0040];
      const t = types[b[0]! % types.length]!;
      b[12] = t >> 8;
      b[13] = t & 255;
      return b;
    }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(anyFrame, fc.constantFrom(1, 0, 101, 113, 276)), { maxLength: 40 }), (frames) => {
      const e = new Engine({ limits: { ...LIMITS, maxFlows: 8 }, protocols: PROTOCOLS, l2Protocols: L2_PROTOCOLS });
      frames.forEach(([f, lt], i) => e.packet(f, 0, f.length, f.length, i * 1000, lt));
      e.finish();
      buildModel(e.collector, { ...LIMITS });
    }),
    { numRuns: 1500 },
  );
});

/** A raw Ethernet frame of `etherType` (an optional 802.1Q tag) with 46 bytes of payload. */
function l2(src: number, dst: number, etherType: number, vlan?: number): Uint8Array {
  const mac = (m: number): number[] => [5, 4, 3, 2, 1, 0].map((i) => Math.floor(m / 2 ** (8 * i)) % 256);
  const tag = vlan === undefined ? [] : [0x81, 0x00, vlan >> 8, vlan & 255];
  return Uint8Array.from([
    ...mac(dst),
    ...mac(src),
    ...tag,
    etherType >> 8,
    etherType & 255,
    ...new Array<number>(46).fill(0),
  ]);
}

test('cyclic layer-2 traffic: every frame counted once, across VLANs and many interleaved senders', () => {
  const e = new Engine({ limits: { ...LIMITS }, protocols: PROTOCOLS, l2Protocols: L2_PROTOCOLS });
  const frames: [Uint8Array, number][] = [];
  // 300 senders (more than the frame cache has slots), round robin, to one unicast receiver.
  for (let round = 0; round < 4; round++)
    for (let s = 0; s < 300; s++) frames.push([l2(0x00a0000000 + s, PLC_MAC, 0x88f7, round < 2 ? 5 : 6), round]);
  feed(e, frames);
  e.finish();
  const c = e.collector;
  const ptp = c.protocolPackets.get(etherTypeName(0x88f7));
  assert.equal(ptp?.packets, 1200);
  assert.equal(c.comms.size, 300);
  for (const comm of c.comms.values()) {
    assert.equal(comm.pkts0, 4);
    assert.deepEqual([...comm.vlans].sort(), [5, 6]);
  }
  const sender = c.macs.get(0x00a0000007)!;
  assert.deepEqual([sender.l2Packets, sender.firstTs, sender.lastTs, [...sender.vlans].sort()], [4, 0, 3, [5, 6]]);
  const receiver = c.macs.get(PLC_MAC)!;
  assert.deepEqual(
    [receiver.l2Packets, receiver.firstTs, receiver.lastTs, [...receiver.vlans].sort()],
    [0, 0, 3, [5, 6]],
  );
});

test('layer-2 frames to a receiver the full address table has no room for: each one counted as dropped', () => {
  const e = new Engine({ limits: { ...LIMITS, maxAssets: 1 }, protocols: PROTOCOLS, l2Protocols: L2_PROTOCOLS });
  feed(
    e,
    Array.from({ length: 30 }, (_, i): [Uint8Array, number] => [l2(HMI_MAC, PLC_MAC, 0x88f7), i]),
  );
  e.finish();
  assert.equal(e.collector.macs.size, 1);
  assert.equal(e.collector.addressesDropped, 30);
  assert.equal([...e.collector.comms.values()][0]?.pkts0, 30);
});
