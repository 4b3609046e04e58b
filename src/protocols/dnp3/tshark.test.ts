// Differential test: the DNP3 analyzer against tshark on every shared capture. The payloads of TCP
// and UDP port 20000 and tshark's application-layer fields per frame are checked in (testdata/), so
// this runs where tshark is absent; PLANTGUARD_UPDATE_GOLDEN=1 regenerates them when tshark and
// ../shared/pcaps (beside the checkout) are present. The analyzer runs on the reassembled
// per-direction streams; per frame we compare the application function codes (dnp3.al.func, one per
// fragment at the frame completing it) and, per fragment, sequence number, IIN and object headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dnp3Analyzer } from './index.ts';
import { decodeDnp3Apdu, decodeDnp3Link } from './decode.ts';
import { fromHex, replay, type PacketRow } from './test-support.ts';
import { loadStreamReferences, type StreamReference } from '../../../test/helpers/tshark-frames.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTDATA = join(HERE, 'testdata');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'dnp3');

/** tshark fields kept per frame (several values joined with ','). */
const FIELDS = ['dnp3.al.func', 'dnp3.al.seq', 'dnp3.al.iin', 'dnp3.al.obj'] as const;

type Reference = StreamReference;

function loadReferences(): Reference[] | null {
  return loadStreamReferences({
    testdata: TESTDATA,
    pcaps: PCAPS,
    port: '20000',
    fields: FIELDS,
    transports: ['tcp', 'udp'],
  });
}

/**
 * Frames where tshark is wrong, with the reason; they are counted apart and listed in the docs.
 * Keyed by `capture#frame`.
 */
const WRAP =
  'the transport sequence wraps from 63 to 0 inside this fragment; tshark 4.0 (fragment_add_seq_single) ' +
  'does not find the first segment across the wrap and reports no application layer';
const STALE =
  'tshark joins this single-segment fragment (FIR, FIN, transport sequence 0) to the unfinished ' +
  'reassembly left by the wrapped fragment before it and dissects the wrong bytes as function 0; ' +
  'the frame carries a 129 response';
const TSHARK_ERRORS: Readonly<Record<string, string>> = {
  'icsnpp-dnp3-example.pcap#18': WRAP,
  'icsnpp-dnp3-example.pcap#114': WRAP,
  'icsnpp-dnp3-example.pcap#210': WRAP,
  'icsnpp-dnp3-example.pcap#311': STALE,
  'icsnpp-dnp3-example.pcap#810': WRAP,
  'malcolm-dnp3.pcap#155': WRAP,
  'malcolm-dnp3.pcap#283': WRAP,
  'malcolm-dnp3.pcap#379': WRAP,
  'malcolm-dnp3.pcap#480': STALE,
  'malcolm-dnp3.pcap#979': WRAP,
  'qut-dnp3-mitm-arp-poisoning-slice.pcap#78226':
    'a TCP retransmission of frame 78224 (same sequence number and bytes, forwarded by the ARP-poisoning ' +
    'host) that tshark dissects a second time; TCP reassembly delivers those bytes once',
};

interface Tally {
  pdus: number;
  agreeing: number;
  fields: number;
  fieldsAgreeing: number;
  explained: string[];
  disagreements: string[];
}

test('application function codes agree with tshark on every DNP3 capture', (t) => {
  const refs = loadReferences();
  if (refs === null) {
    t.skip('no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark and ../shared/pcaps are present)');
    return;
  }
  const total: Tally = { pdus: 0, agreeing: 0, fields: 0, fieldsAgreeing: 0, explained: [], disagreements: [] };
  for (const ref of refs) {
    const rows: PacketRow[] = ref.frames.map(([frame, stream, dir, seq, payload]) => ({
      frame,
      stream,
      dir,
      seq,
      payload,
    }));
    const transport = ref.transport ?? 'tcp';
    const { codes } = replay(rows, transport, (ctx) => new Dnp3Analyzer(ctx, transport));
    const tally: Tally = { pdus: 0, agreeing: 0, fields: 0, fieldsAgreeing: 0, explained: [], disagreements: [] };
    for (const [frame, , , , , func] of ref.frames) {
      const theirs = func === '' || func === undefined ? [] : func.split(',').map(Number);
      const mine = codes.get(frame) ?? [];
      const n = Math.max(theirs.length, mine.length);
      if (n === 0) continue;
      let same = 0;
      const rest = [...theirs];
      for (const c of mine) {
        const i = rest.indexOf(c);
        if (i >= 0) {
          rest.splice(i, 1);
          same++;
        }
      }
      const at = `${ref.capture}#${frame}`;
      if (same < n) {
        const why = TSHARK_ERRORS[at];
        const line = `${at} ours [${mine.join(',')}] tshark [${theirs.join(',')}]`;
        if (why !== undefined) {
          tally.explained.push(`${line}: ${why}`);
          continue;
        }
        tally.disagreements.push(line);
      }
      tally.pdus += n;
      tally.agreeing += same;
    }
    t.diagnostic(
      `${ref.capture} (${ref.transport}): ${tally.agreeing}/${tally.pdus} PDUs agree` +
        (tally.explained.length > 0 ? `, ${tally.explained.length} frames explained as tshark errors` : ''),
    );
    for (const d of tally.disagreements) t.diagnostic(`  disagree: ${d}`);
    total.pdus += tally.pdus;
    total.agreeing += tally.agreeing;
    total.explained.push(...tally.explained);
    total.disagreements.push(...tally.disagreements);
  }
  t.diagnostic(`total: ${total.agreeing}/${total.pdus} PDUs agree; ${total.explained.length} frames explained`);
  assert.ok(total.pdus >= 2000, `PDUs compared: ${total.pdus}`);
  assert.ok(total.agreeing / total.pdus >= 0.999, `agreement ${total.agreeing}/${total.pdus}`);
});

/**
 * Our fields under tshark's names for the single-segment fragments of one frame, or null when the
 * frame holds anything else (partial frames, multi-segment fragments, bad CRCs).
 */
function fragmentFields(
  payload: string,
): { func: number[]; seq: number[]; iin: string[]; obj: string[] | null } | null {
  const bytes = fromHex(payload);
  const out = { func: [] as number[], seq: [] as number[], iin: [] as string[], obj: [] as string[] | null };
  let off = 0;
  while (off < bytes.length) {
    const link = decodeDnp3Link(bytes.subarray(off));
    if (link.kind !== 'ok' || !link.value.dataCrcOk) return null;
    off += link.consumed;
    const tr = link.value.transport;
    if (tr === undefined) continue;
    if (!tr.fir || !tr.fin) return null;
    const d = decodeDnp3Apdu(link.value.userData.subarray(1));
    if (d.kind !== 'ok') return null;
    const a = d.value;
    out.func.push(a.functionCode);
    out.seq.push(a.seq);
    // tshark 4.0 shows no IIN on authenticate_resp (131), which carries them like 129 and 130
    // (IEEE 1815-2012 §4.2.2.2, §7.5.2.2): compared on 129 and 130 only.
    if (a.iin !== undefined && a.functionCode !== 131) out.iin.push(`0x${a.iin.toString(16).padStart(4, '0')}`);
    // tshark lists object headers for these functions only, and goes on past where we stop.
    if (!a.objectsComplete || !OBJECTS_DISSECTED.has(a.functionCode) || a.objectCount > a.objects.length)
      out.obj = null;
    else out.obj?.push(...a.objects.map((h) => `0x${((h.group << 8) | h.variation).toString(16).padStart(4, '0')}`));
  }
  return out;
}

/** Functions whose object headers tshark 4.0 dissects (packet-dnp.c, dissect_dnp3_al). */
const OBJECTS_DISSECTED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 25, 26, 27, 28, 30, 129, 130]);

test('fragment fields agree with tshark: sequence, IIN and object headers', (t) => {
  const refs = loadReferences();
  if (refs === null) {
    t.skip('no tshark reference');
    return;
  }
  let fragments = 0;
  let compared = 0;
  const mismatches: string[] = [];
  const explained: string[] = [];
  for (const ref of refs) {
    for (const [frame, , , , payload, func, seq, iin, obj] of ref.frames) {
      if (func === '' || TSHARK_ERRORS[`${ref.capture}#${frame}`] !== undefined) continue;
      const mine = fragmentFields(payload);
      if (mine === null || mine.func.join(',') !== func) continue;
      fragments += mine.func.length;
      const check = (field: string, ours: string, theirs: string | undefined): void => {
        compared++;
        if (ours === (theirs ?? '')) return;
        // tshark stops at an authentication object it cannot size (g120v3, aggressive mode: 6
        // octets) and lists no header after it; we go on (malcolm-dnp3.pcap#32).
        if (
          field === 'dnp3.al.obj' &&
          theirs !== undefined &&
          ours.startsWith(`${theirs},`) &&
          theirs.endsWith('0x7803')
        )
          explained.push(`${ref.capture}#${frame} ${field}: ours ${ours} tshark ${theirs}`);
        else mismatches.push(`${ref.capture}#${frame} ${field}: ours ${ours} tshark ${theirs}`);
      };
      check('dnp3.al.seq', mine.seq.join(','), seq);
      check('dnp3.al.iin', mine.iin.join(','), iin);
      if (mine.obj !== null) check('dnp3.al.obj', mine.obj.join(','), obj);
    }
  }
  t.diagnostic(
    `${fragments} single-segment fragments, ${compared} fields compared, ${mismatches.length} differ, ` +
      `${explained.length} explained`,
  );
  for (const m of explained) t.diagnostic(`  explained: ${m}`);
  for (const m of mismatches.slice(0, 40)) t.diagnostic(`  ${m}`);
  assert.ok(fragments >= 1500, `fragments: ${fragments}`);
  assert.deepEqual(mismatches, []);
});
