// Tests of opening capture inputs (files, directories, stdin, gzip) and of the time-ordered merge,
// on files written to a temporary directory.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { mergeByTime, openCaptureSources } from './open.ts';
import { CaptureError, type CaptureSource, type PacketBatch } from './types.ts';
import { concat, epb, flatten, idb, pcapFile, shb, type FlatRecord, type PcapRecord } from './test-helpers.ts';

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'plantguard-capture-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

/** Records with a payload that names them, so order mistakes are visible. */
function records(tag: number, times: readonly number[]): PcapRecord[] {
  return times.map((t, i) => ({
    sec: Math.floor(t / 1e6),
    frac: t % 1e6,
    data: Uint8Array.from({ length: 20 + (i % 50) }, (_, j) => (j === 0 ? tag : (i + j) & 0xff)),
  }));
}

async function readAll(source: AsyncIterable<PacketBatch>): Promise<{ recs: FlatRecord[]; batches: number }> {
  const recs: FlatRecord[] = [];
  let batches = 0;
  for await (const b of source) {
    batches++;
    recs.push(...flatten(b));
  }
  return { recs, batches };
}

async function readSource(s: CaptureSource): Promise<FlatRecord[]> {
  return (await readAll(s.batches())).recs;
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CaptureError, `expected CaptureError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

const times = Array.from({ length: 3000 }, (_, i) => 1_700_000_000_000_000 + i * 1000);

test('a pcap file read in small chunks gives every record, and bytesRead reaches the size', async () => {
  const bytes = pcapFile(records(1, times));
  const path = write('plain.pcap', bytes);
  const [src] = await openCaptureSources([path], { chunkBytes: 777 });
  assert.ok(src);
  assert.equal(src.name, path);
  assert.equal(src.size, bytes.length);
  const recs = await readSource(src);
  assert.equal(recs.length, times.length);
  assert.deepEqual(
    recs.map((r) => r.tsMicros),
    times,
  );
  assert.equal(src.stats.packets, times.length);
  assert.equal(src.stats.bytesRead, bytes.length);
  assert.equal(src.stats.gzip, false);
  assert.deepEqual(src.stats.issues, []);
  assert.throws(() => src.batches(), /already called/);
});

test('gzip-compressed captures are decompressed as a stream', async () => {
  const plain = pcapFile(records(1, times));
  const gz = gzipSync(plain);
  const path = write('comp.pcap.gz', gz);
  const [src] = await openCaptureSources([path], { chunkBytes: 4096 });
  assert.ok(src);
  assert.equal(src.size, gz.length);
  const recs = await readSource(src);
  const [ref] = await openCaptureSources([write('comp-ref.pcap', plain)]);
  assert.deepEqual(recs, await readSource(ref!));
  assert.equal(src.stats.gzip, true);
  assert.equal(src.stats.bytesRead, gz.length);
  assert.deepEqual(src.stats.issues, []);

  const ng = gzipSync(
    concat(shb(false), idb(false, { linkType: 113 }), epb(false, { units: 9n, data: new Uint8Array(3) })),
  );
  const [ngSrc] = await openCaptureSources([write('ng.pcapng.gz', ng)]);
  assert.deepEqual(
    (await readSource(ngSrc!)).map((r) => [r.tsMicros, r.linkType]),
    [[9, 113]],
  );
  assert.equal(ngSrc!.stats.format, 'pcapng');
});

test('a corrupt or cut gzip stream keeps what was read and records capture.bad_gzip', async () => {
  const gz = gzipSync(pcapFile(records(1, times)), { level: 1 });
  const cut = write('cut.pcap.gz', gz.subarray(0, gz.length >> 1));
  const [a] = await openCaptureSources([cut], { chunkBytes: 1024 });
  const recsA = await readSource(a!);
  assert.ok(recsA.length > 0 && recsA.length < times.length, `read ${recsA.length}`);
  assert.equal(a!.stats.truncated, true);
  assert.deepEqual(
    a!.stats.issues.map((i) => i.code),
    ['capture.bad_gzip'],
  );
  assert.match(a!.stats.issues[0]!.message, new RegExp(`${recsA.length} packets were read`));

  const badCrc = Uint8Array.from(gz);
  badCrc[badCrc.length - 8]! ^= 0xff;
  const [b] = await openCaptureSources([write('crc.pcap.gz', badCrc)], { chunkBytes: 1024 });
  const recsB = await readSource(b!);
  // The damage is found at the very end; zlib drops only the last output chunk (1 KiB here).
  assert.ok(recsB.length > times.length - 30, `read ${recsB.length}`);
  assert.deepEqual(
    b!.stats.issues.map((i) => i.code),
    ['capture.bad_gzip'],
  );
});

test('a truncated file is read up to the cut', async () => {
  const bytes = pcapFile(records(1, times.slice(0, 10)));
  const [src] = await openCaptureSources([write('trunc.pcap', bytes.subarray(0, bytes.length - 5))]);
  const recs = await readSource(src!);
  assert.equal(recs.length, 9);
  assert.equal(src!.stats.truncated, true);
  assert.match(src!.stats.issues[0]!.message, /9 packets were read/);
});

test('named inputs that cannot be read fail before any reading, naming the path', async () => {
  const missing = join(dir, 'nope.pcap');
  await rejectsWith(openCaptureSources([missing]), 'capture.not_found', new RegExp(`${missing}: no such file`));
  const html = write('page.pcap', '<html><body>not a capture</body></html>');
  await rejectsWith(
    openCaptureSources([html]),
    'capture.not_a_capture',
    /page\.pcap: not a capture file \(first bytes 3c 68 74 6d\): PlantGuard reads pcap, pcapng/,
  );
  await rejectsWith(openCaptureSources([write('empty.pcap', '')]), 'capture.empty', /empty/);
  await rejectsWith(
    openCaptureSources([write('text.gz', gzipSync(Buffer.from('hello world, plain text')))]),
    'capture.not_a_capture',
    /first bytes 68 65 6c 6c/,
  );
  await rejectsWith(
    openCaptureSources([write('junk.gz', Uint8Array.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))]),
    'capture.bad_gzip',
    /corrupt/,
  );
  await rejectsWith(openCaptureSources(['-', '-']), 'capture.stdin_twice', /more than once/);
});

test('an unreadable file is capture.unreadable', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root: file permissions are not enforced');
    return;
  }
  const p = write('secret.pcap', pcapFile(records(1, [1])));
  chmodSync(p, 0o000);
  await rejectsWith(openCaptureSources([p]), 'capture.unreadable', /permission denied/);
});

test('a directory gives its captures recursively, sorted by path, and skips other files with a warning', async () => {
  const root = join(dir, 'tree');
  write('tree/b.pcap', pcapFile(records(2, [20])));
  write('tree/a/z.pcapng', concat(shb(true), idb(true), epb(true, { units: 10n, data: new Uint8Array(4) })));
  write('tree/a/notes.txt', 'capture notes\n');
  write('tree/a/empty.pcap', '');
  write('tree/c/deep/x.pcap.gz', gzipSync(pcapFile(records(3, [30]))));
  const warnings: string[] = [];
  const sources = await openCaptureSources([root], { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(
    sources.map((s) => s.name),
    [join(root, 'a/z.pcapng'), join(root, 'b.pcap'), join(root, 'c/deep/x.pcap.gz')],
  );
  assert.equal(warnings.length, 2);
  assert.ok(warnings.some((w) => w.includes('notes.txt') && w.includes('not a capture')));
  assert.ok(warnings.some((w) => w.includes('empty.pcap') && w.includes('empty')));

  const emptyDir = join(dir, 'nothing');
  mkdirSync(emptyDir);
  const w2: string[] = [];
  assert.deepEqual(await openCaptureSources([emptyDir], { onWarning: (m) => w2.push(m) }), []);
  assert.match(w2[0]!, /no capture files/);
});

test("standard input ('-'), plain and gzip, detected from its first bytes", async () => {
  const bytes = pcapFile(records(4, times.slice(0, 50)));
  const chunks = (b: Uint8Array): Readable => Readable.from([b.subarray(0, 1), b.subarray(1, 300), b.subarray(300)]);
  for (const data of [bytes, gzipSync(bytes)]) {
    const [src] = await openCaptureSources(['-'], { stdin: chunks(data) });
    assert.equal(src!.size, null);
    const recs = await readSource(src!);
    assert.equal(recs.length, 50);
    assert.equal(src!.stats.bytesRead, data.length);
    assert.equal(src!.stats.gzip, data !== bytes);
  }
  const [bad] = await openCaptureSources(['-'], { stdin: Readable.from([Buffer.from('GET / HTTP/1.1\r\n')]) });
  await rejectsWith(readSource(bad!), 'capture.not_a_capture', /^-: not a capture file/);
  const [empty] = await openCaptureSources(['-'], { stdin: Readable.from([]) });
  await rejectsWith(readSource(empty!), 'capture.empty', /empty/);
});

test('mergeByTime of one source passes its batches through', async () => {
  const [src] = await openCaptureSources([write('one.pcap', pcapFile(records(1, times)))], { chunkBytes: 10_000 });
  const { recs, batches } = await readAll(mergeByTime([src!]));
  assert.equal(recs.length, times.length);
  assert.ok(batches > 1);
});

test('mergeByTime interleaves two files in time order, earlier input first on ties', async () => {
  const a = write('m/a.pcap', pcapFile(records(0xa, [1, 3, 5, 7])));
  const b = write('m/b.pcap', pcapFile(records(0xb, [2, 3, 4, 8, 9])));
  const { recs } = await readAll(mergeByTime(await openCaptureSources([a, b])));
  assert.deepEqual(
    recs.map((r) => [r.tsMicros, r.data.slice(0, 2)]),
    [
      [1, '0a'],
      [2, '0b'],
      [3, '0a'],
      [3, '0b'],
      [4, '0b'],
      [5, '0a'],
      [7, '0a'],
      [8, '0b'],
      [9, '0b'],
    ],
  );
  // Reversed input order: the tie at 3 goes to the other file first.
  const rev = await readAll(mergeByTime(await openCaptureSources([b, a])));
  assert.deepEqual(
    rev.recs.filter((r) => r.tsMicros === 3).map((r) => r.data.slice(0, 2)),
    ['0b', '0a'],
  );
});

test('property: merging files equals a stable sort of their records by time', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 3000 }), { minLength: 2, maxLength: 4 }),
      fc.integer({ min: 64, max: 20_000 }),
      async (lists, chunkBytes) => {
        run++;
        const paths = lists.map((ts, i) =>
          write(
            `p${run}/f${i}.pcap`,
            pcapFile(
              records(
                i,
                [...ts].sort((x, y) => x - y),
              ),
            ),
          ),
        );
        const sources = await openCaptureSources(paths, { chunkBytes });
        const expected: FlatRecord[] = [];
        for (const s of await openCaptureSources(paths)) expected.push(...(await readSource(s)));
        const stable = expected.map((r, i) => ({ r, i })).sort((x, y) => x.r.tsMicros - y.r.tsMicros || x.i - y.i);
        const { recs } = await readAll(mergeByTime(sources));
        assert.deepEqual(
          recs,
          stable.map((x) => x.r),
        );
      },
    ),
    { numRuns: 25 },
  );
});

test('merged batches are bounded, and stopping early closes every source', async () => {
  const many = Array.from({ length: 12_000 }, (_, i) => i);
  const a = write('big/a.pcap', pcapFile(records(1, many)));
  const b = write('big/b.pcap', pcapFile(records(2, many)));
  let max = 0;
  let total = 0;
  for await (const batch of mergeByTime(await openCaptureSources([a, b]))) {
    max = Math.max(max, batch.count);
    total += batch.count;
  }
  assert.equal(total, 24_000);
  assert.ok(max <= 4096);

  const sources = await openCaptureSources([a, b], { chunkBytes: 5000 });
  for await (const batch of mergeByTime(sources)) {
    assert.ok(batch.count > 0);
    break;
  }
  assert.ok(sources.every((s) => s.stats.bytesRead < 200_000));
});
