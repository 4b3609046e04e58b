// The analyzer's fast path (fast.ts) and its reuse of answered records (state.ts) against the
// general decode path without reuse: on arbitrary streams of SendRRData/SendUnitData messages (Read
// Tag polls alone, in Multiple Service Packets and behind Unconnected Sends, their replies, with
// random damage), both report exactly the same events — operations, facts, anomalies, confirmation
// and the per-PDU trace (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ctx, cat } from '../_core/testing.ts';
import type { Direction } from '../_core/types.ts';
import { EnipAnalyzer } from './index.ts';
import { fastMessage } from './fast.ts';
import { hex } from './test-support.ts';

const u16 = (v: number): Uint8Array => Uint8Array.of(v & 0xff, (v >> 8) & 0xff);
const u32 = (v: number): Uint8Array => Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

/** Path segments, mostly the usual ones. */
const segment: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x01, 0x02, 0x06, 0x6b, 0x37, 0xac).map((c) => bytes(0x20, c)) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => bytes(0x24, i)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((v) => cat(bytes(0x21, 0), u16(v))) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((v) => cat(bytes(0x25, 0), u16(v))) },
  { weight: 1, arbitrary: fc.nat().map((v) => cat(bytes(0x26, 0), u32(v))) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 9 }).map((i) => bytes(0x28, i)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 9 }).map((i) => bytes(0x30, i)) },
  {
    weight: 4,
    arbitrary: fc
      .oneof(
        fc.constantFrom('Line_Speed', 'Temps', 'A', 'Recipe_Step', ''),
        fc.string({ maxLength: 6 }),
        fc.constant('\0\0'),
      )
      .map((name) => {
        const b = new TextEncoder().encode(name);
        return cat(bytes(0x91, b.length), b, b.length & 1 ? bytes(0) : bytes());
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }) },
);

const pathOf = (segs: Uint8Array[]): Uint8Array => {
  const p = cat(...segs);
  return p.length & 1 ? cat(p, bytes(0)) : p;
};

/** Request data: random, or Write Tag and Read Modify Write Tag data (maybe cut short). */
const requestData: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0xc1, 0xc3, 0xc4, 0xca, 0xcb, 0xc5, 0x2a0, 0xda),
        fc.nat({ max: 20 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat({ max: 50 }),
      )
      .map(([type, n, data, cut]) => {
        const full = cat(u16(type), type === 0x2a0 ? u16(0x1234) : bytes(), u16(n), data);
        return full.subarray(0, Math.max(0, full.length - (cut < 40 ? 0 : cut - 40)));
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(0, 1, 2, 4, 5, 8), fc.uint8Array({ maxLength: 16 }))
      .map(([size, masks]) => cat(u16(size), masks)),
  },
);

const leafRequest: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.constantFrom(0x4c, 0x4c, 0x4c, 0x52, 0x4d, 0x53, 0x4e, 0x01, 0x0e, 0x0a, 0x54, 0x03),
    fc.array(segment, { maxLength: 3 }),
    requestData,
  )
  .map(([service, segs, data]) => {
    const path = pathOf(segs);
    return cat(bytes(service, path.length / 2), path, data);
  });

/** A Multiple Service Packet of `parts` (requests or replies) after `head`, offsets from the count. */
function msp(head: Uint8Array, parts: Uint8Array[]): Uint8Array {
  let off = 2 + 2 * parts.length;
  const offs: Uint8Array[] = [];
  for (const p of parts) {
    offs.push(u16(off));
    off += p.length;
  }
  return cat(head, u16(parts.length), ...offs, ...parts);
}

const mspRequest = fc
  .tuple(
    fc.constantFrom(bytes(0x0a, 0x02, 0x20, 0x02, 0x24, 0x01), bytes(0x0a, 0x00)),
    fc.array(leafRequest, { maxLength: 5 }),
  )
  .map(([head, parts]) => msp(head, parts));

const route: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 16 }), fc.nat({ max: 255 })).map(([p, l]) => bytes(1, 0, p, l)),
  },
  { weight: 1, arbitrary: fc.constant(bytes(2, 0, 1, 0, 2, 5)) },
  { weight: 1, arbitrary: fc.constant(bytes(0, 0)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }) },
);

const unconnectedSend = fc
  .tuple(fc.oneof(leafRequest, mspRequest), route)
  .map(([embedded, r]) =>
    cat(hex('52 02 20 06 24 01 0a 0e'), u16(embedded.length), embedded, embedded.length & 1 ? bytes(0) : bytes(), r),
  );

const reply: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.constantFrom(0xcc, 0xcd, 0x8a, 0xd2, 0x81, 0x0c),
    fc.constantFrom(0, 0, 0, 6, 0x1e, 0x04),
    fc.constantFrom(0, 0, 1),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([service, status, ext, data]) => cat(bytes(service, 0, status, ext), ext > 0 ? u16(0x0204) : bytes(), data));

const mspReply = fc
  .tuple(fc.constantFrom(0, 0, 0x1e), fc.array(reply, { maxLength: 5 }))
  .map(([status, parts]) => msp(bytes(0x8a, 0, status, 0), parts));

const identityReply = fc.constant(
  hex('81 00 00 00  01 00 0e 00 36 00 14 0b 60 31 a2 00 c4 3f 0e 31 37 35 36 2d 4c 36 31 2f 42 20 4c 4f 47 49 58'),
);

const cip: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: leafRequest },
  { weight: 2, arbitrary: mspRequest },
  { weight: 4, arbitrary: unconnectedSend },
  { weight: 1, arbitrary: fc.constant(hex('01 02 20 01 24 01')) },
  { weight: 3, arbitrary: reply },
  { weight: 3, arbitrary: mspReply },
  { weight: 1, arbitrary: identityReply },
);

/** A SendRRData/SendUnitData message around `c`; contexts and sequences from a small set so replies pair. */
const message = fc
  .record({
    connected: fc.boolean(),
    cip,
    context: fc.nat({ max: 2 }),
    sequence: fc.nat({ max: 2 }),
    status: fc.constantFrom(0, 0, 0, 1),
    handle: fc.constantFrom(0, 0, 0, 1),
    items: fc.constantFrom(2, 2, 2, 3),
    damage: fc.option(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { freq: 4 }),
    dir: fc.constantFrom<Direction>(0, 1),
  })
  .map((m) => {
    const address = m.connected ? cat(u16(0xa1), u16(4), u32(0x1234)) : cat(u16(0), u16(0));
    const payload = m.connected ? cat(u16(m.sequence), m.cip) : m.cip;
    const data = cat(u16(m.connected ? 0xb1 : 0xb2), u16(payload.length), payload);
    const extra = m.items === 3 ? cat(u16(0x8000), u16(0)) : bytes();
    const body = cat(u32(m.handle), u16(10), u16(m.items), address, data, extra);
    const msg = cat(
      u16(m.connected ? 0x70 : 0x6f),
      u16(body.length),
      u32(0x1001),
      u32(m.status),
      u32(m.context),
      u32(0),
      u32(0),
      body,
    );
    if (m.damage !== null) {
      // Damage past the header only: the framing stays intact.
      const [at, v] = m.damage;
      if (msg.length > 24) msg[24 + (at % (msg.length - 24))] = v;
    }
    return { dir: m.dir, bytes: msg };
  });

function run(messages: { dir: Direction; bytes: Uint8Array }[], fast: boolean, datagram: boolean, at: boolean): Ctx {
  const ctx = new Ctx(true);
  const a = new EnipAnalyzer(ctx, datagram, 4, fast);
  for (const m of messages) {
    if (at) {
      // The message in the middle of a larger buffer, as the TCP reassembly hands it over.
      const buf = cat(bytes(0xee, 0xee, 0xee), m.bytes, bytes(0xee));
      a.dataAt(m.dir, buf, 3, m.bytes.length, 1000);
    } else a.data(m.dir, m.bytes, 1000);
  }
  a.end();
  return ctx;
}

test('property: the fast path with reuse reports exactly what the general path reports', () => {
  let taken = 0;
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      fc.boolean(),
      (msgs, datagram, at) => {
        for (const m of msgs) if (fastMessage(m.bytes, 0, m.bytes.length)) taken++;
        const general = run(msgs, false, datagram, false);
        const fast = run(msgs, true, datagram, at);
        assert.deepStrictEqual(fast.events, general.events);
      },
    ),
    { numRuns: 3000 },
  );
  // The generator must exercise the fast path, not only its refusals.
  assert.ok(taken > 3000, `fast path taken ${taken} times`);
});

test('the fast path takes a routed Multiple Service Packet of Read Tags and its reply', () => {
  const req = hex(`
    6f 00 40 00  01 10 00 00  00 00 00 00  07 00 00 00 00 00 00 00  00 00 00 00
    00 00 00 00  0a 00  02 00  00 00 00 00  b2 00 30 00
    52 02 20 06 24 01 0a 0e  22 00
      0a 02 20 02 24 01  02 00 06 00 10 00
        4c 03 91 04 54 65 6d 70  01 00
        4c 04 91 05 41 6c 61 72 6d 00 01 00
    01 00 01 00`);
  const rsp = hex(`
    6f 00 2c 00  01 10 00 00  00 00 00 00  07 00 00 00 00 00 00 00  00 00 00 00
    00 00 00 00  00 00  02 00  00 00 00 00  b2 00 1c 00
    8a 00 00 00  02 00 06 00 0e 00
      cc 00 00 00 c4 00 01 00
      cc 00 00 00 c4 00 02 00 00 00`);
  assert.equal(fastMessage(req, 0, req.length), true);
  assert.equal(fastMessage(rsp, 0, rsp.length), true);
  const msgs = [
    { dir: 0 as Direction, bytes: req },
    { dir: 1 as Direction, bytes: rsp },
  ];
  const fast = run(msgs, true, false, true);
  assert.deepStrictEqual(fast.events, run(msgs, false, false, false).events);
  assert.deepStrictEqual(
    fast.ops().map((o) => [o.name, o.unit, o.addressSpace, o.responded]),
    [
      ['cip.read_tag', 0, 'class_0x6b', true],
      ['cip.read_tag', 0, 'class_0x6b', true],
    ],
  );
  assert.deepStrictEqual(fast.anomalies(), []);
});
