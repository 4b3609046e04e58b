// Differential test: the MQTT analyzer against tshark on every capture in ../shared/pcaps/mqtt and
// ../shared/pcaps/mixed. tshark's per-packet types and CONNECT identity fields are checked in
// (testdata/tshark-reference.json); the captures are read here, each TCP connection reassembled and
// fed to an analyzer. PLANTGUARD_UPDATE_GOLDEN=1 regenerates the reference where tshark is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCaptureSources } from '../../capture/open.ts';
import { alignCodes, replayTcp, type CapturedFrame } from '../opcua/test-support.ts';
import { MQTT_PORT, TYPE, VERSION_NAMES } from './constants.ts';
import { MqttAnalyzer } from './index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, 'testdata', 'tshark-reference.json');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps');
const DIRS = ['mqtt', 'mixed'];

/** tshark's view of one frame: the packet types in order, and CONNECT identity fields. */
type Row = [frame: number, types: number[], fields?: Record<string, string>];

interface CaptureRef {
  readonly file: string;
  readonly sha256: string;
  readonly rows: Row[];
}

interface Reference {
  readonly tshark: string;
  readonly codes: string;
  readonly captures: CaptureRef[];
}

const CODES = 'per packet: mqtt.msgtype (the control packet type, 1..15)';

/** `file#frame` of packets only one side reports, with the reason; everything else must agree. */
const EXPLAINED: Readonly<Record<string, string>> = {};

// ---------------------------------------------------------------- reference generation (tshark)

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const PREFS = [
  'tcp.desegment_tcp_streams:TRUE',
  'tcp.reassemble_out_of_order:FALSE',
  'tcp.analyze_sequence_numbers:TRUE',
  'tcp.check_checksum:FALSE',
].flatMap((p) => ['-o', p]);

const FIELDS = ['frame.number', 'mqtt.msgtype', 'mqtt.clientid', 'mqtt.conflag.uname', 'mqtt.ver'] as const;

function generate(): Reference {
  const version = tshark(['--version']).split('\n')[0]!.trim();
  const captures: CaptureRef[] = [];
  for (const dir of DIRS) {
    for (const file of readdirSync(join(PCAPS, dir)).sort()) {
      const path = join(PCAPS, dir, file);
      const out = tshark([
        '-r',
        path,
        ...PREFS,
        '-Y',
        'mqtt',
        '-T',
        'fields',
        '-E',
        'separator=/t',
        '-E',
        'aggregator=|',
        ...FIELDS.flatMap((f) => ['-e', f]),
      ]);
      const rows: Row[] = [];
      for (const line of out.split('\n').filter(Boolean)) {
        const [frame, types, clientId, uname, ver] = line.split('\t');
        const codes = types!.split('|').map(Number);
        const fields: Record<string, string> = {};
        if (codes.includes(TYPE.connect)) {
          // tshark shows an empty client id as no field at all.
          if (clientId !== undefined && clientId !== '') fields.clientId = clientId.split('|')[0]!;
          if (uname !== undefined && uname !== '')
            fields.usernamePresent = uname.split('|')[0] === '1' ? 'true' : 'false';
          if (ver !== undefined && ver !== '') fields.protocolVersion = VERSION_NAMES[Number(ver.split('|')[0])] ?? ver;
        }
        rows.push(Object.keys(fields).length > 0 ? [Number(frame), codes, fields] : [Number(frame), codes]);
      }
      if (rows.length === 0) continue;
      const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
      captures.push({ file: `${dir}/${file}`, sha256, rows });
    }
  }
  return { tshark: version, codes: CODES, captures };
}

async function loadReference(): Promise<Reference | null> {
  const canGenerate = spawnSync('tshark', ['-v']).status === 0 && DIRS.every((d) => existsSync(join(PCAPS, d)));
  if (process.env.PLANTGUARD_UPDATE_GOLDEN === '1' && canGenerate) {
    const ref = generate();
    mkdirSync(dirname(REFERENCE), { recursive: true });
    // Written as prettier formats it, so `npm run format:check` stays clean after a regeneration.
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(REFERENCE)) ?? {};
    writeFileSync(REFERENCE, await prettier.format(JSON.stringify(ref), { ...options, parser: 'json' }));
    return ref;
  }
  return existsSync(REFERENCE) ? (JSON.parse(readFileSync(REFERENCE, 'utf8')) as Reference) : null;
}

// ---------------------------------------------------------------- the comparison

async function readFrames(path: string): Promise<CapturedFrame[]> {
  const frames: CapturedFrame[] = [];
  const [source] = await openCaptureSources([path]);
  for await (const batch of source!.batches()) {
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offset[i]!;
      frames.push({
        number: frames.length + 1,
        linkType: batch.linkType[i]!,
        data: batch.data.slice(off, off + batch.capLen[i]!),
        tsMicros: batch.tsMicros[i]!,
      });
    }
  }
  return frames;
}

const ref = await loadReference();
const skip =
  ref === null
    ? 'no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)'
    : DIRS.every((d) => existsSync(join(PCAPS, d)))
      ? false
      : `captures not found (${PCAPS}): the differential test needs ../shared/pcaps beside the checkout`;

test('packet types and CONNECT identity fields agree with tshark on the shared MQTT captures', { skip }, async (t) => {
  let compared = 0;
  let agreed = 0;
  let ours = 0;
  let fieldsCompared = 0;
  let fieldsAgreed = 0;
  const unexplained: string[] = [];
  const explainedSeen = new Set<string>();
  const seenTypes = new Set<number>();
  for (const cap of ref!.captures) {
    const path = join(PCAPS, cap.file);
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.equal(sha, cap.sha256, `${cap.file} changed: regenerate with PLANTGUARD_UPDATE_GOLDEN=1`);
    const conns = replayTcp(await readFrames(path), (ctx) => new MqttAnalyzer(ctx), new Set([MQTT_PORT]));
    const where = new Map<number, { conn: number; dir: 0 | 1 }>();
    conns.forEach((c, i) => c.frames.forEach((f, k) => where.set(f, { conn: i, dir: c.dirs[k]! })));
    const theirs = conns.map(() => [[], []] as [{ frame: number; code: number }[], { frame: number; code: number }[]]);
    const withRows = new Set<number>();
    for (const [frame, codes, fields] of cap.rows) {
      const w = where.get(frame);
      assert.ok(w !== undefined, `${cap.file}#${frame}: tshark decoded MQTT in a frame we did not replay`);
      withRows.add(w.conn);
      for (const code of codes) theirs[w.conn]![w.dir].push({ frame, code });
      if (fields === undefined) continue;
      const facts = conns[w.conn]!.events.flatMap((e) =>
        e.t === 'fact' && e.fact.kind === 'identity' ? [e.fact] : [],
      );
      for (const [name, value] of Object.entries(fields)) {
        fieldsCompared++;
        if (facts.some((f) => f.side === 0 && f.extra?.[name] === value)) fieldsAgreed++;
        else unexplained.push(`${cap.file}#${frame}: tshark ${name}=${value} is in no client identity fact`);
      }
    }
    conns.forEach((c, i) => {
      for (const dir of [0, 1] as const) {
        const a = theirs[i]![dir];
        const b = c.pdus.filter((p) => p.dir === dir);
        const al = alignCodes(
          a.map((x) => x.code),
          b.map((x) => x.code),
        );
        compared += a.length;
        agreed += al.agree;
        ours += b.length;
        for (const x of b) seenTypes.add(x.code);
        const misses = [
          ...al.onlyTheirs.map((k) => ({ at: `${cap.file}#${a[k]!.frame}`, what: `tshark ${a[k]!.code} not ours` })),
          ...al.onlyOurs.map((k) => ({ at: `${cap.file}#${b[k]!.frame}`, what: `our ${b[k]!.code} not tshark's` })),
        ];
        for (const m of misses) {
          if (EXPLAINED[m.at] !== undefined) explainedSeen.add(m.at);
          else unexplained.push(`${m.at} (${c.key}, dir ${dir}): ${m.what}`);
        }
      }
      // Other TCP connections in these captures (e.g. OMRON FINS in the mixed capture) are not MQTT.
      if (!withRows.has(i)) {
        const kinds = c.events.map((e) => e.t);
        assert.ok(!kinds.includes('op') && !kinds.includes('confirm'), `${cap.file} ${c.key}: called MQTT`);
      }
    });
  }
  t.diagnostic(
    `packets: tshark ${compared}, ours ${ours}, agreeing ${agreed} (${((100 * agreed) / compared).toFixed(2)}%); ` +
      `identity fields ${fieldsAgreed}/${fieldsCompared}`,
  );
  assert.deepEqual(unexplained, []);
  assert.deepEqual(
    Object.keys(EXPLAINED).filter((k) => !explainedSeen.has(k)),
    [],
    'explained differences that no longer occur',
  );
  assert.ok(agreed / compared >= 0.999, `agreement ${agreed}/${compared}`);
  assert.ok(compared >= 100, `packets compared: ${compared}`);
  assert.ok(fieldsCompared >= 20, `identity fields compared: ${fieldsCompared}`);
  for (const type of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14])
    assert.ok(seenTypes.has(type), `packet type ${type} covered`);
});
