// Per-flow Modbus/TCP state: pairs responses with requests by transaction and unit id (Messaging on
// TCP/IP v1.0b §3.1.3, §4.4.1) and reports one operation per request, plus identity facts (§6.21).

import { LIMITS } from '../../core/limits.ts';
import type { AnalyzerContext, AssetFact, OperationEvent } from '../_core/types.ts';
import { SlotTable } from '../_core/pending.ts';
import { FC, functionInfo } from './constants.ts';
import { bitValues, registerValues, type ModbusAdu } from './decode.ts';

/** Values kept per operation (the first ones written). */
export const MAX_OPERATION_VALUES = 16;
/** Device identification entries kept in an identity fact's `extra`. */
const MAX_EXTRA = 16;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;

/**
 * A request waiting for its response. Only numbers are kept: the request's bytes belong to the
 * caller and are gone after the call.
 */
interface Pending {
  readonly op: Mutable<OperationEvent>;
  /** Byte count the response must carry (reads), or -1. */
  byteCount: number;
  /** Made by the read fast path, with every field a read needs: may go back to the pool. */
  readonly pooled?: boolean;
  /** Fields the response echoes (functions 5, 6, 15, 16, 22), or -1. */
  readonly echo0: number;
  readonly echo1: number;
  readonly echo2: number;
}

const key = (adu: ModbusAdu): number => adu.transactionId * 256 + adu.unit;

/** An operation record of the read fast path: always the same fields, so it can be reused. */
type ReadOp = Mutable<OperationEvent> & { address: number; quantity: number; addressSpace: string };
type PooledRead = Pending & { op: ReadOp };
/** Read records kept for reuse per flow. */
const POOL_SIZE = 8;

/**
 * Outstanding requests of one flow, at most `maxPending`; the oldest is evicted first. An evicted,
 * replaced (same transaction and unit id) or flushed request is reported unanswered with the
 * anomaly `modbus.unanswered_request`; a response without a request is `modbus.unmatched_response`.
 */
export class ModbusTransactions {
  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  private readonly pending = new SlotTable<Pending>();
  private readonly pool: PooledRead[] = [];

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
  }

  get size(): number {
    return this.pending.size;
  }

  request(adu: ModbusAdu, tsMicros: number): void {
    const k = key(adu);
    this.evictFor(k);
    this.pending.add(k, pendingFor(adu, tsMicros));
  }

  /** A read request (functions 1–4) without its decoded record: the fast path of the analyzer. */
  readRequest(
    transactionId: number,
    unit: number,
    fc: number,
    address: number,
    quantity: number,
    tsMicros: number,
  ): void {
    const k = transactionId * 256 + unit;
    this.evictFor(k);
    const info = functionInfo(fc);
    const byteCount = fc <= FC.readDiscreteInputs ? (quantity + 7) >>> 3 : quantity * 2;
    // Reads answered on the fast path hand their record back to a small pool: polling then
    // allocates nothing per request.
    const p = this.pool.pop();
    if (p !== undefined) {
      const op = p.op;
      op.name = info.operation;
      op.code = fc;
      op.access = info.access;
      op.tsMicros = tsMicros;
      op.unit = unit;
      op.responded = false;
      op.address = address;
      op.quantity = quantity;
      op.addressSpace = info.addressSpace ?? 'address';
      p.byteCount = byteCount;
      this.pending.add(k, p);
      return;
    }
    const op: ReadOp = {
      name: info.operation,
      protocol: 'modbus',
      code: fc,
      access: info.access,
      tsMicros,
      unit,
      responded: false,
      address,
      quantity,
      addressSpace: info.addressSpace ?? 'address',
    };
    this.pending.add(k, { op, byteCount, echo0: -1, echo1: -1, echo2: -1, pooled: true });
  }

  /** A normal read response (functions 1–4) without its decoded record; true when it answered a request. */
  readResponse(transactionId: number, unit: number, fc: number, byteCount: number): boolean {
    const k = transactionId * 256 + unit;
    const p = this.pending.take(k);
    if (p === undefined) {
      this.ctx.anomaly('modbus.unmatched_response');
      return false;
    }
    const op = p.op;
    op.responded = true;
    if (fc !== op.code || (p.byteCount >= 0 && byteCount !== p.byteCount)) this.ctx.anomaly('modbus.response_mismatch');
    this.ctx.operation(op);
    // The context keeps nothing of an operation (AnalyzerContext.operation), so a fast-path read
    // record can be reused.
    if (p.pooled === true && op.exception === undefined && this.pool.length < POOL_SIZE)
      this.pool.push(p as PooledRead);
    return true;
  }

  /** Makes room for request key `k`: a request reusing it, or the oldest past the bound, is unanswered. */
  private evictFor(k: number): void {
    const old = this.pending.take(k);
    if (old !== undefined) this.unanswered(old);
    else if (this.pending.size >= this.maxPending) {
      const oldest = this.pending.takeOldest();
      if (oldest !== undefined) this.unanswered(oldest);
    }
  }

  /** Pairs a response; returns true when it answered a pending request. */
  response(adu: ModbusAdu): boolean {
    const pdu = adu.pdu;
    if (pdu.kind === 'device_id_response') this.identity(adu);
    const k = key(adu);
    const p = this.pending.take(k);
    if (p === undefined) {
      this.ctx.anomaly('modbus.unmatched_response');
      return false;
    }
    const op = p.op;
    op.responded = true;
    if (pdu.kind === 'exception') op.exception = pdu.exceptionCode;
    if (adu.functionCode !== op.code || !matches(p, adu)) this.ctx.anomaly('modbus.response_mismatch');
    this.ctx.operation(op);
    return true;
  }

  /** End of flow: every request still waiting is reported unanswered, oldest first. */
  flush(): void {
    for (let p = this.pending.takeOldest(); p !== undefined; p = this.pending.takeOldest()) this.unanswered(p);
  }

  private unanswered(p: Pending): void {
    this.ctx.anomaly('modbus.unanswered_request');
    this.ctx.operation(p.op);
  }

  private identity(adu: ModbusAdu): void {
    if (adu.pdu.kind !== 'device_id_response' || adu.pdu.objects.length === 0) return;
    const fact: IdentityFact = { kind: 'identity', side: 1, protocol: 'modbus' };
    const extra: Record<string, string> = {};
    let extras = 0;
    let known = 0;
    for (const o of adu.pdu.objects) {
      if (o.value === '') continue;
      known++;
      switch (o.id) {
        case 0:
          fact.vendor = o.value;
          break;
        case 1:
          fact.productCode = o.value;
          break;
        case 2:
          fact.firmware = o.value;
          break;
        case 4:
          fact.product = o.value;
          break;
        case 5:
          fact.model = o.value;
          break;
        case 3:
          if (extras++ < MAX_EXTRA) extra.vendorUrl = o.value;
          break;
        case 6:
          if (extras++ < MAX_EXTRA) extra.userApplicationName = o.value;
          break;
        default:
          if (extras++ < MAX_EXTRA) extra[o.name] = o.value;
      }
    }
    if (known === 0) return;
    if (extras > 0) fact.extra = extra;
    this.ctx.fact(fact);
  }
}

/** The operation a request stands for, with what its response must match. */
function pendingFor(adu: ModbusAdu, ts: number): Pending {
  const info = functionInfo(adu.functionCode, adu.meiType);
  const op: Mutable<OperationEvent> = {
    name: info.operation,
    protocol: 'modbus',
    code: adu.functionCode,
    access: info.access,
    tsMicros: ts,
    unit: adu.unit,
    responded: false,
  };
  if (info.addressSpace !== undefined) op.addressSpace = info.addressSpace;
  let byteCount = -1;
  let echo0 = -1;
  let echo1 = -1;
  let echo2 = -1;
  const pdu = adu.pdu;
  switch (pdu.kind) {
    case 'read_request':
      op.address = pdu.address;
      op.quantity = pdu.quantity;
      byteCount = adu.functionCode <= FC.readDiscreteInputs ? (pdu.quantity + 7) >>> 3 : pdu.quantity * 2;
      break;
    case 'write_single': {
      const coil = adu.functionCode === FC.writeSingleCoil;
      op.address = pdu.address;
      op.quantity = 1;
      // A coil is written as 0xFF00 (on) or 0x0000 (off); other values are kept raw.
      op.values = [coil && pdu.value === 0xff00 ? 1 : pdu.value];
      echo0 = pdu.address;
      echo1 = pdu.value;
      break;
    }
    case 'write_multiple': {
      const coils = adu.functionCode === FC.writeMultipleCoils;
      op.address = pdu.address;
      op.quantity = pdu.quantity;
      op.values = coils
        ? bitValues(pdu.data, pdu.quantity, MAX_OPERATION_VALUES)
        : registerValues(pdu.data, pdu.quantity, MAX_OPERATION_VALUES);
      echo0 = pdu.address;
      echo1 = pdu.quantity;
      break;
    }
    case 'mask_write':
      op.address = pdu.address;
      op.quantity = 1;
      op.values = [pdu.andMask, pdu.orMask];
      echo0 = pdu.address;
      echo1 = pdu.andMask;
      echo2 = pdu.orMask;
      break;
    case 'read_write_request':
      // One range per operation: the written one, since the access class is write.
      op.address = pdu.writeAddress;
      op.quantity = pdu.writeQuantity;
      op.values = registerValues(pdu.data, pdu.writeQuantity, MAX_OPERATION_VALUES);
      byteCount = pdu.readQuantity * 2;
      break;
    case 'fifo_request':
      op.address = pdu.address;
      break;
    case 'file_record_read':
    case 'file_record_write': {
      const first = pdu.subRequests[0];
      if (first !== undefined) {
        op.address = first.recordNumber;
        op.quantity = first.recordLength;
      }
      break;
    }
    case 'exception':
    case 'read_response':
    case 'write_multiple_response':
    case 'empty':
    case 'exception_status':
    case 'diagnostics':
    case 'comm_event_counter':
    case 'comm_event_log':
    case 'server_id':
    case 'file_record_read_response':
    case 'fifo_response':
    case 'device_id_request':
    case 'device_id_response':
    case 'mei':
    case 'raw':
      break;
  }
  return { op, byteCount, echo0, echo1, echo2 };
}

/** Whether a normal response agrees with its request (byte count for reads, echoes for writes). */
function matches(p: Pending, adu: ModbusAdu): boolean {
  const pdu = adu.pdu;
  switch (pdu.kind) {
    case 'read_response':
      return p.byteCount < 0 || pdu.byteCount === p.byteCount;
    case 'write_single':
      return p.echo0 < 0 || (pdu.address === p.echo0 && pdu.value === p.echo1);
    case 'write_multiple_response':
      return p.echo0 < 0 || (pdu.address === p.echo0 && pdu.quantity === p.echo1);
    case 'mask_write':
      return p.echo0 < 0 || (pdu.address === p.echo0 && pdu.andMask === p.echo1 && pdu.orMask === p.echo2);
    case 'exception':
    case 'read_request':
    case 'write_multiple':
    case 'empty':
    case 'exception_status':
    case 'diagnostics':
    case 'comm_event_counter':
    case 'comm_event_log':
    case 'server_id':
    case 'file_record_read':
    case 'file_record_read_response':
    case 'file_record_write':
    case 'read_write_request':
    case 'fifo_request':
    case 'fifo_response':
    case 'device_id_request':
    case 'device_id_response':
    case 'mei':
    case 'raw':
      return true;
  }
}
