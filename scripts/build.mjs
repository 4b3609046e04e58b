#!/usr/bin/env node
// Compiles src/ to dist/ (plain JavaScript: the CLI then starts without stripping types, about
// 0.1 s and 30 MB less) and writes dist/.stamp. bin/plantguard.mjs uses dist/ only while no source
// file is newer than the stamp, so a stale build is never run.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  console.error('build: tsc failed; bin/plantguard keeps running the sources directly');
  process.exit(tsc.status ?? 1);
}
writeFileSync(join(root, 'dist', 'package.json'), '{ "type": "module" }\n');
writeFileSync(join(root, 'dist', '.stamp'), `${new Date().toISOString()}\n`);
