// TPKT framing, COTP TPDU decoding and TSDU reassembly on annotated fixtures (real bytes from the
// shared captures), plus totality under random bytes (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCotp, frameTpkt, type CotpTpdu } from './decode.ts';
import { TsduAssembler } from './reassembly.ts';
import { PendingTable } from '../_core/pending.ts';
import { hex } from './test-support.ts';

function okTpdu(bytes: Uint8Array): CotpTpdu {
  const d = decodeCotp(bytes);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  assert.equal(d.consumed, bytes.length);
  return d.value;
}

test('CR with TPDU size and TSAPs (s7-1200-upload-ob1-tiav12-s7commplus frame 4)', () => {
  // s7-1200-upload-ob1-tiav12-s7commplus.pcap frame 4
  const cr = hex(`
    03 00 0023   // TPKT v3, length 35
    1e           // LI 30
    e0           // CR, credit 0
    0000 0011    // dst ref 0, src ref 0x11
    00           // class 0, options 0
    c1 02 0600   // calling TSAP 0x0600
    c2 0f 53494d415449432d524f4f542d4553  // called TSAP "SIMATIC-ROOT-ES"
    c0 01 0a     // TPDU size 2^10
  `);
  assert.equal(frameTpkt(cr), 35);
  const t = okTpdu(cr);
  assert.equal(t.kind, 'connect');
  if (t.kind !== 'connect') return;
  assert.equal(t.code, 0xe0);
  assert.equal(t.name, 'connection_request');
  assert.equal(t.srcRef, 0x11);
  assert.equal(t.protocolClass, 0);
  assert.equal(t.tpduSize, 1024);
  assert.deepEqual([...t.callingTsap!], [6, 0]);
  assert.equal(new TextDecoder().decode(t.calledTsap), 'SIMATIC-ROOT-ES');
});

test('CC (mms-get-name-list frame 6)', () => {
  const cc = hex(`
    03 00 0016   // length 22
    11 d0        // LI 17, CC
    1801 0004    // dst ref 0x1801, src ref 4
    00           // class 0
    c1 02 0002   // calling TSAP
    c2 02 0200   // called TSAP
    c0 01 0a     // TPDU size 1024
  `);
  const t = okTpdu(cc);
  assert.equal(t.kind === 'connect' && t.code, 0xd0);
  assert.equal(t.kind === 'connect' && t.dstRef, 0x1801);
});

test('DT: class 0 with EOT, without EOT, empty, and the normal format with a destination reference', () => {
  const eot = okTpdu(hex('0300 0009 // TPKT\n 02 f0 80 // LI 2, DT, EOT nr 0\n 32 01'));
  assert.deepEqual(eot, { kind: 'data', eot: true, tpduNumber: 0, data: hex('3201') });
  const more = okTpdu(hex('0300 0008 02 f0 05 aa // no EOT, nr 5'));
  assert.equal(more.kind === 'data' && more.eot, false);
  assert.equal(more.kind === 'data' && more.tpduNumber, 5);
  // s7-1200 capture frame 9: an empty DT without EOT.
  const empty = okTpdu(hex('0300 0007 02 f0 00'));
  assert.equal(empty.kind === 'data' && empty.data.length, 0);
  const class2 = okTpdu(hex('0300 000a 04 f0 0001 80 // LI 4, dst ref 1, EOT\n 77 // data'));
  assert.deepEqual(class2.kind === 'data' && [...class2.data], [0x77]);
});

test('DR and ER', () => {
  const dr = okTpdu(hex('0300 000b 06 80 0004 1801 80 // DR reason 0x80 (normal)'));
  assert.deepEqual(dr, { kind: 'disconnect', code: 0x80, dstRef: 4, srcRef: 0x1801, reason: 0x80 });
  const er = okTpdu(hex('0300 0009 04 70 0004 02 // ER cause 2'));
  assert.deepEqual(er, { kind: 'error', dstRef: 4, cause: 2 });
});

test('frameTpkt: undecided, accepted, rejected', () => {
  assert.equal(frameTpkt(hex('')), 0);
  assert.equal(frameTpkt(hex('03')), 0);
  assert.equal(frameTpkt(hex('0300 0009 02')), 0, 'COTP code not yet seen');
  assert.equal(frameTpkt(hex('0300 0009 02 f0')), 9);
  assert.equal(frameTpkt(hex('04')), -1, 'TPKT version');
  assert.equal(frameTpkt(hex('0301')), -1, 'reserved octet');
  assert.equal(frameTpkt(hex('0300 0006 02 f0')), -1, 'shorter than a DT');
  assert.equal(frameTpkt(hex('0300 0009 09 f0')), -1, 'LI beyond the TPKT');
  assert.equal(frameTpkt(hex('0300 0009 02 30')), -1, 'not a TPDU code');
  assert.equal(frameTpkt(hex('0300 0009 01 f0')), -1, 'LI below the DT minimum');
  assert.equal(frameTpkt(new TextEncoder().encode('GET / HTTP/1.1\r\n')), -1);
});

test('decodeCotp: malformed codes', () => {
  assert.deepEqual(decodeCotp(hex('0300 0009 02 f0')), { kind: 'malformed', code: 'cotp.bad_tpkt', offset: 2 });
  assert.equal((decodeCotp(hex('0300 0009 02 30 80 0000')) as { code: string }).code, 'cotp.unknown_tpdu');
  // A parameter running past the header.
  const bad = decodeCotp(hex('0300 000d 08 e0 0000 0001 00 c1 05 00'));
  assert.equal(bad.kind === 'malformed' && bad.code, 'cotp.bad_parameter');
});

test('TsduAssembler: zero copy for a whole TSDU, joins segments, bounds the size', () => {
  const a = new TsduAssembler(8);
  const whole = hex('0102');
  assert.equal(a.push(whole, true), whole, 'the DT bytes themselves');
  assert.equal(a.push(hex('0102'), false), null);
  assert.equal(a.pendingBytes, 2);
  assert.deepEqual([...a.push(hex('0304'), true)!], [1, 2, 3, 4]);
  assert.equal(a.pendingBytes, 0);
  // Too long: dropped up to its EOT, reported once.
  assert.equal(a.push(hex('0102030405'), false), null);
  assert.equal(a.overflowed, false);
  assert.equal(a.push(hex('060708090a'), false), null);
  assert.equal(a.overflowed, true);
  assert.equal(a.push(hex('0b'), true), null, 'the rest of the long TSDU is dropped');
  assert.equal(a.overflowed, false);
  assert.deepEqual([...a.push(hex('0c'), true)!], [0x0c]);
  // A gap drops the TSDU in progress.
  a.push(hex('0102'), false);
  a.reset();
  assert.deepEqual([...a.push(hex('03'), true)!], [3]);
});

test('PendingTable: displaces the same key, evicts the oldest past the bound', () => {
  const p = new PendingTable<string>(2);
  assert.equal(p.add(1, 'a'), undefined);
  assert.equal(p.add(2, 'b'), undefined);
  assert.equal(p.add(1, 'a2'), 'a', 'same key');
  assert.equal(p.add(3, 'c'), 'b', 'oldest evicted');
  assert.equal(p.take(1), 'a2');
  assert.equal(p.takeOldest(), 'c');
  assert.equal(p.size, 0);
});

/** The table as it was before the newest entry got a slot of its own: one Map, oldest first. */
class MapPending<T> {
  readonly map = new Map<number, T>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  add(key: number, value: T): T | undefined {
    const same = this.map.get(key);
    if (same !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
      return same;
    }
    let evicted: T | undefined;
    if (this.map.size >= this.max) evicted = this.takeOldest();
    this.map.set(key, value);
    return evicted;
  }
  take(key: number): T | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }
  takeOldest(): T | undefined {
    const first = this.map.keys().next();
    if (first.done === true) return undefined;
    const v = this.map.get(first.value);
    this.map.delete(first.value);
    return v;
  }
}

test('property: PendingTable agrees with a plain insertion-ordered Map', () => {
  const step = fc.oneof(
    fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ op: fc.constant('take' as const), key: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ op: fc.constant('oldest' as const), key: fc.constant(0) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 40 }), (max, steps) => {
      const p = new PendingTable<string>(max);
      const m = new MapPending<string>(max);
      steps.forEach((s, i) => {
        if (s.op === 'add') assert.equal(p.add(s.key, `v${i}`), m.add(s.key, `v${i}`));
        else if (s.op === 'take') assert.equal(p.take(s.key), m.take(s.key));
        else assert.equal(p.takeOldest(), m.takeOldest());
        assert.equal(p.size, m.map.size);
      });
      for (let v = m.takeOldest(); v !== undefined; v = m.takeOldest()) assert.equal(p.takeOldest(), v);
      assert.equal(p.takeOldest(), undefined);
    }),
    { numRuns: 2000 },
  );
});

test('property: frameTpkt and decodeCotp are total and consistent on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const n = frameTpkt(bytes);
      assert.ok(n === -1 || n === 0 || n >= 7);
      // A decision is never revised by more bytes.
      if (n !== 0) assert.equal(frameTpkt(Uint8Array.from([...bytes, 1, 2, 3])), n);
      const d = decodeCotp(bytes);
      if (d.kind === 'ok') assert.ok(d.consumed <= bytes.length);
      if (n > 0 && n <= bytes.length) assert.notEqual(decodeCotp(bytes.subarray(0, n)).kind, 'incomplete');
    }),
    { numRuns: 3000 },
  );
});
