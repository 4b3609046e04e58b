// decodeModbusAdu on annotated hex fixtures, one per function family (real bytes from the shared
// captures where they exist, else the examples of Modbus Application Protocol v1.1b3 §6), plus
// totality under random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { hex as toHex } from '../../core/text.ts';
import {
  bitValues,
  decodeModbusAdu,
  frameModbusAdu,
  registerValues,
  type ModbusAdu,
  type ModbusPdu,
} from './decode.ts';
import { functionInfo } from './constants.ts';
import { hex } from './test-support.ts';

function okAdu(d: Decoded<ModbusAdu>): { adu: ModbusAdu; anomalies: readonly string[]; consumed: number } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { adu: d.value, anomalies: d.anomalies, consumed: d.consumed };
}

function pduOf<K extends ModbusPdu['kind']>(adu: ModbusAdu, kind: K): Extract<ModbusPdu, { kind: K }> {
  assert.equal(adu.pdu.kind, kind);
  return adu.pdu as Extract<ModbusPdu, { kind: K }>;
}

test('MBAP header and read holding registers request (FC 3)', () => {
  // icsnpp-modbus-example.pcap frame 24; tshark: trans 6, len 6, unit 5, ref 1, word count 8
  const bytes = hex(`
    0006  // transaction id 6
    0000  // protocol id 0
    0006  // length: unit id + 5 PDU bytes
    05    // unit id 5
    03    // function: read holding registers
    0001  // starting address 1
    0008  // quantity 8
  `);
  const { adu, anomalies, consumed } = okAdu(decodeModbusAdu(bytes, 0));
  assert.equal(consumed, 12);
  assert.deepEqual(anomalies, []);
  assert.equal(adu.transactionId, 6);
  assert.equal(adu.protocolId, 0);
  assert.equal(adu.length, 6);
  assert.equal(adu.unit, 5);
  assert.equal(adu.functionCode, 3);
  assert.equal(adu.operation, 'read_holding_registers');
  assert.equal(adu.access, 'read');
  assert.equal(adu.response, false);
  assert.deepEqual(adu.pdu, { kind: 'read_request', address: 1, quantity: 8 });
});

test('read holding registers response (FC 3)', () => {
  // icsnpp frame 26; tshark: byte count 16, registers 170 170 187 204 61316 58347 40843 58561
  const bytes = hex(`
    0006 0000 0013 05  // MBAP: trans 6, length 19, unit 5
    03                 // function
    10                 // byte count 16
    00aa 00aa 00bb 00cc ef84 e3eb 9f8b e4c1  // 8 registers
  `);
  const { adu } = okAdu(decodeModbusAdu(bytes, 1));
  const pdu = pduOf(adu, 'read_response');
  assert.equal(adu.response, true);
  assert.equal(pdu.byteCount, 16);
  assert.deepEqual(registerValues(pdu.data, 8, 16), [170, 170, 187, 204, 61316, 58347, 40843, 58561]);
  assert.equal(pdu.data.buffer, bytes.buffer, 'values are a view, not a copy');
});

test('read coils / discrete inputs / input registers requests and responses (FC 1, 2, 4)', () => {
  // icsnpp frames 4/6 (FC 1), 12/14 (FC 2), 32/34 (FC 4)
  const req1 = okAdu(decodeModbusAdu(hex('0001 0000 0006 04 01 0001 0001 // coil 1, quantity 1'), 0)).adu;
  assert.deepEqual(req1.pdu, { kind: 'read_request', address: 1, quantity: 1 });
  assert.equal(req1.operation, 'read_coils');
  const rsp1 = pduOf(
    okAdu(decodeModbusAdu(hex('0001 0000 0004 04 01 01 01 // 1 byte: coil on'), 1)).adu,
    'read_response',
  );
  assert.deepEqual([rsp1.byteCount, ...bitValues(rsp1.data, 1, 16)], [1, 1]);
  const req2 = okAdu(decodeModbusAdu(hex('0003 0000 0006 04 02 0001 0001'), 0)).adu;
  assert.equal(req2.operation, 'read_discrete_inputs');
  const rsp4 = okAdu(
    decodeModbusAdu(
      hex(`
        0008 0000 0013 05 04  // MBAP, function 4
        10                    // byte count 16
        8e2b 1f7b 9b4b 8251 1bfa db8f 026b ae97
      `),
      1,
    ),
  ).adu;
  assert.equal(rsp4.operation, 'read_input_registers');
  assert.deepEqual(registerValues(pduOf(rsp4, 'read_response').data, 8, 2), [0x8e2b, 0x1f7b]);
});

test('quantity outside the specification is an anomaly on a decoded request', () => {
  const { adu, anomalies } = okAdu(decodeModbusAdu(hex('0001 0000 0006 01 03 0000 00c8 // 200 registers > 125'), 0));
  assert.deepEqual(adu.pdu, { kind: 'read_request', address: 0, quantity: 200 });
  assert.deepEqual(anomalies, ['modbus.quantity_out_of_range']);
  assert.deepEqual(okAdu(decodeModbusAdu(hex('0001 0000 0006 01 01 0000 0000 // zero coils'), 0)).anomalies, [
    'modbus.quantity_out_of_range',
  ]);
  assert.deepEqual(
    okAdu(decodeModbusAdu(hex('0001 0000 0006 01 01 0000 07d0 // 2000 coils: the maximum'), 0)).anomalies,
    [],
  );
});

test('write single coil and register, request and echo (FC 5, 6)', () => {
  // icsnpp frames 36/38 and 40/42
  const coil = hex(`
    0009 0000 0006 06  // MBAP: trans 9, unit 6
    05                 // write single coil
    0001               // output address 1
    ff00               // ON
  `);
  for (const dir of [0, 1] as const) {
    const { adu, anomalies } = okAdu(decodeModbusAdu(coil, dir));
    assert.deepEqual(adu.pdu, { kind: 'write_single', address: 1, value: 0xff00 });
    assert.equal(adu.access, 'write');
    assert.deepEqual(anomalies, []);
  }
  const reg = okAdu(decodeModbusAdu(hex('000a 0000 0006 07 06 0001 abcd // register 1 := 0xabcd'), 0)).adu;
  assert.deepEqual(reg.pdu, { kind: 'write_single', address: 1, value: 0xabcd });
  assert.equal(reg.operation, 'write_single_register');
  assert.deepEqual(okAdu(decodeModbusAdu(hex('0001 0000 0006 01 05 0001 1234 // not 0000/ff00'), 0)).anomalies, [
    'modbus.bad_coil_value',
  ]);
});

test('write multiple coils and registers, request and response (FC 15, 16)', () => {
  // icsnpp frames 52/54; tshark: ref 1, bit count 4, byte count 1, data 09
  const coils = okAdu(
    decodeModbusAdu(
      hex(`
        000d 0000 0008 07  // MBAP: trans 13, length 8, unit 7
        0f                 // write multiple coils
        0001               // starting address 1
        0004               // quantity 4
        01                 // byte count 1
        09                 // coils 1..4 = 1,0,0,1 (LSB first)
      `),
      0,
    ),
  );
  const c = pduOf(coils.adu, 'write_multiple');
  assert.deepEqual([c.address, c.quantity, c.byteCount], [1, 4, 1]);
  assert.deepEqual(bitValues(c.data, c.quantity, 16), [1, 0, 0, 1]);
  assert.deepEqual(coils.anomalies, []);
  assert.deepEqual(okAdu(decodeModbusAdu(hex('000d 0000 0006 07 0f 0001 0004'), 1)).adu.pdu, {
    kind: 'write_multiple_response',
    address: 1,
    quantity: 4,
  });
  // icsnpp frames 56/58
  const regs = pduOf(
    okAdu(
      decodeModbusAdu(
        hex(`
          000e 0000 000f 07  // MBAP: trans 14, length 15, unit 7
          10                 // write multiple registers
          0001 0004          // address 1, quantity 4
          08                 // byte count 8
          00aa 00bb 00cc 00dd
        `),
        0,
      ),
    ).adu,
    'write_multiple',
  );
  assert.deepEqual(registerValues(regs.data, regs.quantity, 16), [0xaa, 0xbb, 0xcc, 0xdd]);
  const bad = okAdu(decodeModbusAdu(hex('0001 0000 0009 01 10 0000 0002 02 0001 // byte count 2 for 2 registers'), 0));
  assert.deepEqual(bad.anomalies, ['modbus.byte_count_mismatch']);
});

test('exception responses keep the function code and name the exception (§7)', () => {
  // icsnpp frame 100; tshark: function 3, exception code 2 (Illegal data address)
  const { adu } = okAdu(
    decodeModbusAdu(
      hex(`
        0001 0000 0003 00  // MBAP: trans 1, length 3, unit 0
        83                 // 0x80 | read holding registers
        02                 // illegal data address
      `),
      1,
    ),
  );
  assert.equal(adu.functionCode, 3);
  assert.equal(adu.operation, 'read_holding_registers');
  assert.deepEqual(adu.pdu, { kind: 'exception', exceptionCode: 2, exceptionName: 'illegal_data_address' });
  // modbus-fc43-read-device-id-eit.pcap frame 4; tshark: function 43, exception 4 (Slave device failure)
  const eit = okAdu(decodeModbusAdu(hex('0000 0000 0003 ff ab 04'), 1)).adu;
  assert.equal(eit.functionCode, 43);
  assert.deepEqual(eit.pdu, { kind: 'exception', exceptionCode: 4, exceptionName: 'server_device_failure' });
  assert.deepEqual(okAdu(decodeModbusAdu(hex('0001 0000 0003 00 83 09'), 1)).anomalies, [
    'modbus.unknown_exception_code',
  ]);
});

test('read exception status, comm event counter and log (FC 7, 11, 12)', () => {
  // icsnpp frames 44/46
  assert.deepEqual(okAdu(decodeModbusAdu(hex('000b 0000 0002 02 07 // no data'), 0)).adu.pdu, { kind: 'empty' });
  assert.deepEqual(okAdu(decodeModbusAdu(hex('000b 0000 0003 02 07 00 // output data 0'), 1)).adu.pdu, {
    kind: 'exception_status',
    status: 0,
  });
  // §6.9 example: status 0xFFFF (busy), event count 0x0108
  const counter = okAdu(decodeModbusAdu(hex('0001 0000 0006 01 0b ffff 0108'), 1)).adu;
  assert.equal(counter.access, 'diagnostic');
  assert.deepEqual(counter.pdu, { kind: 'comm_event_counter', status: 0xffff, eventCount: 0x108 });
  // §6.10 example
  const log = pduOf(
    okAdu(
      decodeModbusAdu(
        hex(`
          0001 0000 000b 01 0c  // MBAP, get comm event log
          08                    // byte count 8
          0000                  // status
          0108                  // event count 264
          0121                  // message count 289
          20 00                 // two events, newest first
        `),
        1,
      ),
    ).adu,
    'comm_event_log',
  );
  assert.deepEqual(
    [log.byteCount, log.status, log.eventCount, log.messageCount, toHex(log.events)],
    [8, 0, 264, 289, '2000'],
  );
});

test('diagnostics names its sub-function (FC 8)', () => {
  // icsnpp frames 48/50: sub-function 2 (return diagnostic register), data 0000
  for (const dir of [0, 1] as const) {
    const { adu } = okAdu(decodeModbusAdu(hex('000c 0000 0006 02 08 0002 0000'), dir));
    const d = pduOf(adu, 'diagnostics');
    assert.equal(d.subFunction, 2);
    assert.equal(d.subFunctionName, 'return_diagnostic_register');
    assert.equal(toHex(d.data), '0000');
    assert.equal(adu.operation, 'diagnostics');
  }
  const listenOnly = pduOf(okAdu(decodeModbusAdu(hex('0001 0000 0006 01 08 0004 0000'), 0)).adu, 'diagnostics');
  assert.equal(listenOnly.subFunctionName, 'force_listen_only_mode');
});

test('report server id: id, run indicator and additional data (FC 17)', () => {
  // icsnpp frame 62: byte count 50, "Zeek Modbus Test-Protocol Parsing is fun!-1.2.3.6", run ON
  const zeek = pduOf(
    okAdu(
      decodeModbusAdu(
        hex(`
          000f 0000 0035 02 11  // MBAP: trans 15, length 53, unit 2; report server id
          32                    // byte count 50
          5a65656b204d6f6462757320546573742d50726f746f636f6c2050617273696e672069732066756e212d312e322e332e36
          ff                    // run indicator ON
        `),
        1,
      ),
    ).adu,
    'server_id',
  );
  assert.equal(new TextDecoder().decode(zeek.serverId), 'Zeek Modbus Test-Protocol Parsing is fun!-1.2.3.6');
  assert.equal(zeek.runIndicator, 0xff);
  // digitalbond-modbus-test-data-part1.pcap frame 41: one-byte id 0x00, ON, "Wingpath Limited"
  const wingpath = pduOf(
    okAdu(decodeModbusAdu(hex('0000 0000 0015 0a 11 12 00 ff 57696e6770617468204c696d69746564'), 1)).adu,
    'server_id',
  );
  assert.deepEqual([toHex(wingpath.serverId), wingpath.runIndicator], ['00', 0xff]);
  assert.equal(new TextDecoder().decode(wingpath.additionalData), 'Wingpath Limited');
});

test('read file record: sub-requests and sub-responses (FC 20)', () => {
  // §6.14 example
  const req = okAdu(
    decodeModbusAdu(
      hex(`
        0001 0000 0011 01 14  // MBAP (length 17), read file record
        0e                    // byte count 14
        06 0004 0001 0002     // ref type 6, file 4, record 1, length 2
        06 0003 0009 0002     // ref type 6, file 3, record 9, length 2
      `),
      0,
    ),
  );
  assert.equal(req.adu.access, 'file');
  assert.deepEqual(pduOf(req.adu, 'file_record_read').subRequests, [
    { referenceType: 6, fileNumber: 4, recordNumber: 1, recordLength: 2 },
    { referenceType: 6, fileNumber: 3, recordNumber: 9, recordLength: 2 },
  ]);
  assert.deepEqual(req.anomalies, []);
  const rsp = pduOf(
    okAdu(
      decodeModbusAdu(
        hex(`
          0001 0000 000f 01 14  // MBAP (length 15), read file record
          0c                    // response data length 12
          05 06 0dfe 0020       // file response length 5, ref type 6, 2 registers
          05 06 33cd 0040
        `),
        1,
      ),
    ).adu,
    'file_record_read_response',
  );
  assert.deepEqual(
    rsp.subResponses.map((s) => [s.length, s.referenceType, toHex(s.data)]),
    [
      [5, 6, '0dfe0020'],
      [5, 6, '33cd0040'],
    ],
  );
  // icsnpp frame 64: byte count 0, below the 0x07 minimum
  const empty = okAdu(decodeModbusAdu(hex('0010 0000 0003 08 14 00'), 0));
  assert.deepEqual(empty.anomalies, ['modbus.byte_count_mismatch']);
});

test('write file record (FC 21)', () => {
  // §6.15 example
  const { adu, anomalies } = okAdu(
    decodeModbusAdu(
      hex(`
        0001 0000 0010 01 15  // MBAP (length 16), write file record
        0d                    // request data length 13
        06 0004 0007 0003     // ref type 6, file 4, record 7, 3 registers
        06af 04be 100d        // record data
      `),
      0,
    ),
  );
  assert.deepEqual(anomalies, []);
  const w = pduOf(adu, 'file_record_write');
  assert.equal(w.subRequests.length, 1);
  assert.deepEqual(
    { ...w.subRequests[0]!, data: toHex(w.subRequests[0]!.data) },
    { referenceType: 6, fileNumber: 4, recordNumber: 7, recordLength: 3, data: '06af04be100d' },
  );
  // A record length running past the byte count is a short read.
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 000c 01 15 09 06 0004 0007 0003 06af'), 0), {
    kind: 'malformed',
    code: 'modbus.truncated',
    offset: 16,
  });
});

test('mask write register and read/write multiple registers (FC 22, 23)', () => {
  // icsnpp frame 72: ref 10, AND 0xdead, OR 0x0000
  assert.deepEqual(okAdu(decodeModbusAdu(hex('0012 0000 0008 04 16 000a dead 0000'), 0)).adu.pdu, {
    kind: 'mask_write',
    address: 10,
    andMask: 0xdead,
    orMask: 0,
  });
  // icsnpp frame 84; tshark: read ref 1, read count 4, write ref 2, write count 3, byte count 6
  const rw = okAdu(
    decodeModbusAdu(
      hex(`
        0015 0000 0011 06 17  // MBAP (length 17, unit 6), read/write multiple registers
        0001 0004             // read address 1, quantity 4
        0002 0003             // write address 2, quantity 3
        06                    // write byte count 6
        00aa 00bb 00cc        // values written
      `),
      0,
    ),
  );
  assert.equal(rw.adu.access, 'write');
  const p = pduOf(rw.adu, 'read_write_request');
  assert.deepEqual([p.readAddress, p.readQuantity, p.writeAddress, p.writeQuantity, p.byteCount], [1, 4, 2, 3, 6]);
  assert.deepEqual(registerValues(p.data, p.writeQuantity, 16), [0xaa, 0xbb, 0xcc]);
  // icsnpp frame 86: byte count 8, 4 registers read
  const r = pduOf(okAdu(decodeModbusAdu(hex('0015 0000 000b 06 17 08 00aa 00aa 00bb 00cc'), 1)).adu, 'read_response');
  assert.equal(r.byteCount, 8);
});

test('read FIFO queue (FC 24)', () => {
  // icsnpp frames 88/90; tshark: pointer 0; byte count 2, FIFO count 0
  assert.deepEqual(okAdu(decodeModbusAdu(hex('0016 0000 0004 0a 18 0000'), 0)).adu.pdu, {
    kind: 'fifo_request',
    address: 0,
  });
  const rsp = okAdu(
    decodeModbusAdu(
      hex(`
        0016 0000 0006 0a 18  // MBAP, read FIFO queue
        0002                  // byte count 2
        0000                  // FIFO count 0
      `),
      1,
    ),
  );
  assert.deepEqual(pduOf(rsp.adu, 'fifo_response').fifoCount, 0);
  assert.deepEqual(rsp.anomalies, []);
  const tooMany = okAdu(decodeModbusAdu(hex('0001 0000 0008 01 18 0004 0020 0001'), 1));
  assert.deepEqual(tooMany.anomalies, ['modbus.quantity_out_of_range', 'modbus.byte_count_mismatch']);
});

test('read device identification request and response (FC 43 / MEI 14)', () => {
  // icsnpp frame 92; tshark: MEI 14, read device id 1 (basic), object id 0 (VendorName)
  const req = okAdu(
    decodeModbusAdu(
      hex(`
        0017 0000 0005 01  // MBAP: trans 23, length 5, unit 1
        2b                 // encapsulated interface transport
        0e                 // MEI type 14: read device identification
        01                 // read device id code: basic
        00                 // object id 0
      `),
      0,
    ),
  ).adu;
  assert.equal(req.operation, 'read_device_identification');
  assert.equal(req.access, 'discovery');
  assert.equal(req.meiType, 14);
  assert.deepEqual(req.pdu, { kind: 'device_id_request', readDeviceIdCode: 1, objectId: 0 });
  // icsnpp frame 94; tshark: conformity 0x83, more follows 0, next 0, 3 objects:
  // VendorName "Zeek Modbus Test", ProductCode "Protocol Parsing is fun!", MajorMinorRevision "1.2.3.6"
  const rsp = okAdu(
    decodeModbusAdu(
      hex(`
        0017 0000 003d 01        // MBAP: trans 23, length 61, unit 1
        2b 0e                    // FC 43, MEI 14
        01                       // read device id code: basic
        83                       // conformity: extended, stream and individual
        00                       // more follows: no
        00                       // next object id
        03                       // number of objects
        00 10 5a65656b204d6f646275732054657374                     // 0 VendorName (16)
        01 18 50726f746f636f6c2050617273696e672069732066756e21     // 1 ProductCode (24)
        02 07 312e322e332e36                                       // 2 MajorMinorRevision (7)
      `),
      1,
    ),
  );
  assert.deepEqual(rsp.anomalies, []);
  assert.deepEqual(rsp.adu.pdu, {
    kind: 'device_id_response',
    readDeviceIdCode: 1,
    conformityLevel: 0x83,
    moreFollows: 0,
    nextObjectId: 0,
    objectCount: 3,
    objects: [
      { id: 0, name: 'vendor_name', value: 'Zeek Modbus Test' },
      { id: 1, name: 'product_code', value: 'Protocol Parsing is fun!' },
      { id: 2, name: 'major_minor_revision', value: '1.2.3.6' },
    ],
  });
});

test('odd device identification responses decode with anomalies (zeek modbus-eit trace)', () => {
  // modbus-fc43-read-device-id-eit.pcap frame 2; tshark: conformity 0x00 (unknown), more follows
  // 0x4d, next object 183, 0 objects; 4 bytes follow the objects.
  const { adu, anomalies } = okAdu(
    decodeModbusAdu(
      hex(`
        0000 0000 000c 00  // MBAP: trans 0, length 12, unit 0
        2b 0e 01           // FC 43, MEI 14, basic
        00                 // conformity level 0: not defined
        4d                 // more follows 0x4d: neither 00 nor ff
        b7                 // next object id 183
        00                 // no objects
        00000000           // trailing
      `),
      1,
    ),
  );
  const p = pduOf(adu, 'device_id_response');
  assert.deepEqual([p.conformityLevel, p.moreFollows, p.nextObjectId, p.objectCount], [0, 0x4d, 183, 0]);
  assert.deepEqual(anomalies, ['modbus.bad_conformity_level', 'modbus.bad_more_follows', 'modbus.trailing_bytes']);
});

test('other MEI types and unknown function codes', () => {
  const canopen = okAdu(decodeModbusAdu(hex('0001 0000 0004 01 2b 0d 0102'), 0));
  assert.equal(canopen.adu.operation, 'can_open_general_reference');
  assert.equal(canopen.adu.access, 'other');
  assert.deepEqual(canopen.anomalies, []);
  const mei99 = okAdu(decodeModbusAdu(hex('0001 0000 0003 01 2b 63'), 0));
  assert.equal(mei99.adu.operation, 'encapsulated_interface_transport');
  assert.deepEqual(mei99.anomalies, ['modbus.unknown_mei_type']);
  const user = okAdu(decodeModbusAdu(hex('0001 0000 0004 01 41 beef // function 65 (user defined)'), 0)).adu;
  assert.equal(user.operation, 'function_65');
  assert.equal(user.access, 'other');
  assert.equal(toHex(pduOf(user, 'raw').data), 'beef');
  assert.equal(functionInfo(65).operation, 'modbus.function_65');
});

test('MBAP errors: protocol id, length, truncation, incomplete, trailing bytes', () => {
  assert.deepEqual(decodeModbusAdu(hex('0001 0001 0006 01 03 0000 0001'), 0), {
    kind: 'malformed',
    code: 'modbus.bad_protocol_id',
    offset: 2,
  });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 0001 01'), 0), {
    kind: 'malformed',
    code: 'modbus.bad_length',
    offset: 4,
  });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 00ff 01'), 0), {
    kind: 'malformed',
    code: 'modbus.bad_length',
    offset: 4,
  });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000'), 0), { kind: 'incomplete', needed: 8 });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 0006 01 03'), 0), { kind: 'incomplete', needed: 12 });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 0004 01 03 0000 // quantity missing'), 0), {
    kind: 'malformed',
    code: 'modbus.truncated',
    offset: 10,
  });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 0002 01 00 // function 0'), 0), {
    kind: 'malformed',
    code: 'modbus.bad_function_code',
    offset: 7,
  });
  assert.deepEqual(decodeModbusAdu(hex('0001 0000 0003 01 83 02 // exception bit in a request'), 0), {
    kind: 'malformed',
    code: 'modbus.bad_function_code',
    offset: 7,
  });
  const extra = okAdu(decodeModbusAdu(hex('0001 0000 0008 01 03 0000 0001 abcd'), 0));
  assert.deepEqual(extra.anomalies, ['modbus.trailing_bytes']);
  // Bytes after the ADU belong to the next one.
  assert.equal(okAdu(decodeModbusAdu(hex('0001 0000 0006 01 03 0000 0001 0002 0000'), 0)).consumed, 12);
});

test('frameModbusAdu decides from the header alone', () => {
  const adu = hex('0001 0000 0006 01 03 0000 0001');
  for (let n = 0; n < 8; n++) assert.equal(frameModbusAdu(adu.subarray(0, n)), 0, `prefix ${n}`);
  assert.equal(frameModbusAdu(adu), 12);
  assert.equal(frameModbusAdu(adu.subarray(0, 8)), 12);
  assert.equal(frameModbusAdu(hex('0001 0001')), -1);
  assert.equal(frameModbusAdu(hex('0001 0000 0100')), -1);
  assert.equal(frameModbusAdu(hex('0001 0000 0002 01 80')), -1);
  assert.equal(frameModbusAdu(new TextEncoder().encode('GET / HTTP/1.1\r\n')), -1);
});

test('property: the decoder is total on random bytes and never over-consumes', () => {
  const mbap = fc
    .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 260 }))
    .map(([tid, unit, pdu]) => {
      // Mostly valid headers, so the PDU decoders are exercised too.
      const len = Math.min(pdu.length + 1, 254);
      return Uint8Array.from([tid >> 8, tid & 255, 0, 0, len >> 8, len & 255, unit, ...pdu.subarray(0, len - 1)]);
    });
  fc.assert(
    fc.property(
      fc.oneof(mbap, fc.uint8Array({ maxLength: 300 })),
      fc.constantFrom(0 as const, 1 as const),
      (bytes, dir) => {
        const d = decodeModbusAdu(bytes, dir);
        if (d.kind === 'ok') {
          assert.ok(d.consumed <= bytes.length && d.consumed >= 8);
          assert.equal(d.consumed, frameModbusAdu(bytes));
        } else if (d.kind === 'malformed') assert.ok(d.offset >= 0 && d.offset <= bytes.length);
        else assert.ok(d.needed > bytes.length);
      },
    ),
    { numRuns: 20_000, interruptAfterTimeLimit: 4000 },
  );
});

test('property: requests of every public function code survive random field values', () => {
  const codes = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43];
  fc.assert(
    fc.property(fc.constantFrom(...codes), fc.uint8Array({ maxLength: 252 }), fc.boolean(), (code, body, response) => {
      const len = body.length + 2;
      const bytes = Uint8Array.from([0, 1, 0, 0, len >> 8, len & 255, 1, code, ...body]);
      const d = decodeModbusAdu(bytes, response ? 1 : 0);
      assert.ok(d.kind === 'ok' || d.kind === 'malformed');
      if (d.kind === 'ok') assert.equal(d.value.functionCode, code);
    }),
    { numRuns: 20_000, interruptAfterTimeLimit: 4000 },
  );
});
