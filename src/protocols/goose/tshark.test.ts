// Differential test: our GOOSE decoding (header, every goosePdu field, the allData elements by type)
// and the analyzer's per-PDU codes against tshark on every capture of ../shared/pcaps/iec61850 that
// carries GOOSE. References are checked in (testdata/, one file per capture), so this runs where
// tshark is absent; PLANTGUARD_UPDATE_GOLDEN=1 regenerates them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GooseDataType } from './constants.ts';
import { countGooseElements, decodeGooseFrame, walkGooseData, type GooseFrame } from './decode.ts';
import { GOOSE_PDU_CODE, GooseAnalyzer } from './index.ts';
import { Ctx } from './test-support.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTDATA = join(HERE, 'testdata');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'iec61850');
const ETHERTYPES = [0x88b8, 0x88b9];
/** Frames kept per capture, so that each reference stays under 300 KB (sample-goose has 451). */
const MAX_FRAMES = 400;
const FIELDS = [
  'goose.appid',
  'goose.length',
  'goose.reserve1',
  'goose.reserve2',
  'goose.gocbRef',
  'goose.timeAllowedtoLive',
  'goose.datSet',
  'goose.goID',
  'goose.t',
  'goose.stNum',
  'goose.sqNum',
  'goose.simulation',
  'goose.confRev',
  'goose.ndsCom',
  'goose.numDatSetEntries',
  'goose.boolean',
  'goose.bit_string',
  'goose.integer',
  'goose.unsigned',
  'goose.structure',
  'goose.array',
  'goose.utc_time',
  'goose.float_value',
] as const;

interface Row {
  /** frame number */
  readonly n: number;
  /** source MAC > destination MAC */
  readonly l2: string;
  /** Payload after the ethertype (VLAN tags removed), base64. */
  readonly payload: string;
  /** tshark's values of FIELDS, tab-separated in that order (compact: no field names per row). */
  readonly values: string;
}

/** tshark's non-empty fields of a row, by name. */
function tsharkOf(row: Row): Record<string, string> {
  const values = row.values.split('\t');
  const out: Record<string, string> = {};
  FIELDS.forEach((f, i) => {
    if (values[i]) out[f] = values[i];
  });
  return out;
}

const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);

/** GOOSE frames of one capture as tshark sees them (two passes: raw bytes, then fields). */
function tsharkFrames(file: string): Row[] {
  const display = ETHERTYPES.map((e) => `eth.type == 0x${e.toString(16)} || vlan.etype == 0x${e.toString(16)}`).join(
    ' || ',
  );
  const raw = spawnSync('tshark', ['-r', join(PCAPS, file), '-Y', display, '-T', 'json', '-x', '-J', 'frame'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  assert.equal(raw.status, 0, raw.stderr);
  const bytes = new Map<string, string>();
  for (const p of JSON.parse(raw.stdout) as Array<{ _source: { layers: Record<string, unknown> } }>) {
    const layers = p._source.layers;
    bytes.set((layers.frame as Record<string, string>)['frame.number']!, (layers.frame_raw as [string])[0]);
  }
  const r = spawnSync(
    'tshark',
    [
      ...['-r', join(PCAPS, file), '-Y', display, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|'],
      ...['-e', 'frame.number', ...FIELDS.flatMap((f) => ['-e', f])],
    ],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const rows: Row[] = [];
  for (const line of r.stdout.split('\n').filter(Boolean).slice(0, MAX_FRAMES)) {
    const [frame, ...values] = line.split('\t');
    const whole = bytes.get(frame!);
    if (whole === undefined) continue;
    const b = Buffer.from(whole, 'hex');
    let off = 12;
    while (VLAN_TPIDS.has(b.readUInt16BE(off)) && off + 6 <= b.length) off += 4;
    rows.push({
      n: Number(frame),
      l2: `${mac(b, 6)}>${mac(b, 0)}`,
      payload: b.subarray(off + 2).toString('base64'),
      values: values.join('\t').replace(/\t+$/, ''),
    });
  }
  return rows;
}

function mac(b: Uint8Array, off: number): string {
  return Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function referenceFile(capture: string): string {
  return join(TESTDATA, `tshark-${capture.replace(/\.pcap(ng)?$/, '')}.json`);
}

/** Captures of the directory with at least one GOOSE frame, and their rows. */
function loadReferences(): Map<string, Row[]> | null {
  const update = process.env.PLANTGUARD_UPDATE_GOLDEN === '1';
  const canGenerate = spawnSync('tshark', ['-v']).status === 0 && existsSync(PCAPS);
  const out = new Map<string, Row[]>();
  if (update && canGenerate) {
    mkdirSync(TESTDATA, { recursive: true });
    for (const file of readdirSync(PCAPS)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .sort()) {
      const rows = tsharkFrames(file);
      if (rows.length === 0) continue;
      writeFileSync(referenceFile(file), `${JSON.stringify(rows, null, 2)}\n`); // prettier-stable
      out.set(file, rows);
    }
    return out;
  }
  if (!existsSync(TESTDATA)) return null;
  for (const f of readdirSync(TESTDATA)
    .filter((x) => x.startsWith('tshark-') && x.endsWith('.json'))
    .sort()) {
    out.set(f, JSON.parse(readFileSync(join(TESTDATA, f), 'utf8')) as Row[]);
  }
  return out.size > 0 ? out : null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** tshark's text for a UtcTime: `Jul 24, 2008 14:25:05.140625000 UTC` (fraction to nanoseconds, truncated). */
function utcText(seconds: number, fraction: number): string {
  const d = new Date(seconds * 1000);
  const nanos = Math.floor((fraction * 1e9) / 0x1000000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}, ${d.getUTCFullYear()} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(nanos).padStart(9, '0')} UTC`
  );
}

/** Our fields under tshark's names, for one frame. */
function ours(f: GooseFrame): Record<string, string> {
  const h = f.header;
  const o: Record<string, string | number> = {
    'goose.appid': `0x${h.appid.toString(16).padStart(4, '0')}`,
    'goose.length': h.length,
    'goose.reserve1': `0x${h.reserved1.toString(16).padStart(4, '0')}`,
    'goose.reserve2': `0x${h.reserved2.toString(16).padStart(4, '0')}`,
  };
  if (f.kind !== 'goose') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
  const p = f.pdu;
  Object.assign(o, {
    'goose.gocbRef': p.gocbRef,
    'goose.timeAllowedtoLive': p.timeAllowedToLive,
    'goose.datSet': p.datSet,
    'goose.t': utcText(p.t.seconds, p.t.fraction),
    'goose.stNum': p.stNum,
    'goose.sqNum': p.sqNum,
    'goose.simulation': p.simulation ? 1 : 0,
    'goose.confRev': p.confRev,
    'goose.ndsCom': p.ndsCom ? 1 : 0,
    'goose.numDatSetEntries': p.numDatSetEntries,
  });
  if (p.goID !== undefined) o['goose.goID'] = p.goID;
  // Every element of allData, in document order, with the test accessor walkGooseData.
  const lists: Record<string, string[]> = {};
  const add = (k: string, v: string): void => {
    (lists[k] ??= []).push(v);
  };
  // tshark's field and text for each Data type it lists; other types are not compared.
  const texts: Partial<Record<GooseDataType, readonly [string, (c: Uint8Array) => string | undefined]>> = {
    boolean: ['goose.boolean', (c) => (c[0] !== 0 ? '1' : '0')],
    bit_string: ['goose.bit_string', (c) => Buffer.from(c.subarray(1)).toString('hex')],
    integer: ['goose.integer', (c) => String(berSigned(c))],
    unsigned: ['goose.unsigned', (c) => String(berSigned(c))],
    structure: ['goose.structure', (c) => String(countGooseElements(c))],
    array: ['goose.array', (c) => String(countGooseElements(c))],
    utc_time: [
      'goose.utc_time',
      (c) => (c.length === 8 ? utcText(readU32(c, 0), (c[4]! << 16) | (c[5]! << 8) | c[6]!) : undefined),
    ],
    // Exponent width 8 and an IEEE 754 single; tshark prints the shortest digits, as String does.
    floating_point: [
      'goose.float_value',
      (c) =>
        c.length === 5 && c[0] === 8 ? String(new DataView(c.buffer, c.byteOffset + 1, 4).getFloat32(0)) : undefined,
    ],
  };
  const w = walkGooseData(p.allData, (type, _tag, c) => {
    const t = texts[type];
    const v = t?.[1](c);
    if (t !== undefined && v !== undefined) add(t[0], v);
  });
  assert.equal(w.error, '');
  for (const [k, v] of Object.entries(lists)) o[k] = v.join('|');
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}

function berSigned(c: Uint8Array): number {
  let v = c[0]! >= 0x80 ? c[0]! - 256 : c[0]!;
  for (let i = 1; i < c.length; i++) v = v * 256 + c[i]!;
  return v;
}

function readU32(c: Uint8Array, off: number): number {
  return ((c[off]! << 24) | (c[off + 1]! << 16) | (c[off + 2]! << 8) | c[off + 3]!) >>> 0;
}

/** Disagreements with tshark that are tshark's, by capture and frame; none so far. */
const EXPLAINED: Readonly<Record<string, string>> = {};

test('GOOSE fields and PDU codes agree with tshark on real captures', (t) => {
  const refs = loadReferences();
  if (refs === null) {
    t.skip(
      existsSync(PCAPS)
        ? 'no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)'
        : `no captures at ${PCAPS} and no checked-in reference`,
    );
    return;
  }
  let pdus = 0;
  let agreeing = 0;
  let fields = 0;
  const gocbRefs = new Set<string>();
  const disagreements: string[] = [];
  for (const [capture, rows] of refs) {
    const analyzers = new Map<string, { a: GooseAnalyzer; ctx: Ctx }>();
    for (const row of rows) {
      const at = `${capture}#${row.n}`;
      const bytes = new Uint8Array(Buffer.from(row.payload, 'base64'));
      pdus++;
      const problems: string[] = [];
      const tshark = tsharkOf(row);
      const d = decodeGooseFrame(bytes);
      if (d.kind !== 'ok') problems.push(`not decoded: ${JSON.stringify(d)}`);
      else {
        const mine = ours(d.value);
        for (const [field, theirs] of Object.entries(tshark)) {
          const v = mine[field];
          if (v !== theirs) problems.push(`${field}: tshark ${theirs}, ours ${v}`);
          else fields++;
        }
        for (const field of Object.keys(mine)) {
          if (!(field in tshark)) problems.push(`${field}: ours ${mine[field]}, tshark absent`);
        }
      }
      // The analyzer, one per (source, destination): one PDU code per goosePdu, and its decoded
      // record (the test accessor `last`) carries the frame's appid, stNum and sqNum.
      const key = row.l2;
      let s = analyzers.get(key);
      if (s === undefined) {
        const ctx = new Ctx();
        s = { a: new GooseAnalyzer(ctx), ctx };
        analyzers.set(key, s);
      }
      const before = s.ctx.events.length;
      s.a.data(0, bytes, row.n);
      const codes = s.ctx.events.slice(before).flatMap((e) => (e.t === 'pdu' ? [e.code] : []));
      if (tshark['goose.gocbRef'] !== undefined) {
        if (codes.length !== 1 || codes[0] !== GOOSE_PDU_CODE) problems.push(`pdu codes ${codes.join(',')}`);
        const d = s.a.decoder;
        const rec = d.kind === 'goose' ? `0x${d.appid.toString(16).padStart(4, '0')} ${d.stNum} ${d.sqNum}` : '';
        const want = `${tshark['goose.appid']} ${tshark['goose.stNum']} ${tshark['goose.sqNum']}`;
        if (rec !== want) problems.push(`analyzer record ${rec} != ${want}`);
        gocbRefs.add(tshark['goose.gocbRef']);
      }
      if (problems.length === 0) agreeing++;
      else if (EXPLAINED[at] === undefined) disagreements.push(`${at}: ${problems.join('; ')}`);
    }
  }
  t.diagnostic(
    `${pdus} GOOSE frames in ${refs.size} captures, ${agreeing} agree (${((100 * agreeing) / pdus).toFixed(2)}%), ` +
      `${fields} fields, ${gocbRefs.size} gocbRefs`,
  );
  assert.deepEqual(disagreements.slice(0, 20), []);
  assert.ok(agreeing / pdus >= 0.999);
  assert.ok(pdus >= 580, `frames: ${pdus}`);
  assert.ok(gocbRefs.size >= 26, `gocbRefs: ${gocbRefs.size}`);
});
