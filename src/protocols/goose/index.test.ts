// The GOOSE analyzer on whole frames: publish and state-change operations, per-gocbRef sequence
// anomalies, test/simulation flags, identity facts of the publisher, GSE management, confirmation
// and violation, and robustness on random frames (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GooseAnalyzer, gooseProtocol } from './index.ts';
import { Ctx, hex } from './test-support.ts';

interface Msg {
  gocbRef?: string;
  datSet?: string;
  goID?: string;
  appid?: number;
  stNum?: number;
  sqNum?: number;
  confRev?: number;
  test?: boolean;
  reserved1?: number;
  /** allData contents, hex */
  data?: string;
  entries?: number;
}

function tlv(tag: number, value: readonly number[]): number[] {
  return [tag, value.length, ...value];
}

function uint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    out.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (out[0]! >= 0x80) out.unshift(0);
  return out;
}

/** A GOOSE frame payload (after the ethertype) with IEC 61850-8-1 field order. */
function frame(m: Msg = {}): Uint8Array {
  const text = (s: string): number[] => [...Buffer.from(s)];
  const data = hex(m.data ?? '830101 830100 8402 0680 // true, false, Dbpos on');
  const fields = [
    ...tlv(0x80, text(m.gocbRef ?? 'AA1C1Q01A1LD0/LLN0$GO$gcb_A')),
    ...tlv(0x81, uint(2000)),
    ...tlv(0x82, text(m.datSet ?? 'AA1C1Q01A1LD0/LLN0$InterlockingA')),
    ...(m.goID === '' ? [] : tlv(0x83, text(m.goID ?? 'InterlockingA'))),
    ...tlv(0x84, [0x48, 0x88, 0x90, 0xc1, 0x24, 0, 0, 0x27]),
    ...tlv(0x85, uint(m.stNum ?? 1)),
    ...tlv(0x86, uint(m.sqNum ?? 0)),
    ...tlv(0x87, [m.test === true ? 1 : 0]),
    ...tlv(0x88, uint(m.confRev ?? 1)),
    ...tlv(0x89, [0]),
    ...tlv(0x8a, uint(m.entries ?? 3)),
    ...tlv(0xab, [...data]),
  ];
  const pdu = [0x61, 0x81, fields.length, ...fields];
  const appid = m.appid ?? 0x3001;
  const r1 = m.reserved1 ?? 0;
  const length = 8 + pdu.length;
  return Uint8Array.from([appid >> 8, appid & 255, length >> 8, length & 255, r1 >> 8, r1 & 255, 0, 0, ...pdu]);
}

function run(...frames: Uint8Array[]): Ctx {
  const ctx = new Ctx();
  const a = gooseProtocol.createAnalyzer(ctx);
  frames.forEach((f, i) => a.data(0, f, 1000 + i));
  a.end();
  return ctx;
}

test('registration: GOOSE and GSE management ethertypes', () => {
  assert.equal(gooseProtocol.name, 'goose');
  assert.deepEqual(gooseProtocol.etherTypes, [0x88b8, 0x88b9]);
});

test('a message is a publish operation and names its publisher', () => {
  const ctx = run(frame());
  assert.deepEqual(ctx.kinds(), ['confirm', 'op', 'fact']);
  assert.deepEqual(ctx.ops()[0], {
    name: 'goose.publish',
    protocol: 'goose',
    code: 1,
    access: 'write',
    tsMicros: 1000,
    unit: 0x3001,
    quantity: 3,
    addressSpace: 'AA1C1Q01A1LD0/LLN0$InterlockingA',
    responded: false,
    values: [1, 0, 2],
  });
  assert.deepEqual(ctx.facts()[0], {
    kind: 'identity',
    side: 0,
    protocol: 'goose',
    extra: {
      gocbRef: 'AA1C1Q01A1LD0/LLN0$GO$gcb_A',
      datSet: 'AA1C1Q01A1LD0/LLN0$InterlockingA',
      appid: '0x3001',
      confRev: '1',
      goID: 'InterlockingA',
      logicalDevice: 'AA1C1Q01A1LD0',
      iedName: 'AA1C1Q01A1',
    },
  });
  assert.deepEqual(ctx.pdus(), [1]);
});

test('retransmissions are publishes; a new stNum is also a state change', () => {
  const ctx = run(
    frame({ stNum: 7, sqNum: 0 }),
    frame({ stNum: 7, sqNum: 1 }),
    frame({ stNum: 7, sqNum: 2 }),
    frame({ stNum: 8, sqNum: 0, data: '830100 830100 8402 0640' }),
    frame({ stNum: 8, sqNum: 1, data: '830100 830100 8402 0640' }),
  );
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.values]),
    [
      ['goose.publish', [1, 0, 2]],
      ['goose.publish', [1, 0, 2]],
      ['goose.publish', [1, 0, 2]],
      ['goose.publish', [0, 0, 1]],
      ['goose.state_change', [0, 0, 1]],
      ['goose.publish', [0, 0, 1]],
    ],
  );
  assert.deepEqual(ctx.anomalies(), []);
  assert.equal(ctx.facts().length, 1, 'one identity fact per control block');
});

test('sequence oddities per gocbRef: stNum and sqNum going back, confRev changing', () => {
  const ctx = run(
    frame({ stNum: 9, sqNum: 5 }),
    frame({ stNum: 9, sqNum: 3 }), // sqNum back within a state: replay?
    frame({ stNum: 4, sqNum: 0 }), // stNum back
    frame({ stNum: 4, sqNum: 1, confRev: 2 }),
    frame({ stNum: 0xffffffff, sqNum: 0, confRev: 2 }),
    frame({ stNum: 1, sqNum: 0, confRev: 2 }), // wraps: not a regression
  );
  assert.deepEqual(ctx.anomalies(), ['goose.sq_num_regression', 'goose.st_num_regression', 'goose.conf_rev_changed']);
  assert.equal(ctx.facts().length, 2, 'the new confRev is a new identity fact');
  assert.equal(ctx.ops().filter((o) => o.name === 'goose.state_change').length, 3);
});

test('control blocks are tracked apart, and their number is bounded', () => {
  const a = run(frame({ gocbRef: 'IED1LD0/LLN0$GO$a', stNum: 1 }), frame({ gocbRef: 'IED1LD0/LLN0$GO$b', stNum: 5 }));
  assert.deepEqual(
    a.ops().map((o) => o.name),
    ['goose.publish', 'goose.publish'],
  );
  const frames = Array.from({ length: 70 }, (_, i) => frame({ gocbRef: `IED${i}LD0/LLN0$GO$gcb`, stNum: 1 }));
  const b = run(...frames, frame({ gocbRef: 'IED0LD0/LLN0$GO$gcb', stNum: 2 }));
  // gocbRef 0 was forgotten (64 kept): it comes back as a new control block, not a state change.
  assert.equal(b.facts().length, 71);
  assert.equal(b.ops().filter((o) => o.name === 'goose.state_change').length, 0);
});

test('test flag and simulation bit are anomalies once per analyzer', () => {
  const ctx = run(frame({ test: true }), frame({ test: true, sqNum: 1 }), frame({ reserved1: 0x8000, sqNum: 2 }));
  assert.deepEqual(ctx.anomalies(), ['goose.test_mode', 'goose.simulation_bit']);
});

test('the IED name is left out when the logical device has no known instance suffix', () => {
  const fact = run(frame({ gocbRef: 'GEDeviceF650/LLN0$GO$gcb01', goID: '' })).facts()[0]!;
  assert.ok(fact.kind === 'identity');
  assert.deepEqual(fact.extra, {
    gocbRef: 'GEDeviceF650/LLN0$GO$gcb01',
    datSet: 'AA1C1Q01A1LD0/LLN0$InterlockingA',
    appid: '0x3001',
    confRev: '1',
    logicalDevice: 'GEDeviceF650',
  });
});

test('GSE management is counted as an operation', () => {
  const ctx = run(hex('0001 000e 0000 0000 60 04 a1 02 8000'));
  assert.deepEqual(
    ctx.ops().map((o) => [o.name, o.access, o.unit]),
    [['goose.gse_management', 'other', 1]],
  );
  assert.deepEqual(ctx.pdus(), []);
});

test('a first frame that is not GOOSE violates; later bad frames are anomalies', () => {
  const bad = run(hex('4500 0054 0000 4000 4001 0000 c0a8 0001'), frame());
  assert.deepEqual(bad.events, [{ t: 'violate', code: 'goose.not_goose' }]);
  const ctx = new Ctx();
  const a = new GooseAnalyzer(ctx);
  a.data(0, frame(), 1);
  a.data(0, frame().subarray(0, 30), 2);
  a.data(0, frame({ sqNum: 1 }), 3);
  assert.deepEqual(ctx.kinds(), ['confirm', 'op', 'fact', 'anomaly', 'op']);
  assert.deepEqual(ctx.anomalies(), ['goose.bad_length']);
});

test('property: the analyzer never throws on random or corrupted frames', () => {
  const base = frame();
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 5 }).map((edits) => {
            const b = base.slice();
            for (const [at, v] of edits) b[at % b.length] = v;
            return b;
          }),
        ),
        { maxLength: 20 },
      ),
      (frames) => {
        const a = new GooseAnalyzer(new Ctx());
        a.data(0, base, 0);
        for (const f of frames) a.data(0, f, 1);
        a.end();
      },
    ),
    { numRuns: 1000 },
  );
});
