// The ReadProperty fast path of the BACnet/IP analyzer against the general path (fast-check): on
// ReadProperty-shaped datagrams with every field varied (and on random bytes), both report the
// same events in the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BacnetAnalyzer } from './index.ts';
import { Ctx } from '../_core/testing.ts';

/** A BVLL around `npdu` with a right (or, sometimes, wrong) length. */
function bvll(fn: number, npdu: number[], lengthDelta: number): Uint8Array {
  const n = 4 + npdu.length + lengthDelta;
  return Uint8Array.from([0x81, fn, (n >> 8) & 0xff, n & 0xff, ...npdu]);
}

const byte = fc.integer({ min: 0, max: 255 });
const objectId = fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 8, 10, 1023), fc.integer({ min: 0, max: 0x3fffff }));
const property = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom([0x19, 85], [0x19, 77], [0x1a, 0x01, 0x02], [0x1c, 0, 0, 0, 75]) },
  fc.constantFrom([0x18], [0x1d, 1, 9], [0x1b, 1, 2, 3]),
  fc.array(byte, { minLength: 1, maxLength: 3 }),
);
const value = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      [0x44, 0x42, 0x28, 0, 0],
      [0x91, 1],
      [0x92, 0, 1],
      [0x21, 7],
      [0x24, 1, 2, 3, 4],
      [0x31, 0xff],
      [0x10],
      [0x11],
      [0x00],
      [0x02, 1, 2],
      [0x45, 1],
      [0x41, 1],
      [0x43, 1, 2, 3],
      [0x25, 5, 1, 2, 3, 4, 5],
      [0x94, 1, 2, 3, 4],
      [0x30],
      [0x12],
      [0x01, 7],
      [0x75, 4, 0, 0x41, 0x42, 0x43],
      [0x55, 8, 0, 0, 0, 0, 0, 0, 0, 0],
      [0xc4, 0x02, 0, 0, 1],
      [0x1e, 0x21, 1, 0x1f],
    ),
  },
  fc.array(byte, { maxLength: 4 }),
);

/** An NPCI control octet and the specifiers it announces (destination, source, hop count). */
function npci(expectingReply: boolean): fc.Arbitrary<number[]> {
  const net = fc.oneof(fc.constantFrom(1, 5, 0xffff), fc.integer({ min: 0, max: 0xffff }));
  const adr = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom([0x05], [0x07], [0x7f]) },
    fc.array(byte, { maxLength: 7 }),
  );
  return fc
    .tuple(fc.boolean(), fc.boolean(), net, adr, net, adr, byte, fc.integer({ min: 0, max: 3 }))
    .map(([dest, src, dnet, dadr, snet, sadr, hop, priority]) => {
      const out = [(dest ? 0x20 : 0) | (src ? 0x08 : 0) | (expectingReply ? 0x04 : 0) | priority];
      if (dest) out.push(dnet >> 8, dnet & 0xff, dadr.length, ...dadr);
      if (src) out.push(snet >> 8, snet & 0xff, sadr.length, ...sadr);
      if (dest) out.push(hop);
      return out;
    });
}

const datagram = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(0x0a, 0x0a, 0x0b, 0x04),
      fc.oneof(fc.constantFrom([0x04], [0x04], [0x00], [0x05], [0x24], [0x08], [0x40]), npci(true), npci(true)),
      fc.constantFrom(0x00, 0x00, 0x02, 0x08, 0x10),
      byte,
      fc.constantFrom(12, 12, 14, 15),
      objectId,
      property,
      fc.constantFrom([], [], [], [0x29, 3], [0x00]),
      fc.constantFrom(0, 0, 0, 1, -1),
    )
    .map(([fn, control, b0, invoke, service, [type, instance], prop, tail, delta]) => {
      const id = type * 0x400000 + instance;
      return bvll(
        fn,
        [
          1,
          ...control,
          b0,
          0x05,
          invoke,
          service,
          0x0c,
          id >>> 24,
          (id >> 16) & 0xff,
          (id >> 8) & 0xff,
          id & 0xff,
          ...prop,
          ...tail,
        ],
        delta,
      );
    }),
  fc
    .tuple(
      fc.constantFrom(0x0a, 0x0a, 0x0a, 0x0b),
      fc.oneof(fc.constantFrom([0x00], [0x00], [0x00], [0x04], [0x08]), npci(false), npci(false)),
      fc.constantFrom(0x30, 0x30, 0x30, 0x38, 0x20),
      byte,
      fc.constantFrom(12, 12, 12, 14),
      objectId,
      property,
      fc.constantFrom([], [], [], [0x29, 2]),
      fc.constantFrom(0x3e, 0x3e, 0x3e, 0x4e),
      fc.oneof({ weight: 4, arbitrary: fc.tuple(value) }, fc.array(value, { maxLength: 2 })),
      fc.constantFrom(0x3f, 0x3f, 0x3f, 0x4f),
      fc.constantFrom([], [], [], [0x00]),
      fc.constantFrom(0, 0, 0, 1, -1),
    )
    .map(([fn, control, b0, invoke, service, [type, instance], prop, index, open, values, close, tail, delta]) => {
      const id = type * 0x400000 + instance;
      return bvll(
        fn,
        [
          1,
          ...control,
          b0,
          invoke,
          service,
          0x0c,
          id >>> 24,
          (id >> 16) & 0xff,
          (id >> 8) & 0xff,
          id & 0xff,
          ...prop,
          ...index,
          open,
          ...values.flat(),
          close,
          ...tail,
        ],
        delta,
      );
    }),
  fc.uint8Array({ minLength: 1, maxLength: 30 }),
);

/** Specifier bytes `net:adr` (for a destination or a source). */
const specifier = fc
  .tuple(
    fc.oneof(fc.constantFrom(1, 5, 0xffff), fc.integer({ min: 0, max: 0xffff })),
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom([0x05], [0x07]) }, fc.array(byte, { maxLength: 7 })),
  )
  .map(([net, adr]) => [net >> 8, net & 0xff, adr.length, ...adr]);

/**
 * A routed ReadProperty exchange: the request names the device in its destination specifier, the
 * ACK in its source specifier (sometimes another device, or the other direction).
 */
const exchange = fc
  .tuple(byte, objectId, specifier, fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, specifier), byte, value)
  .chain(([invoke, [type, instance], target, other, hop, v]) =>
    fc.constantFrom(0 as const, 1 as const).map((ackDir) => {
      const id = type * 0x400000 + instance;
      const oid = [0x0c, id >>> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff];
      const req = bvll(0x0a, [1, 0x24, ...target, hop, 0x00, 0x05, invoke, 12, ...oid, 0x19, 0x55], 0);
      const ack = bvll(
        0x0a,
        [1, 0x08, ...(other ?? target), 0x30, invoke, 12, ...oid, 0x19, 0x55, 0x3e, ...v, 0x3f],
        0,
      );
      return [
        [0, req],
        [ackDir, ack],
      ] as [0 | 1, Uint8Array][];
    }),
  );

test('the ReadProperty fast path reports what the general path reports', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.tuple(fc.constantFrom(0 as const, 1 as const), datagram).map((x) => [x]),
          exchange,
        ),
        { minLength: 1, maxLength: 10 },
      ),
      (items) => {
        const datagrams = items.flat();
        const run = (fastPath: boolean): unknown => {
          const ctx = new Ctx(true);
          const a = new BacnetAnalyzer(ctx, undefined, undefined, fastPath);
          for (const [dir, d] of datagrams) a.data(dir, d, 5);
          a.end();
          return ctx.events;
        };
        assert.deepEqual(run(true), run(false));
      },
    ),
    { numRuns: 2000 },
  );
});
