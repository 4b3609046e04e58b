// Differential test: the S7comm PDU codes we trace (tshark's s7comm.param.func for job/ack/ack_data,
// s7comm.param.userdata.subfunc for userdata) and the SZL identity fields, against tshark's, frame
// by frame, on every capture of ../shared/pcaps/s7comm. The tshark side is checked in
// (testdata/tshark-reference.json; PLANTGUARD_UPDATE_GOLDEN=1 regenerates it where tshark is
// installed); the payloads are read from the captures themselves, so the test needs the pcaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetFact } from '../_core/types.ts';
import { USERDATA_TRACE_OFFSET } from './constants.ts';
import { compareFrames, decodeFrames, tracedFrames } from '../iso/test-support.ts';
import { loadIsoReference, replayIsoCapture, type IsoReferenceSpec } from '../../../test/helpers/iso-reference.ts';

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

/**
 * Disagreements that are tshark's, by capture and frame. None so far: every frame agrees (see the
 * documentation for what is compared).
 */
const EXPLAINED: Readonly<Record<string, string>> = {};

const REFERENCE_SPEC: IsoReferenceSpec = {
  reference: REFERENCE,
  pcaps: PCAPS,
  captures: () => readdirSync(PCAPS).sort(),
  display: 's7comm',
  codeFields: ['s7comm.param.func', 's7comm.param.userdata.subfunc'],
  // Our trace codes: the function as is, a userdata subfunction + 0x100.
  codes: ([func, subfunc]) => [
    ...(func ? func.split('|').map((v) => parseInt(v, 16)) : []),
    ...(subfunc ? subfunc.split('|').map((v) => USERDATA_TRACE_OFFSET + Number(v)) : []),
  ],
  identityFields: IDENTITY_FIELDS,
};

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
  const ref = loadIsoReference(REFERENCE_SPEC);
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
    const r = await replayIsoCapture(join(PCAPS, file));
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
  const icsnpp = await replayIsoCapture(join(PCAPS, 'icsnpp-s7comm-plus.pcap'));
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

  const tia = await replayIsoCapture(join(PCAPS, 's7-1200-upload-ob1-tiav12-s7commplus.pcap'));
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
