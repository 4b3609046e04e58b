// End-to-end tests of `plantguard analyze`: the real entry point (bin/plantguard.mjs) in a child
// process, checking exit codes, the one-line messages on stderr and what lands on stdout, in files
// and in the SQLite store. Inputs are the demo capture, bytes generated here into a temp dir, and
// (when ../shared/pcaps is present) a few real captures.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { epb, idb, pcapFile, pcapRecord, shb, concat, type PcapRecord } from '../src/capture/test-helpers.ts';
import type { AnalysisDocument } from '../src/model/types.ts';
import { NO_SHARED, REPO, sharedPcap } from './helpers/shared.ts';

const BIN = join(REPO, 'bin', 'plantguard.mjs');
const DEMO = join(REPO, 'demo', 'plant-demo.pcap.gz');
const SCHEMA = join(REPO, 'docs', 'schema', 'analysis.schema.json');
const DEMO_PACKETS = 20000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `plantguard <args>` (CI unset, so only the TTY check keeps the progress bar off). */
function plantguard(args: readonly string[], input?: Uint8Array, extraEnv: Record<string, string> = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  delete env.CI;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    // The CLI may exit before reading all of stdin (e.g. a usage error): ignore EPIPE on our side.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? new Uint8Array(0));
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function analyze(...args: string[]): Promise<Run> {
  return plantguard(['analyze', ...args]);
}

/** A CLI error: exactly one line `plantguard: <message>`, no trace, nothing on stdout. */
function assertOneLineError(r: Run, code: number, ...parts: string[]): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  assert.match(r.stderr, /^plantguard: [^\n]+\n$/, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.doesNotMatch(r.stderr, /\bat .+:\d+:\d+|internal error|Error:/, 'no stack trace or internal error');
  for (const p of parts)
    assert.ok(r.stderr.includes(p), `stderr ${JSON.stringify(r.stderr)} should include ${JSON.stringify(p)}`);
}

function json(r: Run): AnalysisDocument {
  return JSON.parse(r.stdout) as AnalysisDocument;
}

function warnings(r: Run): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
}

/** Classic little-endian microsecond pcap records (the demo capture's format). */
function pcapRecords(b: Uint8Array): PcapRecord[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(v.getUint32(0, true), 0xa1b2c3d4, 'a little-endian microsecond pcap');
  const out: PcapRecord[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const incl = v.getUint32(off + 8, true);
    out.push({
      sec: v.getUint32(off, true),
      frac: v.getUint32(off + 4, true),
      origLen: v.getUint32(off + 12, true),
      data: b.subarray(off + 16, off + 16 + incl),
    });
    off += 16 + incl;
  }
  return out;
}

/** Communications keyed by id, for comparing two runs regardless of order. */
function commsById(d: AnalysisDocument): Map<string, unknown> {
  return new Map(d.communications.map((c) => [c.id, c]));
}

let tmp = '';
let demoGz: Uint8Array;
let demoPcap: Uint8Array;
let demoRecords: PcapRecord[];
const file = (name: string): string => join(tmp, name);

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'plantguard-cli-'));
  demoGz = readFileSync(DEMO);
  demoPcap = gunzipSync(demoGz);
  demoRecords = pcapRecords(demoPcap);
  assert.equal(demoRecords.length, DEMO_PACKETS);
});

after(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('command line', { concurrency: true }, () => {
  test('analyze --help prints the usage and exits 0', async () => {
    const r = await analyze('--help');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Usage: plantguard analyze <capture\|directory\|->\.\.\. \[options\]/);
    for (const o of ['--format table|json', '--out FILE', '--db FILE', '--quiet', 'Exit codes:'])
      assert.ok(r.stdout.includes(o), o);
    const short = await analyze('-h');
    assert.equal(short.code, 0);
    assert.equal(short.stdout, r.stdout);
    const viaHelp = await plantguard(['help', 'analyze']);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.stdout, r.stdout);
  });

  test('plantguard with no command prints the general help and exits 0', async () => {
    const r = await plantguard([]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: plantguard <command> \[options\]/);
    assert.ok(r.stdout.includes('analyze <capture|dir|->...'));
  });

  test('analyze with no input is a usage error (2)', async () => {
    assertOneLineError(
      await analyze(),
      2,
      'analyze: name at least one capture file, directory or -',
      'plantguard analyze --help',
    );
    // Options alone are not an input either.
    assertOneLineError(await analyze('--format', 'json'), 2, 'name at least one capture file');
  });

  test('an unknown option is a usage error (2)', async () => {
    assertOneLineError(await analyze('--bogus', DEMO), 2, 'analyze: unknown option --bogus');
    assertOneLineError(await analyze('-x', DEMO), 2, 'analyze: unknown option -x');
    assertOneLineError(await analyze(DEMO, '--quiet=yes'), 2, 'analyze: --quiet takes no value');
    assertOneLineError(await analyze(DEMO, '--out'), 2, 'analyze: --out needs a value');
  });

  test('a bad --format value is a usage error (2) naming the choices and the value', async () => {
    assertOneLineError(
      await analyze('--format', 'xml', DEMO),
      2,
      'analyze: --format must be one of table, json (got "xml")',
    );
    assertOneLineError(await analyze('--format=yaml', DEMO), 2, '(got "yaml")');
    assertOneLineError(await analyze('--max-flows', 'lots', DEMO), 2, '--max-flows must be an integer');
  });

  test('an unknown command is a usage error (2)', async () => {
    assertOneLineError(
      await plantguard(['analyse', DEMO]),
      2,
      'unknown command "analyse"',
      'commands: analyze, help, version',
    );
  });
});

describe('inputs that cannot be read (3)', { concurrency: true }, () => {
  test('a missing file: exit 3 and the message names the path', async () => {
    const missing = file('no-such-dir/missing.pcap');
    assertOneLineError(await analyze(missing), 3, `${missing}: no such file or directory`);
    // Also when it comes after a good input: inputs are checked before any reading.
    assertOneLineError(await analyze(DEMO, missing, '--format', 'json'), 3, missing);
  });

  test('a text file is not a capture: exit 3 with a clear message', async () => {
    const txt = file('notes.txt');
    writeFileSync(txt, 'hello, this is not a capture\n');
    assertOneLineError(await analyze(txt), 3, `${txt}: not a capture file (first bytes 68 65 6c 6c)`, 'pcap, pcapng');
  });

  test('an empty file, empty gzip and empty standard input: exit 3', async () => {
    const empty = file('empty.pcap');
    writeFileSync(empty, '');
    assertOneLineError(await analyze(empty), 3, `${empty}: the file is empty (0 bytes)`);
    const emptyGz = file('empty.pcap.gz');
    writeFileSync(emptyGz, gzipSync(new Uint8Array(0)));
    assertOneLineError(await analyze(emptyGz), 3, `${emptyGz}: the gzip file holds no data`);
    assertOneLineError(await plantguard(['analyze', '-'], new Uint8Array(0)), 3, '-: the input is empty (0 bytes)');
    assertOneLineError(
      await plantguard(['analyze', '-'], Buffer.from('hi\n')),
      3,
      '-: not a capture file (only 3 bytes)',
    );
  });

  test(
    'a gzip stream that decompresses to nothing is unreadable (3) from standard input as from a file',
    {},
    async () => {
      const head = demoGz.subarray(0, 30);
      const f = file('gzip-head.pcap.gz');
      writeFileSync(f, head);
      assertOneLineError(await analyze(f), 3, `${f}: gzip data is corrupt`);
      const r = await plantguard(['analyze', '-', '--format', 'json'], head);
      assertOneLineError(r, 3, '-: ', 'gzip');
    },
  );

  test('standard input named twice: exit 3', async () => {
    assertOneLineError(await analyze('-', '-'), 3, "'-' (standard input) is given more than once");
  });
});

describe('damaged inputs (4): output still written', { concurrency: true }, () => {
  test('the demo capture cut inside a record: exit 4, output written, warning counts packets', async () => {
    const cut = file('demo-cut.pcap');
    const bytes = demoPcap.subarray(0, 1_000_000);
    writeFileSync(cut, bytes);
    // Where the cut falls: after the last complete record.
    let complete = 0;
    for (let off = 24; off + 16 <= bytes.length; complete++) {
      const next = off + 16 + new DataView(bytes.buffer, bytes.byteOffset + off + 8, 4).getUint32(0, true);
      if (next > bytes.length) break;
      off = next;
    }
    assert.ok(complete > 1000 && complete < DEMO_PACKETS);

    const r = await analyze(cut, '--format', 'json');
    assert.equal(r.code, 4, r.stderr);
    const d = json(r);
    assert.equal(d.capture.packets, complete);
    assert.equal(d.capture.truncated, true);
    assert.deepEqual(
      d.capture.issues.map((i) => i.code),
      ['capture.truncated'],
    );
    assert.ok(d.assets.length > 0 && d.communications.length > 0, 'the packets before the cut are analysed');
    assert.equal(d.anomalies['capture.truncated'], 1);
    const w = warnings(r);
    assert.equal(w.length, 1, r.stderr);
    assert.ok(w[0]!.includes(`${cut}: the data ends inside a record`), w[0]);
    assert.ok(w[0]!.includes(`${complete} packets were read before it`), w[0]);

    // The table says it too, and --quiet silences stderr but not the exit code.
    const t = await analyze(cut, '--quiet');
    assert.equal(t.code, 4);
    assert.equal(t.stderr, '');
    assert.ok(t.stdout.includes('capture.truncated'), 'the table lists the anomaly');
    assert.ok(
      t.stdout.includes(`${complete.toLocaleString('en-US')} packets`),
      'the table header counts the packets read',
    );
  });

  test('a synthetic pcap cut in the middle of a record, from standard input: exit 4', async () => {
    const whole = pcapFile(demoRecords.slice(0, 30));
    const cutAt = whole.length - Math.floor(demoRecords[29]!.data.length / 2);
    const r = await plantguard(['analyze', '-', '--format', 'json'], whole.subarray(0, cutAt));
    assert.equal(r.code, 4, r.stderr);
    const d = json(r);
    assert.equal(d.capture.packets, 29);
    assert.deepEqual(d.capture.files, ['-']);
    assert.equal(d.capture.truncated, true);
    assert.ok(
      warnings(r).some(
        (w) =>
          w.startsWith('warning: -: the data ends inside a record') && w.endsWith('29 packets were read before it'),
      ),
      r.stderr,
    );
  });

  test('a gzip capture cut short: exit 4 and the packets before the cut are kept', async () => {
    const cut = file('demo-cut.pcap.gz');
    writeFileSync(cut, demoGz.subarray(0, Math.floor(demoGz.length / 2)));
    const r = await analyze(cut, '--format', 'json');
    assert.equal(r.code, 4, r.stderr);
    const d = json(r);
    assert.ok(d.capture.packets > 1000 && d.capture.packets < DEMO_PACKETS, String(d.capture.packets));
    assert.equal(d.capture.issues[0]?.code, 'capture.bad_gzip');
    const w = warnings(r);
    assert.equal(w.length, 1, r.stderr);
    assert.ok(w[0]!.includes(`${cut}: the gzip data is corrupt or cut short`), w[0]);
    assert.ok(w[0]!.includes(`${d.capture.packets} packets were read before it`), w[0]);
  });

  test('an absurd record length (incl_len 0x7fffffff): exit 4, packets before it kept', async () => {
    const good = demoRecords.slice(0, 12);
    const bad = pcapRecord({
      sec: good[11]!.sec + 1,
      frac: 0,
      data: new Uint8Array(64),
      capLenField: 0x7fffffff,
      origLen: 64,
    });
    const after = demoRecords.slice(12, 20).map((r) => pcapRecord(r));
    const bytes = concat(pcapFile(good), bad, ...after);
    const badOffset = pcapFile(good).length;
    const f = file('absurd.pcap');
    writeFileSync(f, bytes);
    const r = await analyze(f, '--format', 'json');
    assert.equal(r.code, 4, r.stderr);
    const d = json(r);
    assert.equal(d.capture.packets, 12);
    assert.equal(d.capture.truncated, true);
    assert.equal(d.capture.issues.length, 1);
    assert.equal(d.capture.issues[0]!.code, 'capture.bad_record_length');
    const w = warnings(r);
    assert.equal(w.length, 1, r.stderr);
    assert.ok(w[0]!.includes(`${f}: record length ${0x7fffffff} is beyond the limit`), w[0]);
    assert.ok(w[0]!.includes(`at offset ${badOffset}`), w[0]);
    assert.ok(w[0]!.includes('stopped reading this file after 12 packets'), w[0]);
    // The same 12 packets alone give the same model.
    const ref = await plantguard(['analyze', '-', '--format', 'json'], pcapFile(good));
    assert.equal(ref.code, 0, ref.stderr);
    assert.deepEqual(commsById(d), commsById(json(ref)));
  });

  for (const [linkType, name] of [
    [105, 'IEEE 802.11'],
    [195, 'IEEE 802.15.4 with FCS'],
  ] as const) {
    test(`a pcap with unsupported link type ${linkType}: exit 4 and the warning names it`, async () => {
      const f = file(`link-${linkType}.pcap`);
      const recs = demoRecords.slice(0, 7).map((r) => ({ ...r, data: r.data.subarray(0, 40) }));
      writeFileSync(f, pcapFile(recs, { linkType }));
      const r = await analyze(f, '--format', 'json');
      assert.equal(r.code, 4, r.stderr);
      const d = json(r);
      assert.equal(d.capture.packets, 7);
      assert.deepEqual(d.capture.linkTypes, [{ value: linkType, name, packets: 7, supported: false }]);
      assert.equal(d.assets.length, 0);
      assert.equal(d.communications.length, 0);
      assert.deepEqual(warnings(r), [
        `warning: 7 packets with unsupported link type ${linkType} (${name}) were skipped`,
      ]);
      const t = await analyze(f);
      assert.equal(t.code, 4);
      assert.ok(t.stdout.includes(name), 'the table names the link type');
    });
  }

  test('a pcapng with an Ethernet and an unsupported interface still decodes the Ethernet packets', async () => {
    const eth = demoRecords.slice(0, 60);
    const units = (r: PcapRecord): bigint => BigInt(r.sec) * 1_000_000n + BigInt(r.frac);
    const blocks: Uint8Array[] = [shb(true), idb(true, { linkType: 1 }), idb(true, { linkType: 195 })];
    eth.forEach((r, i) => {
      blocks.push(epb(true, { iface: 0, units: units(r), data: r.data }));
      if (i % 10 === 0)
        blocks.push(epb(true, { iface: 1, units: units(r) + 1n, data: Uint8Array.from({ length: 23 }, (_, k) => k) }));
    });
    const f = file('two-interfaces.pcapng');
    writeFileSync(f, concat(...blocks));
    const r = await analyze(f, '--format', 'json');
    assert.equal(r.code, 4, r.stderr);
    const d = json(r);
    assert.equal(d.capture.packets, 66);
    assert.deepEqual(d.capture.linkTypes, [
      { value: 1, name: 'Ethernet', packets: 60, supported: true },
      { value: 195, name: 'IEEE 802.15.4 with FCS', packets: 6, supported: false },
    ]);
    assert.deepEqual(warnings(r), [
      'warning: 6 packets with unsupported link type 195 (IEEE 802.15.4 with FCS) were skipped',
    ]);
    // The Ethernet packets give the same assets and communications as a plain pcap of them.
    const ref = await plantguard(['analyze', '-', '--format', 'json'], pcapFile(eth));
    assert.equal(ref.code, 0, ref.stderr);
    const want = json(ref);
    assert.ok(want.communications.length > 0);
    assert.deepEqual(
      d.assets.map((a) => [a.id, a.packets]),
      want.assets.map((a) => [a.id, a.packets]),
    );
    assert.deepEqual(commsById(d), commsById(want));
  });
});

describe('the demo capture', () => {
  let demo: AnalysisDocument;

  test('--format json validates against the published schema', async () => {
    const r = await analyze(DEMO, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'a clean capture gives no warnings');
    demo = json(r);
    const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as {
      required: string[];
      $defs: Record<string, { required?: string[] }>;
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    assert.ok(validate(demo), ajv.errorsText(validate.errors, { separator: '\n' }));

    // The names the schema requires are there (also checked by hand, in case the schema is loosened).
    for (const k of schema.required) assert.ok(k in demo, k);
    const capture = (schema as unknown as { properties: { capture: { required: string[] } } }).properties.capture;
    for (const k of capture.required) assert.ok(k in demo.capture, `capture.${k}`);
    for (const a of demo.assets)
      for (const k of schema.$defs.asset!.required!) assert.ok(k in a, `asset ${a.id}: ${k}`);
    for (const c of demo.communications)
      for (const k of schema.$defs.communication!.required!) assert.ok(k in c, `communication ${c.id}: ${k}`);

    assert.equal(demo.capture.packets, DEMO_PACKETS);
    assert.deepEqual(demo.capture.files, [DEMO]);
    assert.equal(demo.capture.truncated, false);
    assert.deepEqual(demo.capture.issues, []);
    assert.deepEqual(demo.capture.linkTypes, [{ value: 1, name: 'Ethernet', packets: DEMO_PACKETS, supported: true }]);
    assert.equal(demo.generator.name, 'plantguard');
  });

  test('every communication refers to assets or groups of the document; counts are consistent', () => {
    assert.ok(demo !== undefined, 'needs the previous test');
    assert.ok(demo.assets.length > 10, 'the demo plant has many devices');
    assert.ok(demo.communications.length > 10);
    const assetIds = new Set(demo.assets.map((a) => a.id));
    const groupIds = new Set(demo.groups.map((g) => g.id));
    assert.equal(assetIds.size, demo.assets.length, 'asset ids are unique');
    assert.equal(
      new Set(demo.communications.map((c) => c.id)).size,
      demo.communications.length,
      'communication ids are unique',
    );
    const protocols = new Set<string>();
    for (const c of demo.communications) {
      assert.ok(assetIds.has(c.client), `${c.id}: client ${c.client} is an asset`);
      assert.ok(assetIds.has(c.server) || groupIds.has(c.server), `${c.id}: server ${c.server} is an asset or a group`);
      if (c.server.startsWith('group:')) assert.ok(groupIds.has(c.server), c.server);
      assert.equal(c.packets, c.packetsToServer + c.packetsToClient, `${c.id}: packets by direction`);
      assert.equal(c.bytes, c.bytesToServer + c.bytesToClient, `${c.id}: bytes by direction`);
      assert.ok(c.firstSeen <= c.lastSeen, c.id);
      for (const [key, op] of Object.entries(c.operations)) {
        // CIP is the application layer EtherNet/IP carries: its services are `cip.*` on `enip` flows.
        const family = c.protocol === 'enip' ? ['enip', 'cip'] : [c.protocol];
        assert.ok(
          family.some((f) => key.startsWith(`${f}.`)),
          `${c.id}: operation ${key} belongs to ${c.protocol}`,
        );
        assert.ok(op.count >= op.responses, `${c.id} ${key}: count ${op.count} >= responses ${op.responses}`);
        assert.ok(
          op.responses >= op.exceptions,
          `${c.id} ${key}: responses ${op.responses} >= exceptions ${op.exceptions}`,
        );
      }
      protocols.add(c.protocol);
    }
    for (const p of ['modbus', 'dnp3', 's7comm', 'enip', 'iec104', 'bacnet', 'dns'])
      assert.ok(protocols.has(p), `the demo has ${p}`);
    const commPackets = demo.protocols.reduce((n, p) => n + p.packets, 0);
    assert.ok(commPackets <= DEMO_PACKETS, 'protocol packets do not exceed the capture');
  });

  test('standard input, plain and gzip, gives the same model as the file', async () => {
    assert.ok(demo !== undefined, 'needs the first test');
    const [plain, gz] = await Promise.all([
      plantguard(['analyze', '-', '--format', 'json'], demoPcap),
      plantguard(['analyze', '--format', 'json', '-'], demoGz),
    ]);
    for (const r of [plain, gz]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const d = json(r);
      assert.deepEqual(d.capture.files, ['-']);
      assert.equal(d.capture.packets, DEMO_PACKETS);
      assert.deepEqual(d.assets, demo.assets);
      assert.deepEqual(d.communications, demo.communications);
      assert.deepEqual(d.groups, demo.groups);
      assert.deepEqual(d.protocols, demo.protocols);
    }
  });

  test('--out FILE writes the file and nothing to stdout', async () => {
    assert.ok(demo !== undefined, 'needs the first test');
    const out = file('demo.json');
    const r = await analyze(DEMO, '--format', 'json', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const d = JSON.parse(readFileSync(out, 'utf8')) as AnalysisDocument;
    assert.deepEqual(d.communications, demo.communications);
    assert.equal(d.capture.packets, DEMO_PACKETS);

    const table = file('demo.txt');
    const t = await analyze(DEMO, `--out=${table}`);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, '');
    assert.match(readFileSync(table, 'utf8'), /^PlantGuard analysis — 1 input, 20,000 packets/);
  });

  test('--out to a path that cannot be written: exit 5', async () => {
    const bad = file('no-such-dir/out.json');
    assertOneLineError(await analyze(DEMO, '--format', 'json', '--out', bad), 5, `Cannot write ${bad}`);
  });
});

describe('several inputs', { concurrency: true }, () => {
  // 400 demo packets dealt into two files alternately, so the merge must interleave them by time.
  const N = 400;
  let whole: AnalysisDocument;

  before(async () => {
    const recs = demoRecords.slice(0, N);
    mkdirSync(file('dir/sub'), { recursive: true });
    writeFileSync(file('whole.pcap'), pcapFile(recs));
    writeFileSync(file('dir/a.pcap'), pcapFile(recs.filter((_, i) => i % 2 === 0)));
    // One gzip, in a subdirectory: directories are read recursively.
    writeFileSync(file('dir/sub/b.pcap.gz'), gzipSync(pcapFile(recs.filter((_, i) => i % 2 === 1))));
    writeFileSync(file('dir/README.md'), '# captures from line 3\n');
    const r = await analyze(file('whole.pcap'), '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    whole = json(r);
    assert.equal(whole.capture.packets, N);
  });

  test('several files are merged in timestamp order', async () => {
    for (const order of [
      [file('dir/a.pcap'), file('dir/sub/b.pcap.gz')],
      [file('dir/sub/b.pcap.gz'), file('dir/a.pcap')],
    ]) {
      const r = await analyze(...order, '--format', 'json');
      assert.equal(r.code, 0, r.stderr);
      const d = json(r);
      assert.deepEqual(d.capture.files, order);
      assert.equal(d.capture.packets, N);
      assert.equal(d.capture.bytes, whole.capture.bytes);
      assert.equal(d.capture.start, whole.capture.start);
      assert.equal(d.capture.end, whole.capture.end);
      assert.deepEqual(d.assets, whole.assets);
      assert.deepEqual(d.communications, whole.communications);
      assert.deepEqual(d.anomalies, whole.anomalies, 'no TCP gaps or reordering from a bad merge');
    }
  });

  test('a directory: captures merged, the README skipped with a warning', async () => {
    const dir = file('dir');
    const r = await analyze(dir, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const d = json(r);
    assert.deepEqual(d.capture.files, [file('dir/a.pcap'), file('dir/sub/b.pcap.gz')]);
    assert.equal(d.capture.packets, N);
    assert.deepEqual(d.communications, whole.communications);
    const w = warnings(r);
    assert.equal(w.length, 1, r.stderr);
    assert.ok(w[0]!.startsWith(`warning: ${file('dir/README.md')}: not a capture file`), w[0]);
    assert.ok(w[0]!.endsWith('(skipped)'), w[0]);
    // --quiet: no warning.
    const q = await analyze(dir, '--format', 'json', '-q');
    assert.equal(q.code, 0);
    assert.equal(q.stderr, '');
  });

  test('a directory with no captures warns, and gives an empty analysis', async () => {
    const dir = file('only-text');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'nothing here\n');
    const r = await analyze(dir, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).capture.packets, 0);
    assert.ok(warnings(r).includes(`warning: ${dir}: no capture files in this directory`), r.stderr);
  });
});

describe('the store (--db)', () => {
  test('two runs on the same capture: same assets, packets doubled, schema at version 2', async () => {
    const db = file('plant.db');
    const first = await analyze(DEMO, '--db', db, '--format', 'json');
    assert.equal(first.code, 0, first.stderr);
    const doc = json(first);
    const assets = doc.assets.length;
    const comms = doc.communications.length;
    assert.equal(first.stderr, `stored in ${db}: ${assets} assets, ${comms} communications (1 analysis stored)\n`);
    const rows = (): { assets: number; comms: number; assetPackets: number; commPackets: number; captures: number } => {
      const s = new DatabaseSync(db, { readOnly: true });
      try {
        const one = (sql: string): number => Number((s.prepare(sql).get() as { n: number | bigint }).n);
        return {
          assets: one('SELECT COUNT(*) AS n FROM assets'),
          comms: one('SELECT COUNT(*) AS n FROM communications'),
          assetPackets: one('SELECT SUM(packets) AS n FROM assets'),
          commPackets: one('SELECT SUM(packets) AS n FROM communications'),
          captures: one('SELECT COUNT(*) AS n FROM captures'),
        };
      } finally {
        s.close();
      }
    };
    const r1 = rows();
    assert.deepEqual(r1, {
      assets,
      comms,
      assetPackets: doc.assets.reduce((n, a) => n + a.packets, 0),
      commPackets: doc.communications.reduce((n, c) => n + c.packets, 0),
      captures: 1,
    });

    const second = await analyze(DEMO, '--db', db, '--out', file('second.txt'));
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, '');
    assert.equal(second.stderr, `stored in ${db}: ${assets} assets, ${comms} communications (2 analyses stored)\n`);
    const r2 = rows();
    assert.deepEqual(r2, {
      assets,
      comms,
      assetPackets: 2 * r1.assetPackets,
      commPackets: 2 * r1.commPackets,
      captures: 2,
    });

    const s = new DatabaseSync(db, { readOnly: true });
    try {
      const versions = s.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
        version: number | bigint;
      }[];
      assert.deepEqual(
        versions.map((v) => Number(v.version)),
        [1, 2],
      );
    } finally {
      s.close();
    }
  });

  test('--db on a file that is not SQLite: exit 5 before any analysis, file untouched', async () => {
    const notDb = file('notes.db');
    const text = 'this is a text file, not a database\n'.repeat(8);
    writeFileSync(notDb, text);
    assertOneLineError(await analyze(DEMO, '--db', notDb), 5, `Cannot open database ${notDb}`, 'not a database');
    assert.equal(readFileSync(notDb, 'utf8'), text);
  });

  test('--db in a directory that does not exist: exit 5', async () => {
    const db = file('no-such-dir/plant.db');
    assertOneLineError(await analyze(DEMO, '--db', db), 5, `Cannot open database ${db}`);
    assert.equal(existsSync(db), false);
  });
});

describe('progress', () => {
  test('stderr is not a terminal: no progress bar control characters, even on a long run', async () => {
    // 16 copies of the demo (320,000 packets) run past the bar's 500 ms threshold: on a terminal
    // this run draws the bar.
    const r = await analyze(...Array.from({ length: 16 }, () => DEMO), '--out', file('progress.txt'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const cut = file('progress-cut.pcap.gz');
    writeFileSync(cut, demoGz.subarray(0, Math.floor(demoGz.length * 0.75)));
    const t = await analyze(cut, '--format', 'json', '--out', file('progress.json'));
    assert.ok(t.stderr.length > 0, 'warnings are still printed');
    for (const s of [r.stderr, t.stderr]) {
      assert.doesNotMatch(s, /[\r\x1b]/, 'no carriage return or escape sequence');
      assert.doesNotMatch(s, /packets\/s|MB\/s/, 'no progress line');
    }
  });
});

describe('real captures', { skip: NO_SHARED }, () => {
  test('modbus/zeek-modbus-and-non-modbus-on-502.pcap: only the real Modbus is called modbus', async () => {
    const r = await analyze(sharedPcap('modbus/zeek-modbus-and-non-modbus-on-502.pcap'), '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const d = json(r);
    const on502 = d.communications.filter((c) => c.transport === 'tcp' && c.port === 502);
    const modbus = on502.filter((c) => c.protocol === 'modbus');
    const other = on502.filter((c) => c.protocol !== 'modbus');
    assert.equal(modbus.length, 1, JSON.stringify(on502.map((c) => [c.id, c.protocol])));
    assert.equal(modbus[0]!.confirmed, true);
    assert.ok(Object.keys(modbus[0]!.operations).includes('modbus.read_holding_registers'));
    assert.ok(other.length >= 1, 'non-Modbus conversations on 502');
    for (const c of other) {
      assert.equal(c.protocol, 'unknown', `${c.id} on 502 is not Modbus`);
      assert.equal(c.confirmed, false, c.id);
      assert.deepEqual(c.operations, {}, c.id);
    }
    // Nor does the table guess modbus from the port ("modbus?").
    const t = await analyze(sharedPcap('modbus/zeek-modbus-and-non-modbus-on-502.pcap'));
    assert.equal(t.code, 0);
    assert.doesNotMatch(t.stdout, /modbus\?/, 'no port-guessed modbus');
  });

  test('mixed/mergecap-multi-protocol-per-packet-linktype.pcapng: 802.15.4 reported, exit 4', async () => {
    const r = await analyze(sharedPcap('mixed/mergecap-multi-protocol-per-packet-linktype.pcapng'), '--format', 'json');
    assert.equal(r.code, 4, r.stderr);
    const d = json(r);
    const lt = d.capture.linkTypes.find((l) => l.value === 195);
    assert.ok(lt !== undefined && !lt.supported && lt.packets > 0, JSON.stringify(d.capture.linkTypes));
    assert.equal(lt.name, 'IEEE 802.15.4 with FCS');
    assert.ok(
      d.capture.linkTypes.some((l) => l.value === 1 && l.supported && l.packets > 0),
      'the Ethernet packets are decoded',
    );
    assert.ok(d.assets.length > 0);
    assert.deepEqual(warnings(r), [
      `warning: ${lt.packets} packets with unsupported link type 195 (IEEE 802.15.4 with FCS) were skipped`,
    ]);
  });
});

test('the compiled build (dist/) and the TypeScript sources give the same analysis', async (t) => {
  const built = await plantguard(['analyze', DEMO, '--format', 'json'], undefined, { PLANTGUARD_SHOW_ENTRY: '1' });
  if (!existsSync(join(REPO, 'dist', '.stamp')) || !built.stderr.includes('entry: dist')) {
    t.skip('no fresh dist/ build (npm run build makes it; scripts/test.sh does)');
    return;
  }
  const source = await plantguard(['analyze', DEMO, '--format', 'json'], undefined, {
    PLANTGUARD_FROM_SOURCE: '1',
    PLANTGUARD_SHOW_ENTRY: '1',
  });
  assert.match(source.stderr, /entry: src/);
  assert.equal(built.code, 0);
  assert.equal(source.code, 0);
  const strip = (r: Run): unknown => {
    const d = json(r);
    d.stats.durationMs = 0;
    return d;
  };
  assert.deepEqual(strip(built), strip(source));
});

test('on a terminal the progress line shows with --out, and not when standard output is redirected', (t) => {
  // `script` (util-linux) gives the command a pseudo-terminal, as a person at a terminal has.
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('script(1) from util-linux is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'plantguard-tty-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = join(dir, 'progress.pcap');
  const demo = gunzipSync(readFileSync(DEMO));
  const records = demo.subarray(24);
  const parts = [demo.subarray(0, 24)];
  // 640,000 packets: a few progress reports (one each 100 ms) even on a fast machine.
  for (let i = 0; i < 32; i++) parts.push(records);
  writeFileSync(big, Buffer.concat(parts));
  const run = (cmd: string): string => {
    const log = join(dir, `tty-${Math.random().toString(36).slice(2)}.log`);
    // Show the line from the first batch, so a fast machine still draws it.
    const env: NodeJS.ProcessEnv = { ...process.env, PLANTGUARD_PROGRESS_AFTER_MS: '0' };
    delete env.CI;
    spawnSync('script', ['-qec', cmd, log], { cwd: REPO, env, encoding: 'utf8' });
    return readFileSync(log, 'utf8');
  };
  const node = JSON.stringify(process.execPath);
  const withOut = run(`${node} ${JSON.stringify(BIN)} analyze ${JSON.stringify(big)} --format json --out /dev/null`);
  assert.match(withOut, /packets\/s/);
  const redirected = run(`${node} ${JSON.stringify(BIN)} analyze ${JSON.stringify(big)} --format json > /dev/null`);
  assert.doesNotMatch(redirected, /packets\/s/);
});

test('--operations lists the site operations, program/control/write first, as a table and as JSON', async () => {
  const table = await plantguard(['analyze', DEMO, '--operations']);
  assert.equal(table.code, 0);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^OPERATIONS \(\d+\) — by access class/);
  assert.match(lines[1]!, /^ACCESS\s+OPERATION\s+CODE\s+COUNT/);
  assert.match(lines[2]!, /^(program|control|write)\s+[a-z0-9]+\./);
  assert.match(table.stdout, /holding_register \d+–\d+/);
  const j = await plantguard(['analyze', DEMO, '--operations', '--format', 'json']);
  assert.equal(j.code, 0);
  const doc = JSON.parse(j.stdout) as { operations: { access: string; count: number; operation: string }[] };
  const order = ['program', 'control', 'write', 'file', 'diagnostic', 'discovery', 'read', 'other'];
  const ranks = doc.operations.map((o) => order.indexOf(o.access));
  assert.deepEqual(
    ranks,
    [...ranks].sort((a, b) => a - b),
  );
  const full = json(await analyze(DEMO, '--format', 'json'));
  const total = full.communications.reduce((n, c) => n + Object.keys(c.operations).length, 0);
  assert.equal(doc.operations.length, total);
});
