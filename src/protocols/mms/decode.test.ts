// Session, presentation/ACSE and MMS decoding on annotated fixtures (TSDUs of the shared iec61850
// captures, frame numbers given), the BER reader's bounds, and totality under random bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { hex } from '../iso/test-support.ts';
import { Tlv, berInt, berUint } from './ber.ts';
import {
  dataValues,
  decodeMmsPdu,
  getNameListClass,
  getNameListCount,
  identifyResponse,
  informationReport,
  readRequest,
  writeRequest,
  writeResponse,
  type MmsPdu,
} from './decode.ts';
import { decodeSpdu, upperLayers } from './osi.ts';

function ok<T>(d: Decoded<T>): T {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return d.value;
}

/** Session → presentation → ACSE → MMS of one TSDU. */
function mmsOf(tsdu: Uint8Array): MmsPdu {
  const s = ok(decodeSpdu(tsdu));
  assert.ok(s.userData !== null);
  const m = upperLayers(s.userData).mms;
  assert.ok(m !== null);
  return ok(decodeMmsPdu(m));
}

/** GT + DT + fully-encoded P-DATA (context 3) around an MMS PDU. */
function dt(mmsHex: string): Uint8Array {
  const m = hex(mmsHex);
  const pdv = [0x02, 0x01, 0x03, 0xa0, ...len(m.length), ...m];
  const list = [0x30, ...len(pdv.length), ...pdv];
  return Uint8Array.from([0x01, 0x00, 0x01, 0x00, 0x61, ...len(list.length), ...list]);
}

function len(n: number): number[] {
  return n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 255];
}

test('CN SPDU: parameters, user data, CP-type, AARQ, initiate-RequestPDU (mms-get-name-list frame 8)', () => {
  const cn = hex(`
    0d b2                     // CN, length 178
    05 06 130100 160102       // connect/accept item: protocol options, version 2
    14 02 0002                // session user requirements
    33 02 0001  34 02 0001    // calling / called session selectors
    c1 9c                     // user data, 156 bytes:
    318199                    // CP-type (SET)
      a003 800101             // mode-selector: normal
      a2819181                // normal-mode-parameters
      04 00000001 820400000001 // calling / called presentation selectors
      a423 300f020101 0604 52010001 3004 0602 5101 3010 020103 0605 28ca220201 3004 0602 5101 // contexts: 1 ACSE, 3 MMS
      88020600                // presentation requirements
      615a 3058 020101 a053   // user data: PDV-list, context 1, single-ASN1-type
        6051 80020780 a107 0605 28ca220203 a206 0604 2bce0f02 a303 020117 // AARQ
        be35 2833 0602 5101 020103 a02a      // user-information EXTERNAL, context 3, single-ASN1-type
          a828 800275308102 03e8 820203e8 830105 a417 800101 810305fb00 820d03ffffffffffffffffffffff00 // initiate-Request
  `);
  const s = ok(decodeSpdu(cn));
  assert.equal(s.type, 13);
  assert.equal(s.name, 'connect');
  assert.equal(s.userData?.length, 0x9c);
  const u = upperLayers(s.userData);
  assert.equal(u.acse, 0, 'AARQ');
  assert.equal(ok(decodeMmsPdu(u.mms!)).kind, 'initiate_request');
});

test('GT + DT: confirmed-Request getNameList (mms-get-name-list frame 12) and a response without its service (frame 14)', () => {
  const req = mmsOf(
    hex(`
      01 00  01 00            // give tokens, data transfer
      6117 3015 020103 a010   // fully-encoded data, PDV-list, context 3, single-ASN1-type
      a00e 020100             // confirmed-RequestPDU, invokeID 0
      a109 a003 800100 a102 8000  // getNameList: objectClass named variable, scope VMD
    `),
  );
  assert.equal(req.kind, 'confirmed_request');
  assert.equal(req.invokeId, 0);
  assert.equal(req.service, 1);
  assert.equal(getNameListClass(req.body), 0);
  const d = decodeMmsPdu(hex('a103 020100'));
  assert.equal(d.kind === 'ok' && d.value.kind, 'confirmed_response');
  assert.equal(d.kind === 'ok' && d.value.service, -1);
  assert.deepEqual(d.kind === 'ok' && d.anomalies, ['mms.missing_service']);
});

test('Identify request from the server and an Identify response (mms-identify-getnamelist frames 17, 26)', () => {
  const req = mmsOf(hex('0100 0100 610f 300d 020103 a008 a006 0202114f 8200 // identify, invokeID 4431'));
  assert.deepEqual([req.kind, req.invokeId, req.service, req.body.length], ['confirmed_request', 4431, 2, 0]);
  const rsp = mmsOf(
    hex(`
      0100 0100 6139 3037 020103 a032
      a130 020101               // confirmed-ResponsePDU, invokeID 1
      a22b                      // identify
      8015 41524556412054264420436f72706f726174696f6e // vendorName "AREVA T&D Corporation"
      810b 652d7465727261636f6d6d                     // modelName "e-terracomm"
      8205 322e332e31                                 // revision "2.3.1"
    `),
  );
  assert.equal(rsp.service, 2);
  assert.deepEqual(identifyResponse(rsp.body), {
    vendor: 'AREVA T&D Corporation',
    model: 'e-terracomm',
    revision: '2.3.1',
  });
});

test('Read request of 8 domain variables (mms-session-1 frame 5) and a response without results (mms-read frame 14)', () => {
  const items = ['BR', 'CF', 'CO', 'DC', 'EX', 'GO', 'MX', 'SP'].map((fc) => {
    const item = [...new TextEncoder().encode(`LLN0$${fc}`)];
    const dom = [...new TextEncoder().encode('OG_TRALD0')];
    const body = [0x1a, dom.length, ...dom, 0x1a, item.length, ...item];
    const name = [0xa1, body.length, ...body];
    const spec = [0xa0, name.length, ...name];
    return [0x30, spec.length, ...spec];
  });
  const list = items.flat();
  const read = [0x80, 0x01, 0x00, 0xa1, ...len(list.length + 3), 0xa0, ...len(list.length), ...list];
  const pdu = [0x02, 0x01, 0x02, 0xa4, ...len(read.length), ...read];
  const p = ok(decodeMmsPdu(Uint8Array.from([0xa0, ...len(pdu.length), ...pdu])));
  assert.equal(p.service, 4);
  assert.deepEqual(readRequest(p.body), { count: 8, listName: false, control: false });
  const rsp = mmsOf(hex('0100 0100 6110 300e 020103 a009 a107 020100 a402 a100'));
  assert.equal(rsp.service, 4);
});

test('Write request with a value (mms-write frame 12); write of a control object; write response', () => {
  const w = mmsOf(
    hex(
      '0100 0100 611d 301b 020103 a016 a014 020100 a50f a008 3006 a004 8002 6d75 // vmd-specific "mu"\n a003 850100 // integer 0',
    ),
  );
  assert.equal(w.service, 5);
  const values: number[] = [];
  assert.deepEqual(writeRequest(w.body, values, 16), { count: 1, listName: false, control: false });
  assert.deepEqual(values, [0]);
  // IEC 61850 Oper of a breaker: domain-specific item with $CO$, a structure of values.
  const enc = (x: string): number[] => [...new TextEncoder().encode(x)];
  const dom = enc('LD0');
  const item = enc('CSWI1$CO$Pos$Oper');
  const objectName = [0xa1, 4 + dom.length + item.length, 0x1a, dom.length, ...dom, 0x1a, item.length, ...item];
  const spec = [0xa0, objectName.length, ...objectName];
  const body = Uint8Array.from([
    ...[0xa0, spec.length + 2, 0x30, spec.length, ...spec], // listOfVariable
    ...[0xa0, 0x0b, 0xa2, 0x09, 0x83, 0x01, 0x01, 0x85, 0x01, 0x07, 0x86, 0x01, 0x2a], // structure [true, 7, 42]
  ]);
  const cv: number[] = [];
  assert.deepEqual(writeRequest(body, cv, 16), { count: 1, listName: false, control: true });
  assert.deepEqual(cv, [1, 7, 42]);
  assert.deepEqual(writeResponse(hex('8100 800103')), { count: 2, failures: 1, firstFailure: 3 });
});

test('InformationReport of a report list (mms-identify-getnamelist frame 68, first results)', () => {
  const r = mmsOf(
    hex(`
      0100 0100 612f 302d 020103 a028
      a326 a024                 // unconfirmed-PDU, informationReport
      a120 a11e 1a08 4b49524b4c414e44 1a12 454d535f414e414c4f475f494343505f494e // variableListName KIRKLAND/EMS_ANALOG_ICCP_IN
      a000                      // listOfAccessResult (trimmed)
    `),
  );
  assert.equal(r.kind, 'unconfirmed');
  assert.equal(r.service, 0);
  const report = informationReport(r.body);
  assert.deepEqual(report.access, { count: 1, listName: true, control: false });
  assert.deepEqual(report.results, { count: 0, failures: 0, firstFailure: -1 });
});

test('Confirmed-Error (sample-mms-and-goose frame 126), reject, cancel, conclude', () => {
  const e = mmsOf(hex('0100 0100 6115 3013 020103 a00e a20c 8003 04a273 a205 a003 870102 // access error 2'));
  assert.deepEqual([e.kind, e.invokeId, e.errorClass, e.errorCode], ['confirmed_error', 0x04a273, 7, 2]);
  const rj = ok(decodeMmsPdu(hex('a406 800105 810101 // reject invoke 5: confirmed-request, unrecognized service')));
  assert.deepEqual([rj.kind, rj.invokeId, rj.rejectType, rj.rejectCode], ['reject', 5, 1, 1]);
  assert.deepEqual(
    [ok(decodeMmsPdu(hex('8501 07'))).kind, ok(decodeMmsPdu(hex('8501 07'))).invokeId],
    ['cancel_request', 7],
  );
  assert.equal(ok(decodeMmsPdu(hex('8b00'))).kind, 'conclude_request');
  assert.equal(ok(decodeMmsPdu(hex('8c00'))).kind, 'conclude_response');
});

test('GetNameList response: the number of names', () => {
  const body = hex('a00c 1a04 4c4c4e30 1a04 4c504844 // LLN0, LPHD\n 810100 // moreFollows false');
  assert.equal(getNameListCount(body), 2);
});

test('MMS and session malformed codes; BER bounds', () => {
  const code = (d: Decoded<unknown>): string => (d.kind === 'malformed' ? d.code : d.kind);
  assert.equal(code(decodeMmsPdu(hex('a005 0201'))), 'mms.truncated');
  assert.equal(code(decodeMmsPdu(hex('3000'))), 'mms.bad_pdu');
  assert.equal(code(decodeMmsPdu(hex('a003 040100'))), 'mms.bad_invoke_id');
  assert.equal(code(decodeSpdu(hex('0d05 c1'))), 'mms.bad_spdu');
  assert.equal(code(decodeSpdu(hex('4400'))), 'mms.bad_spdu', 'unknown SPDU identifier');
  const t = new Tlv();
  assert.equal(t.read(hex('9f4803 010203'), 0, 6), true, 'high tag number [72] (fileOpen)');
  assert.deepEqual([t.tag, t.end - t.start], [72, 3]);
  assert.equal(t.read(hex('0485 0000000001 00'), 0, 7), false, 'five length octets');
  assert.equal(t.read(hex('0482 ffff'), 0, 4), false, 'length past the end');
  assert.equal(berInt(hex('ff7f'), 0, 2), -129);
  assert.equal(berUint(hex('00ffffffff'), 0, 5), 0xffffffff);
  const out: number[] = [];
  const data = hex('8705 08 3f800000  8709 0b 3ff0000000000000  8301 00');
  dataValues(data, 0, data.length, out, 16, 0);
  assert.deepEqual(out, [1, 1, 0], 'single, double, boolean');
});

test('property: session, upper layers and MMS decoders are total on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      const s = decodeSpdu(bytes);
      if (s.kind === 'ok' && s.value.userData !== null) upperLayers(s.value.userData);
      upperLayers(bytes);
      const d = decodeMmsPdu(bytes);
      if (d.kind === 'ok') {
        assert.ok(d.consumed <= bytes.length);
        const b = d.value.body;
        readRequest(b);
        writeRequest(b, [], 16);
        informationReport(b);
        identifyResponse(b);
        getNameListClass(b);
        getNameListCount(b);
        writeResponse(b);
      }
    }),
    { numRuns: 4000 },
  );
});

test('property: MMS PDUs with random service bodies inside a valid DT never throw', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0xa0, 0xa1, 0xa3),
      fc.nat(90),
      fc.uint8Array({ maxLength: 60 }),
      (pduTag, service, body) => {
        const tag = service < 31 ? [0xa0 | service] : [0xbf, service];
        const inner =
          pduTag === 0xa3
            ? [...tag, ...len(body.length), ...body]
            : [0x02, 0x01, 0x05, ...tag, ...len(body.length), ...body];
        const pdu = [pduTag, ...len(inner.length), ...inner];
        const hexs = pdu.map((b) => b.toString(16).padStart(2, '0')).join('');
        const p = mmsOf(dt(hexs));
        assert.equal(p.service, service);
        readRequest(p.body);
        writeRequest(p.body, [], 16);
        informationReport(p.body);
      },
    ),
    { numRuns: 2000 },
  );
});
