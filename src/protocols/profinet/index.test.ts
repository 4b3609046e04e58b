// The Profinet analyzer on whole frames: DCP operations and their names/access classes, identity
// facts from Identify responses and Hello, cyclic/alarm/PTCP counting, data status changes,
// confirmation, violation, and `data` vs `dataAt` equivalence on random frames (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProfinetAnalyzer, profinetProtocol } from './index.ts';
import { Ctx, hex } from './test-support.ts';

// profinet-dcp-change-ip.pcap frames 1–4
const IDENTIFY_ALL = hex('fefe 05 00 01000001 0001 0004 ffff 0000  00000000000000000000');
const IDENTIFY_RESPONSE = hex(`
  feff 05 01 01000001 0000 003e
  0201 0005 0000 494e43 00                   // type of station "INC"
  0202 000b 0000 583230382d424f5244 00       // name of station "X208-BORD"
  0203 0006 0000 002a 0a01                   // Siemens 0x0a01
  0204 0004 0000 01 00                       // IO device
  0102 000e 0001 c0a80006 ffffff00 c0a80001  // 192.168.0.6/24, gateway .1, IP set
`);
const SET_IP = hex('fefd 04 00 01000001 0000 0012 0102 000e 0001 c0a8000a ffffff00 c0a80001');
const SET_OK = hex('fefd 04 01 01000001 0000 0008 0504 0003 01 02 00 00');
// profinet-mixed-dcp-rt-lldp.pcap frame 495, cycle counter and data status varied below
function cyclic(frameId: number, dataStatus: number, counter = 0): Uint8Array {
  const b = new Uint8Array(46);
  b[0] = frameId >> 8;
  b[1] = frameId & 255;
  b[42] = counter >> 8;
  b[43] = counter & 255;
  b[44] = dataStatus;
  return b;
}

function run(...frames: Uint8Array[]): Ctx {
  const ctx = new Ctx();
  const a = profinetProtocol.createAnalyzer(ctx);
  frames.forEach((f, i) => a.data(0, f, 1000 + i));
  a.end();
  return ctx;
}

test('registration: a layer-2 protocol on ethertype 0x8892', () => {
  assert.equal(profinetProtocol.name, 'profinet');
  assert.deepEqual(profinetProtocol.etherTypes, [0x8892]);
});

test('an Identify request is one discovery operation, reported at once', () => {
  const ctx = run(IDENTIFY_ALL);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op']);
  assert.deepEqual(ctx.ops()[0], {
    name: 'profinet.dcp_identify',
    protocol: 'profinet',
    code: 5,
    access: 'discovery',
    tsMicros: 1000,
    responded: false,
    addressSpace: 'all',
  });
  assert.deepEqual(ctx.pdus(), [5]);
});

test('an Identify response is the identity of its sender, and its name with its IP', () => {
  const ctx = run(IDENTIFY_RESPONSE, IDENTIFY_RESPONSE);
  assert.deepEqual(ctx.ops(), [], 'responses are not operations');
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 0,
      protocol: 'profinet',
      product: 'INC',
      productCode: '0x002a/0x0a01',
      vendor: 'Siemens',
      extra: {
        nameOfStation: 'X208-BORD',
        deviceRole: 'io_device',
        ip: '192.168.0.6',
        netmask: '255.255.255.0',
        gateway: '192.168.0.1',
        ipInfo: 'ip_set',
      },
    },
    { kind: 'name', name: 'X208-BORD', source: 'profinet', ip: '192.168.0.6' },
  ]);
  assert.deepEqual(ctx.pdus(), [5, 5], 'the repeated response gives no second fact, but is a PDU');
});

test('Set of the IP parameter is a write of ip_parameter with the new address as values', () => {
  const ctx = run(SET_IP);
  const op = ctx.ops()[0]!;
  assert.deepEqual(
    [op.name, op.code, op.access, op.addressSpace, op.quantity, op.values],
    ['profinet.dcp_set', 4, 'write', 'ip_parameter', 1, [192, 168, 0, 10, 255, 255, 255, 0, 192, 168, 0, 1]],
  );
  const ok = run(SET_OK);
  assert.deepEqual([ok.ops(), ok.anomalies()], [[], []]);
});

test('Set of the name of station, control blocks and their operation names', () => {
  const name = run(hex('fefd 04 00 00000007 0000 000c 0202 0007 0000 706c632d31 00')).ops()[0]!;
  assert.deepEqual([name.name, name.access, name.addressSpace], ['profinet.dcp_set', 'write', 'name_of_station']);
  // Start transaction, name, end transaction: still a write of the name.
  const wrapped = run(
    hex('fefd 04 00 00000008 0000 0018 0501 0002 0000 0202 0007 0000 706c632d31 00 0502 0002 0000'),
  ).ops()[0]!;
  assert.deepEqual([wrapped.name, wrapped.addressSpace, wrapped.quantity], ['profinet.dcp_set', 'name_of_station', 1]);
  const signal = run(hex('fefd 04 00 00000009 0000 0008 0503 0004 0000 0100')).ops()[0]!;
  assert.deepEqual([signal.name, signal.access, signal.values], ['profinet.dcp_signal', 'control', [0x100]]);
  const reset = run(hex('fefd 04 00 0000000a 0000 0006 0505 0002 0000')).ops()[0]!;
  assert.deepEqual([reset.name, reset.access], ['profinet.dcp_factory_reset', 'control']);
  const toFactory = run(hex('fefd 04 00 0000000b 0000 0006 0506 0002 0004')).ops()[0]!;
  assert.deepEqual([toFactory.name, toFactory.values], ['profinet.dcp_reset_to_factory', [4]]);
});

test('Get is a read; Hello is discovery and an identity fact', () => {
  const get = run(hex('fefd 03 00 00000011 0000 0004 0202 0203')).ops()[0]!;
  assert.deepEqual(
    [get.name, get.access, get.addressSpace, get.quantity],
    ['profinet.dcp_get', 'read', 'name_of_station', 2],
  );
  const hello = run(
    hex(`
      fefc 06 00 00000001 0000 0026
      0202 0006 0000 696f2d31
      0203 0006 0000 00b0 0001
      0102 000e 0000 00000000 00000000 00000000
    `),
  );
  assert.deepEqual(hello.ops()[0]!.name, 'profinet.dcp_hello');
  assert.deepEqual(hello.ops()[0]!.access, 'discovery');
  const fact = hello.facts()[0]!;
  assert.ok(fact.kind === 'identity');
  assert.equal(fact.vendor, 'Phoenix Contact');
  assert.equal(fact.extra?.nameOfStation, 'io-1');
  assert.equal(fact.extra?.ipInfo, 'ip_not_set');
  assert.equal(hello.facts().length, 1, 'no name fact without an IP');
});

test('responses with errors are anomalies', () => {
  assert.deepEqual(run(hex('fefd 04 01 00000001 0000 0008 0504 0003 02 02 03 00')).anomalies(), [
    'profinet.dcp_block_error',
  ]);
  assert.deepEqual(run(hex('fefd 03 05 00000001 0000 0000')).anomalies(), ['profinet.dcp_unsupported']);
});

test('cyclic frames are read operations by frame id; data status turning bad is reported once', () => {
  const ctx = run(
    cyclic(0xc000, 0x35, 1),
    cyclic(0xc000, 0x35, 2),
    cyclic(0xc000, 0x25, 3), // provider stopped
    cyclic(0xc000, 0x25, 4),
    cyclic(0x8001, 0x15, 5), // another CR with a station problem
    cyclic(0xc000, 0xa5, 6), // ignore bit: not evaluated
    cyclic(0xc000, 0x31, 7), // data invalid
  );
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.addressSpace, o.quantity]),
    [
      ['profinet.cyclic_data', 0xc000, 'read', 'rt_class_1', 40],
      ['profinet.cyclic_data', 0xc000, 'read', 'rt_class_1', 40],
      ['profinet.cyclic_data', 0xc000, 'read', 'rt_class_1', 40],
      ['profinet.cyclic_data', 0xc000, 'read', 'rt_class_1', 40],
      ['profinet.cyclic_data', 0x8001, 'read', 'rt_class_2', 40],
      ['profinet.cyclic_data', 0xc000, 'read', 'rt_class_1', 40],
      ['profinet.cyclic_data', 0xc000, 'read', 'rt_class_1', 40],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['profinet.provider_stopped', 'profinet.station_problem', 'profinet.data_invalid']);
  assert.deepEqual(ctx.pdus(), [0xc000, 0xc000, 0xc000, 0xc000, 0x8001, 0xc000, 0xc000]);
});

test('alarm, PTCP and fragment frames', () => {
  const ctx = run(
    hex('fe01 8001 8001 14 01 ffff fffe 0004 cf81fd0f // ERR-RTA: AR released'),
    hex('fc01 8001 8002 11 01 0001 ffff 001c 0001 0018 0100 0004 00000000 0003 0001 00000020 00000001 a000 0000'),
    hex('fc01 8002 8001 13 01 0001 0002 0000 // ACK-RTA'),
    hex('ff40 000000000000000000000000 001c 0000 00000000'),
    hex('ff83 07 05 ccfc000000020001'),
  );
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.addressSpace, o.address, o.values, o.exception]),
    [
      ['profinet.alarm', 0xfe01, 'other', 'err', undefined, undefined, 0xcf81fd0f],
      ['profinet.alarm', 0xfc01, 'other', 'plug', 3, [4, 1], undefined],
      ['profinet.alarm_ack', 0xfc01, 'other', 'ack', undefined, undefined, undefined],
      ['profinet.ptcp', 0xff40, 'diagnostic', 'delay_req', undefined, undefined, undefined],
      ['profinet.fragment', 0xff83, 'other', undefined, undefined, undefined, undefined],
    ],
  );
});

test('a first frame that is not Profinet violates; later bad frames are anomalies', () => {
  const ctx = new Ctx();
  const a = new ProfinetAnalyzer(ctx);
  a.data(0, hex('fe'), 1);
  a.data(0, IDENTIFY_ALL, 2);
  assert.deepEqual(ctx.events, [{ t: 'violate', code: 'profinet.not_profinet' }]);
  const ok = new Ctx();
  const b = new ProfinetAnalyzer(ok);
  b.data(0, IDENTIFY_ALL, 1);
  b.data(0, hex('fefe 05 00 0100'), 2);
  b.data(0, IDENTIFY_ALL, 3);
  assert.deepEqual(ok.kinds(), ['confirm', 'op', 'anomaly', 'op']);
  assert.deepEqual(ok.anomalies(), ['profinet.truncated']);
});

test('other bytes under ethertype 0x8892 are not called Profinet', () => {
  // A DCP frame id followed by an IPv4 header: DCPDataLength 0x4001 runs past the frame.
  const ctx = run(hex('fefd 45 00 0054 0000 4000 4001 ffff'));
  assert.deepEqual(ctx.events, [{ t: 'violate', code: 'profinet.not_profinet' }]);
});

test('property: the analyzer never throws, and dataAt gives what data gives', () => {
  const frame = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc
      .tuple(fc.constantFrom(0xfefc, 0xfefd, 0xfefe, 0xfeff, 0xc000, 0xfe01, 0xff40), fc.uint8Array({ maxLength: 120 }))
      .map(([id, body]) => Uint8Array.from([id >> 8, id & 255, ...body])),
  );
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 20 }), fc.nat({ max: 8 }), (frames, pad) => {
      const a = new Ctx();
      const b = new Ctx();
      const x = new ProfinetAnalyzer(a);
      const y = new ProfinetAnalyzer(b);
      for (const f of frames) {
        x.data(0, f.slice(), 1);
        const buf = new Uint8Array(pad + f.length + pad);
        buf.set(f, pad);
        y.dataAt(0, buf, pad, f.length, 1);
      }
      x.end();
      y.end();
      assert.deepEqual(b.events, a.events);
    }),
    { numRuns: 1000 },
  );
});
