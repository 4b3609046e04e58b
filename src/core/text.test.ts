import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6, formatMac, formatTime, grouped, macFromBytes, printable, TextMemo } from './text.ts';

test('formatMac round-trips six bytes', () => {
  const b = Uint8Array.from([0x00, 0x80, 0xf4, 0x0a, 0xbb, 0xff]);
  assert.equal(formatMac(macFromBytes(b, 0)), '00:80:f4:0a:bb:ff');
  assert.equal(formatMac(macFromBytes(Uint8Array.from([255, 255, 255, 255, 255, 255]), 0)), 'ff:ff:ff:ff:ff:ff');
});

test('formatIpv6 follows RFC 5952', () => {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[15] = 1;
  assert.equal(formatIpv6(a), 'fe80::1');
  assert.equal(formatIpv6(new Uint8Array(16)), '::');
});

test('printable stops at NUL padding and masks control bytes', () => {
  assert.equal(printable(Uint8Array.from([0x41, 0x01, 0x42, 0, 0])), 'A.B');
});

test('formatTime keeps microseconds', () => {
  assert.equal(formatTime(1709539200_123456), '2024-03-04T08:00:00.123456Z');
});

test('printable: the fast path and the careful path agree on every input', async () => {
  const { default: fc } = await import('fast-check');
  // The reference: the character-by-character definition.
  const slow = (b: Uint8Array, max: number): string => {
    let s = '';
    const n = Math.min(b.length, max);
    for (let i = 0; i < n; i++) {
      const c = b[i]!;
      if (c === 0) {
        if (b.subarray(i).every((x) => x === 0)) break;
        s += '.';
      } else s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
    }
    return s;
  };
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ maxLength: 30 }).map((t) => new TextEncoder().encode(t)),
    fc.tuple(fc.string({ maxLength: 20 }), fc.nat(8)).map(([t, pad]) => {
      const e = new TextEncoder().encode(t);
      const out = new Uint8Array(e.length + pad);
      out.set(e);
      return out;
    }),
  );
  fc.assert(
    fc.property(bytes, fc.integer({ min: 0, max: 50 }), (b, max) => {
      assert.equal(printable(b, max), slow(b, max));
    }),
    { numRuns: 3000 },
  );
});

test('TextMemo gives what printable gives, for repeated and colliding byte runs alike', async () => {
  const { default: fc } = await import('fast-check');
  // Two slots: collisions and replacements happen on almost every call.
  const memo = new TextMemo(2, 16);
  const run = fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.nat(4), fc.integer({ min: 0, max: 30 }));
  fc.assert(
    fc.property(fc.array(run, { minLength: 1, maxLength: 20 }), (runs) => {
      for (const [b, pad, max] of runs) {
        // The run sits inside a larger buffer, at an offset: only its bytes count.
        const buf = new Uint8Array(b.length + 2 * pad).fill(0x41);
        buf.set(b, pad);
        assert.equal(memo.printable(buf, pad, b.length, max), printable(b, max));
        assert.equal(memo.printable(buf, pad, b.length, max), printable(b, max), 'again, from the cache');
      }
    }),
    { numRuns: 2000 },
  );
});

test('TextMemo: a cached string is not returned for other bytes of the same hash slot', () => {
  const memo = new TextMemo(1);
  const a = new TextEncoder().encode('LD0/LLN0$GO$gcb01');
  const b = new TextEncoder().encode('LD0/LLN0$GO$gcb02');
  assert.equal(memo.printable(a, 0, a.length), 'LD0/LLN0$GO$gcb01');
  assert.equal(memo.printable(b, 0, b.length), 'LD0/LLN0$GO$gcb02');
  // The caller's buffer changing after the call does not change what is cached.
  a[a.length - 1] = 0x39;
  assert.equal(memo.printable(a, 0, a.length), 'LD0/LLN0$GO$gcb09');
  assert.throws(() => new TextMemo(3), /power of two/);
});

test('grouped writes integers as toLocaleString("en-US") does', async () => {
  const { default: fc } = await import('fast-check');
  for (const n of [0, 7, 999, 1000, -1000, 1234567, Number.MAX_SAFE_INTEGER, 1.5, NaN])
    assert.equal(grouped(n), n.toLocaleString('en-US'));
  fc.assert(fc.property(fc.maxSafeInteger(), (n) => grouped(n) === n.toLocaleString('en-US')));
});

test('formatTime: every pcap timestamp (0 to 2^32 s) as ISO 8601 with microseconds, in any order', async () => {
  const { default: fc } = await import('fast-check');
  const reference = (micros: number): string => {
    const iso = new Date(Math.floor(micros / 1000)).toISOString();
    return `${iso.slice(0, 23)}${String(Math.floor(micros) % 1000).padStart(3, '0')}Z`;
  };
  const micros = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 32 * 1e6 - 1 }),
    fc.integer({ min: 1709539200e6, max: 1709539202e6 }), // runs within the same seconds
  );
  fc.assert(
    fc.property(fc.array(micros, { minLength: 1, maxLength: 20 }), (list) => {
      for (const m of list) assert.equal(formatTime(m), reference(m));
    }),
    { numRuns: 500 },
  );
  assert.equal(formatTime(Number.NaN), '');
  assert.equal(formatTime(1e20), '');
});
