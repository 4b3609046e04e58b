// The packet path against the general decoder (fast-check): `scanDnp3Apdu` (no records, any
// offset) gives what `decodeDnp3Apdu` gives, and `dataAt` (frames taken in place) reports exactly
// what `data` reports, on arbitrary and on DNP3-shaped bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SCAN, decodeDnp3Apdu, encodeDnp3Link, scanDnp3Apdu } from './decode.ts';
import { Dnp3Analyzer } from './index.ts';
import { cat, Ctx } from './test-support.ts';
import { segments } from '../_core/testing.ts';

/** What the analyzer reads of a fragment, from the general decoder. */
function general(bytes: Uint8Array): unknown {
  const d = decodeDnp3Apdu(bytes);
  if (d.kind !== 'ok') return d.kind === 'malformed' ? d.code : d.kind;
  const a = d.value;
  const p = a.objects.find((h) => [...Array(44).keys(), 101, 102, 110, 112].includes(h.group) && h.group > 0);
  return {
    control: a.control,
    functionCode: a.functionCode,
    iin: a.iin ?? -1,
    controlStatus: a.controlStatus,
    point:
      p === undefined ? null : [p.group, p.variation, p.minIndex ?? -1, p.minIndex === undefined ? -1 : p.maxIndex],
    values: a.values,
    attributes: a.attributes,
    anomalies: d.anomalies,
  };
}

function scanned(buf: Uint8Array, start: number, end: number): unknown {
  if (!scanDnp3Apdu(buf, start, end)) return 'dnp3.truncated';
  const s = SCAN;
  return {
    control: s.control,
    functionCode: s.functionCode,
    iin: s.iin,
    controlStatus: s.controlStatus,
    point: s.pointGroup < 0 ? null : [s.pointGroup, s.pointVariation, s.pointMin, s.pointMax],
    values: s.values,
    attributes: s.attributes,
    anomalies: [...s.anomalies],
  };
}

/** Object headers DNP3 devices send, to reach deep paths more often than random bytes do. */
const HEADERS = [
  '3c02 06',
  '3c01 06',
  '0101 00 00 07 ff',
  '0202 28 0200 0100 01 00000000 0000 0500 81 00000000 0000',
  '2001 28 0100 0300 01 0a000000',
  '0c01 17 01 08 42 01 f4010000 00000000 00',
  '0c01 17 01 08 42 01 f4010000 00000000 04',
  '2901 17 01 02 10000000 00',
  '2903 28 0100 0500 0000803f 00',
  '1e01 00 00 01 01 64000000 01 c8000000',
  '0a01 00 00 0f ff7f',
  '0000 00 f0 f0',
  '00fc 00 fc fc 01 05 41424344 45',
  '00f3 00 f3 f3 02 02 3412',
  '5001 00 07 07 00',
  '7803 5b 01 0600 010203040506',
  '0c03 00 00 07 ff',
  '1401 7a 02 0500 0600',
  'ff01 06',
  '0101 0f',
];

const fragment = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 13, 20, 22, 32, 129, 130, 131, 200),
    fc.integer({ min: 0, max: 0xffff }),
    fc.array(fc.constantFrom(...HEADERS), { maxLength: 5 }),
    fc.nat({ max: 4 }),
  )
  .map(([ac, fcode, iin, hs, cut]) => {
    const head = fcode >= 129 && fcode <= 131 ? [ac, fcode, iin >> 8, iin & 0xff] : [ac, fcode];
    const body = Uint8Array.from(
      hs
        .join('')
        .replace(/\s+/g, '')
        .match(/../g)
        ?.map((h) => parseInt(h, 16)) ?? [],
    );
    const all = cat(Uint8Array.from(head), body);
    return all.subarray(0, Math.max(0, all.length - cut));
  });

test('scanDnp3Apdu agrees with decodeDnp3Apdu at any offset, on random and on DNP3-shaped fragments', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), fragment), fc.uint8Array({ maxLength: 5 }), (bytes, pad) => {
      const buf = cat(pad, bytes, pad);
      assert.deepEqual(scanned(buf, pad.length, pad.length + bytes.length), general(bytes));
    }),
    { numRuns: 3000 },
  );
});

test('dataAt reports what data reports, whatever the segments', () => {
  const frame = fc
    .tuple(fc.boolean(), fragment, fc.integer({ min: 0, max: 3 }), fc.nat({ max: 5 }))
    .map(([fromMaster, frag, tseq, damage]) => {
      const th = Uint8Array.from([0xc0 | tseq]);
      const f = fromMaster ? encodeDnp3Link(0xc4, 4, 3, cat(th, frag)) : encodeDnp3Link(0x44, 3, 4, cat(th, frag));
      if (damage === 1 && f.length > 12) f[12]! ^= 0x10; // a bad data CRC
      if (damage === 2) f[9]! ^= 0x01; // a bad header CRC
      return f;
    });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(0 as const, 1 as const), frame), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.boolean(),
      (frames, cuts, midStream) => {
        const run = (useAt: boolean): unknown => {
          const ctx = new Ctx(true);
          const a = new Dnp3Analyzer(ctx);
          if (midStream) {
            a.gap(0, 0);
            a.gap(1, 0);
          }
          for (const dir of [0, 1] as const) {
            const stream = cat(...frames.filter((f) => f[0] === dir).map((f) => f[1]));
            for (const s of segments(stream, cuts)) {
              if (useAt) {
                const buf = cat(new Uint8Array(3), s, new Uint8Array(2));
                a.dataAt(dir, buf, 3, s.length, 7);
              } else a.data(dir, s, 7);
            }
          }
          a.end();
          return ctx.events;
        };
        assert.deepEqual(run(true), run(false));
      },
    ),
    { numRuns: 500 },
  );
});
