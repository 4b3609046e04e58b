// The OPC UA analyzer end to end on byte streams: handshake, pairing by RequestId, faults, chunked
// and encrypted messages, reverse connections, identity facts, violation, resynchronisation, bounds,
// and the same results whatever the chunking (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MESSAGE_TYPE } from './constants.ts';
import {
  ACK,
  HEL,
  OPN_REQUEST,
  OPN_RESPONSE,
  READ_REQUEST,
  READ_RESPONSE,
  SERVICE_FAULT,
  WRITE_REQUEST,
} from './fixtures.ts';
import { OpcUaAnalyzer, opcuaProtocol } from './index.ts';
import { RecordingContext, cat, chunks, hex, type Ev } from './test-support.ts';

// ---- builders for chunks the captures do not have ----

function u32(n: number): number[] {
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
}
function str(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...u32(b.length), ...b];
}
/** Four-byte NodeId ns=0 of a service encoding id. */
function typeId(id: number): number[] {
  return [1, 0, id & 255, id >> 8];
}
function requestHeader(handle: number): number[] {
  return [0, 0, ...new Array<number>(8).fill(0), ...u32(handle), ...u32(0), ...u32(0xffffffff), ...u32(0), 0, 0, 0];
}
function responseHeader(handle: number, result = 0): number[] {
  return [...new Array<number>(8).fill(0), ...u32(handle), ...u32(result), 0, ...u32(0xffffffff), 0, 0, 0];
}
/** A MSG/CLO chunk on channel 1, token 1; the sequence number is the request id. */
function chunk(type: 'MSG' | 'CLO', chunkType: 'F' | 'C' | 'A', requestId: number, body: number[]): Uint8Array {
  const size = 24 + body.length;
  return Uint8Array.from([
    ...new TextEncoder().encode(type + chunkType),
    ...u32(size),
    ...u32(1),
    ...u32(1),
    ...u32(requestId),
    ...u32(requestId),
    ...body,
  ]);
}
function readRequest(requestId: number, nodes = 1): Uint8Array {
  const node = [0, 85, ...u32(13), ...u32(0xffffffff), 0, 0, ...u32(0xffffffff)]; // i=85, Value
  return chunk('MSG', 'F', requestId, [
    ...typeId(631),
    ...requestHeader(requestId),
    ...new Array<number>(8).fill(0),
    ...u32(0),
    ...u32(nodes),
    ...new Array<number[]>(nodes).fill(node).flat(),
  ]);
}
function readResponse(requestId: number, result = 0): Uint8Array {
  return chunk('MSG', 'F', requestId, [...typeId(634), ...responseHeader(requestId, result), ...u32(0), ...u32(0)]);
}
function applicationDescription(uri: string, product: string, name: string, type: number): number[] {
  return [
    ...str(uri),
    ...str(product),
    2,
    ...str(name),
    ...u32(type),
    ...u32(0xffffffff),
    ...u32(0xffffffff),
    ...u32(0),
  ];
}
function endpoint(url: string, policy: string, mode: number): number[] {
  return [
    ...str(url),
    ...applicationDescription('urn:acme:plc', 'http://acme.example/ua', 'Acme PLC OPC UA', 0),
    ...u32(0xffffffff), // ServerCertificate
    ...u32(mode),
    ...str(`http://opcfoundation.org/UA/SecurityPolicy#${policy}`),
    ...u32(0), // UserIdentityTokens
    ...str('http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary'),
    mode * 10,
  ];
}
/** An OPN with a policy other than None: header in clear, the rest encrypted (random here). */
function securedOpn(channelId: number, policy: string): Uint8Array {
  const rest = [...str(`http://opcfoundation.org/UA/SecurityPolicy#${policy}`), ...u32(3), 1, 2, 3, ...u32(20)];
  const body = [...u32(channelId), ...rest, ...new Array<number>(20).fill(9), ...new Array<number>(64).fill(0x77)];
  return Uint8Array.from([...new TextEncoder().encode('OPNF'), ...u32(8 + body.length), ...body]);
}

function run(streams: ReadonlyArray<readonly [0 | 1, Uint8Array]>, trace = false): RecordingContext {
  const ctx = new RecordingContext(trace);
  const a = new OpcUaAnalyzer(ctx);
  for (const [dir, bytes] of streams) a.data(dir, bytes, 1);
  a.end();
  return ctx;
}

const HANDSHAKE: ReadonlyArray<readonly [0 | 1, Uint8Array]> = [
  [0, HEL],
  [1, ACK],
  [0, OPN_REQUEST],
  [1, OPN_RESPONSE],
];

test('registration: name, transport, port 4840 and a strict probe', () => {
  assert.equal(opcuaProtocol.name, 'opcua');
  assert.equal(opcuaProtocol.transport, 'tcp');
  assert.deepEqual(opcuaProtocol.ports, [4840]);
  assert.equal(opcuaProtocol.probe?.(HEL, 0), true);
  assert.equal(opcuaProtocol.probe?.(READ_REQUEST, 0), false);
  assert.equal(opcuaProtocol.probe?.(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'), 0), false);
});

test('a session: hello, channel, read; one operation per request, confirmed at the first answer', () => {
  const ctx = run([...HANDSHAKE, [0, READ_REQUEST], [1, READ_RESPONSE]], true);
  assert.deepEqual(
    ctx.events.filter((e) => e.t === 'pdu').map((e) => (e.t === 'pdu' ? [e.dir, e.code] : null)),
    [
      [0, MESSAGE_TYPE.hello],
      [1, MESSAGE_TYPE.acknowledge],
      [0, MESSAGE_TYPE.open],
      [1, MESSAGE_TYPE.open],
      [0, 631],
      [1, 634],
    ],
  );
  assert.deepEqual(
    ctx.kinds().filter((k) => k !== 'pdu'),
    ['op', 'confirm', 'op', 'fact', 'op'],
  );
  const [hello, open, read] = ctx.ops();
  assert.deepEqual(hello, {
    name: 'opcua.hello',
    protocol: 'opcua',
    code: MESSAGE_TYPE.hello,
    access: 'other',
    tsMicros: 1,
    responded: true,
  });
  assert.deepEqual([open!.name, open!.code, open!.responded], ['opcua.open_secure_channel', 446, true]);
  assert.deepEqual(read, {
    name: 'opcua.read',
    protocol: 'opcua',
    code: 631,
    access: 'read',
    tsMicros: 1,
    quantity: 1,
    responded: true,
  });
  assert.deepEqual(ctx.facts(), [
    {
      kind: 'identity',
      side: 1,
      protocol: 'opcua',
      extra: { securityPolicy: 'None', securityMode: 'None', endpointUrl: 'opc.tcp://localhost:4840' },
    },
  ]);
  assert.deepEqual(ctx.anomalies(), []);
});

test('write values and quantities; a ServiceFault is the exception of its request', () => {
  const fault = SERVICE_FAULT.slice();
  fault.set(u32(21), 20); // answer request 21 (the write) ...
  fault.set(u32(22), 36); // ... whose request handle is 22
  const ctx = run([...HANDSHAKE, [0, WRITE_REQUEST], [1, fault]]);
  const write = ctx.ops().at(-1)!;
  assert.deepEqual(
    [write.name, write.access, write.quantity, write.values, write.exception, write.responded],
    ['opcua.write', 'write', 1, [1], 0x80790000, true],
  );
  assert.deepEqual(ctx.anomalies(), []);
});

test('a response with a bad ServiceResult sets the exception; mismatched responses are anomalies', () => {
  const ctx = run([
    ...HANDSHAKE,
    [0, readRequest(7)],
    [1, readResponse(7, 0x80340000)],
    [0, readRequest(8)],
    [1, chunk('MSG', 'F', 8, [...typeId(676), ...responseHeader(8), ...u32(0), ...u32(0)])], // a WriteResponse
    [1, readResponse(99)],
  ]);
  const reads = ctx.ops().filter((o) => o.name === 'opcua.read');
  assert.deepEqual(
    reads.map((o) => [o.exception, o.responded]),
    [
      [0x80340000, true],
      [undefined, true],
    ],
  );
  assert.deepEqual(ctx.anomalies(), ['opcua.response_mismatch', 'opcua.unmatched_response']);
});

test('CreateSession and GetEndpoints describe the client (side 0) and the server (side 1)', () => {
  const createSession = chunk('MSG', 'F', 2, [
    ...typeId(461),
    ...requestHeader(2),
    ...applicationDescription('urn:hmi:client', 'http://hmi.example', 'HMI Panel', 1),
    ...str('urn:acme:plc'), // ServerUri
    ...str('opc.tcp://plc:4840'), // EndpointUrl
    ...str('session 1'), // SessionName
  ]);
  const getEndpoints = chunk('MSG', 'F', 3, [
    ...typeId(431),
    ...responseHeader(3),
    ...u32(3),
    ...endpoint('opc.tcp://plc:4840', 'None', 1),
    ...endpoint('opc.tcp://plc:4840', 'Basic256Sha256', 2),
    ...endpoint('opc.tcp://plc:4840', 'Basic256Sha256', 3),
  ]);
  const ctx = run([
    ...HANDSHAKE,
    [
      0,
      chunk('MSG', 'F', 3, [...typeId(428), ...requestHeader(3), ...str('opc.tcp://plc:4840'), 0, 0, 0, 0, 0, 0, 0, 0]),
    ],
    [1, getEndpoints],
    [0, createSession],
  ]);
  const facts = ctx.facts();
  assert.deepEqual(facts.slice(1), [
    {
      kind: 'identity',
      side: 1,
      protocol: 'opcua',
      product: 'Acme PLC OPC UA',
      extra: {
        applicationUri: 'urn:acme:plc',
        productUri: 'http://acme.example/ua',
        applicationType: 'Server',
        endpointUrls: 'opc.tcp://plc:4840',
        securityPolicies: 'None,Basic256Sha256',
        securityModes: 'None,Sign,SignAndEncrypt',
      },
    },
    {
      kind: 'identity',
      side: 0,
      protocol: 'opcua',
      product: 'HMI Panel',
      extra: { applicationUri: 'urn:hmi:client', productUri: 'http://hmi.example', applicationType: 'Client' },
    },
  ]);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.responded]),
    [
      ['opcua.hello', 'other', true],
      ['opcua.open_secure_channel', 'other', true],
      ['opcua.get_endpoints', 'discovery', true],
      ['opcua.create_session', 'other', false],
    ],
  );
});

test('an encrypted channel: MSG chunks from the client are counted as opcua.encrypted_message', () => {
  const encrypted = Uint8Array.from([...new TextEncoder().encode('MSGF'), ...u32(80), ...u32(5), ...u32(1)]);
  const body = new Uint8Array(80);
  body.set(encrypted);
  body.fill(0xa5, 16);
  const ctx = run(
    [
      [0, HEL],
      [1, ACK],
      [0, securedOpn(0, 'Basic256Sha256')],
      [1, securedOpn(5, 'Basic256Sha256')],
      [0, body],
      [1, body],
      [0, body],
    ],
    true,
  );
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.code, o.access, o.responded]),
    [
      ['opcua.hello', MESSAGE_TYPE.hello, 'other', true],
      ['opcua.open_secure_channel', MESSAGE_TYPE.open, 'other', true],
      ['opcua.encrypted_message', MESSAGE_TYPE.message, 'other', false],
      ['opcua.encrypted_message', MESSAGE_TYPE.message, 'other', false],
    ],
  );
  assert.deepEqual(
    ctx.identities().map((f) => f.extra),
    [
      { securityPolicy: 'Basic256Sha256', endpointUrl: 'opc.tcp://localhost:4840' },
      { securityPolicy: 'Basic256Sha256', securityMode: 'SignAndEncrypt', endpointUrl: 'opc.tcp://localhost:4840' },
    ],
  );
  assert.ok(ctx.events.every((e) => e.t !== 'pdu' || e.code === MESSAGE_TYPE.message || e.code < 0x1000000));
  assert.deepEqual(ctx.anomalies(), []);
});

test('a Sign-mode channel (policy not None) is read when its chunks decode as services', () => {
  const ctx = run([
    [0, HEL],
    [1, ACK],
    [0, securedOpn(0, 'Basic256')],
    [1, securedOpn(5, 'Basic256')],
    [0, readRequest(4)],
    [1, readResponse(4)],
  ]);
  assert.deepEqual(ctx.ops().at(-1)?.name, 'opcua.read');
  assert.equal(ctx.identities().at(-1)?.extra?.securityMode, 'Sign');
});

test('a chunked request is one operation; continuation chunks trace as MSG, the final one as the service', () => {
  const whole = readRequest(6, 40);
  const body = whole.subarray(24);
  const first = chunk('MSG', 'C', 6, [...body.subarray(0, 100)]);
  const second = chunk('MSG', 'C', 6, [...body.subarray(100, 300)]);
  const last = chunk('MSG', 'F', 6, [...body.subarray(300)]);
  const ctx = run([...HANDSHAKE, [0, first], [0, second], [0, last], [1, readResponse(6)]], true);
  const pdus = ctx.events.flatMap((e) => (e.t === 'pdu' && e.dir === 0 ? [e.code] : []));
  assert.deepEqual(pdus.slice(2), [MESSAGE_TYPE.message, MESSAGE_TYPE.message, 631]);
  const read = ctx.ops().at(-1)!;
  assert.deepEqual([read.name, read.quantity, read.responded], ['opcua.read', 40, true]);
  assert.deepEqual(ctx.anomalies(), []);
  // An aborted message is dropped: the next final chunk with that id stands alone.
  const aborted = run([...HANDSHAKE, [0, first], [0, chunk('MSG', 'A', 6, [...u32(0x80800000), ...u32(0)])]]);
  assert.deepEqual(aborted.ops().length, 2);
});

test('CloseSecureChannel is reported at once; ERR answers the handshake with its StatusCode', () => {
  const clo = chunk('CLO', 'F', 9, [...typeId(452), ...requestHeader(9)]);
  const ctx = run([...HANDSHAKE, [0, clo]]);
  assert.deepEqual(
    [ctx.ops().at(-1)?.name, ctx.ops().at(-1)?.code, ctx.ops().at(-1)?.responded],
    ['opcua.close_secure_channel', 452, false],
  );
  assert.deepEqual(ctx.anomalies(), []);
  const err = hex('455252 46 10000000 0000 7e80 ffffffff // ERR BadTcpMessageTypeInvalid, no reason');
  const refused = run([
    [0, HEL],
    [1, err],
  ]);
  assert.deepEqual(
    refused.ops().map((o) => [o.name, o.exception, o.responded]),
    [['opcua.hello', 0x807e0000, true]],
  );
});

test('a ReverseHello makes the other side the client', () => {
  const rhe = hex('524845 46 20000000 08000000 75726e3a73727631 08000000 6f70632e7463703a');
  const ctx = run([
    [0, rhe],
    [1, HEL],
    [0, ACK],
    [1, OPN_REQUEST],
    [0, OPN_RESPONSE],
    [1, READ_REQUEST],
    [0, READ_RESPONSE],
  ]);
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.responded]),
    [
      ['opcua.hello', true],
      ['opcua.open_secure_channel', true],
      ['opcua.read', true],
    ],
  );
  assert.equal(ctx.identities()[0]?.side, 0, 'the server is the TCP client');
  assert.deepEqual(ctx.anomalies(), []);
});

test('HTTP and TLS on port 4840 violate the protocol and the analyzer stops', () => {
  for (const bytes of [
    new TextEncoder().encode('GET / HTTP/1.1\r\nHost: plc\r\n\r\n'),
    hex('16 0301 00f1 01 0000ed 0303'),
  ]) {
    const ctx = new RecordingContext();
    const a = opcuaProtocol.createAnalyzer(ctx);
    a.data(0, bytes, 1);
    a.data(0, HEL, 2);
    a.data(1, ACK, 3);
    a.end();
    assert.deepEqual(ctx.events, [{ t: 'violate', code: 'opcua.not_opcua' }]);
  }
});

test('after confirmation a bad frame is an anomaly and the stream resynchronises', () => {
  const ctx = run([
    ...HANDSHAKE,
    [0, cat(hex('deadbeef'), readRequest(2), readRequest(3))],
    [1, cat(readResponse(2), readResponse(3))],
  ]);
  assert.deepEqual(ctx.anomalies(), ['opcua.bad_frame']);
  assert.equal(ctx.ops().filter((o) => o.name === 'opcua.read' && o.responded).length, 2);
  assert.ok(!ctx.kinds().includes('violate'));
});

test('chunks above the maximum PDU size are an anomaly, not a crash', () => {
  const ctx = new RecordingContext();
  const a = new OpcUaAnalyzer(ctx, { maxPdu: 100 });
  for (const [dir, b] of HANDSHAKE) a.data(dir, b, 1);
  a.data(0, readRequest(2, 10), 2); // 171 bytes
  a.data(0, readRequest(3), 3);
  a.data(0, readRequest(4), 4);
  a.end();
  assert.deepEqual(ctx.anomalies().slice(0, 1), ['opcua.message_too_large']);
  assert.ok(
    ctx.ops().some((o) => o.name === 'opcua.read'),
    'resynchronised after the large chunk',
  );
});

test('a capture starting mid-channel: no OPN seen, plain services are still read', () => {
  const ctx = new RecordingContext();
  const a = new OpcUaAnalyzer(ctx);
  a.gap(0, 0);
  a.gap(1, 0);
  a.data(0, cat(readRequest(2).subarray(30), readRequest(3)), 1);
  a.data(1, readResponse(3), 2);
  a.end();
  assert.deepEqual(ctx.kinds(), ['op', 'confirm']);
  assert.equal(ctx.ops()[0]!.name, 'opcua.read');
});

test('pending requests are bounded; at the end they are unanswered (outstanding Publish is normal)', () => {
  const ctx = new RecordingContext();
  const a = new OpcUaAnalyzer(ctx, { maxPending: 3 });
  for (const [dir, b] of HANDSHAKE) a.data(dir, b, 1);
  for (let id = 10; id < 15; id++) a.data(0, readRequest(id), id);
  a.data(0, chunk('MSG', 'F', 20, [...typeId(826), ...requestHeader(20), ...u32(0)]), 20);
  a.end();
  const reads = ctx.ops().filter((o) => o.name === 'opcua.read');
  assert.equal(reads.length, 5);
  assert.ok(reads.every((o) => !o.responded));
  assert.equal(ctx.anomalies().filter((c) => c === 'opcua.unanswered_request').length, 5);
  assert.equal(ctx.ops().at(-1)?.name, 'opcua.publish');
});

// ---- re-chunking property ----

function exchange(picks: readonly number[]): [Uint8Array, Uint8Array] {
  const req: Uint8Array[] = [HEL, OPN_REQUEST];
  const rsp: Uint8Array[] = [ACK, OPN_RESPONSE];
  picks.forEach((p, i) => {
    const id = 100 + i;
    if (p === 0) {
      req.push(readRequest(id, 1 + (i % 5)));
      rsp.push(readResponse(id));
    } else if (p === 1) {
      const w = WRITE_REQUEST.slice();
      w.set(u32(id), 20);
      req.push(w);
      // WriteResponse to request handle 22 with one result: BadNotWritable
      rsp.push(
        chunk('MSG', 'F', id, [...typeId(676), ...responseHeader(22), ...u32(1), ...u32(0x803b0000), ...u32(0)]),
      );
    } else {
      const body = readRequest(id, 30).subarray(24);
      req.push(chunk('MSG', 'C', id, [...body.subarray(0, 50)]), chunk('MSG', 'F', id, [...body.subarray(50)]));
      rsp.push(readResponse(id));
    }
  });
  return [cat(...req), cat(...rsp)];
}

function replay(streams: readonly [Uint8Array[], Uint8Array[]]): Ev[] {
  const ctx = new RecordingContext(true);
  const a = new OpcUaAnalyzer(ctx);
  // Requests first, then responses: pairing must not depend on the interleaving either.
  for (const dir of [0, 1] as const) for (const c of streams[dir]) a.data(dir, c, 1);
  a.end();
  return ctx.events;
}

test('property: chunks split across segments or packed several per segment give the same results', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (picks, cuts0, cuts1) => {
        const [req, rsp] = exchange(picks);
        const whole = replay([[req], [rsp]]);
        const cut = replay([chunks(req, cuts0), chunks(rsp, cuts1)]);
        assert.deepEqual(cut, whole);
        assert.equal(whole.filter((e) => e.t === 'op').length, picks.length + 2);
        assert.ok(!whole.some((e) => e.t === 'anomaly' || e.t === 'violate'), JSON.stringify(whole));
      },
    ),
    { numRuns: 200 },
  );
});

test('property: the analyzer never throws on random streams, gaps included', () => {
  const pieces = [HEL, ACK, OPN_REQUEST, OPN_RESPONSE, READ_REQUEST, READ_RESPONSE, WRITE_REQUEST, SERVICE_FAULT];
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), bytes: fc.constantFrom(...pieces) }),
          fc.record({ dir: fc.constantFrom(0 as const, 1 as const), gap: fc.nat({ max: 100 }) }),
        ),
        { maxLength: 30 },
      ),
      (steps) => {
        const a = new OpcUaAnalyzer(new RecordingContext(true), { maxPdu: 4096 });
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
