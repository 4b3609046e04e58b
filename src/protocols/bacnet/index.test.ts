// The BACnet/IP analyzer end to end: one operation per request with object type/instance/values,
// pairing by invoke id and network address in both directions, errors/rejects/aborts, BBMD requests,
// identity facts from I-Am and device-object ACKs and their side, the pdu trace, confirmation,
// violation, bounds, and totality on random datagrams (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BacnetAnalyzer, UNCONFIRMED_PDU_BASE, bacnetProtocol } from './index.ts';
import { ABORT_EXCEPTION_BASE, REJECT_EXCEPTION_BASE } from './state.ts';
import { hex } from './test-support.ts';
import { Ctx } from '../_core/testing.ts';

/** A BVLL with the right length: function, then NPDU+APDU hex. */
function bvll(fn: number, body: string): Uint8Array {
  const b = hex(body);
  return Uint8Array.from([0x81, fn, (b.length + 4) >> 8, (b.length + 4) & 255, ...b]);
}
const unicast = (body: string): Uint8Array => bvll(0x0a, body);

/** ReadProperty of object `obj` (8 hex digits) property `prop` (2 hex digits), invoke `id`. */
const rp = (id: number, obj: string, prop: string): Uint8Array =>
  unicast(`01 04 02 05 ${id.toString(16).padStart(2, '0')} 0c 0c ${obj} 19 ${prop}`);
/** Its ACK with one application-tagged value. */
const rpAck = (id: number, obj: string, prop: string, value: string): Uint8Array =>
  unicast(`01 00 30 ${id.toString(16).padStart(2, '0')} 0c 0c ${obj} 19 ${prop} 3e ${value} 3f`);

const I_AM = bvll(0x0b, '01 20 ffff 00 ff 10 00 c4 0200006f 21 32 91 03 21 2a'); // bacnet-ip.pcap frame 1

test('registration: UDP 47808 and 47809, and a probe for BVLLs', () => {
  assert.deepEqual(
    [bacnetProtocol.name, bacnetProtocol.transport, bacnetProtocol.ports],
    ['bacnet', 'udp', [47808, 47809]],
  );
  assert.equal(bacnetProtocol.probe?.(I_AM, 0), true);
  assert.equal(bacnetProtocol.probe?.(new TextEncoder().encode('M-SEARCH * HTTP/1.1'), 0), false);
});

test('a ReadProperty and its ACK make one read operation on the object; the pdu trace has the service', () => {
  const ctx = new Ctx(true);
  const a = bacnetProtocol.createAnalyzer(ctx);
  a.data(0, rp(1, '00000003', '55'), 10); // analog-input 3, present-value
  a.data(1, rpAck(1, '00000003', '55', '44 42480000'), 20);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op']);
  assert.deepEqual(ctx.ops()[0], {
    name: 'bacnet.read_property',
    protocol: 'bacnet',
    code: 12,
    access: 'read',
    tsMicros: 10,
    responded: true,
    addressSpace: 'analog_input',
    address: 3,
    quantity: 1,
  });
  assert.deepEqual(
    ctx.events.filter((e) => e.t === 'pdu'),
    [
      { t: 'pdu', dir: 0, code: 12 },
      { t: 'pdu', dir: 1, code: 12 },
    ],
  );
});

test('writes carry the values written; errors, rejects and aborts set the exception', () => {
  const ctx = new Ctx();
  const a = new BacnetAnalyzer(ctx);
  // bacnet-services.pcap frame 3: analog-output 101 present-value := 50.0 @ priority 10
  a.data(0, unicast('01 04 02 03 02 0f 0c 00400065 19 55 3e 44 42480000 3f 49 0a'), 1);
  a.data(1, unicast('01 00 20 02 0f'), 2);
  // WritePropertyMultiple: binary-value 1 present-value := active (enumerated 1), out-of-service := true
  a.data(0, unicast('01 04 02 03 03 10 0c 01400001 1e 09 55 2e 91 01 2f 09 51 2e 11 2f 1f'), 3);
  a.data(1, unicast('01 00 50 03 10 91 02 91 28 // error: property, write-access-denied'), 4);
  a.data(0, rp(4, '00000001', '55'), 5);
  a.data(1, unicast('01 00 60 04 09 // reject: unrecognized service'), 6);
  a.data(0, rp(5, '00000001', '55'), 7);
  a.data(1, unicast('01 00 71 05 04 // abort from the server: segmentation not supported'), 8);
  a.data(0, rp(6, '00000001', '55'), 9);
  a.data(0, unicast('01 00 70 06 00 // the client aborts its own request'), 10);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.addressSpace, o.address, o.values, o.exception]),
    [
      ['bacnet.write_property', 'write', 'analog_output', 101, [50], undefined],
      ['bacnet.write_property_multiple', 'write', 'binary_value', 1, [1, 1], 0x28],
      ['bacnet.read_property', 'read', 'analog_input', 1, undefined, REJECT_EXCEPTION_BASE + 9],
      ['bacnet.read_property', 'read', 'analog_input', 1, undefined, ABORT_EXCEPTION_BASE + 4],
      ['bacnet.read_property', 'read', 'analog_input', 1, undefined, ABORT_EXCEPTION_BASE + 0],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('I-Am is a discovery operation and an identity of its sender (side 0 for a broadcast flow)', () => {
  const ctx = new Ctx(true);
  const a = bacnetProtocol.createAnalyzer(ctx);
  a.data(0, I_AM, 1);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op', 'fact']);
  assert.deepEqual(
    [ctx.ops()[0]!.name, ctx.ops()[0]!.access, ctx.ops()[0]!.responded, ctx.ops()[0]!.address],
    ['bacnet.i_am', 'discovery', false, 111],
  );
  assert.deepEqual(ctx.facts()[0], {
    kind: 'identity',
    side: 0,
    protocol: 'bacnet',
    vendor: 'Acuity Brands Lighting, Inc.',
    extra: { deviceInstance: '111', vendorId: '42', maxApdu: '50', segmentation: 'no_segmentation' },
  });
  assert.deepEqual(
    ctx.events.filter((e) => e.t === 'pdu'),
    [{ t: 'pdu', dir: 0, code: UNCONFIRMED_PDU_BASE }],
  );
  // An I-Am answering a unicast Who-Is goes from the server side: side 1.
  const b = new Ctx();
  new BacnetAnalyzer(b).data(1, I_AM, 1);
  assert.equal((b.facts()[0] as { side: number }).side, 1);
});

test('an I-Am through a router names the network; a Forwarded-NPDU one is not attributed', () => {
  const routed = new Ctx();
  // bacnet-bbmd-on-same-subnet.pcap: from SNET 26001 (0x6591), SADR 0x72
  new BacnetAnalyzer(routed).data(
    0,
    bvll(0x0b, '01 28 ffff 00 6591 01 72 ff 10 00 c4 02015062 21 32 91 03 22 0104'),
    1,
  );
  assert.deepEqual((routed.facts()[0] as { extra: Record<string, string> }).extra.network, '26001:72');
  const fwd = new Ctx();
  new BacnetAnalyzer(fwd).data(
    0,
    bvll(0x04, 'c0a80069 bac0 01 20 ffff 00 ff 10 00 c4 0200007b 22 05c4 91 03 22 0104'),
    1,
  );
  assert.deepEqual(fwd.kinds(), ['confirm', 'op']);
});

test('device-object ACKs are merged into one identity fact of the responder at the end of the flow', () => {
  const ctx = new Ctx();
  const a = new BacnetAnalyzer(ctx);
  const str = (s: string): string => {
    const b = [0, ...new TextEncoder().encode(s)];
    return `75 ${b.length.toString(16).padStart(2, '0')} ${b.map((x) => x.toString(16).padStart(2, '0')).join('')}`;
  };
  const props: [string, string][] = [
    ['79', str('Lithonia Lighting')], // vendor-name
    ['46', str('Simple BACnet Server')], // model-name
    ['2c', str('1.00')], // firmware-revision
    ['0c', str('none')], // application-software-version
    ['4d', str('SimpleServer')], // object-name
  ];
  props.forEach(([p, v], i) => {
    a.data(0, rp(i, '0200006f', p), i);
    a.data(1, rpAck(i, '0200006f', p, v), i);
  });
  assert.deepEqual(ctx.facts(), []);
  a.end();
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 1,
      protocol: 'bacnet',
      vendor: 'Lithonia Lighting',
      model: 'Simple BACnet Server',
      firmware: '1.00',
      extra: { deviceInstance: '111', applicationSoftwareVersion: 'none', objectName: 'SimpleServer' },
    },
  ]);
});

test('replies pair by invoke id and network address, in both directions of one flow', () => {
  const ctx = new Ctx();
  const a = new BacnetAnalyzer(ctx);
  // The same invoke id to two devices behind a router (DNET 3, DADR 0x6c / 0x6d).
  a.data(0, unicast('01 24 0003 01 6c ff 02 05 07 0c 0c 00000001 19 55'), 1);
  a.data(0, unicast('01 24 0003 01 6d ff 02 05 07 0c 0c 00000002 19 55'), 2);
  // The other side reads too (both ends on 47808).
  a.data(1, rp(7, '00000009', '55'), 3);
  a.data(1, unicast('01 08 0003 01 6d 30 07 0c 0c 00000002 19 55 3e 21 01 3f'), 4);
  a.data(0, rpAck(7, '00000009', '55', '21 05'), 5);
  a.data(1, unicast('01 08 0003 01 6c 30 07 0c 0c 00000001 19 55 3e 21 01 3f'), 6);
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [2, true],
      [9, true],
      [1, true],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('BBMD requests pair with their Result; a NAK is the exception; network messages are operations', () => {
  const ctx = new Ctx();
  const a = new BacnetAnalyzer(ctx);
  a.data(0, hex('81 05 0006 ea60'), 1); // Register-Foreign-Device, TTL 60000
  a.data(1, hex('81 00 0006 0000'), 2);
  a.data(0, hex('81 02 0004'), 3); // Read-BDT
  a.data(1, hex('81 00 0006 0020'), 4); // NAK
  a.data(0, bvll(0x0b, '01 80 00'), 5); // Who-Is-Router-To-Network
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.responded, o.exception]),
    [
      ['bacnet.register_foreign_device', 'other', true, undefined],
      ['bacnet.read_broadcast_distribution_table', 'read', true, 0x20],
      ['bacnet.who_is_router_to_network', 'discovery', false, undefined],
    ],
  );
});

test('only the first segment of a segmented message counts', () => {
  const ctx = new Ctx(true);
  const a = new BacnetAnalyzer(ctx);
  a.data(0, rp(9, '02000001', '4c'), 1);
  a.data(1, unicast('01 00 3c 09 00 04 0c 0c 02000001 19 4c 3e c4 00000001'), 2); // segment 0, more follow
  a.data(0, unicast('01 00 40 09 00 04 // segment ACK'), 3);
  a.data(1, unicast('01 00 38 09 01 04 0c c4 00000002 3f'), 4); // segment 1, last
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded]),
    [['bacnet.read_property', true]],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('non-BACnet datagrams on 47808 violate the protocol; after confirmation they are anomalies', () => {
  const ctx = new Ctx();
  const a = bacnetProtocol.createAnalyzer(ctx);
  a.data(0, new TextEncoder().encode('M-SEARCH * HTTP/1.1\r\n'), 1);
  a.data(0, I_AM, 2);
  a.end();
  assert.deepEqual(ctx.events, [{ t: 'violate', code: 'bacnet.not_bacnet' }]);
  const b = new Ctx();
  const c = new BacnetAnalyzer(b);
  c.data(0, I_AM, 1);
  c.data(0, hex('81 0a 0005 02'), 2);
  assert.deepEqual(b.anomalies(), ['bacnet.truncated']);
});

test('pending requests are bounded: the oldest are evicted and reported unanswered', () => {
  const ctx = new Ctx();
  const a = new BacnetAnalyzer(ctx, 2);
  for (let i = 1; i <= 4; i++) a.data(0, rp(i, `0000000${i}`, '55'), i);
  a.data(1, rpAck(4, '00000004', '55', '21 01'), 9);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.address, o.responded]),
    [
      [1, false],
      [2, false],
      [4, true],
      [3, false],
    ],
  );
  assert.equal(ctx.anomalies().filter((x) => x === 'bacnet.unanswered_request').length, 3);
});

test('property: random datagrams and random APDUs behind valid headers never throw', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          dir: fc.constantFrom(0 as const, 1 as const),
          bytes: fc.uint8Array({ maxLength: 200 }),
          wrap: fc.boolean(),
        }),
        {
          maxLength: 30,
        },
      ),
      (steps) => {
        const ctx = new Ctx(true);
        const a = new BacnetAnalyzer(ctx, 8);
        a.data(0, I_AM, 0);
        for (const s of steps) {
          const bytes = s.wrap ? Uint8Array.from([0x81, 0x0a, 0, s.bytes.length + 6, 1, 0, ...s.bytes]) : s.bytes;
          a.data(s.dir, bytes, 0);
        }
        a.end();
        assert.ok(!ctx.kinds().includes('violate'));
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: every request of a random exchange is reported exactly once', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()), { maxLength: 40 }), (reqs) => {
      const ctx = new Ctx();
      const a = new BacnetAnalyzer(ctx);
      const ids = [...new Set(reqs.map(([id]) => id))];
      const answered = new Map(reqs.map(([id, ans]) => [id, ans]));
      for (const id of ids) a.data(0, rp(id, '00000001', '55'), id);
      for (const id of ids) if (answered.get(id) === true) a.data(1, rpAck(id, '00000001', '55', '21 01'), id);
      a.end();
      const ops = ctx.ops();
      assert.equal(ops.length, ids.length);
      assert.equal(ops.filter((o) => o.responded).length, ids.filter((id) => answered.get(id) === true).length);
    }),
    { numRuns: 500 },
  );
});
