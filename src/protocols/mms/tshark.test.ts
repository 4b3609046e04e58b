// Differential test: the MMS service codes we trace (tshark's mms.confirmedServiceRequest,
// mms.confirmedServiceResponse, mms.unconfirmedService) and the Identify fields, against tshark's,
// frame by frame, on every MMS capture of ../shared/pcaps/iec61850. The tshark side is checked in
// (testdata/tshark-reference.json; PLANTGUARD_UPDATE_GOLDEN=1 regenerates it where tshark is
// installed); the payloads are read from the captures themselves, so the test needs the pcaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRACE_OFFSET } from './constants.ts';
import { compareFrames, decodeFrames, tracedFrames } from '../iso/test-support.ts';
import { existsSync } from 'node:fs';
import { loadIsoReference, replayIsoCapture, type IsoReferenceSpec } from '../../../test/helpers/iso-reference.ts';

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

/** Disagreements that are tshark's, by capture and frame. */
const EXPLAINED: Readonly<Record<string, string>> = {};

const REFERENCE_SPEC: IsoReferenceSpec = {
  reference: REFERENCE,
  pcaps: PCAPS,
  captures: () => CAPTURES,
  display: 'mms',
  preferences: [PRES_CONTEXT],
  codeFields: ['mms.confirmedServiceRequest', 'mms.confirmedServiceResponse', 'mms.unconfirmedService'],
  // Our trace codes: request service tag, response + 0x100, unconfirmed + 0x200.
  codes: ([req, rsp, unc]) => [
    ...(req ? req.split('|').map((v) => TRACE_OFFSET.confirmedRequest + Number(v)) : []),
    ...(rsp ? rsp.split('|').map((v) => TRACE_OFFSET.confirmedResponse + Number(v)) : []),
    ...(unc ? unc.split('|').map((v) => TRACE_OFFSET.unconfirmed + Number(v)) : []),
  ],
  identityFields: IDENTITY_FIELDS,
};

test('MMS service codes and Identify responses agree with tshark on every MMS capture', async (t) => {
  if (!existsSync(PCAPS)) {
    t.skip(`no captures at ${PCAPS}`);
    return;
  }
  const ref = loadIsoReference(REFERENCE_SPEC);
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
    const r = await replayIsoCapture(join(PCAPS, file));
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
