// Per-flow S7comm state: pairs jobs with their ack/ack_data and userdata requests with their
// responses by PDU reference, reports one operation per request (pushes from the PLC are operations
// of their own), and identity facts from SZL 0x0011 / 0x001C responses.

import { LIMITS } from '../../core/limits.ts';
import type { AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import { PendingTable } from '../iso/pending.ts';
import type { IsoLink, TsduHandler } from '../iso/types.ts';
import {
  AREA,
  AREA_NAMES,
  FUNC,
  GROUP,
  RETURN_OK,
  ROSCTR,
  SUBF_READ_SZL,
  TRANSPORT_SIZE_BYTES,
  TS,
  UD_TYPE,
  USERDATA_TRACE_OFFSET,
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
  readonly code: number;
  /** Items requested (read/write var), or -1. */
  readonly itemCount: number;
}

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

  constructor(link: IsoLink, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.link = link;
    this.pending = new PendingTable(maxPending);
  }

  tsdu(dir: Direction, bytes: Uint8Array, ts: number): void {
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
    this.add(key(dir, false, pdu.pduRef), { op, code: func, itemCount });
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
    this.link.answered();
  }

  private userdata(dir: Direction, pdu: S7Pdu, ts: number): void {
    const param = pdu.param;
    if (param.kind !== 'userdata') return;
    const code = (param.group << 8) | param.subfunction;
    const info = userdataOperation(param.type, param.group, param.subfunction);
    if (param.type === UD_TYPE.response) {
      this.userdataResponse(dir, pdu, code);
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
    if (param.type === UD_TYPE.request) {
      if (code === ((GROUP.cpu << 8) | SUBF_READ_SZL) && pdu.data.kind === 'userdata' && pdu.data.payload.length >= 4) {
        // The SZL id and index read.
        const b = pdu.data.payload;
        op.addressSpace = `szl_0x${((b[0]! << 8) | b[1]!).toString(16).padStart(4, '0')}`;
        op.address = (b[2]! << 8) | b[3]!;
      }
      this.add(key(dir, true, pdu.pduRef), { op, code, itemCount: -1 });
      return;
    }
    // A push (type 0): alarms, diagnostic messages, cyclic data, mode transitions sent by the PLC
    // unasked. One operation each, with no response to wait for.
    this.link.ctx.operation(op);
  }

  private userdataResponse(dir: Direction, pdu: S7Pdu, code: number): void {
    const ctx = this.link.ctx;
    const param = pdu.param;
    if (param.kind !== 'userdata') return;
    const p = this.pending.take(key(other(dir), true, pdu.pduRef));
    if (p === undefined) {
      ctx.anomaly('s7comm.unmatched_response');
      return;
    }
    const op = p.op;
    op.responded = true;
    if (p.code !== code) ctx.anomaly('s7comm.response_mismatch');
    const data = pdu.data;
    if (param.errorCode !== 0) op.exception = param.errorCode;
    else if (data.kind === 'userdata' && data.returnCode !== RETURN_OK) op.exception = data.returnCode;
    else if (code === ((GROUP.cpu << 8) | SUBF_READ_SZL) && data.kind === 'userdata') {
      this.szlFragment(dir, param.dataUnitRef, param.lastDataUnit, data.payload);
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

/** `db1`, `di3`, `merker`, `inputs`, ... */
export function areaLabel(area: number, dbNumber: number): string {
  if (area === AREA.db) return `db${dbNumber}`;
  if (area === AREA.di) return `di${dbNumber}`;
  return AREA_NAMES[area] ?? `area_0x${area.toString(16).padStart(2, '0')}`;
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
