import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addRange } from './ranges.ts';

test('ranges merge when overlapping or adjacent and stay sorted', () => {
  const l: [number, number][] = [];
  addRange(l, 10, 19);
  addRange(l, 0, 4);
  addRange(l, 20, 29); // adjacent to 10..19
  addRange(l, 3, 6);
  assert.deepEqual(l, [
    [0, 6],
    [10, 29],
  ]);
});

test('ranges stay bounded and cover every address added', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 200 })), { maxLength: 300 }),
      (adds) => {
        const l: [number, number][] = [];
        for (const [lo, n] of adds) addRange(l, lo, lo + n);
        assert.ok(l.length <= 64);
        for (let i = 1; i < l.length; i++) assert.ok(l[i - 1]![1] + 1 < l[i]![0]);
        for (const [lo, n] of adds) assert.ok(l.some((r) => r[0] <= lo && lo + n <= r[1]));
      },
    ),
  );
});
