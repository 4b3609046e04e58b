// TcpStream: ordered delivery, retransmissions, overlaps, bounded out-of-order buffer, gaps and
// sequence wrap-around at 2^32 (RFC 9293 §3.4), with unit cases and fast-check properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TcpStream, type TcpStreamLimits } from './tcp-stream.ts';

type Event = { kind: 'data'; bytes: number[]; ts: number } | { kind: 'gap'; n: number };

class Recorder {
  readonly events: Event[] = [];
  data(bytes: Uint8Array, ts: number): void {
    this.events.push({ kind: 'data', bytes: Array.from(bytes), ts });
  }
  gap(n: number): void {
    this.events.push({ kind: 'gap', n });
  }
  /** Delivered bytes concatenated. */
  bytes(): number[] {
    return this.events.flatMap((e) => (e.kind === 'data' ? e.bytes : []));
  }
  /** Data runs merged, so the shape is independent of how the data was cut. */
  merged(): Array<number[] | { gap: number }> {
    const out: Array<number[] | { gap: number }> = [];
    for (const e of this.events) {
      const last = out[out.length - 1];
      if (e.kind === 'data') {
        if (Array.isArray(last)) last.push(...e.bytes);
        else out.push([...e.bytes]);
      } else out.push({ gap: e.n });
    }
    return out;
  }
}

const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const BIG: TcpStreamLimits = { maxBufferedBytes: 1 << 20, maxBufferedSegments: 1 << 16 };

test('in-order segments are delivered at once and without copying', () => {
  const seen: Uint8Array[] = [];
  const s = new TcpStream({ data: (b) => seen.push(b), gap: () => assert.fail('no gap') });
  s.syn(999);
  const a = u8(1, 2, 3);
  const b = u8(4, 5);
  s.segment(1000, a, 1);
  s.segment(1003, b, 2);
  assert.equal(seen[0], a, 'the caller buffer itself, not a copy');
  assert.equal(seen[1], b);
  assert.equal(s.nextSeq, 1005);
  assert.equal(s.deliveredBytes, 5);
});

test('without a SYN the first data segment sets the expected sequence', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.segment(5000, u8(), 1); // a pure ACK does not start the stream
  assert.equal(s.isStarted, false);
  s.segment(7000, u8(9, 9), 1);
  assert.equal(s.startedMidStream, true);
  s.segment(7002, u8(8), 2);
  assert.deepEqual(r.bytes(), [9, 9, 8]);
});

test('pure retransmissions are dropped and counted; partial overlaps are trimmed', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(0);
  s.segment(1, u8(1, 2, 3, 4), 1);
  s.segment(1, u8(1, 2, 3, 4), 2); // full retransmission
  s.segment(3, u8(3, 4, 5, 6), 3); // bytes 3,4 again, then 5,6 new
  assert.deepEqual(r.bytes(), [1, 2, 3, 4, 5, 6]);
  assert.equal(s.retransmittedBytes, 4);
  assert.equal(s.overlapBytes, 2);
  assert.equal(r.events.length, 2);
});

test('a segment ahead of the expected sequence waits for the hole to fill', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(99);
  s.segment(103, u8(4, 5, 6), 20); // ahead by 3
  assert.equal(r.events.length, 0);
  assert.equal(s.bufferedBytes, 3);
  assert.equal(s.outOfOrderSegments, 1);
  s.segment(100, u8(1, 2, 3), 10);
  assert.deepEqual(r.events, [
    { kind: 'data', bytes: [1, 2, 3], ts: 10 },
    { kind: 'data', bytes: [4, 5, 6], ts: 20 },
  ]);
  assert.equal(s.bufferedBytes, 0);
});

test('the buffered copy is independent of the caller buffer', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(0);
  const later = u8(7, 8);
  s.segment(3, later, 1);
  later.fill(0); // the caller reuses its buffer
  s.segment(1, u8(5, 6), 2);
  assert.deepEqual(r.bytes(), [5, 6, 7, 8]);
});

test('first-seen data wins where an in-order segment overlaps buffered data', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(0);
  s.segment(4, u8(0xb4, 0xb5), 1); // buffered first
  s.segment(1, u8(0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6), 2);
  assert.deepEqual(r.bytes(), [0xa1, 0xa2, 0xa3, 0xb4, 0xb5, 0xa6]);
  assert.equal(s.overlapBytes, 2);
});

test('overlapping out-of-order segments are trimmed against what is buffered', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(0);
  s.segment(5, u8(5, 6), 1);
  s.segment(3, u8(3, 4, 5, 6, 7, 8), 2); // 5,6 already held
  assert.equal(s.bufferedBytes, 6);
  s.segment(5, u8(5, 6, 7), 3); // nothing new
  assert.equal(s.retransmittedBytes, 3);
  s.segment(1, u8(1, 2), 4);
  assert.deepEqual(r.bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(s.overlapBytes, 2);
});

test('exceeding the segment bound declares a gap and skips to the earliest buffered data', () => {
  const r = new Recorder();
  const s = new TcpStream(r, { maxBufferedBytes: 1000, maxBufferedSegments: 2 });
  s.syn(0);
  s.segment(1, u8(1), 1);
  // byte 2..3 lost; 4, 6, 8 arrive
  s.segment(4, u8(4), 2);
  s.segment(6, u8(6), 3);
  assert.equal(r.events.length, 1);
  s.segment(8, u8(8), 4); // a third buffered segment would exceed the bound
  assert.deepEqual(r.merged(), [[1], { gap: 2 }, [4]]);
  assert.equal(s.gaps, 1);
  assert.equal(s.gapBytes, 2);
  assert.equal(s.bufferedSegments, 2);
  s.segment(5, u8(5), 5);
  s.segment(7, u8(7), 6);
  assert.deepEqual(r.merged(), [[1], { gap: 2 }, [4, 5, 6, 7, 8]]);
});

test('exceeding the byte bound declares a gap; an oversized segment is delivered uncopied', () => {
  const r = new Recorder();
  const seen: Uint8Array[] = [];
  const s = new TcpStream(
    { data: (b, ts) => (seen.push(b), r.data(b, ts)), gap: (n) => r.gap(n) },
    { maxBufferedBytes: 4, maxBufferedSegments: 10 },
  );
  s.syn(0);
  const big = u8(11, 12, 13, 14, 15, 16);
  s.segment(11, big, 1); // 6 bytes never fit in 4: skip to it
  assert.deepEqual(r.merged(), [{ gap: 10 }, [11, 12, 13, 14, 15, 16]]);
  assert.equal(seen[0], big);
  s.segment(20, u8(20, 21, 22), 2); // fits (3 ≤ 4)
  s.segment(30, u8(30, 31), 3); // 3 + 2 > 4: skip to 20, then 30 is buffered
  assert.deepEqual(r.merged(), [{ gap: 10 }, [11, 12, 13, 14, 15, 16], { gap: 3 }, [20, 21, 22]]);
  assert.equal(s.bufferedBytes, 2);
  s.flush();
  assert.deepEqual(r.merged(), [{ gap: 10 }, [11, 12, 13, 14, 15, 16], { gap: 3 }, [20, 21, 22], { gap: 7 }, [30, 31]]);
  assert.equal(s.gapBytes, 20);
});

test('flush reports each hole before the data after it', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(0);
  s.segment(1, u8(1), 1);
  s.segment(5, u8(5), 2);
  s.segment(9, u8(9, 10), 3);
  s.flush();
  assert.deepEqual(r.merged(), [[1], { gap: 3 }, [5], { gap: 3 }, [9, 10]]);
  assert.equal(s.bufferedBytes, 0);
  s.segment(11, u8(11), 4);
  assert.deepEqual(r.bytes(), [1, 5, 9, 10, 11]);
});

test('sequence numbers wrap around at 2^32', () => {
  const r = new Recorder();
  const s = new TcpStream(r);
  s.syn(0xffff_fffd); // data starts at 0xfffffffe
  s.segment(0x0000_0000, u8(3, 4), 2); // after the wrap: ahead
  s.segment(0xffff_fffe, u8(1, 2, 3), 1); // crosses the wrap, overlaps one byte
  assert.deepEqual(r.bytes(), [1, 2, 3, 4]);
  assert.equal(s.nextSeq, 2);
  s.segment(0xffff_ffff, u8(2), 3); // old data from before the wrap
  assert.equal(s.retransmittedBytes, 1);
  assert.equal(s.overlapBytes, 1);
});

// ---- properties ----

const isnArb = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0xffff_f000, max: 0xffff_ffff }));

/** Stream bytes cut into consecutive segments: [offset, length] pairs covering [0, n). */
const cutArb = fc
  .tuple(
    fc.uint8Array({ minLength: 1, maxLength: 1500 }),
    fc.array(fc.integer({ min: 1, max: 1499 }), { maxLength: 40 }),
  )
  .map(([data, cuts]) => {
    const points = [...new Set(cuts.filter((c) => c < data.length))].sort((a, b) => a - b);
    const segs: Array<[number, number]> = [];
    let prev = 0;
    for (const c of [...points, data.length]) {
      segs.push([prev, c - prev]);
      prev = c;
    }
    return { data, segs };
  });

function feed(s: TcpStream, isn: number, data: Uint8Array, segs: ReadonlyArray<readonly [number, number]>): void {
  let ts = 0;
  for (const [off, len] of segs) s.segment((isn + 1 + off) >>> 0, data.subarray(off, off + len), ts++);
}

test('property: reordered, duplicated and overlapping segments deliver exactly the original bytes', () => {
  fc.assert(
    fc.property(
      cutArb,
      isnArb,
      fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
      fc.boolean(),
      fc.nat(),
      (c, isn, extra, withSyn, seed) => {
        const { data, segs } = c;
        const n = data.length;
        // Extra segments at random places: duplicates and overlaps with the same bytes.
        const more = extra.map(([a, b]): [number, number] => {
          const start = a % n;
          return [start, 1 + (b % (n - start))];
        });
        const all = [...segs, ...more];
        const order = shuffle(all, seed);
        if (!withSyn) {
          // Mid-stream start: the first segment seen sets the position, so it must be the first.
          const i = order.findIndex(([off]) => off === 0);
          order.unshift(...order.splice(i, 1));
        }
        const r = new Recorder();
        const s = new TcpStream(r, BIG);
        if (withSyn) s.syn(isn);
        feed(s, isn, data, order);
        s.flush();
        assert.deepEqual(r.bytes(), Array.from(data));
        assert.equal(s.gaps, 0);
        assert.equal(s.bufferedBytes, 0);
        assert.equal(s.nextSeq, (isn + 1 + n) >>> 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: missing segments become gaps of the right size; the rest is delivered in order', () => {
  fc.assert(
    fc.property(cutArb, isnArb, fc.array(fc.boolean(), { maxLength: 41 }), fc.nat(), (c, isn, drop, seed) => {
      const { data, segs } = c;
      const kept = segs.filter((_, i) => !(drop[i] ?? false));
      const r = new Recorder();
      const s = new TcpStream(r, BIG);
      s.syn(isn);
      feed(s, isn, data, shuffle(kept, seed));
      s.flush();
      // Expected: present runs as data, missing runs as gaps, nothing after the last present byte.
      const expected: Array<number[] | { gap: number }> = [];
      let missing = 0;
      segs.forEach(([off, len], i) => {
        if (drop[i] ?? false) {
          missing += len;
          return;
        }
        if (missing > 0) expected.push({ gap: missing });
        missing = 0;
        const last = expected[expected.length - 1];
        const bytes = Array.from(data.subarray(off, off + len));
        if (Array.isArray(last)) last.push(...bytes);
        else expected.push(bytes);
      });
      assert.deepEqual(r.merged(), expected);
    }),
    { numRuns: 300 },
  );
});

test('property: under a tight bound every delivered byte is at its stream offset and all bytes are accounted for', () => {
  fc.assert(
    fc.property(
      cutArb,
      isnArb,
      fc.nat(),
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 6 }),
      (c, isn, seed, maxBytes, maxSegs) => {
        const { data, segs } = c;
        const r = new Recorder();
        const s = new TcpStream(r, { maxBufferedBytes: maxBytes, maxBufferedSegments: maxSegs });
        s.syn(isn);
        feed(s, isn, data, shuffle(segs, seed));
        s.flush();
        let off = 0;
        for (const e of r.events) {
          if (e.kind === 'gap') {
            assert.ok(e.n > 0);
            off += e.n;
          } else {
            assert.deepEqual(e.bytes, Array.from(data.subarray(off, off + e.bytes.length)));
            off += e.bytes.length;
          }
        }
        // The last segment's end is always reached (it is delivered or skipped to, never lost).
        const lastEnd = Math.max(...segs.map(([o, l]) => o + l));
        assert.equal(off, lastEnd);
        assert.ok(s.bufferedBytes === 0);
      },
    ),
    { numRuns: 300 },
  );
});

/** Deterministic Fisher–Yates from a seed, so fast-check can shrink. */
function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const a = [...xs];
  let x = seed | 1;
  for (let i = a.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
