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
