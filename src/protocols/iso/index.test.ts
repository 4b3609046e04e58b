// The port-102 demultiplexer end to end on byte streams: registration, finding the application and
// renaming the flow, confirmation, violations (non-ISO traffic on 102), COTP segmentation, gaps,
// bounds, and the same results whatever the TCP chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Direction } from '../_core/types.ts';
import { mmsProtocol } from '../mms/index.ts';
import { s7commPlusProtocol, s7commProtocol } from '../s7comm/index.ts';
import { MAX_TSDU_LENGTH } from './constants.ts';
import { IsoTsapAnalyzer, classifyTsdu, isoTsapProtocol } from './index.ts';
import { RecordingContext, cat, hex, tpktDt } from './test-support.ts';

const CR = hex('0300 0016 11 e0 0000 0001 00 c1 02 0100 c2 02 0102 c0 01 09 // CR: TSAPs 0x0100 / 0x0102, TPDU 512');
const CC = hex('0300 0016 11 d0 0001 0044 00 c1 02 0100 c2 02 0102 c0 01 09 // CC');
const SETUP = hex('32 01 0000 0001 0008 0000  f0 00 0001 0001 01e0 // S7 setup communication job, PDU ref 1');
const SETUP_ACK = hex('32 03 0000 0001 0008 0000 00 00  f0 00 0001 0001 00f0 // ack_data');
/** A read var job (PDU ref r) of 4 bytes of DB 1 from byte 2, and its ack_data. */
const read = (r: number): [Uint8Array, Uint8Array] => [
  hex(`32 01 0000 ${r.toString(16).padStart(4, '0')} 000e 0000  04 01 12 0a 10 02 0004 0001 84 000010`),
  hex(`32 03 0000 ${r.toString(16).padStart(4, '0')} 0002 0008 00 00  04 01  ff 04 0020 01020304`),
];

test('registration: one definition for TCP 102, named s7comm; MMS and S7comm-plus by name only', () => {
  assert.equal(isoTsapProtocol.name, 's7comm');
  assert.equal(isoTsapProtocol.transport, 'tcp');
  assert.deepEqual(isoTsapProtocol.ports, [102]);
  assert.equal(s7commProtocol, isoTsapProtocol);
  assert.equal(mmsProtocol.name, 'mms');
  assert.deepEqual(mmsProtocol.ports, []);
  assert.equal(s7commPlusProtocol.name, 's7comm_plus');
  assert.deepEqual(s7commPlusProtocol.ports, []);
  assert.equal(isoTsapProtocol.probe?.(CR, 0), true);
  assert.equal(isoTsapProtocol.probe?.(new TextEncoder().encode('GET / HTTP/1.1\r\n'), 0), false);
});

test('an S7comm connection: CR/CC, setup communication; renamed on the first TSDU, confirmed by the exchange', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  a.data(0, CR, 1);
  a.data(1, CC, 2);
  assert.deepEqual(ctx.events, [], 'a connection alone neither names nor confirms');
  a.data(0, tpktDt(SETUP), 3);
  assert.deepEqual(ctx.kinds(), ['rename', 'pdu']);
  assert.equal(ctx.protocol, 's7comm');
  a.data(1, tpktDt(SETUP_ACK), 4);
  assert.deepEqual(ctx.kinds(), ['rename', 'pdu', 'confirm', 'pdu', 'op']);
  assert.deepEqual(ctx.ops()[0], {
    name: 's7comm.setup_communication',
    protocol: 's7comm',
    code: 0xf0,
    access: 'other',
    tsMicros: 3,
    responded: true,
  });
  const [r, rr] = read(2);
  a.data(0, tpktDt(r), 5);
  a.data(1, tpktDt(rr), 6);
  assert.equal(ctx.kinds().filter((k) => k === 'confirm').length, 1, 'confirmed once');
  a.end();
  assert.deepEqual(ctx.anomalies(), []);
});

test('traffic only pushed one way is confirmed at its second valid PDU, not its first', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  const push = tpktDt(hex('32 07 0000 0000 0008 0000  000112 04 11 02 01 00 // cyclic data push'));
  a.data(1, push, 1);
  assert.deepEqual(ctx.kinds(), ['rename', 'pdu', 'op']);
  a.data(1, push, 2);
  assert.deepEqual(ctx.kinds(), ['rename', 'pdu', 'op', 'confirm', 'pdu', 'op']);
});

test('negative: HTTP and TLS on port 102 are not called S7comm', () => {
  const http = new RecordingContext();
  const a = new IsoTsapAnalyzer(http);
  a.data(0, new TextEncoder().encode('GET / HTTP/1.1\r\nHost: plc\r\n\r\n'), 1);
  a.data(1, new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'), 2);
  a.end();
  assert.deepEqual(http.events, [{ t: 'violate', code: 'cotp.not_cotp' }]);

  const tls = new RecordingContext();
  const b = new IsoTsapAnalyzer(tls);
  b.data(0, hex('16 0301 0005 0100000100 // TLS ClientHello record'), 1);
  assert.deepEqual(tls.events, [{ t: 'violate', code: 'cotp.not_cotp' }]);
});

test('a valid COTP connection carrying an unknown application violates s7comm; TLS inside COTP does not', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  a.data(0, CR, 1);
  a.data(0, tpktDt(hex('0102030405')), 2);
  assert.deepEqual(ctx.events, [{ t: 'violate', code: 's7comm.not_s7comm' }]);

  const tls = new RecordingContext();
  const b = new IsoTsapAnalyzer(tls);
  b.data(0, tpktDt(hex('17 0303 0004 deadbeef // TLS application data (S7comm-plus after InitSSL)')), 1);
  b.data(0, tpktDt(SETUP), 2);
  assert.deepEqual(tls.kinds(), ['rename', 'pdu']);
});

test('classifyTsdu: S7comm, S7comm-plus, MMS; nothing else', () => {
  assert.equal(classifyTsdu(SETUP), 's7comm');
  assert.equal(classifyTsdu(hex('32 01 0000')), null, 'S7 id but not a PDU');
  assert.equal(classifyTsdu(hex('72 02 0010 31')), 's7comm_plus');
  assert.equal(classifyTsdu(hex('72 09 0010 31')), null);
  // GT + DT + P-DATA with an MMS conclude request (mms-get-name-list frame 16).
  assert.equal(classifyTsdu(hex('0100 0100 6109 3007 020103 a002 8b00')), 'mms');
  assert.equal(classifyTsdu(hex('0100 0100 6109 3007 020103 a002 0500')), null, 'not an MMS PDU');
  assert.equal(classifyTsdu(hex('0900')), 'mms', 'a finish SPDU of an association caught late');
  assert.equal(classifyTsdu(hex('0900 ff')), null, 'not filling the TSDU');
  assert.equal(classifyTsdu(hex('0200')), null, 'please tokens alone');
  assert.equal(classifyTsdu(hex('')), null);
});

test('a TSDU in several DT TPDUs is reassembled; an empty DT is passed over', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  a.data(0, tpktDt(SETUP.subarray(0, 5), false), 1);
  a.data(0, tpktDt(new Uint8Array(0), false), 1);
  a.data(0, tpktDt(SETUP.subarray(5), true), 2);
  a.data(1, tpktDt(SETUP_ACK), 3);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.tsMicros, o.responded]),
    [['s7comm.setup_communication', 2, true]],
  );
});

test('bounds: an over-long TSDU is dropped with an anomaly; a bad frame after sync is an anomaly', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  a.data(0, tpktDt(SETUP), 1);
  const chunk = new Uint8Array(8000);
  for (let sent = 0; sent <= MAX_TSDU_LENGTH; sent += chunk.length) a.data(0, tpktDt(chunk, false), 2);
  a.data(0, tpktDt(chunk, true), 3);
  assert.deepEqual(ctx.anomalies(), ['cotp.tsdu_too_long']);
  a.data(0, hex('ffff ffff ffff ffff'), 4);
  const [r] = read(5);
  a.data(0, tpktDt(r), 5);
  assert.deepEqual(ctx.anomalies(), ['cotp.tsdu_too_long', 'cotp.bad_frame']);
  assert.equal(ctx.pdus().length, 2, 'the framer found the next TPKT');
});

test('a capture that starts mid-stream: gap(dir, 0) then bytes from the middle of a TPKT', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  const [r1, rr1] = read(1);
  const [r2, rr2] = read(2);
  a.gap(0, 0);
  a.gap(1, 0);
  const reqs = cat(tpktDt(r1), tpktDt(r2));
  a.data(0, reqs.subarray(9), 1); // the middle of the first request
  a.data(1, cat(tpktDt(rr1), tpktDt(rr2)), 2);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded]),
    [['s7comm.read_var', true]],
  );
  assert.deepEqual(ctx.anomalies(), ['s7comm.unmatched_response']);
  assert.ok(!ctx.events.some((e) => e.t === 'violate'));
});

/** Messages of a conversation, each with its direction. */
function conversation(): Array<[Direction, Uint8Array]> {
  const msgs: Array<[Direction, Uint8Array]> = [
    [0, CR],
    [1, CC],
    [0, tpktDt(SETUP)],
    [1, tpktDt(SETUP_ACK)],
  ];
  for (let i = 2; i < 6; i++) {
    const [r, rr] = read(i);
    msgs.push([0, cat(tpktDt(r.subarray(0, 7), false), tpktDt(r.subarray(7)))], [1, tpktDt(rr)]);
  }
  return msgs;
}

function run(msgs: Array<[Direction, Uint8Array]>, cuts: number[][]): RecordingContext {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  msgs.forEach(([dir, bytes], i) => {
    let from = 0;
    for (const c of [...new Set(cuts[i] ?? [])].filter((x) => x > 0 && x < bytes.length).sort((x, y) => x - y)) {
      a.data(dir, bytes.subarray(from, c), i);
      from = c;
    }
    a.data(dir, bytes.subarray(from), i);
  });
  a.end();
  return ctx;
}

test('property: the same events whatever the TCP chunking', () => {
  const msgs = conversation();
  const whole = run(msgs, []).events;
  assert.equal(whole.filter((e) => e.t === 'op').length, 5);
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.nat(120), { maxLength: 6 }), { minLength: msgs.length, maxLength: msgs.length }),
      (cuts) => {
        assert.deepEqual(run(msgs, cuts).events, whole);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: random bytes on port 102 never throw, and never name or confirm without a TPKT', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom<Direction>(0, 1), fc.uint8Array({ maxLength: 60 })), { maxLength: 8 }),
      (chunks) => {
        const ctx = new RecordingContext();
        const a = new IsoTsapAnalyzer(ctx);
        for (const [dir, b] of chunks) a.data(dir, b, 0);
        a.end();
        if (!chunks.some(([, b]) => b[0] === 3))
          assert.ok(!ctx.events.some((e) => e.t === 'confirm' || e.t === 'rename'));
      },
    ),
    { numRuns: 2000 },
  );
});
