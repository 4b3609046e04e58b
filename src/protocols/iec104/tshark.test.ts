// Differential test: the IEC 104 analyzer against tshark on every shared capture. The payloads of
// TCP port 2404 and tshark's fields per frame are checked in (testdata/), so this runs where tshark
// is absent; PLANTGUARD_UPDATE_GOLDEN=1 regenerates them when tshark and ../shared/pcaps (beside the
// checkout) are present. The analyzer runs on the reassembled per-direction streams; per frame we
// compare the ASDU type ids (iec60870_asdu.typeid) and U-frame functions (iec60870_104.utype)
// together — S-frames are not reported by tshark in a field and are not compared — then, per ASDU,
// the cause of transmission, originator and common address, object count and addresses, and the
// scaled, float and bitstring values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeIec104Apdu, type Iec104Asdu } from './decode.ts';
import { Iec104Analyzer, U_FRAME_PDU } from './index.ts';
import { fromHex, replay, type PacketRow } from './test-support.ts';
import { loadStreamReferences, type StreamFrame, type StreamReference } from '../../../test/helpers/tshark-frames.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTDATA = join(HERE, 'testdata');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'iec104');
const PORT = '2404';

/** tshark fields kept per frame (several values joined with ','). */
const FIELDS = [
  'iec60870_asdu.typeid',
  'iec60870_104.utype',
  'iec60870_asdu.causetx',
  'iec60870_asdu.nega',
  'iec60870_asdu.test',
  'iec60870_asdu.oa',
  'iec60870_asdu.addr',
  'iec60870_asdu.numix',
  'iec60870_asdu.ioa',
  'iec60870_asdu.scalval',
  'iec60870_asdu.float',
  'iec60870_asdu.bitstring',
] as const;
type Field = (typeof FIELDS)[number];

function field(f: Frame, name: Field): string {
  return String(f[5 + FIELDS.indexOf(name)] ?? '');
}

type Frame = StreamFrame;
type Reference = StreamReference;

function loadReferences(): Reference[] | null {
  return loadStreamReferences({ testdata: TESTDATA, pcaps: PCAPS, port: PORT, fields: FIELDS, transports: 'tcp-only' });
}

/** tshark's codes for a frame as `ctx.pdu` reports them: type ids, then U_FRAME_PDU + utype (hex in tshark). */
function theirCodes(f: Frame): number[] {
  const ids = field(f, 'iec60870_asdu.typeid');
  const us = field(f, 'iec60870_104.utype');
  return [
    ...(ids === '' ? [] : ids.split(',').map(Number)),
    ...(us === '' ? [] : us.split(',').map((u) => U_FRAME_PDU + parseInt(u, 16))),
  ];
}

/**
 * Frames where tshark is wrong or more lenient than the standard, with the reason; counted apart
 * and listed in the docs. Keyed by `capture#frame`.
 */
const SHORT_I =
  'an I-format APDU whose length cannot hold the 6-octet ASDU header (fuzzed frame of this dissector ' +
  'test capture); tshark reports the type octet it finds and marks the packet malformed, the framer ' +
  'rejects the APDU (anomaly iec104.bad_frame)';
const NO_START =
  'a segment without the 0x68 start octet (fuzzed frame of this dissector test capture); tshark ' +
  'dissects it as an ASDU and marks it malformed, the framer skips it';
const TSHARK_ERRORS: Readonly<Record<string, string>> = {
  'iec104-testdissect.pcap#36':
    'a U-format control octet with two function bits (0x17) in an APDU of length 5; S- and U-frames ' +
    'are exactly 4 octets (104 §5), so the framer rejects it; tshark reports utype 5 (code 0x105)',
  'iec104-testdissect.pcap#41': SHORT_I,
  'iec104-testdissect.pcap#58': NO_START,
  'iec104-testdissect.pcap#83': SHORT_I,
  'iec104-testdissect.pcap#96': NO_START,
};

test('ASDU type ids and U-frame functions agree with tshark on every IEC 104 capture', (t) => {
  const refs = loadReferences();
  if (refs === null) {
    t.skip('no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark and ../shared/pcaps are present)');
    return;
  }
  let pdus = 0;
  let agreeing = 0;
  const explained: string[] = [];
  const disagreements: string[] = [];
  for (const ref of refs) {
    const rows: PacketRow[] = ref.frames.map(([frame, stream, dir, seq, payload]) => ({
      frame,
      stream,
      dir,
      seq,
      payload,
    }));
    const { codes } = replay(rows, 'tcp', (ctx) => new Iec104Analyzer(ctx));
    let refPdus = 0;
    let refAgreeing = 0;
    for (const f of ref.frames) {
      const theirs = theirCodes(f);
      const mine = codes.get(f[0]) ?? [];
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
      const at = `${ref.capture}#${f[0]}`;
      if (same < n) {
        const line = `${at} ours [${mine.join(',')}] tshark [${theirs.join(',')}]`;
        const why = TSHARK_ERRORS[at];
        if (why !== undefined) {
          explained.push(`${line}: ${why}`);
          continue;
        }
        disagreements.push(line);
      }
      refPdus += n;
      refAgreeing += same;
    }
    t.diagnostic(`${ref.capture}: ${refAgreeing}/${refPdus} PDUs agree`);
    pdus += refPdus;
    agreeing += refAgreeing;
  }
  t.diagnostic(`total: ${agreeing}/${pdus} PDUs agree; ${explained.length} frames explained`);
  for (const e of explained) t.diagnostic(`  explained: ${e}`);
  for (const d of disagreements) t.diagnostic(`  disagree: ${d}`);
  assert.ok(pdus >= 400, `PDUs compared: ${pdus}`);
  assert.ok(agreeing / pdus >= 0.999, `agreement ${agreeing}/${pdus}`);
});

/** Our ASDU fields under tshark's names, for the whole APDUs of one segment; null if it holds anything else. */
function asduFields(payload: string): Record<Field, string> | null {
  const bytes = fromHex(payload);
  const asdus: Iec104Asdu[] = [];
  let off = 0;
  while (off < bytes.length) {
    const d = decodeIec104Apdu(bytes.subarray(off));
    if (d.kind !== 'ok') return null;
    off += d.consumed;
    if (d.value.format === 'i') {
      if (d.anomalies.length > 0) return null;
      asdus.push(d.value.asdu);
    }
  }
  const join = (f: (a: Iec104Asdu) => (string | number)[]): string => asdus.flatMap(f).join(',');
  const num = (v: number | undefined): string => (v === undefined ? '' : String(v));
  const scaled = new Set([11, 12, 35, 49, 62, 111]);
  const floats = new Set([13, 14, 36, 50, 63, 112]);
  const bits = new Set([7, 8, 33, 51, 64]);
  const values = (a: Iec104Asdu, types: Set<number>, fmt: (v: number) => string): string[] =>
    types.has(a.typeId) ? a.objects.map((o) => fmt(o.value ?? NaN)) : [];
  return {
    'iec60870_asdu.typeid': join((a) => [a.typeId]),
    'iec60870_104.utype': '',
    'iec60870_asdu.causetx': join((a) => [a.cause]),
    'iec60870_asdu.nega': join((a) => [a.negative ? 1 : 0]),
    'iec60870_asdu.test': join((a) => [a.test ? 1 : 0]),
    'iec60870_asdu.oa': join((a) => [a.originator]),
    'iec60870_asdu.addr': join((a) => [a.commonAddress]),
    'iec60870_asdu.numix': join((a) => [a.count]),
    'iec60870_asdu.ioa': join((a) => a.objects.map((o) => num(o.ioa))),
    'iec60870_asdu.scalval': join((a) => values(a, scaled, String)),
    'iec60870_asdu.float': join((a) => values(a, floats, (v) => String(Math.fround(v)))),
    'iec60870_asdu.bitstring': join((a) => values(a, bits, (v) => `0x${v.toString(16).padStart(8, '0')}`)),
  };
}

/** `0x11223344,...` → `0x44332211,...`. */
function swapped(hexes: string): string {
  return hexes
    .split(',')
    .map((h) => `0x${(h.slice(2).match(/../g) ?? []).reverse().join('')}`)
    .join(',');
}

/** tshark prints floats with 7 significant digits; compare as numbers with that precision. */
function sameFloats(ours: string, theirs: string): boolean {
  const a = ours.split(',');
  const b = theirs.split(',');
  return (
    a.length === b.length &&
    a.every((x, i) => Math.abs(Number(x) - Number(b[i])) <= 1e-6 * Math.max(1, Math.abs(Number(x))))
  );
}

test('ASDU fields agree with tshark: cause, addresses, object count, IOAs and values', (t) => {
  const refs = loadReferences();
  if (refs === null) {
    t.skip('no tshark reference');
    return;
  }
  let asdus = 0;
  let compared = 0;
  let bitstrings = 0;
  const mismatches: string[] = [];
  for (const ref of refs) {
    for (const f of ref.frames) {
      const theirIds = field(f, 'iec60870_asdu.typeid');
      if (theirIds === '' || TSHARK_ERRORS[`${ref.capture}#${f[0]}`] !== undefined) continue;
      const mine = asduFields(f[4]);
      if (mine === null || mine['iec60870_asdu.typeid'] !== theirIds) continue;
      asdus += theirIds.split(',').length;
      for (const name of FIELDS) {
        if (name === 'iec60870_asdu.typeid' || name === 'iec60870_104.utype') continue;
        const theirs = field(f, name);
        compared++;
        const same = name === 'iec60870_asdu.float' ? sameFloats(mine[name], theirs) : mine[name] === theirs;
        if (same) continue;
        // tshark 4.0 reads the 32-bit bitstring (BSI) big-endian; IEC 60870-5-4 §6.1 sends
        // multi-octet fields least significant octet first (as lib60870 decodes them).
        if (name === 'iec60870_asdu.bitstring' && mine[name] === swapped(theirs)) {
          bitstrings++;
          continue;
        }
        mismatches.push(`${ref.capture}#${f[0]} ${name}: ours ${mine[name]} tshark ${theirs}`);
      }
    }
  }
  t.diagnostic(
    `${asdus} ASDUs, ${compared} fields compared, ${mismatches.length} differ, ` +
      `${bitstrings} bitstring fields equal after tshark's byte order`,
  );
  for (const m of mismatches.slice(0, 40)) t.diagnostic(`  ${m}`);
  assert.ok(asdus >= 300, `ASDUs: ${asdus}`);
  assert.deepEqual(mismatches, []);
});
