#!/usr/bin/env node
// Regenerates the tshark reference files in test/tshark/ (differential tests: our decoders against
// Wireshark's on the same real captures). Needs tshark; the test suite only reads the JSON files.
//
//   node scripts/gen-tshark-refs.mjs            regenerate every reference (and prune stale ones)
//   node scripts/gen-tshark-refs.mjs --check    regenerate in memory, report differences, write nothing
//   node scripts/gen-tshark-refs.mjs --only plant1   only captures whose path contains "plant1"
//
// Captures are read from ../shared/pcaps (beside the checkout; PLANTGUARD_PCAPS overrides); tshark
// from PATH (TSHARK overrides). The schema and every counting decision are documented in
// test/tshark/README.md. Exit codes: 0 ok, 1 a difference/self-check failure, 2 tshark or captures missing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PCAP_ROOT_REL = '../shared/pcaps';
const pcapRoot = resolve(repoRoot, process.env.PLANTGUARD_PCAPS ?? PCAP_ROOT_REL);
let outDir = join(repoRoot, 'test', 'tshark');
const TSHARK = process.env.TSHARK ?? 'tshark';

// Every capture in modbus/, plus a few mixed ones chosen for what they exercise.
const EXTRA = [
  'it/malcolm-dhcp.pcap', // DHCP + DHCPv6 + ICMP quoting ICMP, one IPv4 fragment
  'it/malcolm-dns.pcap', // 500+ UDP conversations, DNS over TCP, IPv4 fragments (reassembled)
  'profinet/profinet-mixed-dcp-rt-lldp.pcap', // mostly layer 2: PN-DCP, PN-RT, LLDP (MAC-only assets)
  's7comm/icsnpp-s7ident-szl.pcap', // TPKT/COTP/S7comm on 102, one small session
  'enip/enip-list-identity.pcap', // ENIP ListIdentity
  'dnp3/dnp3-full-exchange.pcap', // DNP3 over TCP 20000
  'iec104/iec104-testdissect.pcap', // IEC 60870-5-104
];

// Preferences pinned explicitly so a user profile cannot change the reference. These are the 4.0
// defaults except nothing else: reassembly on (IP and TCP), checksums not validated.
const PREFS = [
  'ip.defragment:TRUE',
  'ipv6.defragment:TRUE',
  'tcp.desegment_tcp_streams:TRUE',
  'tcp.reassemble_out_of_order:FALSE',
  'tcp.analyze_sequence_numbers:TRUE',
  'tcp.check_checksum:FALSE',
  'udp.check_checksum:FALSE',
  'ip.check_checksum:FALSE',
  'mbtcp.tcp.port:502',
];

const FIELDS = [
  'frame.number',
  'frame.len',
  'frame.protocols',
  'eth.src',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'ip.flags.mf',
  'ip.frag_offset',
  'modbus.func_code',
  'modbus.exception_code',
];
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i]));

// Above this size per-frame Modbus rows are replaced by their sha256 (the summary stays); < 300 KB.
const MAX_REF_BYTES = 280 * 1024;

// ---------------------------------------------------------------- command line
const argv = process.argv.slice(2);
let check = false;
let only = null;
let all = true; // every capture under the pcaps folder; --listed keeps to modbus/ + EXTRA
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--check') check = true;
  else if (a === '--only') only = argv[++i] ?? '';
  else if (a === '--all') all = true;
  else if (a === '--listed') all = false;
  else if (a === '--out') outDir = resolve(argv[++i] ?? outDir);
  else if (a === '-h' || a === '--help') {
    console.log(
      'usage: node scripts/gen-tshark-refs.mjs [--check] [--only SUBSTRING] [--listed] [--out DIR]\n' +
        '  --listed   only modbus/ and the EXTRA list, not every capture under the pcaps folder (the default)\n' +
        '  --out DIR  write there instead of test/tshark (run the test on it with PLANTGUARD_TSHARK_REFS=DIR)',
    );
    process.exit(0);
  } else {
    console.error(`gen-tshark-refs: unknown argument ${a} (try --help)`);
    process.exit(2);
  }
}

const ver = spawnSync(TSHARK, ['--version'], { encoding: 'utf8' });
if (ver.error || ver.status !== 0) {
  console.error(
    `gen-tshark-refs: tshark not found (${TSHARK}). Install it with: sudo bash scripts/install-test-deps.sh\n` +
      '(the checked-in references in test/tshark/ are enough to run the tests; tshark is only needed to regenerate them)',
  );
  process.exit(2);
}
const tsharkVersion = ver.stdout.split('\n')[0].trim();
if (!existsSync(pcapRoot)) {
  console.error(`gen-tshark-refs: capture folder ${pcapRoot} not found (set PLANTGUARD_PCAPS to the pcaps folder)`);
  process.exit(2);
}

// ---------------------------------------------------------------- helpers
function runTshark(args) {
  const r = spawnSync(TSHARK, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const split = (s) => (s === '' || s === undefined ? [] : s.split(','));

/** Sort key parts for an address: family (v4 before v6), then its bytes. */
function addrBytes(a) {
  if (!a.includes(':')) return [4, ...a.split('.').map(Number)];
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return [6, ...groups.map((g) => parseInt(g, 16))];
}
function cmpNum(x, y) {
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
const cmpEndpoint = (e1, e2) => cmpNum(addrBytes(e1[0]), addrBytes(e2[0])) || e1[1] - e2[1];
const fmtEndpoint = ([addr, port]) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
const cmpAddr = (a, b) => cmpNum(addrBytes(a), addrBytes(b));

/**
 * Compact JSON: a value is written on one line when that fits in 120 columns, else expanded; long
 * lists of small arrays (the Modbus rows) are packed several to a line.
 */
function formatJson(v, indent = '') {
  const flat = JSON.stringify(v);
  if (v === null || typeof v !== 'object' || indent.length + flat.length <= 120) return flat;
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const items = v.map((x) => JSON.stringify(x));
    if (v.every((x, i) => Array.isArray(x) && items[i].length <= 40)) {
      const lines = [];
      let cur = '';
      for (const it of items) {
        if (cur !== '' && inner.length + cur.length + it.length + 1 > 120) {
          lines.push(inner + cur);
          cur = '';
        }
        cur += it + ',';
      }
      lines.push(inner + cur.slice(0, -1));
      return `[\n${lines.join('\n')}\n${indent}]`;
    }
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${formatJson(v[k], inner)}`).join(',\n')}\n${indent}}`;
}

const countUp = (obj, key, n = 1) => {
  obj[key] = (obj[key] ?? 0) + n;
};
const sortNumericKeys = (o) =>
  Object.fromEntries(
    Object.keys(o)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => [k, o[k]]),
  );

// ---------------------------------------------------------------- one capture
function buildReference(rel) {
  const abs = join(pcapRoot, rel);
  const bytes = readFileSync(abs);
  const prefArgs = PREFS.flatMap((p) => ['-o', p]);
  const out = runTshark([
    '-n',
    '-r',
    abs,
    ...prefArgs,
    '-T',
    'fields',
    '-E',
    'header=n',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    '-E',
    'quote=n',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ]);

  let packets = 0;
  const convs = new Map();
  const ips = new Set();
  const macs = new Set();
  const frag = { frames: 0, inConversation: 0 };
  let framesInConversations = 0;
  let icmpQuotedTransport = 0;
  const rows = [];
  const exceptionRows = [];
  const framesPerFc = { request: {}, response: {}, unknown: {} };
  const pdusPerFc = { request: {}, response: {}, unknown: {} };
  const exceptionPdus = {};
  let pdus = 0;

  for (const line of out.split('\n')) {
    if (line === '') continue;
    const c = line.split('\t');
    packets++;
    const frameNo = Number(c[F['frame.number']]);
    const frameLen = Number(c[F['frame.len']]);
    const layers = c[F['frame.protocols']].split(':');
    for (const m of split(c[F['eth.src']])) macs.add(m);

    // Per-layer occurrence alignment: the n-th "ip" layer in frame.protocols carries the n-th ip.src.
    const ip4src = split(c[F['ip.src']]);
    const ip4dst = split(c[F['ip.dst']]);
    const ip6src = split(c[F['ipv6.src']]);
    const ip6dst = split(c[F['ipv6.dst']]);
    const firstIcmp = layers.findIndex((l) => l === 'icmp' || l === 'icmpv6');
    const icmpAt = firstIcmp === -1 ? layers.length : firstIcmp;
    let n4 = 0;
    let n6 = 0;
    const ipAt = []; // layer index -> [src, dst]
    for (let i = 0; i < layers.length; i++) {
      if (layers[i] === 'ip') {
        ipAt[i] = [ip4src[n4], ip4dst[n4]];
        n4++;
      } else if (layers[i] === 'ipv6') {
        ipAt[i] = [ip6src[n6], ip6dst[n6]];
        n6++;
      }
      // Addresses quoted inside ICMP errors are not counted as seen (the host did not send that frame).
      if (ipAt[i] && i < icmpAt) for (const a of ipAt[i]) if (a) ips.add(a);
    }
    if (n4 !== ip4src.length || n6 !== ip6src.length) {
      throw new Error(`${rel} frame ${frameNo}: ip layers (${n4}/${n6}) and address occurrences disagree`);
    }

    const mf = split(c[F['ip.flags.mf']])[0];
    const off = split(c[F['ip.frag_offset']])[0];
    const isFragment =
      mf === '1' || mf === 'True' || (off !== undefined && off !== '0') || layers.includes('ipv6.fraghdr');
    if (isFragment) frag.frames++;

    // Conversation: the first TCP/UDP layer not inside an ICMP error, with the nearest IP layer before it.
    const t = layers.findIndex((l) => l === 'tcp' || l === 'udp');
    if (t !== -1 && t > icmpAt) icmpQuotedTransport++;
    if (t !== -1 && t < icmpAt) {
      const transport = layers[t];
      let ipIdx = t - 1;
      while (ipIdx >= 0 && !ipAt[ipIdx]) ipIdx--;
      const occ = layers.slice(0, t).filter((l) => l === transport).length;
      const sport = split(c[F[`${transport}.srcport`]])[occ];
      const dport = split(c[F[`${transport}.dstport`]])[occ];
      if (ipIdx >= 0 && sport !== undefined && dport !== undefined && ipAt[ipIdx][0] && ipAt[ipIdx][1]) {
        const e1 = [ipAt[ipIdx][0], Number(sport)];
        const e2 = [ipAt[ipIdx][1], Number(dport)];
        const [a, b] = cmpEndpoint(e1, e2) <= 0 ? [e1, e2] : [e2, e1];
        const key = `${transport} ${fmtEndpoint(a)} ${fmtEndpoint(b)}`;
        let conv = convs.get(key);
        if (!conv) convs.set(key, (conv = { transport, a, b, packets: 0, bytes: 0 }));
        conv.packets++;
        conv.bytes += frameLen;
        framesInConversations++;
        if (isFragment) frag.inConversation++;
      }
    }

    // Modbus: every frame with an mbtcp/mbudp/modbus layer, even when tshark found no function code.
    if (layers.some((l) => l === 'mbtcp' || l === 'mbudp' || l === 'modbus')) {
      const fcs = split(c[F['modbus.func_code']]).map(Number);
      const excs = split(c[F['modbus.exception_code']]).map(Number);
      const tport = layers.includes('tcp') ? 'tcp' : 'udp';
      const dport = split(c[F[`${tport}.dstport`]])[0];
      const sport = split(c[F[`${tport}.srcport`]])[0];
      const isRequest = dport === '502' ? true : sport === '502' ? false : null;
      const dir = isRequest === true ? 'request' : isRequest === false ? 'response' : 'unknown';
      rows.push([frameNo, fcs, isRequest]);
      if (excs.length > 0) exceptionRows.push([frameNo, excs]);
      for (const fc of new Set(fcs)) countUp(framesPerFc[dir], fc);
      for (const fc of fcs) countUp(pdusPerFc[dir], fc);
      for (const e of excs) countUp(exceptionPdus, e);
      pdus += fcs.length;
    }
  }

  const conversations = [...convs.values()]
    .sort((x, y) => x.transport.localeCompare(y.transport) || cmpEndpoint(x.a, y.a) || cmpEndpoint(x.b, y.b))
    .map((cv) => ({
      transport: cv.transport,
      a: fmtEndpoint(cv.a),
      b: fmtEndpoint(cv.b),
      packets: cv.packets,
      bytes: cv.bytes,
    }));

  const rowsText = rows.map((r) => JSON.stringify(r) + '\n').join('');
  const modbus = {
    frames: rows.length,
    pdus,
    framesPerFc: Object.fromEntries(Object.entries(framesPerFc).map(([k, v]) => [k, sortNumericKeys(v)])),
    pdusPerFc: Object.fromEntries(Object.entries(pdusPerFc).map(([k, v]) => [k, sortNumericKeys(v)])),
    exceptionPdus: sortNumericKeys(exceptionPdus),
    rowsSha256: createHash('sha256').update(rowsText).digest('hex'),
    rows,
    exceptionRows,
  };

  const ref = {
    generator: 'scripts/gen-tshark-refs.mjs',
    tshark: tsharkVersion,
    tsharkPrefs: PREFS,
    pcapRoot: PCAP_ROOT_REL,
    file: rel,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    packets,
    ips: [...ips].sort(cmpAddr),
    macs: [...macs].sort(),
    fragments: frag,
    framesInConversations,
    icmpQuotedTransport,
    conversations,
    modbus,
    ics: icsCodes(abs, prefArgs),
  };
  let text = formatJson(ref) + '\n';
  if (text.length > MAX_REF_BYTES) {
    // Absent rather than null, so `rows !== undefined` tells a test whether it can compare per frame.
    delete modbus.rows;
    modbus.rowsOmitted = `more than ${MAX_REF_BYTES} bytes: compare rowsSha256`;
    if (modbus.exceptionRows.length > 500) delete modbus.exceptionRows;
    text = formatJson(ref) + '\n';
  }
  if (text.length > MAX_REF_BYTES) {
    for (const f of Object.values(ref.ics)) delete f.rows;
    text = formatJson(ref) + '\n';
  }
  if (text.length > MAX_REF_BYTES) throw new Error(`${rel}: reference is ${text.length} bytes even without rows`);
  crossCheck(rel, abs, prefArgs, conversations, packets);
  return text;
}

/**
 * Industrial protocol codes per frame, one entry per tshark field: every value the frame carries
 * (several PDUs in a frame give several values), as counts per code and, while small, per frame.
 */
const ICS_FIELDS = [
  'dnp3.al.func',
  'iec60870_asdu.typeid',
  'iec60870_104.utype',
  's7comm.param.func',
  's7comm.param.userdata.subfunc',
  'mms.confirmedServiceRequest',
  'mms.confirmedServiceResponse',
  'mms.unconfirmedService',
  'enip.command',
  'cip.sc',
  'bacapp.confirmed_service',
  'bacapp.unconfirmed_service',
  'opcua.servicenodeid.numeric',
  'opcua.transport.type',
  'mqtt.msgtype',
  'pn_dcp.service_id',
  'goose.stNum',
];
const MAX_ICS_ROWS = 4000;

function icsCodes(abs, prefArgs) {
  const out = runTshark([
    '-n',
    '-r',
    abs,
    ...prefArgs,
    '-T',
    'fields',
    '-E',
    'header=n',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    '-e',
    'frame.number',
    ...ICS_FIELDS.flatMap((f) => ['-e', f]),
  ]);
  const result = {};
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    const frame = Number(cols[0]);
    ICS_FIELDS.forEach((field, i) => {
      const values = split(cols[i + 1]);
      if (values.length === 0) return;
      const r = (result[field] ??= { frames: 0, values: 0, perCode: {}, rows: [] });
      r.frames++;
      r.values += values.length;
      for (const v of values) countUp(r.perCode, v);
      if (r.rows !== undefined) {
        if (r.rows.length < MAX_ICS_ROWS) r.rows.push([frame, values]);
        else delete r.rows;
      }
    });
  }
  return result;
}

/** Self-check: our per-field conversation table against tshark's own -z conv,tcp / conv,udp. */
function crossCheck(rel, abs, prefArgs, conversations, packets) {
  const out = runTshark(['-n', '-r', abs, ...prefArgs, '-q', '-z', 'conv,tcp', '-z', 'conv,udp']);
  const theirs = new Map();
  let transport = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('TCP Conversations')) transport = 'tcp';
    else if (line.startsWith('UDP Conversations')) transport = 'udp';
    const m = /^(\S+)\s+<->\s+(\S+)\s+.*?(\d+)\s+(\d+) (bytes|kB|MB|GB)\s+\d+\.\d+\s+\d+\.\d+\s*$/.exec(line);
    if (!m || !transport) continue;
    const ep = (s) => {
      const i = s.lastIndexOf(':');
      return [s.slice(0, i), Number(s.slice(i + 1))];
    };
    let a = ep(m[1]);
    let b = ep(m[2]);
    if (cmpEndpoint(a, b) > 0) [a, b] = [b, a];
    const key = `${transport} ${fmtEndpoint(a)} ${fmtEndpoint(b)}`;
    // tshark 4.0 splits a TCP pair per tcp.stream (port reuse); we key by endpoints, so add them up.
    const prev = theirs.get(key) ?? { packets: 0, bytes: 0, exact: true };
    prev.packets += Number(m[3]);
    if (m[5] === 'bytes') prev.bytes += Number(m[4]);
    else prev.exact = false;
    theirs.set(key, prev);
  }
  const problems = [];
  for (const cv of conversations) {
    const key = `${cv.transport} ${cv.a} ${cv.b}`;
    const t = theirs.get(key);
    if (!t) problems.push(`${key}: not in tshark's conv table`);
    else if (t.packets !== cv.packets || (t.exact && t.bytes !== cv.bytes))
      problems.push(`${key}: ours ${cv.packets} pkts/${cv.bytes} B, tshark ${t.packets} pkts/${t.bytes} B`);
    theirs.delete(key);
  }
  for (const key of theirs.keys()) problems.push(`${key}: only in tshark's conv table`);
  if (problems.length > 0) {
    throw new Error(
      `${rel}: conversation self-check failed (${packets} frames):\n  ${problems.slice(0, 20).join('\n  ')}`,
    );
  }
}

// ---------------------------------------------------------------- main
function walk(dir) {
  return readdirSync(join(pcapRoot, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function listCaptures() {
  const isCapture = (f) => /\.(pcap|pcapng|cap)$/i.test(f);
  if (all)
    return walk('.')
      .filter(isCapture)
      .map((f) => f.replace(/^\.\//, ''))
      .sort()
      .filter((rel) => only === null || rel.includes(only));
  const modbus = readdirSync(join(pcapRoot, 'modbus'))
    .filter(isCapture)
    .sort()
    .map((f) => `modbus/${f}`);
  return [...modbus, ...EXTRA].filter((rel) => only === null || rel.includes(only));
}
const refName = (rel) =>
  `${dirname(rel).replaceAll('/', '_')}__${basename(rel).replace(/\.(pcapng|pcap|cap)$/i, '')}.json`;

const captures = listCaptures();
if (!check) mkdirSync(outDir, { recursive: true });
let failed = 0;
let changed = 0;
const t0 = Date.now();
for (const rel of captures) {
  const abs = join(pcapRoot, rel);
  const name = refName(rel);
  const dest = join(outDir, name);
  if (!existsSync(abs)) {
    console.error(`  MISSING  ${rel} (not under ${pcapRoot})`);
    failed++;
    continue;
  }
  let text;
  try {
    text = buildReference(rel);
  } catch (err) {
    console.error(`  FAILED   ${rel}: ${err.message}`);
    failed++;
    continue;
  }
  const old = existsSync(dest) ? readFileSync(dest, 'utf8') : null;
  const status = old === null ? 'new' : old === text ? 'same' : 'changed';
  if (status !== 'same') changed++;
  const kb = (text.length / 1024).toFixed(1);
  console.log(`  ${status.padEnd(8)} ${relative(repoRoot, dest)}  (${kb} KiB, ${statSync(abs).size} B capture)`);
  if (!check && status !== 'same') writeFileSync(dest, text);
}

// Prune references whose capture is no longer in the list (not with --only: the list is partial then).
if (only === null && existsSync(outDir)) {
  const wanted = new Set(captures.map(refName));
  for (const f of readdirSync(outDir)) {
    if (!f.endsWith('.json') || wanted.has(f)) continue;
    console.log(`  ${check ? 'stale' : 'removed'}  ${relative(repoRoot, join(outDir, f))}`);
    changed++;
    if (!check) unlinkSync(join(outDir, f));
  }
}

const secs = ((Date.now() - t0) / 1000).toFixed(1);
console.log(
  `${captures.length} captures, ${changed} ${check ? 'differ' : 'written'}, ${failed} failed (${tsharkVersion}, ${secs} s)`,
);
process.exit(failed > 0 || (check && changed > 0) ? 1 : 0);
