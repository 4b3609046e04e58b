// The tshark side of the port-102 differential tests (S7comm, MMS): per capture, the frames with
// PDU codes (in our trace's terms) and the identity fields tshark shows, checked in as one JSON file
// (PLANTGUARD_UPDATE_GOLDEN=1 regenerates it where tshark is installed); and the replay of a
// capture through the ISO-TSAP analyzer that the tests compare with it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openCaptureSources } from '../../src/capture/open.ts';
import { CaptureReplay, SKIP_HOLES, encodeFrames, type FrameCodes } from '../../src/protocols/iso/test-support.ts';

export interface IsoCaptureReference {
  /** Frames with codes (see encodeFrames). */
  readonly frames: string;
  /** Frames with identity fields: field name → values joined by '|'. */
  readonly identity: Array<{ frame: number; fields: Record<string, string> }>;
}

export interface IsoReference {
  readonly tshark: string;
  readonly captures: Record<string, IsoCaptureReference>;
}

export interface IsoReferenceSpec {
  /** The checked-in reference file. */
  readonly reference: string;
  readonly pcaps: string;
  /** The captures of `pcaps` to read. */
  readonly captures: () => readonly string[];
  /** tshark display filter and preferences (`-o` values). */
  readonly display: string;
  readonly preferences?: readonly string[];
  /** The tshark fields that carry the PDU codes, and how their values become our trace codes. */
  readonly codeFields: readonly string[];
  readonly codes: (values: readonly string[]) => number[];
  readonly identityFields: readonly string[];
}

function generate(spec: IsoReferenceSpec): IsoReference {
  const version = spawnSync('tshark', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'tshark';
  const captures: Record<string, IsoCaptureReference> = {};
  const columns = ['frame.number', 'tcp.srcport', ...spec.codeFields, ...spec.identityFields];
  for (const file of spec.captures()) {
    const r = spawnSync(
      'tshark',
      [
        ...(spec.preferences ?? []).flatMap((o) => ['-o', o]),
        '-r',
        join(spec.pcaps, file),
        '-Y',
        spec.display,
        '-T',
        'fields',
        '-E',
        'separator=/t',
        '-E',
        'aggregator=|',
        ...columns.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', maxBuffer: 256 << 20 },
    );
    assert.equal(r.status, 0, r.stderr);
    const frames = new Map<number, FrameCodes>();
    const identity: IsoCaptureReference['identity'] = [];
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [frame, sport, ...rest] = line.split('\t');
      const codes = spec.codes(spec.codeFields.map((_, i) => rest[i] ?? ''));
      const n = Number(frame);
      if (codes.length > 0) frames.set(n, { dir: sport === '102' ? 1 : 0, codes });
      const fields: Record<string, string> = {};
      spec.identityFields.forEach((f, i) => {
        const v = rest[spec.codeFields.length + i];
        if (v) fields[f] = v;
      });
      if (Object.keys(fields).length > 0) identity.push({ frame: n, fields });
    }
    captures[file] = { frames: encodeFrames(frames), identity };
  }
  return { tshark: version, captures };
}

/** The checked-in reference (regenerated first under PLANTGUARD_UPDATE_GOLDEN=1), or null. */
export function loadIsoReference(spec: IsoReferenceSpec): IsoReference | null {
  const canGenerate = spawnSync('tshark', ['-v']).status === 0 && existsSync(spec.pcaps);
  if (process.env.PLANTGUARD_UPDATE_GOLDEN === '1' && canGenerate) {
    const ref = generate(spec);
    mkdirSync(dirname(spec.reference), { recursive: true });
    writeFileSync(spec.reference, `${JSON.stringify(ref, null, 2)}\n`);
    return ref;
  }
  return existsSync(spec.reference) ? (JSON.parse(readFileSync(spec.reference, 'utf8')) as IsoReference) : null;
}

/** A capture replayed through the ISO-TSAP analyzer, one per connection. */
export async function replayIsoCapture(file: string): Promise<CaptureReplay> {
  const [source] = await openCaptureSources([file]);
  const r = new CaptureReplay(SKIP_HOLES);
  for await (const b of source!.batches()) {
    for (let i = 0; i < b.count; i++) r.packet(b.data, b.offset[i]!, b.capLen[i]!, b.linkType[i]!, b.tsMicros[i]!);
  }
  r.finish();
  return r;
}
