// The OPC UA decoder on annotated fixtures (open62541 and FreeOpcUa traffic from the shared captures),
// malformed and truncated chunks, the frame function, the probe, and totality on random bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MESSAGE_TYPE } from './constants.ts';
import { decodeOpcUa, frameOpcUa, probeOpcUa, type OpcUaMessage } from './decode.ts';
import {
  ACK,
  HEL,
  OPN_REQUEST,
  OPN_RESPONSE,
  READ_REQUEST,
  READ_RESPONSE,
  SERVICE_FAULT,
  WRITE_REQUEST,
  WRITE_RESPONSE,
} from './fixtures.ts';
import { hex } from './test-support.ts';

function decoded(bytes: Uint8Array, plain = true): { value: OpcUaMessage; anomalies: readonly string[] } {
  const d = decodeOpcUa(bytes, plain);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  assert.equal(d.consumed, bytes.length);
  return { value: d.value, anomalies: d.anomalies };
}

test('HEL and ACK', () => {
  const { value, anomalies } = decoded(HEL);
  assert.deepEqual(anomalies, []);
  assert.deepEqual(value, {
    kind: 'hello',
    header: { messageType: MESSAGE_TYPE.hello, type: 'HEL', chunkType: 'F', messageSize: 56 },
    protocolVersion: 0,
    receiveBufferSize: 131072,
    sendBufferSize: 131072,
    maxMessageSize: 4194304,
    maxChunkCount: 128,
    endpointUrl: 'opc.tcp://localhost:4840',
  });
  const ack = decoded(ACK).value;
  assert.equal(ack.kind, 'acknowledge');
  assert.equal(ack.header.messageType, 0x41434b);
});

test('OpenSecureChannel request and response with policy None', () => {
  const req = decoded(OPN_REQUEST).value;
  assert.equal(req.kind, 'open');
  if (req.kind !== 'open') return;
  assert.equal(req.securityPolicy, 'None');
  assert.equal(req.securityPolicyUri, 'http://opcfoundation.org/UA/SecurityPolicy#None');
  assert.deepEqual([req.secureChannelId, req.senderCertificateLength, req.receiverThumbprintLength], [0, -1, -1]);
  assert.deepEqual([req.sequenceNumber, req.requestId], [1, 1]);
  assert.equal(req.body?.typeId, 446);
  assert.equal(req.body?.role, 'request');
  assert.equal(req.body?.service.operation, 'opcua.open_secure_channel');
  assert.deepEqual(req.body?.details, {
    kind: 'open_request',
    clientProtocolVersion: 0,
    requestType: 0,
    securityMode: 1,
    requestedLifetime: 600000,
  });
  const rsp = decoded(OPN_RESPONSE).value;
  assert.equal(rsp.kind === 'open' && rsp.body?.role, 'response');
  assert.deepEqual(rsp.kind === 'open' && rsp.body?.details, {
    kind: 'open_response',
    serverProtocolVersion: 0,
    channelId: 1,
    tokenId: 1,
    revisedLifetime: 600000,
  });
});

test('an OPN with another policy is read up to its asymmetric security header only', () => {
  const uri = new TextEncoder().encode('http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256');
  const head = hex(`4f504e 46 00000000 // size patched below
    00000000 // SecureChannelId`);
  const body = Uint8Array.from([
    ...[uri.length, 0, 0, 0],
    ...uri,
    ...[3, 0, 0, 0, 0xaa, 0xbb, 0xcc], // SenderCertificate (3 bytes)
    ...[20, 0, 0, 0, ...new Array<number>(20).fill(7)], // ReceiverCertificateThumbprint (SHA-1)
    ...new Array<number>(40).fill(0x5a), // encrypted
  ]);
  const bytes = Uint8Array.from([...head, ...body]);
  bytes[4] = bytes.length;
  const m = decoded(bytes).value;
  assert.equal(m.kind, 'open');
  if (m.kind !== 'open') return;
  assert.deepEqual(
    [m.securityPolicy, m.senderCertificateLength, m.receiverThumbprintLength, m.requestId, m.body],
    ['Basic256Sha256', 3, 20, -1, null],
  );
});

test('Read request and response: service, request handle, node count', () => {
  const req = decoded(READ_REQUEST).value;
  assert.equal(req.kind, 'message');
  if (req.kind !== 'message') return;
  assert.deepEqual([req.secureChannelId, req.tokenId, req.sequenceNumber, req.requestId], [1, 1, 5, 5]);
  assert.deepEqual(
    [req.body?.typeId, req.body?.service.operation, req.body?.service.access, req.body?.requestHandle],
    [631, 'opcua.read', 'read', 6],
  );
  assert.deepEqual(req.body?.details, { kind: 'count', count: 1, values: [] });
  const rsp = decoded(READ_RESPONSE).value;
  assert.equal(rsp.kind === 'message' && rsp.body?.typeId, 634);
  assert.equal(rsp.kind === 'message' && rsp.body?.role, 'response');
  assert.equal(rsp.kind === 'message' && rsp.body?.requestHandle, 6);
});

test('Write request keeps the numeric values written; the response result is per node', () => {
  const req = decoded(WRITE_REQUEST).value;
  assert.equal(req.kind === 'message' && req.body?.typeId, 673);
  assert.deepEqual(req.kind === 'message' && req.body?.details, { kind: 'count', count: 1, values: [1] });
  const rsp = decoded(WRITE_RESPONSE).value;
  assert.deepEqual(rsp.kind === 'message' && [rsp.body?.typeId, rsp.body?.serviceResult], [676, 0]);
});

test('Write values of every numeric variant type; strings and arrays are left out', () => {
  const value = (variant: string): string => `03 0100 01000000 41 0d000000 ffffffff 01 ${variant}`;
  const values = [
    value('01 01'), // Boolean true
    value('02 ff'), // SByte -1
    value('04 feff'), // Int16 -2
    value('05 ffff'), // UInt16 65535
    value('07 ffffffff'), // UInt32
    value('08 feffffffffffffff'), // Int64 -2
    value('0a 0000c03f'), // Float 1.5
    value('0b 000000000000f8bf'), // Double -1.5
    value('0c 02000000 6869'), // String "hi": skipped
    value('86 02000000 01000000 02000000'), // Int32[2]: skipped
  ];
  const body = hex(`0100a102 0000 0000000000000000 00000000 00000000 ffffffff 00000000 000000
    0a000000 ${values.join(' ')}`);
  const head = hex('4d5347 46 00000000 01000000 01000000 01000000 01000000');
  const bytes = Uint8Array.from([...head, ...body]);
  bytes[4] = bytes.length & 255;
  bytes[5] = bytes.length >> 8;
  const m = decoded(bytes);
  assert.deepEqual(m.anomalies, []);
  assert.deepEqual(m.value.kind === 'message' && m.value.body?.details, {
    kind: 'count',
    count: 10,
    values: [1, -1, -2, 65535, 0xffffffff, -2, 1.5, -1.5],
  });
});

test('ServiceFault carries the failed request handle and its StatusCode', () => {
  const m = decoded(SERVICE_FAULT).value;
  assert.equal(m.kind, 'message');
  if (m.kind !== 'message') return;
  assert.deepEqual(
    [m.body?.typeId, m.body?.role, m.body?.requestHandle, m.body?.serviceResult, m.requestId],
    [397, 'fault', 12, 0x80790000, 13],
  );
});

test('ERR, ReverseHello, CLO and abort chunks', () => {
  const err = decoded(
    hex(`455252 46 1b000000  // ERR, final, size 27
      0000 7e80               // Error 0x807E0000 BadTcpMessageTypeInvalid
      0b000000 6261642074797065 2e2e2e // Reason "bad type..."`),
  ).value;
  assert.deepEqual(err.kind === 'error' && [err.error, err.errorName, err.reason], [
    0x807e0000,
    'BadTcpMessageTypeInvalid',
    'bad type...',
  ]);
  const rhe = decoded(
    hex(`524845 46 20000000    // RHE, final, size 32
      08000000 75726e3a73727631 // ServerUri "urn:srv1"
      08000000 6f70632e7463703a // EndpointUrl "opc.tcp:"`),
  ).value;
  assert.deepEqual(rhe.kind === 'reverse_hello' && [rhe.serverUri, rhe.endpointUrl], ['urn:srv1', 'opc.tcp:']);
  const clo = decoded(
    hex(`434c4f 46 39000000 01000000 01000000 // CLO, size 57, channel 1, token 1
      03000000 03000000                      // SequenceNumber 3, RequestId 3
      0100c401                               // TypeId i=452 CloseSecureChannelRequest
      0000 0000000000000000 03000000 00000000 ffffffff 00000000 000000 // RequestHeader, handle 3`),
  ).value;
  assert.deepEqual(clo.kind === 'close' && [clo.body?.typeId, clo.body?.service.name], [452, 'close_secure_channel']);
  const abort = decoded(
    hex(`4d5347 41 24000000 01000000 01000000 // MSG, abort chunk, size 36
      09000000 09000000 // SequenceNumber 9, RequestId 9
      00008080          // Error 0x80800000 BadTcpMessageTooLarge
      04000000 6c617267 // Reason "larg"`),
  ).value;
  assert.deepEqual(abort.kind === 'message' && [abort.abort, abort.body], [
    { error: 0x80800000, reason: 'larg' },
    null,
  ]);
});

test('an encrypted MSG (plain = false) is read up to its TokenId', () => {
  const m = decoded(READ_REQUEST, false).value;
  assert.deepEqual(m.kind === 'message' && [m.secureChannelId, m.tokenId, m.sequenceNumber, m.requestId, m.body], [
    1,
    1,
    -1,
    -1,
    null,
  ]);
});

test('an intermediate chunk cut inside its body keeps the TypeId without an anomaly', () => {
  const cut = READ_REQUEST.slice(0, 60);
  cut[3] = 0x43; // C
  cut[4] = 60;
  const m = decoded(cut);
  assert.deepEqual(m.anomalies, []);
  assert.equal(m.value.kind === 'message' && m.value.body?.typeId, 631);
  assert.equal(m.value.kind === 'message' && m.value.body?.requestHandle, 6);
  // The same bytes as a final chunk: the body is truncated.
  cut[3] = 0x46;
  assert.deepEqual(decoded(cut).anomalies, ['opcua.truncated_body']);
});

test('malformed chunks', () => {
  assert.deepEqual(decodeOpcUa(hex('48454c46')), { kind: 'incomplete', needed: 8 });
  assert.deepEqual(decodeOpcUa(HEL.subarray(0, 40)), { kind: 'incomplete', needed: 56 });
  assert.equal(decodeOpcUa(hex('474554202f20485454')).kind, 'malformed'); // "GET / HTT"
  const bad = (bytes: Uint8Array): string => {
    const d = decodeOpcUa(bytes);
    return d.kind === 'malformed' ? d.code : d.kind;
  };
  assert.equal(bad(hex('48454c 43 38000000')), 'opcua.bad_chunk_type'); // HEL must be final
  assert.equal(bad(hex('4d5347 46 10000000')), 'opcua.bad_message_size'); // below the MSG minimum
  // HEL whose EndpointUrl length runs past the message
  const longUrl = HEL.slice();
  longUrl[28] = 0x40;
  assert.equal(bad(longUrl), 'opcua.truncated');
  // A String length of -2
  const negative = HEL.slice();
  negative.set([0xfe, 0xff, 0xff, 0xff], 28);
  assert.equal(bad(negative), 'opcua.bad_length');
  // Trailing bytes and small buffers are anomalies on a valid HEL
  const odd = Uint8Array.from([...HEL, 0, 0]);
  odd[4] = 58;
  odd[13] = 0; // ReceiveBufferSize 0
  odd[14] = 0;
  assert.deepEqual(decoded(odd).anomalies, ['opcua.bad_buffer_size', 'opcua.trailing_bytes']);
  // A body TypeId with an invalid NodeId encoding: the chunk is fine, the body is not.
  const badBody = READ_REQUEST.slice();
  badBody[24] = 0x3f;
  const m = decoded(badBody);
  assert.deepEqual(m.anomalies, ['opcua.bad_body']);
  assert.equal(m.value.kind === 'message' && m.value.body, null);
  // An array length beyond the bytes left
  const bigArray = READ_REQUEST.slice();
  bigArray.set([0xff, 0xff, 0, 0], 86); // NodesToRead: 65535
  assert.deepEqual(decoded(bigArray).anomalies, ['opcua.bad_body']);
});

test('frame function: decided by the header alone, early rejection on the first letters', () => {
  assert.equal(frameOpcUa(HEL), 56);
  assert.equal(frameOpcUa(HEL.subarray(0, 8)), 56);
  assert.equal(frameOpcUa(HEL.subarray(0, 5)), 0);
  assert.equal(frameOpcUa(hex('47')), -1); // G
  assert.equal(frameOpcUa(hex('4845')), 0);
  assert.equal(frameOpcUa(hex('48454d')), -1); // HEM
  assert.equal(frameOpcUa(hex('4d5347 58')), -1); // chunk type X
  assert.equal(frameOpcUa(hex('4d5347 46 00000002')), 0x02000000 > 16 << 20 ? -1 : 0x02000000);
  assert.equal(frameOpcUa(hex('4d5347 43 00001000')), 0x100000);
});

test('probe: strict HEL or RHE only', () => {
  assert.equal(probeOpcUa(HEL), true);
  assert.equal(probeOpcUa(HEL.subarray(0, 20)), false, 'too short to check the URL length');
  assert.equal(probeOpcUa(ACK), false);
  assert.equal(probeOpcUa(READ_REQUEST), false);
  const v1 = HEL.slice();
  v1[8] = 1;
  assert.equal(probeOpcUa(v1), false, 'protocol version 1');
  const small = HEL.slice();
  small[14] = 0;
  assert.equal(probeOpcUa(small), false, 'ReceiveBufferSize below 8192');
  const sizeMismatch = HEL.slice();
  sizeMismatch[4] = 57;
  assert.equal(probeOpcUa(sizeMismatch), false);
  assert.equal(probeOpcUa(hex('524845 46 20000000 08000000 75726e3a73727631 08000000 6f70632e7463703a')), true);
  assert.equal(probeOpcUa(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), false);
  assert.equal(probeOpcUa(hex('16030100f1010000ed0303')), false); // TLS ClientHello
});

test('property: the decoder and the frame function are total on random bytes', () => {
  const starts = [HEL, ACK, OPN_REQUEST, READ_REQUEST, WRITE_REQUEST, SERVICE_FAULT];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        // Valid headers with random bodies reach the body decoders.
        fc.tuple(fc.constantFrom(...starts), fc.uint8Array({ maxLength: 200 }), fc.nat()).map(([s, tail, cut]) => {
          const b = Uint8Array.from([...s.subarray(0, 8 + (cut % (s.length - 8))), ...tail]);
          b[4] = b.length & 255;
          b[5] = b.length >> 8;
          return b;
        }),
        // Valid messages with one byte changed.
        fc.tuple(fc.constantFrom(...starts), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, at, v]) => {
          const b = s.slice();
          b[8 + (at % (b.length - 8))] = v;
          return b;
        }),
      ),
      fc.boolean(),
      (bytes, plain) => {
        const d = decodeOpcUa(bytes, plain);
        if (d.kind === 'ok') assert.ok(d.consumed <= bytes.length);
        const n = frameOpcUa(bytes);
        assert.ok(Number.isInteger(n) && n >= -1);
        probeOpcUa(bytes);
      },
    ),
    { numRuns: 3000 },
  );
});
