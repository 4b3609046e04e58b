import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { AdvisoryError, readCsaf } from './csaf.ts';

const DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'advisories');
const load = (file: string): unknown => JSON.parse(readFileSync(join(DIR, file), 'utf8'));

test('a CISA advisory: products from the branch path, CVE, CVSS, status and remediations', (t) => {
  if (!existsSync(DIR)) return t.skip('../shared/advisories is not beside the checkout');
  const a = readCsaf(load('icsa-18-282-04.json'), 'icsa-18-282-04.json');
  assert.equal(a.id, 'ICSA-18-282-04');
  assert.equal(a.products.length, 1);
  const p = a.products[0]!;
  assert.deepEqual(
    [p.productId, p.vendor, p.name, p.versionText, p.versions.kind],
    [
      'CSAFPID-0001',
      'Siemens',
      'SIMATIC S7-1200 CPU family version 4 (incl. SIPLUS variants)',
      'All versions < V4.2.3',
      'constraints',
    ],
  );
  const v = a.vulnerabilities[0]!;
  assert.match(v.cve, /^CVE-\d{4}-\d+$/);
  assert.deepEqual(v.knownAffected, ['CSAFPID-0001']);
  assert.equal(v.scores[0]?.baseScore, 7.5);
  assert.ok(v.remediations.some((r) => r.category === 'vendor_fix' && r.url !== undefined));
});

test('every shared advisory reads, each vulnerability naming only products of its tree', (t) => {
  if (!existsSync(DIR)) return t.skip('../shared/advisories is not beside the checkout');
  let products = 0;
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.json'))) {
    const a = readCsaf(load(f), f);
    assert.ok(a.products.length > 0, f);
    assert.ok(a.vulnerabilities.length > 0, f);
    const ids = new Set(a.products.map((p) => p.productId));
    for (const v of a.vulnerabilities)
      for (const pid of [...v.knownAffected, ...v.fixed, ...v.knownNotAffected])
        assert.ok(ids.has(pid), `${f}: ${v.cve} ${pid}`);
    products += a.products.length;
  }
  assert.ok(products > 100, `${products} products`);
  // Firmware installed on a device (a CSAF relationship): the firmware's versions, on that device.
  const mx = readCsaf(load('icsa-24-235-03.json'), 'icsa-24-235-03.json').products.find(
    (p) => p.productId === 'CSAFPID-0309',
  );
  assert.equal(mx?.fullName, 'Mobotix P3 Firmware MX-V4.1.4.11 installed on Mobotix P3 D24M');
  assert.equal(mx?.versionText, 'MX-V4.1.4.11');
  assert.ok(mx?.platform !== undefined && mx.platform !== '');
});

test('what is not a CSAF 2.0 document is a clear AdvisoryError', () => {
  const code = (doc: unknown): string => {
    try {
      readCsaf(doc, 'x.json');
    } catch (e) {
      assert.ok(e instanceof AdvisoryError);
      assert.match(e.message, /^x\.json: /);
      return e.code;
    }
    return 'no error';
  };
  assert.equal(code(null), 'advisory.not_csaf');
  assert.equal(code({ document: { title: 'x' } }), 'advisory.not_csaf');
  assert.equal(code({ document: { csaf_version: '1.2' } }), 'advisory.unsupported_version');
  assert.equal(code({ document: { csaf_version: '2.0', tracking: {} } }), 'advisory.not_csaf');
  let deep: Record<string, unknown> = { category: 'vendor', name: 'v' };
  for (let i = 0; i < 40; i++) deep = { category: 'product_family', name: `f${i}`, branches: [deep] };
  assert.equal(
    code({ document: { csaf_version: '2.0', tracking: { id: 'A' } }, product_tree: { branches: [deep] } }),
    'advisory.too_large',
  );
});

test('property: any JSON value either reads or is an AdvisoryError, never another exception', () => {
  const base = { document: { csaf_version: '2.0', tracking: { id: 'T-1' } } };
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), (tree, vulns, doc) => {
      for (const input of [doc, { ...base, product_tree: tree, vulnerabilities: vulns }]) {
        try {
          readCsaf(input, 'f');
        } catch (e) {
          assert.ok(e instanceof AdvisoryError, String(e));
        }
      }
    }),
    { numRuns: 1000 },
  );
});
