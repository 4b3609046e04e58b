#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test (Node 24 strips types natively) and
// ends with the plain line `N passed, N failed`. Extra arguments are passed to node --test
// (e.g. a file list or --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`plantguard tests need Node 24 (this is ${process.version}); run: . scripts/env.sh`);
  process.exit(2);
}

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-')) ? [] : [...collect('src', []), ...collect('test', [])];
const tmp = mkdtempSync(join(tmpdir(), 'plantguard-tests-'));
const summaryFile = join(tmp, 'summary.txt');
const r = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs',
    `--test-reporter-destination=${summaryFile}`,
    ...args,
    ...files,
  ],
  { stdio: 'inherit' },
);
// The plain closing line CI reads, printed last, after everything the spec reporter wrote.
let summary = '';
try {
  summary = readFileSync(summaryFile, 'utf8').trim();
} catch {
  summary = '0 passed, 1 failed';
}
rmSync(tmp, { recursive: true, force: true });
console.log(summary);
process.exit(r.status ?? 1);
