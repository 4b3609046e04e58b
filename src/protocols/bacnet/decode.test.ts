// decodeBacnet on annotated hex fixtures (real datagrams from the shared captures, frame numbers
// given; the rest built from ANSI/ASHRAE 135-2020 clause 20 encodings), malformed inputs, and
// totality under random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { hex } from './test-support.ts';
import {
  bacnetVendorName,
  confirmedService,
  networkMessageInfo,
  objectTypeName,
  propertyName,
  unconfirmedService,
} from './constants.ts';
import { charString, decodeBacnet, numericValues, type Apdu, type BacnetMessage } from './decode.ts';

function okMessage(d: Decoded<BacnetMessage>): { m: BacnetMessage; anomalies: readonly string[] } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { m: d.value, anomalies: d.anomalies };
}

function apduOf<K extends Apdu['kind']>(m: BacnetMessage, kind: K): Extract<Apdu, { kind: K }> {
  const a = m.npdu?.apdu;
  assert.equal(a?.kind, kind);
  return a as Extract<Apdu, { kind: K }>;
}

test('I-Am broadcast to all networks (bacnet-ip.pcap frame 1)', () => {
  const { m, anomalies } = okMessage(
    decodeBacnet(
      hex(`
        81 0b 0017        // BVLC: BACnet/IP, Original-Broadcast-NPDU, 23 bytes
        01 20             // NPDU version 1, control: destination specifier
        ffff 00 ff        // DNET 65535 (global broadcast), DLEN 0, hop count 255
        10 00             // APDU: unconfirmed request, service 0 (I-Am)
        c4 0200006f       // application tag 12 (object id): device, 111
        21 32             // unsigned: max APDU 50
        91 03             // enumerated: segmentation 3 (none)
        21 2a             // unsigned: vendor 42
      `),
    ),
  );
  assert.deepEqual(anomalies, []);
  assert.deepEqual([m.bvlcType, m.bvlcFunction, m.length], [0x81, 0x0b, 23]);
  const npdu = m.npdu!;
  assert.deepEqual([npdu.version, npdu.dnet, npdu.dadr.length, npdu.hopCount, npdu.snet], [1, 0xffff, 0, 255, -1]);
  const a = apduOf(m, 'unconfirmed_request');
  assert.deepEqual(a.request, {
    kind: 'i_am',
    device: { type: 8, instance: 111 },
    maxApdu: 50,
    segmentation: 3,
    vendorId: 42,
  });
  assert.equal(unconfirmedService(a.service).operation, 'bacnet.i_am');
  assert.equal(bacnetVendorName(42), 'Acuity Brands Lighting, Inc.');
});

test('ReadProperty from a routed source, and its ComplexACK to it (bacnet-ip.pcap frames 3, 4)', () => {
  const req = okMessage(
    decodeBacnet(
      hex(`
        81 0a 0017        // Original-Unicast-NPDU
        01 0c             // control: source specifier, expecting reply
        000d 01 3d        // SNET 13, SLEN 1, SADR 0x3d
        02 03             // confirmed request, segmented response accepted; max APDU code 3 (480)
        c9                // invoke id 201
        0c                // service 12: readProperty
        0c 0200006f       // [0] object: device 111
        19 4c             // [1] property 76 (object-list)
        29 00             // [2] array index 0
      `),
    ),
  ).m;
  assert.deepEqual([req.npdu!.snet, Array.from(req.npdu!.sadr), req.npdu!.expectingReply], [13, [0x3d], true]);
  const r = apduOf(req, 'confirmed_request');
  assert.deepEqual(
    [r.segmented, r.segmentedResponseAccepted, r.maxApdu, r.invokeId, r.service],
    [false, true, 3, 201, 12],
  );
  assert.deepEqual(r.request, {
    kind: 'read_property',
    object: { type: 8, instance: 111 },
    property: 76,
    arrayIndex: 0,
  });
  const ack = okMessage(
    decodeBacnet(
      hex(`
        81 0a 001b 01 20 000d 01 3d ff   // to DNET 13 / DADR 0x3d, hop count 255
        30 c9 0c          // ComplexACK, invoke 201, readProperty
        0c 0200006f 19 4c 29 00
        3e 21 21 3f       // [3] { unsigned 33 }
      `),
    ),
  ).m;
  const a = apduOf(ack, 'complex_ack');
  assert.deepEqual(a.ack, {
    kind: 'read_property',
    object: { type: 8, instance: 111 },
    property: 76,
    arrayIndex: 0,
    values: [{ kind: 'unsigned', value: 33 }],
  });
  assert.equal(propertyName(76), 'object_list');
  assert.equal(propertyName(85), 'present_value');
});

test('WriteProperty of a REAL at priority 10, and its SimpleACK (bacnet-services.pcap frames 3, 4)', () => {
  const w = apduOf(
    okMessage(
      decodeBacnet(
        hex(`
          81 0a 001f 01 24 0003 01 6c ff  // DNET 3, DADR 0x6c, expecting reply
          02 03 02 0f       // confirmed request, invoke 2, writeProperty
          0c 00400065       // [0] analog-output 101
          19 55             // [1] present-value
          3e 44 42480000 3f // [3] { real 50.0 }
          49 0a             // [4] priority 10
        `),
      ),
    ).m,
    'confirmed_request',
  );
  assert.deepEqual(w.request, {
    kind: 'write_property',
    object: { type: 1, instance: 101 },
    property: 85,
    arrayIndex: -1,
    values: [{ kind: 'real', value: 50 }],
    priority: 10,
  });
  assert.equal(objectTypeName(1), 'analog_output');
  assert.deepEqual(confirmedService(15), {
    code: 15,
    name: 'write_property',
    operation: 'bacnet.write_property',
    access: 'write',
  });
  const ack = apduOf(okMessage(decodeBacnet(hex('81 0a 000d 01 08 0003 01 6c 20 02 0f'))).m, 'simple_ack');
  assert.deepEqual([ack.invokeId, ack.service], [2, 15]);
});

test('ReadPropertyMultiple request and a ComplexACK with a value and an error', () => {
  // bacnet-stack-services.pcap frame 112: analog-input 0, property 8 (all)
  const rpm = apduOf(
    okMessage(decodeBacnet(hex('81 0a 0017 01 0c 000d 01 3d 02 03 3b 0e  0c 00000000 1e 09 08 1f'))).m,
    'confirmed_request',
  );
  assert.deepEqual(rpm.request, {
    kind: 'read_property_multiple',
    specs: [{ object: { type: 0, instance: 0 }, properties: [{ property: 8, arrayIndex: -1 }] }],
  });
  const ack = apduOf(
    okMessage(
      decodeBacnet(
        hex(`
          81 0a 0023 01 00
          30 07 0e                   // ComplexACK, invoke 7, readPropertyMultiple
          0c 02000001 1e             // device 1, [1] {
          29 79 4e 75 05 00 41636d65 4f // [2] vendor-name, [4] { "Acme" (UTF-8) }
          29 46 5e 91 02 91 20 5f    // [2] model-name, [5] { error class 2, code 32 }
          1f                         // }
        `),
      ),
    ).m,
    'complex_ack',
  );
  assert.deepEqual(ack.ack, {
    kind: 'read_property_multiple',
    results: [
      {
        object: { type: 8, instance: 1 },
        property: 121,
        arrayIndex: -1,
        values: [{ kind: 'string', value: 'Acme' }],
        errorClass: -1,
        errorCode: -1,
      },
      { object: { type: 8, instance: 1 }, property: 70, arrayIndex: -1, values: [], errorClass: 2, errorCode: 32 },
    ],
  });
});

test('Error, Reject and Abort PDUs', () => {
  // bacnet-stack-services.pcap frame 35: reinitializeDevice error services/password-failure
  const e = apduOf(okMessage(decodeBacnet(hex('81 0a 0011 01 08 000d 01 3d 50 01 14 91 05 91 1a'))).m, 'error');
  assert.deepEqual([e.invokeId, e.service, e.errorClass, e.errorCode], [1, 20, 5, 26]);
  const rej = apduOf(okMessage(decodeBacnet(hex('81 0a 0009 01 00 60 05 09 // unrecognized service'))).m, 'reject');
  assert.deepEqual([rej.invokeId, rej.reason], [5, 9]);
  const abort = apduOf(
    okMessage(decodeBacnet(hex('81 0a 0009 01 00 71 06 04 // server abort: segmentation'))).m,
    'abort',
  );
  assert.deepEqual([abort.server, abort.invokeId, abort.reason], [true, 6, 4]);
  const seg = apduOf(okMessage(decodeBacnet(hex('81 0a 000a 01 00 42 07 03 01 // NAK from server'))).m, 'segment_ack');
  assert.deepEqual(seg, { kind: 'segment_ack', nak: true, server: false, invokeId: 7, sequence: 3, window: 1 });
});

test('BVLC: Register-Foreign-Device, Result, Forwarded-NPDU (bacnet-bbmd-on-same-subnet.pcap 1, 3, 6)', () => {
  const reg = okMessage(decodeBacnet(hex('81 05 0006 ea60 // time-to-live 60000 s'))).m;
  assert.deepEqual([reg.bvlcFunction, reg.bvlcValue, reg.npdu], [5, 60000, null]);
  const res = okMessage(decodeBacnet(hex('81 00 0006 0000 // successful completion'))).m;
  assert.deepEqual([res.bvlcFunction, res.bvlcValue], [0, 0]);
  const fwd = okMessage(
    decodeBacnet(
      hex(`
        81 04 001f           // Forwarded-NPDU
        c0a80069 bac0        // originally from 192.168.0.105:47808
        01 20 ffff 00 ff     // NPDU to all networks
        10 00 c4 0200007b 22 05c4 91 03 22 0104  // I-Am device 123, max APDU 1476, vendor 260
      `),
    ),
  ).m;
  assert.equal(fwd.forwardedFrom, '192.168.0.105:47808');
  const iam = apduOf(fwd, 'unconfirmed_request');
  assert.deepEqual(iam.request, {
    kind: 'i_am',
    device: { type: 8, instance: 123 },
    maxApdu: 1476,
    segmentation: 3,
    vendorId: 260,
  });
});

test('network layer messages: Who-Is-Router-To-Network and I-Am-Router-To-Network (bacnet-services 273, 274)', () => {
  const who = okMessage(decodeBacnet(hex('81 0b 0007 01 80 00'))).m;
  assert.deepEqual(who.npdu?.network, { type: 0, vendorId: -1, networks: [], data: new Uint8Array(0) });
  assert.equal(networkMessageInfo(0).operation, 'bacnet.who_is_router_to_network');
  const iam = okMessage(decodeBacnet(hex('81 0b 000b 01 80 01 0002 0003'))).m;
  assert.deepEqual(iam.npdu?.network?.networks, [2, 3]);
  assert.equal(iam.npdu?.apdu, null);
  assert.equal(networkMessageInfo(0x85).name, 'proprietary_network_message_0x85');
});

test('AtomicReadFile / AtomicWriteFile stream access (bacnet-services.pcap frames 9, 11)', () => {
  const rd = apduOf(
    okMessage(decodeBacnet(hex('81 0a 001b 01 24 0003 01 6c ff 02 03 05 06 c4 02800000 0e 31 00 22 01b8 0f'))).m,
    'confirmed_request',
  );
  assert.deepEqual(rd.request, { kind: 'file', object: { type: 10, instance: 0 }, stream: true, start: 0, count: 440 });
  const wr = apduOf(
    okMessage(decodeBacnet(hex('81 0a 0018 01 04 02 03 07 07 c4 02800001 0e 31 05 65 04 61626364 0f'))).m,
    'confirmed_request',
  );
  assert.deepEqual(wr.request, { kind: 'file', object: { type: 10, instance: 1 }, stream: true, start: 5, count: 4 });
});

test('ReinitializeDevice and DeviceCommunicationControl with passwords (bacnet-services.pcap 265, 267)', () => {
  const re = apduOf(
    okMessage(
      decodeBacnet(
        hex(`81 0a 0013 01 24 0003 01 6c ff 02 03 84 11  // invoke 0x84, deviceCommunicationControl
             19 01       // [1] disable
             29 00       // [2] password: empty UTF-8 string`),
      ),
    ).m,
    'confirmed_request',
  );
  assert.equal(re.service, 17);
  assert.deepEqual(re.request, { kind: 'device_communication_control', duration: -1, enable: 1, password: true });
  const dcc = apduOf(
    okMessage(
      decodeBacnet(
        hex(`81 0a 001e 01 24 0003 01 6c ff 02 03 85 11
             09 01       // [0] time duration 1 minute
             19 01       // [1] disable
             2d 09 00 66696c6973746572  // [2] password "filister"`),
      ),
    ).m,
    'confirmed_request',
  );
  assert.deepEqual(dcc.request, { kind: 'device_communication_control', duration: 1, enable: 1, password: true });
  const reinit = apduOf(
    okMessage(decodeBacnet(hex('81 0a 0011 01 04 02 03 09 14 09 01 // reinitialize warmstart'))).m,
    'confirmed_request',
  );
  assert.deepEqual(reinit.request, { kind: 'reinitialize_device', state: 1, password: false });
  assert.equal(confirmedService(20).access, 'control');
});

test('I-Have and Who-Has (icsnpp-bacnet-segmented-data.pcap frames 1, 2)', () => {
  const ihave = apduOf(
    okMessage(decodeBacnet(hex('81 0b 001d 01 00 10 01 c4 020000fe c4 05c00004 75 09 01 03a489b793788251'))).m,
    'unconfirmed_request',
  );
  assert.equal(ihave.request.kind, 'object');
  if (ihave.request.kind !== 'object') return;
  assert.deepEqual(
    [ihave.request.device, ihave.request.object],
    [
      { type: 8, instance: 254 },
      { type: 23, instance: 4 },
    ],
  );
  assert.equal(ihave.request.name?.length, 8, 'character set 1 (IBM DBCS): kept as bytes');
  const whohas = apduOf(okMessage(decodeBacnet(hex('81 0b 000d 01 00 10 07 2c 05c00005'))).m, 'unconfirmed_request');
  assert.deepEqual(whohas.request, { kind: 'object', object: { type: 23, instance: 5 } });
  assert.deepEqual(
    apduOf(okMessage(decodeBacnet(hex('81 0b 000c 01 20 ffff 00 ff 10 08'))).m, 'unconfirmed_request').request,
    { kind: 'who_is', low: -1, high: -1 },
  );
});

test('character sets and numeric values', () => {
  assert.equal(charString(hex('00 4162')), 'Ab');
  assert.equal(charString(hex('04 0041 00e9')), 'Aé');
  assert.equal(charString(hex('05 41e9')), 'A.');
  assert.deepEqual(
    numericValues([
      { kind: 'real', value: 1.5 },
      { kind: 'boolean', value: true },
      { kind: 'null' },
      { kind: 'string', value: 'x' },
      { kind: 'enumerated', value: 3 },
    ]),
    [1.5, 1, 3],
  );
});

test('malformed datagrams are reported with a code; a bad service body is an anomaly', () => {
  assert.deepEqual(decodeBacnet(new Uint8Array(0)), { kind: 'incomplete', needed: 4 });
  assert.equal((decodeBacnet(hex('82 0a 0006 0100')) as { code: string }).code, 'bacnet.bad_bvlc_type');
  assert.equal((decodeBacnet(hex('81 0d 0004')) as { code: string }).code, 'bacnet.bad_bvlc_function');
  assert.equal((decodeBacnet(hex('81 0a 0002')) as { code: string }).code, 'bacnet.bad_length');
  assert.equal((decodeBacnet(hex('81 0a 0007 01 20 ff')) as { code: string }).code, 'bacnet.truncated');
  assert.equal((decodeBacnet(new TextEncoder().encode('M-SEARCH *')) as { code: string }).code, 'bacnet.bad_bvlc_type');
  // icsnpp-bacnet-example.pcap frame 573: the BVLC length says 17 of 13 bytes
  const long = okMessage(decodeBacnet(hex('81 0a 0011 01 04 50 01 14 91 05 91 1a')));
  assert.deepEqual(long.anomalies, ['bacnet.length_mismatch']);
  assert.equal(apduOf(long.m, 'error').errorCode, 26);
  const badBody = okMessage(decodeBacnet(hex('81 0a 000c 01 04 00 05 01 0c 0c 02 // object id cut short')));
  assert.deepEqual(badBody.anomalies, ['bacnet.bad_service_data']);
  const r = apduOf(badBody.m, 'confirmed_request');
  assert.deepEqual([r.service, r.request], [12, { kind: 'none' }]);
});

test('property: decodeBacnet is total and never over-consumes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const d = decodeBacnet(bytes);
      if (d.kind === 'ok') assert.ok(d.consumed <= bytes.length);
    }),
    { numRuns: 3000 },
  );
});

test('property: valid BVLC/NPDU headers with random APDUs decode or fail with a code', () => {
  fc.assert(
    fc.property(fc.constantFrom(0x0a, 0x0b, 0x04), fc.uint8Array({ minLength: 1, maxLength: 200 }), (fn, apdu) => {
      const head = fn === 0x04 ? [0x81, fn, 0, 0, 10, 0, 0, 1, 0xba, 0xc0, 1, 0] : [0x81, fn, 0, 0, 1, 0];
      const bytes = Uint8Array.from([...head, ...apdu]);
      bytes[2] = bytes.length >> 8;
      bytes[3] = bytes.length & 255;
      const d = decodeBacnet(bytes);
      assert.ok(d.kind === 'ok' || (d.kind === 'malformed' && d.code.startsWith('bacnet.')), JSON.stringify(d));
    }),
    { numRuns: 3000 },
  );
});

test('BACnet/Ethernet: LLC header (82 82 03) then the NPDU, decoded like BACnet/IP', async () => {
  const { decodeBacnetEthernet } = await import('./decode.ts');
  const frame = Uint8Array.from([
    0x82,
    0x82,
    0x03, // LLC: DSAP, SSAP BACnet, control UI
    0x01,
    0x20,
    0xff,
    0xff,
    0x00,
    0xff, // NPDU v1, DNET present: global broadcast, hop count 255
    0x10,
    0x08, // unconfirmed request, who-Is
  ]);
  const d = decodeBacnetEthernet(frame);
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.equal(d.value.bvlcFunction, -1);
  assert.equal(d.value.npdu?.apdu?.kind, 'unconfirmed_request');
  assert.equal(decodeBacnetEthernet(Uint8Array.from([0x42, 0x42, 0x03, 0])).kind, 'malformed');
});
