// Differential test: the analyzers' per-PDU codes (encapsulation commands, CIP service codes) and
// identities against tshark's on every capture in ../shared/pcaps/enip. tshark's side is checked in
// (testdata/tshark-*.json, regenerated with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed);
// our side runs the analyzers over the captures, reassembling TCP per direction as the pipeline does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureParser, createCaptureStats } from '../../capture/parser.ts';
import { decodeFrame } from '../link/decode.ts';
import { PacketView, TCP_SYN } from '../link/packet.ts';
import { TcpStream } from '../_core/tcp-stream.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent, StreamAnalyzer } from '../_core/types.ts';
import { CIP_PDU_BASE, enipIoProtocol, enipProtocol, enipUdpProtocol } from './index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'enip');
const TESTDATA = join(HERE, 'testdata');
const PORT = 44818;
const IO_PORT = 2222;

/**
 * Frames where tshark and we disagree, with the reason; every one is checked to still disagree
 * (so a fix shows up) and no other frame may.
 */
const EXPLAINED: Readonly<Record<string, string>> = {};

/** tshark's view of one capture: per frame, `commands/services` in hex (RLE `x*n`), and identities. */
interface Reference {
  readonly capture: string;
  readonly tshark: string;
  /** `frame:commands/services`, e.g. `3:70*2/a,4c*2,a,4c`; frames without codes are left out. */
  readonly frames: readonly string[];
  /** ListIdentity items and Identity object replies: frame, vendor id, product name, serial, product code. */
  readonly identities: readonly (readonly [number, number, string, string, number])[];
}

function rle(codes: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j < codes.length && codes[j] === codes[i]) j++;
    const h = codes[i]!.toString(16);
    out.push(j - i > 1 ? `${h}*${j - i}` : h);
    i = j;
  }
  return out.join(',');
}

const numbers = (s: string | undefined): number[] =>
  s === undefined || s === '' ? [] : s.split('|').map((x) => parseInt(x, x.startsWith('0x') ? 16 : 10));

function generate(file: string): Reference {
  const fields = [
    'frame.number',
    'enip.command',
    'cip.sc',
    'enip.lir.vendor',
    'enip.lir.name',
    'enip.lir.serial',
    'enip.lir.prodcode',
    'cip.id.vendor_id',
    'cip.id.product_name',
    'cip.id.serial_number',
    'cip.id.product_code',
  ];
  const r = spawnSync(
    'tshark',
    [
      '-n',
      '-r',
      join(PCAPS, file),
      '-Y',
      'enip',
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
  const identities: [number, number, string, string, number][] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const v = line.split('\t');
    const frame = Number(v[0]);
    const commands = numbers(v[1]);
    const services = numbers(v[2]);
    if (commands.length + services.length > 0) frames.push(`${frame}:${rle(commands)}/${rle(services)}`);
    for (const [vendor, name, serial, code] of [
      [v[3], v[4], v[5], v[6]],
      [v[7], v[8], v[9], v[10]],
    ] as const) {
      if (vendor === undefined || vendor === '') continue;
      const names = (name ?? '').split('|');
      const serials = (serial ?? '').split('|');
      const codes = numbers(code);
      numbers(vendor).forEach((id, i) =>
        identities.push([frame, id, names[i] ?? '', serials[i] ?? '', codes[i] ?? -1]),
      );
    }
  }
  return { capture: file, tshark: version, frames, identities };
}

function referencePath(file: string): string {
  return join(TESTDATA, `tshark-${file.replace(/\.pcap(ng)?$/, '')}.json`);
}

function loadReference(file: string): Reference | null {
  const path = referencePath(file);
  if (process.env.PLANTGUARD_UPDATE_GOLDEN === '1' && spawnSync('tshark', ['-v']).status === 0) {
    const ref = generate(file);
    mkdirSync(TESTDATA, { recursive: true });
    writeFileSync(path, `${JSON.stringify(ref, null, 1)}\n`);
    return ref;
  }
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Reference) : null;
}

// ---- our side: the analyzers over the capture ----

interface Trace {
  /** frame → codes reported, in order, split into commands and CIP services. */
  readonly codes: Map<number, { commands: number[]; services: number[] }>;
  readonly identities: [number, number, string, string, number][];
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
    if (fact.kind === 'identity') {
      const e = fact.extra ?? {};
      this.t.identities.push([
        this.frame,
        Number(e.vendorId),
        fact.product ?? '',
        fact.serial ?? '',
        Number(fact.productCode),
      ]);
    }
  }
  anomaly(code: string): void {
    this.t.anomalies.set(code, (this.t.anomalies.get(code) ?? 0) + 1);
  }
  confirm(): void {}
  violate(): void {
    this.t.violations++;
  }
  readonly pdu = (_dir: Direction, code: number): void => {
    let c = this.t.codes.get(this.frame);
    if (c === undefined) this.t.codes.set(this.frame, (c = { commands: [], services: [] }));
    if (code >= CIP_PDU_BASE) c.services.push(code - CIP_PDU_BASE);
    else c.commands.push(code);
  };
}

interface Flow {
  readonly analyzer: StreamAnalyzer;
  /** Endpoint ("ip:port") of the client. */
  readonly client: string;
  readonly streams?: [TcpStream, TcpStream];
  readonly synSeen: [boolean, boolean];
}

function ipText(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** Runs the EtherNet/IP analyzers over one capture file, one analyzer per TCP/UDP conversation. */
export function runCapture(bytes: Uint8Array): Trace {
  const t: Trace = { codes: new Map(), identities: [], ops: [], facts: [], anomalies: new Map(), violations: 0 };
  const rec = new Recorder(t);
  const flows = new Map<string, Flow>();
  const parser = new CaptureParser('enip', createCaptureStats());
  const batch = parser.push(bytes);
  parser.end();
  const p = new PacketView();
  if (batch === null) return t;
  for (let i = 0; i < batch.count; i++) {
    rec.frame = i + 1;
    decodeFrame(batch.data, batch.offset[i]!, batch.capLen[i]!, batch.linkType[i]!, p);
    if (p.ipVersion !== 4 || p.srcPort < 0) continue;
    const tcp = p.ipProto === 6;
    const udp = p.ipProto === 17;
    const sport = p.srcPort;
    const dport = p.dstPort;
    if (
      !(tcp && (sport === PORT || dport === PORT)) &&
      !(udp && [PORT, IO_PORT].some((x) => x === sport || x === dport))
    )
      continue;
    const a = `${ipText(p.srcIp)}:${sport}`;
    const b = `${ipText(p.dstIp)}:${dport}`;
    const key = `${tcp ? 't' : 'u'} ${a < b ? `${a} ${b}` : `${b} ${a}`}`;
    let f = flows.get(key);
    if (f === undefined) {
      const server = tcp ? PORT : sport === dport ? -1 : sport === PORT || sport === IO_PORT ? sport : dport;
      const def = tcp
        ? enipProtocol
        : server === IO_PORT || (server < 0 && sport === IO_PORT)
          ? enipIoProtocol
          : enipUdpProtocol;
      const analyzer = def.createAnalyzer(rec);
      const client = server < 0 ? a : sport === server ? b : a;
      if (tcp) {
        const sink = (dir: Direction): ConstructorParameters<typeof TcpStream>[0] => ({
          data: (bytes, ts) => analyzer.data(dir, bytes, ts),
          gap: (n) => analyzer.gap(dir, n),
        });
        f = { analyzer, client, streams: [new TcpStream(sink(0)), new TcpStream(sink(1))], synSeen: [false, false] };
      } else f = { analyzer, client, synSeen: [false, false] };
      flows.set(key, f);
    }
    const dir: Direction = a === f.client ? 0 : 1;
    const ts = batch.tsMicros[i]!;
    const payload = batch.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    if (f.streams !== undefined) {
      const st = f.streams[dir];
      if ((p.tcpFlags & TCP_SYN) !== 0 && !st.isStarted) {
        st.syn(p.tcpSeq);
        f.synSeen[dir] = true;
      }
      if (payload.length > 0) {
        if (!st.isStarted && !f.synSeen[dir]) f.analyzer.gap(dir, 0);
        st.segment(p.tcpSeq, payload, ts);
      }
    } else f.analyzer.data(dir, payload, ts);
  }
  rec.frame = batch.count + 1;
  for (const f of flows.values()) {
    f.streams?.[0].flush();
    f.streams?.[1].flush();
    f.analyzer.end();
  }
  return t;
}

const captures = existsSync(PCAPS)
  ? readdirSync(PCAPS)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .sort()
  : [];

test('per-PDU codes and identities agree with tshark on every ENIP capture', (t) => {
  if (captures.length === 0) {
    t.skip(`no captures at ${PCAPS} (the shared pcaps folder beside the checkout)`);
    return;
  }
  let compared = 0;
  let agreeing = 0;
  let identitiesCompared = 0;
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
    const frames = new Set([...theirs.keys(), ...ours.codes.keys()]);
    let fileCompared = 0;
    let fileAgreeing = 0;
    for (const frame of [...frames].sort((x, y) => x - y)) {
      const mine = ours.codes.get(frame);
      const mineText = mine === undefined ? '/' : `${rle(mine.commands)}/${rle(mine.services)}`;
      const theirText = theirs.get(frame) ?? '/';
      const n = Math.max(countCodes(theirText), countCodes(mineText));
      fileCompared += n;
      const id = `${file}#${frame}`;
      if (mineText === theirText) fileAgreeing += n;
      else disagreements.push(`${id}: tshark ${theirText}, ours ${mineText}`);
    }
    // Identities: every one tshark shows, in the same frame, with the same fields.
    const mineIds = new Set(ours.identities.map((x) => JSON.stringify(x)));
    for (const x of ref.identities) {
      identitiesCompared++;
      assert.ok(mineIds.has(JSON.stringify(x)), `${file}: identity ${JSON.stringify(x)} missing`);
    }
    compared += fileCompared;
    agreeing += fileAgreeing;
    t.diagnostic(
      `${file}: ${fileAgreeing}/${fileCompared} PDUs agree, ${ours.ops.length} operations, ${ours.violations} violations`,
    );
  }
  const unexplained = disagreements.filter((d) => EXPLAINED[d.slice(0, d.indexOf(':'))] === undefined);
  t.diagnostic(
    `${agreeing}/${compared} PDUs agree (${((100 * agreeing) / Math.max(1, compared)).toFixed(3)}%), ${identitiesCompared} identities`,
  );
  assert.deepEqual(unexplained.slice(0, 40), [], `${unexplained.length} unexplained disagreements`);
  for (const id of Object.keys(EXPLAINED)) {
    assert.ok(
      disagreements.some((d) => d.startsWith(`${id}:`)),
      `${id} is explained but agrees now`,
    );
  }
  assert.ok(agreeing / compared >= 0.999, `agreement ${agreeing}/${compared}`);
  assert.ok(compared > 20_000, `PDUs compared: ${compared}`);
});

function countCodes(text: string): number {
  let n = 0;
  for (const part of text.split(/[/,]/)) {
    if (part === '') continue;
    const star = part.indexOf('*');
    n += star < 0 ? 1 : Number(part.slice(star + 1));
  }
  return n;
}
