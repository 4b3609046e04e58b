// MMS associations through the port-102 analyzer: the flow renamed `mms`, initiate paired across
// CN/AC, one operation per confirmed request (either side may request), unconfirmed reports, errors,
// rejects, IEC 61850 control writes, Identify identity facts, and unanswered requests at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsoTsapAnalyzer } from '../iso/index.ts';
import { RecordingContext, hex, tpktDt } from '../iso/test-support.ts';

/** mms-get-name-list.pcap frame 8: CN with AARQ and initiate-Request. */
const CN =
  '0db20506130100160102140200023302000134020001c19c318199a003800101a28191810400000001820400000001a423300f0201010604520100013004060251013010020103060528ca22020130040602510188020600615a3058020101a053605180020780a107060528ca220203a20606042bce0f02a303020117be35283306025101020103a02aa82880027530810203e8820203e8830105a417800101810305fb00820d03ffffffffffffffffffffff00';
/** mms-identify-getnamelist.pcap frame 14: AC with AARE and initiate-Response. */
const AC =
  '0e95050613010016010214020002c187318184a003800101a27d80020780830400000002a512300780010081025101300780010081025101615d305b020101a056615480020780a107060528ca220101a203020100a305a103020100a40406022902a503020102be2e282c020103a027a92580027d00810114820114830104a416800101810305fb00820c036e1d000000000064000198';

function len(n: number): number[] {
  return n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 255];
}

/** GT + DT + P-DATA (context 3) around an MMS PDU given in hex. */
function dt(mms: string): Uint8Array {
  const m = [...hex(mms)];
  const pdv = [0x02, 0x01, 0x03, 0xa0, ...len(m.length), ...m];
  const list = [0x30, ...len(pdv.length), ...pdv];
  return tpktDt(Uint8Array.from([0x01, 0x00, 0x01, 0x00, 0x61, ...len(list.length), ...list]));
}

function association(): { ctx: RecordingContext; a: IsoTsapAnalyzer } {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  a.data(0, tpktDt(hex(CN)), 1);
  a.data(1, tpktDt(hex(AC)), 2);
  return { ctx, a };
}

test('CN/AC: the flow is renamed mms, the initiate is one operation, answered, and confirms the flow', () => {
  const { ctx } = association();
  assert.equal(ctx.protocol, 'mms');
  assert.deepEqual(ctx.kinds(), ['rename', 'confirm', 'op']);
  assert.deepEqual(ctx.ops()[0], {
    name: 'mms.initiate',
    protocol: 'mms',
    code: 8,
    access: 'other',
    tsMicros: 1,
    responded: true,
  });
});

test('confirmed services: getNameList, read, write, file open; pairing by invokeID in any order', () => {
  const { ctx, a } = association();
  a.data(0, dt('a00e 020101 a109 a003 800109 a102 8000 // getNameList of domains'), 3);
  a.data(0, dt('a016 020102 a411 a10f a00d 300b a009 a107 1a024c44 1a014d // read LD/M'), 4);
  a.data(0, dt('a014 020103 a50f a008 3006 a004 80026d75 a003 850105 // write mu := 5'), 5);
  a.data(0, dt('a00d 020104 bf4807 a005 1903 612e74 // fileOpen "a.t"'), 6);
  a.data(1, dt('a107 020103 a502 8100 // write: success'), 7);
  a.data(1, dt('a110 020101 a10b a006 1a044c443031 810100 // one domain'), 8);
  a.data(1, dt('a10a 020102 a405 a103 8501 07 // read: 7'), 9);
  a.data(1, dt('a10c 020104 bf4806 800101 8101 00'), 10);
  assert.deepEqual(
    ctx
      .ops()
      .slice(1)
      .map((o) => [o.name, o.code, o.access, o.addressSpace, o.quantity, o.values, o.responded]),
    [
      ['mms.write', 5, 'write', 'named_variable', 1, [5], true],
      ['mms.get_name_list', 1, 'discovery', 'domain', undefined, undefined, true],
      ['mms.read', 4, 'read', 'named_variable', 1, undefined, true],
      ['mms.file_open', 72, 'file', undefined, undefined, undefined, true],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
  assert.deepEqual(ctx.pdus(), [
    [0, 1],
    [0, 4],
    [0, 5],
    [0, 72],
    [1, 0x105],
    [1, 0x101],
    [1, 0x104],
    [1, 0x148],
  ]);
});

test('a write of an IEC 61850 control object is mms.control (control); all variables failing is the exception', () => {
  const { ctx, a } = association();
  const item = [...new TextEncoder().encode('CSWI1$CO$Pos$Oper')].map((b) => b.toString(16).padStart(2, '0')).join('');
  a.data(
    0,
    dt(`a02b 020105 a526 a01a 3018 a016 a114 1a034c4430 1a0d${item.slice(0, 26)} a008 a206 830101 850107 // LD0 ...`),
    3,
  );
  a.data(1, dt('a108 020105 a503 800103 // failure: object access denied (3)'), 4);
  const op = ctx.ops()[1]!;
  assert.deepEqual([op.name, op.code, op.access, op.values, op.exception], ['mms.control', 5, 'control', [1, 7], 3]);
});

test('Identify asked by the server: the identity belongs to the client side (mms-identify-getnamelist frames 17, 29)', () => {
  const { ctx, a } = association();
  a.data(1, dt('a006 0202114f 8200'), 3);
  a.data(
    0,
    dt('a130 0202114f a22a 8015 41524556412054264420436f72706f726174696f6e 810b 652d7465727261636f6d6d 8204 322e3331'),
    4,
  );
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 0,
      protocol: 'mms',
      vendor: 'AREVA T&D Corporation',
      model: 'e-terracomm',
      firmware: '2.31',
    },
  ]);
  assert.deepEqual(
    ctx
      .ops()
      .slice(1)
      .map((o) => [o.name, o.access, o.responded]),
    [['mms.identify', 'discovery', true]],
  );
});

test('unconfirmed InformationReport: one read operation each, with the number of values', () => {
  const { ctx, a } = association();
  a.data(1, dt('a316 a014 a106 8004 72707431 a00a 8a02 6f6b 8501 01 8301 00 // report: 3 values'), 3);
  assert.deepEqual(ctx.ops()[1], {
    name: 'mms.information_report',
    protocol: 'mms',
    code: 0,
    access: 'read',
    tsMicros: 3,
    responded: false,
    quantity: 3,
    addressSpace: 'named_variable_list',
  });
});

test('errors, rejects, conclude; unmatched responses and requests left at the end', () => {
  const { ctx, a } = association();
  a.data(0, dt('a00c 020106 a607 a005 a003 800100 // getVariableAccessAttributes'), 3);
  a.data(1, dt('a20a 800106 a205 a003 870102 // error: access class 7, code 2'), 4);
  a.data(0, dt('a006 020107 bf4700 // getCapabilityList'), 5);
  a.data(1, dt('a406 800107 810101 // reject'), 6);
  a.data(1, dt('a105 020163 a200 // a response to nothing'), 7);
  a.data(0, dt('a00a 020108 a405 a103 a101 00 // read left unanswered'), 8);
  a.data(0, dt('8b00'), 9);
  a.data(1, dt('8c00'), 10);
  a.end();
  assert.deepEqual(
    ctx
      .ops()
      .slice(1)
      .map((o) => [o.name, o.exception, o.responded]),
    [
      ['mms.get_variable_access_attributes', 0x0702, true],
      ['mms.get_capability_list', 0x10101, true],
      ['mms.conclude', undefined, true],
      ['mms.read', undefined, false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['mms.reject', 'mms.unmatched_response', 'mms.unanswered_request']);
});
