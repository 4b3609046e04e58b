// Per-dissector throughput: each industrial dissector alone on the synthetic plant capture (and the
// merged real captures when present), as PDUs per second of the time it adds over the bare packet
// path (read, decode L2–L4, flow table). Figures, not pass/fail.
//   node bench/dissectors.ts [--runs N] [--file PCAP]...

import { existsSync } from 'node:fs';
import { openCaptureSources, mergeByTime } from '../src/capture/open.ts';
import { LIMITS } from '../src/core/limits.ts';
import { Engine } from '../src/pipeline/engine.ts';
import type { L2ProtocolDefinition, ProtocolDefinition } from '../src/protocols/_core/types.ts';
import { L2_PROTOCOLS, PROTOCOLS } from '../src/protocols/registry.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const runs = Number(opt('--runs', '5'));
const files = args.includes('--file')
  ? args.flatMap((a, i) => (a === '--file' && args[i + 1] !== undefined ? [args[i + 1]!] : []))
  : ['bench/data/big.pcap', 'bench/data/real-all.pcap'].filter((f) => existsSync(f));
if (files.length === 0) {
  console.error('dissectors: no capture: run `npm run bench` once (it makes bench/data/big.pcap) or pass --file PCAP');
  process.exit(2);
}

/** One pass over the capture; with `count`, PDUs are counted through the trace hook (slower: not timed). */
async function once(
  file: string,
  protocols: readonly ProtocolDefinition[],
  l2: readonly L2ProtocolDefinition[],
  count: boolean,
): Promise<{ ms: number; pdus: number }> {
  let n = 0;
  const t0 = performance.now();
  const engine = new Engine({
    limits: { ...LIMITS },
    protocols,
    l2Protocols: l2,
    trace: count ? () => void n++ : undefined,
  });
  for await (const b of mergeByTime(await openCaptureSources([file]))) engine.batch(b);
  engine.finish();
  return { ms: performance.now() - t0, pdus: n };
}

/** Best of `runs` passes with the dissectors and without any, alternating (load changes hit both). */
async function added(
  file: string,
  protocols: readonly ProtocolDefinition[],
  l2: readonly L2ProtocolDefinition[],
): Promise<{ base: number; with: number }> {
  let base = Infinity;
  let withThem = Infinity;
  for (let r = 0; r < runs; r++) {
    base = Math.min(base, (await once(file, [], [], false)).ms);
    withThem = Math.min(withThem, (await once(file, protocols, l2, false)).ms);
  }
  return { base, with: withThem };
}

for (const file of files) {
  // Every dissector's code warmed up first: the figures are of optimised code (the CLI's single
  // cold run is in npm run bench).
  await once(file, PROTOCOLS, L2_PROTOCOLS, false);
  await once(file, PROTOCOLS, L2_PROTOCOLS, false);
  const names = [...new Set([...PROTOCOLS.map((p) => p.name), ...L2_PROTOCOLS.map((p) => p.name)])];
  const rows: string[] = [];
  let bare = Infinity;
  for (const name of names) {
    const protocols = PROTOCOLS.filter((p) => p.name === name);
    const l2 = L2_PROTOCOLS.filter((p) => p.name === name);
    const pdus = (await once(file, protocols, l2, true)).pdus;
    if (pdus === 0) continue;
    const t = await added(file, protocols, l2);
    bare = Math.min(bare, t.base);
    const ms = t.with - t.base;
    // Under ~5 ms the difference is within run-to-run noise: no rate is claimed.
    const rate = ms >= 5 ? `${(((pdus / ms) * 1000) / 1e6).toFixed(2)} M` : '(too small to time)';
    rows.push(`  ${name.padEnd(14)} ${String(pdus).padStart(9)}  ${ms.toFixed(0).padStart(9)}   ${rate}`);
  }
  const allPdus = (await once(file, PROTOCOLS, L2_PROTOCOLS, true)).pdus;
  const all = await added(file, PROTOCOLS, L2_PROTOCOLS);
  bare = Math.min(bare, all.base);
  const allMs = all.with - all.base;
  console.log(
    `\n== ${file}: bare packet path ${bare.toFixed(0)} ms (best of ${runs}, alternating with each dissector)`,
  );
  console.log('  dissector      PDUs        added ms   PDUs/s of added time');
  for (const r of rows) console.log(r);
  console.log(
    `  all together   ${String(allPdus).padStart(9)}  ${allMs.toFixed(0).padStart(9)}   ${(((allPdus / allMs) * 1000) / 1e6).toFixed(2)} M (whole run ${all.with.toFixed(0)} ms)`,
  );
}
