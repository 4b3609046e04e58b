// The MQTT analyzer end to end on byte streams: sessions of MQTT 3.1, 3.1.1 and 5.0, QoS handshakes,
// deliveries, Sparkplug B topics, topic aliases, identity facts, violation, resynchronisation,
// oversized packets, bounds, and the same results whatever the chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecordingContext, cat, chunks, hex, type Ev } from '../opcua/test-support.ts';
import {
  CONNACK_5,
  CONNACK_5_ASSIGNED,
  CONNACK_OK,
  CONNECT_31,
  CONNECT_311,
  CONNECT_5,
  CONNECT_5_NO_ID,
  DISCONNECT,
  DISCONNECT_5,
  PINGREQ,
  PINGRESP,
  PUBCOMP,
  PUBLISH_QOS2,
  PUBLISH_RETAINED,
  PUBREC,
  PUBREL,
  SUBACK_31,
  SUBACK_5,
  SUBSCRIBE_31,
  SUBSCRIBE_5,
} from './fixtures.ts';
import { MqttAnalyzer, mqttProtocol, type MqttOptions } from './index.ts';

const enc = new TextEncoder();

/** Remaining Length as a Variable Byte Integer. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
/** A PUBLISH of `payload` bytes to `topic` (3.1.1 layout; `props` inserts a 5.0 property block). */
function publish(topic: string, qos = 0, packetId = 1, payload = 4, props: number[] | null = null): Uint8Array {
  const t = enc.encode(topic);
  const body = [
    t.length >> 8,
    t.length & 255,
    ...t,
    ...(qos > 0 ? [packetId >> 8, packetId & 255] : []),
    ...(props ?? []),
  ];
  const remaining = body.length + payload;
  return Uint8Array.from([0x30 | (qos << 1), ...varint(remaining), ...body, ...new Array<number>(payload).fill(0x41)]);
}
/** PUBACK/PUBREC/PUBREL/PUBCOMP/UNSUBACK (PUBREL has the fixed flags 0010). */
function ack(type: number, packetId: number, reason = -1): Uint8Array {
  return Uint8Array.from([
    (type << 4) | (type === 6 ? 2 : 0),
    reason < 0 ? 2 : 3,
    packetId >> 8,
    packetId & 255,
    ...(reason < 0 ? [] : [reason]),
  ]);
}

function run(
  steps: ReadonlyArray<readonly [0 | 1, Uint8Array]>,
  opts: MqttOptions = {},
  trace = false,
): RecordingContext {
  const ctx = new RecordingContext(trace);
  const a = new MqttAnalyzer(ctx, opts);
  for (const [dir, bytes] of steps) a.data(dir, bytes, 1);
  a.end();
  return ctx;
}

function summary(ctx: RecordingContext): unknown[] {
  return ctx.ops().map((o) => [o.name, o.access, o.responded, o.quantity, o.exception]);
}

test('registration: name, transport, port 1883, and a probe for CONNECT only', () => {
  assert.equal(mqttProtocol.name, 'mqtt');
  assert.equal(mqttProtocol.transport, 'tcp');
  assert.deepEqual(mqttProtocol.ports, [1883]);
  for (const c of [CONNECT_31, CONNECT_311, CONNECT_5]) assert.equal(mqttProtocol.probe?.(c, 0), true);
  assert.equal(mqttProtocol.probe?.(CONNECT_311, 1), false);
  assert.equal(mqttProtocol.probe?.(PINGREQ, 0), false);
  assert.equal(mqttProtocol.probe?.(hex('10 0c 0004 48545450 04 02 003c 0000'), 0), false);
  assert.equal(mqttProtocol.probe?.(enc.encode('GET / HTTP/1.1\r\n\r\n'), 0), false);
});

test('an MQTT 3.1 session: connect, subscribe, a delivery, pings, disconnect', () => {
  const ctx = run(
    [
      [0, CONNECT_31],
      [1, CONNACK_OK],
      [0, SUBSCRIBE_31],
      [1, SUBACK_31],
      [1, PUBLISH_RETAINED],
      [0, PINGREQ],
      [1, PINGRESP],
      [0, DISCONNECT],
    ],
    {},
    true,
  );
  assert.deepEqual(
    ctx.events.flatMap((e) => (e.t === 'pdu' ? [`${e.dir}:${e.code}`] : [])),
    ['0:1', '1:2', '0:8', '1:9', '1:3', '0:12', '1:13', '0:14'],
  );
  assert.deepEqual(summary(ctx), [
    ['mqtt.connect', 'other', true, undefined, undefined],
    ['mqtt.subscribe', 'read', true, 1, undefined],
    ['mqtt.deliver', 'read', false, 1, undefined],
    ['mqtt.ping', 'diagnostic', true, undefined, undefined],
    ['mqtt.disconnect', 'other', false, undefined, undefined],
  ]);
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 0,
      protocol: 'mqtt',
      extra: { protocolVersion: '3.1', usernamePresent: 'false', clientId: 'paho/34AAE54A75D839566E' },
    },
  ]);
  assert.equal(ctx.kinds().filter((k) => k === 'confirm').length, 1);
  assert.deepEqual(ctx.anomalies(), []);
});

test('QoS 2: the PUBLISH is answered by PUBREC; PUBREL and PUBCOMP complete it without operations', () => {
  const ctx = run([
    [0, CONNECT_311],
    [1, CONNACK_OK],
    [0, PUBLISH_QOS2],
    [1, PUBREC],
    [0, PUBREL],
    [1, PUBCOMP],
  ]);
  assert.deepEqual(summary(ctx).slice(1), [['mqtt.publish', 'write', true, 1, undefined]]);
  assert.deepEqual(ctx.identities()[0]?.extra?.usernamePresent, 'true');
  assert.deepEqual(ctx.anomalies(), []);
});

test('QoS 1 deliveries are paired with the client PUBACK; acknowledgements of the wrong kind are anomalies', () => {
  const ctx = run([
    [0, CONNECT_311],
    [1, CONNACK_OK],
    [1, publish('plant/line1/temp', 1, 9)],
    [0, ack(4, 9)],
    [0, publish('plant/line1/setpoint', 1, 3)],
    [1, ack(5, 3)], // PUBREC for a QoS 1 publish
    [1, ack(4, 77)], // nothing pending
  ]);
  assert.deepEqual(summary(ctx).slice(1), [
    ['mqtt.deliver', 'read', true, 1, undefined],
    ['mqtt.publish', 'write', true, 1, undefined],
  ]);
  assert.deepEqual(ctx.anomalies(), ['mqtt.response_mismatch', 'mqtt.unmatched_response']);
});

test('a DUP retransmission of a PUBLISH still waiting is the same request', () => {
  const first = publish('plant/valve', 1, 5);
  const again = first.slice();
  again[0]! |= 0x08; // DUP
  const ctx = run([
    [0, CONNECT_311],
    [1, CONNACK_OK],
    [0, first],
    [0, again],
    [1, ack(4, 5)],
  ]);
  assert.deepEqual(summary(ctx).slice(1), [['mqtt.publish', 'write', true, 1, undefined]]);
  assert.deepEqual(ctx.anomalies(), []);
});

test('refusals and failures are exceptions: CONNACK return code, SUBACK 0x80, PUBACK reason codes (5.0)', () => {
  const refused = run([
    [0, CONNECT_311],
    [1, hex('20 02 00 05 // not authorized')],
  ]);
  assert.deepEqual(summary(refused), [['mqtt.connect', 'other', true, undefined, 5]]);
  const ctx = run([
    [0, CONNECT_5],
    [1, CONNACK_5],
    [0, SUBSCRIBE_5],
    [1, hex('90 05 0001 00 00 87 // second filter: not authorized')],
    [0, publish('x', 1, 2, 1, [0])],
    [1, ack(4, 2, 0x97)],
    [0, DISCONNECT_5],
  ]);
  assert.deepEqual(summary(ctx), [
    ['mqtt.connect', 'other', true, undefined, undefined],
    ['mqtt.subscribe', 'read', true, 2, 0x87],
    ['mqtt.publish', 'write', true, 1, 0x97],
    ['mqtt.disconnect', 'other', false, undefined, undefined],
  ]);
  assert.deepEqual(ctx.anomalies(), []);
  assert.deepEqual(ctx.identities()[0]?.extra, {
    protocolVersion: '5.0',
    usernamePresent: 'true',
    clientId: 'myvoiceismypassport',
    willTopic: 'willtopic',
  });
});

test('MQTT 5.0: a client id assigned by the broker makes a second identity fact', () => {
  const ctx = run([
    [0, CONNECT_5_NO_ID],
    [1, CONNACK_5_ASSIGNED],
  ]);
  assert.deepEqual(
    ctx.identities().map((f) => f.extra?.clientId),
    [undefined, 'auto-1B43E800-08E3-3BA1-2E97-E9A0B4064BF5'],
  );
});

test('Sparkplug B topics name the operation; the edge node and host ids go to identity facts', () => {
  const connect = (will: string): Uint8Array => {
    const w = enc.encode(will);
    const body = [
      0,
      4,
      ...enc.encode('MQTT'),
      4,
      0x06,
      0,
      60,
      0,
      2,
      ...enc.encode('n1'),
      w.length >> 8,
      w.length,
      ...w,
      0,
      0,
    ];
    return Uint8Array.from([0x10, body.length, ...body]);
  };
  const ctx = run([
    [0, connect('spBv1.0/Plant1/NDEATH/Edge7')],
    [1, CONNACK_OK],
    [0, publish('spBv1.0/Plant1/NBIRTH/Edge7')],
    [0, publish('spBv1.0/Plant1/DBIRTH/Edge7/Pump3')],
    [0, publish('spBv1.0/Plant1/NDATA/Edge7')],
    [0, publish('spBv1.0/Plant1/DDATA/Edge7/Pump3', 1, 5)],
    [1, ack(4, 5)],
    [0, publish('spBv1.0/Plant1/DCMD/Edge7/Pump3')],
    [0, publish('spBv1.0/Plant1/NCMD/Edge7')],
    [0, publish('spBv1.0/STATE/scada-host-1')],
    [0, publish('spBv1.0/Plant1/DDATA/Edge7')], // a device message without a device id
    [1, publish('spBv1.0/Plant1/NCMD/Edge7')], // the broker delivers a command: a delivery
  ]);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.quantity]),
    [
      ['mqtt.connect', 'other', undefined],
      ['mqtt.sparkplug_nbirth', 'discovery', 1],
      ['mqtt.sparkplug_dbirth', 'discovery', 2],
      ['mqtt.sparkplug_ndata', 'write', 3],
      ['mqtt.sparkplug_ddata', 'write', 4],
      ['mqtt.sparkplug_dcmd', 'control', 5],
      ['mqtt.sparkplug_ncmd', 'control', 6],
      ['mqtt.sparkplug_state', 'discovery', 7],
      ['mqtt.publish', 'write', 8],
      ['mqtt.deliver', 'read', 1],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['mqtt.bad_sparkplug_topic']);
  assert.deepEqual(
    ctx.identities().map((f) => f.extra),
    [
      {
        protocolVersion: '3.1.1',
        usernamePresent: 'false',
        clientId: 'n1',
        willTopic: 'spBv1.0/Plant1/NDEATH/Edge7',
        sparkplugGroupId: 'Plant1',
        sparkplugEdgeNodeId: 'Edge7',
      },
    ],
    'the NBIRTH names the same node as the will: no second fact',
  );
});

test('topic aliases (5.0) stand for their topic: same operation, same distinct topic', () => {
  const alias = (n: number): number[] => [3, 0x23, n >> 8, n & 255];
  const ctx = run([
    [0, CONNECT_5],
    [1, CONNACK_5],
    [0, publish('spBv1.0/G/NDATA/E', 0, 0, 4, alias(1))],
    [0, publish('', 0, 0, 4, alias(1))],
    [0, publish('other/topic', 0, 0, 4, [0])],
    [0, publish('', 0, 0, 4, alias(2))], // alias never set
  ]);
  assert.deepEqual(
    ctx
      .ops()
      .slice(1)
      .map((o) => [o.name, o.quantity]),
    [
      ['mqtt.sparkplug_ndata', 1],
      ['mqtt.sparkplug_ndata', 1],
      ['mqtt.publish', 2],
      ['mqtt.publish', 3],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['mqtt.unknown_topic_alias']);
});

test('$SYS/broker/version delivered by the broker identifies it', () => {
  const version = enc.encode('mosquitto version 2.0.18');
  const topic = enc.encode('$SYS/broker/version');
  const body = [0, topic.length, ...topic, ...version];
  const ctx = run([
    [0, CONNECT_311],
    [1, CONNACK_OK],
    [1, Uint8Array.from([0x31, body.length, ...body])],
  ]);
  assert.deepEqual(ctx.facts()[1], {
    kind: 'identity',
    side: 1,
    protocol: 'mqtt',
    product: 'mosquitto',
    firmware: '2.0.18',
  });
});

test('other protocols on port 1883 violate MQTT and the analyzer stops', () => {
  const cases = [
    enc.encode('GET / HTTP/1.1\r\nHost: broker\r\n\r\n'),
    hex('16 0301 00f1 01 0000ed 0303'), // TLS ClientHello (MQTT over TLS belongs on 8883)
    hex('c0 00'), // a valid PINGREQ, but a connection must open with CONNECT
    hex('10 0c 0004 48545450 04 02 003c 0000'), // CONNECT-like with protocol name "HTTP"
    hex('6c 00 0b 00 00 00 00 00 00 00 00 00'), // X11 connection setup
  ];
  for (const bytes of cases) {
    const ctx = new RecordingContext();
    const a = mqttProtocol.createAnalyzer(ctx);
    a.data(0, bytes, 1);
    a.data(0, CONNECT_311, 2);
    a.data(1, CONNACK_OK, 3);
    a.end();
    assert.deepEqual(ctx.events, [{ t: 'violate', code: 'mqtt.not_mqtt' }], Buffer.from(bytes).toString('hex'));
  }
});

test('after confirmation a bad frame is an anomaly and the stream resynchronises', () => {
  const ctx = run([
    [0, CONNECT_311],
    [1, CONNACK_OK],
    [0, cat(hex('00 00 00'), publish('a/b', 1, 1), publish('a/c', 1, 2))],
    [1, cat(ack(4, 1), ack(4, 2))],
  ]);
  assert.deepEqual(ctx.anomalies(), ['mqtt.bad_frame']);
  assert.deepEqual(summary(ctx).slice(1), [
    ['mqtt.publish', 'write', true, 1, undefined],
    ['mqtt.publish', 'write', true, 2, undefined],
  ]);
});

test('a packet above the maximum PDU size is decoded from its head and the rest skipped', () => {
  const big = publish('camera/1/jpeg', 1, 4, 5000);
  const steps: [0 | 1, Uint8Array][] = [
    [0, CONNECT_311],
    [1, CONNACK_OK],
    ...chunks(big, [10, 300, 2000]).map((c) => [0, c] as [0, Uint8Array]),
    [0, publish('after', 0)],
    [1, ack(4, 4)],
  ];
  const ctx = run(steps, { maxPdu: 256 });
  // The QoS 0 publish is reported at once, the large QoS 1 one when its PUBACK arrives.
  assert.deepEqual(summary(ctx).slice(1), [
    ['mqtt.publish', 'write', false, 2, undefined],
    ['mqtt.publish', 'write', true, 1, undefined],
  ]);
  assert.deepEqual(ctx.anomalies(), []);
  // A gap inside the skipped part loses nothing else.
  const g = new RecordingContext();
  const a = new MqttAnalyzer(g, { maxPdu: 256 });
  a.data(0, CONNECT_311, 1);
  a.data(1, CONNACK_OK, 1);
  a.data(0, big.subarray(0, 1000), 2);
  a.gap(0, 1500);
  a.data(0, cat(big.subarray(2500), publish('after')), 3);
  a.end();
  assert.deepEqual(
    g.ops().map((o) => o.name),
    ['mqtt.connect', 'mqtt.publish', 'mqtt.publish'],
  );
  assert.ok(!g.anomalies().includes('mqtt.bad_frame'));
});

test('a connection captured mid-stream resynchronises and pairs what follows', () => {
  const ctx = new RecordingContext();
  const a = new MqttAnalyzer(ctx);
  a.gap(0, 0);
  a.gap(1, 0);
  a.data(0, cat(publish('x/y', 1, 7).subarray(3), PINGREQ, publish('x/z', 1, 8)), 1);
  a.data(1, cat(hex('0041'), PINGRESP, ack(4, 8)), 2);
  a.end();
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded]),
    [
      ['mqtt.ping', true],
      ['mqtt.publish', true],
    ],
  );
  assert.ok(ctx.kinds().includes('confirm') && !ctx.kinds().includes('violate'));
});

test('pending requests are bounded per sender and unanswered at the end', () => {
  const ctx = run(
    [
      [0, CONNECT_311],
      [1, CONNACK_OK],
      ...[1, 2, 3, 4].map((id) => [0, publish('t', 1, id)] as [0, Uint8Array]),
      [0, PINGREQ],
    ],
    { maxPending: 2 },
  );
  assert.deepEqual(
    ctx
      .ops()
      .slice(1)
      .map((o) => [o.name, o.responded]),
    [
      ['mqtt.publish', false],
      ['mqtt.publish', false],
      ['mqtt.publish', false],
      ['mqtt.publish', false],
      ['mqtt.ping', false],
    ],
  );
  assert.equal(ctx.anomalies().filter((c) => c === 'mqtt.unanswered_request').length, 5);
});

// ---- re-chunking property ----

const FAMILIES: ReadonlyArray<(id: number) => [Uint8Array[], Uint8Array[]]> = [
  (id) => [[publish(`plant/a/${id % 3}`, 1, id)], [ack(4, id)]],
  (id) => [
    [publish('plant/b', 2, id, 300), ack(6, id)],
    [ack(5, id), ack(7, id)],
  ],
  (id) => [[publish(`spBv1.0/G/NDATA/E${id % 2}`)], []],
  // Deliveries are QoS 0 here: the replay sends all of one direction first, so a client PUBACK
  // would come before its delivery (QoS 1 deliveries are covered above).
  (id) => [[PINGREQ], [PINGRESP, publish(`down/link/${id % 4}`)]],
  (id) => [
    [SUBSCRIBE_31.map((b, i) => (i === 3 ? id & 255 : i === 2 ? id >> 8 : b))],
    [SUBACK_31.map((b, i) => (i === 3 ? id & 255 : i === 2 ? id >> 8 : b))],
  ],
  (id) => [[publish('big/blob', 1, id, 3000)], [ack(4, id)]],
];

function session(picks: readonly number[]): [Uint8Array, Uint8Array] {
  const req: Uint8Array[] = [CONNECT_311];
  const rsp: Uint8Array[] = [CONNACK_OK];
  picks.forEach((p, i) => {
    const [a, b] = FAMILIES[p]!(i + 1);
    req.push(...a);
    rsp.push(...b);
  });
  return [cat(...req), cat(...rsp)];
}

function replay(streams: readonly [Uint8Array[], Uint8Array[]]): Ev[] {
  const ctx = new RecordingContext(true);
  const a = new MqttAnalyzer(ctx, { maxPdu: 1024 });
  for (const dir of [0, 1] as const) for (const c of streams[dir]) a.data(dir, c, 1);
  a.end();
  return ctx.events;
}

test('property: packets split across segments or packed several per segment give the same results', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: FAMILIES.length - 1 }), { minLength: 1, maxLength: 25 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (picks, cuts0, cuts1) => {
        const [req, rsp] = session(picks);
        const whole = replay([[req], [rsp]]);
        const cut = replay([chunks(req, cuts0), chunks(rsp, cuts1)]);
        assert.deepEqual(cut, whole);
        assert.ok(!whole.some((e) => e.t === 'anomaly' || e.t === 'violate'), JSON.stringify(whole));
      },
    ),
    { numRuns: 300 },
  );
});

test('property: the analyzer never throws on random streams, gaps included', () => {
  const pieces = [
    CONNECT_5,
    CONNACK_5,
    PUBLISH_QOS2,
    SUBSCRIBE_5,
    SUBACK_5,
    PINGREQ,
    DISCONNECT_5,
    publish('x', 1, 1, 600),
  ];
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), bytes: fc.constantFrom(...pieces) }),
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), gap: fc.nat({ max: 700 }) }),
        ),
        { maxLength: 30 },
      ),
      (steps) => {
        const a = new MqttAnalyzer(new RecordingContext(true), { maxPdu: 256 });
        a.gap(0, 0);
        a.gap(1, 0);
        for (const s of steps) {
          if ('gap' in s) a.gap(s.dir, s.gap);
          else a.data(s.dir, s.bytes, 0);
        }
        a.end();
      },
    ),
    { numRuns: 1500, interruptAfterTimeLimit: 4000 },
  );
});
