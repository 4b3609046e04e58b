// Differential test: the S7comm PDU codes we trace (tshark's s7comm.param.func for job/ack/ack_data,
// s7comm.param.userdata.subfunc for userdata) and the SZL identity fields, against tshark's, frame
// by frame, on every capture of ../shared/pcaps/s7comm. The tshark side is checked in
// (testdata/tshark-reference.json; PLANTGUARD_UPDATE_GOLDEN=1 regenerates it where tshark is
// installed); the payloads are read from the captures themselves, so the test needs the pcaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCaptureSources } from '../../capture/open.ts';
import type { AssetFact } from '../_core/types.ts';
import { USERDATA_TRACE_OFFSET } from './constants.ts';
import {
  CaptureReplay,
  SKIP_HOLES,
  compareFrames,
  decodeFrames,
  encodeFrames,
  tracedFrames,
  type FrameCodes,
} from '../iso/test-support.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, 'testdata', 'tshark-reference.json');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 's7comm');

const IDENTITY_FIELDS = [
  's7comm.szl.xy11.0001.index',
  's7comm.szl.xy11.0001.anz',
  's7comm.szl.xy11.0001.ausbg',
  's7comm.szl.xy11.0001.ausbe',
  's7comm.szl.001c.0001.name',
  's7comm.szl.001c.0002.name',
  's7comm.szl.001c.0005.serialn',
  's7comm.szl.001c.0007.cputypname',
] as const;

interface CaptureReference {
  /** Frames with S7comm codes (see encodeFrames). */
  readonly frames: string;
  /** Frames with SZL identity fields: field name → values joined by '|'. */
  readonly identity: Array<{ frame: number; fields: Record<string, string> }>;
}

interface Reference {
  readonly tshark: string;
  readonly captures: Record<string, CaptureReference>;
}

/**
 * Disagreements that are tshark's, by capture and frame. None so far: every frame agrees (see the
 * documentation for what is compared).
 */
const EXPLAINED: Readonly<Record<string, string>> = {};

function generate(): Reference {
  const version = spawnSync('tshark', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'tshark';
  const captures: Record<string, CaptureReference> = {};
  for (const file of readdirSync(PCAPS).sort()) {
    const r = spawnSync(
      'tshark',
      [
        '-r',
        join(PCAPS, file),
        '-Y',
        's7comm',
        '-T',
        'fields',
        '-E',
        'separator=/t',
        '-E',
        'aggregator=|',
        '-e',
        'frame.number',
        '-e',
        'tcp.srcport',
        '-e',
        's7comm.param.func',
        '-e',
        's7comm.param.userdata.subfunc',
        ...IDENTITY_FIELDS.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', maxBuffer: 256 << 20 },
    );
    assert.equal(r.status, 0, r.stderr);
    const frames = new Map<number, FrameCodes>();
    const identity: CaptureReference['identity'] = [];
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [frame, sport, func, subfunc, ...ident] = line.split('\t');
      // Our trace codes: the function as is, a userdata subfunction + 0x100.
      const codes = [
        ...(func ? func.split('|').map((v) => parseInt(v, 16)) : []),
        ...(subfunc ? subfunc.split('|').map((v) => USERDATA_TRACE_OFFSET + Number(v)) : []),
      ];
      const n = Number(frame);
      if (codes.length > 0) frames.set(n, { dir: sport === '102' ? 1 : 0, codes });
      const fields: Record<string, string> = {};
      IDENTITY_FIELDS.forEach((f, i) => {
        if (ident[i]) fields[f] = ident[i];
      });
      if (Object.keys(fields).length > 0) identity.push({ frame: n, fields });
    }
    captures[file] = { frames: encodeFrames(frames), identity };
  }
  return { tshark: version, captures };
}

function loadReference(): Reference | null {
  const canGenerate = spawnSync('tshark', ['-v']).status === 0 && existsSync(PCAPS);
  if (process.env.PLANTGUARD_UPDATE_GOLDEN === '1' && canGenerate) {
    const ref = generate();
    mkdirSync(dirname(REFERENCE), { recursive: true });
    writeFileSync(REFERENCE, `${JSON.stringify(ref, null, 2)}\n`);
    return ref;
  }
  return existsSync(REFERENCE) ? (JSON.parse(readFileSync(REFERENCE, 'utf8')) as Reference) : null;
}

async function replay(file: string): Promise<CaptureReplay> {
  const [source] = await openCaptureSources([file]);
  const r = new CaptureReplay(SKIP_HOLES);
  for await (const b of source!.batches()) {
    for (let i = 0; i < b.count; i++) r.packet(b.data, b.offset[i]!, b.capLen[i]!, b.linkType[i]!, b.tsMicros[i]!);
  }
  r.finish();
  return r;
}

/** The identity tshark shows in one frame, in our fact's terms. */
function expectedIdentity(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const list = (f: string): string[] => (fields[f] ?? '').split('|');
  const index = list('s7comm.szl.xy11.0001.index');
  const anz = list('s7comm.szl.xy11.0001.anz');
  const ausbg = list('s7comm.szl.xy11.0001.ausbg').map(Number);
  const ausbe = list('s7comm.szl.xy11.0001.ausbe').map(Number);
  index.forEach((ix, i) => {
    if (ix === '0x0001' && anz[i]?.trim()) out.productCode = anz[i].trim();
    if (ix === '0x0007' && ausbg[i]! >> 8 === 0x56) {
      out.firmware = `V${ausbg[i]! & 0xff}.${ausbe[i]! >> 8}.${ausbe[i]! & 0xff}`;
    }
  });
  const one = (f: string, k: string): void => {
    const v = fields[f]?.trim();
    if (v) out[k] = v;
  };
  one('s7comm.szl.001c.0001.name', 'systemName');
  one('s7comm.szl.001c.0002.name', 'moduleName');
  one('s7comm.szl.001c.0005.serialn', 'serial');
  one('s7comm.szl.001c.0007.cputypname', 'model');
  return out;
}

function ourIdentity(facts: readonly AssetFact[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of facts) {
    if (f.kind !== 'identity') continue;
    for (const k of ['productCode', 'firmware', 'serial', 'model'] as const) if (f[k] !== undefined) out[k] = f[k];
    if (f.extra?.systemName !== undefined) out.systemName = f.extra.systemName;
    if (f.extra?.moduleName !== undefined) out.moduleName = f.extra.moduleName;
  }
  return out;
}

test('S7comm PDU codes and SZL identity agree with tshark on every s7comm capture', async (t) => {
  if (!existsSync(PCAPS)) {
    t.skip(`no captures at ${PCAPS}`);
    return;
  }
  const ref = loadReference();
  if (ref === null) {
    t.skip('no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)');
    return;
  }
  assert.deepEqual(Object.keys(ref.captures).sort(), readdirSync(PCAPS).sort(), 'the reference covers every capture');
  let compared = 0;
  let agreeing = 0;
  let identities = 0;
  const unexplained: string[] = [];
  for (const [file, cref] of Object.entries(ref.captures)) {
    const r = await replay(join(PCAPS, file));
    const s7flows = new Set(r.flows.filter((f) => f.ctx.protocol === 's7comm').map((f) => f.id));
    const a = compareFrames(
      decodeFrames(cref.frames),
      tracedFrames(r.traces, (flow) => s7flows.has(flow)),
    );
    compared += a.compared;
    agreeing += a.agreeing;
    for (const d of a.disagreements) {
      if (EXPLAINED[`${file}#${d.frame}`] === undefined)
        unexplained.push(`${file}#${d.frame} tshark ${d.tshark} ours ${d.ours}`);
    }
    for (const { frame, fields } of cref.identity) {
      const expected = expectedIdentity(fields);
      if (Object.keys(expected).length === 0) continue;
      const got = ourIdentity(r.facts.filter((f) => f.frame === frame).map((f) => f.fact));
      for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, `${file}#${frame} ${k}`);
      identities++;
    }
    t.diagnostic(`${file}: ${a.agreeing}/${a.compared} PDUs agree`);
  }
  t.diagnostic(`total: ${agreeing}/${compared} PDUs agree; ${identities} identity responses compared`);
  assert.deepEqual(unexplained, [], 'every disagreement is explained');
  assert.ok(compared >= 20_000, `PDUs compared: ${compared}`);
  assert.ok(agreeing / compared >= 0.999, `agreement ${agreeing}/${compared}`);
  assert.ok(identities >= 5, `identity responses compared: ${identities}`);
});

test('S7comm-plus flows (no tshark 4.0 dissector) are recognised, paired and named', async (t) => {
  if (!existsSync(PCAPS)) {
    t.skip(`no captures at ${PCAPS}`);
    return;
  }
  const icsnpp = await replay(join(PCAPS, 'icsnpp-s7comm-plus.pcap'));
  const plus = icsnpp.flows.filter((f) => f.ctx.protocol === 's7comm_plus');
  assert.equal(plus.length, 1);
  const names = (ops: ReturnType<(typeof plus)[0]['ctx']['ops']>): Record<string, number> => {
    const m: Record<string, number> = {};
    for (const o of ops) m[o.name] = (m[o.name] ?? 0) + 1;
    return m;
  };
  // Counts hand-checked against the ICSNPP baseline (tests/baseline/analyzer.s7comm_plus/s7comm_plus.log
  // lists 26 SetVariable, 6 GetMultiVariables, 2 SetMultiVariables requests) and the capture.
  const ops = plus[0]!.ctx.ops();
  assert.deepEqual(names(ops), {
    's7comm_plus.notification': 79,
    's7comm_plus.set_variable': 26,
    's7comm_plus.get_multi_variables': 6,
    's7comm_plus.set_multi_variables': 2,
  });
  assert.ok(ops.filter((o) => o.name === 's7comm_plus.get_multi_variables').every((o) => o.responded));
  assert.deepEqual(plus[0]!.ctx.anomalies(), []);
  assert.equal(plus[0]!.ctx.confirmed, true);

  const tia = await replay(join(PCAPS, 's7-1200-upload-ob1-tiav12-s7commplus.pcap'));
  assert.equal(tia.flows.length, 1);
  const flow = tia.flows[0]!;
  assert.equal(flow.ctx.protocol, 's7comm_plus');
  assert.deepEqual(flow.ctx.anomalies(), []);
  assert.equal(flow.ctx.ops().length, 43);
  assert.ok(flow.ctx.ops().every((o) => o.responded));
  assert.deepEqual(tia.facts[0]?.fact, {
    kind: 'identity',
    side: 1,
    protocol: 's7comm_plus',
    vendor: 'Siemens',
    productCode: '6ES7 214-1HE30-0XB0',
    firmware: 'V2.2',
  });
});
