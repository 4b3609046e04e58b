// PduFramer: whole PDUs from chunked streams (zero-copy when inside one chunk), bounded assembly,
// violations and resynchronisation after gaps; fast-check re-chunking properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PduFramer, type FrameLength } from './pdu-framer.ts';

/** A toy length-prefixed protocol: [0xA5, total length, body...]; lengths 2..max. */
const MAGIC = 0xa5;
const toyFrame =
  (max = 64): FrameLength =>
  (b) => {
    if (b.length < 1) return 0;
    if (b[0] !== MAGIC) return -1;
    if (b.length < 2) return 0;
    const len = b[1]!;
    return len < 2 || len > max ? -1 : len;
  };

function toyPdu(body: readonly number[]): number[] {
  return [MAGIC, body.length + 2, ...body];
}

class Sink {
  readonly pdus: number[][] = [];
  readonly views: Uint8Array[] = [];
  readonly violations: number[] = [];
  framer(frame: FrameLength, maxPdu: number): PduFramer {
    return new PduFramer(
      frame,
      (p) => {
        this.views.push(p);
        this.pdus.push(Array.from(p));
      },
      (o) => this.violations.push(o),
      maxPdu,
    );
  }
}

test('several PDUs in one chunk are delivered as views of the chunk', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  const chunk = Uint8Array.from([...toyPdu([1, 2]), ...toyPdu([]), ...toyPdu([3])]);
  f.data(chunk, 1);
  assert.deepEqual(s.pdus, [toyPdu([1, 2]), toyPdu([]), toyPdu([3])]);
  for (const v of s.views) assert.equal(v.buffer, chunk.buffer, 'no copy');
  assert.equal(f.bufferedBytes, 0);
});

test('a PDU split across chunks (also inside its header) is assembled and delivered whole', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  const bytes = [...toyPdu([1, 2, 3, 4]), ...toyPdu([5])];
  f.data(Uint8Array.from(bytes.slice(0, 1)), 1); // header split after the magic byte
  f.data(Uint8Array.from(bytes.slice(1, 4)), 2);
  assert.equal(f.bufferedBytes, 4);
  f.data(Uint8Array.from(bytes.slice(4, 7)), 3); // first PDU ends, second begins
  f.data(Uint8Array.from(bytes.slice(7)), 4);
  assert.deepEqual(s.pdus, [toyPdu([1, 2, 3, 4]), toyPdu([5])]);
  assert.deepEqual(s.violations, []);
});

test('a frame longer than maxPdu is a violation at its stream offset', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(255), 10);
  f.data(Uint8Array.from(toyPdu([1])), 1);
  f.data(Uint8Array.from([MAGIC, 50, 0, 0]), 2);
  assert.deepEqual(s.violations, [3]);
  assert.equal(f.resynchronising, true);
});

test('bytes that are not a PDU start: one violation, then resync on a verified boundary', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  // "GET" is not a PDU; then two PDUs.
  f.data(Uint8Array.from([0x47, 0x45, 0x54, ...toyPdu([1]), ...toyPdu([2])]), 1);
  assert.deepEqual(s.violations, [0]);
  assert.deepEqual(s.pdus, [toyPdu([1]), toyPdu([2])]);
  assert.equal(f.skippedBytes, 3);
  assert.equal(f.resyncs, 1);
});

test('after a gap the partial PDU is dropped and framing resumes at the next verified PDU', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  const a = toyPdu([1, 2, 3, 4, 5, 6]);
  f.data(Uint8Array.from(a.slice(0, 5)), 1);
  f.gap(3);
  // The rest of the lost PDU, then whole PDUs.
  f.data(Uint8Array.from([...a.slice(8), ...toyPdu([7]), ...toyPdu([8, 9])]), 2);
  assert.deepEqual(s.pdus, [toyPdu([7]), toyPdu([8, 9])]);
  assert.deepEqual(s.violations, [], 'a gap is not a violation');
  assert.equal(f.resynchronising, false);
});

test('resync holds an undecided candidate until the next data decides it', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  f.gap(10);
  const p1 = toyPdu([1, 2, 3]);
  const p2 = toyPdu([4]);
  // p1 runs past this chunk: undecided, held.
  f.data(Uint8Array.from([0, 0, ...p1.slice(0, 3)]), 1);
  assert.equal(s.pdus.length, 0);
  assert.equal(f.bufferedBytes, 3);
  f.data(Uint8Array.from([...p1.slice(3), ...p2.slice(0, 1)]), 2); // p2's header incomplete: still undecided
  assert.equal(s.pdus.length, 0);
  f.data(Uint8Array.from(p2.slice(1)), 3);
  assert.deepEqual(s.pdus, [p1, p2]);
  assert.equal(f.skippedBytes, 2);
});

test('a candidate PDU ending exactly at the end of the data is accepted', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  f.gap(1);
  f.data(Uint8Array.from([9, 9, ...toyPdu([1, 2])]), 1);
  assert.deepEqual(s.pdus, [toyPdu([1, 2])]);
});

test('a candidate whose follower does not frame is rejected', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  f.gap(1);
  // [A5 03 A5] frames as a 3-byte PDU but is followed by 0x00 (not a PDU); the real PDU is later.
  f.data(Uint8Array.from([MAGIC, 3, MAGIC, 0, ...toyPdu([7]), ...toyPdu([8])]), 1);
  assert.deepEqual(s.pdus, [toyPdu([7]), toyPdu([8])]);
});

test('a bad header split across chunks is reported at its start and searched from its second byte', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  f.data(Uint8Array.from([MAGIC]), 1);
  f.data(Uint8Array.from([1, ...toyPdu([3]), ...toyPdu([4])]), 2); // length 1 is invalid
  assert.deepEqual(s.violations, [0]);
  assert.deepEqual(s.pdus, [toyPdu([3]), toyPdu([4])]);
});

test('held bytes stay bounded on endless garbage that keeps looking like a header', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 16);
  f.gap(1);
  const junk = new Uint8Array(10_000).fill(MAGIC); // A5 A5 ...: length 0xA5 > max, rejected
  f.data(junk, 1);
  assert.ok(f.bufferedBytes <= 32);
  const never: FrameLength = () => 0; // a broken frame function that never decides
  const g = s.framer(never, 16);
  g.data(new Uint8Array(1000), 1);
  assert.ok(g.bufferedBytes <= 32);
  assert.equal(s.pdus.length, 0);
});

test('hostile input alternating sync and loss does not grow the stack', () => {
  const s = new Sink();
  const f = s.framer(toyFrame(), 64);
  // Two PDUs then a bad byte, 100 000 times: a recursive framer would overflow the stack.
  const unit = [...toyPdu([]), ...toyPdu([]), 0];
  const bytes = new Uint8Array(unit.length * 100_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = unit[i % unit.length]!;
  f.data(bytes, 1);
  assert.equal(s.pdus.length, 200_000);
  assert.equal(s.violations.length, 100_000, 'each loss of sync is reported once');
});

// ---- properties ----

const pdusArb = fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map(toyPdu), {
  minLength: 1,
  maxLength: 30,
});

/** Cut points within [0, n] turned into chunks. */
function cut(bytes: number[], points: number[]): Uint8Array[] {
  const ps = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...ps, bytes.length]) {
    out.push(Uint8Array.from(bytes.slice(prev, p)));
    prev = p;
  }
  return out;
}

test('property: PDUs cut into random chunks give the same PDUs as one chunk', () => {
  fc.assert(
    fc.property(pdusArb, fc.array(fc.nat(), { maxLength: 60 }), (pdus, points) => {
      const bytes = pdus.flat();
      const whole = new Sink();
      whole.framer(toyFrame(), 64).data(Uint8Array.from(bytes), 0);
      const chunked = new Sink();
      const f = chunked.framer(toyFrame(), 64);
      for (const c of cut(bytes, points)) f.data(c, 0);
      assert.deepEqual(whole.pdus, pdus);
      assert.deepEqual(chunked.pdus, pdus);
      assert.equal(f.bufferedBytes, 0);
    }),
    { numRuns: 500 },
  );
});

test('property: after a gap, exactly the PDUs wholly before and wholly after it are delivered', () => {
  // Bodies avoid the magic byte, so no false PDU start exists and the outcome is exact.
  const safePdus = fc.array(
    fc
      .array(
        fc.integer({ min: 0, max: 255 }).filter((b) => b !== MAGIC),
        { maxLength: 40 },
      )
      .map(toyPdu),
    { minLength: 2, maxLength: 20 },
  );
  fc.assert(
    fc.property(safePdus, fc.nat(), fc.nat(), fc.array(fc.nat(), { maxLength: 40 }), (pdus, a, b, points) => {
      const bytes = pdus.flat();
      const from = a % bytes.length;
      const to = from + 1 + (b % (bytes.length - from));
      const s = new Sink();
      const f = s.framer(toyFrame(), 64);
      for (const c of cut(bytes.slice(0, from), points)) f.data(c, 0);
      f.gap(to - from);
      for (const c of cut(bytes.slice(to), points)) f.data(c, 0);
      const expected: number[][] = [];
      let off = 0;
      for (const p of pdus) {
        if (off + p.length <= from || off >= to) expected.push(p);
        off += p.length;
      }
      assert.deepEqual(s.pdus, expected);
      assert.deepEqual(s.violations, []);
    }),
    { numRuns: 500 },
  );
});

test('property: arbitrary bytes in arbitrary chunks never throw and keep buffers bounded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat({ max: 50 }), { maxLength: 5 }),
      (chunks, gaps) => {
        const s = new Sink();
        const f = s.framer(toyFrame(), 64);
        chunks.forEach((c, i) => {
          if (gaps.includes(i)) f.gap(3);
          f.data(c, i);
          assert.ok(f.bufferedBytes <= 128);
        });
        for (const p of s.pdus) assert.equal(p.length, p[1]);
      },
    ),
    { numRuns: 500 },
  );
});
