// S7comm and S7comm-plus sessions through the port-102 analyzer: one operation per request with its
// range, values, exception and access class; PI service naming; jobs from the PLC; pushes; pairing
// bounds; identity facts from SZL (also in several data units) and from a CreateObject response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsoTsapAnalyzer } from '../iso/index.ts';
import { RecordingContext, hex, tpktDt } from '../iso/test-support.ts';

function flow(maxPending?: number): {
  ctx: RecordingContext;
  send: (dir: 0 | 1, tsdu: string, ts?: number) => void;
  a: IsoTsapAnalyzer;
} {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx, maxPending);
  let clock = 0;
  return { ctx, a, send: (dir, tsdu, ts) => a.data(dir, tpktDt(hex(tsdu)), ts ?? ++clock) };
}

const ref = (n: number): string => n.toString(16).padStart(4, '0');

/** An S7comm-plus frame: header with the data length, the data part, the trailer (or none). */
const plus = (version: number, data: string, trailer = true): string => {
  const v = version.toString(16).padStart(2, '0');
  return `72 ${v} ${ref(hex(data).length)} ${data} ${trailer ? `72 ${v} 0000` : ''}`;
};

test('read var: one operation with the area, byte range and quantity in bytes', () => {
  const { ctx, send } = flow();
  send(0, '32 01 0000 0100 000e 0000  04 01 12 0a 10 04 0003 0005 84 000050 // 3 WORDs of DB5 from byte 10', 10);
  send(1, '32 03 0000 0100 0002 000a 00 00  04 01  ff 04 0030 000100020003');
  assert.deepEqual(ctx.ops(), [
    {
      name: 's7comm.read_var',
      protocol: 's7comm',
      code: 4,
      access: 'read',
      tsMicros: 10,
      responded: true,
      address: 10,
      quantity: 6,
      addressSpace: 'db5',
    },
  ]);
  assert.deepEqual(ctx.pdus(), [
    [0, 4],
    [1, 4],
  ]);
});

test('read var with several items: the span of the first item’s area; counters by number', () => {
  const { ctx, send } = flow();
  send(
    0,
    `32 01 0000 0001 0026 0000  04 03
     12 0a 10 02 0002 0000 83 000020   // MB4..5
     12 0a 10 02 0004 0000 81 000000   // IB0..3 (another area: not in the range)
     12 0a 10 01 0001 0000 83 000067   // M12.7`,
  );
  send(1, '32 03 0000 0001 0002 000d 00 00  04 03  ff 04 0010 0102  ff 04 0020 01020304  ff 03 0001 01');
  const [op] = ctx.ops();
  assert.deepEqual([op!.addressSpace, op!.address, op!.quantity], ['merker', 4, 9]);
  const c = flow();
  c.send(0, '32 01 0000 0002 000e 0000  04 01 12 0a 10 1c 0004 0000 1c 000007 // counters C7..C10');
  c.send(1, '32 03 0000 0002 0002 000c 00 00  04 01  ff 09 0008 0000000000000000');
  assert.deepEqual(
    [c.ctx.ops()[0]!.addressSpace, c.ctx.ops()[0]!.address, c.ctx.ops()[0]!.quantity],
    ['counters', 7, 4],
  );
});

test('write var: values typed by the item (s7comm-libnodave-bench frame 13); every item failing is the exception', () => {
  const { ctx, send } = flow();
  send(0, '32 01 0000 0002 000e 0008  05 01 12 0a 10 02 0004 0000 83 000000  00 04 0020 77100002');
  send(1, '32 03 0000 0002 0002 0001 00 00  05 01  ff');
  send(0, '32 01 0000 0003 000e 0006  05 01 12 0a 10 05 0001 0001 84 000000  00 04 0010 fffe');
  send(1, '32 03 0000 0003 0002 0001 00 00  05 01  05 // address out of range');
  const ops = ctx.ops();
  assert.deepEqual(
    ops.map((o) => [o.name, o.access, o.addressSpace, o.values, o.exception]),
    [
      ['s7comm.write_var', 'write', 'merker', [0x77, 0x10, 0, 2], undefined],
      ['s7comm.write_var', 'write', 'db1', [-2], 5],
    ],
  );
});

test('an error in the ack header is the exception (class << 8 | code)', () => {
  const { ctx, send } = flow();
  send(0, '32 01 0000 0600 0012 0000  1d 00 0000 00000000 09 5f3041303030303141 // start upload DB 1 ("_0A00001A")');
  send(1, '32 02 0000 0600 0000 0000 d2 41 // ack: error class 0xd2 code 0x41');
  assert.deepEqual(ctx.ops()[0], {
    name: 's7comm.start_upload',
    protocol: 's7comm',
    code: 0x1d,
    access: 'program',
    tsMicros: 1,
    responded: true,
    address: 1,
    quantity: 1,
    addressSpace: 'db',
    exception: 0xd241,
  });
  assert.deepEqual(ctx.pdus(), [[0, 0x1d]], 'an ack without parameters has no function code');
});

test('PI services: P_PROGRAM is plc_start, _DELE block_delete (program), others plc_control; PLC stop', () => {
  const { ctx, send } = flow();
  const pi = (r: number, block: string, service: string): string => {
    const name = [...new TextEncoder().encode(service)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const blockLen = block.replace(/ /g, '').length / 2;
    const plen = 1 + 7 + 2 + blockLen + 1 + service.length;
    return `32 01 0000 ${ref(r)} ${ref(plen)} 0000  28 00000000 0000fd ${ref(blockLen)} ${block} ${service.length.toString(16).padStart(2, '0')} ${name}`;
  };
  send(0, pi(1, '', 'P_PROGRAM'));
  send(0, pi(2, '0100 3041303030303742', '_DELE')); // DB 7, file system B
  send(0, pi(3, '0100 3038303030303150', '_INSE'));
  send(0, '32 01 0000 0004 0010 0000  29 0000000000  09 505f50524f4752414d');
  for (let r = 1; r <= 4; r++) send(1, `32 03 0000 ${ref(r)} 0001 0000 00 00  ${r === 4 ? '29' : '28'}`);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.addressSpace, o.address]),
    [
      ['s7comm.plc_start', 'control', undefined, undefined],
      ['s7comm.block_delete', 'program', 'db', 7],
      ['s7comm.plc_control', 'control', 'ob', 1],
      ['s7comm.plc_stop', 'control', undefined, undefined],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('jobs from the PLC (download block) pair with the programming station’s ack_data', () => {
  const { ctx, send } = flow();
  send(0, '32 01 0000 bd0a 0020 0000  1a 00 0100 00000000 09 5f3038303030303150 0d 31303030333332303030323132');
  send(1, '32 03 0000 bd0a 0001 0000 00 00  1a');
  send(1, '32 01 0000 bb00 0012 0000  1b 00 0000 00000000 09 5f3038303030303150 // PLC asks for OB 1');
  send(0, '32 03 0000 bb00 0002 0004 00 00  1b 00  0000 fb70');
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.addressSpace, o.address, o.responded]),
    [
      ['s7comm.request_download', 'program', 'ob', 1, true],
      ['s7comm.download_block', 'program', 'ob', 1, true],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('userdata: SZL read paired by PDU reference, its identity; pushes are operations of their own', () => {
  const { ctx, send } = flow();
  send(0, '32 07 0000 0100 0008 0008  000112 04 11 44 01 00  ff 09 0004 0011 0000');
  const rec = '0001 36455337203331352d32454831342d3041423020 00c0 0004 0001';
  const fw = '0007 2020202020202020202020202020202020202020 00c0 5603 0206';
  send(1, `32 07 0000 0100 000c 0044 000112 08 12 84 01 00 00 00 0000  ff 09 0040  0011 0000 001c 0002 ${rec} ${fw}`);
  send(1, '32 07 0000 0000 0008 0000  000112 04 11 02 01 00 // cyclic data pushed (type 0, group 2)');
  send(1, '32 07 0000 0000 0008 0000  010010 10 00 00 00 00 // mode transition: STOP');
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.addressSpace, o.address, o.responded]),
    [
      ['s7comm.szl_read', 0x0401, 'diagnostic', 'szl_0x0011', 0, true],
      ['s7comm.cyclic_data', 0x0201, 'read', undefined, undefined, false],
      ['s7comm.mode_transition', 0x0000, 'diagnostic', undefined, undefined, false],
    ],
  );
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 1,
      protocol: 's7comm',
      productCode: '6ES7 315-2EH14-0AB0',
      firmware: 'V3.2.6',
      vendor: 'Siemens',
    },
  ]);
  // Userdata subfunctions are traced + 0x100; tshark shows none for mode transitions.
  assert.deepEqual(ctx.pdus(), [
    [0, 0x101],
    [1, 0x101],
    [1, 0x101],
  ]);
});

test('an SZL list in two data units gives its identity when the last one arrives', () => {
  const { ctx, send } = flow();
  const rec = (i: number, s: string): string =>
    `${ref(i)}${[...new TextEncoder().encode(s.padEnd(32, '\0'))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  const list = hex(`001c 0000 0022 0002 ${rec(1, 'PLANT-1')} ${rec(5, 'S C-X1')}`);
  const part = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  const first = list.subarray(0, 40);
  const rest = list.subarray(40);
  send(0, '32 07 0000 0001 0008 0008  000112 04 11 44 01 00  ff 09 0004 001c 0000');
  send(
    1,
    `32 07 0000 0001 000c ${ref(4 + first.length)} 000112 08 12 84 01 01 06 01 0000  ff 09 ${ref(first.length)} ${part(first)}`,
  );
  assert.deepEqual(ctx.facts(), [], 'more data units follow');
  send(0, '32 07 0000 0002 000c 0004  000112 08 12 44 01 01 06 00 0000  0a 00 0000 // follow-up');
  send(
    1,
    `32 07 0000 0002 000c ${ref(4 + rest.length)} 000112 08 12 84 01 02 06 00 0000  ff 09 ${ref(rest.length)} ${part(rest)}`,
  );
  assert.deepEqual(ctx.facts(), [
    { kind: 'identity', side: 1, protocol: 's7comm', serial: 'S C-X1', extra: { systemName: 'PLANT-1' } },
  ]);
  assert.equal(ctx.ops().length, 2);
});

test('pairing bounds: unmatched responses, replaced and evicted requests, the rest at the end', () => {
  const { ctx, send, a } = flow(2);
  send(1, '32 03 0000 0009 0002 0001 00 00  05 01 ff // nothing asked');
  for (let r = 1; r <= 4; r++)
    send(0, `32 01 0000 ${ref(r)} 000e 0000  04 01 12 0a 10 02 0001 0001 84 ${(r * 8).toString(16).padStart(6, '0')}`);
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [1, false],
      [2, false],
    ],
  );
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => o.address),
    [1, 2, 3, 4],
  );
  assert.deepEqual(ctx.anomalies(), [
    's7comm.unmatched_response',
    's7comm.unanswered_request',
    's7comm.unanswered_request',
    's7comm.unanswered_request',
    's7comm.unanswered_request',
  ]);
});

test('S7comm-plus: a request with no response expected, a pair, a notification, a fragmented frame', () => {
  const { ctx, send } = flow();
  // SetVariable acknowledging notifications (transport flags 0x74: no response expected).
  send(0, plus(2, '31 0000 04f2 0000 0010 70000e4d 74 00000000000000'));
  send(0, plus(2, '31 0000 054c 0000 0011 000003c0 34 00000000000000'));
  send(1, plus(2, '32 0000 054c 0000 0011 34 00 0000'));
  send(1, plus(2, '33 70000e51 0400000000 00'));
  // A frame in two fragments: only the first has the opcode; the second ends with the trailer.
  send(1, plus(2, '33 70000e51 04000000 0000000000000000', false));
  send(1, plus(2, '00000000'));
  assert.equal(ctx.protocol, 's7comm_plus');
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.responded]),
    [
      ['s7comm_plus.set_variable', 0x04f2, 'write', false],
      ['s7comm_plus.get_multi_variables', 0x054c, 'read', true],
      ['s7comm_plus.notification', 0x33, 'read', false],
      ['s7comm_plus.notification', 0x33, 'read', false],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
  assert.equal(ctx.events.filter((e) => e.t === 'confirm').length, 1);
});

test('S7comm-plus: CreateObject response identity; an error return value; TLS records passed over', () => {
  const { ctx, send, a } = flow();
  send(0, plus(1, '31 0000 04ca 0000 0001 00000120 36 00000000000000'));
  const version = [...new TextEncoder().encode('\u0015\u001b1;6ES7 214-1HE30-0XB0 ;V2.2')]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  send(1, plus(1, `32 0000 04ca 0000 0001 36 00 ${version}`));
  send(0, plus(2, '31 0000 0586 0000 0002 000003c0 34 00000000000000'));
  send(1, plus(2, '32 0000 0586 0000 0002 34 c08895b080ef91fff4 00000000000000'));
  send(0, '17 0303 0004 01020304 // TLS application data');
  a.end();
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 1,
      protocol: 's7comm_plus',
      vendor: 'Siemens',
      productCode: '6ES7 214-1HE30-0XB0',
      firmware: 'V2.2',
    },
  ]);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.exception]),
    [
      ['s7comm_plus.create_object', undefined],
      ['s7comm_plus.get_var_substreamed', 0xfff4],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});
