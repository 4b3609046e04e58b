// Per-frame tshark references for the stream dissectors' differential tests (DNP3, IEC-104): the
// payload of every frame on a port, its direction and TCP sequence number, and a list of tshark
// fields, checked in under the protocol's testdata/ so the tests run where tshark is absent.
// PLANTGUARD_UPDATE_GOLDEN=1 regenerates them when tshark and the captures are present.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One frame: number, stream, direction (0 = client), tcp.seq_raw (0 on UDP), payload hex, then the fields ('' = absent). */
export type StreamFrame = [number, number, 0 | 1, number, string, ...string[]];

export interface StreamReference {
  readonly tshark: string;
  readonly capture: string;
  /** Written only by protocols that carry both transports (DNP3). */
  readonly transport?: 'tcp' | 'udp';
  readonly frames: StreamFrame[];
}

/**
 * On disk each frame is one line of space-separated fields ('-' = absent), so the file stays
 * small and formatting leaves it as it is.
 */
type StoredReference = Omit<StreamReference, 'frames'> & { readonly frames: string[] };

function store(ref: StreamReference): StoredReference {
  return { ...ref, frames: ref.frames.map((f) => f.map((v) => (v === '' ? '-' : String(v))).join(' ')) };
}

/** JSON as prettier prints it: two-space indent, and the frame list on one line when it fits. */
function stableJson(stored: StoredReference): string {
  const text = JSON.stringify(stored, null, 2);
  const oneLine = `  "frames": [${stored.frames.map((f) => JSON.stringify(f)).join(', ')}]`;
  if (oneLine.length > 120) return `${text}\n`;
  return `${text.slice(0, text.indexOf('  "frames": ['))}${oneLine}\n}\n`;
}

function load(stored: StoredReference): StreamReference {
  const frames = stored.frames.map((line): StreamFrame => {
    const [frame, stream, dir, seq, ...rest] = line.split(' ').map((v) => (v === '-' ? '' : v));
    return [Number(frame), Number(stream), dir === '1' ? 1 : 0, Number(seq), ...(rest as [string, ...string[]])];
  });
  return { ...stored, frames };
}

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/**
 * The frames of `pcap` with payload on `transport` port `port`, with `fields`. Direction 0 is the
 * client: the side not on the port, or (both on it) the first sender of the stream.
 */
function streamFrames(pcap: string, transport: 'tcp' | 'udp', port: string, fields: readonly string[]): StreamFrame[] {
  const filter = transport === 'tcp' ? `tcp.port == ${port} && tcp.len > 0` : `udp.port == ${port} && udp.length > 8`;
  const columns = ['frame.number', `${transport}.stream`, 'ip.src', `${transport}.srcport`, `${transport}.dstport`];
  columns.push(transport === 'tcp' ? 'tcp.seq_raw' : 'udp.srcport', `${transport}.payload`, ...fields);
  const out = tshark([
    '-r',
    pcap,
    '-Y',
    filter,
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'aggregator=,',
    ...columns.flatMap((f) => ['-e', f]),
  ]);
  const frames: StreamFrame[] = [];
  const clients = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [frame, stream, src, sport, dport, seq, payload, ...values] = line.split('\t');
    const from = `${src}:${sport}`;
    if (!clients.has(stream!)) clients.set(stream!, sport === port && dport !== port ? '' : from);
    const client = clients.get(stream!)!;
    const dir = client === '' ? (sport === port ? 1 : 0) : from === client ? 0 : 1;
    frames.push([
      Number(frame),
      Number(stream),
      dir,
      transport === 'tcp' ? Number(seq) : 0,
      payload ?? '',
      ...fields.map((_, i) => values[i] ?? ''),
    ]);
  }
  return frames;
}

export interface StreamReferenceSpec {
  /** The protocol's testdata/ folder and its captures folder under ../shared/pcaps. */
  readonly testdata: string;
  readonly pcaps: string;
  readonly port: string;
  readonly fields: readonly string[];
  /** Both transports, each in its own file (`-tcp.json`, `-udp.json`), or TCP alone. */
  readonly transports: readonly ('tcp' | 'udp')[] | 'tcp-only';
}

/** One reference file per capture (and transport) that has frames on the port. */
function generate(spec: StreamReferenceSpec): void {
  const version = tshark(['-v']).split('\n')[0]!.trim();
  mkdirSync(spec.testdata, { recursive: true });
  const both = spec.transports !== 'tcp-only';
  for (const file of readdirSync(spec.pcaps)
    .filter((f) => /\.pcapn?g?$/.test(f))
    .sort()) {
    for (const transport of both ? spec.transports : (['tcp'] as const)) {
      const frames = streamFrames(join(spec.pcaps, file), transport, spec.port, spec.fields);
      if (frames.length === 0) continue;
      const base = file.replace(/\.pcapn?g?$/, '');
      const ref: StreamReference = both
        ? { tshark: version, capture: file, transport, frames }
        : { tshark: version, capture: file, frames };
      writeFileSync(join(spec.testdata, `tshark-${base}${both ? `-${transport}` : ''}.json`), stableJson(store(ref)));
    }
  }
}

/**
 * The checked-in references (regenerated first under PLANTGUARD_UPDATE_GOLDEN=1 when tshark and the
 * captures are here), or null when there are none.
 */
export function loadStreamReferences(spec: StreamReferenceSpec): StreamReference[] | null {
  const update = process.env.PLANTGUARD_UPDATE_GOLDEN === '1';
  if (update && spawnSync('tshark', ['-v']).status === 0 && existsSync(spec.pcaps)) generate(spec);
  if (!existsSync(spec.testdata)) return null;
  const files = readdirSync(spec.testdata).filter((f) => f.startsWith('tshark-') && f.endsWith('.json'));
  if (files.length === 0) return null;
  return files.sort().map((f) => load(JSON.parse(readFileSync(join(spec.testdata, f), 'utf8')) as StoredReference));
}
