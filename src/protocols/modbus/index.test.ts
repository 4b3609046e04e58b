// The Modbus/TCP analyzer end to end on byte streams: pairing, eviction, confirmation, violation,
// resynchronisation, identity facts, and the same results whatever the chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModbusAnalyzer, modbusProtocol } from './index.ts';
import { hex } from './test-support.ts';
import { cat, Ctx, type Ev } from '../_core/testing.ts';

/** A read holding registers request (transaction `tid`) and its response. */
function readPair(tid: number, unit = 1, address = 0, quantity = 2): [Uint8Array, Uint8Array] {
  const req = Uint8Array.from([tid >> 8, tid & 255, 0, 0, 0, 6, unit, 3, address >> 8, address & 255, 0, quantity]);
  const body = Array.from({ length: quantity * 2 }, (_, i) => i);
  const len = 3 + body.length;
  const rsp = Uint8Array.from([tid >> 8, tid & 255, 0, 0, 0, len, unit, 3, quantity * 2, ...body]);
  return [req, rsp];
}

test('registration: name, transport, port, and a probe that accepts requests only', () => {
  assert.equal(modbusProtocol.name, 'modbus');
  assert.equal(modbusProtocol.transport, 'tcp');
  assert.deepEqual(modbusProtocol.ports, [502]);
  const [req, rsp] = readPair(1);
  assert.equal(modbusProtocol.probe?.(req, 0), true);
  assert.equal(modbusProtocol.probe?.(hex('0001 0000 0003 01 83 02'), 0), false);
  assert.equal(modbusProtocol.probe?.(rsp, 1), true);
  assert.equal(modbusProtocol.probe?.(new TextEncoder().encode('GET / HTTP/1.1\r\n'), 0), false);
});

test('a request and its response make one operation and confirm the flow', () => {
  const ctx = new Ctx();
  const a = modbusProtocol.createAnalyzer(ctx);
  const [req, rsp] = readPair(7, 5, 100, 3);
  a.data(0, req, 1000);
  assert.deepEqual(ctx.events, [], 'nothing before the response');
  a.data(1, rsp, 1500);
  assert.deepEqual(ctx.kinds(), ['op', 'confirm']);
  assert.deepEqual(ctx.ops()[0], {
    name: 'modbus.read_holding_registers',
    protocol: 'modbus',
    code: 3,
    access: 'read',
    tsMicros: 1000,
    unit: 5,
    addressSpace: 'holding_register',
    address: 100,
    quantity: 3,
    responded: true,
  });
  a.end();
  assert.equal(ctx.ops().length, 1);
});

test('interleaved transaction ids pair correctly, and unit ids keep pairs apart', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  const p1 = readPair(1, 1, 10);
  const p2 = readPair(2, 1, 20);
  const p3 = readPair(2, 9, 30); // same transaction id, another unit
  a.data(0, cat(p1[0], p2[0], p3[0]), 1);
  a.data(1, cat(p3[1], p1[1]), 2);
  a.data(1, p2[1], 3);
  assert.deepEqual(
    ctx.ops().map((o) => [o.unit, o.address, o.responded]),
    [
      [9, 30, true],
      [1, 10, true],
      [1, 20, true],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
  assert.equal(ctx.kinds().filter((k) => k === 'confirm').length, 1);
});

test('exceptions are set on the operation; mismatched responses are anomalies', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  a.data(0, hex('0001 0000 0006 01 03 0000 0001'), 1);
  a.data(1, hex('0001 0000 0003 01 83 02 // illegal data address'), 2);
  assert.equal(ctx.ops()[0]!.exception, 2);
  assert.equal(ctx.ops()[0]!.responded, true);
  a.data(0, hex('0002 0000 0006 01 03 0000 0002 // 2 registers'), 3);
  a.data(1, hex('0002 0000 0005 01 03 02 0000 // only 2 bytes'), 4);
  a.data(0, hex('0003 0000 0006 01 06 0010 00ff'), 5);
  a.data(1, hex('0003 0000 0006 01 06 0010 0000 // echo differs'), 6);
  assert.deepEqual(ctx.anomalies(), ['modbus.response_mismatch', 'modbus.response_mismatch']);
});

test('a response without a request is an anomaly and does not confirm', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  a.data(1, readPair(9)[1], 1);
  assert.deepEqual(ctx.events, [{ t: 'anomaly', code: 'modbus.unmatched_response' }]);
});

test('pending requests are bounded: the oldest are evicted, the rest flushed at the end', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx, 4);
  for (let tid = 1; tid <= 6; tid++) a.data(0, readPair(tid, 1, tid)[0], tid);
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [1, false],
      [2, false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['modbus.unanswered_request', 'modbus.unanswered_request']);
  a.data(1, readPair(4, 1, 4)[1], 10);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [1, false],
      [2, false],
      [4, true],
      [3, false],
      [5, false],
      [6, false],
    ],
  );
  assert.equal(ctx.anomalies().length, 5);
});

test('a repeated transaction id retires the earlier request as unanswered', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  a.data(0, readPair(1, 1, 10)[0], 1);
  a.data(0, readPair(1, 1, 20)[0], 2);
  a.data(1, readPair(1, 1, 20)[1], 3);
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [10, false],
      [20, true],
    ],
  );
});

test('HTTP on port 502 violates the protocol and the analyzer stops', () => {
  const ctx = new Ctx();
  const a = modbusProtocol.createAnalyzer(ctx);
  a.data(0, new TextEncoder().encode('GET / HTTP/1.1\r\nHost: plc\r\n\r\n'), 1);
  assert.deepEqual(ctx.events, [{ t: 'violate', code: 'modbus.not_modbus' }]);
  const [req, rsp] = readPair(1);
  a.data(0, req, 2);
  a.data(1, rsp, 3);
  a.end();
  assert.equal(ctx.events.length, 1, 'detached: nothing more is reported');
});

test('TLS on port 502 violates the protocol', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  a.data(0, hex('16 0301 00f1 01 0000ed 0303'), 1); // TLS ClientHello record header
  assert.deepEqual(ctx.events, [{ t: 'violate', code: 'modbus.not_modbus' }]);
});

test('after confirmation a bad frame is an anomaly and the stream resynchronises', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  const p1 = readPair(1);
  a.data(0, p1[0], 1);
  a.data(1, p1[1], 2);
  const p2 = readPair(2, 1, 50);
  const p3 = readPair(3, 1, 60);
  a.data(0, cat(hex('dead beef'), p2[0], p3[0]), 3);
  a.data(1, cat(p2[1], p3[1]), 4);
  assert.deepEqual(ctx.anomalies(), ['modbus.bad_frame']);
  assert.deepEqual(
    ctx.ops().map((o) => o.address),
    [0, 50, 60],
  );
  assert.ok(!ctx.kinds().includes('violate'));
});

test('after a gap the partial ADU is dropped and decoding resumes', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  const p = [1, 2, 3, 4].map((t) => readPair(t, 1, t * 10));
  a.data(0, p[0]![0], 1);
  a.data(1, p[0]![1], 2);
  a.data(0, p[1]![0].subarray(0, 5), 3); // request 2 is cut by the gap
  a.gap(0, 7);
  a.data(0, cat(p[2]![0], p[3]![0]), 4);
  a.data(1, cat(p[2]![1], p[3]![1]), 5);
  assert.deepEqual(
    ctx.ops().map((o) => o.address),
    [10, 30, 40],
  );
  assert.deepEqual(ctx.anomalies(), []);
  assert.ok(!ctx.kinds().includes('violate'), 'a gap is not a violation');
});

test('a capture that starts mid-stream (gap of 0 first) resynchronises instead of violating', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  const p1 = readPair(1, 1, 10);
  const p2 = readPair(2, 1, 20);
  a.gap(0, 0);
  a.gap(1, 0);
  a.data(0, cat(p1[0].subarray(4), p2[0]), 1); // starts inside request 1
  a.data(1, cat(p1[1].subarray(3), p2[1]), 2);
  // The cut request and response 1 are skipped while searching; pair 2 is found and confirms.
  assert.deepEqual(ctx.kinds(), ['op', 'confirm']);
  assert.equal(ctx.ops()[0]!.address, 20);
});

test('write operations keep the first 16 values written', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  const values = Array.from({ length: 20 }, (_, i) => [0, i]).flat();
  // write multiple registers: address 0x0100, 20 registers, 40 bytes
  a.data(0, Uint8Array.from([0, 1, 0, 0, 0, 47, 1, 16, 1, 0, 0, 20, 40, ...values]), 1);
  a.data(1, hex('0001 0000 0006 01 10 0100 0014'), 2);
  // write single coil ON, write multiple coils, mask write
  a.data(0, hex('0002 0000 0006 01 05 0007 ff00'), 3);
  a.data(1, hex('0002 0000 0006 01 05 0007 ff00'), 4);
  a.data(0, hex('0003 0000 0008 01 0f 0010 0003 01 05 // coils 16..18 = 1,0,1'), 5);
  a.data(1, hex('0003 0000 0006 01 0f 0010 0003'), 6);
  a.data(0, hex('0004 0000 0008 01 16 0004 00f2 0025'), 7);
  a.data(1, hex('0004 0000 0008 01 16 0004 00f2 0025'), 8);
  const ops = ctx.ops();
  assert.deepEqual(
    ops[0]!.values,
    Array.from({ length: 16 }, (_, i) => i),
  );
  assert.deepEqual([ops[0]!.address, ops[0]!.quantity, ops[0]!.access], [0x100, 20, 'write']);
  assert.deepEqual([ops[1]!.name, ops[1]!.addressSpace, ops[1]!.values], ['modbus.write_single_coil', 'coil', [1]]);
  assert.deepEqual([ops[2]!.address, ops[2]!.quantity, ops[2]!.values], [16, 3, [1, 0, 1]]);
  assert.deepEqual([ops[3]!.name, ops[3]!.values], ['modbus.mask_write_register', [0xf2, 0x25]]);
  assert.deepEqual(ctx.anomalies(), []);
});

test('read device identification responses become an identity fact of the server', () => {
  // icsnpp-modbus-example.pcap frames 92 and 94
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  a.data(0, hex('0017 0000 0005 01 2b 0e 01 00'), 1);
  a.data(
    1,
    hex(`
      0017 0000 003d 01 2b 0e 01 83 00 00 03
      00 10 5a65656b204d6f646275732054657374
      01 18 50726f746f636f6c2050617273696e672069732066756e21
      02 07 312e322e332e36
    `),
    2,
  );
  assert.deepEqual(ctx.kinds(), ['fact', 'op', 'confirm']);
  assert.deepEqual(ctx.events[0], {
    t: 'fact',
    fact: {
      kind: 'identity',
      side: 1,
      protocol: 'modbus',
      vendor: 'Zeek Modbus Test',
      productCode: 'Protocol Parsing is fun!',
      firmware: '1.2.3.6',
    },
  });
  const op = ctx.ops()[0]!;
  assert.deepEqual([op.name, op.code, op.access], ['modbus.read_device_identification', 43, 'discovery']);
});

test('regular and extended identity objects go to product, model and extra', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  const obj = (id: number, s: string): number[] => [id, s.length, ...new TextEncoder().encode(s)];
  const objects = [
    ...obj(0, 'Acme'),
    ...obj(3, 'http://acme.example'),
    ...obj(4, 'PLC-9'),
    ...obj(5, 'X1'),
    ...obj(6, 'Line 3'),
    ...obj(0x80, 'SN123'),
  ];
  const pdu = [0x2b, 0x0e, 0x03, 0x83, 0x00, 0x00, 6, ...objects];
  a.data(1, Uint8Array.from([0, 1, 0, 0, 0, pdu.length + 1, 1, ...pdu]), 1);
  assert.deepEqual(ctx.events[0], {
    t: 'fact',
    fact: {
      kind: 'identity',
      side: 1,
      protocol: 'modbus',
      vendor: 'Acme',
      product: 'PLC-9',
      model: 'X1',
      extra: { vendorUrl: 'http://acme.example', userApplicationName: 'Line 3', private_0x80: 'SN123' },
    },
  });
});

test('malformed ADUs are anomalies, not violations', () => {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  a.data(0, hex('0001 0000 0004 01 03 0000 // quantity missing'), 1);
  assert.deepEqual(ctx.events, [{ t: 'anomaly', code: 'modbus.truncated' }]);
});

// ---- re-chunking property ----

/** Valid request/response pairs of several function families, with fresh transaction ids. */
const FAMILIES: ReadonlyArray<readonly [string, string]> = [
  ['01 0001 0001', '01 01 01'],
  ['03 0001 0008', '03 10 00aa00aa00bb00ccef84e3eb9f8be4c1'],
  ['05 0001 ff00', '05 0001 ff00'],
  ['0f 0001 0004 01 09', '0f 0001 0004'],
  ['10 0001 0004 08 00aa00bb00cc00dd', '10 0001 0004'],
  ['08 0002 0000', '08 0002 0000'],
  ['17 0001 0004 0002 0003 06 00aa00bb00cc', '17 08 00aa00aa00bb00cc'],
  ['2b 0e 01 00', '2b 0e 01 83 00 00 01 00 04 41636d65'],
  ['03 0000 0001', '83 02'],
  ['11', '11 03 00 ff 41'],
];

function adu(tid: number, pdu: string): Uint8Array {
  const p = hex(pdu);
  return Uint8Array.from([tid >> 8, tid & 255, 0, 0, 0, p.length + 1, 1, ...p]);
}

function chunks(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const ps = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...ps, bytes.length]) {
    out.push(bytes.slice(prev, p)); // copies, so no view can leak between calls
    prev = p;
  }
  return out;
}

function run(streams: readonly [Uint8Array[], Uint8Array[]]): Ev[] {
  const ctx = new Ctx();
  const a = new ModbusAnalyzer(ctx);
  for (const dir of [0, 1] as const) for (const c of streams[dir]) a.data(dir, c, 1);
  a.end();
  return ctx.events;
}

test('property: ADUs split across chunks or packed several per chunk give the same results', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: FAMILIES.length - 1 }), { minLength: 1, maxLength: 25 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (picks, cuts0, cuts1) => {
        const req = cat(...picks.map((f, i) => adu(i, FAMILIES[f]![0])));
        const rsp = cat(...picks.map((f, i) => adu(i, FAMILIES[f]![1])));
        const whole = run([[req], [rsp]]);
        const perAdu = run([
          picks.map((f, i) => adu(i, FAMILIES[f]![0])),
          picks.map((f, i) => adu(i, FAMILIES[f]![1])),
        ]);
        const cut = run([chunks(req, cuts0), chunks(rsp, cuts1)]);
        assert.deepEqual(perAdu, whole);
        assert.deepEqual(cut, whole);
        assert.equal(whole.filter((e) => e.t === 'op').length, picks.length);
        assert.ok(!whole.some((e) => e.t === 'anomaly' || e.t === 'violate'), JSON.stringify(whole));
      },
    ),
    { numRuns: 300 },
  );
});

test('property: the analyzer never throws on random streams, gaps included', () => {
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
        const a = new ModbusAnalyzer(new Ctx());
        a.gap(0, 0); // mid-stream: never detach, so every path keeps running
        a.gap(1, 0);
        for (const s of steps) {
          if ('gap' in s) a.gap(s.dir, s.gap);
          else a.data(s.dir, s.bytes, 0);
        }
        a.end();
      },
    ),
    { numRuns: 2000, interruptAfterTimeLimit: 4000 },
  );
});
