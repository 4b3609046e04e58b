#!/usr/bin/env node
// npx/npm entry point: needs Node 24 (native TypeScript). From a checkout on an older system
// Node, use ./bin/plantguard, which brings the pinned Node 24.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`plantguard needs Node.js 24 or newer (this is ${process.version}); from the repository use ./bin/plantguard\n`);
  process.exit(2);
}
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
