#!/usr/bin/env -S node --max-semi-space-size=8 --min-semi-space-size=8
// npx/npm entry point: needs Node 24 (native TypeScript). From a checkout on an older system
// Node, use ./bin/plantguard, which brings the pinned Node 24.
// Runs the compiled dist/ (its one-file bundle) when it is newer than every source file (npm run build), else the
// TypeScript sources directly; PLANTGUARD_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `plantguard needs Node.js 24 or newer (this is ${process.version}); from the repository use ./bin/plantguard\n`,
  );
  process.exit(2);
}
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const root = fileURLToPath(new URL('..', import.meta.url));

/** True when dist/ was built after the last change to any source file. */
function distIsFresh() {
  let stamp;
  try {
    stamp = statSync(join(root, 'dist', '.stamp')).mtimeMs;
  } catch {
    return false;
  }
  const newer = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (newer(p)) return true;
      } else if (!e.name.endsWith('.test.ts') && statSync(p).mtimeMs > stamp) return true;
    }
    return false;
  };
  return !newer(join(root, 'src'));
}

/** The compiled CLI: the one-file bundle when the build made it, else the compiled modules. */
function distEntry() {
  try {
    statSync(join(root, 'dist', 'plantguard.mjs'));
    return '../dist/plantguard.mjs';
  } catch {
    return '../dist/src/cli/main.js';
  }
}

const entry = process.env.PLANTGUARD_FROM_SOURCE !== '1' && distIsFresh() ? distEntry() : '../src/cli/main.ts';
// For tests: say which one runs.
if (process.env.PLANTGUARD_SHOW_ENTRY === '1')
  process.stderr.write(`entry: ${entry.startsWith('../dist') ? 'dist' : 'src'}\n`);
// V8's compiled bytecode of our modules, kept between runs (about 30 ms of every start); a cache
// that cannot be written is silently not used. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
