// The S7comm fast path (read/write var jobs and their ack_data taken straight from the bytes, and the
// port-102 analyzer's zero-view `dataAt`) against the general decoder, on generated traffic that is
// mostly of the fast shapes with random fields and random damage (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { openCaptureSources } from '../../capture/open.ts';
import type { Direction } from '../_core/types.ts';
import { IsoTsapAnalyzer } from '../iso/index.ts';
import { CaptureReplay, RecordingContext, cat, hex, tpktDt } from '../iso/test-support.ts';

const CR = hex('0300 0016 11 e0 0000 0001 00 c1 02 0100 c2 02 0102 c0 01 09');
const CC = hex('0300 0016 11 d0 0001 0044 00 c1 02 0100 c2 02 0102 c0 01 09');
const SETUP = hex('32 01 0000 0001 0008 0000  f0 00 0001 0001 01e0');
const SETUP_ACK = hex('32 03 0000 0001 0008 0000 00 00  f0 00 0001 0001 00f0');

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];

/** An S7ANY item, usually well formed. */
const item = fc
  .record({
    varspec: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0x12) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    specLen: fc.oneof(
      { weight: 9, arbitrary: fc.constant(10) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }) },
    ),
    syntax: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0x10) },
      { weight: 1, arbitrary: fc.constantFrom(0xb0, 0xb2, 0) },
    ),
    ts: fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 0x0f, 0x1c, 0x1d), fc.integer({ min: 0, max: 255 })),
    length: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 0xffff })),
    db: fc.integer({ min: 0, max: 3 }),
    area: fc.oneof(fc.constantFrom(0x84, 0x83, 0x81, 0x85, 0x1c, 0x1d, 0x1e), fc.integer({ min: 0, max: 255 })),
    address: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffff })),
  })
  .map((i) => {
    const body = [
      i.syntax,
      i.ts,
      ...u16(i.length),
      ...u16(i.db),
      i.area,
      i.address >> 16,
      (i.address >> 8) & 0xff,
      i.address & 0xff,
    ];
    while (body.length < i.specLen) body.push(0);
    return [i.varspec, i.specLen, ...body.slice(0, i.specLen)];
  });

/** A data item of a write var job or a read var ack_data. */
const dataItem = fc
  .record({
    rc: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(0x00, 0xff) },
      { weight: 1, arbitrary: fc.constantFrom(0x05, 0x0a) },
    ),
    ts: fc.constantFrom(0x03, 0x04, 0x05, 0x09, 0x07),
    data: fc.uint8Array({ maxLength: 9 }),
    lengthFixup: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
    ),
  })
  .map((d) => {
    const bits = d.ts === 0x03 || d.ts === 0x04 || d.ts === 0x05;
    const present = d.rc === 0x00 || d.rc === 0xff;
    const data = present ? [...d.data] : [];
    const length = Math.max(0, (bits ? data.length * 8 : data.length) + d.lengthFixup);
    const out = [d.rc, d.ts, ...u16(length), ...data];
    return data.length % 2 === 1 ? [...out, 0] : out;
  });

const header = (rosctr: number, ref: number, param: number[], data: number[], error: readonly number[]): number[] => [
  0x32,
  rosctr,
  0,
  0,
  ...u16(ref),
  ...u16(param.length),
  ...u16(data.length),
  ...(rosctr === 2 || rosctr === 3 ? error : []),
  ...param,
  ...data,
];

const ref = fc.integer({ min: 0, max: 3 });
const func = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(0x04, 0x05) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0xf0, 0x1b) },
);
const error = fc.oneof(
  { weight: 6, arbitrary: fc.constant([0, 0]) },
  { weight: 1, arbitrary: fc.constantFrom([0x81, 0x04], [0, 1]) },
);

const job = fc
  .tuple(ref, func, fc.array(item, { maxLength: 4 }), fc.array(dataItem, { maxLength: 4 }), fc.boolean())
  .map(([r, f, items, data, dropData]) =>
    header(1, r, [f, items.length, ...items.flat()], f === 0x05 && !dropData ? data.flat() : [], [0, 0]),
  );

const ackData = fc
  .tuple(ref, func, fc.integer({ min: 0, max: 4 }), fc.array(dataItem, { maxLength: 4 }), error, fc.boolean())
  .map(([r, f, count, data, err, codes]) => {
    const rcs = data.map((d) => d[0]!);
    const part = f === 0x05 || codes ? rcs : data.flat();
    return header(3, r, [f, count], part, err);
  });

/** Userdata: requests, responses and pushes of a few groups, SZL reads among them. */
const userdata = fc
  .record({
    ref: ref,
    type: fc.constantFrom(0x0, 0x4, 0x8, 0x4, 0x8),
    group: fc.constantFrom(0x4, 0x4, 0x0, 0x1, 0x2, 0x7, 0x3),
    sub: fc.constantFrom(0x01, 0x01, 0x02, 0x03, 0x0c, 0x13),
    long: fc.boolean(),
    /** The parameter's own length octet disagrees with the bytes there (8 for 4, 4 for 8). */
    plenSwapped: fc.boolean(),
    dataUnit: fc.constantFrom(0, 1, 2),
    lastDataUnit: fc.constantFrom(0x00, 0x01),
    error: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(0xd602) }),
    data: fc.option(
      fc.record({
        rc: fc.oneof({ weight: 5, arbitrary: fc.constant(0xff) }, { weight: 1, arbitrary: fc.constant(0x0a) }),
        szl: fc.constantFrom([0x00, 0x11], [0x00, 0x1c], [0x04, 0x24]),
        rest: fc.uint8Array({ maxLength: 40 }),
        lengthFixup: fc.oneof(
          { weight: 9, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
        ),
      }),
      { freq: 4 },
    ),
  })
  .map((u) => {
    const param = [
      0x00,
      0x01,
      0x12,
      u.long !== u.plenSwapped ? 8 : 4,
      u.type === 0x8 ? 0x12 : 0x11,
      (u.type << 4) | u.group,
      u.sub,
      0,
    ];
    if (u.long) param.push(u.dataUnit, u.lastDataUnit, ...u16(u.error));
    const payload = u.data === null ? [] : [...u.data.szl, 0, 0, ...u.data.rest];
    const data =
      u.data === null ? [] : [u.data.rc, 0x09, ...u16(Math.max(0, payload.length + u.data.lengthFixup)), ...payload];
    return header(7, u.ref, param, data, [0, 0]);
  });

/** A PDU, sometimes damaged: a byte changed, cut short, a byte added; sometimes another ROSCTR. */
const pdu = fc
  .tuple(
    fc.oneof(job, ackData, userdata),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
    ),
    fc.constantFrom(0, 0, 0, 0, -1, 1),
    fc.constantFrom(null, null, null, null, 2, 7),
  )
  .map(([b, change, resize, rosctr]) => {
    const out = [...b];
    if (change !== null) out[change.at % out.length] = change.value;
    if (resize < 0) out.pop();
    if (resize > 0) out.push(0);
    if (rosctr !== null) out[1] = rosctr;
    return Uint8Array.from(out);
  });

/** One PDU to send: its direction, how it is framed (one TPKT per segment, or other cuts). */
const step = fc.record({
  dir: fc.constantFrom<Direction>(0, 1),
  pdu,
  framing: fc.constantFrom('whole', 'whole', 'whole', 'whole', 'split', 'two_dts', 'no_eot'),
  at: fc.nat(),
});

type Step = { dir: Direction; pdu: Uint8Array; framing: string; at: number };

/** Segments per direction for the steps: [dir, bytes][]. */
function segments(steps: readonly Step[]): Array<[Direction, Uint8Array]> {
  const out: Array<[Direction, Uint8Array]> = [
    [0, CR],
    [1, CC],
    [0, tpktDt(SETUP)],
    [1, tpktDt(SETUP_ACK)],
  ];
  for (const s of steps) {
    const t = tpktDt(s.pdu);
    if (s.framing === 'whole') out.push([s.dir, t]);
    else if (s.framing === 'split') {
      const cut = 1 + (s.at % (t.length - 1));
      out.push([s.dir, t.subarray(0, cut)], [s.dir, t.subarray(cut)]);
    } else if (s.framing === 'two_dts') {
      const cut = s.at % (s.pdu.length + 1);
      out.push([s.dir, cat(tpktDt(s.pdu.subarray(0, cut), false), tpktDt(s.pdu.subarray(cut)))]);
    } else out.push([s.dir, tpktDt(s.pdu, false)]);
  }
  return out;
}

test('property: the fast path (dataAt, S7comm read/write var) reports exactly what the general path does', () => {
  fc.assert(
    fc.property(
      fc.array(step, { maxLength: 30 }),
      fc.integer({ min: 1, max: 4 }),
      fc.nat(7),
      (steps, maxPending, pad) => {
        const general = new RecordingContext();
        const fast = new RecordingContext();
        const g = new IsoTsapAnalyzer(general, maxPending, false);
        const f = new IsoTsapAnalyzer(fast, maxPending);
        let ts = 0;
        for (const [dir, seg] of segments(steps)) {
          ts++;
          g.data(dir, seg, ts);
          // The segment inside a larger buffer, as the packet path hands it over.
          const buf = new Uint8Array(pad + seg.length + 3).fill(0xee);
          buf.set(seg, pad);
          f.dataAt(dir, buf, pad, seg.length, ts);
        }
        g.end();
        f.end();
        assert.deepEqual(fast.events, general.events);
      },
    ),
    { numRuns: 1500 },
  );
});

test('property: S7Session.tsdu agrees with and without its fast path (data, not dataAt)', () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
      const general = new RecordingContext();
      const fast = new RecordingContext();
      const g = new IsoTsapAnalyzer(general, 3, false);
      const f = new IsoTsapAnalyzer(fast, 3);
      let ts = 0;
      for (const [dir, seg] of segments(steps)) {
        ts++;
        g.data(dir, seg, ts);
        f.data(dir, seg, ts);
      }
      g.end();
      f.end();
      assert.deepEqual(fast.events, general.events);
    }),
    { numRuns: 800 },
  );
});

test('the fast path is taken for the common shapes: a pooled read record is reused intact', () => {
  const ctx = new RecordingContext();
  const a = new IsoTsapAnalyzer(ctx);
  a.data(0, CR, 0);
  a.data(1, CC, 0);
  a.data(0, tpktDt(SETUP), 0);
  a.data(1, tpktDt(SETUP_ACK), 0);
  const read = (r: number, db: number): [Uint8Array, Uint8Array] => [
    tpktDt(
      hex(
        `32 01 0000 ${r.toString(16).padStart(4, '0')} 000e 0000  04 01 12 0a 10 02 0004 ${db.toString(16).padStart(4, '0')} 84 000010`,
      ),
    ),
    tpktDt(hex(`32 03 0000 ${r.toString(16).padStart(4, '0')} 0002 0008 00 00  04 01  ff 04 0020 01020304`)),
  ];
  for (let i = 0; i < 3; i++) {
    const [q, s] = read(10 + i, i + 1);
    a.dataAt(0, q, 0, q.length, 10 + i);
    a.dataAt(1, s, 0, s.length, 20 + i);
  }
  assert.deepEqual(
    ctx.ops().slice(-3),
    [1, 2, 3].map((db, i) => ({
      name: 's7comm.read_var',
      protocol: 's7comm',
      code: 4,
      access: 'read',
      tsMicros: 10 + i,
      responded: true,
      address: 2,
      quantity: 4,
      addressSpace: `db${db}`,
    })),
  );
});

const SHARED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'pcaps');

async function replayWith(file: string, zeroView: boolean, fastPath: boolean): Promise<CaptureReplay> {
  const [source] = await openCaptureSources([file]);
  const r = new CaptureReplay(undefined, zeroView, fastPath);
  for await (const b of source!.batches()) {
    for (let i = 0; i < b.count; i++) r.packet(b.data, b.offset[i]!, b.capLen[i]!, b.linkType[i]!, b.tsMicros[i]!);
  }
  r.finish();
  return r;
}

test('real S7comm, S7comm-plus and MMS captures: dataAt and the fast path report what data and the general path do', async (t) => {
  const dirs = ['s7comm', 'iec61850'].map((d) => join(SHARED, d)).filter((d) => existsSync(d));
  if (dirs.length === 0) {
    t.skip(`no captures at ${SHARED}`);
    return;
  }
  let flows = 0;
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f))) {
      const general = await replayWith(join(dir, file), false, false);
      const fast = await replayWith(join(dir, file), true, true);
      assert.equal(fast.flows.length, general.flows.length, file);
      fast.flows.forEach((f, i) => assert.deepEqual(f.ctx.events, general.flows[i]!.ctx.events, `${file} flow ${i}`));
      assert.deepEqual(fast.traces, general.traces, file);
      flows += fast.flows.length;
    }
  }
  assert.ok(flows > 0);
});
