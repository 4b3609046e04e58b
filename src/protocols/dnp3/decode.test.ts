// DNP3 decoders on annotated hex fixtures (real bytes from the shared captures, frame numbers
// given; a few built with encodeDnp3Link where no capture has the case), plus totality under
// random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { functionInfo, iinNames, objectSize } from './constants.ts';
import { crcDnp } from './crc.ts';
import {
  decodeDnp3Apdu,
  decodeDnp3Link,
  encodeDnp3Link,
  frameDnp3Link,
  linkFrameSize,
  type Dnp3Apdu,
  type Dnp3LinkFrame,
} from './decode.ts';
import { hex } from './test-support.ts';

function okValue<T>(d: Decoded<T>): { value: T; anomalies: readonly string[]; consumed: number } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { value: d.value, anomalies: d.anomalies, consumed: d.consumed };
}

/** Link frame, then the application fragment after the transport header. */
function apduOf(frame: Uint8Array): { link: Dnp3LinkFrame; apdu: Dnp3Apdu; anomalies: readonly string[] } {
  const link = okValue(decodeDnp3Link(frame)).value;
  const d = okValue(decodeDnp3Apdu(link.userData.subarray(1)));
  return { link, apdu: d.value, anomalies: d.anomalies };
}

test('CRC-16/DNP: check value and the header CRC of a real frame', () => {
  assert.equal(crcDnp(new TextEncoder().encode('123456789'), 0, 9), 0xea82);
  // zeek-dnp3-mixed.pcap frame 90: header 0564 14 c4 0400 0300, CRC 0x17c7 little-endian
  const f = hex('0564 14 c4 0400 0300 c717');
  assert.equal(crcDnp(f, 0, 8), 0x17c7);
});

test('link header and a class 0123 read request (zeek-dnp3-mixed.pcap frame 90)', () => {
  const bytes = hex(`
    0564      // start octets
    14        // length 20: control, addresses and 15 user data octets
    c4        // control: DIR, PRM, function 4 unconfirmed user data
    0400      // destination 4 (the outstation)
    0300      // source 3 (the master)
    c717      // header CRC
    c4        // transport: FIN, FIR, sequence 4
    c5        // application control: FIR, FIN, sequence 5
    01        // function 1 read
    3c02 06   // group 60 variation 2 (class 1), qualifier 0x06 all
    3c03 06   // class 2
    3c04 06   // class 3
    3c01 06   // class 0
    a361      // data block CRC
  `);
  assert.equal(frameDnp3Link(bytes), bytes.length);
  const { value: link, consumed, anomalies } = okValue(decodeDnp3Link(bytes));
  assert.equal(consumed, 27);
  assert.deepEqual(anomalies, []);
  assert.deepEqual(
    [link.length, link.dir, link.primary, link.function, link.functionName, link.destination, link.source],
    [20, true, true, 4, 'unconfirmed_user_data', 4, 3],
  );
  assert.deepEqual(link.transport, { fin: true, fir: true, seq: 4 });
  assert.equal(link.dataCrcOk, true);
  const { apdu } = apduOf(bytes);
  assert.deepEqual(
    [apdu.fir, apdu.fin, apdu.con, apdu.uns, apdu.seq, apdu.functionCode, apdu.functionName, apdu.access],
    [true, true, false, false, 5, 1, 'read', 'read'],
  );
  assert.equal(apdu.response, false);
  assert.equal(apdu.iin, undefined);
  assert.deepEqual(
    apdu.objects.map((o) => [o.group, o.variation, o.qualifier, o.rangeCode, o.count, o.dataLength]),
    [
      [60, 2, 6, 6, 0, 0],
      [60, 3, 6, 6, 0, 0],
      [60, 4, 6, 6, 0, 0],
      [60, 1, 6, 6, 0, 0],
    ],
  );
  assert.equal(apdu.objectsComplete, true);
});

test('a response over several data blocks: IIN and objects sized from the library (frame 91)', () => {
  const bytes = hex(`
    0564 4e 44 0300 0400 6f4d   // length 78, control 0x44 (PRM, unconfirmed user data), 4 -> 3
    d8                          // transport: FIN, FIR, sequence 24
    c5 81 0000                  // FIR FIN seq 5, function 129 response, IIN 0x0000
    0101 00 00 05               // g1v1 packed binary inputs, start 0 stop 5: 1 octet
    02                          //   the 6 bits
    0a02 00 00 05               // g10v2 binary output status, 0..5: 6 octets
    ac11                        // block CRC
    010101010101
    1405 00 00 00               // g20v5 32-bit counter without flag, 0..0: 4 octets
    00000000
    15                          // g21v9 32-bit frozen counter without flag ...
    4e0d                        // block CRC
    09 00 00 00                 // ... 0..0: 4 octets
    00000000
    1e03 00 00 06               // g30v3 32-bit analog input without flag, 0..6: 28 octets
    c50000
    f0ff                        // block CRC
    00 c7000000 c8000000 01000000 251c00
    68ac
    00 0e1c0000 101c0000
    2a73
  `);
  const { link, apdu, anomalies } = apduOf(bytes);
  assert.equal(link.userDataLength, 73);
  assert.deepEqual(anomalies, []);
  assert.equal(apdu.functionCode, 129);
  assert.equal(apdu.response, true);
  assert.equal(apdu.iin, 0);
  assert.deepEqual(apdu.iinNames, []);
  assert.deepEqual(
    apdu.objects.map((o) => [`g${o.group}v${o.variation}`, o.start, o.stop, o.count, o.dataLength]),
    [
      ['g1v1', 0, 5, 6, 1],
      ['g10v2', 0, 5, 6, 6],
      ['g20v5', 0, 0, 1, 4],
      ['g21v9', 0, 0, 1, 4],
      ['g30v3', 0, 6, 7, 28],
    ],
  );
  assert.equal(apdu.objectsComplete, true);
});

test('a CROB select with an index prefix gives index, control code and values (icsnpp frame 378)', () => {
  const bytes = hex(`
    0564 18 c4 0500 6400 fedd   // length 24, master 100 -> outstation 5
    cc                          // transport: FIN, FIR, sequence 12
    c7 03                       // FIR FIN seq 7, function 3 select
    0c01 17 01                  // g12v1 CROB, qualifier 0x17: 1-octet index prefix, 1-octet count; 1 object
    08                          //   index 8
    42                          //   control code 0x42: close, pulse off
    01                          //   count 1
    f4010000                    //   on time 500 ms
    0000                        //   off time (first two octets)
    d2fd                        // block CRC
    0000                        //   off time (last two octets)
    00                          //   status 0
    ffff                        // block CRC (of three zero octets)
  `);
  const { apdu, anomalies } = apduOf(bytes);
  assert.deepEqual(anomalies, []);
  assert.equal(apdu.functionName, 'select');
  assert.equal(apdu.access, 'control');
  const h = apdu.objects[0]!;
  assert.deepEqual(
    [h.group, h.variation, h.prefixCode, h.rangeCode, h.count, h.minIndex, h.maxIndex, h.dataLength],
    [12, 1, 1, 7, 1, 8, 8, 12],
  );
  assert.deepEqual(apdu.values, [0x42]);
  assert.equal(apdu.controlStatus, 0);
});

test('a CROB response with a control status and IIN2.2 parameter error (zeek-dnp3-mixed frame 186)', () => {
  const bytes = hex(`
    0564 1c 44 0300 0400 64bd
    f9 c3 81 0004               // transport; FIR FIN seq 3, response, IIN 0x0004
    0c01 28 0100                // g12v1, qualifier 0x28: 2-octet index prefix, 2-octet count; 1 object
    9f86                        //   index 34463
    03 01 6400                  //   latch on, count 1, on time 100 (first two octets)
    ed30                        // block CRC
    0000 64000000               //   on time (rest), off time 100
    04                          //   status 4: not supported
    7882
  `);
  const { apdu } = apduOf(bytes);
  assert.equal(apdu.iin, 0x0004);
  assert.deepEqual(apdu.iinNames, ['parameter_error']);
  assert.equal(apdu.controlStatus, 4);
  assert.deepEqual(apdu.values, [], 'values come from requests only');
});

test('IIN names, most significant first', () => {
  assert.deepEqual(iinNames(0x9000), ['device_restart', 'need_time']);
  assert.deepEqual(iinNames(0x0200 | 0x0008), ['class_1_events', 'event_buffer_overflow']);
});

test('unsolicited null response with CON and UNS (zeek-dnp3-mixed frame 77)', () => {
  const { link, apdu } = apduOf(hex('0564 0a 44 0600 0400 bfb0  d1 f7 82 0000  ba39'));
  assert.equal(link.source, 4);
  assert.deepEqual([apdu.fir, apdu.fin, apdu.con, apdu.uns, apdu.seq], [true, true, true, true, 7]);
  assert.equal(apdu.functionName, 'unsolicited_response');
  assert.deepEqual(apdu.objects, []);
});

test('secure authentication: aggressive mode objects around a CROB (malcolm-dnp3.pcap frame 32)', () => {
  const bytes = hex(`
    0564 3a c4 0400 0300 4017
    d3 cc 05                    // transport; FIR FIN seq 12; direct operate
    7803 07 01                  // g120v3 aggressive mode request, count 1: 6 octets
    09000000 0100               //   challenge sequence 9, user 1
    0c01 28                     // g12v1, 2-octet index prefix and count ...
    1e6d                        // block CRC
    0100 0100                   //   ... 1 object at index 1
    03 01 64000000 64000000 00  //   latch on, count 1, on 100, off 100, status 0
    78                          // g120v9 HMAC ...
    454b
    09 5b 01 1000               //   qualifier 0x5b: 1 object of 16 octets
    ba8db44d5e72cd0ad418e5 a302 e415256867
    bed2
  `);
  const link = okValue(decodeDnp3Link(bytes)).value;
  assert.equal(link.dataCrcOk, true);
  const { value: apdu, anomalies } = okValue(decodeDnp3Apdu(link.userData.subarray(1)));
  assert.deepEqual(anomalies, []);
  assert.deepEqual(
    apdu.objects.map((o) => `g${o.group}v${o.variation}/${o.qualifier.toString(16)}/${o.dataLength}`),
    ['g120v3/7/6', 'g12v1/28/13', 'g120v9/5b/18'],
  );
  assert.deepEqual([apdu.objects[1]!.minIndex, apdu.values], [1, [3]]);
});

test('object errors stop parsing with an anomaly but keep the fragment', () => {
  // dnp3-malformed.pcap frame 2: a CROB of 2 points whose data runs short
  const short = okValue(decodeDnp3Apdu(hex('c2 04 0c01 00 00 01  00 01 00 0301 6400 0000 64 00000000')));
  assert.deepEqual(short.anomalies, ['dnp3.object_overrun']);
  assert.equal(short.value.functionCode, 4);
  assert.equal(short.value.objectsComplete, false);
  const unknown = okValue(decodeDnp3Apdu(hex('c0 81 0000  fe01 00 00 00 00')));
  assert.deepEqual(unknown.anomalies, ['dnp3.unknown_object']);
  const reserved = okValue(decodeDnp3Apdu(hex('c1 15 3c02 06 3c04 0d')));
  assert.deepEqual(reserved.anomalies, ['dnp3.bad_qualifier']);
  assert.equal(reserved.value.objects.length, 1);
  const range = okValue(decodeDnp3Apdu(hex('c1 01 1e01 00 05 02')));
  assert.deepEqual(range.anomalies, ['dnp3.bad_range']);
  const huge = okValue(decodeDnp3Apdu(hex('c0 81 0000 1e01 09 ffffffff 00')));
  assert.deepEqual(huge.anomalies, ['dnp3.object_overrun']);
  const cut = okValue(decodeDnp3Apdu(hex('c1 01 3c')));
  assert.deepEqual(cut.anomalies, ['dnp3.object_overrun']);
  assert.deepEqual(decodeDnp3Apdu(hex('c1')), { kind: 'malformed', code: 'dnp3.truncated', offset: 1 });
  assert.deepEqual(decodeDnp3Apdu(hex('c1 81 00')), { kind: 'malformed', code: 'dnp3.truncated', offset: 2 });
});

test('read requests name objects without data, index lists included', () => {
  // g30v1 points 3, 7 and 9 by a 1-octet index list (qualifier 0x17), then all g1v2
  const { value } = okValue(decodeDnp3Apdu(hex('c3 01 1e01 17 03 03 07 09 0102 06')));
  assert.deepEqual(
    value.objects.map((o) => [o.count, o.minIndex, o.maxIndex, o.dataLength]),
    [
      [3, 3, 9, 3],
      [0, undefined, undefined, 0],
    ],
  );
});

test('analog output block values and packed binary output bits are kept', () => {
  const ao = okValue(decodeDnp3Apdu(hex('c4 05 2903 17 02  04 0000c03f 00  05 00002040 00')));
  assert.deepEqual(ao.value.values, [1.5, 2.5]);
  assert.deepEqual([ao.value.objects[0]!.minIndex, ao.value.objects[0]!.maxIndex], [4, 5]);
  const ao16 = okValue(decodeDnp3Apdu(hex('c4 05 2902 00 00 00 feff 00')));
  assert.deepEqual(ao16.value.values, [-2]);
  const bits = okValue(decodeDnp3Apdu(hex('c4 02 0a01 00 00 04 15')));
  assert.deepEqual(bits.value.values, [1, 0, 1, 0, 1]);
});

test('device attributes become name/value pairs (group 0)', () => {
  const s = (t: string): string =>
    [...new TextEncoder().encode(t)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const frag = hex(`
    c0 81 0000
    00fc 00 00 00  01 04 ${s('Acme')}        // g0v252 manufacturer name, visible string
    00fa 00 00 00  01 05 ${s('RTU-9')}       // g0v250 product name and model
    00f2 00 00 00  01 03 ${s('2.1')}         // g0v242 software version
    00f0 00 00 00  02 02 0008                // g0v240 max transmit fragment size: 2048
  `);
  const { value, anomalies } = okValue(decodeDnp3Apdu(frag));
  assert.deepEqual(anomalies, []);
  assert.deepEqual(value.attributes, [
    { variation: 252, type: 1, value: 'Acme' },
    { variation: 250, type: 1, value: 'RTU-9' },
    { variation: 242, type: 1, value: '2.1' },
    { variation: 240, type: 2, value: '2048' },
  ]);
});

test('link errors: start octets, length, header CRC, data CRC, incomplete', () => {
  assert.deepEqual(decodeDnp3Link(hex('0565 05 c0 0100 0200 0000')), {
    kind: 'malformed',
    code: 'dnp3.bad_frame',
    offset: 0,
  });
  assert.deepEqual(decodeDnp3Link(hex('0564 04 c0 0100 0200 0000')), {
    kind: 'malformed',
    code: 'dnp3.bad_frame',
    offset: 0,
  });
  const good = hex('0564 0a 44 0600 0400 bfb0  d1 f7 82 0000  ba39');
  const badHeader = good.slice();
  badHeader[8]! ^= 1;
  assert.deepEqual(decodeDnp3Link(badHeader), { kind: 'malformed', code: 'dnp3.bad_crc', offset: 0 });
  const badData = good.slice();
  badData[12]! ^= 1;
  const d = okValue(decodeDnp3Link(badData));
  assert.deepEqual(d.anomalies, ['dnp3.bad_crc']);
  assert.equal(d.value.dataCrcOk, false);
  assert.equal(d.value.userData.length, 0, 'data of a bad frame is not used');
  assert.deepEqual(decodeDnp3Link(good.subarray(0, 5)), { kind: 'incomplete', needed: 10 });
  assert.deepEqual(decodeDnp3Link(good.subarray(0, 12)), { kind: 'incomplete', needed: 17 });
  // link-only frames: request link status (zeek-dnp3-udp-read frame 1) and its answer
  const status = okValue(decodeDnp3Link(hex('0564 05 49 6400 0100 7e5f'))).value;
  assert.deepEqual(
    [status.functionName, status.userDataLength, status.transport],
    ['request_link_status', 0, undefined],
  );
  const answer = okValue(decodeDnp3Link(hex('0564 05 8b 0100 6400 a097'))).value;
  assert.deepEqual([answer.primary, answer.functionName], [false, 'link_status']);
});

test('frame sizes: 16-octet blocks with a CRC each', () => {
  assert.equal(linkFrameSize(5), 10);
  assert.equal(linkFrameSize(21), 28);
  assert.equal(linkFrameSize(22), 31);
  assert.equal(linkFrameSize(255), 292);
  const f = encodeDnp3Link(0x44, 1, 2, new Uint8Array(100).fill(7));
  assert.equal(f.length, linkFrameSize(105));
  const d = okValue(decodeDnp3Link(f));
  assert.equal(d.value.dataCrcOk, true);
  assert.deepEqual([...d.value.userData], new Array<number>(100).fill(7));
});

test('function codes: names and access classes', () => {
  const pick = (c: number): [string, string] => [functionInfo(c).name, functionInfo(c).access];
  assert.deepEqual(pick(5), ['direct_operate', 'control']);
  assert.deepEqual(pick(7), ['immediate_freeze', 'read']);
  assert.deepEqual(pick(22), ['assign_class', 'write']);
  assert.deepEqual(pick(23), ['delay_measure', 'diagnostic']);
  assert.deepEqual(pick(25), ['open_file', 'file']);
  assert.deepEqual(pick(32), ['authenticate_req', 'other']);
  assert.deepEqual(pick(200), ['function_200', 'other']);
  assert.equal(objectSize(12, 1)?.kind, 'octets');
  assert.equal(objectSize(99, 1), undefined);
});

test('frameDnp3Link decides from the header alone', () => {
  const f = hex('0564 14 c4 0400 0300 c717 c4c5013c02063c03063c04063c0106 a361');
  for (let n = 0; n < 10; n++) assert.equal(frameDnp3Link(f.subarray(0, n)), 0, `prefix ${n}`);
  for (let n = 10; n <= f.length; n++) assert.equal(frameDnp3Link(f.subarray(0, n)), 27);
  assert.equal(frameDnp3Link(hex('16 0301')), -1);
});

test('property: decoders are total on random bytes and never over-consume', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const l = decodeDnp3Link(bytes);
      if (l.kind === 'ok') assert.ok(l.consumed <= bytes.length);
      const a = decodeDnp3Apdu(bytes);
      if (a.kind === 'ok') {
        assert.equal(a.consumed, bytes.length);
        assert.ok(a.value.values.length <= 16);
        assert.ok(a.value.objects.length <= 64);
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: random fragments in valid frames decode; the framer answer is stable', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 129, 130, 131),
      fc.uint8Array({ maxLength: 246 }),
      (ac, func, body) => {
        const user = Uint8Array.from([0xc0, ac, func, ...body]);
        const frame = encodeDnp3Link(0xc4, 1, 2, user);
        for (const n of [10, 11, frame.length]) assert.equal(frameDnp3Link(frame.subarray(0, n)), frame.length);
        const link = okValue(decodeDnp3Link(frame)).value;
        assert.deepEqual([...link.userData], [...user]);
        const d = decodeDnp3Apdu(link.userData.subarray(1));
        assert.ok(d.kind === 'ok' || (d.kind === 'malformed' && d.code === 'dnp3.truncated'));
      },
    ),
    { numRuns: 2000 },
  );
});
