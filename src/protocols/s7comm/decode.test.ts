// decodeS7Pdu, the SZL identity records and decodeS7PlusFrame on annotated fixtures (real bytes from
// the shared captures, frame numbers given), plus totality under random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { hex } from '../iso/test-support.ts';
import { decodeS7Pdu, type S7Pdu } from './decode.ts';
import { decodeS7PlusFrame, s7plusHasTrailer, sessionVersion, type S7PlusFrame } from './plus.ts';
import { decodeSzlResponse, szlIdentity } from './szl.ts';
import { writeValues } from './state.ts';

function ok<T>(d: Decoded<T>): T {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return d.value;
}

test('setup communication job and ack_data (s7comm-libnodave-bench frames 6, 7)', () => {
  const job = ok(
    decodeS7Pdu(
      hex(`
        32        // protocol id
        01        // ROSCTR job
        0000      // redundancy id
        ffff      // PDU reference
        0008 0000 // parameter 8, data 0
        f0 00     // setup communication, reserved
        0001 0001 // max AmQ calling, called
        0780      // PDU length 1920 proposed
      `),
    ),
  );
  assert.equal(job.rosctrName, 'job');
  assert.equal(job.pduRef, 0xffff);
  assert.equal(job.functionCode, 0xf0);
  assert.deepEqual(job.param, { kind: 'setup', maxAmqCalling: 1, maxAmqCalled: 1, pduLength: 1920 });
  const ack = ok(decodeS7Pdu(hex('32 03 0000 ffff 0008 0000 // ack_data\n 00 00 // no error\n f0 00 0001 0001 00f0')));
  assert.equal(ack.rosctrName, 'ack_data');
  assert.equal(ack.errorClass, 0);
  assert.deepEqual(ack.param, { kind: 'setup', maxAmqCalling: 1, maxAmqCalled: 1, pduLength: 240 });
});

test('read var job (S7ANY) and its ack_data (libnodave frames 8, 12)', () => {
  const job = ok(
    decodeS7Pdu(
      hex(`
        32 01 0000 0001 000e 0000
        04 01          // read var, 1 item
        12 0a 10       // variable specification, 10 bytes, S7ANY
        02             // transport size BYTE
        0010           // 16 elements
        0000           // DB 0
        83             // area: flags (merker)
        000000         // address byte 0 bit 0
      `),
    ),
  );
  assert.equal(job.param.kind, 'var_request');
  if (job.param.kind !== 'var_request') return;
  assert.deepEqual(job.param.items, [
    {
      syntaxId: 0x10,
      transportSize: 2,
      length: 16,
      dbNumber: 0,
      area: 0x83,
      address: 0,
      byteAddress: 0,
      bitAddress: 0,
    },
  ]);
  const ack = ok(
    decodeS7Pdu(
      hex(`
        32 03 0000 0001 0002 0014 00 00
        04 01                     // read var, 1 item
        ff 04 0080                // success, BYTE/WORD/DWORD, 128 bits
        7710000100000103000000033f8ccccd  // 16 bytes
      `),
    ),
  );
  assert.deepEqual(ack.param, { kind: 'var_response', itemCount: 1 });
  assert.equal(ack.data.kind === 'items' && ack.data.items[0]!.data.length, 16);
});

test('write var job with three BIT items in DB 1000 (plant1-s7comm frame 58) and its ack_data', () => {
  const job = ok(
    decodeS7Pdu(
      hex(`
        32 01 0000 0001 0026 0011
        05 03                      // write var, 3 items
        12 0a 10 01 0001 03e8 84 000007   // BIT, DB1000.DBX0.7
        12 0a 10 01 0001 03e8 84 000009   // BIT, DB1000.DBX1.1
        12 0a 10 01 0001 03e8 84 000008   // BIT, DB1000.DBX1.0
        00 03 0001 01 00           // reserved, BIT, 1 bit: 1, fill byte
        00 03 0001 01 00
        00 03 0001 01              // last item: no fill byte
      `),
    ),
  );
  if (job.param.kind !== 'var_request' || job.data.kind !== 'items') throw new Error(job.param.kind);
  assert.deepEqual(
    job.param.items.map((i) => [i.byteAddress, i.bitAddress]),
    [
      [0, 7],
      [1, 1],
      [1, 0],
    ],
  );
  assert.deepEqual(writeValues(job.param.items, job.data.items), [1, 1, 1]);
  const ack = ok(
    decodeS7Pdu(hex('32 03 0000 0001 0002 0003 00 00 // ack_data\n 05 03 // write var, 3 items\n ff ff ff')),
  );
  assert.deepEqual(ack.data.kind === 'return_codes' && [...ack.data.codes], [0xff, 0xff, 0xff]);
});

test('write values are typed by the items: bytes, INT, REAL', () => {
  const it = (transportSize: number) => ({
    syntaxId: 0x10,
    transportSize,
    length: 2,
    dbNumber: 1,
    area: 0x84,
    address: 0,
    byteAddress: 0,
    bitAddress: 0,
  });
  const d = (bytes: string) => ({ returnCode: 0, transportSize: 4, length: 0, data: hex(bytes) });
  assert.deepEqual(writeValues([it(2)], [d('7710')]), [0x77, 0x10]);
  assert.deepEqual(writeValues([it(5)], [d('ffff 0002')]), [-1, 2]);
  assert.deepEqual(writeValues([it(8)], [d('3f800000')]), [1]);
});

test('a read var ack_data whose items failed carries no data (icsnpp-s7ident-szl frame 32)', () => {
  const ack = ok(
    decodeS7Pdu(hex('32 03 0000 0a00 0002 0008 00 00  04 02  0a 00 0004  0a 00 0004 // object does not exist')),
  );
  assert.equal(ack.data.kind, 'items');
  if (ack.data.kind !== 'items') return;
  assert.deepEqual(
    ack.data.items.map((i) => [i.returnCode, i.length, i.data.length]),
    [
      [10, 4, 0],
      [10, 4, 0],
    ],
  );
});

test('block control: request download (tia-s300-download-ob1 frame 57)', () => {
  const job = ok(
    decodeS7Pdu(
      hex(`
        32 01 0000 bd0a 0020 0000
        1a 00 0100 00000000   // request download, status, unknown, 0
        09 5f30383030303031 50 // file name "_0800001P": OB 1, passive file system
        0d 31303030333332303030323132 // length part
      `),
    ),
  );
  assert.deepEqual(job.param, {
    kind: 'block_control',
    functionStatus: 0,
    uploadId: 0,
    filename: '_0800001P',
    blockType: 'ob',
    blockNumber: 1,
  });
});

test('PI service _INSE (tia-s300-download-ob1 frame 65) and PLC stop (step7-s300-stop-cpu frame 1)', () => {
  const pi = ok(
    decodeS7Pdu(
      hex(`
        32 01 0000 be0a 001a 0000
        28 00000000 0000fd    // PI service, 7 unknown octets
        000a                  // parameter block, 10 bytes
        0100 3038303030303150 // 1 block: "0800001P"
        05 5f494e5345         // "_INSE"
      `),
    ),
  );
  assert.deepEqual(pi.param, {
    kind: 'pi_service',
    service: '_INSE',
    parameter: '0800001P',
    blockType: 'ob',
    blockNumber: 1,
  });
  const stop = ok(decodeS7Pdu(hex('32 01 0000 3500 0010 0000  29 0000000000  09 505f50524f4752414d // "P_PROGRAM"')));
  assert.deepEqual(stop.param, { kind: 'plc_stop', service: 'P_PROGRAM' });
  const ack = ok(decodeS7Pdu(hex('32 03 0000 3500 0001 0000 00 00 29')));
  assert.equal(ack.functionCode, 0x29);
});

test('userdata: SZL read request, push with a 4-byte parameter, mode transition (step7-s300-stop-cpu)', () => {
  const req = ok(
    decodeS7Pdu(
      hex(`
        32 07 0000 0100 0008 0008  // userdata, PDU ref 256
        000112 04 11 44 01 00      // head, length 4, request, type 4 group 4 (CPU), subfunction 1 (read SZL), seq 0
        ff 09 0004 0011 0000       // success, octet string, 4 bytes: SZL 0x0011 index 0
      `),
    ),
  );
  assert.deepEqual(req.param, {
    kind: 'userdata',
    method: 0x11,
    type: 4,
    group: 4,
    subfunction: 1,
    sequence: 0,
    dataUnitRef: 0,
    lastDataUnit: -1,
    errorCode: 0,
  });
  assert.deepEqual(req.data.kind === 'userdata' && [...req.data.payload], [0, 0x11, 0, 0]);
  const mode = ok(decodeS7Pdu(hex('32 07 0000 0000 0008 0000  010010 10 00 00 00 00 // mode transition: STOP')));
  assert.equal(mode.param.kind === 'userdata' && mode.param.group, 0);
  assert.equal(mode.param.kind === 'userdata' && mode.param.subfunction, 0);
});

test('SZL 0x0011 and 0x001C responses give the identity (icsnpp-s7ident-szl frames 11, 13)', () => {
  const r11 = ok(
    decodeS7Pdu(
      hex(`
        32 07 0000 0100 000c 007c
        000112 08 12 84 01 00 00 00 0000  // response, CPU functions, read SZL, last data unit
        ff 09 0078
        0011 0000 001c 0004               // SZL 0x0011, index 0, 28-byte records, 4 of them
        0001 36455337203331352d32454831342d3041423020 00c0 0004 0001 // module: 6ES7 315-2EH14-0AB0
        0006 36455337203331352d32454831342d3041423020 00c0 0004 0001 // basic hardware
        0007 2020202020202020202020202020202020202020 00c0 5603 0206 // basic firmware V3.2.6
        0081 426f6f74204c6f61646572202020202020202020 0000 4120 0909 // boot loader
      `),
    ),
  );
  if (r11.data.kind !== 'userdata') throw new Error(r11.data.kind);
  const szl = ok(decodeSzlResponse(r11.data.payload));
  assert.equal(szl.szlId, 0x11);
  assert.equal(szl.records.length, 4);
  assert.deepEqual(szlIdentity(szl), { productCode: '6ES7 315-2EH14-0AB0', firmware: 'V3.2.6', vendor: 'Siemens' });

  const rec = (index: number, text: string, size = 34): string => {
    const b = new Uint8Array(size);
    b[0] = index >> 8;
    b[1] = index & 255;
    b.set(new TextEncoder().encode(text), 2);
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  const payload = hex(
    `001c 0000 0022 0006 ${rec(1, 'SNAP7-SERVER')}${rec(2, 'CPU 315-2 PN/DP')}${rec(4, 'Original Siemens Equipment')}` +
      `${rec(5, 'S C-C2UR28922012')}${rec(7, 'CPU 315-2 PN/DP')}${rec(8, 'MMC 267FF11F')}`,
  );
  assert.deepEqual(szlIdentity(ok(decodeSzlResponse(payload))), {
    vendor: 'Siemens',
    serial: 'S C-C2UR28922012',
    model: 'CPU 315-2 PN/DP',
    extra: { systemName: 'SNAP7-SERVER', moduleName: 'CPU 315-2 PN/DP', memoryCardSerial: 'MMC 267FF11F' },
  });
  // Other lists give no identity.
  assert.equal(szlIdentity(ok(decodeSzlResponse(hex('0424 0000 0002 0001 0000')))), null);
});

test('S7comm malformed codes', () => {
  const code = (h: string): string => {
    const d = decodeS7Pdu(hex(h));
    return d.kind === 'malformed' ? d.code : d.kind;
  };
  assert.equal(code('33 01 0000 0001 0000 0000'), 's7comm.bad_protocol_id');
  assert.equal(code('32 05 0000 0001 0000 0000'), 's7comm.bad_rosctr');
  assert.equal(code('32 01 0000 0001 000e 0000 04 01'), 's7comm.bad_length');
  assert.equal(code('32 01 0000'), 's7comm.truncated');
  assert.equal(code('32 01 0000 0001 0004 0000 04 01 12 0a'), 's7comm.bad_parameter', 'item cut short');
  const trailing = decodeS7Pdu(hex('32 01 0000 0001 0001 0000 1d 00'));
  assert.deepEqual(trailing.kind === 'ok' && trailing.anomalies, ['s7comm.trailing_bytes']);
});

test('S7comm-plus V3 notification with integrity digest (icsnpp-s7comm-plus frame 2, trimmed)', () => {
  const digest = '08c83ace381dfdbc42201789dec03b099172858efb6f3ef2e5e8ecb8bd254665';
  const body = '70000e51 04000000000000c98ec148 01 92 00000005';
  const data = hex(`33 ${body}`);
  const len = 1 + 32 + data.length;
  const frame = hex(`
    72 03 ${len.toString(16).padStart(4, '0')}  // protocol id, V3, data length
    20 ${digest}                                 // digest length 32, digest
    ${[...data].map((b) => b.toString(16).padStart(2, '0')).join('')}
    72 03 0000                                   // trailer
  `);
  const f = ok(decodeS7PlusFrame(frame)) as Extract<S7PlusFrame, { kind: 'data' }>;
  assert.equal(f.version, 3);
  assert.equal(f.digest.length, 32);
  assert.equal(f.hasTrailer, true);
  assert.equal(f.opcode, 0x33);
  assert.equal(f.sessionId, 0x70000e51, 'subscription object id');
});

test('S7comm-plus V2 request and response (s7-1200-upload-ob1-tiav12 frames 10, 11)', () => {
  const req = ok(
    decodeS7PlusFrame(
      hex(`
        72 02 0019                // V2, 25 data bytes
        31 0000 0542 0000 0002    // request, SetMultiVariables, sequence 2
        000003c0 34               // session id 0x3c0, transport flags
        000000000000000000000000  // request body (not decoded)
        72 02 0000
      `),
    ),
  ) as Extract<S7PlusFrame, { kind: 'data' }>;
  assert.equal(req.opcode, 0x31);
  assert.equal(req.functionCode, 0x0542);
  assert.equal(req.sequence, 2);
  assert.equal(req.sessionId, 0x3c0);
  const rsp = ok(
    decodeS7PlusFrame(hex('72 02 0010 32 0000 0542 0000 0002 34 00 00000000000000 72 02 0000')),
  ) as Extract<S7PlusFrame, { kind: 'data' }>;
  assert.equal(rsp.opcode, 0x32);
  assert.equal(rsp.returnCode, 0);
  // Frame 23: GetVarSubStreamed answered with an error (a 9-octet return value, low 16 bits 0xfff4).
  const err = ok(
    decodeS7PlusFrame(hex('72 02 001a 32 0000 0586 0000 0006 34 c08895b080ef91fff4 00000000000000 72 02 0000')),
  ) as Extract<S7PlusFrame, { kind: 'data' }>;
  assert.equal(err.returnCode, -12);
});

test('S7comm-plus fragments, keep-alive, and the session version string', () => {
  assert.equal(s7plusHasTrailer(hex('72 02 0002 3100 7202 0000')), true);
  assert.equal(s7plusHasTrailer(hex('72 02 0002 3100')), false, 'first fragment: no trailer');
  assert.deepEqual(ok(decodeS7PlusFrame(hex('72 ff 01 00'))), { kind: 'keep_alive', version: 0xff });
  const s = new TextEncoder().encode('\u00151;6ES7 214-1HE30-0XB0 ;V2.2\u0000');
  assert.deepEqual(sessionVersion(s), { productCode: '6ES7 214-1HE30-0XB0', firmware: 'V2.2' });
  assert.equal(sessionVersion(new TextEncoder().encode('ServerSession_2DC6D2')), null);
});

test('property: the S7comm, SZL and S7comm-plus decoders are total on random bytes', () => {
  const never = (d: Decoded<unknown>, n: number): void => {
    if (d.kind === 'ok') assert.ok(d.consumed <= n);
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      const withS7 = Uint8Array.from([0x32, ...bytes]);
      never(decodeS7Pdu(withS7), withS7.length);
      never(decodeS7Pdu(bytes), bytes.length);
      never(decodeSzlResponse(bytes), bytes.length);
      const withPlus = Uint8Array.from([0x72, ...bytes]);
      never(decodeS7PlusFrame(withPlus), withPlus.length);
      sessionVersion(bytes);
      const pdu = decodeS7Pdu(withS7);
      if (pdu.kind === 'ok') checkViews(pdu.value);
    }),
    { numRuns: 4000 },
  );
});

/** Structured S7 headers with random parameter and data parts. */
test('property: S7 PDUs with valid headers and random parts decode or are malformed, never throw', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2, 3, 7),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(0x00, 0x04, 0x05, 0x1a, 0x1b, 0x1d, 0x1e, 0x1f, 0x28, 0x29, 0xf0),
      (rosctr, param, data, func) => {
        const p = Uint8Array.from([func, ...param]);
        const head = [0x32, rosctr, 0, 0, 0, 1, p.length >> 8, p.length & 255, data.length >> 8, data.length & 255];
        if (rosctr === 2 || rosctr === 3) head.push(0, 0);
        const d = decodeS7Pdu(Uint8Array.from([...head, ...p, ...data]));
        assert.ok(d.kind === 'ok' || d.kind === 'malformed');
        if (d.kind === 'ok') checkViews(d.value);
      },
    ),
    { numRuns: 4000 },
  );
});

function checkViews(p: S7Pdu): void {
  if (p.data.kind === 'items') for (const it of p.data.items) assert.ok(it.data.length <= 65_535);
}

/** The item decoder as first written, over a sub-reader per specification: the reference. */
function referenceItems(param: Uint8Array): unknown {
  const r = new Reader(param);
  try {
    r.skip(1);
    const count = r.u8();
    const items = [];
    for (let i = 0; i < count; i++) {
      r.u8();
      const spec = r.sub(r.u8());
      const syntaxId = spec.u8();
      if (syntaxId === 0x10 && spec.remaining >= 9) {
        const transportSize = spec.u8();
        const length = spec.u16();
        const dbNumber = spec.u16();
        const area = spec.u8();
        const address = spec.u24();
        items.push({
          syntaxId,
          transportSize,
          length,
          dbNumber,
          area,
          address,
          byteAddress: address >>> 3,
          bitAddress: address & 7,
        });
      } else if (syntaxId === 0xb0 && spec.remaining >= 6) {
        spec.skip(1);
        const length = spec.u8();
        const dbNumber = spec.u16();
        const start = spec.u16();
        items.push({
          syntaxId,
          transportSize: 2,
          length,
          dbNumber,
          area: 0x84,
          address: start << 3,
          byteAddress: start,
          bitAddress: 0,
        });
      } else {
        items.push({
          syntaxId,
          transportSize: -1,
          length: 0,
          dbNumber: 0,
          area: -1,
          address: 0,
          byteAddress: 0,
          bitAddress: 0,
        });
      }
    }
    return items;
  } catch (e) {
    if (e instanceof ShortRead) return null;
    throw e;
  }
}

test('property: read var job items (S7ANY, DBREAD, others, cut short) decode as the reference reads them', () => {
  const spec = fc.oneof(
    fc
      .tuple(fc.constantFrom(0x10, 0xb0, 0xb2, 0x82), fc.uint8Array({ minLength: 6, maxLength: 11 }))
      .map(([s, rest]) => [s, ...rest]),
    fc.uint8Array({ maxLength: 3 }).map((b) => [...b]),
  );
  const item = fc
    .tuple(fc.constantFrom(0x12, 0x12, 0x11), spec, fc.integer({ min: -1, max: 1 }))
    .map(([v, sp, fix]) => [v, Math.max(0, sp.length + fix), ...sp]);
  fc.assert(
    fc.property(fc.array(item, { maxLength: 4 }), fc.integer({ min: 0, max: 5 }), (items, count) => {
      const param = Uint8Array.from([0x04, count, ...items.flat()]);
      const pdu = Uint8Array.from([0x32, 0x01, 0, 0, 0, 1, param.length >> 8, param.length & 0xff, 0, 0, ...param]);
      const d = decodeS7Pdu(pdu);
      const want = referenceItems(param);
      if (want === null) assert.equal(d.kind, 'malformed');
      else {
        const got = ok(d);
        assert.equal(got.param.kind, 'var_request');
        if (got.param.kind === 'var_request') assert.deepEqual(got.param.items, want);
      }
    }),
    { numRuns: 3000 },
  );
});
