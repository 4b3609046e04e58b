#!/usr/bin/env node
// bench/run.mjs - PlantGuard's throughput and peak memory next to the Node floor, tshark and Suricata,
// measured in one run on the same files (see bench/README.md). Figures, not pass/fail.
//
//   node bench/run.mjs [--packets N] [--runs N] [--json] [--datasets big,real]
//                      [--tools plantguard,foundation,floor,tshark,suricata,suricata-eve] [--no-install]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  accessSync,
  constants,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputsFingerprint, mergeEthernetCaptures } from './merge-pcaps.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot); // every command line below is relative to the repo root
const SHARED = process.env.PLANTGUARD_SHARED ?? '../shared';
const DATA = 'bench/data';
const GNU_TIME = '/usr/bin/time';
const RSS_TARGET_MIB = 300;
const DEFAULT_PACKETS = 2_000_000;
const RUN_TIMEOUT_MS = 30 * 60 * 1000;
const ALL_TOOLS = ['plantguard', 'foundation', 'floor', 'tshark', 'suricata', 'suricata-eve'];
/**
 * The commit that closed the foundation issue (capture, flows, Modbus the only industrial
 * dissector): issue 3 budgets the full dissector set at 1.5x of its packets/s, so the bench runs it
 * beside the current tree, built from that commit into bench/data/.
 */
const FOUNDATION_COMMIT = '16c0f3b';

// ---------------------------------------------------------------- options
const USAGE = `usage: node bench/run.mjs [options]      (npm run bench -- [options])
  --packets N       synthetic capture size (default ${DEFAULT_PACKETS}; cached as ${DATA}/big[-N].pcap)
  --runs N          runs per tool and dataset, median reported (default 3)
  --json            also write bench/results.json
  --datasets LIST   big,real (default both)
  --tools LIST      ${ALL_TOOLS.join(',')} (default all)
  --no-install      never call bench/install-peers.sh for missing peers
  --no-dissectors   skip the per-dissector PDUs/s (bench/dissectors.ts) at the end`;
const opts = {
  packets: DEFAULT_PACKETS,
  runs: 3,
  json: false,
  datasets: ['big', 'real'],
  tools: ALL_TOOLS,
  install: true,
  dissectors: true,
};
{
  const argv = process.argv.slice(2);
  const int = (v, name) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) die(`${name} needs a positive integer (got ${v})`);
    return n;
  };
  const list = (v, allowed, name) => {
    const l = String(v ?? '')
      .split(',')
      .filter(Boolean);
    for (const x of l) if (!allowed.includes(x)) die(`${name}: unknown "${x}" (choose from ${allowed.join(', ')})`);
    return l;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    if (k === '--packets') opts.packets = int(val(), k);
    else if (k === '--runs') opts.runs = int(val(), k);
    else if (k === '--json') opts.json = true;
    else if (k === '--datasets') opts.datasets = list(val(), ['big', 'real'], k);
    else if (k === '--tools') opts.tools = list(val(), ALL_TOOLS, k);
    else if (k === '--no-install') opts.install = false;
    else if (k === '--no-dissectors') opts.dissectors = false;
    else if (k === '-h' || k === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else die(`unknown option ${a}\n${USAGE}`);
  }
}

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
const log = (msg) => console.error(`[bench] ${msg}`);

// ---------------------------------------------------------------- small helpers
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
const firstLine = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split('\n')[0] : null;
};
const isExecutable = (p) => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sha256File = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const readJson = (p) => {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
};
const fmtInt = (n) => n.toLocaleString('en-US');
function fmtRate(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)} k`;
  return n.toFixed(0);
}
const fmtSecs = (s) => (s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3));
const fmtMBps = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Pull a file into the page cache so every tool starts warm. */
function warmCache(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

// ---------------------------------------------------------------- peers
function ensurePeers() {
  const want = [];
  if (opts.tools.includes('tshark') && !has('tshark')) want.push('tshark');
  if (opts.tools.some((t) => t.startsWith('suricata')) && !has('suricata')) want.push('suricata');
  if (!existsSync(GNU_TIME)) want.push('GNU time');
  if (want.length === 0) return;
  if (!opts.install) {
    log(`missing ${want.join(', ')}; --no-install given, those columns will say "not available"`);
    return;
  }
  log(`missing ${want.join(', ')}: running bash bench/install-peers.sh (apt-get, needs root)`);
  const r = spawnSync('bash', ['bench/install-peers.sh'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) log(`install-peers.sh failed (exit ${r.status}); continuing with what is installed`);
}

/** Index of each output in the Suricata yaml, so --set outputs.N.eve-log.enabled=no hits eve-log. */
function suricataOutputIndexes(yaml) {
  const r = spawnSync('suricata', ['-c', yaml, '--dump-config'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const idx = {};
  for (const m of (r.stdout ?? '').matchAll(/^outputs\.(\d+) = (\S+)$/gm)) idx[m[2]] = Number(m[1]);
  return idx;
}

// ---------------------------------------------------------------- datasets
function bigDataset() {
  const gen = `${SHARED}/tools/gen_ics_pcap.py`;
  const file = opts.packets === DEFAULT_PACKETS ? `${DATA}/big.pcap` : `${DATA}/big-${opts.packets}.pcap`;
  const metaPath = `${file}.json`;
  if (!existsSync(gen)) return { name: 'big', file, error: `generator ${gen} not found` };
  const genSha = sha256File(gen);
  const meta = readJson(metaPath);
  const fresh =
    meta && existsSync(file) && meta.generatorSha256 === genSha && meta.packets === opts.packets && meta.seed === 1;
  if (fresh && statSync(file).size === meta.bytes) {
    log(`${file}: cached (${fmtInt(meta.packets)} packets, ${(meta.bytes / 1e6).toFixed(1)} MB)`);
  } else {
    const python = process.env.PYTHON ?? 'python3';
    log(`generating ${file}: ${python} ${gen} --packets ${opts.packets} --seed 1 (about 10 µs per packet)...`);
    mkdirSync(DATA, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    const t0 = Date.now();
    const r = spawnSync(python, [gen, '--packets', String(opts.packets), '--seed', '1', '--out', tmp, '--quiet'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) {
      rmSync(tmp, { force: true });
      return { name: 'big', file, error: `gen_ics_pcap.py failed (exit ${r.status ?? r.error?.message})` };
    }
    renameSync(tmp, file);
    const bytes = statSync(file).size;
    writeFileSync(metaPath, JSON.stringify({ generatorSha256: genSha, packets: opts.packets, seed: 1, bytes }) + '\n');
    log(`generated ${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${(bytes / 1e6).toFixed(1)} MB)`);
  }
  const m = readJson(metaPath);
  return { name: 'big', file, packets: m.packets, bytes: m.bytes, note: `synthetic, gen_ics_pcap.py seed 1` };
}

function realDataset() {
  const src = `${SHARED}/pcaps`;
  const file = `${DATA}/real-all.pcap`;
  const metaPath = `${file}.json`;
  if (!existsSync(src)) return { name: 'real', file, error: `${src} not found` };
  const fp = inputsFingerprint(src);
  let meta = readJson(metaPath);
  if (meta && meta.fingerprint === fp && existsSync(file) && statSync(file).size === meta.bytes) {
    log(`${file}: cached (${fmtInt(meta.packets)} packets from ${meta.files} captures)`);
  } else {
    log(`merging the Ethernet frames of every capture under ${src} into ${file} (timestamp order)...`);
    mkdirSync(DATA, { recursive: true });
    const r = mergeEthernetCaptures(src, file);
    for (const s of r.skipped) log(`  left out ${s.file}: ${s.reason}`);
    meta = { fingerprint: fp, packets: r.packets, bytes: r.bytes, files: r.files.length, skipped: r.skipped };
    writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
    log(`merged ${fmtInt(r.packets)} packets (${(r.bytes / 1e6).toFixed(1)} MB) from ${r.files.length} captures`);
  }
  return {
    name: 'real',
    file,
    packets: meta.packets,
    bytes: meta.bytes,
    note: `${meta.files} real captures merged (Ethernet only)`,
  };
}

// ---------------------------------------------------------------- tools
function plantguardCommand() {
  if (isExecutable('bin/plantguard')) return ['./bin/plantguard'];
  if (existsSync('bin/plantguard.mjs')) return [process.execPath, 'bin/plantguard.mjs'];
  return null;
}

function defineTools() {
  const tools = [];
  const pg = plantguardCommand();
  tools.push({
    id: 'plantguard',
    label: 'plantguard analyze --format json',
    unavailable: pg ? null : 'not available (bin/plantguard not found)',
    argv: (f) => [...(pg ?? []), 'analyze', f, '--format', 'json', '--out', '/dev/null'],
  });
  const foundation = prepareFoundation();
  tools.push({
    id: 'foundation',
    label: `plantguard at ${FOUNDATION_COMMIT} (foundation: Modbus the only dissector)`,
    unavailable: foundation.error,
    argv: (f) => [`${foundation.dir}/bin/plantguard`, 'analyze', f, '--format', 'json', '--out', '/dev/null'],
  });
  const floor = `${SHARED}/tools/node_floor.mjs`;
  tools.push({
    id: 'floor',
    label: 'node floor (node_floor.mjs modbus)',
    unavailable: existsSync(floor) ? null : `not available (${floor} not found)`,
    argv: (f) => [process.execPath, floor, 'modbus', '--json', f],
    stdout: 'capture',
    check: (out, ds) => {
      const j = JSON.parse(out);
      return j.packets === ds.packets ? null : `floor counted ${j.packets} packets, expected ${ds.packets}`;
    },
  });
  tools.push({
    id: 'tshark',
    label: 'tshark -T fields (ip.src ip.dst modbus.func_code)',
    unavailable: has('tshark') ? null : 'not available (tshark not installed)',
    argv: (f) => ['tshark', '-r', f, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'modbus.func_code'],
  });
  const yaml = `${SHARED}/tools/suricata/suricata-ics.yaml`;
  const suri = has('suricata') && existsSync(yaml);
  const idx = suri ? suricataOutputIndexes(yaml) : {};
  const suriArgs = (f, dir, eve) => [
    'suricata',
    '-c',
    yaml,
    '--runmode',
    'single',
    '-k',
    'none',
    '-r',
    f,
    '-l',
    dir,
    '-S',
    '/dev/null', // no rules: parsers and logging only
    '--set',
    `outputs.${idx.fast}.fast.enabled=no`,
    ...(eve ? [] : ['--set', `outputs.${idx['eve-log']}.eve-log.enabled=no`]),
  ];
  const suriMissing = !suri
    ? `not available (${has('suricata') ? `${yaml} not found` : 'suricata not installed'})`
    : idx['eve-log'] === undefined || idx.fast === undefined
      ? 'not available (eve-log/fast outputs not found in the yaml)'
      : null;
  for (const eve of [false, true]) {
    tools.push({
      id: eve ? 'suricata-eve' : 'suricata',
      label: eve ? 'suricata 1 worker, ICS parsers + eve.json' : 'suricata 1 worker, ICS parsers, no eve',
      unavailable: suriMissing,
      logDir: true,
      argv: (f, dir) => suriArgs(f, dir, eve),
      after: (dir) => suricataCounters(dir, eve),
    });
  }
  return tools.filter((t) => opts.tools.includes(t.id));
}

/**
 * The foundation commit's tree, built, in bench/data/foundation-<commit>/ (made once: git archive,
 * this checkout's node_modules and pinned Node linked in, npm run build). Needs the commit in the
 * local history (not in a shallow clone).
 */
function prepareFoundation() {
  const dir = resolve(DATA, `foundation-${FOUNDATION_COMMIT}`);
  if (!opts.tools.includes('foundation')) return { dir, error: 'not measured (--tools)' };
  if (existsSync(join(dir, 'dist', '.stamp'))) return { dir, error: null };
  const tar = spawnSync('git', ['archive', '--format=tar', FOUNDATION_COMMIT], { maxBuffer: 1 << 30 });
  if (tar.status !== 0) return { dir, error: `not available (commit ${FOUNDATION_COMMIT} not in this clone)` };
  log(`building the foundation commit ${FOUNDATION_COMMIT} into ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const x = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
  if (x.status !== 0) return { dir, error: 'not available (could not unpack the foundation commit)' };
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  if (existsSync('tools/node/node_modules')) {
    mkdirSync(join(dir, 'tools', 'node'), { recursive: true });
    symlinkSync(resolve('tools/node/node_modules'), join(dir, 'tools', 'node', 'node_modules'));
  }
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit' });
  if (b.status !== 0) return { dir, error: 'not available (its build failed)' };
  return { dir, error: null };
}

/** Sanity counters from Suricata's stats.log (proves the ICS parsers ran) and the eve.json size. */
function suricataCounters(dir, eve) {
  const out = {};
  try {
    const stats = readFileSync(join(dir, 'stats.log'), 'utf8');
    for (const k of ['decoder.pkts', 'app_layer.tx.modbus', 'app_layer.tx.dnp3', 'app_layer.flow.enip_tcp']) {
      const all = [
        ...stats.matchAll(new RegExp(`^${k.replaceAll('.', '\\.')}\\s+\\|\\s+Total\\s+\\|\\s+(\\d+)`, 'gm')),
      ];
      if (all.length > 0) out[k] = Number(all[all.length - 1][1]);
    }
  } catch {
    /* no stats.log: leave the counters out */
  }
  if (eve && existsSync(join(dir, 'eve.json'))) out.eveBytes = statSync(join(dir, 'eve.json')).size;
  return out;
}

// ---------------------------------------------------------------- one measurement
function measure(tool, ds, scratch) {
  const dir = tool.logDir ? mkdtempSync(join(scratch, `${tool.id}-`)) : null;
  const argv = tool.argv(ds.file, dir);
  const timeOut = join(scratch, 'time.out');
  const useTime = existsSync(GNU_TIME);
  const [cmd, ...args] = useTime ? [GNU_TIME, '-f', '%e %M %U %S', '-o', timeOut, '--', ...argv] : argv;
  const devnull = openSync('/dev/null', 'w');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', tool.stdout === 'capture' ? 'pipe' : devnull, 'pipe'],
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    timeout: RUN_TIMEOUT_MS,
    env,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(devnull);
  const result = { wall, rssMiB: null, cpu: null, status: r.status, error: null, counters: null };
  if (useTime && existsSync(timeOut)) {
    const last = readFileSync(timeOut, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    if (last.length === 4 && last.every(Number.isFinite)) {
      result.rssMiB = last[1] / 1024;
      result.cpu = last[2] + last[3];
    }
    rmSync(timeOut, { force: true });
  }
  if (r.error || r.status !== 0) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    result.error = r.error ? r.error.message : `exit ${r.status}${tail ? `: ${tail}` : ''}`;
  } else if (tool.check) {
    try {
      result.error = tool.check(r.stdout, ds);
    } catch (e) {
      result.error = `unexpected output (${e.message})`;
    }
  }
  if (tool.after && dir) result.counters = tool.after(dir);
  if (dir) rmSync(dir, { recursive: true, force: true });
  return result;
}

// ---------------------------------------------------------------- main
const started = new Date();
const cpuModel = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
const loadStart = os.loadavg()[0];
log(`${os.cpus().length} × ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadStart.toFixed(2)}`);
ensurePeers();
if (!existsSync(GNU_TIME)) log(`${GNU_TIME} missing: peak RSS and CPU time will not be reported`);
// Measure what users run: the compiled build when it can be made (bin/plantguard.mjs falls back to
// the TypeScript sources when dist/ is missing or stale).
if (opts.tools.includes('plantguard') && existsSync('node_modules/typescript')) {
  log('building dist/ (npm run build) ...');
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) log('build failed: plantguard runs from the sources');
}
const tools = defineTools();
const versions = {
  node: process.version,
  tshark: firstLine('tshark', ['--version']),
  suricata: firstLine('suricata', ['-V']),
  plantguard: (() => {
    const pg = plantguardCommand();
    return pg ? (firstLine(pg[0], [...pg.slice(1), '--version']) ?? 'present (no --version)') : null;
  })(),
};
const commit = firstLine('git', ['rev-parse', '--short', 'HEAD']);

const datasets = [];
if (opts.datasets.includes('big')) datasets.push(bigDataset());
if (opts.datasets.includes('real')) datasets.push(realDataset());

const scratch = mkdtempSync(join(os.tmpdir(), 'plantguard-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const report = [];
for (const ds of datasets) {
  const entry = { dataset: ds, results: {} };
  report.push(entry);
  if (ds.error) {
    log(`${ds.name}: skipped (${ds.error})`);
    continue;
  }
  warmCache(ds.file);
  const live = tools.filter((t) => !t.unavailable);
  for (const t of tools) entry.results[t.id] = { runs: [], error: t.unavailable };
  // Round-robin (run 1 of every tool, then run 2, ...) so a load change hits all tools alike.
  for (let run = 1; run <= opts.runs; run++) {
    for (const t of live) {
      const res = entry.results[t.id];
      if (res.error) continue; // failed earlier: no point repeating
      log(`${ds.file}: ${t.id} run ${run}/${opts.runs} ...`);
      const m = measure(t, ds, scratch);
      if (m.error) {
        res.error = `failed: ${m.error}`;
        log(`  ${t.id} failed: ${m.error}`);
        continue;
      }
      res.runs.push(m);
      log(
        `  ${fmtSecs(m.wall)} s, ${m.rssMiB === null ? '?' : m.rssMiB.toFixed(0)} MiB` +
          (m.counters ? `, ${JSON.stringify(m.counters)}` : ''),
      );
    }
  }
  for (const t of tools) {
    const res = entry.results[t.id];
    if (res.error || res.runs.length === 0) continue;
    const w = median(res.runs.map((r) => r.wall));
    const rss = res.runs.map((r) => r.rssMiB).filter((x) => x !== null);
    const cpu = res.runs.map((r) => r.cpu).filter((x) => x !== null);
    Object.assign(res, {
      wall: w,
      wallMin: Math.min(...res.runs.map((r) => r.wall)),
      wallMax: Math.max(...res.runs.map((r) => r.wall)),
      pps: ds.packets / w,
      mbps: ds.bytes / 1e6 / w,
      peakRssMiB: rss.length ? Math.max(...rss) : null,
      cpu: cpu.length ? median(cpu) : null,
      counters: res.runs[0].counters,
    });
  }
}
const loadEnd = os.loadavg()[0];

// ---------------------------------------------------------------- report
const out = [];
const p = (s = '') => out.push(s);
p(`PlantGuard benchmark  ${started.toISOString()}  commit ${commit ?? '?'}`);
p(
  `machine: ${os.cpus().length} × ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM; ` +
    `1-min load ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`,
);
if (Math.max(loadStart, loadEnd) > 0.5)
  p('WARNING: other work was running on this machine during the run; treat small differences as noise');
p(`versions: node ${versions.node}; ${versions.tshark ?? 'tshark absent'}; ${versions.suricata ?? 'suricata absent'}`);
p(
  `method: whole process, warm page cache, ${opts.runs} run${opts.runs === 1 ? '' : 's'} per tool (round-robin), ` +
    'median wall; peak RSS = max over runs of /usr/bin/time %M',
);
for (const { dataset: ds, results } of report) {
  p();
  if (ds.error) {
    p(`== ${ds.name}: ${ds.error}`);
    continue;
  }
  p(`== ${ds.file}: ${fmtInt(ds.packets)} packets, ${(ds.bytes / 1e6).toFixed(1)} MB (${ds.note})`);
  const header = ['tool', 'packets/s', 'MB/s', 'wall s (min-max)', 'peak RSS MiB', 'CPU s'];
  const rows = [];
  for (const t of tools) {
    const r = results[t.id];
    if (r.error || r.wall === undefined) {
      rows.push([t.label, r.error ?? 'no result']);
      continue;
    }
    rows.push([
      t.label,
      fmtRate(r.pps),
      fmtMBps(r.mbps),
      `${fmtSecs(r.wall)} (${fmtSecs(r.wallMin)}-${fmtSecs(r.wallMax)})`,
      r.peakRssMiB === null ? '?' : r.peakRssMiB.toFixed(0),
      r.cpu === null ? '?' : fmtSecs(r.cpu),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 1).map((r) => r[i].length)));
  const line = (cells) =>
    cells.length === 1 || cells.length === 2
      ? `  ${cells[0].padEnd(widths[0])}  ${cells[1] ?? ''}`
      : '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  p(line(header));
  for (const r of rows) p(line(r));
  for (const t of tools) {
    const c = results[t.id].counters;
    if (c && Object.keys(c).length)
      p(
        `  (${t.id}: ${Object.entries(c)
          .map(([k, v]) => `${k}=${fmtInt(v)}`)
          .join(', ')})`,
      );
  }

  // Ratios, all from this run.
  const pg = results.plantguard;
  const ok = (id) => results[id] && !results[id].error && results[id].pps !== undefined;
  p(`  ratios on ${ds.name} (same run):`);
  const ratios = {};
  if (ok('plantguard')) {
    if (ok('foundation')) {
      ratios.foundation = pg.pps / results.foundation.pps;
      const slower = results.foundation.pps / pg.pps;
      const verdict = slower <= 1.5 ? 'within' : 'OVER';
      p(
        `    plantguard pps / foundation pps = ${fmtRatio(ratios.foundation)}×: the full dissector set is ${fmtRatio(slower)}× slower than the foundation (issue 3 budget 1.5×: ${verdict})`,
      );
    }
    for (const id of ['floor', 'suricata', 'suricata-eve', 'tshark']) {
      if (!ok(id)) continue;
      ratios[id] = pg.pps / results[id].pps;
      const what = id === 'floor' ? 'of floor' : `vs ${tools.find((t) => t.id === id).label}`;
      p(`    plantguard pps / ${id} pps = ${fmtRatio(ratios[id])}× ${what}`);
    }
    if (pg.peakRssMiB !== null) {
      ratios.rssOfTarget = pg.peakRssMiB / RSS_TARGET_MIB;
      const verdict = pg.peakRssMiB <= RSS_TARGET_MIB ? 'within' : 'OVER';
      p(
        `    plantguard peak RSS ${pg.peakRssMiB.toFixed(0)} MiB = ${(ratios.rssOfTarget * 100).toFixed(0)} % of the ${RSS_TARGET_MIB} MiB target (${verdict})`,
      );
    }
  } else {
    p(`    plantguard: ${pg ? (pg.error ?? 'no result') : 'not measured (--tools)'}; no plantguard ratios`);
  }
  if (ok('floor')) {
    const ref = ['suricata', 'suricata-eve', 'tshark'].filter(ok);
    if (ref.length) {
      const parts = ref.map((id) => `${fmtRatio(results.floor.pps / results[id].pps)}× ${id}`);
      p(`    for reference, floor pps = ${parts.join(', ')}`);
    }
  }
  results.ratios = ratios;
}
console.log(out.join('\n'));

// ---------------------------------------------------------------- results.json
if (opts.json) {
  const round = (x, d = 4) => (x === null || x === undefined ? null : Number(x.toPrecision(d)));
  const doc = {
    date: started.toISOString(),
    commit,
    machine: {
      cpus: os.cpus().length,
      cpu: cpuModel,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      loadStart: round(loadStart, 3),
      loadEnd: round(loadEnd, 3),
    },
    versions,
    options: { runs: opts.runs, packets: opts.packets },
    rssTargetMiB: RSS_TARGET_MIB,
    datasets: report.map(({ dataset: ds, results }) => ({
      name: ds.name,
      file: ds.file,
      packets: ds.packets ?? null,
      bytes: ds.bytes ?? null,
      error: ds.error ?? null,
      tools: tools.map((t) => {
        const r = results[t.id] ?? {};
        return {
          tool: t.id,
          command: t.unavailable ? null : displayCommand(t.argv(ds.file, '<tmpdir>')),
          error: r.error ?? null,
          wallS: round(r.wall),
          wallRunsS: (r.runs ?? []).map((x) => round(x.wall)),
          pps: round(r.pps),
          mbps: round(r.mbps),
          peakRssMiB: round(r.peakRssMiB),
          cpuS: round(r.cpu),
          counters: r.counters ?? {},
        };
      }),
      ratios: Object.fromEntries(Object.entries(results.ratios ?? {}).map(([k, v]) => [k, round(v)])),
    })),
  };
  writeFileSync('bench/results.json', formatJson(doc) + '\n');
  log('wrote bench/results.json');
}

// ---------------------------------------------------------------- each dissector alone
// PDUs/s of every industrial dissector on its own (bench/dissectors.ts), on the same captures.
if (opts.dissectors) {
  const files = datasets.filter((ds) => !ds.error).map((ds) => ds.file);
  if (files.length > 0) {
    log('each dissector alone (bench/dissectors.ts) ...');
    const r = spawnSync(
      process.execPath,
      ['bench/dissectors.ts', '--runs', '3', ...files.flatMap((f) => ['--file', f])],
      {
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) log('bench/dissectors.ts failed');
  }
}

/** A command line as a person would type it (node for this Node binary). */
function displayCommand(argv) {
  return argv.map((a, i) => (i === 0 && a === process.execPath ? 'node' : a)).join(' ');
}

/** JSON laid out the way prettier lays it out (objects expanded, short primitive arrays inline). */
function formatJson(v, indent = '') {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const flat = `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    if (v.every((x) => x === null || typeof x !== 'object') && indent.length + flat.length < 100) return flat;
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${formatJson(v[k], inner)}`).join(',\n')}\n${indent}}`;
}
