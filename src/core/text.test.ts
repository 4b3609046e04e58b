import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6, formatMac, formatTime, macFromBytes, printable } from './text.ts';

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
