// Reads every capture of the shared public corpus (../shared/pcaps) and checks the packet count
// against the `packets` column of its MANIFEST.md (counts from capinfos).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { openCaptureSources } from './open.ts';

const sharedDir = fileURLToPath(new URL('../../../shared/', import.meta.url));
const pcapsDir = join(sharedDir, 'pcaps');
const manifestPath = join(pcapsDir, 'MANIFEST.md');

interface ManifestRow {
  readonly path: string;
  readonly packets: number;
}

/** Rows of the table whose header starts `| path | source repo |`, with a numeric packet count. */
function readManifest(): ManifestRow[] {
  const lines = readFileSync(manifestPath, 'utf8').split('\n');
  const cells = (line: string): string[] =>
    line
      .replace(/\\\|/g, '\u0000')
      .split('|')
      .slice(1, -1)
      .map((c) => c.replace(/\u0000/g, '|').trim());
  const headerAt = lines.findIndex((l) => /^\|\s*path\s*\|\s*source repo\s*\|/.test(l));
  assert.ok(headerAt >= 0, 'MANIFEST.md has a table with a `path | source repo | ...` header');
  const header = cells(lines[headerAt]!);
  const pathCol = header.indexOf('path');
  const packetsCol = header.indexOf('packets');
  assert.ok(packetsCol > 0, 'MANIFEST.md has a `packets` column');
  const rows: ManifestRow[] = [];
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.startsWith('|')) break;
    const c = cells(line);
    const packets = c[packetsCol]!.replace(/,/g, '');
    if (!/^\d+$/.test(packets)) continue;
    rows.push({ path: c[pathCol]!, packets: Number(packets) });
  }
  return rows;
}

const present = existsSync(manifestPath);

test('every capture of the shared corpus has the packet count of MANIFEST.md and no issue', async (t) => {
  if (!present) {
    t.skip(`no shared capture corpus at ${pcapsDir}: nothing to compare`);
    return;
  }
  const rows = readManifest();
  assert.ok(rows.length > 0);
  const expected = new Map(rows.map((r) => [join(sharedDir, r.path), r.packets]));
  const warnings: string[] = [];
  const sources = await openCaptureSources([pcapsDir], { onWarning: (m) => warnings.push(m) });
  // The directory walk finds exactly the captures the manifest lists; the rest (labels, notes) is skipped.
  assert.deepEqual(sources.map((s) => s.name).sort(), [...expected.keys()].sort());
  for (const w of warnings) assert.match(w, /\.(csv|txt|md): not a capture file/);
  for (const src of sources) {
    await t.test(src.name.slice(pcapsDir.length + 1), async () => {
      let count = 0;
      for await (const b of src.batches()) count += b.count;
      assert.equal(count, expected.get(src.name));
      assert.equal(src.stats.packets, count);
      assert.equal(src.stats.bytesRead, src.size);
      assert.deepEqual(src.stats.issues, []);
      assert.equal(src.stats.truncated, false);
    });
  }
});
