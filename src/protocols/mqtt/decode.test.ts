// The MQTT decoder on annotated packets of MQTT 3.1, 3.1.1 and 5.0 from the shared captures, malformed
// packets, the frame function, and totality on random bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex } from '../opcua/test-support.ts';
import { decodeMqtt, frameMqtt, topicText, type MqttBody, type MqttPacket } from './decode.ts';
import {
  CONNACK_5,
  CONNACK_5_ASSIGNED,
  CONNACK_OK,
  CONNECT_31,
  CONNECT_311,
  CONNECT_5,
  DISCONNECT_5,
  PINGREQ,
  PUBLISH_QOS2,
  PUBLISH_RETAINED,
  PUBREL,
  SUBACK_5,
  SUBSCRIBE_31,
  SUBSCRIBE_5,
} from './fixtures.ts';

function decoded(bytes: Uint8Array, version = 4): { packet: MqttPacket; anomalies: readonly string[] } {
  const d = decodeMqtt(bytes, version);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  assert.equal(d.consumed, bytes.length);
  return { packet: d.value, anomalies: d.anomalies };
}

/** The body variant whose kind includes K (some variants stand for two kinds, e.g. suback | unsuback). */
type BodyOf<K> = MqttBody extends infer B ? (B extends { kind: infer BK } ? (K extends BK ? B : never) : never) : never;

function body<K extends MqttBody['kind']>(bytes: Uint8Array, kind: K, version = 4): BodyOf<K> {
  const { packet, anomalies } = decoded(bytes, version);
  assert.deepEqual(anomalies, []);
  assert.equal(packet.body.kind, kind);
  return packet.body as BodyOf<K>;
}

test('MQTT 3.1 CONNECT, CONNACK, SUBSCRIBE and a retained PUBLISH', () => {
  const { packet } = decoded(CONNECT_31);
  assert.deepEqual(
    [packet.type, packet.typeName, packet.flags, packet.remainingLength, packet.headerLength],
    [1, 'connect', 0, 37, 2],
  );
  assert.deepEqual(packet.body, {
    kind: 'connect',
    protocolName: 'MQIsdp',
    protocolLevel: 3,
    flags: 2,
    cleanSession: true,
    willFlag: false,
    willQos: 0,
    willRetain: false,
    usernameFlag: false,
    passwordFlag: false,
    keepAlive: 5,
    properties: null,
    clientId: 'paho/34AAE54A75D839566E',
    willTopic: null,
  });
  assert.deepEqual(body(CONNACK_OK, 'connack'), {
    kind: 'connack',
    sessionPresent: false,
    returnCode: 0,
    returnCodeName: 'accepted',
    properties: null,
  });
  const sub = body(SUBSCRIBE_31, 'subscribe', 3);
  assert.deepEqual(
    [sub.packetId, sub.filterCount, sub.filters],
    [1, 1, [{ filter: 'SampleTopic', qos: 0, options: 0 }]],
  );
  const pub = body(PUBLISH_RETAINED, 'publish', 3);
  assert.deepEqual(
    [pub.qos, pub.retain, pub.dup, topicText(pub.topic), pub.packetId, pub.payloadLength, pub.properties],
    [0, true, false, 'SampleTopic', -1, 35, null],
  );
  assert.equal(topicText(pub.payload), 'Hello from the Paho blocking client');
});

test('MQTT 3.1.1 CONNECT with credentials: their presence only; QoS 2 PUBLISH and its handshake', () => {
  const c = body(CONNECT_311, 'connect');
  assert.deepEqual([c.usernameFlag, c.passwordFlag, c.clientId, c.keepAlive], [true, true, 'myvoiceismypassport', 60]);
  assert.ok(!JSON.stringify(c).includes('pass"') && !JSON.stringify(c).includes('"user"'), 'no credentials kept');
  const p = body(PUBLISH_QOS2, 'publish');
  assert.deepEqual([p.qos, p.packetId, topicText(p.topic), p.payloadLength], [2, 1, 'topicX', 16]);
  const rel = decoded(PUBREL).packet;
  assert.deepEqual(
    [rel.type, rel.flags, rel.body],
    [6, 2, { kind: 'ack', packetId: 1, reasonCode: 0, properties: null }],
  );
});

test('MQTT 5.0 CONNECT with properties, will properties, will topic; CONNACK and DISCONNECT reason codes', () => {
  const c = body(CONNECT_5, 'connect');
  assert.deepEqual(
    [c.protocolLevel, c.willFlag, c.willTopic, c.clientId, c.usernameFlag, c.passwordFlag],
    [5, true, 'willtopic', 'myvoiceismypassport', true, true],
  );
  assert.deepEqual(c.properties, {
    count: 6,
    userProperties: 2,
    maximumPacketSize: 11111,
    receiveMaximum: 222,
    sessionExpiry: 555,
    topicAliasMaximum: 666,
  });
  const ack = body(CONNACK_5, 'connack', 5);
  assert.deepEqual(
    [ack.returnCode, ack.returnCodeName, ack.properties],
    [0, 'success', { count: 1, userProperties: 0, topicAliasMaximum: 10 }],
  );
  const assigned = body(CONNACK_5_ASSIGNED, 'connack', 5);
  assert.equal(assigned.properties?.assignedClientIdentifier, 'auto-1B43E800-08E3-3BA1-2E97-E9A0B4064BF5');
  const d = body(DISCONNECT_5, 'disconnect', 5);
  assert.deepEqual([d.reasonCode, d.properties?.sessionExpiry, d.properties?.userProperties], [4, 122, 1]);
});

test('MQTT 5.0 SUBSCRIBE and SUBACK carry a property length; 3.1.1 ones do not', () => {
  const s = body(SUBSCRIBE_5, 'subscribe', 5);
  assert.deepEqual(
    [s.filterCount, s.filters.map((f) => f.filter), s.properties],
    [2, ['topicX', 'topicY'], { count: 0, userProperties: 0 }],
  );
  const a = body(SUBACK_5, 'suback', 5);
  assert.deepEqual([a.packetId, [...a.codes]], [1, [0, 0]]);
  // The same SUBACK read as 3.1.1 has three return codes.
  assert.deepEqual([...body(SUBACK_5, 'suback', 4).codes], [0, 0, 0]);
});

test('MQTT 5.0 PUBLISH with a topic alias and properties; PUBACK with and without a reason code', () => {
  const pub = hex(`
    32 1d                      // PUBLISH QoS 1, remaining length 29
    0005 612f622f63            // topic "a/b/c"
    0007                       // packet id 7
    0c 23 0003 01 01 03 0004 6a736f6e // properties: Topic Alias 3, Payload Format 1, Content Type "json"
    7b2261223a317d             // payload {"a":1}
  `);
  const p = body(pub, 'publish', 5);
  assert.deepEqual(
    [topicText(p.topic), p.packetId, p.payloadLength, p.properties],
    ['a/b/c', 7, 7, { count: 3, userProperties: 0, topicAlias: 3, payloadFormat: 1, contentType: 'json' }],
  );
  const aliased = body(hex('30 08 0000 03 23 0003 6869 // topic "" with alias 3, payload "hi"'), 'publish', 5);
  assert.deepEqual([aliased.topic.length, aliased.properties?.topicAlias, aliased.payloadLength], [0, 3, 2]);
  assert.deepEqual(body(hex('40 02 0007'), 'ack', 5), { kind: 'ack', packetId: 7, reasonCode: 0, properties: null });
  assert.deepEqual(body(hex('40 03 0007 97 // Quota exceeded'), 'ack', 5).reasonCode, 0x97);
});

test('an oversized PUBLISH decoded from its head: payload length from the full size', () => {
  const head = hex(`
    34 be843d                  // PUBLISH QoS 2, remaining length 999,998
    0006 746f70696358 0001     // topic "topicX", packet id 1
    ffd8ffe0                   // the first payload bytes (a JPEG)
  `);
  const d = decodeMqtt(head, 4, 1_000_002);
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok' || d.value.body.kind !== 'publish') return;
  assert.equal(d.consumed, head.length);
  assert.deepEqual(
    [topicText(d.value.body.topic), d.value.body.packetId, d.value.body.payloadLength, d.value.body.payload.length],
    ['topicX', 1, 999_998 - 10, 4],
  );
  assert.deepEqual(decodeMqtt(head, 4), { kind: 'incomplete', needed: 1_000_002 });
});

test('anomalies on packets that still decode', () => {
  const anomalies = (bytes: Uint8Array, version = 4): readonly string[] => decoded(bytes, version).anomalies;
  // 3.1.1 password without user name; reserved connect flag
  assert.deepEqual(anomalies(hex('10 11 0004 4d515454 04 41 003c 0002 6964 0001 78')), [
    'mqtt.bad_connect_flags',
    'mqtt.password_without_username',
  ]);
  assert.deepEqual(anomalies(hex('30 02 0000 // empty topic without alias')), ['mqtt.empty_topic']);
  assert.deepEqual(anomalies(hex('32 05 0001 61 0000 // QoS 1 packet id 0')), ['mqtt.zero_packet_id']);
  assert.deepEqual(anomalies(hex('20 02 02 00 // CONNACK reserved flag')), ['mqtt.bad_connack_flags']);
  assert.deepEqual(anomalies(hex('e0 01 00 // DISCONNECT with a body in 3.1.1')), ['mqtt.trailing_bytes']);
});

test('malformed packets', () => {
  const code = (bytes: Uint8Array, version = 4): string => {
    const d = decodeMqtt(bytes, version);
    return d.kind === 'malformed' ? d.code : d.kind;
  };
  assert.equal(code(hex('00 00')), 'mqtt.bad_fixed_header'); // type 0
  assert.equal(code(hex('62 02 0001').map((b, i) => (i === 0 ? 0x60 : b))), 'mqtt.bad_fixed_header'); // PUBREL flags 0
  assert.equal(code(hex('36 02 0000')), 'mqtt.bad_fixed_header'); // PUBLISH QoS 3
  assert.equal(code(hex('c0 01 00')), 'mqtt.bad_length'); // PINGREQ with a body
  assert.equal(code(hex('30 ff ff ff ff 01')), 'mqtt.bad_length'); // five-byte remaining length
  assert.equal(code(hex('30 05 0009 6162 63')), 'mqtt.truncated'); // topic longer than the packet
  assert.equal(code(hex('10 0c 0004 48545450 04 02 003c 0000')), 'mqtt.bad_protocol'); // "HTTP"
  assert.equal(code(hex('10 0c 0004 4d515454 07 02 003c 0000')), 'mqtt.bad_protocol'); // level 7
  assert.equal(code(hex('82 06 0001 0001 61 03')), 'mqtt.bad_subscription_options'); // QoS 3
  assert.equal(code(hex('30 06 0001 61 02 7f00'), 5), 'mqtt.bad_property'); // property 0x7f
  assert.equal(code(hex('30 04 0001 61 05'), 5), 'mqtt.truncated'); // properties past the packet
  assert.deepEqual(decodeMqtt(hex('30')), { kind: 'incomplete', needed: 2 });
  assert.deepEqual(decodeMqtt(PUBLISH_QOS2.subarray(0, 10)), { kind: 'incomplete', needed: 28 });
});

test('frame function', () => {
  assert.equal(frameMqtt(CONNECT_5), 207);
  assert.equal(frameMqtt(CONNECT_5.subarray(0, 2)), 0, 'length continues');
  assert.equal(frameMqtt(CONNECT_5.subarray(0, 3)), 207);
  assert.equal(frameMqtt(PINGREQ), 2);
  assert.equal(frameMqtt(hex('30 ff ff ff 7f')), 1 + 4 + 268_435_455);
  assert.equal(frameMqtt(hex('30 ff ff ff ff')), -1);
  assert.equal(frameMqtt(hex('10 05')), -1, 'CONNECT shorter than any');
  assert.equal(frameMqtt(new TextEncoder().encode('GET / HTTP/1.1')), -1, '0x47: PUBACK with flags 7');
  assert.equal(frameMqtt(hex('16 0301')), -1, 'TLS record: CONNECT with flags 6');
});

test('property: the decoder and the frame function are total on random bytes', () => {
  const samples = [
    CONNECT_31,
    CONNECT_311,
    CONNECT_5,
    CONNACK_5,
    SUBSCRIBE_5,
    PUBLISH_QOS2,
    DISCONNECT_5,
    CONNACK_5_ASSIGNED,
  ];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 120 }),
        fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, at, v]) => {
          const b = s.slice();
          b[at % b.length] = v;
          return b;
        }),
        fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([s, cut]) => s.subarray(0, cut % (s.length + 1))),
      ),
      fc.constantFrom(3, 4, 5),
      fc.integer({ min: -1, max: 400 }),
      (bytes, version, total) => {
        const d = decodeMqtt(bytes, version, total);
        if (d.kind === 'ok') assert.ok(d.consumed <= bytes.length);
        const n = frameMqtt(bytes);
        assert.ok(Number.isInteger(n) && n >= -1);
      },
    ),
    { numRuns: 4000 },
  );
});
