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
const runs = Number(opt('--runs', '3'));
const files = args.includes('--file')
  ? args.flatMap((a, i) => (a === '--file' && args[i + 1] !== undefined ? [args[i + 1]!] : []))
  : ['bench/data/big.pcap', 'bench/data/real-all.pcap'].filter((f) => existsSync(f));
if (files.length === 0) {
  console.error('dissectors: no capture: run `npm run bench` once (it makes bench/data/big.pcap) or pass --file PCAP');
  process.exit(2);
}

async function run(
  file: string,
  protocols: readonly ProtocolDefinition[],
  l2: readonly L2ProtocolDefinition[],
): Promise<{ ms: number; pdus: number }> {
  let best = Infinity;
  let pdus = 0;
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = performance.now();
    const engine = new Engine({ limits: { ...LIMITS }, protocols, l2Protocols: l2, trace: () => void n++ });
    for await (const b of mergeByTime(await openCaptureSources([file]))) engine.batch(b);
    engine.finish();
    best = Math.min(best, performance.now() - t0);
    pdus = n;
  }
  return { ms: best, pdus };
}

for (const file of files) {
  // Warm up the shared path once, then the baseline without any dissector.
  await run(file, [], []);
  const base = await run(file, [], []);
  console.log(`\n== ${file}: bare packet path ${base.ms.toFixed(0)} ms (best of ${runs})`);
  console.log('  dissector      PDUs        added ms   PDUs/s of added time');
  const names = [...new Set([...PROTOCOLS.map((p) => p.name), ...L2_PROTOCOLS.map((p) => p.name)])];
  for (const name of names) {
    const r = await run(
      file,
      PROTOCOLS.filter((p) => p.name === name),
      L2_PROTOCOLS.filter((p) => p.name === name),
    );
    if (r.pdus === 0) continue;
    const added = r.ms - base.ms;
    // Under ~5 ms the difference is within run-to-run noise: no rate is claimed.
    const rate = added >= 5 ? `${(((r.pdus / added) * 1000) / 1e6).toFixed(2)} M` : '(too small to time)';
    console.log(`  ${name.padEnd(14)} ${String(r.pdus).padStart(9)}  ${added.toFixed(0).padStart(9)}   ${rate}`);
  }
  const all = await run(file, PROTOCOLS, L2_PROTOCOLS);
  console.log(
    `  all together   ${String(all.pdus).padStart(9)}  ${(all.ms - base.ms).toFixed(0).padStart(9)}   (whole run ${all.ms.toFixed(0)} ms)`,
  );
}
