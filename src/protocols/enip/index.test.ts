// The EtherNet/IP analyzers end to end: operations per CIP service (Unconnected Send and Multiple
// Service Packet unwrapped), pairing by sender context and sequence count, identity facts and their
// side, the pdu trace, confirmation, violation, resynchronisation, bounds, and the same results
// whatever the chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Direction } from '../_core/types.ts';
import { CIP_PDU_BASE, EnipAnalyzer, enipIoProtocol, enipProtocol, enipUdpProtocol } from './index.ts';
import { hex } from './test-support.ts';
import { cat, Ctx, type Ev } from '../_core/testing.ts';

function le16(n: number): number[] {
  return [n & 255, (n >> 8) & 255];
}
function le32(n: number): number[] {
  return [...le16(n & 0xffff), ...le16(n >>> 16)];
}

/** An encapsulation message: 24-byte header (sender context as one 32-bit number) and data. */
function encap(
  command: number,
  data: Uint8Array | number[],
  o: { session?: number; ctx?: number; status?: number } = {},
) {
  const d = Array.from(data);
  return Uint8Array.from([
    ...le16(command),
    ...le16(d.length),
    ...le32(o.session ?? 0x11020100),
    ...le32(o.status ?? 0),
    ...le32(o.ctx ?? 0),
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...d,
  ]);
}

/** SendRRData carrying one CIP message in an unconnected data item. */
function rr(cip: string, ctx = 0, status = 0): Uint8Array {
  const c = Array.from(hex(cip));
  return encap(0x6f, [0, 0, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, ...le16(c.length), ...c], { ctx, status });
}

/** SendUnitData carrying one CIP message with a sequence count on a connection. */
function unit(cip: string, seq: number, conn = 0x00dd3901): Uint8Array {
  const c = Array.from(hex(cip));
  return encap(0x70, [
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0,
    0xa1,
    0,
    4,
    0,
    ...le32(conn),
    0xb1,
    0,
    ...le16(c.length + 2),
    ...le16(seq),
    ...c,
  ]);
}

const LIST_IDENTITY_REQUEST = encap(0x63, []);
/** enip-list-identity.pcap frame 7: a 1756-ENBT/A. */
const LIST_IDENTITY_REPLY = encap(
  0x63,
  hex(`0100 0c00 2d00 0100 0002af120a0101a4 0000000000000000 0100 0c00 3a00 0403 3000 8e4d5200
       0b 313735362d454e42542f41 03`),
);
/** Unconnected Send to slot 0: Get_Attributes_All on the Identity object (ip-address-change frame 2). */
const GAA_IDENTITY_ROUTED = '52 02 2006 2401 06 9a 0600 01022001 2401 0100 0100';
/** Its reply (frame 4): a 1756-L61 controller. */
const GAA_IDENTITY_REPLY = `81000000 0100 0e00 3600 1014 6030 3f825100 14 313735362d4c36312f42204c4f47495835353631`;

test('registration: TCP and UDP 44818, I/O on UDP 2222, and a probe for encapsulation headers', () => {
  assert.deepEqual([enipProtocol.name, enipProtocol.transport, enipProtocol.ports], ['enip', 'tcp', [44818]]);
  assert.deepEqual([enipUdpProtocol.name, enipUdpProtocol.transport, enipUdpProtocol.ports], ['enip', 'udp', [44818]]);
  assert.deepEqual([enipIoProtocol.name, enipIoProtocol.transport, enipIoProtocol.ports], ['enip-io', 'udp', [2222]]);
  assert.equal(enipProtocol.probe?.(LIST_IDENTITY_REQUEST, 0), true);
  assert.equal(enipProtocol.probe?.(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'), 0), false);
});

test('RegisterSession is paired and confirms the flow; the pdu trace has the command', () => {
  const ctx = new Ctx(true);
  const a = enipProtocol.createAnalyzer(ctx);
  a.data(0, encap(0x65, [1, 0, 0, 0], { session: 0 }), 10);
  a.data(1, encap(0x65, [1, 0, 0, 0]), 20);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op']);
  assert.deepEqual(ctx.ops()[0], {
    name: 'enip.register_session',
    protocol: 'enip',
    code: 0x65,
    access: 'other',
    tsMicros: 10,
    responded: true,
  });
  assert.deepEqual(
    ctx.events.filter((e) => e.t === 'pdu'),
    [
      { t: 'pdu', dir: 0, code: 0x65 },
      { t: 'pdu', dir: 1, code: 0x65 },
    ],
  );
});

test('an Unconnected Send is one operation of the embedded service, with the slot as unit', () => {
  const ctx = new Ctx(true);
  const a = new EnipAnalyzer(ctx);
  a.data(0, rr(GAA_IDENTITY_ROUTED, 7), 1);
  a.data(1, rr(GAA_IDENTITY_REPLY, 7), 2);
  assert.deepEqual(ctx.ops(), [
    {
      name: 'cip.get_attributes_all',
      protocol: 'cip',
      code: 1,
      access: 'read',
      tsMicros: 1,
      unit: 0,
      addressSpace: 'class_0x01',
      address: 1,
      quantity: 1,
      responded: true,
    },
  ]);
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 1,
      protocol: 'enip',
      vendor: 'Rockwell Automation/Allen-Bradley',
      productCode: '54',
      firmware: '16.20',
      serial: '0x0051823f',
      product: '1756-L61/B LOGIX5561',
      extra: {
        vendorId: '1',
        deviceType: 'Programmable Logic Controller',
        deviceTypeCode: '14',
        status: '0x3060',
        route: '1/0',
      },
    },
  ]);
  const pdus = ctx.events.flatMap((e) => (e.t === 'pdu' ? [[e.dir, e.code]] : []));
  assert.deepEqual(pdus, [
    [0, 0x6f],
    [0, CIP_PDU_BASE + 0x52],
    [0, CIP_PDU_BASE + 0x01],
    [1, 0x6f],
    [1, CIP_PDU_BASE + 0x01],
  ]);
});

test('the router failing an Unconnected Send sets its status on the embedded operation', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, rr(GAA_IDENTITY_ROUTED, 3), 1);
  a.data(1, rr('d2 00 01 01 0402 0100 // connection failure, extended 0x0204', 3), 2);
  const op = ctx.ops()[0]!;
  assert.deepEqual([op.name, op.responded, op.exception], ['cip.get_attributes_all', true, 1]);
  assert.deepEqual(ctx.anomalies(), []);
  assert.deepEqual(ctx.facts(), []);
});

test('ListIdentity over UDP: a broadcast request flow and the reply flow', () => {
  // The request to 255.255.255.255 is its own flow and never sees a reply: reported at the end
  // as unanswered, without an anomaly.
  const req = new Ctx();
  const ra = enipUdpProtocol.createAnalyzer(req);
  ra.data(0, LIST_IDENTITY_REQUEST, 1);
  ra.end();
  assert.deepEqual(req.kinds(), ['confirm', 'op']);
  assert.deepEqual(
    [req.ops()[0]!.name, req.ops()[0]!.access, req.ops()[0]!.responded],
    ['enip.list_identity', 'discovery', false],
  );
  // The reply goes from the device's port 44818 to the requester's port: the device is the
  // server of that flow (direction 1), so its identity is side 1, and the reply is one operation.
  const rsp = new Ctx();
  const rb = enipUdpProtocol.createAnalyzer(rsp);
  rb.data(1, LIST_IDENTITY_REPLY, 2);
  rb.end();
  assert.deepEqual(rsp.kinds(), ['confirm', 'fact', 'op']);
  const fact = rsp.facts()[0]!;
  assert.ok(fact.kind === 'identity');
  assert.deepEqual(
    [fact.side, fact.vendor, fact.product, fact.firmware, fact.serial, fact.productCode],
    [1, 'Rockwell Automation/Allen-Bradley', '1756-ENBT/A', '4.3', '0x00524d8e', '58'],
  );
  assert.deepEqual(fact.extra, {
    vendorId: '1',
    deviceType: 'Communications Adapter',
    deviceTypeCode: '12',
    status: '0x0030',
    state: 'operational',
    ip: '10.1.1.164',
  });
  assert.equal(rsp.ops()[0]!.responded, true);
  // Requester and device both on port 44818: the device sent first, so it is the client (0).
  const same = new Ctx();
  const sc = enipUdpProtocol.createAnalyzer(same);
  sc.data(0, LIST_IDENTITY_REPLY, 3);
  assert.equal((same.facts()[0] as { side: number }).side, 0);
});

test('ListIdentity on TCP pairs request and reply in the same flow', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, LIST_IDENTITY_REQUEST, 1);
  a.data(1, LIST_IDENTITY_REPLY, 2);
  a.end();
  assert.deepEqual(ctx.kinds(), ['confirm', 'fact', 'op']);
  assert.deepEqual(ctx.anomalies(), []);
});

test('a Multiple Service Packet makes one operation per service, each with its own status', () => {
  const ctx = new Ctx(true);
  const a = new EnipAnalyzer(ctx);
  // Read Tag "A", Write Tag "B" := DINT 42, Get_Attribute_Single on class 0xF5 instance 1 attr 5
  a.data(
    0,
    unit(
      `0a 02 2002 2401 0300 0800 1000 1e00
       4c 02 91 01 41 00 0100
       4d 02 91 01 42 00 c400 0100 2a000000
       0e 03 20f5 2401 3005`,
      0x10,
    ),
    1,
  );
  a.data(
    1,
    unit(
      `8a 00 1e 00 0300 0800 1200 1600
       cc 00 00 00 c400 07000000
       cd 00 00 00
       8e 00 05 00`,
      0x10,
      0x80fe001c,
    ),
    2,
  );
  const ops = ctx.ops();
  assert.deepEqual(
    ops.map((o) => [o.name, o.access, o.addressSpace, o.address, o.values, o.exception, o.responded]),
    [
      ['cip.read_tag', 'read', 'class_0x6b', undefined, undefined, undefined, true],
      ['cip.write_tag', 'write', 'class_0x6b', undefined, [42], undefined, true],
      ['cip.get_attribute_single', 'read', 'class_0xf5', 1, undefined, 5, true],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
  const codes = ctx.events.flatMap((e) => (e.t === 'pdu' ? [e.code] : []));
  assert.deepEqual(codes, [0x70, 0x1000a, 0x1004c, 0x1004d, 0x1000e, 0x70, 0x1000a, 0x1004c, 0x1004d, 0x1000e]);
});

test('connected replies pair by sequence count; a Stop is a control operation', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, unit('07 02 208e 2401', 0x28b0), 1); // Stop, remote-mode capture frame 421
  a.data(0, unit('0e 03 2001 2401 3007', 0x28b1), 2);
  a.data(1, unit('8e 00 00 00 0441424344', 0x28b1, 0x80fe001c), 3);
  a.data(1, unit('87 00 00 00', 0x28b0, 0x80fe001c), 4);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.tsMicros]),
    [
      ['cip.get_attribute_single', 'read', 2],
      ['cip.stop', 'control', 1],
    ],
  );
});

test('NOP and UnRegisterSession get no reply: reported at once; a stray reply is an anomaly', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, encap(0x00, [1, 2, 3]), 1);
  a.data(0, encap(0x66, []), 2);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded]),
    [
      ['enip.nop', false],
      ['enip.unregister_session', false],
    ],
  );
  a.data(1, rr('81 00 00 00', 99), 3);
  assert.deepEqual(ctx.anomalies(), ['enip.unmatched_response']);
});

test('an encapsulation error on SendRRData answers the request with that status', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, rr('0e 03 2001 2401 3001', 5), 1);
  a.data(1, encap(0x6f, [], { ctx: 5, status: 0x64 }), 2);
  const op = ctx.ops()[0]!;
  assert.deepEqual([op.name, op.responded, op.exception], ['cip.get_attribute_single', true, 0x64]);
});

test('unknown commands in the legacy range are paired operations (controllogix capture 211/215)', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, encap(0x01, []), 1);
  a.data(1, encap(0x01, [1, 0, 1, 0, 0, 0], { status: 1 }), 2);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded, o.exception]),
    [['enip.command_0x0001', true, 1]],
  );
});

test('HTTP or TLS on port 44818 violates the protocol and the analyzer stops', () => {
  for (const bytes of [
    new TextEncoder().encode('GET / HTTP/1.1\r\nHost: plc\r\n\r\n'),
    hex('16 0301 00f1 01 0000ed 0303'),
  ]) {
    const ctx = new Ctx();
    const a = enipProtocol.createAnalyzer(ctx);
    a.data(0, bytes, 1);
    a.data(0, LIST_IDENTITY_REQUEST, 2);
    a.data(1, LIST_IDENTITY_REPLY, 3);
    a.end();
    assert.deepEqual(ctx.events, [{ t: 'violate', code: 'enip.not_enip' }]);
  }
  const udp = new Ctx();
  enipUdpProtocol.createAnalyzer(udp).data(0, new TextEncoder().encode('M-SEARCH * HTTP/1.1\r\n'), 1);
  assert.deepEqual(udp.events, [{ t: 'violate', code: 'enip.not_enip' }]);
  const io = new Ctx();
  enipIoProtocol.createAnalyzer(io).data(0, hex('ffff ffff'), 1);
  assert.deepEqual(io.events, [{ t: 'violate', code: 'enip-io.not_enip_io' }]);
});

test('I/O datagrams on 2222 confirm the flow and report no operations', () => {
  const ctx = new Ctx(true);
  const a = enipIoProtocol.createAnalyzer(ctx);
  a.data(0, hex('0200 0280 0800 03064b00 db943f00 b100 0600 a587e80f0300'), 1);
  a.data(1, hex('0200 0280 0800 03064b00 dc943f00 b100 0600 a687e80f0300'), 2);
  a.data(1, hex('0200 0280'), 3);
  assert.deepEqual(ctx.events, [{ t: 'confirm' }, { t: 'anomaly', code: 'enip-io.truncated' }]);
});

test('after confirmation a bad frame is an anomaly and the stream resynchronises', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.data(0, rr('0e 03 2001 2401 3001', 1), 1);
  a.data(1, rr('8e 00 00 00 0100', 1), 2);
  a.data(0, cat(hex('deadbeef'), rr('0e 03 2001 2401 3002', 2), rr('0e 03 2001 2401 3003', 3)), 3);
  a.data(1, cat(rr('8e 00 00 00 0e00', 2), rr('8e 00 00 00 3600', 3)), 4);
  assert.deepEqual(ctx.anomalies(), ['enip.bad_frame']);
  assert.equal(ctx.ops().length, 3);
  assert.ok(ctx.ops().every((o) => o.responded));
});

test('a capture starting mid-stream resynchronises instead of violating', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx);
  a.gap(0, 0);
  a.gap(1, 0);
  const r1 = rr('0e 03 2001 2401 3001', 1);
  const r2 = rr('0e 03 2001 2401 3002', 2);
  a.data(0, cat(r1.subarray(10), r2), 1);
  a.data(1, rr('8e 00 00 00 0e00', 2), 2);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op']);
  assert.equal(ctx.ops()[0]!.responded, true);
});

test('pending requests are bounded: the oldest are evicted and reported unanswered', () => {
  const ctx = new Ctx();
  const a = new EnipAnalyzer(ctx, false, 3);
  for (let i = 1; i <= 5; i++) a.data(0, rr(`0e 03 2001 24${i.toString(16).padStart(2, '0')} 3001`, i), i);
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [1, false],
      [2, false],
    ],
  );
  a.data(1, rr('8e 00 00 00 0100', 4), 9);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [1, false],
      [2, false],
      [4, true],
      [3, false],
      [5, false],
    ],
  );
  assert.equal(ctx.anomalies().filter((x) => x === 'enip.unanswered_request').length, 4);
});

// ---- re-chunking property ----

const PAIRS: ReadonlyArray<readonly [(i: number) => Uint8Array, (i: number) => Uint8Array]> = [
  [(i) => rr(GAA_IDENTITY_ROUTED, i), (i) => rr(GAA_IDENTITY_REPLY, i)],
  [(i) => unit('4c 02 91 01 41 00 0100', i), (i) => unit('cc 00 00 00 c400 07000000', i, 0x80fe001c)],
  [(i) => unit('07 02 208e 2401', i), (i) => unit('87 00 00 00', i, 0x80fe001c)],
  [(i) => rr('0e 03 20f5 2401 3005', i), (i) => rr('8e 00 08 00', i)],
  [
    (i) => encap(0x63, [], { ctx: i }),
    (i) => cat(LIST_IDENTITY_REPLY.subarray(0, 12), Uint8Array.from(le32(i)), LIST_IDENTITY_REPLY.subarray(16)),
  ],
  [(i) => encap(0x65, [1, 0, 0, 0], { ctx: i }), (i) => encap(0x65, [1, 0, 0, 0], { ctx: i })],
];

function chunks(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const ps = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...ps, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

function run(streams: readonly [Uint8Array[], Uint8Array[]]): Ev[] {
  const ctx = new Ctx(true);
  const a = new EnipAnalyzer(ctx);
  for (const dir of [0, 1] as const) for (const c of streams[dir]) a.data(dir, c, 1);
  a.end();
  return ctx.events;
}

test('property: messages split across chunks or packed several per chunk give the same results', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: PAIRS.length - 1 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (picks, cuts0, cuts1) => {
        // Each pair gets its own sender context / sequence count.
        const chosen = picks;
        const reqs = chosen.map((f, i) => PAIRS[f]![0](i + 1));
        const rsps = chosen.map((f, i) => PAIRS[f]![1](i + 1));
        const whole = run([[cat(...reqs)], [cat(...rsps)]]);
        const each = run([reqs, rsps]);
        const cut = run([chunks(cat(...reqs), cuts0), chunks(cat(...rsps), cuts1)]);
        assert.deepEqual(each, whole);
        assert.deepEqual(cut, whole);
        const ops = whole.filter((e) => e.t === 'op');
        assert.equal(ops.length, chosen.length);
        assert.ok(ops.every((e) => e.t === 'op' && e.op.responded));
        assert.ok(!whole.some((e) => e.t === 'anomaly' || e.t === 'violate'), JSON.stringify(whole));
      },
    ),
    { numRuns: 300 },
  );
});

test('property: the analyzers never throw on random streams and datagrams, gaps included', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), gap: fc.nat({ max: 100 }) }),
        ),
        { maxLength: 30 },
      ),
      (steps) => {
        const tcp = new EnipAnalyzer(new Ctx(true));
        const udp = new EnipAnalyzer(new Ctx(true), true);
        tcp.gap(0, 0);
        tcp.gap(1, 0);
        for (const s of steps) {
          if ('gap' in s) tcp.gap(s.dir, s.gap);
          else {
            tcp.data(s.dir, s.bytes, 0);
            udp.data(s.dir, s.bytes, 0);
          }
        }
        tcp.end();
        udp.end();
      },
    ),
    { numRuns: 2000, interruptAfterTimeLimit: 4000 },
  );
});

test('property: random CIP bodies in well-formed messages never throw', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 120 }), { maxLength: 12 }), (bodies) => {
      const a = new EnipAnalyzer(new Ctx(true));
      bodies.forEach((b, i) => {
        const c = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
        a.data((i & 1) as Direction, i % 3 === 0 ? unit(c, i) : rr(c, i), i);
      });
      a.end();
    }),
    { numRuns: 1500 },
  );
});
