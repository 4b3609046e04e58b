// decodeProfinetFrame on annotated hex fixtures: real frames from the shared captures where they
// exist (DCP Identify, Set IP, cyclic RT, alarm ERR, PTCP, fragment), else frames built from
// IEC 61158-6-10 (Get, Hello, Set name/control, alarm DATA); malformed cases; totality (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { blockName, frameKind, ipBlockInfoName } from './constants.ts';
import { decodeProfinetFrame, type DcpPdu, type ProfinetFrame } from './decode.ts';
import { hex } from './test-support.ts';

function okFrame(d: Decoded<ProfinetFrame>): { frame: ProfinetFrame; anomalies: readonly string[] } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { frame: d.value, anomalies: d.anomalies };
}

function dcpOf(d: Decoded<ProfinetFrame>): DcpPdu {
  const { frame } = okFrame(d);
  assert.equal(frame.kind, 'dcp');
  if (frame.kind !== 'dcp') throw new Error('unreachable');
  return frame.dcp;
}

test('frame id ranges (IEC 61158-6-10 FrameID table)', () => {
  assert.equal(frameKind(0x0100), 'cyclic');
  assert.equal(frameKind(0x8000), 'cyclic');
  assert.equal(frameKind(0xc000), 'cyclic');
  assert.equal(frameKind(0xfbff), 'cyclic');
  assert.equal(frameKind(0xfc01), 'alarm');
  assert.equal(frameKind(0xfe01), 'alarm');
  for (const id of [0xfefc, 0xfefd, 0xfefe, 0xfeff]) assert.equal(frameKind(id), 'dcp');
  assert.equal(frameKind(0xff00), 'ptcp');
  assert.equal(frameKind(0xff43), 'ptcp');
  assert.equal(frameKind(0x0080), 'ptcp');
  assert.equal(frameKind(0xff80), 'fragment');
  assert.equal(frameKind(0xff44), 'reserved');
  assert.equal(frameKind(0xfe02), 'reserved');
  assert.equal(frameKind(0x0000), 'reserved');
  assert.equal(blockName(1, 2), 'ip_parameter');
  assert.equal(blockName(3, 61), 'dhcp_client_identifier');
  assert.equal(blockName(0x80, 1), 'manufacturer_0x80_0x01');
  assert.equal(blockName(9, 9), 'option_9_9');
  assert.equal(ipBlockInfoName(0x81), 'ip_set,ip_conflict');
});

test('DCP Identify request with the all selector', () => {
  // profinet-dcp-change-ip.pcap frame 1 (unicast to the device, multicast frame id)
  const p = dcpOf(
    decodeProfinetFrame(
      hex(`
        fefe      // frame id: DCP Identify request
        05        // service id: identify
        00        // service type: request
        01000001  // xid
        0001      // response delay factor 1
        0004      // DCP data length 4
        ff ff 0000  // block: all selector, length 0
        00000000000000000000000000000000000000000000000000000000  // Ethernet padding
      `),
    ),
  );
  assert.deepEqual(
    { ...p, blocks: p.blocks.map((b) => [b.name, b.length, b.info, b.value.kind]) },
    {
      serviceId: 5,
      service: 'identify',
      serviceType: 0,
      serviceTypeName: 'request',
      response: false,
      xid: 0x01000001,
      responseDelay: 1,
      dataLength: 4,
      blocks: [['all', 0, -1, 'none']],
    },
  );
});

test('DCP Identify response: type and name of station, device id, role, options, IP', () => {
  // profinet-dcp-change-ip.pcap frame 2; tshark: X208-BORD, 0x002a/0x0a01, IO-Device, 192.168.0.6
  const d = decodeProfinetFrame(
    hex(`
      feff 05 01 01000001 0000 005e  // identify, response success, xid, reserved, length 94
      0205 001c 0000                 // device options, length 28, BlockInfo 0
        0101 0102 0201 0202 0203 0204 0205 033d 0501 0502 0503 0504 ffff
      0201 0005 0000 494e43 00       // type of station "INC" + padding
      0202 000b 0000 583230382d424f5244 00  // name of station "X208-BORD" + padding
      0203 0006 0000 002a 0a01       // device id: vendor 0x002a, device 0x0a01
      0204 0004 0000 01 00           // device role: IO device
      0102 000e 0001 c0a80006 ffffff00 c0a80001  // IP parameter, BlockInfo "IP set"
    `),
  );
  const { anomalies } = okFrame(d);
  assert.deepEqual(anomalies, []);
  const p = dcpOf(d);
  assert.equal(p.response, true);
  assert.equal(p.responseDelay, -1);
  assert.deepEqual(
    p.blocks.map((b) => [b.name, b.info, b.value]),
    [
      [
        'device_options',
        0,
        {
          kind: 'options',
          options: [
            [1, 1],
            [1, 2],
            [2, 1],
            [2, 2],
            [2, 3],
            [2, 4],
            [2, 5],
            [3, 61],
            [5, 1],
            [5, 2],
            [5, 3],
            [5, 4],
            [255, 255],
          ],
        },
      ],
      ['type_of_station', 0, { kind: 'text', text: 'INC' }],
      ['name_of_station', 0, { kind: 'text', text: 'X208-BORD' }],
      ['device_id', 0, { kind: 'device_id', vendorId: 0x2a, deviceId: 0x0a01 }],
      ['device_role', 0, { kind: 'device_role', role: 1, roles: ['io_device'] }],
      ['ip_parameter', 1, { kind: 'ip', ip: '192.168.0.6', netmask: '255.255.255.0', gateway: '192.168.0.1' }],
    ],
  );
});

test('DCP Identify response with a device initiative block', () => {
  // profinet-mixed-dcp-rt-lldp.pcap frame 466 (GE VersaMax IC200PNS001), last block only
  const p = dcpOf(
    decodeProfinetFrame(
      hex(`
        feff 05 01 00000001 0000 0012
        0203 0006 0000 015a 0003     // device id 0x015a/0x0003
        0601 0004 0000 0001          // device initiative: issue Hello at power on
      `),
    ),
  );
  assert.deepEqual(p.blocks[1]!.value, { kind: 'number', value: 1 });
  assert.equal(p.blocks[1]!.name, 'device_initiative');
});

test('DCP Identify request filtered by name of station, padded to an even length', () => {
  // profinet-mixed-dcp-rt-lldp.pcap frame 58
  const p = dcpOf(
    decodeProfinetFrame(
      hex(`
        fefe 05 00 03000004 0001 0018   // length 24 = 4 + 19 + 1 padding byte
        0202 0013 7369656d656e732d783230382d737769746368 00  // "siemens-x208-switch"
        e5bf00000000                    // Ethernet padding
      `),
    ),
  );
  assert.deepEqual(p.blocks[0]!.value, { kind: 'text', text: 'siemens-x208-switch' });
  assert.equal(p.blocks[0]!.info, -1, 'filter blocks carry no BlockInfo');
  assert.equal(p.responseDelay, 1);
});

test('DCP Set request of the IP parameter and its response', () => {
  // profinet-dcp-change-ip.pcap frames 3 and 4
  const req = dcpOf(
    decodeProfinetFrame(
      hex(`
        fefd 04 00 01000001 0000 0012  // set, request, length 18
        0102 000e 0001                 // IP parameter, BlockQualifier 1: save permanently
          c0a8000a ffffff00 c0a80001   // 192.168.0.10/24 via 192.168.0.1
        000000000000000000000000
      `),
    ),
  );
  assert.equal(req.service, 'set');
  assert.deepEqual(
    req.blocks.map((b) => [b.name, b.info, b.value]),
    [['ip_parameter', 1, { kind: 'ip', ip: '192.168.0.10', netmask: '255.255.255.0', gateway: '192.168.0.1' }]],
  );
  const rsp = dcpOf(
    decodeProfinetFrame(
      hex(`
        fefd 04 01 01000001 0000 0008  // set, response success, length 8
        0504 0003 01 02 00 00          // control/response: IP parameter, BlockError 0, padding
      `),
    ),
  );
  assert.deepEqual(rsp.blocks[0]!.value, {
    kind: 'response',
    option: 1,
    suboption: 2,
    error: 0,
    errorName: 'ok',
  });
});

test('DCP Set of name of station, signal, factory reset and reset to factory (IEC 61158-6-10)', () => {
  const name = dcpOf(
    decodeProfinetFrame(hex('fefd 04 00 00000007 0000 000c  0202 0007 0000 706c632d31 00 // "plc-1", padding')),
  );
  assert.deepEqual(
    name.blocks.map((b) => [b.name, b.info, b.value]),
    [['name_of_station', 0, { kind: 'text', text: 'plc-1' }]],
  );
  const signal = dcpOf(decodeProfinetFrame(hex('fefd 04 00 00000008 0000 0008  0503 0004 0000 0100 // flash once')));
  assert.deepEqual(signal.blocks[0]!.value, { kind: 'number', value: 0x0100 });
  const reset = dcpOf(decodeProfinetFrame(hex('fefd 04 00 00000009 0000 0006  0505 0002 0000')));
  assert.equal(reset.blocks[0]!.name, 'factory_reset');
  const toFactory = dcpOf(decodeProfinetFrame(hex('fefd 04 00 0000000a 0000 0006  0506 0002 0004 // mode 2')));
  assert.deepEqual([toFactory.blocks[0]!.name, toFactory.blocks[0]!.info], ['reset_to_factory', 4]);
});

test('DCP Get request (option pairs without lengths) and response with an error block', () => {
  const get = dcpOf(decodeProfinetFrame(hex('fefd 03 00 00000011 0000 0004  0202 0203 // name, device id')));
  assert.deepEqual(
    get.blocks.map((b) => [b.name, b.length]),
    [
      ['name_of_station', -1],
      ['device_id', -1],
    ],
  );
  const d = decodeProfinetFrame(
    hex(`
      fefd 03 01 00000011 0000 0014
      0202 0007 0000 706c632d31 00   // name of station "plc-1", padding
      0504 0003 02 03 01 00          // response for device id: option not supported
    `),
  );
  assert.deepEqual(okFrame(d).anomalies, ['profinet.dcp_block_error']);
  assert.equal(dcpOf(d).blocks[1]!.value.kind, 'response');
});

test('DCP Hello carries the blocks of an Identify response', () => {
  const p = dcpOf(
    decodeProfinetFrame(
      hex(`
        fefc 06 00 00000001 0000 0026   // hello, request, length 38
        0202 0006 0000 696f2d31         // name of station "io-1"
        0203 0006 0000 002a 0313        // Siemens 0x0313 (ET 200SP)
        0102 000e 0000 00000000 00000000 00000000  // IP not set
      `),
    ),
  );
  assert.equal(p.service, 'hello');
  assert.deepEqual(
    p.blocks.map((b) => b.name),
    ['name_of_station', 'device_id', 'ip_parameter'],
  );
});

test('cyclic RT_CLASS_1 frame: APDU status at the end', () => {
  // profinet-mixed-dcp-rt-lldp.pcap frame 495; tshark: cycle 50912, data status 0x35
  const { frame } = okFrame(
    decodeProfinetFrame(
      hex(`
        c000                           // frame id: RT_CLASS_1 unicast
        80000080808000000000800080000000000000000000000000000000000000000000000000000000  // C_SDU, 40 bytes
        c6e0                           // cycle counter 50912
        35                             // data status: valid, primary, run, station ok
        00                             // transfer status
      `),
    ),
  );
  assert.deepEqual(frame, {
    kind: 'cyclic',
    frameId: 0xc000,
    rtClass: 'rt_class_1',
    dataLength: 40,
    cycleCounter: 50912,
    dataStatus: 0x35,
    transferStatus: 0,
  });
});

test('alarm ERR-RTA PDU (PNIOStatus) and DATA-RTA PDU (AlarmNotification)', () => {
  // profinet-mixed-dcp-rt-lldp.pcap frame 584; tshark: RTA error, PNIO, class protocol, AR release
  const { frame } = okFrame(
    decodeProfinetFrame(
      hex(`
        fe01          // alarm low
        8001 8001     // destination and source endpoints
        14            // version 1, type 4: ERR-RTA-PDU
        01            // add flags: window size 1
        ffff fffe     // send / ack sequence numbers
        0004          // var part length
        cf81fd0f      // PNIOStatus
        00000000000000000000000000000000000000000000000000000000
      `),
    ),
  );
  assert.equal(frame.kind, 'alarm');
  if (frame.kind !== 'alarm') return;
  assert.equal(frame.rta.pduTypeName, 'err');
  assert.equal(frame.rta.pnioStatus, 0xcf81fd0f);
  const data = okFrame(
    decodeProfinetFrame(
      hex(`
        fc01 8001 8002 11 01 0001 ffff 001c   // alarm high, DATA-RTA, var part 28 bytes
        0001 0018 0100                        // AlarmNotification high, length 24, version 1.0
        0004                                  // alarm type: plug
        00000000 0003 0001                    // API 0, slot 3, subslot 1
        00000020 00000001 a000                // module/submodule ident, alarm specifier
        0000                                  // user structure identifier
      `),
    ),
  ).frame;
  assert.equal(data.kind, 'alarm');
  if (data.kind !== 'alarm') return;
  assert.deepEqual([data.rta.alarmTypeName, data.rta.slot, data.rta.subslot], ['plug', 3, 1]);
});

test('PTCP delay request and fragment frames', () => {
  // profinet-mixed-dcp-rt-lldp.pcap frame 34; tshark: DelayReq, sequence 28
  const ptcp = okFrame(
    decodeProfinetFrame(
      hex(`
        ff40                           // PTCP DelayReq
        000000000000000000000000       // reserved
        001c                           // sequence id 28
        0000 00000000                  // reserved, delay
        0c06 00099143e068 0000         // DelayParameter TLV, End TLV
      `),
    ),
  ).frame;
  assert.deepEqual(ptcp, { kind: 'ptcp', frameId: 0xff40, name: 'delay_req', sequenceId: 28 });
  // profinet-io-cm.pcapng frame 28; tshark: FragDataLength 7, last fragment, number 5
  const frag = okFrame(decodeProfinetFrame(hex('ff83 07 05 ccfc000000020001'))).frame;
  assert.deepEqual(frag, {
    kind: 'fragment',
    frameId: 0xff83,
    fragDataLength: 7,
    moreFollows: false,
    fragmentNumber: 5,
  });
});

test('malformed frames and anomalies', () => {
  assert.deepEqual(decodeProfinetFrame(hex('fe')), { kind: 'malformed', code: 'profinet.truncated', offset: 0 });
  assert.deepEqual(decodeProfinetFrame(hex('c000 0102')), { kind: 'malformed', code: 'profinet.truncated', offset: 2 });
  // DCP header cut short
  assert.equal((decodeProfinetFrame(hex('fefe 05 00 0100')) as { code: string }).code, 'profinet.truncated');
  // DCPDataLength beyond the frame
  assert.equal(
    (decodeProfinetFrame(hex('fefe 05 00 00000001 0001 0040 ffff 0000')) as { code: string }).code,
    'profinet.truncated',
  );
  // block length beyond DCPDataLength
  assert.equal(
    (decodeProfinetFrame(hex('fefe 05 00 00000001 0001 0006 0202 0010 6162')) as { code: string }).code,
    'profinet.bad_block_length',
  );
  // unknown service, wrong frame id for the service, reserved field set
  assert.deepEqual(okFrame(decodeProfinetFrame(hex('fefd 09 00 00000001 0000 0000'))).anomalies, [
    'profinet.dcp_unknown_service',
    'profinet.dcp_frame_id_mismatch',
  ]);
  assert.deepEqual(okFrame(decodeProfinetFrame(hex('feff 05 00 00000001 0001 0000'))).anomalies, [
    'profinet.dcp_frame_id_mismatch',
    'profinet.dcp_reserved_not_zero',
  ]);
  // a short value inside a block
  assert.deepEqual(okFrame(decodeProfinetFrame(hex('feff 05 01 00000001 0000 0006 0203 0002 0000'))).anomalies, [
    'profinet.dcp_bad_block_value',
  ]);
  // zero bytes after the last block, inside DCPDataLength: padding, not a block
  assert.equal(dcpOf(decodeProfinetFrame(hex('fefe 05 00 00000001 0001 0006 ffff 0000 0000'))).blocks.length, 1);
  // reserved frame id: decoded, flagged
  const reserved = okFrame(decodeProfinetFrame(hex('ff50 0000')));
  assert.deepEqual([reserved.frame.kind, reserved.anomalies], ['reserved', ['profinet.reserved_frame_id']]);
  // more blocks than the bound
  const many = `fefd 03 00 00000001 0000 ${(2 * 70).toString(16).padStart(4, '0')} ${'0202'.repeat(70)}`;
  const d = decodeProfinetFrame(hex(many));
  assert.deepEqual(okFrame(d).anomalies, ['profinet.dcp_too_many_blocks']);
  assert.equal(dcpOf(d).blocks.length, 64);
  // RTA var part longer than the frame
  assert.equal(
    (decodeProfinetFrame(hex('fe01 8001 8001 11 01 0001 0000 0040 00')) as { code: string }).code,
    'profinet.truncated',
  );
});

test('text values are bounded and views do not copy', () => {
  const long = 'a'.repeat(300);
  const bytes = hex(
    `feff 05 01 00000001 0000 ${(4 + 2 + 300).toString(16).padStart(4, '0')} 0202 ${(302).toString(16).padStart(4, '0')} 0000 ${Buffer.from(long).toString('hex')}`,
  );
  const d = decodeProfinetFrame(bytes);
  assert.deepEqual(okFrame(d).anomalies, ['profinet.dcp_name_too_long']);
  const v = dcpOf(d).blocks[0]!.value;
  assert.equal(v.kind === 'text' ? v.text.length : -1, 240);
  const frame = hex('feff 05 01 00000001 0000 0008 0280 0004 0000 abcd // device suboption 0x80: raw');
  const raw = dcpOf(decodeProfinetFrame(frame)).blocks[0]!.value;
  assert.equal(raw.kind, 'raw');
  if (raw.kind === 'raw') assert.equal(raw.data.buffer, frame.buffer, 'a view, not a copy');
});

test('property: the decoder is total and never reads past the frame', () => {
  const ids = [0xfefc, 0xfefd, 0xfefe, 0xfeff, 0xfc01, 0xfe01, 0xc000, 0xff40, 0xff80, 0xff50];
  fc.assert(
    fc.property(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 300 }), (id, body) => {
      const bytes = new Uint8Array(2 + body.length);
      bytes[0] = id >> 8;
      bytes[1] = id & 255;
      bytes.set(body, 2);
      const d = decodeProfinetFrame(bytes);
      assert.ok(d.kind === 'ok' || d.kind === 'malformed');
      if (d.kind === 'ok') assert.ok(d.consumed <= bytes.length);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const d = decodeProfinetFrame(bytes);
      assert.ok(d.kind === 'ok' || d.kind === 'malformed');
    }),
    { numRuns: 2000 },
  );
});

test('property: DCP blocks with valid lengths always decode', () => {
  const block = fc
    .tuple(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 8 }),
      fc.uint8Array({ minLength: 2, maxLength: 30 }),
    )
    .map(([o, s, data]) => {
      const b = [o, s, data.length >> 8, data.length & 255, ...data];
      if (data.length % 2 === 1) b.push(0);
      return b;
    });
  fc.assert(
    fc.property(fc.array(block, { maxLength: 10 }), (blocks) => {
      const body = blocks.flat();
      const bytes = Uint8Array.from([0xfe, 0xff, 5, 1, 0, 0, 0, 1, 0, 0, body.length >> 8, body.length & 255, ...body]);
      const d = decodeProfinetFrame(bytes);
      assert.equal(d.kind, 'ok', JSON.stringify(d));
      if (d.kind === 'ok' && d.value.kind === 'dcp') assert.equal(d.value.dcp.blocks.length, blocks.length);
    }),
    { numRuns: 1000 },
  );
});
