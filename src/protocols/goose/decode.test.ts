// decodeGooseFrame on annotated hex fixtures (real frames from the shared captures, and frames built
// from IEC 61850-8-1 Annex A for the other Data types), malformed BER, and totality (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Decoded } from '../../core/decoded.ts';
import { LD_INSTANCE_SUFFIX } from './constants.ts';
import {
  berInteger,
  countGooseElements,
  decodeGooseFrame,
  walkGooseData,
  GooseDecoder,
  type GooseFrame,
  type GoosePdu,
} from './decode.ts';
import { hex } from './test-support.ts';

function okFrame(d: Decoded<GooseFrame>): { frame: GooseFrame; anomalies: readonly string[] } {
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { frame: d.value, anomalies: d.anomalies };
}

function pduOf(d: Decoded<GooseFrame>): GoosePdu {
  const { frame } = okFrame(d);
  assert.equal(frame.kind, 'goose');
  if (frame.kind !== 'goose') throw new Error('unreachable');
  return frame.pdu;
}

// goose-8-frames.pcap frame 1 (GE F650); tshark fields in the comments
const F650 = hex(`
  0001            // APPID 0x0001
  0091            // length 145
  0000 0000       // reserved 1, reserved 2
  61 8186         // goosePdu [APPLICATION 1], length 134
  80 1a 4745446576696365463635302f4c4c4e3024474f2467636230 31  // gocbRef GEDeviceF650/LLN0$GO$gcb01
  81 03 009c40    // timeAllowedtoLive 40000
  82 18 4745446576696365463635302f4c4c4e3024474f4f534531  // datSet GEDeviceF650/LLN0$GOOSE1
  83 0b 463635305f474f4f534531  // goID F650_GOOSE1
  84 08 386ebbf3 421728 0a      // t: Jan 2, 2000 02:46:11.258165836, quality 0x0a
  85 01 01        // stNum 1
  86 01 0a        // sqNum 10
  87 01 00        // simulation (test) false
  88 01 01        // confRev 1
  89 01 00        // ndsCom false
  8a 01 08        // numDatSetEntries 8
  ab 20           // allData, 32 bytes
    83 01 00  84 03 030000   // boolean false, bit-string 13 bits 0000
    83 01 00  84 03 030000
    83 01 00  84 03 030000
    83 01 00  84 03 030000
`);

test('goosePdu fields and allData of a real frame (goose-8-frames.pcap frame 1)', () => {
  const d = decodeGooseFrame(F650);
  const { frame, anomalies } = okFrame(d);
  assert.deepEqual(anomalies, []);
  assert.deepEqual(frame.kind === 'goose' ? frame.header : null, {
    appid: 1,
    length: 145,
    reserved1: 0,
    reserved2: 0,
    simulationBit: false,
  });
  const p = pduOf(d);
  assert.equal(p.gocbRef, 'GEDeviceF650/LLN0$GO$gcb01');
  assert.equal(p.timeAllowedToLive, 40000);
  assert.equal(p.datSet, 'GEDeviceF650/LLN0$GOOSE1');
  assert.equal(p.goID, 'F650_GOOSE1');
  assert.deepEqual(p.t, { seconds: 0x386ebbf3, fraction: 0x421728, quality: 0x0a, micros: 0x386ebbf3 * 1e6 + 258165 });
  assert.deepEqual(
    [p.stNum, p.sqNum, p.simulation, p.confRev, p.ndsCom, p.numDatSetEntries, p.entries],
    [1, 10, false, 1, false, 8, 8],
  );
  assert.equal(p.counts.boolean, 4);
  assert.equal(p.counts.bit_string, 4);
  assert.deepEqual(p.values, [0, 0, 0, 0], '13-bit quality bit strings are not values');
  assert.equal(p.allData.buffer, F650.buffer, 'allData is a view');
});

test('long-form lengths, a five-octet sqNum and Dbpos values (ge-multilin-ur frame 11)', () => {
  const p = pduOf(
    decodeGooseFrame(
      hex(`
        3000 00a4 0000 0000   // APPID 0x3000, length 164
        61 8199               // goosePdu, length 153 (long form, one octet)
        80 23 433236365f42757353656353595354454d2f4c4c4e3024474f246362476f6f73655354
        81 02 07d0            // timeAllowedtoLive 2000
        82 20 433236365f42757353656353595354454d2f4c4c4e30246473476f6f73655354
        83 23 433236365f42757353656353595354454d2f4c4c4e3024474f246362476f6f73655354
        84 08 63d128fe ea3d70 0a
        85 01 02              // stNum 2
        86 03 7983ed          // sqNum 7963629
        87 01 00  88 01 01  89 01 00  8a 01 02
        ab 09
          84 02 06 80         // bit-string, 2 bits: 10 (Dbpos on = 2)
          84 03 03 0000       // quality
      `),
    ),
  );
  assert.equal(p.gocbRef, 'C266_BusSecSYSTEM/LLN0$GO$cbGooseST');
  assert.deepEqual([p.stNum, p.sqNum, p.entries], [2, 7963629, 2]);
  assert.deepEqual(p.values, [2]);
  assert.equal(LD_INSTANCE_SUFFIX.exec('C266_BusSecSYSTEM')?.[1], 'C266_BusSec');
  assert.equal(LD_INSTANCE_SUFFIX.exec('AA1C1Q01A1LD0')?.[1], 'AA1C1Q01A1');
  assert.equal(LD_INSTANCE_SUFFIX.exec('GEDeviceF650'), null);
});

/** A goosePdu with the given allData contents (hex) and optional header/flag overrides. */
function goose(
  allData: string,
  o: { appid?: number; reserved1?: number; test?: boolean; entries?: number } = {},
): Uint8Array {
  const data = hex(allData);
  const fields = [
    0x80,
    4,
    ...Buffer.from('ld/g'),
    0x81,
    1,
    100,
    0x82,
    4,
    ...Buffer.from('ld/d'),
    0x84,
    8,
    0,
    0,
    0,
    1,
    0x80,
    0,
    0,
    0,
    0x85,
    1,
    5,
    0x86,
    1,
    0,
    0x87,
    1,
    o.test === true ? 1 : 0,
    0x88,
    1,
    1,
    0x89,
    1,
    0,
    0x8a,
    1,
    o.entries ?? 1,
    0xab,
    data.length,
    ...data,
  ];
  const pdu = [0x61, fields.length, ...fields];
  const appid = o.appid ?? 0x0010;
  const r1 = o.reserved1 ?? 0;
  const length = 8 + pdu.length;
  return Uint8Array.from([appid >> 8, appid & 255, length >> 8, length & 255, r1 >> 8, r1 & 255, 0, 0, ...pdu]);
}

test('every Data type is counted; structures and arrays are walked; simple values kept', () => {
  const allData = `
    a2 0c                 // structure of 3
      85 01 fb            //   integer -5
      86 02 00ff          //   unsigned 255
      a1 03 83 01 01      //   array of 1: boolean true
    87 05 08 3f800000     // floating-point 1.0 (exponent width 8)
    89 02 abcd            // octet-string
    8a 02 6869            // visible-string "hi"
    8c 06 000000000000    // binary-time
    91 08 0000000100000000  // utc-time
    90 01 41              // mMSString
  `;
  const p = pduOf(decodeGooseFrame(goose(allData, { entries: 7 })));
  assert.equal(p.entries, 7);
  assert.deepEqual(
    Object.entries(p.counts).filter(([, n]) => n > 0),
    [
      ['array', 1],
      ['structure', 1],
      ['boolean', 1],
      ['integer', 1],
      ['unsigned', 1],
      ['floating_point', 1],
      ['octet_string', 1],
      ['visible_string', 1],
      ['binary_time', 1],
      ['mms_string', 1],
      ['utc_time', 1],
    ],
  );
  assert.deepEqual(p.values, [-5, 255, 1]);
  // the test accessors
  const seen: string[] = [];
  const w = walkGooseData(p.allData, (type, _tag, c, depth) => seen.push(`${depth}:${type}:${c.length}`));
  assert.equal(w.error, '');
  assert.deepEqual(seen.slice(0, 5), ['0:structure:12', '1:integer:1', '1:unsigned:2', '1:array:3', '2:boolean:1']);
  assert.equal(countGooseElements(hex('85 01 fb 86 02 00ff a1 03 830101')), 3);
  assert.equal(berInteger(hex('ff7f'), 0, 2), -129);
});

test('values are bounded to 16', () => {
  const p = pduOf(decodeGooseFrame(goose('830101'.repeat(20), { entries: 20 })));
  assert.equal(p.values.length, 16);
  assert.equal(p.counts.boolean, 20);
});

test('anomalies: entry count, APPID range, field order, trailing bytes, odd booleans', () => {
  assert.deepEqual(okFrame(decodeGooseFrame(goose('830100', { entries: 2 }))).anomalies, [
    'goose.entry_count_mismatch',
  ]);
  assert.deepEqual(okFrame(decodeGooseFrame(goose('830100', { entries: 1, appid: 0x8000 }))).anomalies, [
    'goose.appid_out_of_range',
  ]);
  const flags = okFrame(decodeGooseFrame(goose('830100', { entries: 1, reserved1: 0x8000, test: true })));
  assert.equal(flags.frame.kind === 'goose' && flags.frame.header.simulationBit, true);
  assert.equal(flags.frame.kind === 'goose' && flags.frame.pdu.simulation, true);
  // two bytes after the goosePdu, inside the header length
  const padded = Uint8Array.from([...goose('830100', { entries: 1 }), 0, 0]);
  padded[3] = padded.length;
  assert.deepEqual(okFrame(decodeGooseFrame(padded)).anomalies, ['goose.trailing_bytes']);
  // goID before datSet
  const swapped = hex(`
    0001 0031 0000 0000 61 27
    80 01 67  81 01 64  83 01 69  82 01 64
    84 08 0000000000000000  85 01 01  86 01 00  88 01 01  8a 01 01
    ab 03 830100
  `);
  assert.deepEqual(okFrame(decodeGooseFrame(swapped)).anomalies, ['goose.field_order']);
  // a boolean of two octets
  const b = goose('830100', { entries: 1 });
  const twoOctet = hex(Buffer.from(b).toString('hex').replace('870100', '8702000a'));
  const fixed = Uint8Array.from(twoOctet);
  fixed[3] = fixed.length; // header length
  fixed[9] = fixed[9]! + 1; // goosePdu length
  assert.deepEqual(okFrame(decodeGooseFrame(fixed)).anomalies, ['goose.bad_boolean']);
});

test('GSE management frames are recognised, not decoded', () => {
  const { frame } = okFrame(decodeGooseFrame(hex('0001 000e 0000 0000 60 04 a1 02 8000 // gseMngtPdu')));
  assert.equal(frame.kind, 'gse_management');
});

test('malformed: short, bad lengths, indefinite BER, missing fields, nesting too deep', () => {
  const code = (b: Uint8Array): string => {
    const d = decodeGooseFrame(b);
    return d.kind === 'malformed' ? d.code : d.kind;
  };
  assert.equal(code(hex('0001 0008 0000')), 'goose.truncated');
  assert.equal(code(hex('0001 0004 0000 0000 6100')), 'goose.bad_length');
  assert.equal(code(hex('0001 00ff 0000 0000 6100')), 'goose.bad_length', 'length beyond the frame');
  assert.equal(code(hex('0001 000c 0000 0000 62 02 0000')), 'goose.unknown_pdu');
  assert.equal(code(hex('0001 000c 0000 0000 61 80 0000')), 'goose.bad_ber_length', 'indefinite length');
  assert.equal(code(hex('0001 000c 0000 0000 61 85 0000')), 'goose.bad_ber_length');
  assert.equal(code(hex('0001 000c 0000 0000 61 10 0000')), 'goose.truncated', 'PDU longer than the APDU');
  assert.equal(code(hex('0001 000d 0000 0000 61 03 80 01 67')), 'goose.missing_field');
  assert.equal(code(hex('0001 000d 0000 0000 61 03 9f 01 67')), 'goose.unsupported_tag');
  assert.equal(code(goose(nest(12), { entries: 1 })), 'goose.too_deep');
  assert.equal(code(goose('a2 05 83 01 00', { entries: 1 })), 'goose.truncated', 'element longer than its structure');
});

/** `depth` structures nested in one another around a boolean. */
function nest(depth: number): string {
  let inner = '830100';
  for (let i = 0; i < depth; i++) inner = `a2${(inner.length / 2).toString(16).padStart(2, '0')}${inner}`;
  return inner;
}

test('property: the decoder is total on random bytes and on corrupted real frames', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const d = decodeGooseFrame(bytes);
      assert.ok(d.kind === 'ok' || d.kind === 'malformed');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (edits, cut) => {
        const b = F650.slice(0, 10 + (cut % (F650.length - 9)));
        for (const [at, v] of edits) if (at % b.length >= 4) b[at % b.length] = v;
        b[2] = b.length >> 8;
        b[3] = b.length & 255;
        const d = decodeGooseFrame(b);
        assert.ok(d.kind === 'ok' || d.kind === 'malformed');
        if (d.kind === 'ok') assert.ok(d.consumed <= b.length);
      },
    ),
    { numRuns: 3000 },
  );
});

test('a reused GooseDecoder decodes as a fresh one, for repeated, changed and broken frames', () => {
  const dec = new GooseDecoder();
  const frames = [
    goose('83 01 01 84 02 06 40'),
    goose('83 01 01 84 02 06 40'),
    goose('83 01 00 84 02 06 80'),
    goose('83 01 00 84 02 06 80', { entries: 3 }),
    goose('83 05 01'), // broken: length past the end of allData
    goose('83 01 00 84 02 06 80'),
    goose('a2 06 83 01 01 83 01 00', { entries: 1 }),
  ];
  // Another gocbRef and datSet of the same length ('ld/g' → 'ld/h', 'ld/d' → 'ld/e'), then back.
  const renamed = goose('83 01 00 84 02 06 80');
  renamed[renamed.indexOf(0x67)] = 0x68;
  renamed[renamed.lastIndexOf(0x64)] = 0x65;
  frames.push(renamed, goose('83 01 00 84 02 06 80'), renamed);
  for (const f of frames) assert.deepEqual(decodeGooseFrame(f, dec), decodeGooseFrame(f));
  assert.equal(pduOf(decodeGooseFrame(renamed, dec)).gocbRef, 'ld/h');
  assert.equal(pduOf(decodeGooseFrame(renamed, dec)).datSet, 'ld/e');
});

test('a reused GooseDecoder agrees with a fresh one on any sequence of (mutated) frames at any offset', () => {
  const base = [goose('83 01 01 84 02 06 40'), goose('a2 06 83 01 01 85 01 07', { entries: 1 }), F650];
  const frame = fc
    .tuple(
      fc.constantFrom(...base),
      fc.array(fc.tuple(fc.nat(300), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    )
    .map(([f, edits]) => {
      const b = f.slice();
      for (const [at, v] of edits) b[at % b.length] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.array(frame, { minLength: 1, maxLength: 12 }), fc.nat(7), (seq, pad) => {
      const dec = new GooseDecoder();
      for (const f of seq) {
        assert.deepEqual(decodeGooseFrame(f, dec), decodeGooseFrame(f));
        // The same frame inside a larger buffer: the same fields, offsets from the frame's start.
        const buf = new Uint8Array(f.length + 2 * pad).fill(0xab);
        buf.set(f, pad);
        const want = decodeGooseFrame(f);
        const code = dec.decode(buf, pad, f.length);
        if (want.kind === 'ok') {
          assert.equal(code, '');
          if (want.value.kind === 'goose') {
            const p = want.value.pdu;
            assert.deepEqual(
              [
                dec.gocbRef,
                dec.datSet,
                dec.stNum,
                dec.sqNum,
                dec.entries,
                dec.values,
                dec.allDataEnd - dec.allDataStart,
              ],
              [p.gocbRef, p.datSet, p.stNum, p.sqNum, p.entries, p.values, p.allData.length],
            );
          }
        } else if (want.kind === 'malformed') {
          assert.deepEqual([code, dec.errorOffset], [want.code, want.offset]);
        }
      }
    }),
    { numRuns: 400 },
  );
});

test('a retransmission (only t and sqNum differ) is taken from the last frame, and decodes as a fresh one', () => {
  const base = goose('83 01 01', { entries: 1 });
  const at = (seq: number[]): number => {
    for (let i = 0; i + seq.length <= base.length; i++)
      if (seq.every((v, k) => base[i + k] === v)) return i + seq.length;
    throw new Error('not found');
  };
  const tAt = at([0x84, 8]);
  const sqAt = at([0x86, 1]);
  const variant = (t: number, sq: number, edit?: (b: Uint8Array) => void): Uint8Array => {
    const b = base.slice();
    b[tAt + 3] = t;
    b[sqAt] = sq;
    edit?.(b);
    return b;
  };
  const frames = [
    base,
    variant(2, 1), // a retransmission
    variant(3, 2),
    variant(4, 0x80), // sqNum negative: decoded in full (goose.bad_integer)
    variant(5, 3),
    variant(6, 4, (b) => (b[at([0x80, 4]) + 3] = 0x68)), // another gocbRef
    variant(7, 5, (b) => (b[b.length - 1] = 0)), // another allData value
    variant(8, 6, (b) => (b[2] = 0)), // another header length: bad
    variant(9, 7),
  ];
  const dec = new GooseDecoder();
  frames.forEach((f, i) => {
    // Each frame at another offset of a larger buffer: allData's place must follow it.
    const pad = i % 3;
    const buf = new Uint8Array(f.length + 4).fill(0xee);
    buf.set(f, pad);
    const want = decodeGooseFrame(f);
    const code = dec.decode(buf, pad, f.length);
    if (want.kind !== 'ok') {
      assert.equal(code, want.kind === 'malformed' ? want.code : '?', `frame ${i}`);
      return;
    }
    assert.equal(code, '', `frame ${i}`);
    const p = pduOf(want);
    assert.deepEqual(
      [dec.gocbRef, dec.stNum, dec.sqNum, dec.tSeconds, dec.values, [...dec.anomalies], dec.allDataStart - pad],
      [p.gocbRef, p.stNum, p.sqNum, p.t.seconds, p.values, [...want.anomalies], p.allData.byteOffset],
      `frame ${i}`,
    );
  });
});
