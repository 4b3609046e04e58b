import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PendingTable } from './pending.ts';

test('PendingTable behaves as a bounded list of (key, value) in insertion order, on any sequence of calls', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), key: fc.nat(6), value: fc.nat() }),
    fc.record({ kind: fc.constant('take' as const), key: fc.nat(6) }),
    fc.record({ kind: fc.constant('oldest' as const) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
      const table = new PendingTable<number>(max);
      // The reference: an array, oldest first.
      const ref: [number, number][] = [];
      const takeRef = (key: number): number | undefined => {
        const i = ref.findIndex(([k]) => k === key);
        return i < 0 ? undefined : ref.splice(i, 1)[0]![1];
      };
      for (const o of ops) {
        if (o.kind === 'add') {
          let displaced = takeRef(o.key);
          if (displaced === undefined && ref.length >= max) displaced = ref.shift()?.[1];
          ref.push([o.key, o.value]);
          assert.equal(table.add(o.key, o.value), displaced);
        } else if (o.kind === 'take') assert.equal(table.take(o.key), takeRef(o.key));
        else assert.equal(table.takeOldest(), ref.shift()?.[1]);
        assert.equal(table.size, ref.length);
      }
    }),
    { numRuns: 1000 },
  );
});
