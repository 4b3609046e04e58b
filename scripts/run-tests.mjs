#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test (Node 24 strips types natively) and
// ends with the plain line `N passed, N failed`. Extra arguments are passed to node --test
// (e.g. a file list or --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
const r = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...args,
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
