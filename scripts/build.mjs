#!/usr/bin/env node
// Compiles src/ to dist/ (plain JavaScript: the CLI then starts without stripping types, about
// 0.1 s and 30 MB less), bundles the CLI into one module, dist/plantguard.mjs (esbuild: loading one
// file instead of about 110 saves about 40 ms of every start), and writes dist/.stamp.
// bin/plantguard.mjs uses dist/ only while no source file is newer than the stamp, so a stale build
// is never run; without the bundle (esbuild missing) it loads dist/src/ module by module.
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
try {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
    outfile: join(root, 'dist', 'plantguard.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'error',
  });
} catch (e) {
  console.error(
    `build: no bundle (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); the CLI loads dist/src/`,
  );
}
writeFileSync(join(root, 'dist', '.stamp'), `${new Date().toISOString()}\n`);
