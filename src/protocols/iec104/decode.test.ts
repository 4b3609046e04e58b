// decodeIec104Apdu on annotated hex fixtures (real bytes from the shared captures, frame numbers
// given), plus totality under random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { cotName, typeInfo } from './constants.ts';
import { decodeIec104Apdu, frameIec104Apdu, type Iec104Apdu, type Iec104Asdu } from './decode.ts';
import { hex } from './test-support.ts';

function okApdu(d: Decoded<Iec104Apdu>): { apdu: Iec104Apdu; anomalies: readonly string[]; consumed: number } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { apdu: d.value, anomalies: d.anomalies, consumed: d.consumed };
}

function asduOf(bytes: Uint8Array): { asdu: Iec104Asdu; anomalies: readonly string[]; apdu: Iec104Apdu } {
  const { apdu, anomalies } = okApdu(decodeIec104Apdu(bytes));
  assert.equal(apdu.format, 'i');
  if (apdu.format !== 'i') throw new Error('unreachable');
  return { asdu: apdu.asdu, anomalies, apdu };
}

test('U-frames: STARTDT, STOPDT, TESTFR act and con (iec104-baselines.pcap frames 4-8)', () => {
  const cases: ReadonlyArray<[string, string, boolean, number]> = [
    ['680407000000', 'startdt', false, 1],
    ['68040b000000', 'startdt', true, 2],
    ['680413000000', 'stopdt', false, 4],
    ['680423000000', 'stopdt', true, 8],
    ['680443000000', 'testfr', false, 16],
    ['680483000000', 'testfr', true, 32],
  ];
  for (const [h, fn, con, utype] of cases) {
    const { apdu, anomalies, consumed } = okApdu(decodeIec104Apdu(hex(h)));
    assert.equal(consumed, 6);
    assert.deepEqual(anomalies, []);
    assert.deepEqual(apdu, {
      format: 'u',
      length: 4,
      control: parseInt(h.slice(4, 6), 16),
      utype,
      function: fn,
      confirmation: con,
    });
  }
});

test('S-frame: receive sequence number (iec104-baselines.pcap frame 14)', () => {
  const { apdu } = okApdu(
    decodeIec104Apdu(
      hex(`
        68      // start
        04      // length: control fields only
        01 00   // S format
        1a 00   // N(R) = 0x001a >> 1 = 13
      `),
    ),
  );
  assert.deepEqual(apdu, { format: 's', length: 4, recvSeq: 13 });
});

test('I-frame: general interrogation activation (iec104-baselines.pcap frame 11)', () => {
  const { asdu, apdu, anomalies } = asduOf(
    hex(`
      68 0e     // start, length 14
      0200      // N(S) = 1
      0200      // N(R) = 1
      64        // type 100 C_IC_NA_1
      01        // VSQ: SQ 0, one object
      06        // COT 6 activation (T 0, P/N 0)
      00        // originator address 0
      0a00      // common address 10
      000000    // IOA 0
      14        // QOI 20: station interrogation
    `),
  );
  assert.deepEqual(anomalies, []);
  assert.deepEqual([apdu.format === 'i' && apdu.sendSeq, apdu.format === 'i' && apdu.recvSeq], [1, 1]);
  assert.deepEqual(
    [asdu.typeId, asdu.typeName, asdu.kind, asdu.access, asdu.sq, asdu.count],
    [100, 'C_IC_NA_1', 'system', 'read', false, 1],
  );
  assert.deepEqual(
    [asdu.cot, asdu.cause, asdu.causeName, asdu.negative, asdu.test, asdu.originator, asdu.commonAddress],
    [6, 6, 'activation', false, false, 0, 10],
  );
  assert.deepEqual(asdu.objects, [{ ioa: 0, value: 20 }]);
  assert.deepEqual(asdu.values, [20]);
  assert.equal(asdu.select, undefined);
});

test('measured values, short float, two objects (iec104-090813-diverse.pcap frame 1)', () => {
  const { asdu, apdu } = asduOf(
    hex(`
      68 1a 9a00 2800      // length 26, N(S) 77, N(R) 20
      0d 02 01 00 0300     // M_ME_NC_1, 2 objects, COT 1 periodic, OA 0, CA 3
      140500 0000f041 00   // IOA 1300: 30.0, QDS 0
      150500 00003144 00   // IOA 1301: 708.0, QDS 0
    `),
  );
  assert.deepEqual([apdu.format === 'i' && apdu.sendSeq, apdu.format === 'i' && apdu.recvSeq], [77, 20]);
  assert.deepEqual([asdu.typeName, asdu.causeName, asdu.commonAddress], ['M_ME_NC_1', 'periodic', 3]);
  assert.deepEqual(asdu.objects, [
    { ioa: 1300, value: 30 },
    { ioa: 1301, value: 708 },
  ]);
});

test('a sequence of objects (SQ = 1) takes consecutive addresses (iec104-testdissect.pcap frame 110)', () => {
  const { asdu } = asduOf(
    hex(`
      68 10 0600 0200
      03        // M_DP_NA_1
      83        // VSQ: SQ 1, three elements
      14 00     // COT 20 interrogated by station, OA 0
      0d91      // CA 37133
      2a4e00    // IOA 20010 for the first element
      80 80 80  // DIQ: invalid, DPI 0
    `),
  );
  assert.deepEqual([asdu.sq, asdu.count, asdu.causeName], [true, 3, 'interrogated_station']);
  assert.deepEqual(
    asdu.objects.map((o) => [o.ioa, o.value]),
    [
      [20010, 0],
      [20011, 0],
      [20012, 0],
    ],
  );
});

test('commands: select bit, values and time tags (iec104-090813-diverse.pcap frames 25, 51, 9)', () => {
  const sc = asduOf(hex('680e 2c00 a200  2d 01 0600 0300  941100 81 // C_SC_NA_1 IOA 4500, select ON')).asdu;
  assert.deepEqual(
    [sc.typeName, sc.access, sc.objects, sc.select],
    ['C_SC_NA_1', 'control', [{ ioa: 4500, value: 1 }], true],
  );
  const se = asduOf(hex('6812 3400 b000  32 01 0600 0300  9c1300 00004041 80 // C_SE_NC_1 12.0, QOS select')).asdu;
  assert.deepEqual([se.objects, se.select], [[{ ioa: 5020, value: 12 }], true]);
  const timed = asduOf(hex('6815 2800 9c00  3a 01 0600 0300  951100 81 080017130d086d // C_SC_TA_1 + CP56Time2a')).asdu;
  assert.deepEqual([timed.typeName, timed.objects, timed.select], ['C_SC_TA_1', [{ ioa: 4501, value: 1 }], true]);
  const exec = asduOf(hex('680e 2e00 a400  2d 01 0600 0300  941100 01')).asdu;
  assert.equal(exec.select, false);
  const sb = asduOf(hex('6810 0c00 4e00  31 01 0600 0100  c80000 1400 00 // C_SE_NB_1 scaled 20')).asdu;
  assert.deepEqual([sb.objects, sb.select], [[{ ioa: 200, value: 20 }], false]);
});

test('negative confirmations and the test bit (iec104-testdissect.pcap 118, 134; lab-mixed 450)', () => {
  const neg = asduOf(hex('680e 0a00 0400  2e 01 47 01 0d91  983a00 82')).asdu;
  assert.deepEqual([neg.typeName, neg.cause, neg.negative, neg.test, neg.originator], ['C_DC_NA_1', 7, true, false, 1]);
  assert.deepEqual(neg.objects, [{ ioa: 15000, value: 2 }]);
  const test = asduOf(hex('680e 1400 0a00  2d 01 c7 02 0d91  ce5600 81')).asdu;
  assert.deepEqual([test.cause, test.negative, test.test, test.originator], [7, true, true, 2]);
  const unknownIoa = asduOf(hex('680e 4800 0800  2d 01 6f 00 0100  320000 01')).asdu;
  assert.deepEqual([unknownIoa.cause, unknownIoa.causeName, unknownIoa.negative], [47, 'unknown_ioa', true]);
});

test('values of the common monitoring types', () => {
  const v = (h: string): readonly number[] => asduOf(hex(h)).asdu.values;
  assert.deepEqual(v('680f 2200 0600  15 01 0300 0100  320000 3800 // M_ME_ND_1 normalized'), [56 / 32768]);
  assert.deepEqual(v('6810 2200 0600  0b 01 0300 0100  320000 feff 00 // M_ME_NB_1 scaled -2'), [-2]);
  assert.deepEqual(v('680f 2200 0600  05 01 0300 0100  320000 7f 00 // M_ST_NA_1 step -1'), [-1]);
  assert.deepEqual(v('6812 2200 0600  0f 01 0300 0100  320000 feffffff 01 // M_IT_NA_1 counter -2'), [-2]);
  assert.deepEqual(v('6812 2200 0600  07 01 0300 0100  320000 01000080 00 // M_BO_NA_1 bitstring'), [0x80000001]);
  assert.deepEqual(v('680e 0000 0000  46 01 0400 0a00  000000 02 // M_EI_NA_1 COI 2'), [2]);
});

test('ASDU oddities are anomalies on a decoded APDU', () => {
  const long = asduOf(hex('680f 0000 0000  01 01 0300 0100  010000 01 ff // one octet too many'));
  assert.deepEqual(long.anomalies, ['iec104.asdu_length']);
  const short = asduOf(hex('6810 0000 0000  01 03 0300 0100  010000 01 020000 // second object cut'));
  assert.deepEqual(short.anomalies, ['iec104.asdu_length']);
  assert.deepEqual(
    short.asdu.objects.map((o) => o.ioa),
    [1],
  );
  const unknown = asduOf(hex('680e 0000 0000  18 01 0300 0100  010000 01 // type 24 is not defined'));
  assert.deepEqual(unknown.anomalies, ['iec104.unknown_type']);
  assert.equal(unknown.asdu.typeName, 'type_24');
  const none = asduOf(hex('680a 0000 0000  01 00 0300 0100'));
  assert.deepEqual(none.anomalies, ['iec104.no_objects']);
  const u = okApdu(decodeIec104Apdu(hex('680417000000')));
  assert.deepEqual(u.anomalies, ['iec104.bad_u_function']);
  assert.equal(u.apdu.format === 'u' && u.apdu.utype, 5);
  const s = okApdu(decodeIec104Apdu(hex('680401010200')));
  assert.deepEqual(s.anomalies, ['iec104.bad_apci_fields']);
});

test('APCI errors: start octet, length, control field, incomplete', () => {
  assert.deepEqual(decodeIec104Apdu(hex('6904 0700 0000')), { kind: 'malformed', code: 'iec104.bad_apci', offset: 0 });
  assert.deepEqual(decodeIec104Apdu(hex('6803 0700 00')), { kind: 'malformed', code: 'iec104.bad_apci', offset: 0 });
  assert.deepEqual(decodeIec104Apdu(hex('68fe 0000 0000')), { kind: 'malformed', code: 'iec104.bad_apci', offset: 0 });
  assert.deepEqual(decodeIec104Apdu(hex('6805 0700 0000 00')), {
    kind: 'malformed',
    code: 'iec104.bad_apci',
    offset: 0,
  });
  assert.deepEqual(decodeIec104Apdu(hex('6806 0000 0000 1818')), {
    kind: 'malformed',
    code: 'iec104.truncated',
    offset: 2,
  });
  assert.deepEqual(decodeIec104Apdu(hex('68')), { kind: 'incomplete', needed: 3 });
  assert.deepEqual(decodeIec104Apdu(hex('680e 0000 0000 64')), { kind: 'incomplete', needed: 16 });
});

test('frameIec104Apdu decides from the header alone', () => {
  const f = hex('680e02000200640106000a0000000014');
  assert.equal(frameIec104Apdu(f.subarray(0, 0)), 0);
  assert.equal(frameIec104Apdu(f.subarray(0, 2)), 0);
  for (let n = 3; n <= f.length; n++) assert.equal(frameIec104Apdu(f.subarray(0, n)), 16);
  assert.equal(frameIec104Apdu(hex('16 0301')), -1);
});

test('type and cause names', () => {
  assert.deepEqual([typeInfo(45).operation, typeInfo(45).access], ['iec104.c_sc_na_1', 'control']);
  assert.deepEqual([typeInfo(103).name, typeInfo(103).access], ['C_CS_NA_1', 'write']);
  assert.deepEqual([typeInfo(105).name, typeInfo(105).access], ['C_RP_NA_1', 'control']);
  assert.deepEqual([typeInfo(122).name, typeInfo(122).access], ['F_SC_NA_1', 'file']);
  assert.deepEqual([typeInfo(13).operation, typeInfo(13).access], ['iec104.m_me_nc_1', 'read']);
  assert.equal(cotName(25), 'interrogated_group_5');
  assert.equal(cotName(40), 'requested_counter_group_3');
  assert.equal(cotName(63), 'cause_63');
});

test('property: the decoder is total on random bytes and never over-consumes', () => {
  const apdu = fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 4, maxLength: 253 }))
    .map(([extra, body]) => Uint8Array.from([0x68, body.length, ...body, extra]));
  fc.assert(
    fc.property(fc.oneof(apdu, fc.uint8Array({ maxLength: 300 })), (bytes) => {
      const d = decodeIec104Apdu(bytes);
      if (d.kind === 'ok') {
        assert.ok(d.consumed <= bytes.length);
        if (d.value.format === 'i') {
          assert.ok(d.value.asdu.values.length <= 16);
          assert.ok(d.value.asdu.objects.length <= 127);
        }
      }
    }),
    { numRuns: 5000 },
  );
});
