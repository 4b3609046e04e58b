// Per-flow S7comm state: pairs jobs with their ack/ack_data and userdata requests with their
// responses by PDU reference, reports one operation per request (pushes from the PLC are operations
// of their own), and identity facts from SZL 0x0011 / 0x001C responses.

import { LIMITS } from '../../core/limits.ts';
import type { AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import { PendingTable } from '../_core/pending.ts';
import type { IsoLink, TsduHandler } from '../iso/types.ts';
import {
  AREA,
  AREA_NAMES,
  FUNC,
  GROUP,
  RETURN_OK,
  ROSCTR,
  S7_PROTOCOL_ID,
  SUBF_READ_SZL,
  SYNTAX,
  TRANSPORT_SIZE_BYTES,
  TS,
  UD_TYPE,
  USERDATA_TRACE_OFFSET,
  dataLengthInBits,
  jobOperation,
  piServiceOperation,
  userdataOperation,
} from './constants.ts';
import { decodeS7Pdu, type S7DataItem, type S7Item, type S7Pdu } from './decode.ts';
import { decodeSzlResponse, szlIdentity } from './szl.ts';

/** Values kept per operation (the first ones written). */
export const MAX_OPERATION_VALUES = 16;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;

interface Pending {
  readonly op: Mutable<OperationEvent>;
  /** Job function, or userdata group << 8 | subfunction. */
  code: number;
  /** Items requested (read/write var), or -1. */
  itemCount: number;
  /**
   * Made by the fast path for a read var job: its op has exactly the fields of a read (no values),
   * so once reported without an exception it may go back to the pool.
   */
  readonly pooled: boolean;
}

/** An operation record of the read fast path: always the same fields, so it can be reused. */
type ReadOp = Mutable<OperationEvent> & { address: number; quantity: number; addressSpace: string };
/** Read records kept for reuse per flow. */
const POOL_SIZE = 8;

const READ_VAR = jobOperation(FUNC.readVar);
const WRITE_VAR = jobOperation(FUNC.writeVar);
/** Element size in bytes per S7ANY transport size (TRANSPORT_SIZE_BYTES, 1 when not listed). */
const ELEMENT_BYTES: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = TRANSPORT_SIZE_BYTES[i] ?? 1;
  return t;
})();
const SZL_READ = (GROUP.cpu << 8) | SUBF_READ_SZL;
const NO_BYTES = new Uint8Array(0);
/** Big-endian REAL values of the write fast path. */
const REAL = new DataView(new ArrayBuffer(4));

/** Pending key: requester direction, job or userdata, PDU reference. */
const key = (requester: Direction, userdata: boolean, pduRef: number): number =>
  (requester << 17) | (userdata ? 0x10000 : 0) | pduRef;

/**
 * One S7comm flow. Jobs may come from either side (a PLC sends download-block jobs to the
 * programming station), so requests are kept per sending direction.
 *
 * Anomalies: `s7comm.unmatched_response`, `s7comm.unanswered_request`, `s7comm.response_mismatch`,
 * and the decoder's codes.
 */
export class S7Session implements TsduHandler {
  private readonly link: IsoLink;
  private readonly pending: PendingTable<Pending>;
  /** Read SZL responses in several data units, by responder and data unit reference. */
  private readonly szlParts = new Map<number, Uint8Array>();
  private readonly pool: Pending[] = [];
  /** The operation record of pushes (reported at once, never kept). */
  private readonly pushOp: Mutable<OperationEvent> = {
    name: '',
    protocol: 's7comm',
    code: 0,
    access: 'other',
    tsMicros: 0,
    responded: false,
  };
  private readonly fastPath: boolean;

  /** `fastPath` false sends every PDU through the general decoder (to test that both agree). */
  constructor(link: IsoLink, maxPending: number = LIMITS.pendingRequestsPerFlow, fastPath = true) {
    this.link = link;
    this.pending = new PendingTable(maxPending);
    this.fastPath = fastPath;
  }

  tsdu(dir: Direction, bytes: Uint8Array, ts: number): void {
    if (this.fastPath && this.fast(dir, bytes, 0, bytes.length, ts)) return;
    const ctx = this.link.ctx;
    const d = decodeS7Pdu(bytes);
    if (d.kind !== 'ok') {
      ctx.anomaly(d.kind === 'malformed' ? d.code : 's7comm.truncated');
      return;
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) ctx.anomaly(anomalies[i]!);
    if (anomalies.length === 0) this.link.decoded();
    const pdu = d.value;
    const param = pdu.param;
    // tshark's s7comm.param.func (job/ack/ack_data), or s7comm.param.userdata.subfunc + 0x100
    // (userdata; tshark shows the mode-transition group's subfunction under another field).
    if (pdu.functionCode >= 0) ctx.pdu?.(dir, pdu.functionCode);
    else if (param.kind === 'userdata' && param.group !== GROUP.modeTransition) {
      ctx.pdu?.(dir, USERDATA_TRACE_OFFSET + param.subfunction);
    }
    switch (pdu.rosctr) {
      case ROSCTR.job:
        this.job(dir, pdu, ts);
        break;
      case ROSCTR.ack:
      case ROSCTR.ackData:
        this.ack(dir, pdu);
        break;
      case ROSCTR.userdata:
        this.userdata(dir, pdu, ts);
        break;
      default:
        break;
    }
  }

  /** `tsdu` for `buf[off, off + len)`; false (nothing done) when the PDU needs the general path. */
  tsduAt(dir: Direction, buf: Uint8Array, off: number, len: number, ts: number): boolean {
    return this.fastPath && this.fast(dir, buf, off, len, ts);
  }

  /**
   * Read var and write var jobs of S7ANY items, their ack_data, and userdata are most of S7comm
   * traffic: they are paired here straight from the bytes, without the decoded records. Anything
   * else (other functions, other item syntaxes, any anomaly, trailing bytes) returns false before
   * doing anything, and the general path gives the same result for what is taken here (property
   * tests in fast.test.ts hold the two together).
   */
  private fast(dir: Direction, b: Uint8Array, o: number, n: number, ts: number): boolean {
    if (n < 14 || b[o] !== S7_PROTOCOL_ID) return false;
    const rosctr = b[o + 1]!;
    const paramLength = (b[o + 6]! << 8) | b[o + 7]!;
    const dataLength = (b[o + 8]! << 8) | b[o + 9]!;
    if (rosctr === ROSCTR.job) {
      if (10 + paramLength + dataLength !== n) return false;
      const func = b[o + 10]!;
      if (func === FUNC.readVar) return this.fastJob(dir, b, o, paramLength, -1, 0, ts);
      if (func === FUNC.writeVar) return this.fastJob(dir, b, o, paramLength, o + 10 + paramLength, o + n, ts);
      return false;
    }
    if (rosctr === ROSCTR.userdata) {
      if (paramLength < 8 || 10 + paramLength + dataLength !== n) return false;
      return this.fastUserdata(dir, b, o, paramLength, dataLength, ts);
    }
    if (rosctr === ROSCTR.ackData) {
      if (paramLength !== 2 || 12 + paramLength + dataLength !== n) return false;
      const func = b[o + 12]!;
      if (func !== FUNC.readVar && func !== FUNC.writeVar) return false;
      return this.fastAck(dir, b, o, n, func);
    }
    return false;
  }

  /**
   * A read var job (`dataStart` -1) or a write var job (its data part in [dataStart, dataEnd)): one
   * or more S7ANY items of exactly 12 bytes filling the parameter part.
   */
  private fastJob(
    dir: Direction,
    b: Uint8Array,
    o: number,
    paramLength: number,
    dataStart: number,
    dataEnd: number,
    ts: number,
  ): boolean {
    const count = b[o + 11]!;
    if (count === 0 || paramLength !== 2 + 12 * count) return false;
    // The span of the items in the first item's area and DB (setRange).
    const i0 = o + 12;
    const area = b[i0 + 8]!;
    const db = (b[i0 + 6]! << 8) | b[i0 + 7]!;
    const isCounted = counted(area);
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (let i = 0, p = i0; i < count; i++, p += 12) {
      if (b[p] !== 0x12 || b[p + 1] !== 0x0a || b[p + 2] !== SYNTAX.s7any) return false;
      if (b[p + 8] !== area || ((b[p + 6]! << 8) | b[p + 7]!) !== db) continue;
      const length = (b[p + 4]! << 8) | b[p + 5]!;
      const address = (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!;
      let start: number;
      let size: number;
      if (isCounted) {
        start = address;
        size = Math.max(1, length);
      } else {
        start = address >>> 3;
        const elem = ELEMENT_BYTES[b[p + 3]!]!;
        size = elem === 0 ? Math.max(1, ((address & 7) + Math.max(1, length) + 7) >>> 3) : elem * length;
      }
      if (start < lo) lo = start;
      if (start + size > hi) hi = start + size;
    }
    let values: number[] | null = null;
    if (dataStart >= 0) {
      values = fastWriteValues(b, i0, count, dataStart, dataEnd);
      if (values === null) return false;
    }
    this.link.decoded();
    const func = b[o + 10]!;
    this.link.ctx.pdu?.(dir, func);
    const k = key(dir, false, (b[o + 4]! << 8) | b[o + 5]!);
    const addressSpace = areaLabel(area, db);
    if (values === null) {
      const p = this.pool.pop();
      if (p !== undefined) {
        const op = p.op as ReadOp;
        op.name = READ_VAR.operation;
        op.code = func;
        op.access = READ_VAR.access;
        op.tsMicros = ts;
        op.responded = false;
        op.address = lo;
        op.quantity = hi - lo;
        op.addressSpace = addressSpace;
        p.code = func;
        p.itemCount = count;
        this.add(k, p);
        return true;
      }
    }
    const info = values === null ? READ_VAR : WRITE_VAR;
    const op: Mutable<OperationEvent> = {
      name: info.operation,
      protocol: 's7comm',
      code: func,
      access: info.access,
      tsMicros: ts,
      responded: false,
      address: lo,
      quantity: hi - lo,
      addressSpace,
    };
    if (values !== null && values.length > 0) op.values = values;
    this.add(k, { op, code: func, itemCount: count, pooled: values === null });
    return true;
  }

  /** The ack_data of a read var or write var job, parameter part of exactly function and item count. */
  private fastAck(dir: Direction, b: Uint8Array, o: number, n: number, func: number): boolean {
    const count = b[o + 13]!;
    const d = o + 14;
    const end = o + n;
    // firstFailure: the first item's return code when no item succeeded.
    let failed = -1;
    if (d < end) {
      if (func === FUNC.writeVar) {
        if (end - d < count) return false;
        let anyOk = false;
        for (let i = 0; i < count; i++) if (b[d + i] === RETURN_OK) anyOk = true;
        if (count > 0 && !anyOk) failed = b[d]!;
      } else {
        let q = d;
        let anyOk = false;
        for (let i = 0; i < count; i++) {
          if (q + 4 > end) return false;
          const returnCode = b[q]!;
          const length = (b[q + 2]! << 8) | b[q + 3]!;
          const present = returnCode === 0x00 || returnCode === RETURN_OK;
          const bytes = !present ? 0 : dataLengthInBits(b[q + 1]!) ? (length + 7) >>> 3 : length;
          q += 4;
          if (q + bytes > end) return false;
          q += bytes;
          if ((bytes & 1) === 1 && i < count - 1 && q < end) q++;
          if (returnCode === RETURN_OK) anyOk = true;
        }
        if (count > 0 && !anyOk) failed = b[d]!;
      }
    }
    this.link.decoded();
    const ctx = this.link.ctx;
    ctx.pdu?.(dir, func);
    const p = this.pending.take(key(other(dir), false, (b[o + 4]! << 8) | b[o + 5]!));
    if (p === undefined) {
      ctx.anomaly('s7comm.unmatched_response');
      return true;
    }
    const op = p.op;
    op.responded = true;
    const errorClass = b[o + 10]!;
    const errorCode = b[o + 11]!;
    if (errorClass !== 0 || errorCode !== 0) op.exception = (errorClass << 8) | errorCode;
    if (func !== p.code) ctx.anomaly('s7comm.response_mismatch');
    else if (p.itemCount >= 0) {
      if (count !== p.itemCount) ctx.anomaly('s7comm.response_mismatch');
      if (failed >= 0 && op.exception === undefined) op.exception = failed;
    }
    ctx.operation(op);
    this.recycle(p);
    this.link.answered();
    return true;
  }

  /** A userdata PDU whose data part, if any, holds its payload whole. */
  private fastUserdata(
    dir: Direction,
    b: Uint8Array,
    o: number,
    paramLength: number,
    dataLength: number,
    ts: number,
  ): boolean {
    const p = o + 10;
    let returnCode = -1;
    let ps = 0;
    let pe = 0;
    if (dataLength > 0) {
      if (dataLength < 4) return false;
      const d = p + paramLength;
      const length = (b[d + 2]! << 8) | b[d + 3]!;
      if (4 + length > dataLength) return false;
      returnCode = b[d]!;
      ps = d + 4;
      pe = ps + length;
    }
    // Parameter: head (3), length, method, type/group, subfunction, sequence [, DUR, LDU, error].
    const long = b[p + 3]! >= 8 && paramLength >= 12;
    const tg = b[p + 5]!;
    const group = tg & 0x0f;
    const subfunction = b[p + 6]!;
    this.link.decoded();
    if (group !== GROUP.modeTransition) this.link.ctx.pdu?.(dir, USERDATA_TRACE_OFFSET + subfunction);
    this.userdataFields(
      dir,
      (b[o + 4]! << 8) | b[o + 5]!,
      tg >> 4,
      group,
      subfunction,
      long ? b[p + 8]! : 0,
      long ? b[p + 9]! : -1,
      long ? (b[p + 10]! << 8) | b[p + 11]! : 0,
      returnCode,
      b,
      ps,
      pe,
      ts,
    );
    return true;
  }

  /** The context keeps nothing of a reported operation: a fast-path read record can be reused. */
  private recycle(p: Pending): void {
    if (p.pooled && p.op.exception === undefined && this.pool.length < POOL_SIZE) this.pool.push(p);
  }

  gap(_dir: Direction): void {
    // Requests stay pending: their responses may still come after the lost bytes.
  }

  end(): void {
    for (let p = this.pending.takeOldest(); p !== undefined; p = this.pending.takeOldest()) this.unanswered(p);
  }

  private job(dir: Direction, pdu: S7Pdu, ts: number): void {
    const func = pdu.functionCode;
    let info = jobOperation(func);
    const param = pdu.param;
    if (param.kind === 'pi_service') info = piServiceOperation(param.service);
    const op: Mutable<OperationEvent> = {
      name: info.operation,
      protocol: 's7comm',
      code: func < 0 ? 0 : func,
      access: info.access,
      tsMicros: ts,
      responded: false,
    };
    let itemCount = -1;
    if (param.kind === 'var_request') {
      itemCount = param.itemCount;
      setRange(op, param.items);
      if (func === FUNC.writeVar && pdu.data.kind === 'items') {
        const values = writeValues(param.items, pdu.data.items);
        if (values.length > 0) op.values = values;
      }
    } else if (param.kind === 'block_control' || param.kind === 'pi_service') {
      if (param.blockNumber >= 0) {
        op.address = param.blockNumber;
        op.quantity = 1;
      }
      if (param.blockType !== '') op.addressSpace = param.blockType;
    }
    this.add(key(dir, false, pdu.pduRef), { op, code: func, itemCount, pooled: false });
  }

  private ack(dir: Direction, pdu: S7Pdu): void {
    const p = this.pending.take(key(other(dir), false, pdu.pduRef));
    const ctx = this.link.ctx;
    if (p === undefined) {
      ctx.anomaly('s7comm.unmatched_response');
      return;
    }
    const op = p.op;
    op.responded = true;
    if (pdu.errorClass !== 0 || pdu.errorCode !== 0) op.exception = (pdu.errorClass << 8) | pdu.errorCode;
    if (pdu.functionCode >= 0 && pdu.functionCode !== p.code) ctx.anomaly('s7comm.response_mismatch');
    else if (p.itemCount >= 0 && pdu.param.kind === 'var_response') {
      if (pdu.param.itemCount !== p.itemCount) ctx.anomaly('s7comm.response_mismatch');
      const failed = firstFailure(pdu);
      if (failed >= 0 && op.exception === undefined) op.exception = failed;
    }
    ctx.operation(op);
    this.recycle(p);
    this.link.answered();
  }

  private userdata(dir: Direction, pdu: S7Pdu, ts: number): void {
    const param = pdu.param;
    if (param.kind !== 'userdata') return;
    const data = pdu.data;
    const payload = data.kind === 'userdata' ? data.payload : NO_BYTES;
    this.userdataFields(
      dir,
      pdu.pduRef,
      param.type,
      param.group,
      param.subfunction,
      param.dataUnitRef,
      param.lastDataUnit,
      param.errorCode,
      data.kind === 'userdata' ? data.returnCode : -1,
      payload,
      0,
      payload.length,
      ts,
    );
  }

  /**
   * A userdata PDU by its fields: `returnCode` -1 when it has no userdata data part, else the data
   * part's return code and its payload `b[ps, pe)`.
   */
  private userdataFields(
    dir: Direction,
    pduRef: number,
    type: number,
    group: number,
    subfunction: number,
    dataUnitRef: number,
    lastDataUnit: number,
    errorCode: number,
    returnCode: number,
    b: Uint8Array,
    ps: number,
    pe: number,
    ts: number,
  ): void {
    const code = (group << 8) | subfunction;
    if (type === UD_TYPE.response) {
      this.userdataResponse(dir, pduRef, code, dataUnitRef, lastDataUnit, errorCode, returnCode, b, ps, pe);
      return;
    }
    const info = userdataOperation(type, group, subfunction);
    if (type !== UD_TYPE.request) {
      // A push (type 0): alarms, diagnostic messages, cyclic data, mode transitions sent by the PLC
      // unasked. One operation each, with no response to wait for; the context keeps nothing of it,
      // so one record per flow serves them all.
      const push = this.pushOp;
      push.name = info.operation;
      push.code = code;
      push.access = info.access;
      push.tsMicros = ts;
      this.link.ctx.operation(push);
      return;
    }
    const op: Mutable<OperationEvent> = {
      name: info.operation,
      protocol: 's7comm',
      code,
      access: info.access,
      tsMicros: ts,
      responded: false,
    };
    if (code === SZL_READ && returnCode >= 0 && pe - ps >= 4) {
      // The SZL id and index read.
      op.addressSpace = szlLabel((b[ps]! << 8) | b[ps + 1]!);
      op.address = (b[ps + 2]! << 8) | b[ps + 3]!;
    }
    this.add(key(dir, true, pduRef), { op, code, itemCount: -1, pooled: false });
  }

  private userdataResponse(
    dir: Direction,
    pduRef: number,
    code: number,
    dataUnitRef: number,
    lastDataUnit: number,
    errorCode: number,
    returnCode: number,
    b: Uint8Array,
    ps: number,
    pe: number,
  ): void {
    const ctx = this.link.ctx;
    const p = this.pending.take(key(other(dir), true, pduRef));
    if (p === undefined) {
      ctx.anomaly('s7comm.unmatched_response');
      return;
    }
    const op = p.op;
    op.responded = true;
    if (p.code !== code) ctx.anomaly('s7comm.response_mismatch');
    if (errorCode !== 0) op.exception = errorCode;
    else if (returnCode >= 0 && returnCode !== RETURN_OK) op.exception = returnCode;
    else if (code === SZL_READ && returnCode >= 0) {
      this.szlFragment(dir, dataUnitRef, lastDataUnit, ps === 0 && pe === b.length ? b : b.subarray(ps, pe));
    }
    ctx.operation(op);
    this.link.answered();
  }

  /**
   * A Read SZL response, possibly one data unit of several (last data unit 0x01: more follow after
   * the client's follow-up request): data units are joined, within bounds, before decoding.
   */
  private szlFragment(side: Direction, dataUnitRef: number, lastDataUnit: number, payload: Uint8Array): void {
    const k = side * 256 + dataUnitRef;
    const held = this.szlParts.get(k);
    if (lastDataUnit !== 0x01) {
      if (held === undefined) this.identity(side, payload);
      else {
        this.szlParts.delete(k);
        if (held.length + payload.length <= MAX_SZL_BYTES) this.identity(side, concat(held, payload));
      }
      return;
    }
    if (held === undefined) {
      if (this.szlParts.size >= MAX_SZL_LISTS) this.szlParts.delete(this.szlParts.keys().next().value!);
      this.szlParts.set(k, payload.slice());
    } else if (held.length + payload.length <= MAX_SZL_BYTES) this.szlParts.set(k, concat(held, payload));
    else this.szlParts.delete(k);
  }

  /** Identity facts from a Read SZL response sent by `side`. */
  private identity(side: Direction, payload: Uint8Array): void {
    const d = decodeSzlResponse(payload);
    if (d.kind !== 'ok') return;
    const id = szlIdentity(d.value);
    if (id === null) return;
    const fact: IdentityFact = { kind: 'identity', side, protocol: 's7comm', ...id };
    this.link.ctx.fact(fact);
  }

  private add(k: number, p: Pending): void {
    const displaced = this.pending.add(k, p);
    if (displaced !== undefined) this.unanswered(displaced);
  }

  private unanswered(p: Pending): void {
    this.link.ctx.anomaly('s7comm.unanswered_request');
    this.link.ctx.operation(p.op);
  }
}

/** SZL lists joined from several data units: at most this many at once, of at most this size. */
const MAX_SZL_LISTS = 4;
const MAX_SZL_BYTES = 16 * 1024;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function other(dir: Direction): Direction {
  return dir === 0 ? 1 : 0;
}

/** Labels made, by area << 16 | DB number (polls read the same few DBs over and over). */
const AREA_LABELS = new Map<number, string>();
const MAX_AREA_LABELS = 4096;

/** SZL address spaces made, by SZL id (clients read the same few lists). */
const SZL_LABELS = new Map<number, string>();

/** `szl_0x0011`: the address space of a Read SZL request. */
function szlLabel(id: number): string {
  let label = SZL_LABELS.get(id);
  if (label === undefined) {
    label = `szl_0x${id.toString(16).padStart(4, '0')}`;
    if (SZL_LABELS.size >= MAX_AREA_LABELS) SZL_LABELS.clear();
    SZL_LABELS.set(id, label);
  }
  return label;
}

/** `db1`, `di3`, `merker`, `inputs`, ... */
export function areaLabel(area: number, dbNumber: number): string {
  const k = area * 0x10000 + dbNumber;
  let label = AREA_LABELS.get(k);
  if (label !== undefined) return label;
  if (area === AREA.db) label = `db${dbNumber}`;
  else if (area === AREA.di) label = `di${dbNumber}`;
  else label = AREA_NAMES[area] ?? `area_0x${area.toString(16).padStart(2, '0')}`;
  if (AREA_LABELS.size >= MAX_AREA_LABELS) AREA_LABELS.clear();
  AREA_LABELS.set(k, label);
  return label;
}

function counted(area: number): boolean {
  return area === AREA.counters || area === AREA.timers || area === AREA.iecCounters || area === AREA.iecTimers;
}

/**
 * One range per operation: the span of the items in the first item's area (and DB). Byte areas give
 * byte offsets and byte counts; counters and timers give their numbers and count.
 */
function setRange(op: Mutable<OperationEvent>, items: readonly S7Item[]): void {
  const first = items.find((it) => it.area >= 0);
  if (first === undefined) return;
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const it of items) {
    if (it.area !== first.area || it.dbNumber !== first.dbNumber) continue;
    let start: number;
    let size: number;
    if (counted(it.area)) {
      start = it.address;
      size = Math.max(1, it.length);
    } else {
      start = it.byteAddress;
      const elem = TRANSPORT_SIZE_BYTES[it.transportSize] ?? 1;
      size = elem === 0 ? Math.max(1, (it.bitAddress + Math.max(1, it.length) + 7) >>> 3) : elem * it.length;
    }
    if (start < lo) lo = start;
    if (start + size > hi) hi = start + size;
  }
  op.address = lo;
  op.quantity = hi - lo;
  op.addressSpace = areaLabel(first.area, first.dbNumber);
}

/** First failed item's return code when every item of a var response failed, else -1. */
function firstFailure(pdu: S7Pdu): number {
  const data = pdu.data;
  let first = -1;
  if (data.kind === 'items') {
    if (data.items.length === 0) return -1;
    for (const it of data.items) {
      if (it.returnCode === RETURN_OK) return -1;
      if (first < 0) first = it.returnCode;
    }
  } else if (data.kind === 'return_codes') {
    if (data.codes.length === 0) return -1;
    for (const c of data.codes) {
      if (c === RETURN_OK) return -1;
      if (first < 0) first = c;
    }
  }
  return first;
}

/** Values written, typed by the request items' transport sizes (at most MAX_OPERATION_VALUES). */
export function writeValues(items: readonly S7Item[], data: readonly S7DataItem[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length && out.length < MAX_OPERATION_VALUES; i++) {
    const d = data[i]!.data;
    const ts = items[i]?.transportSize ?? TS.byte;
    if (data[i]!.transportSize === 0x03 || ts === TS.bit) {
      if (d.length > 0) out.push(d[0]! & 1);
      continue;
    }
    const size = TRANSPORT_SIZE_BYTES[ts] ?? 1;
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let o = 0; o + size <= d.length && out.length < MAX_OPERATION_VALUES; o += size) {
      if (size === 2) out.push(ts === TS.int ? view.getInt16(o) : view.getUint16(o));
      else if (size === 4) {
        if (ts === TS.real) out.push(view.getFloat32(o));
        else out.push(ts === TS.dint ? view.getInt32(o) : view.getUint32(o));
      } else if (size === 1) out.push(d[o]!);
      else break;
    }
  }
  return out;
}

/**
 * `writeValues` for a write var job straight from its bytes: the S7ANY items (12 bytes each) at
 * `items`, the data items in [d, end). Null when the data part is cut short (the general path
 * reports `s7comm.bad_data`).
 */
function fastWriteValues(b: Uint8Array, items: number, count: number, d: number, end: number): number[] | null {
  const out: number[] = [];
  let q = d;
  for (let i = 0; i < count; i++) {
    if (q + 4 > end) return null;
    const returnCode = b[q]!;
    const dataTs = b[q + 1]!;
    const length = (b[q + 2]! << 8) | b[q + 3]!;
    const present = returnCode === 0x00 || returnCode === RETURN_OK;
    const bytes = !present ? 0 : dataLengthInBits(dataTs) ? (length + 7) >>> 3 : length;
    q += 4;
    if (q + bytes > end) return null;
    if (out.length < MAX_OPERATION_VALUES) {
      const ts = b[items + 12 * i + 3]!;
      if (dataTs === 0x03 || ts === TS.bit) {
        if (bytes > 0) out.push(b[q]! & 1);
      } else {
        const size = ELEMENT_BYTES[ts]!;
        if (size === 1 || size === 2 || size === 4) {
          for (let v = q; v + size <= q + bytes && out.length < MAX_OPERATION_VALUES; v += size) {
            if (size === 1) out.push(b[v]!);
            else if (size === 2) {
              const u = (b[v]! << 8) | b[v + 1]!;
              out.push(ts === TS.int ? (u << 16) >> 16 : u);
            } else {
              const u = (b[v]! << 24) | (b[v + 1]! << 16) | (b[v + 2]! << 8) | b[v + 3]!;
              if (ts === TS.real) {
                REAL.setInt32(0, u);
                out.push(REAL.getFloat32(0));
              } else out.push(ts === TS.dint ? u : u >>> 0);
            }
          }
        }
      }
    }
    q += bytes;
    // Items are padded to an even length, except the last.
    if ((bytes & 1) === 1 && i < count - 1 && q < end) q++;
  }
  return out;
}
