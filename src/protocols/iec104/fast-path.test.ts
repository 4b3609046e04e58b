// The fast path of the IEC 104 analyzer (S-frames and monitor reports taken without decoded
// records, APDUs taken in place by `dataAt`) against the general path, on arbitrary and on
// IEC-104-shaped streams (fast-check): the same events, in the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { typeInfo } from './constants.ts';
import { Iec104Analyzer } from './index.ts';
import { cat, Ctx } from './test-support.ts';
import { segments } from '../_core/testing.ts';

/** An I-frame whose elements fill it exactly (sometimes one octet off), SQ or not. */
const shaped = fc
  .tuple(
    fc.nat({ max: 0x7fff }),
    fc.constantFrom(
      1,
      3,
      5,
      7,
      9,
      11,
      13,
      15,
      20,
      21,
      30,
      31,
      34,
      35,
      36,
      37,
      45,
      46,
      48,
      50,
      51,
      70,
      100,
      101,
      103,
      110,
    ),
    fc.integer({ min: 0, max: 20 }),
    fc.boolean(),
    fc.oneof(fc.constantFrom(1, 2, 3, 20, 0x43, 0x83, 6, 7, 10), fc.integer({ min: 0, max: 255 })),
    fc.uint8Array({ minLength: 300, maxLength: 300 }),
    fc.constantFrom(0, 0, 0, 1, -1),
  )
  .map(([ns, type, count, sq, cot, fill, off]) => {
    const size = typeInfo(type).size;
    const body = Math.max(0, (sq ? 3 + count * size : count * (3 + size)) + off);
    const n = Math.min(body, 255 - 12);
    const head = [0x68, 10 + n, (ns << 1) & 0xff, ns >> 7, 0, 0, type, (sq ? 0x80 : 0) | count, cot, 0, 7, 0];
    return Uint8Array.from([...head, ...fill.subarray(0, n)]);
  });

/** An APDU of any format: I-frames with a random type, VSQ, COT, addresses and elements. */
const apdu = fc.oneof(
  shaped,
  shaped,
  fc
    .tuple(
      fc.nat({ max: 0x7fff }),
      fc.oneof(
        fc.constantFrom(
          1,
          3,
          9,
          11,
          13,
          15,
          20,
          21,
          30,
          31,
          34,
          35,
          36,
          37,
          45,
          46,
          48,
          50,
          51,
          70,
          100,
          101,
          102,
          103,
        ),
        fc.integer({ min: 0, max: 255 }),
      ),
      fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0x81, 0x83, 0x90), fc.integer({ min: 0, max: 255 })),
      fc.oneof(fc.constantFrom(1, 2, 3, 5, 6, 7, 10, 20, 37, 44, 0x47), fc.integer({ min: 0, max: 255 })),
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: 60 }),
    )
    .map(([ns, type, vsq, cot, ca, rest]) =>
      Uint8Array.from([
        0x68,
        4 + 6 + rest.length,
        (ns << 1) & 0xff,
        ns >> 7,
        0,
        0,
        type,
        vsq,
        cot,
        0,
        ca & 0xff,
        ca >> 8,
        ...rest,
      ]).subarray(0, Math.min(255, 12 + rest.length)),
    )
    .map((b) => {
      const out = Uint8Array.from(b);
      out[1] = out.length - 2;
      return out;
    }),
  fc.constantFrom(
    Uint8Array.from([0x68, 4, 1, 0, 2, 0]),
    Uint8Array.from([0x68, 4, 1, 1, 2, 0]),
    Uint8Array.from([0x68, 4, 5, 0, 2, 0]),
    Uint8Array.from([0x68, 4, 0x07, 0, 0, 0]),
    Uint8Array.from([0x68, 4, 0x0b, 0, 0, 0]),
    Uint8Array.from([0x68, 4, 0x43, 0, 0, 0]),
    Uint8Array.from([0x68, 4, 0x83, 0, 0, 1]),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 12 }),
);

test('the fast path and dataAt report what the general path reports', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(0 as const, 1 as const), apdu), { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.boolean(),
      (apdus, cuts, midStream) => {
        const run = (fastPath: boolean, useAt: boolean): unknown => {
          const ctx = new Ctx(true);
          const a = new Iec104Analyzer(ctx, undefined, fastPath);
          if (midStream) {
            a.gap(0, 0);
            a.gap(1, 0);
          }
          for (const dir of [0, 1] as const) {
            const stream = cat(...apdus.filter((x) => x[0] === dir).map((x) => x[1]));
            for (const s of segments(stream, cuts)) {
              if (useAt) a.dataAt(dir, cat(new Uint8Array(2), s, new Uint8Array(1)), 2, s.length, 9);
              else a.data(dir, s, 9);
            }
          }
          a.end();
          return ctx.events;
        };
        const general = run(false, false);
        assert.deepEqual(run(true, false), general);
        assert.deepEqual(run(true, true), general);
      },
    ),
    { numRuns: 1000 },
  );
});
