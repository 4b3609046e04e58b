// The IEC 104 analyzer end to end on byte streams: U-frame pairing, command activation with
// confirmation and termination, interrogation, reports, violation, resynchronisation, sequence
// numbers, and the same results whatever the chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Iec104Analyzer, iec104Protocol } from './index.ts';
import { cat, Ctx, hex, type Ev } from './test-support.ts';

/** Send sequence numbers per side, so that I-frames are in sequence. */
class Seq {
  private readonly next = [0, 0];
  /** An I-frame carrying `asdu` (hex) from `side`. */
  i(side: 0 | 1, asdu: string): Uint8Array {
    const body = hex(asdu);
    const ns = this.next[side]!;
    this.next[side] = (ns + 1) & 0x7fff;
    return Uint8Array.from([0x68, body.length + 4, (ns << 1) & 0xff, ns >> 7, 0, 0, ...body]);
  }
}

const STARTDT_ACT = hex('680407000000');
const STARTDT_CON = hex('68040b000000');
const TESTFR_ACT = hex('680443000000');
const TESTFR_CON = hex('680483000000');
const S_FRAME = hex('680401000200');

/** ASDU: type, one object, COT, OA 0, CA, IOA, element. */
function asdu(type: number, cot: number, ca: number, ioa: number, element: string, vsq = 1): string {
  const h = (n: number, octets: number): string =>
    Array.from({ length: octets }, (_, i) => ((n >> (8 * i)) & 0xff).toString(16).padStart(2, '0')).join('');
  return `${h(type, 1)} ${h(vsq, 1)} ${h(cot, 1)} 00 ${h(ca, 2)} ${h(ioa, 3)} ${element}`;
}

test('registration: TCP port 2404 and a probe for the APCI', () => {
  assert.deepEqual([iec104Protocol.name, iec104Protocol.transport, iec104Protocol.ports], ['iec104', 'tcp', [2404]]);
  assert.equal(iec104Protocol.probe?.(STARTDT_ACT, 0), true);
  assert.equal(iec104Protocol.probe?.(hex('68'), 0), false);
  assert.equal(iec104Protocol.probe?.(new TextEncoder().encode('GET / HTTP/1.1\r\n'), 0), false);
  assert.equal(iec104Protocol.probe?.(hex('680507000000'), 0), false);
});

test('STARTDT act/con and TESTFR from either side are paired operations', () => {
  const ctx = new Ctx(true);
  const a = iec104Protocol.createAnalyzer(ctx);
  a.data(0, STARTDT_ACT, 1);
  assert.deepEqual(ctx.kinds(), ['confirm']);
  assert.deepEqual(
    ctx.events.map((e) => e.t),
    ['confirm', 'pdu'],
  );
  a.data(1, STARTDT_CON, 2);
  a.data(1, TESTFR_ACT, 3);
  a.data(0, TESTFR_CON, 4);
  a.data(0, cat(TESTFR_ACT, S_FRAME), 5);
  a.data(1, TESTFR_CON, 6);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.tsMicros, o.responded]),
    [
      ['iec104.startdt', 0x07, 'control', 1, true],
      ['iec104.testfr', 0x43, 'diagnostic', 3, true],
      ['iec104.testfr', 0x43, 'diagnostic', 5, true],
    ],
  );
  assert.deepEqual(
    ctx.events.flatMap((e) => (e.t === 'pdu' ? [e.code] : [])),
    [0x101, 0x102, 0x110, 0x120, 0x110, 0x120],
    'U_FRAME_PDU + utype; the S-frame is not a PDU code',
  );
  a.end();
  assert.deepEqual(ctx.anomalies(), []);
});

test('select and execute of a single command, confirmed and terminated (090813-diverse frames 25-33)', () => {
  const ctx = new Ctx();
  const a = new Iec104Analyzer(ctx);
  a.data(0, hex('680e2c00a2002d010600030094110081'), 25); // C_SC_NA_1 act, select ON, IOA 4500
  a.data(1, hex('680ea2002e002d010700030094110081'), 27); // actcon
  a.data(0, hex('680e2e00a4002d010600030094110001'), 29); // execute ON
  a.data(1, hex('680ea40030002d010700030094110001'), 31); // actcon
  a.data(1, hex('680ea60030002d010a00030094110001'), 33); // actterm
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.unit, o.address, o.quantity, o.values, o.responded, o.tsMicros]),
    [
      ['iec104.c_sc_na_1', 45, 'control', 3, 4500, 1, [1], true, 25],
      ['iec104.c_sc_na_1', 45, 'control', 3, 4500, 1, [1], true, 29],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('negative confirmations and unknown addresses set the exception', () => {
  const ctx = new Ctx();
  const a = new Iec104Analyzer(ctx);
  const s = new Seq();
  a.data(0, s.i(0, asdu(46, 6, 7, 15000, '82')), 1);
  a.data(1, s.i(1, asdu(46, 0x47, 7, 15000, '82')), 2); // negative actcon
  a.data(0, s.i(0, asdu(45, 6, 1, 50, '01')), 3);
  a.data(1, s.i(1, asdu(45, 0x6f, 1, 50, '01')), 4); // unknown IOA, P/N set
  a.data(0, s.i(0, asdu(50, 8, 1, 60, '0000c03f 00')), 5); // deactivation of a set-point
  a.data(1, s.i(1, asdu(50, 9, 1, 60, '0000c03f 00')), 6);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.exception, o.values]),
    [
      ['iec104.c_dc_na_1', 0x47, [2]],
      ['iec104.c_sc_na_1', 0x6f, [1]],
      ['iec104.c_se_nc_1', undefined, [1.5]],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('general interrogation: one read operation, the interrogated data as reports', () => {
  const ctx = new Ctx(true);
  const a = new Iec104Analyzer(ctx);
  const s = new Seq();
  a.data(0, s.i(0, asdu(100, 6, 0xffff, 0, '14')), 1); // to the global address
  a.data(1, s.i(1, asdu(100, 7, 10, 0, '14')), 2); // each station answers with its own address
  a.data(1, s.i(1, asdu(1, 20, 10, 1, '00 020000 01 030000 00', 3)), 3);
  a.data(1, s.i(1, asdu(13, 20, 10, 1300, '0000f041 00  00003144 00', 0x82)), 4); // SQ: IOAs 1300, 1301
  a.data(1, s.i(1, asdu(100, 10, 10, 0, '14')), 5);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.unit, o.address, o.quantity, o.values, o.responded]),
    [
      ['iec104.c_ic_na_1', 'read', 0xffff, 0, 1, [20], true],
      ['iec104.m_sp_na_1', 'read', 10, 1, 3, [0, 1, 0], false],
      ['iec104.m_me_nc_1', 'read', 10, 1300, 2, [30, 708], false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
  assert.deepEqual(
    ctx.events.flatMap((e) => (e.t === 'pdu' ? [e.code] : [])),
    [100, 100, 1, 13, 100],
  );
});

test('read command, clock synchronisation, reset process, parameters and files', () => {
  const ctx = new Ctx();
  const a = new Iec104Analyzer(ctx);
  const s = new Seq();
  a.data(0, s.i(0, asdu(102, 5, 1, 4001, '')), 1); // C_RD_NA_1
  a.data(1, s.i(1, asdu(11, 5, 1, 4001, '2a00 00')), 2); // M_ME_NB_1 requested
  a.data(0, s.i(0, asdu(103, 6, 1, 0, 'c83239081d0808')), 3); // C_CS_NA_1
  a.data(1, s.i(1, asdu(103, 7, 1, 0, 'c83239081d0808')), 4);
  a.data(0, s.i(0, asdu(105, 6, 1, 0, '01')), 5); // C_RP_NA_1 general reset
  a.data(1, s.i(1, asdu(105, 7, 1, 0, '01')), 6);
  a.data(0, s.i(0, asdu(110, 6, 1, 110, '0300 01')), 7); // P_ME_NA_1
  a.data(1, s.i(1, asdu(110, 7, 1, 110, '0300 01')), 8);
  a.data(0, s.i(0, asdu(122, 13, 1, 7, '0100 00 01')), 9); // F_SC_NA_1 select file
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.responded]),
    [
      ['iec104.c_rd_na_1', 'read', true],
      ['iec104.m_me_nb_1', 'read', false],
      ['iec104.c_cs_na_1', 'write', true],
      ['iec104.c_rp_na_1', 'control', true],
      ['iec104.p_me_na_1', 'write', true],
      ['iec104.f_sc_na_1', 'file', false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('unanswered commands: replaced, evicted past the bound, flushed at the end', () => {
  const ctx = new Ctx();
  const a = new Iec104Analyzer(ctx, 2);
  const s = new Seq();
  a.data(0, s.i(0, asdu(45, 6, 1, 1, '01')), 1);
  a.data(0, s.i(0, asdu(45, 6, 1, 1, '00')), 2); // same address again
  a.data(0, s.i(0, asdu(45, 6, 1, 2, '01')), 3);
  a.data(0, s.i(0, asdu(45, 6, 1, 3, '01')), 4); // evicts IOA 1 (ts 2)
  a.data(1, s.i(1, asdu(45, 7, 1, 9, '01')), 5); // nothing pending for IOA 9
  a.data(1, TESTFR_CON, 6);
  a.data(0, TESTFR_ACT, 7);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.address, o.tsMicros, o.responded]),
    [
      ['iec104.c_sc_na_1', 1, 1, false],
      ['iec104.c_sc_na_1', 1, 2, false],
      ['iec104.c_sc_na_1', 2, 3, false],
      ['iec104.c_sc_na_1', 3, 4, false],
      ['iec104.testfr', undefined, 7, false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), [
    'iec104.unanswered_request',
    'iec104.unanswered_request',
    'iec104.unmatched_response',
    'iec104.unmatched_response',
    'iec104.unanswered_request',
    'iec104.unanswered_request',
    'iec104.unanswered_request',
  ]);
});

test('send sequence numbers out of order are an anomaly', () => {
  const ctx = new Ctx();
  const a = new Iec104Analyzer(ctx);
  const s = new Seq();
  a.data(1, s.i(1, asdu(1, 3, 1, 1, '01')), 1);
  s.i(1, asdu(1, 3, 1, 1, '00')); // N(S) 1 is never seen
  a.data(1, s.i(1, asdu(1, 3, 1, 1, '01')), 2);
  assert.deepEqual(ctx.anomalies(), ['iec104.sequence_gap']);
  assert.equal(ctx.ops().length, 2);
});

test('HTTP or TLS on port 2404 violates the protocol and the analyzer stops', () => {
  for (const first of [
    new TextEncoder().encode('GET / HTTP/1.1\r\nHost: rtu\r\n\r\n'),
    hex('16 0301 00f1 01 0000ed 0303'),
  ]) {
    const ctx = new Ctx();
    const a = iec104Protocol.createAnalyzer(ctx);
    a.data(0, first, 1);
    assert.deepEqual(ctx.events, [{ t: 'violate', code: 'iec104.not_iec104' }]);
    a.data(0, STARTDT_ACT, 2);
    a.data(1, STARTDT_CON, 3);
    a.end();
    assert.equal(ctx.events.length, 1, 'detached: nothing more is reported');
  }
});

test('after confirmation garbage is an anomaly and the stream resynchronises; a gap drops the partial APDU', () => {
  const ctx = new Ctx();
  const a = new Iec104Analyzer(ctx);
  a.data(0, STARTDT_ACT, 1);
  a.data(1, STARTDT_CON, 2);
  a.data(0, cat(hex('0707070707'), TESTFR_ACT), 3);
  a.data(1, TESTFR_CON, 4);
  a.data(0, hex('680e0000'), 5);
  a.gap(0, 12);
  a.data(0, TESTFR_ACT, 6);
  a.data(1, TESTFR_CON, 7);
  assert.deepEqual(ctx.anomalies(), ['iec104.bad_frame']);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.tsMicros]),
    [
      ['iec104.startdt', 1],
      ['iec104.testfr', 3],
      ['iec104.testfr', 6],
    ],
  );
  assert.ok(!ctx.kinds().includes('violate'));
});

// ---- re-chunking property ----

const FAMILIES: ReadonlyArray<(s: Seq) => [Uint8Array[], Uint8Array[]]> = [
  () => [[TESTFR_ACT], [TESTFR_CON]],
  (s) => [[s.i(0, asdu(45, 6, 3, 4500, '81'))], [s.i(1, asdu(45, 7, 3, 4500, '81'))]],
  (s) => [
    [s.i(0, asdu(100, 6, 3, 0, '14'))],
    [s.i(1, asdu(100, 7, 3, 0, '14')), s.i(1, asdu(1, 20, 3, 1, '00 01', 0x82)), s.i(1, asdu(100, 10, 3, 0, '14'))],
  ],
  (s) => [[S_FRAME], [s.i(1, asdu(13, 3, 3, 1300, '0000f041 00'))]],
  (s) => [[s.i(0, asdu(50, 6, 3, 5020, '00004041 00'))], [s.i(1, asdu(50, 0x47, 3, 5020, '00004041 00'))]],
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
  const a = new Iec104Analyzer(ctx);
  for (const dir of [0, 1] as const) for (const c of streams[dir]) a.data(dir, c, 1);
  a.end();
  return ctx.events;
}

test('property: APDUs split across chunks or packed several per chunk give the same results', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: FAMILIES.length - 1 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (picks, cuts0, cuts1) => {
        const s = new Seq();
        const pairs = picks.map((f) => FAMILIES[f]!(s));
        const req = pairs.flatMap((p) => p[0]);
        const rsp = pairs.flatMap((p) => p[1]);
        const whole = run([[cat(...req)], [cat(...rsp)]]);
        assert.deepEqual(run([req, rsp]), whole);
        assert.deepEqual(run([chunks(cat(...req), cuts0), chunks(cat(...rsp), cuts1)]), whole);
        assert.ok(
          !whole.some(
            (e) =>
              e.t === 'anomaly' && e.code !== 'iec104.unanswered_request' && e.code !== 'iec104.unmatched_response',
          ),
        );
      },
    ),
    { numRuns: 300 },
  );
});
