// decodeEnip / decodeCip / decodePath on annotated hex fixtures (real bytes from the shared captures,
// frame numbers given; a few built from CIP Vol 1/2 and 1756-PM020 where no capture has the case),
// malformed inputs, and totality under random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { hex } from './test-support.ts';
import { serviceInfo, classSpace, commandInfo } from './constants.ts';
import {
  decodeCip,
  decodeEnip,
  decodeForwardOpenReply,
  decodeIdentityAttributes,
  decodePath,
  forEachCipService,
  frameEnip,
  type CipMessage,
  type CipRequest,
  type CipResponse,
  type EnipBody,
  type EnipMessage,
} from './decode.ts';
import { decodeIoPacket } from './index.ts';

function okValue<T>(d: Decoded<T>): { value: T; anomalies: readonly string[]; consumed: number } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { value: d.value, anomalies: d.anomalies, consumed: d.consumed };
}

function bodyOf<K extends EnipBody['kind']>(m: EnipMessage, kind: K): Extract<EnipBody, { kind: K }> {
  assert.equal(m.body.kind, kind);
  return m.body as Extract<EnipBody, { kind: K }>;
}

function cipOf(m: EnipMessage): CipMessage {
  const b = bodyOf(m, 'send_data');
  assert.ok(b.cip !== null);
  return b.cip;
}

function request(m: CipMessage): CipRequest {
  assert.equal(m.kind, 'request');
  return m;
}

function response(m: CipMessage): CipResponse {
  assert.equal(m.kind, 'response');
  return m;
}

test('encapsulation header and ListIdentity request (enip-list-identity.pcap frame 6)', () => {
  const bytes = hex(`
    6300              // command: ListIdentity
    0000              // length 0
    00000000          // session handle
    00000000          // status: success
    0000c1debed10000  // sender context
    00000000          // options
  `);
  assert.equal(frameEnip(bytes), 24);
  const { value: m, anomalies, consumed } = okValue(decodeEnip(bytes));
  assert.equal(consumed, 24);
  assert.deepEqual(anomalies, []);
  assert.equal(m.command, 0x63);
  assert.equal(m.length, 0);
  assert.deepEqual([m.contextLo, m.contextHi], [0xdec10000, 0x0000d1be]);
  assert.deepEqual(m.body, { kind: 'empty' });
});

test('ListIdentity reply: identity item with socket address (enip-list-identity.pcap frame 7)', () => {
  const bytes = hex(`
    6300 3300 00000000 00000000 0000c1debed10000 00000000  // header: ListIdentity, 51 bytes
    0100                  // item count 1
    0c00 2d00             // item 0x000C (CIP identity), 45 bytes
    0100                  // encapsulation protocol version 1
    0002 af12 0a0101a4    // sockaddr (big-endian): AF_INET, port 44818, 10.1.1.164
    0000000000000000      // sin_zero
    0100                  // vendor 1 (Rockwell Automation/Allen-Bradley)
    0c00                  // device type 12 (communications adapter)
    3a00                  // product code 58
    04 03                 // revision 4.3
    3000                  // status 0x0030
    8e4d5200              // serial number 0x00524d8e
    0b 313735362d454e42542f41  // product name "1756-ENBT/A"
    03                    // state 3 (operational)
  `);
  const { value: m, anomalies } = okValue(decodeEnip(bytes));
  assert.deepEqual(anomalies, []);
  const items = bodyOf(m, 'list_identity').items;
  assert.deepEqual(items, [
    {
      encapsulationVersion: 1,
      socketFamily: 2,
      socketPort: 44818,
      socketAddress: '10.1.1.164',
      vendorId: 1,
      deviceType: 12,
      productCode: 58,
      majorRevision: 4,
      minorRevision: 3,
      status: 0x30,
      serialNumber: 0x00524d8e,
      productName: '1756-ENBT/A',
      state: 3,
    },
  ]);
});

test('RegisterSession request and reply (controllogix-logix5000-download-upload-run.pcap frames 219, 220)', () => {
  const req = okValue(decodeEnip(hex('6500 0400 00000000 00000000 0000000000000000 00000000 0100 0000'))).value;
  assert.deepEqual(req.body, { kind: 'register_session', protocolVersion: 1, optionFlags: 0 });
  assert.equal(req.sessionHandle, 0);
  const rsp = okValue(
    decodeEnip(hex('6500 0400 00020213 00000000 0000000000000000 00000000 0100 0000 // session 0x13020200')),
  ).value;
  assert.equal(rsp.sessionHandle, 0x13020200);
  assert.equal(commandInfo(rsp.command)?.operation, 'enip.register_session');
});

test('ListServices reply and the legacy command 0x0001 (same capture, frames 216 and 211/215)', () => {
  const services = okValue(
    decodeEnip(
      hex(`
        0400 1a00 00000000 00000000 0000000000000000 00000000
        0100              // one item
        0001 1400         // type 0x0100 (communications), 20 bytes
        0100              // version 1
        2001              // capability flags: CIP over TCP (bit 5), class 0/1 over UDP (bit 8)
        436f6d6d756e69636174696f6e730000  // "Communications"
      `),
    ),
  ).value;
  assert.deepEqual(bodyOf(services, 'list_services').items, [
    { type: 0x100, version: 1, capabilities: 0x120, name: 'Communications' },
  ]);
  const legacy = okValue(decodeEnip(hex('0100 0000 00000000 00000000 0000000000000000 00000000'))).value;
  assert.equal(legacy.command, 1);
  assert.equal(commandInfo(1)?.operation, 'enip.command_0x0001');
  const legacyReply = okValue(
    decodeEnip(
      hex(`0100 2a00 00000000 00000000 0000000000000000 00000000
           010001002400010000000002af120a5c1211000000000000000031302e39322e31382e31370000000000`),
    ),
  ).value;
  assert.equal(bodyOf(legacyReply, 'raw').data.length, 42);
});

test('SendRRData: Unconnected Send to slot 0 carrying Get_Attributes_All on the Identity object', () => {
  // quickdraw-cl5000eip-ip-address-change-attempt.pcap frame 2
  const bytes = hex(`
    6f00 2400 00010211 00000000 0481300018a7e100 00000000  // SendRRData, session 0x11020100
    00000000          // interface handle
    0a00              // timeout 10 s
    0200              // two items
    0000 0000         // null address item
    b200 1400         // unconnected data item, 20 bytes
    52                // service: Unconnected Send
    02 2006 2401      // path (2 words): class 6 (Connection Manager), instance 1
    06                // priority/time tick
    9a                // timeout ticks
    0600              // embedded message size 6
    01 02 2001 2401   // embedded: Get_Attributes_All, class 1 instance 1
    01 00             // route path size 1 word, reserved
    01 00             // port 1 (backplane), link address 0 (slot 0)
  `);
  const { value: m, anomalies } = okValue(decodeEnip(bytes));
  assert.deepEqual(anomalies, []);
  const body = bodyOf(m, 'send_data');
  assert.deepEqual(
    [body.interfaceHandle, body.timeout, body.items.length, body.connectionId, body.sequence],
    [0, 10, 2, -1, -1],
  );
  const us = request(cipOf(m));
  assert.equal(us.service, 0x52);
  assert.equal(us.path.classId, 6);
  assert.equal(serviceInfo(us.service, us.path.classId, false).operation, 'cip.unconnected_send');
  assert.equal(us.detail.kind, 'unconnected_send');
  if (us.detail.kind !== 'unconnected_send') return;
  assert.deepEqual([us.detail.priorityTick, us.detail.timeoutTicks], [6, 0x9a]);
  assert.deepEqual(us.detail.route, [{ port: 1, link: 0 }]);
  const inner = us.detail.embedded!;
  assert.deepEqual([inner.service, inner.path.classId, inner.path.instance], [1, 1, 1]);
  const codes: number[] = [];
  forEachCipService(us, (c) => codes.push(c));
  assert.deepEqual(codes, [0x52, 0x01], 'tshark order: the wrapper, then the embedded service');
});

test('the Identity object reply decodes to vendor, product, revision and serial (same capture, frame 4)', () => {
  const bytes = hex(`
    6f00 3700 00010211 00000000 0481300018a7e100 00000000
    00000000 0a00 0200 0000 0000
    b200 2700         // unconnected data, 39 bytes
    81 00 00 00       // reply to Get_Attributes_All, reserved, general status 0, no additional status
    0100              // vendor 1
    0e00              // device type 14 (PLC)
    3600              // product code 54
    10 14             // revision 16.20
    6030              // status
    3f825100          // serial 0x0051823f
    14 313735362d4c36312f42204c4f47495835353631  // "1756-L61/B LOGIX5561"
  `);
  const rsp = response(cipOf(okValue(decodeEnip(bytes)).value));
  assert.deepEqual([rsp.service, rsp.generalStatus, rsp.extStatus], [1, 0, []]);
  assert.deepEqual(decodeIdentityAttributes(rsp.data), {
    vendorId: 1,
    deviceType: 14,
    productCode: 54,
    majorRevision: 16,
    minorRevision: 20,
    status: 0x3060,
    serialNumber: 0x0051823f,
    productName: '1756-L61/B LOGIX5561',
    state: -1,
  });
  assert.equal(decodeIdentityAttributes(hex('0100 0e00')), null, 'too short');
});

test('Forward Open request and reply (controllogix capture frames 142, 149)', () => {
  const req = request(
    cipOf(
      okValue(
        decodeEnip(
          hex(`
            6f00 4000 00010212 00000000 0500000000000000 00000000 00000000 0000 0200 0000 0000
            b200 3000
            54 02 2006 2401   // Forward Open to the Connection Manager
            06 9b             // priority/tick, timeout ticks
            00000000          // O->T connection id (chosen by the target)
            49050080          // T->O connection id 0x80000549
            4905              // connection serial 0x0549
            4d00              // originator vendor 77
            4561fa11          // originator serial 0x11fa6145
            02 000000         // timeout multiplier x16, reserved
            80841e00 f843     // O->T RPI 2,000,000 us, parameters 0x43f8
            80841e00 f843     // T->O RPI, parameters
            a3                // transport: server, class 3
            03 010020022401   // connection path: port 1 slot 0, message router instance 1
          `),
        ),
      ).value,
    ),
  );
  assert.equal(req.detail.kind, 'forward_open');
  if (req.detail.kind !== 'forward_open') return;
  const d = req.detail;
  assert.deepEqual(
    [d.large, d.toConnectionId, d.connectionSerial, d.originatorVendor, d.originatorSerial, d.otRpi, d.toRpi],
    [false, 0x80000549, 0x549, 77, 0x11fa6145, 2_000_000, 2_000_000],
  );
  assert.deepEqual([d.otParams, d.toParams, d.transport & 0x0f, d.timeoutMultiplier], [0x43f8, 0x43f8, 3, 2]);
  assert.deepEqual(d.connectionPath.hops, [{ port: 1, link: 0 }]);
  assert.deepEqual([d.connectionPath.classId, d.connectionPath.instance], [2, 1]);
  const rsp = response(
    cipOf(
      okValue(
        decodeEnip(
          hex(`6f00 2e00 00010212 00000000 0500000000000000 00000000 00000000 0000 0200 0000 0000
               b200 1e00 d4 00 00 00 04095101 49050080 4905 4d00 4561fa11 80841e00 80841e00 00 00`),
        ),
      ).value,
    ),
  );
  assert.equal(rsp.service, 0x54);
  assert.deepEqual(decodeForwardOpenReply(rsp.data), {
    otConnectionId: 0x01510904,
    toConnectionId: 0x80000549,
    connectionSerial: 0x549,
    originatorVendor: 77,
    originatorSerial: 0x11fa6145,
    otApi: 2_000_000,
    toApi: 2_000_000,
  });
});

test('SendUnitData: connected Stop to the Logix controller object and its reply (remote-mode capture 421, 422)', () => {
  const req = okValue(
    decodeEnip(
      hex(`
        7000 1c00 00010212 00000000 0000000000000000 00000000
        00000000 0000     // interface handle, timeout
        0200              // two items
        a100 0400 0139dd00  // connected address: connection id 0x00dd3901
        b100 0800         // connected data, 8 bytes
        b028              // sequence count 0x28b0
        07 02 208e 2401   // Stop, class 0x8E instance 1
      `),
    ),
  ).value;
  const body = bodyOf(req, 'send_data');
  assert.deepEqual([body.connectionId, body.sequence], [0x00dd3901, 0x28b0]);
  const stop = request(body.cip!);
  assert.deepEqual([stop.service, stop.path.classId, stop.path.instance], [7, 0x8e, 1]);
  const info = serviceInfo(stop.service, stop.path.classId, false);
  assert.deepEqual([info.operation, info.access], ['cip.stop', 'control']);
  const rsp = okValue(
    decodeEnip(
      hex(
        '7000 1a00 00010212 00000000 0000000000000000 00000000 00000000 0000 0200 a100 0400 1c00fe80 b100 0600 b028 87 00 00 00',
      ),
    ),
  ).value;
  const rb = bodyOf(rsp, 'send_data');
  assert.equal(rb.sequence, 0x28b0, 'the reply echoes the sequence count');
  assert.deepEqual(response(rb.cip!).generalStatus, 0);
});

test('Multiple Service Packet of Read Modify Write Tag on tag names, and its reply (plant1 frames 37, 38)', () => {
  const req = request(
    cipOf(
      okValue(
        decodeEnip(
          hex(`
            7000 aa00 00010210 00000000 a3a8930000000000 00000000 00000000 0a00 0200
            a100 0400 01038b00 b100 9600 71ec
            0a 02 2002 2401     // Multiple Service Packet to the Message Router
            0400                // four services
            0a00 2800 4600 6a00 // offsets
            4e 0c 91 16 4c4d535f44495341424c455f32445343414e4e455231 // RMW on "LMS_DISABLE_2DSCANNER1"
            0100 01 ff          // mask size 1, OR mask 0x01, AND mask 0xff
            4e 0c 91 16 4c4d535f44495341424c455f32445343414e4e455232 0100 01 ff
            4e 0f 91 1b 4c4d535f44495341424c455f424152434f44455f5343414e4e455200 0100 00 fe
            4e 0f 91 1b 4c4d535f534554504f494e544348414e47455f524543454956454400 0100 00 fe
          `),
        ),
      ).value,
    ),
  );
  assert.equal(req.detail.kind, 'multiple_service_packet');
  if (req.detail.kind !== 'multiple_service_packet') return;
  assert.equal(req.detail.count, 4);
  const [first, , third] = req.detail.services;
  assert.equal(first!.path.symbol, 'LMS_DISABLE_2DSCANNER1');
  assert.equal(third!.path.symbol, 'LMS_DISABLE_BARCODE_SCANNER');
  assert.deepEqual(first!.detail, { kind: 'read_modify_write', maskSize: 1, orMask: 1, andMask: 0xff });
  const info = serviceInfo(0x4e, first!.path.classId, true);
  assert.deepEqual([info.operation, info.access], ['cip.read_modify_write_tag', 'write']);
  const rsp = response(
    cipOf(
      okValue(
        decodeEnip(
          hex(`7000 3400 00010210 00000000 0000000000000000 00000000 00000000 0000 0200
               a100 0400 b5c70080 b100 2000 71ec
               8a 00 00 00        // Multiple Service Packet reply, success
               0400 0a00 0e00 1200 1600
               ce000000 ce000000 ce000000 ce000000  // four RMW replies, success`),
        ),
      ).value,
    ),
  );
  assert.equal(rsp.detail.kind, 'multiple_service_packet');
  if (rsp.detail.kind !== 'multiple_service_packet') return;
  assert.deepEqual(
    rsp.detail.replies.map((r) => [r.service, r.generalStatus]),
    [
      [0x4e, 0],
      [0x4e, 0],
      [0x4e, 0],
      [0x4e, 0],
    ],
  );
});

test('Logix Read Tag and Write Tag requests, with the values written (1756-PM020 examples)', () => {
  // Read Tag on "Tag1", one element
  const read = request(okValue(decodeCip(hex('4c 03 91 04 54616731 0100'))).value);
  assert.equal(read.path.symbol, 'Tag1');
  assert.deepEqual(read.detail, { kind: 'read_tag', elements: 1, offset: 0 });
  const write = request(
    okValue(
      decodeCip(
        hex(`
          4d 04 91 04 54616732 2801   // Write Tag "Tag2", member 1 -> "Tag2[1]"
          ca00          // type REAL
          0200          // two elements
          0000c03f 000020c1              // 1.5, -10
        `),
      ),
    ).value,
  );
  assert.equal(write.path.symbol, 'Tag2[1]');
  assert.deepEqual(write.detail, { kind: 'write_tag', dataType: 0xca, elements: 2, offset: 0, values: [1.5, -10] });
  const frag = request(okValue(decodeCip(hex('53 03 91 04 54616733 c400 0100 04000000 ffffffff'))).value);
  assert.deepEqual(frag.detail, { kind: 'write_tag', dataType: 0xc4, elements: 1, offset: 4, values: [-1] });
  const byInstance = request(okValue(decodeCip(hex('52 03 206b 2500 3412 0a00 00000000'))).value);
  assert.deepEqual([byInstance.path.classId, byInstance.path.instance], [0x6b, 0x1234]);
  assert.equal(serviceInfo(0x52, 0x6b, false).operation, 'cip.read_tag_fragmented');
  assert.equal(serviceInfo(0x52, 6, false).operation, 'cip.unconnected_send');
  assert.deepEqual(byInstance.detail, { kind: 'read_tag', elements: 10, offset: 0 });
});

test('service names and access classes depend on the class', () => {
  const name = (sc: number, cls: number, symbolic = false): string => {
    const i = serviceInfo(sc, cls, symbolic);
    return `${i.operation}/${i.access}`;
  };
  assert.equal(name(0x0e, 1), 'cip.get_attribute_single/read');
  assert.equal(name(0x10, 0xf5), 'cip.set_attribute_single/write');
  assert.equal(name(0x05, 1), 'cip.reset/control');
  assert.equal(name(0x06, 0x8e), 'cip.start/control');
  assert.equal(name(0x4b, 0x37), 'cip.initiate_upload/file');
  assert.equal(name(0x0e, 0x37), 'cip.get_attribute_single/file');
  assert.equal(name(0x4b, 0x67), 'cip.execute_pccc/other');
  assert.equal(name(0x4d, 0xa1), 'cip.nvs_transfer/program');
  assert.equal(name(0x51, 0xa1), 'cip.service_0x51/program');
  assert.equal(name(0x4c, 0x72), 'cip.service_0x4c/other');
  assert.equal(name(0x4c, -1, true), 'cip.read_tag/read');
  assert.equal(name(0x4c, 0x6c), 'cip.read_template/read');
  assert.equal(name(0x5b, 6), 'cip.large_forward_open/other');
  assert.equal(classSpace(0x6b), 'class_0x6b');
  assert.equal(classSpace(0x334), 'class_0x334');
});

test('EPATH segments: 16/32-bit logical, extended port with an IP address, electronic key, symbols', () => {
  const p = decodePath(
    hex(`
      12 0b 3139322e3136382e312e3200  // port 2, extended link address "192.168.1.2" (11 bytes + pad)
      01 02                           // port 1, slot 2
      0f 3412 05                      // port 15 -> extended port 0x1234, link 5
      34 04 0100 0e00 3600 94 14      // electronic key: vendor 1, PLC, product 54, compatible 20.20
      21 00 3412                      // 16-bit class 0x1234
      26 00 78563412                  // 32-bit instance 0x12345678
      30 07                           // attribute 7
      2c 02                           // connection point 2
    `),
  );
  assert.equal(p.complete, true);
  assert.deepEqual(p.hops, [
    { port: 2, link: -1, linkText: '192.168.1.2' },
    { port: 1, link: 2 },
    { port: 0x1234, link: 5 },
  ]);
  assert.deepEqual(p.key, {
    vendorId: 1,
    deviceType: 14,
    productCode: 54,
    compatibility: true,
    majorRevision: 20,
    minorRevision: 20,
  });
  assert.deepEqual([p.classId, p.instance, p.attribute, p.connectionPoint], [0x1234, 0x12345678, 7, 2]);
  // symbolic "abc" (4 bytes, no pad), then ANSI extended "def" and a pad byte
  const sym = decodePath(hex('63 616263 91 03 646566 00'));
  assert.equal(sym.symbol, 'abc.def');
  assert.equal(decodePath(hex('21 00 34')).complete, false, 'a 16-bit segment cut short');
  assert.equal(decodePath(hex('c3 00')).complete, false, 'an elementary data type segment is not a path');
  assert.equal(decodePath(hex('20 02 24')).complete, false);
  assert.deepEqual([decodePath(hex('20 02 24')).classId], [2], 'what came before the bad segment is kept');
});

test('error replies keep the general and extended status (ip-address-change capture frame 51)', () => {
  const rsp = response(
    cipOf(
      okValue(
        decodeEnip(
          hex(`6f00 1800 00010211 00000000 1681300018a7e100 00000000 00000000 0a00 0200 0000 0000
               b200 0800
               d2 00 01 01 // Unconnected Send reply: connection failure, one word of extended status
               0402        // 0x0204: unconnected request timed out
               01 00       // remaining path size`),
        ),
      ).value,
    ),
  );
  assert.deepEqual([rsp.service, rsp.generalStatus, rsp.extStatus], [0x52, 1, [0x0204]]);
});

test('class 0/1 I/O packets frame as a sequenced address and a connected data item', () => {
  // icsnpp-enip-cip-example.pcap frame 377 (UDP 2222)
  const io = okValue(
    decodeIoPacket(
      hex(`
        0200                  // two items
        0280 0800 03064b00 db943f00  // sequenced address: connection 0x004b0603, sequence 0x003f94db
        b100 0600 a587 e80f0300      // connected data, 6 bytes
      `),
    ),
  );
  assert.deepEqual(io.value, { connectionId: 0x004b0603, sequence: 0x003f94db, dataLength: 6 });
  assert.deepEqual(io.anomalies, []);
  assert.equal(decodeIoPacket(hex('0100 b100 0000')).kind, 'malformed');
  assert.equal(decodeIoPacket(hex('0200 0280 0800 03064b00')).kind, 'malformed');
  assert.equal(decodeIoPacket(new TextEncoder().encode('M-SEARCH * HTTP/1.1')).kind, 'malformed');
});

test('framing rejects what is not an encapsulation header', () => {
  assert.equal(frameEnip(hex('65')), 0);
  assert.equal(frameEnip(hex('6500 0400')), 0, 'header incomplete');
  assert.equal(frameEnip(hex('6501')), -1, 'command above 0xff');
  assert.equal(frameEnip(hex('5500')), -1, 'not a command');
  assert.equal(frameEnip(new TextEncoder().encode('GET / HTTP/1.1\r\n')), -1);
  assert.equal(frameEnip(hex('16 0301 00f1 01')), -1, 'TLS');
  assert.equal(frameEnip(hex('6500 e8ff')), -1, 'length above 65511');
  assert.equal(frameEnip(hex('6500 0400 00000000 00000000 0000000000000000 01000000')), -1, 'options not 0');
  assert.equal(frameEnip(hex('6500 0400 00000000 00000000 0000000000000000 00000000')), 28);
});

test('malformed messages are reported with a code, never thrown', () => {
  const header = '6f00 1000 00000000 00000000 0000000000000000 00000000';
  assert.deepEqual(decodeEnip(hex('6f00')), { kind: 'incomplete', needed: 24 });
  assert.deepEqual(decodeEnip(hex(`${header} 00000000`)), { kind: 'incomplete', needed: 40 });
  assert.equal((decodeEnip(hex('5500 0000')) as { code: string }).code, 'enip.bad_command');
  const short = decodeEnip(hex(`${header} 00000000 0000 0100 b200 0800 0102 2001`));
  assert.equal(short.kind, 'malformed');
  assert.equal((short as { code: string }).code, 'enip.truncated', 'item longer than the message');
  const badCip = okValue(decodeEnip(hex(`${header.replace('1000', '0e00')} 00000000 0000 0100 b200 0200 0105`)));
  assert.deepEqual(badCip.anomalies, ['enip.bad_cip'], 'a path longer than the item');
  assert.equal(bodyOf(badCip.value, 'send_data').cip, null);
  const trailing = okValue(decodeEnip(hex('6500 0600 00000000 00000000 0000000000000000 00000000 0100 0000 ffff')));
  assert.deepEqual(trailing.anomalies, ['enip.trailing_bytes']);
});

test('property: the decoders are total and never over-consume', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const d = decodeEnip(bytes);
      if (d.kind === 'ok') assert.ok(d.consumed <= bytes.length);
      decodeCip(bytes);
      decodePath(bytes);
      decodeIoPacket(bytes);
      decodeIdentityAttributes(bytes);
      decodeForwardOpenReply(bytes);
    }),
    { numRuns: 3000 },
  );
});

test('property: valid headers with random bodies decode or fail with a code', () => {
  const commands = [0x00, 0x04, 0x63, 0x64, 0x65, 0x66, 0x6f, 0x70];
  fc.assert(
    fc.property(fc.constantFrom(...commands), fc.uint8Array({ maxLength: 300 }), (command, body) => {
      const bytes = new Uint8Array(24 + body.length);
      bytes[0] = command;
      bytes[2] = body.length & 0xff;
      bytes[3] = body.length >> 8;
      bytes.set(body, 24);
      assert.equal(frameEnip(bytes), bytes.length);
      const d = decodeEnip(bytes);
      assert.ok(d.kind === 'ok' || (d.kind === 'malformed' && d.code.startsWith('enip.')), JSON.stringify(d));
      // Every prefix of a framed message frames the same way or asks for more.
      for (const n of [2, 4, 23, 24]) {
        const f = frameEnip(bytes.subarray(0, n));
        assert.ok(f === 0 || f === bytes.length);
      }
    }),
    { numRuns: 2000 },
  );
});
