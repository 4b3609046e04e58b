// Differential test: the MMS service codes we trace (tshark's mms.confirmedServiceRequest,
// mms.confirmedServiceResponse, mms.unconfirmedService) and the Identify fields, against tshark's,
// frame by frame, on every MMS capture of ../shared/pcaps/iec61850. The tshark side is checked in
// (testdata/tshark-reference.json; PLANTGUARD_UPDATE_GOLDEN=1 regenerates it where tshark is
// installed); the payloads are read from the captures themselves, so the test needs the pcaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCaptureSources } from '../../capture/open.ts';
import { TRACE_OFFSET } from './constants.ts';
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
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'iec61850');
/** The captures of the directory that carry MMS (the others are GOOSE and Sampled Values only). */
const CAPTURES = [
  'abb-substation-mms-1.pcapng',
  'ge-multilin-ur-goose-and-mms.pcapng',
  'mms-get-name-list.pcap',
  'mms-identify-getnamelist.pcap',
  'mms-read.pcap',
  'mms-session-1.pcap',
  'mms-write.pcap',
  'sample-mms-and-goose.pcap',
];
/**
 * tshark decodes MMS only where it saw the presentation connect that names its abstract syntax;
 * this preference names context 3 MMS for associations caught mid-stream, as their peers use.
 */
const PRES_CONTEXT = 'uat:pres_context_list:"3","1.0.9506.2.1"';
const IDENTITY_FIELDS = ['mms.vendorName', 'mms.modelName', 'mms.revision'] as const;

interface CaptureReference {
  readonly frames: string;
  readonly identity: Array<{ frame: number; fields: Record<string, string> }>;
}

interface Reference {
  readonly tshark: string;
  readonly captures: Record<string, CaptureReference>;
}

/** Disagreements that are tshark's, by capture and frame. */
const EXPLAINED: Readonly<Record<string, string>> = {};

function generate(): Reference {
  const version = spawnSync('tshark', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'tshark';
  const captures: Record<string, CaptureReference> = {};
  for (const file of CAPTURES) {
    const r = spawnSync(
      'tshark',
      [
        '-o',
        PRES_CONTEXT,
        '-r',
        join(PCAPS, file),
        '-Y',
        'mms',
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
        'mms.confirmedServiceRequest',
        '-e',
        'mms.confirmedServiceResponse',
        '-e',
        'mms.unconfirmedService',
        ...IDENTITY_FIELDS.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', maxBuffer: 256 << 20 },
    );
    assert.equal(r.status, 0, r.stderr);
    const frames = new Map<number, FrameCodes>();
    const identity: CaptureReference['identity'] = [];
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [frame, sport, req, rsp, unc, ...ident] = line.split('\t');
      // Our trace codes: request service tag, response + 0x100, unconfirmed + 0x200.
      const codes = [
        ...(req ? req.split('|').map((v) => TRACE_OFFSET.confirmedRequest + Number(v)) : []),
        ...(rsp ? rsp.split('|').map((v) => TRACE_OFFSET.confirmedResponse + Number(v)) : []),
        ...(unc ? unc.split('|').map((v) => TRACE_OFFSET.unconfirmed + Number(v)) : []),
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

test('MMS service codes and Identify responses agree with tshark on every MMS capture', async (t) => {
  if (!existsSync(PCAPS)) {
    t.skip(`no captures at ${PCAPS}`);
    return;
  }
  const ref = loadReference();
  if (ref === null) {
    t.skip('no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)');
    return;
  }
  assert.deepEqual(Object.keys(ref.captures).sort(), [...CAPTURES].sort());
  let compared = 0;
  let agreeing = 0;
  let identities = 0;
  const unexplained: string[] = [];
  for (const [file, cref] of Object.entries(ref.captures)) {
    const r = await replay(join(PCAPS, file));
    const mmsFlows = new Set(r.flows.filter((f) => f.ctx.protocol === 'mms').map((f) => f.id));
    const a = compareFrames(
      decodeFrames(cref.frames),
      tracedFrames(r.traces, (flow) => mmsFlows.has(flow)),
    );
    compared += a.compared;
    agreeing += a.agreeing;
    for (const d of a.disagreements) {
      if (EXPLAINED[`${file}#${d.frame}`] === undefined)
        unexplained.push(`${file}#${d.frame} tshark ${d.tshark} ours ${d.ours}`);
    }
    for (const { frame, fields } of cref.identity) {
      const facts = r.facts.filter((f) => f.frame === frame).map((f) => f.fact);
      const fact = facts.find((f) => f.kind === 'identity');
      assert.ok(fact !== undefined && fact.kind === 'identity', `${file}#${frame} identity`);
      assert.equal(fact.vendor, fields['mms.vendorName']?.trim(), `${file}#${frame} vendor`);
      assert.equal(fact.model, fields['mms.modelName']?.trim(), `${file}#${frame} model`);
      assert.equal(fact.firmware, fields['mms.revision']?.trim(), `${file}#${frame} revision`);
      identities++;
    }
    t.diagnostic(`${file}: ${a.agreeing}/${a.compared} PDUs agree`);
  }
  t.diagnostic(`total: ${agreeing}/${compared} PDUs agree; ${identities} Identify responses compared`);
  assert.deepEqual(unexplained, [], 'every disagreement is explained');
  assert.ok(compared >= 1_900, `PDUs compared: ${compared}`);
  assert.ok(agreeing / compared >= 0.999, `agreement ${agreeing}/${compared}`);
  assert.ok(identities >= 7, `Identify responses compared: ${identities}`);
});
