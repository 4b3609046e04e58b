// Differential test: the analyzer's per-APDU service codes and the I-Am / device object-name
// identities against tshark's on every capture in ../shared/pcaps/bacnet. tshark's side is checked in
// (testdata/tshark-*.json, regenerated with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed);
// our side runs the analyzer over the captures' BACnet/IP datagrams (UDP 47808/47809).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureParser, createCaptureStats } from '../../capture/parser.ts';
import { decodeFrame } from '../link/decode.ts';
import { PacketView } from '../link/packet.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent, StreamAnalyzer } from '../_core/types.ts';
import { decodeBacnet } from './decode.ts';
import { UNCONFIRMED_PDU_BASE, bacnetProtocol } from './index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'bacnet');
const TESTDATA = join(HERE, 'testdata');
const PORTS = new Set([47808, 47809]);

/**
 * Frames where tshark and we disagree, with the reason; each is checked to still disagree (so a
 * fix shows up) and no other frame may.
 */
const EXPLAINED: Readonly<Record<string, string>> = {};

/** tshark's view of one capture. */
interface Reference {
  readonly capture: string;
  readonly tshark: string;
  /** `frame:codes`, codes in hex: confirmed service n, unconfirmed 0x100 + n; frames without codes left out. */
  readonly frames: readonly string[];
  /** I-Am: frame, device instance, vendor id. */
  readonly iAm: readonly (readonly [number, number, number])[];
  /** Device object-name in ReadProperty ACKs: frame, name. */
  readonly names: readonly (readonly [number, string])[];
}

const numbers = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split('|').map(Number));

function generate(file: string): Reference {
  const fields = [
    'frame.number',
    'bacapp.type',
    'bacapp.confirmed_service',
    'bacapp.unconfirmed_service',
    'bacapp.instance_number',
    'bacapp.vendor_identifier',
    'bacapp.objectType',
    'bacapp.property_identifier',
    'bacapp.object_name',
  ];
  const r = spawnSync(
    'tshark',
    [
      '-n',
      '-r',
      join(PCAPS, file),
      '-Y',
      'bvlc && (udp.port == 47808 || udp.port == 47809)',
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=|',
      ...fields.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const version = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
  const frames: string[] = [];
  const iAm: [number, number, number][] = [];
  const names: [number, string][] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const v = line.split('\t');
    const frame = Number(v[0]);
    const confirmed = numbers(v[2]);
    const unconfirmed = numbers(v[3]);
    const codes = [...confirmed, ...unconfirmed.map((u) => UNCONFIRMED_PDU_BASE + u)];
    if (codes.length > 0) frames.push(`${frame}:${codes.map((c) => c.toString(16)).join(',')}`);
    if (unconfirmed[0] === 0) {
      const inst = numbers(v[4])[0];
      const vendor = numbers(v[5])[0];
      if (inst !== undefined && vendor !== undefined) iAm.push([frame, inst, vendor]);
    }
    // ReadProperty ACK of a device's object-name.
    if (numbers(v[1])[0] === 3 && confirmed[0] === 12 && numbers(v[6])[0] === 8 && numbers(v[7])[0] === 77) {
      names.push([frame, v[8] ?? '']);
    }
  }
  return { capture: file, tshark: version, frames, iAm, names };
}

function loadReference(file: string): Reference | null {
  const path = join(TESTDATA, `tshark-${file.replace(/\.pcap(ng)?$/, '')}.json`);
  if (process.env.PLANTGUARD_UPDATE_GOLDEN === '1' && spawnSync('tshark', ['-v']).status === 0) {
    const ref = generate(file);
    mkdirSync(TESTDATA, { recursive: true });
    writeFileSync(path, `${JSON.stringify(ref, null, 1)}\n`);
    return ref;
  }
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Reference) : null;
}

// ---- our side ----

interface Trace {
  readonly codes: Map<number, number[]>;
  readonly iAm: [number, number, number][];
  readonly names: [number, string][];
  readonly ops: OperationEvent[];
  readonly facts: AssetFact[];
  readonly anomalies: Map<string, number>;
  violations: number;
}

class Recorder implements AnalyzerContext {
  frame = 0;
  private readonly t: Trace;
  constructor(t: Trace) {
    this.t = t;
  }
  operation(op: OperationEvent): void {
    this.t.ops.push({ ...op });
  }
  fact(fact: AssetFact): void {
    this.t.facts.push(fact);
  }
  anomaly(code: string): void {
    this.t.anomalies.set(code, (this.t.anomalies.get(code) ?? 0) + 1);
  }
  confirm(): void {}
  violate(): void {
    this.t.violations++;
  }
  readonly pdu = (_dir: Direction, code: number): void => {
    const c = this.t.codes.get(this.frame);
    if (c === undefined) this.t.codes.set(this.frame, [code]);
    else c.push(code);
  };
}

function ipText(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** Runs the BACnet analyzer over one capture, one analyzer per UDP conversation. */
export function runCapture(bytes: Uint8Array): Trace {
  const t: Trace = { codes: new Map(), iAm: [], names: [], ops: [], facts: [], anomalies: new Map(), violations: 0 };
  const rec = new Recorder(t);
  const flows = new Map<string, { analyzer: StreamAnalyzer; client: string }>();
  const parser = new CaptureParser('bacnet', createCaptureStats());
  const batch = parser.push(bytes);
  parser.end();
  const p = new PacketView();
  if (batch === null) return t;
  for (let i = 0; i < batch.count; i++) {
    rec.frame = i + 1;
    decodeFrame(batch.data, batch.offset[i]!, batch.capLen[i]!, batch.linkType[i]!, p);
    if (p.ipVersion !== 4 || p.ipProto !== 17 || !(PORTS.has(p.srcPort) || PORTS.has(p.dstPort))) continue;
    const a = `${ipText(p.srcIp)}:${p.srcPort}`;
    const b = `${ipText(p.dstIp)}:${p.dstPort}`;
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    let f = flows.get(key);
    if (f === undefined) {
      // The registered port is the server's; when both ends use it, the first sender is the client.
      const client = PORTS.has(p.srcPort) && !PORTS.has(p.dstPort) ? b : a;
      f = { analyzer: bacnetProtocol.createAnalyzer(rec), client };
      flows.set(key, f);
    }
    const payload = batch.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    const d = decodeBacnet(payload);
    const apdu = d.kind === 'ok' ? d.value.npdu?.apdu : undefined;
    if (apdu?.kind === 'unconfirmed_request' && apdu.request.kind === 'i_am') {
      t.iAm.push([i + 1, apdu.request.device.instance, apdu.request.vendorId]);
    }
    if (apdu?.kind === 'complex_ack' && apdu.ack.kind === 'read_property' && apdu.ack.object.type === 8) {
      const v = apdu.ack.values[0];
      if (apdu.ack.property === 77 && v?.kind === 'string') t.names.push([i + 1, v.value]);
    }
    f.analyzer.data(a === f.client ? 0 : 1, payload, batch.tsMicros[i]!);
  }
  rec.frame = batch.count + 1;
  for (const f of flows.values()) f.analyzer.end();
  return t;
}

const captures = existsSync(PCAPS)
  ? readdirSync(PCAPS)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .sort()
  : [];

test('per-APDU service codes and identities agree with tshark on every BACnet capture', (t) => {
  if (captures.length === 0) {
    t.skip(`no captures at ${PCAPS} (the shared pcaps folder beside the checkout)`);
    return;
  }
  let compared = 0;
  let agreeing = 0;
  let identities = 0;
  const disagreements: string[] = [];
  for (const file of captures) {
    const ref = loadReference(file);
    if (ref === null) {
      t.skip(`no tshark reference for ${file} (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)`);
      return;
    }
    const ours = runCapture(readFileSync(join(PCAPS, file)));
    const theirs = new Map<number, string>();
    for (const row of ref.frames) {
      const at = row.indexOf(':');
      theirs.set(Number(row.slice(0, at)), row.slice(at + 1));
    }
    let fileCompared = 0;
    let fileAgreeing = 0;
    for (const frame of [...new Set([...theirs.keys(), ...ours.codes.keys()])].sort((x, y) => x - y)) {
      const mine = (ours.codes.get(frame) ?? []).map((c) => c.toString(16)).join(',');
      const their = theirs.get(frame) ?? '';
      const n = Math.max(mine === '' ? 0 : mine.split(',').length, their === '' ? 0 : their.split(',').length);
      fileCompared += n;
      if (mine === their) fileAgreeing += n;
      else disagreements.push(`${file}#${frame}: tshark ${their || '-'}, ours ${mine || '-'}`);
    }
    const mineIAm = new Set(ours.iAm.map((x) => JSON.stringify(x)));
    for (const x of ref.iAm) {
      identities++;
      assert.ok(mineIAm.has(JSON.stringify(x)), `${file}: I-Am ${JSON.stringify(x)} not decoded alike`);
    }
    const mineNames = new Set(ours.names.map((x) => JSON.stringify(x)));
    for (const x of ref.names) {
      identities++;
      assert.ok(mineNames.has(JSON.stringify(x)), `${file}: object-name ${JSON.stringify(x)} not decoded alike`);
    }
    compared += fileCompared;
    agreeing += fileAgreeing;
    t.diagnostic(
      `${file}: ${fileAgreeing}/${fileCompared} APDUs agree, ${ours.ops.length} operations, ` +
        `${ours.facts.length} facts, ${ours.violations} violations`,
    );
  }
  const unexplained = disagreements.filter((d) => EXPLAINED[d.slice(0, d.indexOf(':'))] === undefined);
  t.diagnostic(
    `${agreeing}/${compared} APDUs agree (${((100 * agreeing) / Math.max(1, compared)).toFixed(3)}%), ${identities} identities`,
  );
  assert.deepEqual(unexplained.slice(0, 40), [], `${unexplained.length} unexplained disagreements`);
  for (const id of Object.keys(EXPLAINED)) {
    assert.ok(
      disagreements.some((d) => d.startsWith(`${id}:`)),
      `${id} is explained but agrees now`,
    );
  }
  assert.ok(agreeing / compared >= 0.999, `agreement ${agreeing}/${compared}`);
  assert.ok(compared > 10_000, `APDUs compared: ${compared}`);
});
