// Tests of the pcap/pcapng push parser on bytes built in the test (see test-helpers.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CaptureParser, createCaptureStats, sniffCapture } from './parser.ts';
import { CaptureError } from './types.ts';
import {
  bytesOf,
  concat,
  epb,
  hex,
  idb,
  otherBlock,
  packetBlock,
  parseChunks,
  pcapFile,
  pcapHeader,
  pcapRecord,
  rawBlockHeader,
  shb,
  spb,
  type FlatRecord,
  type PcapRecord,
} from './test-helpers.ts';

const frameA = bytesOf(0xaa, 0xbb, 0xcc, 0xdd, 0xee);
const frameB = Uint8Array.from({ length: 60 }, (_, i) => i);
const frameC = bytesOf(0x45);

const SEC = 1_700_000_000;

function pcapRecords(): PcapRecord[] {
  return [
    { sec: SEC, frac: 123_456, data: frameA },
    { sec: SEC + 1, frac: 0, data: frameB, origLen: 1514 },
    { sec: SEC + 2, frac: 999_999, data: frameC },
  ];
}

test('classic pcap, little-endian, microseconds', () => {
  const { records, stats } = parseChunks(pcapFile(pcapRecords(), { linkType: 1 }));
  assert.deepEqual(records, [
    { data: hex(frameA), capLen: 5, origLen: 5, tsMicros: SEC * 1e6 + 123_456, linkType: 1 },
    { data: hex(frameB), capLen: 60, origLen: 1514, tsMicros: (SEC + 1) * 1e6, linkType: 1 },
    { data: hex(frameC), capLen: 1, origLen: 1, tsMicros: (SEC + 2) * 1e6 + 999_999, linkType: 1 },
  ]);
  assert.equal(stats.format, 'pcap');
  assert.equal(stats.packets, 3);
  assert.equal(stats.capturedBytes, 66);
  assert.equal(stats.snapTruncatedPackets, 1);
  assert.deepEqual([...stats.linkTypes], [1]);
  assert.equal(stats.truncated, false);
  assert.deepEqual(stats.issues, []);
});

test('classic pcap, big-endian, gives the same records', () => {
  const le = parseChunks(pcapFile(pcapRecords(), { linkType: 113 }));
  const be = parseChunks(pcapFile(pcapRecords(), { linkType: 113, le: false }));
  assert.deepEqual(be.records, le.records);
  assert.equal(be.records[0]!.linkType, 113);
  assert.equal(be.stats.format, 'pcap');
});

test('nanosecond pcap (both byte orders) rounds timestamps down to microseconds', () => {
  const recs: PcapRecord[] = [
    { sec: SEC, frac: 123_456_789, data: frameA },
    { sec: SEC, frac: 999_999_999, data: frameC },
  ];
  for (const le of [true, false]) {
    const { records, stats } = parseChunks(pcapFile(recs, { nano: true, le }));
    assert.deepEqual(
      records.map((r) => r.tsMicros),
      [SEC * 1e6 + 123_456, SEC * 1e6 + 999_999],
    );
    assert.equal(stats.format, 'pcap-ns');
  }
});

test('pcap link type: the FCS bits above the low 16 bits are ignored', () => {
  // FCS length 2 (in 16-bit units) with its presence bit, on Ethernet.
  const field = (2 << 28) | 0x04000000 | 1;
  const { records, stats } = parseChunks(pcapFile(pcapRecords(), { linkType: field >>> 0 }));
  assert.equal(records[0]!.linkType, 1);
  assert.deepEqual([...stats.linkTypes], [1]);
});

test('a pcap header alone is a valid empty capture', () => {
  const { records, stats } = parseChunks(pcapHeader());
  assert.equal(records.length, 0);
  assert.equal(stats.truncated, false);
  assert.deepEqual(stats.issues, []);
});

function pcapngFile(le: boolean): Uint8Array {
  return concat(
    shb(le),
    idb(le, { linkType: 1 }),
    epb(le, { units: BigInt(SEC) * 1_000_000n + 5n, data: frameA }),
    epb(le, { units: BigInt(SEC + 1) * 1_000_000n, data: frameB, origLen: 200, comment: 'hello' }),
  );
}

test('pcapng little-endian and big-endian', () => {
  const expected: FlatRecord[] = [
    { data: hex(frameA), capLen: 5, origLen: 5, tsMicros: SEC * 1e6 + 5, linkType: 1 },
    { data: hex(frameB), capLen: 60, origLen: 200, tsMicros: (SEC + 1) * 1e6, linkType: 1 },
  ];
  for (const le of [true, false]) {
    const { records, stats } = parseChunks(pcapngFile(le));
    assert.deepEqual(records, expected, le ? 'LE' : 'BE');
    assert.equal(stats.format, 'pcapng');
    assert.equal(stats.snapTruncatedPackets, 1);
    assert.deepEqual(stats.issues, []);
  }
});

test('pcapng with several sections in different byte orders resets the interfaces', () => {
  const bytes = concat(
    shb(true),
    idb(true, { linkType: 1 }),
    epb(true, { units: 1n, data: frameA }),
    shb(false),
    idb(false, { linkType: 101, tsresol: 9 }),
    epb(false, { units: 5_000n, data: frameC }),
    shb(true),
    idb(true, { linkType: 113 }),
    epb(true, { units: 7n, data: frameB }),
  );
  const { records, stats } = parseChunks(bytes);
  assert.deepEqual(
    records.map((r) => [r.linkType, r.tsMicros, r.capLen]),
    [
      [1, 1, 5],
      [101, 5, 1],
      [113, 7, 60],
    ],
  );
  assert.deepEqual(
    [...stats.linkTypes].sort((a, b) => a - b),
    [1, 101, 113],
  );
  assert.deepEqual(stats.issues, []);
});

test('pcapng interfaces with different link types and if_tsresol (µs, 10^-9, 2^-20) and if_tsoffset', () => {
  for (const le of [true, false]) {
    const frac20 = 0x8_0000n; // half a second in 2^-20 units
    const bytes = concat(
      shb(le),
      idb(le, { linkType: 1 }),
      idb(le, { linkType: 113, tsresol: 9 }),
      idb(le, { linkType: 228, tsresol: 0x80 | 20 }),
      idb(le, { linkType: 101, tsresol: 3, tsoffset: 100n }),
      epb(le, { iface: 1, units: BigInt(SEC) * 1_000_000_000n + 123_456_789n, data: frameA }),
      epb(le, { iface: 2, units: (BigInt(SEC) << 20n) + frac20 + 1n, data: frameB }),
      epb(le, { iface: 0, units: BigInt(SEC) * 1_000_000n + 1n, data: frameC }),
      epb(le, { iface: 3, units: 1_500n, data: frameC }),
    );
    const { records, stats } = parseChunks(bytes);
    assert.deepEqual(
      records.map((r) => [r.linkType, r.tsMicros]),
      [
        [113, SEC * 1e6 + 123_456],
        // 2^-20 s units: 0x80001 / 2^20 s = 500000.95 µs, rounded down
        [228, SEC * 1e6 + 500_000],
        [1, SEC * 1e6 + 1],
        // milliseconds plus a 100 s offset
        [101, 100 * 1e6 + 1_500_000],
      ],
      le ? 'LE' : 'BE',
    );
    assert.deepEqual(
      [...stats.linkTypes].sort((a, b) => a - b),
      [1, 101, 113, 228],
    );
  }
});

test('pcapng Simple Packet Block: interface 0, captured length min(orig, snaplen, block), previous timestamp', () => {
  for (const le of [true, false]) {
    const bytes = concat(
      shb(le),
      idb(le, { linkType: 1, snaplen: 4 }),
      epb(le, { units: 42n, data: frameC }),
      spb(le, frameA, 5), // snaplen 4 wins
      shb(le),
      idb(le, { linkType: 1, snaplen: 0 }),
      spb(le, frameA, 3), // original length 3 wins (bytes past it are padding)
      spb(le, frameA, 9), // the block holds 5 (padded to 8): 8 bytes are there, 8 is captured
    );
    const { records, stats } = parseChunks(bytes);
    assert.deepEqual(
      records.map((r) => [r.capLen, r.origLen, r.tsMicros, r.data]),
      [
        [1, 1, 42, '45'],
        [4, 5, 42, 'aabbccdd'],
        [3, 3, 42, 'aabbcc'],
        [8, 9, 42, 'aabbccddee000000'],
      ],
    );
    assert.equal(stats.snapTruncatedPackets, 2);
  }
});

test('pcapng obsolete Packet Block is read', () => {
  for (const le of [true, false]) {
    const bytes = concat(shb(le), idb(le, { linkType: 1 }), packetBlock(le, { units: 77n, data: frameA, origLen: 9 }));
    const { records } = parseChunks(bytes);
    assert.deepEqual(records, [{ data: hex(frameA), capLen: 5, origLen: 9, tsMicros: 77, linkType: 1 }]);
  }
});

test('pcapng blocks of other and unknown types are skipped by their length', () => {
  const le = true;
  const bytes = concat(
    shb(le),
    otherBlock(le, 4, 20), // name resolution
    idb(le, { linkType: 1 }),
    otherBlock(le, 5, 24), // interface statistics
    epb(le, { units: 1n, data: frameA }),
    otherBlock(le, 0x00000bad, 13), // custom
    otherBlock(le, 0x12345678, 0), // unknown
    otherBlock(le, 10, 40), // decryption secrets
    epb(le, { units: 2n, data: frameC }),
  );
  const { records, stats } = parseChunks(bytes);
  assert.equal(records.length, 2);
  assert.deepEqual(stats.issues, []);
});

test('a packet on an undeclared interface is skipped with one anomaly', () => {
  const bytes = concat(
    shb(true),
    idb(true),
    epb(true, { iface: 3, units: 1n, data: frameA }),
    epb(true, { iface: 3, units: 1n, data: frameA }),
    epb(true, { iface: 0, units: 2n, data: frameC }),
  );
  const { records, stats } = parseChunks(bytes);
  assert.equal(records.length, 1);
  assert.deepEqual(
    stats.issues.map((i) => i.code),
    ['capture.unknown_interface'],
  );
  assert.equal(stats.truncated, false);
});

test('captured length above the original length: one anomaly, reading continues', () => {
  const recs: PcapRecord[] = [
    { sec: 1, frac: 0, data: frameA, origLen: 2 },
    { sec: 2, frac: 0, data: frameB, origLen: 3 },
    { sec: 3, frac: 0, data: frameC },
  ];
  const { records, stats } = parseChunks(pcapFile(recs));
  assert.equal(records.length, 3);
  assert.deepEqual(
    stats.issues.map((i) => i.code),
    ['capture.caplen_exceeds_origlen'],
  );
  assert.equal(stats.truncated, false);
});

test('truncated pcap: the packets before are kept and the issue says how many', () => {
  const full = pcapFile(pcapRecords());
  const cut = full.subarray(0, full.length - 1);
  const { records, stats } = parseChunks(cut, [30, 50]);
  assert.equal(records.length, 2);
  assert.equal(stats.truncated, true);
  assert.equal(stats.issues.length, 1);
  const issue = stats.issues[0]!;
  assert.equal(issue.code, 'capture.truncated');
  assert.match(issue.message, /2 packets were read/);
  assert.equal(issue.offset, full.length - 17);
});

test('truncated pcapng and truncated file header', () => {
  const full = pcapngFile(true);
  const { records, stats } = parseChunks(full.subarray(0, full.length - 10));
  assert.equal(records.length, 1);
  assert.equal(stats.truncated, true);
  assert.match(stats.issues[0]!.message, /1 packets were read/);

  const header = parseChunks(pcapHeader().subarray(0, 10));
  assert.equal(header.stats.truncated, true);
  assert.equal(header.stats.issues[0]!.code, 'capture.truncated');
});

test('absurd lengths stop the file without throwing and keep what was read', () => {
  const max = 4096;
  const good = pcapRecord({ sec: 1, frac: 0, data: frameA });
  const cases: [string, Uint8Array][] = [
    [
      'pcap record beyond the limit',
      concat(pcapHeader(), good, pcapRecord({ sec: 2, frac: 0, data: frameA, capLenField: 0x7fff0000 })),
    ],
    [
      'pcap record length with the top bit set',
      concat(pcapHeader(), good, pcapRecord({ sec: 2, frac: 0, data: frameA, capLenField: 0xffffffff })),
    ],
    [
      'pcapng block shorter than 12',
      concat(
        shb(true),
        idb(true),
        epb(true, { units: 1n, data: frameA }),
        rawBlockHeader(true, 6, 8),
        new Uint8Array(64),
      ),
    ],
    [
      'pcapng block not a multiple of 4',
      concat(
        shb(true),
        idb(true),
        epb(true, { units: 1n, data: frameA }),
        rawBlockHeader(true, 6, 34),
        new Uint8Array(64),
      ),
    ],
    [
      'pcapng block beyond the limit',
      concat(
        shb(false),
        idb(false),
        epb(false, { units: 1n, data: frameA }),
        rawBlockHeader(false, 6, 1 << 30),
        new Uint8Array(64),
      ),
    ],
    [
      'EPB captured length beyond its block',
      concat(
        shb(true),
        idb(true),
        epb(true, { units: 1n, data: frameA }),
        epb(true, { units: 1n, data: frameA, capLenField: 200 }),
      ),
    ],
  ];
  for (const [what, bytes] of cases) {
    for (const splits of [[], [7, 40, 41, 90]]) {
      const { records, stats } = parseChunks(bytes, splits, max);
      assert.equal(records.length, 1, what);
      assert.equal(stats.truncated, true, what);
      assert.equal(stats.issues.length, 1, what);
      assert.equal(stats.issues[0]!.code, 'capture.bad_record_length', what);
      assert.match(stats.issues[0]!.message, /after 1 packets/, what);
    }
  }
});

test('after a bad length, further pushes are ignored', () => {
  const stats = createCaptureStats();
  const p = new CaptureParser('x.pcap', stats);
  p.push(concat(pcapHeader(), pcapRecord({ sec: 1, frac: 0, data: frameA, capLenField: 0xfffffff0 })));
  assert.equal(p.stopped, true);
  assert.equal(p.push(pcapRecord({ sec: 1, frac: 0, data: frameA })), null);
  p.end();
  assert.equal(stats.issues.length, 1);
});

test('not a capture: CaptureError with the first bytes', () => {
  const html = new TextEncoder().encode('<html><body>hello</body></html>');
  const p = new CaptureParser('page.html', createCaptureStats());
  assert.throws(
    () => p.push(html),
    (e: unknown) =>
      e instanceof CaptureError &&
      e.code === 'capture.not_a_capture' &&
      e.file === 'page.html' &&
      e.message ===
        'page.html: not a capture file (first bytes 3c 68 74 6d): PlantGuard reads pcap, pcapng and their gzip-compressed forms',
  );
  // A pcapng magic without a valid byte-order magic is not pcapng.
  const fake = concat(bytesOf(0x0a, 0x0d, 0x0d, 0x0a), new Uint8Array(12));
  assert.throws(() => new CaptureParser('f', createCaptureStats()).push(fake), { code: 'capture.not_a_capture' });
});

test('empty input and input too short to be a capture', () => {
  const empty = new CaptureParser('e.pcap', createCaptureStats());
  assert.throws(() => empty.end(), { code: 'capture.empty' });
  const short = new CaptureParser('s.pcap', createCaptureStats());
  assert.equal(short.push(bytesOf(0xd4, 0xc3)), null);
  assert.throws(() => short.end(), { code: 'capture.not_a_capture', message: /only 2 bytes/ });
});

test('sniffCapture recognises the magics', () => {
  assert.equal(sniffCapture(pcapHeader()), 'pcap');
  assert.equal(sniffCapture(pcapHeader({ le: false, nano: true })), 'pcap-ns');
  assert.equal(sniffCapture(shb(false)), 'pcapng');
  assert.equal(sniffCapture(bytesOf(0x1f, 0x8b, 8)), 'gzip');
  assert.equal(sniffCapture(bytesOf(0x0a, 0x0d, 0x0d, 0x0a)), 'short');
  assert.equal(sniffCapture(bytesOf(1, 2, 3, 4)), 'unknown');
});

test('a record larger than many chunks is carried across them', () => {
  const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
  const bytes = pcapFile([
    { sec: 1, frac: 1, data: frameA },
    { sec: 2, frac: 2, data: big },
    { sec: 3, frac: 3, data: frameC },
  ]);
  const splits = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => i * 1000 + 17);
  const { records, stats } = parseChunks(bytes, splits);
  assert.deepEqual(
    records.map((r) => r.capLen),
    [5, 100_000, 1],
  );
  assert.equal(records[1]!.data, hex(big));
  assert.deepEqual(stats.issues, []);
});

test('a chunk of tiny records after large ones grows the batch', () => {
  const big = new Uint8Array(50_000);
  const tiny: PcapRecord[] = Array.from({ length: 5000 }, (_, i) => ({ sec: 10, frac: i, data: frameC }));
  const bytes = pcapFile([{ sec: 1, frac: 0, data: big }, ...tiny]);
  const { records } = parseChunks(bytes, [24 + 16 + 50_000]);
  assert.equal(records.length, 5001);
  assert.equal(records[5000]!.tsMicros, 10 * 1e6 + 4999);
});

// ---------------------------------------------------------------- property: re-chunking

interface GenRecord {
  readonly data: Uint8Array;
  readonly sec: number;
  readonly frac: number;
  readonly iface: number;
  readonly extraOrig: number;
}

const genRecord = fc.record({
  data: fc.uint8Array({ maxLength: 80 }),
  sec: fc.integer({ min: 0, max: 0xffffffff }),
  frac: fc.integer({ min: 0, max: 999_999 }),
  iface: fc.nat(2),
  extraOrig: fc.nat(3),
});

function buildCapture(kind: number, le: boolean, recs: readonly GenRecord[]): Uint8Array {
  if (kind === 0) {
    return pcapFile(
      recs.map((r) => ({ sec: r.sec, frac: r.frac, data: r.data, origLen: r.data.length + r.extraOrig })),
      { le, nano: r0(recs) },
    );
  }
  const parts = [
    shb(le),
    idb(le, { linkType: 1 }),
    idb(le, { linkType: 113, tsresol: 9 }),
    idb(le, { tsresol: 0x80 | 20 }),
  ];
  recs.forEach((r, i) => {
    // A new section in the other byte order every 11 records.
    const curLe = Math.floor((i + 6) / 11) % 2 === 0 ? le : !le;
    if (i % 11 === 5) {
      parts.push(shb(curLe), idb(curLe, { linkType: 1 }), idb(curLe, { linkType: 113, tsresol: 9 }));
      parts.push(idb(curLe, { tsresol: 0x80 | 20 }));
    }
    if (i % 7 === 3) parts.push(otherBlock(curLe, 5, r.extraOrig * 4));
    const units = BigInt(r.sec) * 1_000_000n + BigInt(r.frac);
    parts.push(epb(curLe, { iface: r.iface, units, data: r.data, origLen: r.data.length + r.extraOrig }));
  });
  return concat(...parts);
}

/** Reference conversion in exact BigInt arithmetic. */
function expectedTimeAndLink(kind: number, recs: readonly GenRecord[], r: GenRecord): [number, number] {
  if (kind === 0) {
    const frac = r0(recs) ? Math.floor(r.frac / 1000) : r.frac;
    return [r.sec * 1e6 + frac, 1];
  }
  const units = BigInt(r.sec) * 1_000_000n + BigInt(r.frac);
  const perSecond = [1_000_000n, 1_000_000_000n, 1n << 20n][r.iface]!;
  return [Number((units * 1_000_000n) / perSecond), [1, 113, 1][r.iface]!];
}

function r0(recs: readonly GenRecord[]): boolean {
  return (recs[0]?.iface ?? 0) === 1;
}

test('property: any split of the stream into chunks gives the same records as one chunk', () => {
  fc.assert(
    fc.property(
      fc.nat(1),
      fc.boolean(),
      fc.array(genRecord, { maxLength: 40 }),
      fc.array(fc.nat(8000), { maxLength: 30 }),
      (kind, le, recs, rawSplits) => {
        const bytes = buildCapture(kind, le, recs);
        const whole = parseChunks(bytes);
        assert.equal(whole.records.length, recs.length);
        assert.deepEqual(
          whole.records.map((r) => r.data),
          recs.map((r) => hex(r.data)),
        );
        assert.deepEqual(
          whole.records.map((r) => [r.tsMicros, r.linkType]),
          recs.map((r) => expectedTimeAndLink(kind, recs, r)),
        );
        const splits = rawSplits.map((s) => s % (bytes.length + 1));
        const split = parseChunks(bytes, splits);
        assert.deepEqual(split.records, whole.records);
        // Chunks with free room before them (plain files): records cut in two completed there.
        for (const headroom of [8, 64 * 1024]) {
          const roomy = parseChunks(bytes, splits, undefined, headroom);
          assert.deepEqual(roomy.records, whole.records, `headroom ${headroom}`);
        }
        assert.equal(split.stats.packets, whole.stats.packets);
        assert.equal(split.stats.capturedBytes, whole.stats.capturedBytes);
        assert.equal(split.stats.snapTruncatedPackets, whole.stats.snapTruncatedPackets);
        assert.deepEqual(split.stats.issues, []);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: a cut anywhere keeps every complete record and reports the cut', () => {
  fc.assert(
    fc.property(fc.nat(1), fc.array(genRecord, { minLength: 1, maxLength: 20 }), fc.nat(), (kind, recs, cutSeed) => {
      const bytes = buildCapture(kind, true, recs);
      const whole = parseChunks(bytes).records;
      // At least the 4 magic bytes, so the input is recognisably a capture.
      const cut = 4 + (cutSeed % (bytes.length - 4));
      const part = parseChunks(bytes.subarray(0, cut), [cut >> 1]);
      assert.deepEqual(part.records, whole.slice(0, part.records.length));
      const codes = part.stats.issues.map((i) => i.code);
      assert.deepEqual(codes, part.stats.truncated ? ['capture.truncated'] : []);
    }),
    { numRuns: 200 },
  );
});
