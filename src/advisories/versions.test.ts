import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compareVersions, matchVersion, parseVersion, parseVersionRange, type Version } from './versions.ts';

const v = (s: string): Version => {
  const p = parseVersion(s);
  assert.ok(p !== null, s);
  return p;
};

test('versions: prefixes, suffixes, builds and model names', () => {
  assert.deepEqual(v('V4.2.3').parts, [4, 2, 3]);
  assert.deepEqual(v('FW14').parts, [14]);
  assert.deepEqual(v('V17 Update 5').parts, [17, 'update', 5]);
  assert.deepEqual(v('15.0 SP1').parts, [15, 0, 'sp', 1]);
  assert.deepEqual(v('01.07.13(10)').parts, [1, 7, 13, 10]);
  assert.deepEqual(v('R301-V0').parts, ['r', 301, 'v', 0]);
  assert.deepEqual(v('MX-V4.7.2.35-r1').parts, [4, 7, 2, 35, 'r', 1]);
  assert.deepEqual(v('V3.X.16').parts, [3, '*', 16]);
  assert.equal(v('8.1x').fuzzy, true);
  // Order and model numbers put in the version field are not versions.
  for (const model of ['S7-1211', 'PM554-TP-ETH', 'M221', '', 'Update']) assert.equal(parseVersion(model), null, model);
});

test('compareVersions: numbers by value, missing parts as 0, suffixes after the release, wildcards equal', () => {
  const c = (a: string, b: string): number => compareVersions(v(a), v(b));
  assert.equal(c('4.2.1', '4.2.3'), -1);
  assert.equal(c('4.10', '4.9'), 1);
  assert.equal(c('4.2', '4.2.0'), 0);
  assert.equal(c('V17', 'V17 Update 5'), -1);
  assert.equal(c('V17 Update 4', 'V17 Update 5'), -1);
  assert.equal(c('15.0', '15.0 SP1'), -1);
  assert.equal(c('3.2.6', '3.X.16'), -1);
  assert.equal(c('3.9.20', '3.X.16'), 1);
});

test('compareVersions is a total order on plain versions (antisymmetric, transitive)', () => {
  const ver = fc
    .array(fc.oneof(fc.nat(30), fc.constantFrom('sp', 'update', 'beta')), { minLength: 1, maxLength: 4 })
    .filter((p) => typeof p[0] === 'number')
    .map((p) => parseVersion(p.join('.'))!);
  fc.assert(
    fc.property(ver, ver, ver, (a, b, c) => {
      assert.equal(compareVersions(a, b), -compareVersions(b, a) || 0);
      if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) assert.ok(compareVersions(a, c) <= 0);
    }),
    { numRuns: 2000 },
  );
});

test('ranges as the advisories write them, against firmware versions', () => {
  const cases: [string, string | undefined, string][] = [
    // The identities decoded from the shared captures (../shared/advisories/MANIFEST.md).
    ['All versions < V4.2.3', 'V4.2.1', 'affected'],
    ['< 4.4.0', 'V4.2.1', 'affected'],
    ['V4.5.0', 'V4.2.1', 'not_affected'],
    ['< V4.1', 'V4.2.1', 'not_affected'],
    ['vers:all/*', 'V4.2.1', 'affected'],
    ['< V17 Update 5', 'V13.0.1', 'affected'],
    ['All versions < V3.X.16', 'V3.2.6', 'affected'],
    ['< V3.X.17', 'V3.2.6', 'affected'],
    // Other forms.
    ['vers:all/<V3.1.4', 'V3.1.4', 'not_affected'],
    ['>= 1.0 | <= 1.32', '1.32', 'affected'],
    ['>= 1.0 | <= 1.32', '1.33', 'not_affected'],
    ['>=R302-V0|<R302-V1', 'R302-V0', 'affected'],
    ['>=R302-V0|<R302-V1', 'R302-V1', 'not_affected'],
    ['Versions 2.00 to 6.11', '6.11', 'affected'],
    ['Versions 2.00 to 6.11', '1.9', 'not_affected'],
    ['20-33', '25', 'affected'],
    ['20-33', '34', 'not_affected'],
    ['6.10.00 | 6.11.00', '6.11', 'affected'],
    ['6.10.00 | 6.11.00', '6.12', 'not_affected'],
    ['<v36.011_v35.013_v34.014', 'v35.012', 'affected'],
    ['<v36.011_v35.013_v34.014', 'v35.013', 'not_affected'],
    ['<v36.011_v35.013_v34.014', 'v33.020', 'affected'],
    ['<v36.011_v35.013_v34.014', 'v37.001', 'unknown'],
    ['< FW14', 'FW08', 'affected'],
    ['<V8.89_installed_on_CP100_devices', 'V8.88', 'affected'],
    ['>= 20.8 (only affected by CVE-2019-10943)', '21.0', 'affected'],
    ['<= 01.07.13(10)', '01.07.13(09)', 'affected'],
    ['<= 1p1r26', '1p1r25', 'affected'],
    // What cannot be decided is unknown, never a guess.
    ['< 8.1x', '8.05', 'unknown'],
    ['< V4.2.3', undefined, 'unknown'],
    ['< V4.2.3', 'not a version', 'unknown'],
    ['S7-1211', 'V4.2.1', 'unknown'],
    ['All versions', undefined, 'affected'],
  ];
  for (const [range, fw, want] of cases)
    assert.equal(matchVersion(parseVersionRange(range), fw), want, `${range} ~ ${fw}`);
  assert.equal(parseVersionRange('<V8.89_installed_on_CP100_devices').kind, 'constraints');
  const noted = parseVersionRange('vers:all/*_installed_on_CP200_devices');
  assert.deepEqual(noted, { kind: 'all', note: 'CP200 devices' });
});

test('every version expression in the shared CSAF advisories is read, or kept unparsed when it is a model name', (t) => {
  const dir = join(import.meta.dirname, '..', '..', '..', 'shared', 'advisories');
  if (!existsSync(dir)) return t.skip('../shared/advisories is not beside the checkout');
  const names = new Set<string>();
  const walk = (b: { category?: string; name?: string; branches?: unknown[] }): void => {
    if ((b.category === 'product_version' || b.category === 'product_version_range') && b.name !== undefined)
      names.add(b.name);
    for (const c of b.branches ?? []) walk(c as typeof b);
  };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')))
    walk((JSON.parse(readFileSync(join(dir, f), 'utf8')) as { product_tree: { branches?: unknown[] } }).product_tree);
  assert.ok(names.size > 100, `${names.size} expressions`);
  const unparsed = [...names].filter((n) => parseVersionRange(n).kind === 'unparsed').sort();
  // Model and order numbers in the version field (icsa-19-106-03 and others): not versions.
  assert.deepEqual(
    unparsed.filter((n) => /\d/.test(n) && parseVersion(n) !== null),
    [],
    'a version expression left unparsed',
  );
  assert.ok(unparsed.length < 20, unparsed.join(', '));
});
