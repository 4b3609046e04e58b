// Per-flow IEC 60870-5-104 state: pairs command activations (COT 6, deactivation 8) with their
// confirmations (7, 9), terminations (10) and negative mirrors (44–47) by type id, common address
// and information object address (101 §7.4 command procedures), U-frame acts with their
// confirmations (104 §5.3), and reports monitoring ASDUs as operations.

import { LIMITS } from '../../core/limits.ts';
import type { AnalyzerContext, Direction, OperationEvent } from '../_core/types.ts';
import { COT, typeInfo, type TypeInfo } from './constants.ts';
import type { Iec104Asdu } from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A report of the fast path: always the same fields, so one record serves every report. */
type ReportOp = Mutable<OperationEvent> & { unit: number; address: number; quantity: number };

function reportOp(): ReportOp {
  return {
    name: '',
    protocol: 'iec104',
    code: 0,
    access: 'read',
    tsMicros: 0,
    unit: 0,
    responded: false,
    address: 0,
    quantity: 0,
  };
}

// The context reads an operation during the call and keeps none of it: these are reused.
const REPORT: ReportOp = reportOp();
const REPORT_VALUES: ReportOp & { values: readonly number[] } = { ...reportOp(), values: [] };

/** C_RD_NA_1: a read command, sent with COT 5 and answered by a monitoring ASDU with COT 5. */
const READ_COMMAND = 102;
/** The global (broadcast) common address (101 §7.2.4). */
const GLOBAL_ADDRESS = 0xffff;

/** 48-bit key of (type id, common address, IOA) plus a bit for deactivation. */
function commandKey(typeId: number, commonAddress: number, ioa: number, deactivation: boolean): number {
  return typeId * 2 ** 41 + commonAddress * 2 ** 25 + ioa * 2 + (deactivation ? 1 : 0);
}

/** U-frame functions paired by name and the side that sent the act. */
const U_OPERATIONS = ['iec104.startdt', 'iec104.stopdt', 'iec104.testfr'] as const;
const U_ACT_CODES = [0x07, 0x13, 0x43] as const;

/**
 * Outstanding requests of one flow, at most `maxPending` (the oldest is evicted and reported
 * unanswered, anomaly `iec104.unanswered_request`).
 *
 * - A command, set-point, interrogation, clock sync, reset or parameter activation (COT 6, or 8 for
 *   a deactivation) is one operation, reported when its confirmation (7/9) or a negative mirror
 *   (44–47) arrives; `exception` is then the COT octet without the test bit when the P/N bit is set
 *   or the cause is 44–47. A termination (10) after a confirmation closes the command silently; a
 *   termination without one completes it. A read (C_RD_NA_1, COT 5) is answered by a monitoring
 *   ASDU with COT 5 at the same address.
 * - Every other ASDU (monitoring data: periodic, spontaneous, interrogated, requested; file
 *   transfer) is an operation of its own when it arrives: `iec104.<type>` with access read (file for
 *   F_*, other for secure authentication and undefined types), `responded: false` since nothing
 *   answers a report.
 * - U-frames: `iec104.startdt`/`stopdt`/`testfr` on the act, reported when the other side confirms
 *   (unanswered at eviction or end).
 */
export class Iec104Session {
  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  // Insertion-ordered: the first key is the oldest request.
  private readonly pending = new Map<number, Mutable<OperationEvent>>();
  /** Commands confirmed and waiting for their termination (bounded like `pending`). */
  private readonly confirmed = new Set<number>();
  /** U-frame acts waiting for their confirmation, by function index * 2 + side of the act. */
  private readonly uPending: (Mutable<OperationEvent> | undefined)[] = [];

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
  }

  get size(): number {
    return this.pending.size;
  }

  /** A U-frame from side `dir`; `control` is its first control octet. */
  uFrame(control: number, dir: Direction, ts: number): void {
    const fn = control === 0x07 || control === 0x0b ? 0 : control === 0x13 || control === 0x23 ? 1 : 2;
    if (control === 0x07 || control === 0x13 || control === 0x43) {
      const k = fn * 2 + dir;
      const old = this.uPending[k];
      if (old !== undefined) this.unanswered(old);
      this.uPending[k] = {
        name: U_OPERATIONS[fn],
        protocol: 'iec104',
        code: U_ACT_CODES[fn],
        access: fn === 2 ? 'diagnostic' : 'control',
        tsMicros: ts,
        responded: false,
      };
      return;
    }
    if (control !== 0x0b && control !== 0x23 && control !== 0x83) return;
    const k = fn * 2 + (dir === 0 ? 1 : 0);
    const op = this.uPending[k];
    if (op === undefined) {
      this.ctx.anomaly('iec104.unmatched_response');
      return;
    }
    this.uPending[k] = undefined;
    op.responded = true;
    this.ctx.operation(op);
  }

  /** An ASDU, whichever side sent it: its cause of transmission says what it is. */
  asdu(a: Iec104Asdu, ts: number): void {
    const cause = a.cause;
    const ioa = a.objects[0]?.ioa ?? 0;
    if (
      cause === COT.activation ||
      cause === COT.deactivation ||
      (cause === COT.request && a.typeId === READ_COMMAND)
    ) {
      if (a.kind === 'monitor' && cause !== COT.request) {
        // Monitoring types are not activated; report the oddity as data.
        this.ctx.anomaly('iec104.unexpected_cause');
        this.report(a, ts);
        return;
      }
      this.add(commandKey(a.typeId, a.commonAddress, ioa, cause === COT.deactivation), commandOp(a, ts));
      return;
    }
    if (
      cause === COT.activationCon ||
      cause === COT.deactivationCon ||
      cause === COT.activationTermination ||
      (cause >= COT.unknownType && cause <= COT.unknownIoa)
    ) {
      this.response(a, ioa);
      return;
    }
    if (cause === COT.request && a.kind === 'monitor') {
      const k = commandKey(READ_COMMAND, a.commonAddress, ioa, false);
      const read = this.pending.get(k);
      if (read !== undefined) {
        this.pending.delete(k);
        read.responded = true;
        this.ctx.operation(read);
      }
    }
    this.report(a, ts);
  }

  /** End of flow: every request still waiting is reported, oldest first. */
  /**
   * A monitor ASDU whose cause is neither a command's nor a response's (spontaneous, periodic,
   * interrogated...), reported at once like `asdu` does, from its fields: objects addressed `lo`
   * to `hi`, `values` (or null when none).
   */
  reportMonitor(
    info: TypeInfo,
    commonAddress: number,
    lo: number,
    hi: number,
    values: number[] | null,
    ts: number,
  ): void {
    const op = values === null ? REPORT : REPORT_VALUES;
    if (values !== null) REPORT_VALUES.values = values;
    op.name = info.operation;
    op.code = info.typeId;
    op.access = info.access === 'file' || info.access === 'other' ? info.access : 'read';
    op.tsMicros = ts;
    op.unit = commonAddress;
    op.address = lo;
    op.quantity = hi - lo + 1;
    this.ctx.operation(op);
  }

  flush(): void {
    for (const op of this.pending.values()) this.unanswered(op);
    this.pending.clear();
    this.confirmed.clear();
    for (let k = 0; k < this.uPending.length; k++) {
      const op = this.uPending[k];
      if (op !== undefined) this.unanswered(op);
      this.uPending[k] = undefined;
    }
  }

  private response(a: Iec104Asdu, ioa: number): void {
    const cause = a.cause;
    // A request to the global address (0xFFFF) is answered by each station with its own address.
    const own = commandKey(a.typeId, a.commonAddress, ioa, cause === COT.deactivationCon);
    const global = commandKey(a.typeId, GLOBAL_ADDRESS, ioa, cause === COT.deactivationCon);
    if (cause === COT.activationTermination) {
      if (this.confirmed.delete(own) || this.confirmed.delete(global)) return;
    }
    let k = this.pending.has(own) ? own : this.pending.has(global) ? global : -1;
    // A negative mirror (44–47) may answer a deactivation too.
    if (k < 0 && cause >= COT.unknownType)
      k = this.pending.has(own + 1) ? own + 1 : this.pending.has(global + 1) ? global + 1 : -1;
    if (k < 0) {
      this.ctx.anomaly('iec104.unmatched_response');
      return;
    }
    const op = this.pending.get(k)!;
    this.pending.delete(k);
    this.complete(op, a);
    if (cause === COT.activationCon && !a.negative) {
      if (this.confirmed.size >= this.maxPending) {
        const first = this.confirmed.values().next();
        if (first.done !== true) this.confirmed.delete(first.value);
      }
      this.confirmed.add(k);
    }
  }

  private complete(op: Mutable<OperationEvent>, a: Iec104Asdu): void {
    op.responded = true;
    if (a.negative || a.cause >= COT.unknownType) op.exception = a.cot & 0x7f;
    this.ctx.operation(op);
  }

  private add(k: number, op: Mutable<OperationEvent>): void {
    this.confirmed.delete(k);
    const old = this.pending.get(k);
    if (old !== undefined) {
      this.pending.delete(k);
      this.unanswered(old);
    } else if (this.pending.size >= this.maxPending) {
      const first = this.pending.keys().next();
      if (first.done !== true) {
        const oldest = this.pending.get(first.value)!;
        this.pending.delete(first.value);
        this.unanswered(oldest);
      }
    }
    this.pending.set(k, op);
  }

  private unanswered(op: Mutable<OperationEvent>): void {
    this.ctx.anomaly('iec104.unanswered_request');
    this.ctx.operation(op);
  }

  /** A monitoring ASDU (or any ASDU that is neither request nor answer): one operation now. */
  private report(a: Iec104Asdu, ts: number): void {
    const op = commandOp(a, ts);
    // Data reported by a station is read access, whatever its type (a parameter or command mirrored
    // in an interrogation); files stay file, secure authentication and undefined types other.
    if (op.access !== 'file' && op.access !== 'other') op.access = 'read';
    this.ctx.operation(op);
  }
}

/**
 * The operation of an ASDU: unit = common address; address and quantity from the objects' IOAs
 * (lowest, and the span to the highest); the values of the common types.
 */
function commandOp(a: Iec104Asdu, ts: number): Mutable<OperationEvent> {
  const info = typeInfo(a.typeId);
  const op: Mutable<OperationEvent> = {
    name: info.operation,
    protocol: 'iec104',
    code: a.typeId,
    access: info.access,
    tsMicros: ts,
    unit: a.commonAddress,
    responded: false,
  };
  const objects = a.objects;
  if (objects.length > 0) {
    let lo = objects[0]!.ioa;
    let hi = lo;
    for (let i = 1; i < objects.length; i++) {
      const x = objects[i]!.ioa;
      if (x < lo) lo = x;
      else if (x > hi) hi = x;
    }
    op.address = lo;
    op.quantity = hi - lo + 1;
  }
  if (a.values.length > 0) op.values = a.values;
  return op;
}
