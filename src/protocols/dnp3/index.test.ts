// The DNP3 analyzer end to end on byte streams and datagrams: pairing by application sequence
// number, unsolicited responses and confirms, transport reassembly, CRC errors, violation,
// resynchronisation, identity facts, and the same results whatever the chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Dnp3Analyzer, dnp3Protocol, dnp3UdpProtocol, encodeDnp3Link } from './index.ts';
import { CONTROL_STATUS_EXCEPTION, MAX_FRAGMENT_BYTES } from './state.ts';
import { cat, Ctx, hex, type Ev } from './test-support.ts';

const MASTER = 3;
const OUTSTATION = 4;

/** One link frame from the master (DIR, PRM, unconfirmed user data) with one whole fragment. */
function req(ac: number, fc: number, objects = '', tseq = 0): Uint8Array {
  return encodeDnp3Link(0xc4, OUTSTATION, MASTER, cat(Uint8Array.from([0xc0 | tseq, ac, fc]), hex(objects)));
}

/** One link frame from the outstation with a whole response fragment. */
function rsp(ac: number, fc: number, iin = 0, objects = '', tseq = 0): Uint8Array {
  const head = Uint8Array.from([0xc0 | tseq, ac, fc, iin >> 8, iin & 0xff]);
  return encodeDnp3Link(0x44, MASTER, OUTSTATION, cat(head, hex(objects)));
}

const CLASS_READ = '3c02 06 3c03 06 3c04 06 3c01 06';
const CROB = '0c01 17 01 08  42 01 f4010000 00000000 00'; // index 8, close pulse off
const CROB_ECHO_NOT_SUPPORTED = '0c01 17 01 08  42 01 f4010000 00000000 04';

test('registration: TCP and UDP on port 20000, and a probe for the start octets', () => {
  assert.deepEqual([dnp3Protocol.name, dnp3Protocol.transport, dnp3Protocol.ports], ['dnp3', 'tcp', [20000]]);
  assert.deepEqual([dnp3UdpProtocol.name, dnp3UdpProtocol.transport, dnp3UdpProtocol.ports], ['dnp3', 'udp', [20000]]);
  assert.equal(dnp3Protocol.probe?.(req(0xc1, 1, CLASS_READ), 0), true);
  assert.equal(dnp3Protocol.probe?.(hex('0564'), 0), true);
  assert.equal(dnp3Protocol.probe?.(new TextEncoder().encode('GET / HTTP/1.1\r\n'), 0), false);
  const badCrc = req(0xc1, 1, CLASS_READ);
  badCrc[9]! ^= 0xff;
  assert.equal(dnp3Protocol.probe?.(badCrc, 0), false);
});

test('a read and its response make one operation; the first valid frame confirms', () => {
  const ctx = new Ctx(true);
  const a = dnp3Protocol.createAnalyzer(ctx);
  a.data(0, req(0xc5, 1, CLASS_READ), 1000);
  assert.deepEqual(ctx.kinds(), ['confirm']);
  assert.deepEqual(
    ctx.events.map((e) => e.t),
    ['confirm', 'pdu'],
  );
  a.data(1, rsp(0xc5, 129, 0x9000, '0102 00 00 01 81 01'), 2000);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op']);
  assert.deepEqual(
    ctx.events.map((e) => e.t),
    ['confirm', 'pdu', 'pdu', 'op'],
  );
  assert.deepEqual(ctx.ops()[0], {
    name: 'dnp3.read',
    protocol: 'dnp3',
    code: 1,
    access: 'read',
    tsMicros: 1000,
    unit: OUTSTATION,
    responded: true,
  });
  assert.deepEqual(
    ctx.events.flatMap((e) => (e.t === 'pdu' ? [[e.dir, e.code]] : [])),
    [
      [0, 1],
      [1, 129],
    ],
  );
  a.end();
  assert.equal(ctx.ops().length, 1);
});

test('select and operate on a CROB carry group/variation, index and control code', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc7, 3, CROB), 1);
  a.data(1, rsp(0xc7, 129, 0, CROB), 2);
  a.data(0, req(0xc8, 4, CROB), 3);
  a.data(1, rsp(0xc8, 129, 0x0004, CROB_ECHO_NOT_SUPPORTED), 4);
  a.data(0, req(0xc9, 5, CROB), 5);
  a.data(1, rsp(0xc9, 129, 0, CROB_ECHO_NOT_SUPPORTED), 6);
  const ops = ctx.ops();
  assert.deepEqual(
    ops.map((o) => [o.name, o.access, o.addressSpace, o.address, o.quantity, o.values, o.exception]),
    [
      ['dnp3.select', 'control', 'g12v1', 8, 1, [0x42], undefined],
      ['dnp3.operate', 'control', 'g12v1', 8, 1, [0x42], 0x0004],
      ['dnp3.direct_operate', 'control', 'g12v1', 8, 1, [0x42], CONTROL_STATUS_EXCEPTION + 4],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('analog output commands carry their values', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc1, 5, '2903 28 0200 0400 0000c03f 00 0500 00002040 00'), 1);
  a.data(1, rsp(0xc1, 129, 0, '2903 28 0200 0400 0000c03f 00 0500 00002040 00'), 2);
  const op = ctx.ops()[0]!;
  assert.deepEqual([op.addressSpace, op.address, op.quantity, op.values], ['g41v3', 4, 2, [1.5, 2.5]]);
});

test('unsolicited responses are operations of the outstation, responded once the master confirms', () => {
  const ctx = new Ctx(true);
  const a = new Dnp3Analyzer(ctx);
  // zeek-dnp3-mixed.pcap style: outstation 4 -> master 6, CON and UNS, sequence 7
  a.data(1, rsp(0xf7, 130), 10);
  assert.deepEqual(ctx.ops(), []);
  a.data(0, req(0xd7, 0), 11); // confirm: FIR FIN UNS seq 7
  a.data(1, rsp(0xf8, 130), 12);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.unit, o.responded, o.tsMicros]),
    [
      ['dnp3.unsolicited_response', 130, 'read', OUTSTATION, true, 10],
      ['dnp3.unsolicited_response', 130, 'read', OUTSTATION, false, 12],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['dnp3.unconfirmed_unsolicited']);
  assert.equal(ctx.events.filter((e) => e.t === 'pdu').length, 3, 'the confirm is a PDU, not an operation');
});

test('no-response functions and broadcasts are reported at once; solicited confirms are not operations', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc1, 6, CROB), 1); // direct operate, no ack
  a.data(0, encodeDnp3Link(0xc4, 0xffff, MASTER, hex('c0 c2 08 1400 06')), 2); // broadcast freeze
  a.data(0, encodeDnp3Link(0xc4, 0xfffd, MASTER, hex('c0 c3 0d')), 3); // broadcast cold restart
  a.data(0, req(0xc4, 0), 4); // confirm of a multi-fragment response
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.unit, o.responded]),
    [
      ['dnp3.direct_operate_nr', OUTSTATION, false],
      ['dnp3.immediate_freeze_nr', 0xffff, false],
      ['dnp3.cold_restart', 0xfffd, false],
    ],
  );
  a.end();
  assert.deepEqual(ctx.anomalies(), []);
});

test('secure authentication: a challenge leaves the request pending until its response', () => {
  // dnp3-sa-challenge-response.pcap frames 1-4
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, hex('05641ac404000300c2e6c7c6050c0128010001000301640000003b7f6400000000005b'), 1);
  a.data(1, hex('05641c440300040064bdc7c683900078015b010c0003000000009287000401737465768d5c'), 2);
  assert.deepEqual(ctx.ops(), [], 'a challenge does not answer the direct operate');
  a.data(0, hex('056424c404000300849ec8c62078025b01160003000000010006c295fae1911a2cce2dda8abfece1cac8c414f5'), 3);
  a.data(1, hex('05641c440300040064bdc8c68190000c01280100010003016400550a00006400000000005b'), 4);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.responded, o.addressSpace, o.address]),
    [
      ['dnp3.direct_operate', 'control', true, 'g12v1', 1],
      ['dnp3.authenticate_req', 'other', true, undefined, undefined],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('pending requests are bounded; a reused sequence number retires the earlier request', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx, 'tcp', 4);
  for (let seq = 0; seq < 6; seq++)
    a.data(0, req(0xc0 | seq, 1, `1e01 00 ${seq.toString(16).padStart(2, '0')} 0a`), seq);
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [0, false],
      [1, false],
    ],
  );
  a.data(1, rsp(0xc3, 129), 10);
  a.data(0, req(0xc4, 1, '1e01 00 14 15'), 11); // seq 4 again
  a.data(1, rsp(0xc4, 129), 12);
  a.data(1, rsp(0xc9, 129), 13); // nothing with seq 9
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.quantity, o.addressSpace, o.responded]),
    [
      [0, 11, 'g30v1', false],
      [1, 10, 'g30v1', false],
      [3, 8, 'g30v1', true],
      [4, 7, 'g30v1', false],
      [20, 2, 'g30v1', true],
      [2, 9, 'g30v1', false],
      [5, 6, 'g30v1', false],
    ],
  );
  assert.equal(ctx.anomalies().filter((c) => c === 'dnp3.unanswered_request').length, 5);
  assert.equal(ctx.anomalies().filter((c) => c === 'dnp3.unmatched_response').length, 1);
});

test('HTTP or TLS on port 20000 violates the protocol and the analyzer stops', () => {
  for (const first of [
    new TextEncoder().encode('GET / HTTP/1.1\r\nHost: rtu\r\n\r\n'),
    hex('16 0301 00f1 01 0000ed 0303'),
  ]) {
    const ctx = new Ctx();
    const a = dnp3Protocol.createAnalyzer(ctx);
    a.data(0, first, 1);
    assert.deepEqual(ctx.events, [{ t: 'violate', code: 'dnp3.not_dnp3' }]);
    a.data(0, req(0xc1, 1, CLASS_READ), 2);
    a.data(1, rsp(0xc1, 129), 3);
    a.end();
    assert.equal(ctx.events.length, 1, 'detached: nothing more is reported');
  }
});

test('a frame whose data CRC fails before confirmation is corruption: an anomaly, no confirmation', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  const f = req(0xc1, 1, CLASS_READ);
  f[12]! ^= 1;
  a.data(0, f, 1);
  assert.deepEqual(ctx.events, [{ t: 'anomaly', code: 'dnp3.bad_crc' }]);
  a.data(0, req(0xc2, 1, CLASS_READ), 2);
  assert.deepEqual(ctx.kinds(), ['anomaly', 'confirm']);
});

test('after confirmation: bad CRCs and garbage are anomalies, the stream resynchronises', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc1, 1, CLASS_READ), 1);
  a.data(1, rsp(0xc1, 129), 2);
  const badData = req(0xc2, 1, CLASS_READ);
  badData[12]! ^= 1; // data block CRC no longer matches: the frame's data is not used
  const badHeader = req(0xc3, 1, CLASS_READ);
  badHeader[4]! ^= 1; // header CRC mismatch
  a.data(0, cat(badData, badHeader, req(0xc4, 1, CLASS_READ)), 3);
  a.data(0, cat(hex('dead beef'), req(0xc5, 1, CLASS_READ)), 4);
  a.data(1, cat(rsp(0xc4, 129), rsp(0xc5, 129)), 5);
  assert.deepEqual(ctx.anomalies(), ['dnp3.bad_crc', 'dnp3.bad_crc', 'dnp3.bad_frame']);
  assert.deepEqual(
    ctx.ops().map((o) => [o.tsMicros, o.responded]),
    [
      [1, true],
      [3, true],
      [4, true],
    ],
  );
  assert.ok(!ctx.kinds().includes('violate'));
});

test('transport reassembly: a response over two link frames (dnp3-full-exchange.pcap frames 14, 16)', () => {
  const first = hex(
    '0564ff4401000a005aeb43c2810000010200000902020202020240460202020203020000090202020202020270da02020214010000090200000000020000e30b000002000000000200000000020000004dba000200000000020000000002000000007eae02000000000200000000150100000902d3420000000002000000000200000000020069ce00000002000000000200000000020000dd5e000002000000000200000000020000004dba001e0100000902000000000200000000cd6302000000000200000000020000000002f0030000000002000000000200000000020069ce00000002000000000a0200000902020217100202020202020228010000090200000058e4000200000000020000000002000000007eae020000000002000000004e72',
  );
  const last = hex('05641a4401000a00af5d840200000000020000000002000000003be20200000000f3b9');
  const request = hex('056414c40a0001008fedc3c2013c02063c03063c04063c0106429e'); // frame 13: read, seq 2
  const ctx = new Ctx(true);
  const a = new Dnp3Analyzer(ctx);
  a.data(0, request, 13);
  a.data(1, first, 14);
  assert.equal(ctx.events.filter((e) => e.t === 'pdu').length, 1, 'nothing until FIN');
  a.data(1, last, 16);
  assert.deepEqual(
    ctx.events.filter((e) => e.t === 'pdu'),
    [
      { t: 'pdu', dir: 0, code: 1 },
      { t: 'pdu', dir: 1, code: 129 },
    ],
  );
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.unit, o.responded]),
    [['dnp3.read', 10, true]],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

/** A fragment cut into transport segments of `size` octets, starting at transport sequence `seq`. */
function segments(
  fragment: Uint8Array,
  size: number,
  seq: number,
  control = 0x44,
  dst = MASTER,
  src = OUTSTATION,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0, i = 0; p < fragment.length; p += size, i++) {
    const fir = p === 0 ? 0x40 : 0;
    const fin = p + size >= fragment.length ? 0x80 : 0;
    const th = fir | fin | ((seq + i) & 0x3f);
    out.push(encodeDnp3Link(control, dst, src, cat(Uint8Array.from([th]), fragment.subarray(p, p + size))));
  }
  return out;
}

test('transport sequence numbers wrap from 63 to 0; out-of-order segments drop the message', () => {
  const fragment = cat(hex('c1 81 0000 1e01 00 00 2f'), new Uint8Array(240).fill(1)); // g30v1 0..47
  const ctx = new Ctx(true);
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc1, 1, '1e01 06'), 1);
  for (const s of segments(fragment, 100, 62)) a.data(1, s, 2); // sequences 62, 63, 0
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded]),
    [['dnp3.read', true]],
  );
  const parts = segments(fragment, 100, 10);
  a.data(0, req(0xc2, 1, '1e01 06'), 3);
  a.data(1, parts[0]!, 4);
  a.data(1, parts[2]!, 5); // sequence 12 after 10
  assert.deepEqual(ctx.anomalies(), ['dnp3.transport_sequence']);
  a.data(1, parts[1]!, 6); // no FIR and nothing in progress
  assert.deepEqual(ctx.anomalies(), ['dnp3.transport_sequence', 'dnp3.transport_sequence']);
  // a repeated segment (link-layer retry) is ignored
  const again = segments(cat(hex('c2 81 0000 1e01 00 00 03'), new Uint8Array(20)), 16, 30);
  a.data(1, again[0]!, 7);
  a.data(1, again[0]!, 7);
  a.data(1, again[1]!, 8);
  assert.equal(ctx.ops().at(-1)?.responded, true);
  assert.deepEqual(ctx.anomalies().slice(2), []);
});

test('fragments past the bound are dropped with an anomaly', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  const big = cat(hex('c1 81 0000'), new Uint8Array(MAX_FRAGMENT_BYTES));
  for (const s of segments(big, 249, 0)) a.data(1, s, 1);
  assert.ok(ctx.anomalies().includes('dnp3.fragment_too_long'));
  assert.ok(!ctx.kinds().includes('pdu'));
});

test('after a gap the partial frame and message are dropped and decoding resumes', () => {
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc1, 1, CLASS_READ), 1);
  a.data(1, rsp(0xc1, 129), 2);
  const parts = segments(cat(hex('c2 81 0000'), new Uint8Array(40)), 20, 5);
  a.data(0, req(0xc2, 1, CLASS_READ), 3);
  a.data(1, parts[0]!, 4);
  a.data(1, parts[1]!.subarray(0, 7), 5);
  a.gap(1, 30);
  a.data(0, req(0xc3, 1, CLASS_READ), 6);
  a.data(1, rsp(0xc3, 129), 7);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.tsMicros, o.responded]),
    [
      [1, true],
      [6, true],
      [3, false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['dnp3.unanswered_request']);
});

test('UDP: several link frames per datagram, link-only frames, trailing garbage', () => {
  const ctx = new Ctx(true);
  const a = dnp3UdpProtocol.createAnalyzer(ctx);
  // zeek-dnp3-udp-read.pcap frames 1 and 2: request link status and its answer
  a.data(0, hex('05640549640001007e5f'), 1);
  a.data(1, hex('0564058b01006400a097'), 2);
  assert.deepEqual(ctx.kinds(), ['confirm']);
  a.data(0, cat(req(0xc1, 1, CLASS_READ), req(0xc2, 1, CLASS_READ)), 3);
  a.data(1, cat(rsp(0xc1, 129), rsp(0xc2, 129), hex('0564')), 4);
  assert.deepEqual(
    ctx.ops().map((o) => o.responded),
    [true, true],
  );
  assert.deepEqual(ctx.anomalies(), ['dnp3.truncated']);
  const other = new Ctx();
  const b = dnp3UdpProtocol.createAnalyzer(other);
  b.data(0, new TextEncoder().encode('M-SEARCH * HTTP/1.1\r\n'), 1);
  assert.deepEqual(other.events, [{ t: 'violate', code: 'dnp3.not_dnp3' }]);
});

test('device attributes in a response become an identity fact of the sending side', () => {
  const s = (t: string): string =>
    [...new TextEncoder().encode(t)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const ctx = new Ctx();
  const a = new Dnp3Analyzer(ctx);
  a.data(0, req(0xc1, 1, '00fe 06'), 1);
  const objects = [
    `00fc 00 00 00 01 04 ${s('Acme')}`,
    `00fa 00 00 00 01 05 ${s('RTU-9')}`,
    `00f2 00 00 00 01 03 ${s('2.1')}`,
    `00f8 00 00 00 01 03 ${s('SN7')}`,
    `00f7 00 00 00 01 04 ${s('Feed')}`,
  ].join(' ');
  a.data(1, rsp(0xc1, 129, 0, objects), 2);
  assert.deepEqual(ctx.events[1], {
    t: 'fact',
    fact: {
      kind: 'identity',
      side: 1,
      protocol: 'dnp3',
      vendor: 'Acme',
      product: 'RTU-9',
      firmware: '2.1',
      serial: 'SN7',
      extra: { deviceName: 'Feed' },
    },
  });
  assert.equal(ctx.ops()[0]!.addressSpace, undefined);
});

// ---- re-chunking property ----

/** Request/response pairs of several kinds, for a given application sequence number. */
const FAMILIES: ReadonlyArray<(seq: number) => [Uint8Array[], Uint8Array[]]> = [
  (s) => [[req(0xc0 | s, 1, CLASS_READ)], [rsp(0xc0 | s, 129, 0, '0102 00 00 01 81 01')]],
  (s) => [[req(0xc0 | s, 3, CROB)], [rsp(0xc0 | s, 129, 0, CROB)]],
  (s) => [[req(0xc0 | s, 2, '3201 07 01 000000000000')], [rsp(0xc0 | s, 129)]],
  (s) => [[req(0xc0 | s, 13)], [rsp(0xc0 | s, 129, 0x8000, '3402 07 01 8813')]],
  (s) => [
    [req(0xc0 | s, 1, '1e01 06')],
    segments(cat(Uint8Array.from([0xc0 | s, 0x81, 0, 0]), hex('1e01 00 00 2f'), new Uint8Array(240)), 90, s * 3),
  ],
  (s) => [[req(0xd0 | s, 0)], [rsp(0xf0 | s, 130)]],
];

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
  const ctx = new Ctx(true);
  const a = new Dnp3Analyzer(ctx);
  // Requests first, then responses: the unsolicited family's confirm precedes its response, so
  // the unsolicited responses end unconfirmed; the outcome must still not depend on chunking.
  for (const dir of [0, 1] as const) for (const c of streams[dir]) a.data(dir, c, 1);
  a.end();
  return ctx.events;
}

test('property: frames split across chunks or packed several per chunk give the same results', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: FAMILIES.length - 1 }), { minLength: 1, maxLength: 16 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (picks, cuts0, cuts1) => {
        const pairs = picks.map((f, i) => FAMILIES[f]!(i & 0x0f));
        const reqFrames = pairs.flatMap((p) => p[0]);
        const rspFrames = pairs.flatMap((p) => p[1]);
        const whole = run([[cat(...reqFrames)], [cat(...rspFrames)]]);
        const perFrame = run([reqFrames, rspFrames]);
        const cut = run([chunks(cat(...reqFrames), cuts0), chunks(cat(...rspFrames), cuts1)]);
        assert.deepEqual(perFrame, whole);
        assert.deepEqual(cut, whole);
        assert.ok(
          !whole.some(
            (e) =>
              e.t === 'anomaly' && e.code !== 'dnp3.unconfirmed_unsolicited' && e.code !== 'dnp3.unanswered_request',
          ),
        );
      },
    ),
    { numRuns: 300 },
  );
});
