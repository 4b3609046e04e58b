// Per-flow DNP3 state: transport-layer reassembly of application fragments (IEEE 1815-2012 §8.2,
// FIR/FIN/sequence), and request/response pairing by application sequence number (§4.2.2.4.4,
// §4.3) with one operation per request, per unsolicited response, and identity from group 0.

import { LIMITS } from '../../core/limits.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import { SlotTable } from '../_core/pending.ts';
import {
  AC_CON,
  AC_FIR,
  AC_SEQ,
  AC_UNS,
  DEVICE_ATTRIBUTES,
  FC,
  IIN_REQUEST_ERRORS,
  TR_FIN,
  TR_FIR,
  TR_SEQ,
  functionInfo,
  isBroadcast,
} from './constants.ts';
import type { Dnp3Scan } from './decode.ts';

// ---------------------------------------------------------------------------------------------
// Transport reassembly (§8.2)
// ---------------------------------------------------------------------------------------------

/**
 * Largest application fragment reassembled: 2048 is the usual device setting (IEEE 1815-2012
 * §4.2.2.2 requires at least 249), some file transfers use 4096. With MAX_REASSEMBLIES this bounds
 * the reassembly memory of a flow direction to 16 KiB (buffers grow from 512 octets as needed).
 */
export const MAX_FRAGMENT_BYTES = 4096;
/** Transport segments per fragment: 4096 / 249 needs 17; 64 leaves room for short segments. */
export const MAX_SEGMENTS = 64;
/** Link address pairs reassembling at once per direction (several outstations behind a gateway). */
export const MAX_REASSEMBLIES = 4;

const NO_BYTES = new Uint8Array(0);

interface Reassembly {
  /** source << 16 | destination, or -1 when the slot is free. */
  key: number;
  buf: Uint8Array;
  len: number;
  /** Sequence number of the last segment added. */
  seq: number;
  segments: number;
  /** Last use, to pick the slot to reuse. */
  tick: number;
}

/**
 * Reassembles the transport segments of one direction into application fragments, per link
 * address pair. Out-of-sequence segments drop the message in progress (`dnp3.transport_sequence`);
 * a fragment past MAX_FRAGMENT_BYTES or MAX_SEGMENTS is dropped (`dnp3.fragment_too_long`). A
 * segment repeating the last sequence number is a link-layer retry and is ignored.
 */
export class TransportReassembler {
  private readonly ctx: AnalyzerContext;
  private readonly slots: Reassembly[] = [];
  private tick = 0;

  constructor(ctx: AnalyzerContext) {
    this.ctx = ctx;
  }

  /** The buffer holding the fragment `add` completed last (valid until the next call). */
  whole: Uint8Array = NO_BYTES;

  /**
   * Adds one segment: `th` is the transport header, `data[start, end)` the segment's payload after
   * it (only read during the call). Returns the length of the whole fragment, in `whole` from 0,
   * when `th` has FIN, else -1.
   */
  add(key: number, th: number, data: Uint8Array, start: number, end: number): number {
    const fir = (th & TR_FIR) !== 0;
    const fin = (th & TR_FIN) !== 0;
    const seq = th & TR_SEQ;
    const length = end - start;
    let s = this.find(key);
    if (fir) {
      // A new first segment drops a message in progress, unless it repeats that message's only
      // segment (a link-layer retry).
      if (s !== undefined && s.segments > 0 && !(s.segments === 1 && s.seq === seq))
        this.ctx.anomaly('dnp3.transport_sequence');
      s ??= this.claim(key);
      s.len = 0;
      s.segments = 0;
    } else {
      if (s === undefined || s.segments === 0) {
        this.ctx.anomaly('dnp3.transport_sequence');
        return -1;
      }
      if (seq === s.seq) return -1;
      if (seq !== ((s.seq + 1) & TR_SEQ)) {
        this.ctx.anomaly('dnp3.transport_sequence');
        this.release(s);
        return -1;
      }
    }
    if (s.len + length > MAX_FRAGMENT_BYTES || s.segments >= MAX_SEGMENTS) {
      this.ctx.anomaly('dnp3.fragment_too_long');
      this.release(s);
      return -1;
    }
    if (s.len + length > s.buf.length) {
      const bigger = new Uint8Array(Math.min(MAX_FRAGMENT_BYTES, Math.max(2 * s.buf.length, s.len + length)));
      bigger.set(s.buf.subarray(0, s.len));
      s.buf = bigger;
    }
    const buf = s.buf;
    for (let i = start, o = s.len; i < end; i++, o++) buf[o] = data[i]!;
    s.len += length;
    s.seq = seq;
    s.segments++;
    s.tick = ++this.tick;
    if (!fin) return -1;
    const whole = s.len;
    this.whole = buf;
    this.release(s);
    return whole;
  }

  /** Whether a fragment is being reassembled for this link address pair. */
  has(key: number): boolean {
    return this.slots.length > 0 && this.find(key) !== undefined;
  }

  /** Bytes were lost: every message in progress is dropped. */
  reset(): void {
    for (const s of this.slots) this.release(s);
  }

  /** Octets held in partial fragments. */
  get bufferedBytes(): number {
    let n = 0;
    for (const s of this.slots) if (s.key >= 0) n += s.len;
    return n;
  }

  private find(key: number): Reassembly | undefined {
    for (const s of this.slots) if (s.key === key) return s;
    return undefined;
  }

  private claim(key: number): Reassembly {
    let s = this.slots.find((x) => x.key < 0);
    if (s === undefined) {
      if (this.slots.length < MAX_REASSEMBLIES) {
        s = { key, buf: new Uint8Array(512), len: 0, seq: 0, segments: 0, tick: 0 };
        this.slots.push(s);
        return s;
      }
      // All slots busy: the least recently used message is dropped.
      s = this.slots.reduce((a, b) => (b.tick < a.tick ? b : a));
      this.ctx.anomaly('dnp3.transport_sequence');
    }
    s.key = key;
    return s;
  }

  private release(s: Reassembly): void {
    s.key = -1;
    s.len = 0;
    s.segments = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Request/response pairing (§4.2.2.4.4: a response carries its request's sequence number)
// ---------------------------------------------------------------------------------------------

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;

/** Pending slots that share an (outstation, master, sequence) key. */
const SLOT_REQUEST = 0;
/** Authentication requests (32) ride on the sequence number of the request they authenticate. */
const SLOT_AUTH = 1;
/** Unsolicited responses waiting for the master's confirm. */
const SLOT_UNSOLICITED = 2;

/** Exceptions from a control status (§A.8.1 Table A-8) are reported above the 16 IIN bits. */
export const CONTROL_STATUS_EXCEPTION = 0x10000;

interface Pending {
  readonly op: Mutable<OperationEvent>;
  readonly slot: number;
}

function pairKey(outstation: number, master: number, seq: number, slot: number): number {
  return ((outstation * 65536 + master) * 16 + seq) * 4 + slot;
}

/**
 * Outstanding requests of one flow (at most `maxPending`, oldest evicted first), keyed by
 * outstation, master and application sequence number.
 *
 * - A request is reported when its response (129, FIR) arrives, or unanswered (anomaly
 *   `dnp3.unanswered_request`) when evicted, replaced by a request with the same key, or flushed.
 *   Functions that expect no response (`_nr`, authenticate_err) and broadcasts are reported at once.
 * - Confirms (0) are not operations; a confirm with UNS completes an unsolicited response.
 * - An unsolicited response (130) is the operation `dnp3.unsolicited_response` (access read) of the
 *   outstation; `responded` says whether the master confirmed it (unconfirmed at the end:
 *   `dnp3.unconfirmed_unsolicited`).
 * - An authentication challenge (131) to a critical request leaves it pending; the 129 that
 *   finally answers completes both the request and the master's authenticate_req.
 */
export class Dnp3Transactions {
  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  private readonly pending = new SlotTable<Pending>();

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
  }

  get size(): number {
    return this.pending.size;
  }

  /** A fragment from a master: `source` is the master, `destination` the outstation. */
  request(apdu: Dnp3Scan, source: number, destination: number, ts: number): void {
    const fc = apdu.functionCode;
    const seq = apdu.control & AC_SEQ;
    if (fc === FC.confirm) {
      if ((apdu.control & AC_UNS) !== 0) this.complete(pairKey(destination, source, seq, SLOT_UNSOLICITED), apdu);
      return;
    }
    const op = requestOp(apdu, destination, ts);
    if (functionInfo(fc).noResponse || isBroadcast(destination)) {
      this.ctx.operation(op);
      return;
    }
    const slot = fc === FC.authenticateReq ? SLOT_AUTH : SLOT_REQUEST;
    this.add(pairKey(destination, source, seq, slot), { op, slot });
  }

  /**
   * A fragment from an outstation (129..131): `source` is the outstation, `destination` the
   * master; `side` is the flow side that sent it (for identity facts).
   */
  response(apdu: Dnp3Scan, source: number, destination: number, side: Direction, ts: number): void {
    if (apdu.attributes.length > 0) this.identity(apdu, side);
    const fc = apdu.functionCode;
    const fir = (apdu.control & AC_FIR) !== 0;
    const seq = apdu.control & AC_SEQ;
    if (fc === FC.unsolicitedResponse) {
      if (!fir) return;
      const op: Mutable<OperationEvent> = {
        name: 'dnp3.unsolicited_response',
        protocol: 'dnp3',
        code: fc,
        access: 'read',
        tsMicros: ts,
        unit: source,
        responded: false,
      };
      if ((apdu.control & AC_CON) !== 0)
        this.add(pairKey(source, destination, seq, SLOT_UNSOLICITED), { op, slot: SLOT_UNSOLICITED });
      else this.ctx.operation(op);
      return;
    }
    // Later fragments of a multi-fragment response carry the next sequence numbers, not the
    // request's: only the first one answers.
    if (!fir) return;
    const request = pairKey(source, destination, seq, SLOT_REQUEST);
    const auth = pairKey(source, destination, seq, SLOT_AUTH);
    if (fc === FC.authenticateResp) {
      if (this.complete(auth, apdu)) return;
      // A challenge to a critical request: the request stays pending until its 129.
      if (!this.pending.has(request)) this.ctx.anomaly('dnp3.unmatched_response');
      return;
    }
    const answered = this.complete(request, apdu);
    const authAnswered = this.complete(auth, apdu);
    if (!answered && !authAnswered) this.ctx.anomaly('dnp3.unmatched_response');
  }

  /** End of flow: every request still waiting is reported, oldest first. */
  flush(): void {
    for (let p = this.pending.takeOldest(); p !== undefined; p = this.pending.takeOldest()) this.unanswered(p);
  }

  private add(k: number, p: Pending): void {
    const old = this.pending.take(k);
    if (old !== undefined) this.unanswered(old);
    else if (this.pending.size >= this.maxPending) {
      const oldest = this.pending.takeOldest();
      if (oldest !== undefined) this.unanswered(oldest);
    }
    this.pending.add(k, p);
  }

  private complete(k: number, apdu: Dnp3Scan): boolean {
    const p = this.pending.take(k);
    if (p === undefined) return false;
    const op = p.op;
    op.responded = true;
    if (p.slot !== SLOT_UNSOLICITED) {
      const iin = apdu.iin < 0 ? 0 : apdu.iin;
      if ((iin & IIN_REQUEST_ERRORS) !== 0) op.exception = iin;
      else if (apdu.controlStatus !== 0) op.exception = CONTROL_STATUS_EXCEPTION + apdu.controlStatus;
    }
    this.ctx.operation(op);
    return true;
  }

  private unanswered(p: Pending): void {
    this.ctx.anomaly(p.slot === SLOT_UNSOLICITED ? 'dnp3.unconfirmed_unsolicited' : 'dnp3.unanswered_request');
    this.ctx.operation(p.op);
  }

  private identity(apdu: Dnp3Scan, side: Direction): void {
    const fact: IdentityFact = { kind: 'identity', side, protocol: 'dnp3' };
    const extra: Record<string, string> = {};
    let known = 0;
    let extras = 0;
    for (const a of apdu.attributes) {
      const field = DEVICE_ATTRIBUTES[a.variation];
      if (field === undefined || a.value === '') continue;
      known++;
      if (field.startsWith('extra.')) {
        extra[field.slice(6)] = a.value;
        extras++;
      } else if (field === 'vendor') fact.vendor = a.value;
      else if (field === 'product') fact.product = a.value;
      else if (field === 'firmware') fact.firmware = a.value;
      else if (field === 'serial') fact.serial = a.value;
    }
    if (known === 0) return;
    if (extras > 0) fact.extra = extra;
    this.ctx.fact(fact);
  }
}

/** Address space names `g<group>v<variation>`, made once each. */
const SPACES: (string | undefined)[] = [];

function pointSpace(group: number, variation: number): string {
  const k = group * 256 + variation;
  return (SPACES[k] ??= `g${group}v${variation}`);
}

/** The operation a request stands for: unit = outstation; range and values of its first point header. */
function requestOp(apdu: Dnp3Scan, outstation: number, ts: number): Mutable<OperationEvent> {
  const info = functionInfo(apdu.functionCode);
  const op: Mutable<OperationEvent> = {
    name: info.operation,
    protocol: 'dnp3',
    code: apdu.functionCode,
    access: info.access,
    tsMicros: ts,
    unit: outstation,
    responded: false,
  };
  if (apdu.pointGroup >= 0) {
    op.addressSpace = pointSpace(apdu.pointGroup, apdu.pointVariation);
    if (apdu.pointMin >= 0) {
      op.address = apdu.pointMin;
      op.quantity = apdu.pointMax - apdu.pointMin + 1;
    }
    if (apdu.values.length > 0) op.values = apdu.values;
  }
  return op;
}
