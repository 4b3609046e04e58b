// Per-flow MMS state: session → presentation → ACSE → MMS for each TSDU, pairing confirmed requests
// with responses by invokeID (either side may request: MMS is symmetric), one operation per request,
// one per unconfirmed PDU, and identity facts from Identify responses (ISO 9506-2 §10.3).

import { LIMITS } from '../../core/limits.ts';
import type { Direction, OperationEvent } from '../_core/types.ts';
import { PendingTable } from '../_core/pending.ts';
import type { IsoLink, TsduHandler } from '../iso/types.ts';
import {
  CANCEL,
  CONCLUDE,
  CONTROL_WRITE,
  INITIATE,
  OBJECT_CLASS_NAMES,
  SERVICE,
  TRACE_OFFSET,
  confirmedService,
  unconfirmedService,
  type ServiceInfo,
} from './constants.ts';
import {
  decodeMmsPdu,
  getNameListClass,
  identifyResponse,
  informationReport,
  readRequest,
  readResponse,
  writeRequest,
  writeResponse,
  type MmsPdu,
} from './decode.ts';
import { decodeSpdu, upperLayers } from './osi.ts';

/** Values kept per write operation. */
export const MAX_OPERATION_VALUES = 16;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Pending {
  readonly op: Mutable<OperationEvent>;
  /** Confirmed service tag, or -1 for initiate/conclude/cancel. */
  readonly service: number;
}

const TWO_32 = 0x1_0000_0000;
/** Keys: confirmed requests by (requester, invokeID); cancel, initiate and conclude apart. */
const confirmedKey = (requester: Direction, invokeId: number): number => requester * TWO_32 + invokeId;
const cancelKey = (requester: Direction, invokeId: number): number => 2 * TWO_32 + requester * TWO_32 + invokeId;
const initiateKey = (requester: Direction): number => -1 - requester;
const concludeKey = (requester: Direction): number => -3 - requester;

function other(dir: Direction): Direction {
  return dir === 0 ? 1 : 0;
}

/**
 * One MMS association. Anomalies: `mms.unmatched_response`, `mms.unanswered_request`,
 * `mms.response_mismatch`, `mms.reject`, and the decoders' codes (`mms.bad_spdu`, `mms.bad_pdu`, ...).
 * TSDUs carrying no MMS PDU (ACSE release, session tokens) are passed over.
 */
export class MmsSession implements TsduHandler {
  private readonly link: IsoLink;
  private readonly pending: PendingTable<Pending>;

  constructor(link: IsoLink, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.link = link;
    this.pending = new PendingTable(maxPending);
  }

  tsdu(dir: Direction, bytes: Uint8Array, ts: number): void {
    const ctx = this.link.ctx;
    const s = decodeSpdu(bytes);
    if (s.kind !== 'ok') {
      ctx.anomaly(s.kind === 'malformed' ? s.code : 'mms.bad_spdu');
      return;
    }
    const userData = s.value.userData;
    if (userData === null) return;
    const mms = upperLayers(userData).mms;
    if (mms === null) return;
    const d = decodeMmsPdu(mms);
    if (d.kind !== 'ok') {
      ctx.anomaly(d.kind === 'malformed' ? d.code : 'mms.truncated');
      return;
    }
    for (const a of d.anomalies) ctx.anomaly(a);
    if (d.anomalies.length === 0) this.link.decoded();
    this.pdu(dir, d.value, ts);
  }

  gap(_dir: Direction): void {
    // Pending requests stay: their responses may still come.
  }

  end(): void {
    for (let p = this.pending.takeOldest(); p !== undefined; p = this.pending.takeOldest()) this.unanswered(p);
  }

  private pdu(dir: Direction, p: MmsPdu, ts: number): void {
    const ctx = this.link.ctx;
    // tshark: mms.confirmedServiceRequest / mms.confirmedServiceResponse / mms.unconfirmedService.
    if (p.service >= 0) {
      const offset =
        p.kind === 'confirmed_request'
          ? TRACE_OFFSET.confirmedRequest
          : p.kind === 'confirmed_response'
            ? TRACE_OFFSET.confirmedResponse
            : TRACE_OFFSET.unconfirmed;
      ctx.pdu?.(dir, offset + p.service);
    }
    switch (p.kind) {
      case 'confirmed_request':
        this.request(confirmedKey(dir, p.invokeId), this.requestOp(p, ts), p.service);
        break;
      case 'confirmed_response':
        this.confirmedResponse(dir, p);
        break;
      case 'confirmed_error':
      case 'cancel_error':
      case 'initiate_error':
      case 'conclude_error': {
        const k =
          p.kind === 'confirmed_error'
            ? confirmedKey(other(dir), p.invokeId)
            : p.kind === 'cancel_error'
              ? cancelKey(other(dir), p.invokeId)
              : p.kind === 'initiate_error'
                ? initiateKey(other(dir))
                : concludeKey(other(dir));
        const op = this.respond(k, -1);
        if (op === null) return;
        op.exception = p.errorClass < 0 ? 0 : (p.errorClass << 8) | (p.errorCode & 0xff);
        this.report(op);
        break;
      }
      case 'unconfirmed': {
        const info = unconfirmedService(p.service);
        const op = newOp(info, ts);
        if (p.service === 0) {
          const report = informationReport(p.body);
          const n = report.results?.count ?? report.access?.count;
          if (n !== undefined) op.quantity = n;
          if (report.access !== null)
            op.addressSpace = report.access.listName ? 'named_variable_list' : 'named_variable';
        }
        // Sent unasked (reports, events): one operation each, nothing to wait for.
        ctx.operation(op);
        break;
      }
      case 'reject': {
        ctx.anomaly('mms.reject');
        if (p.invokeId < 0) return;
        const op = this.respond(confirmedKey(other(dir), p.invokeId), -1);
        if (op === null) return;
        op.exception = 0x10000 | ((p.rejectType & 0xff) << 8) | (p.rejectCode & 0xff);
        this.report(op);
        break;
      }
      case 'cancel_request':
        this.request(cancelKey(dir, p.invokeId), newOp(CANCEL, ts), -1);
        break;
      case 'cancel_response':
        this.answer(cancelKey(other(dir), p.invokeId));
        break;
      case 'initiate_request':
        this.request(initiateKey(dir), newOp(INITIATE, ts), -1);
        break;
      case 'initiate_response':
        this.answer(initiateKey(other(dir)));
        break;
      case 'conclude_request':
        this.request(concludeKey(dir), newOp(CONCLUDE, ts), -1);
        break;
      case 'conclude_response':
        this.answer(concludeKey(other(dir)));
        break;
    }
  }

  /** The operation a confirmed request stands for. */
  private requestOp(p: MmsPdu, ts: number): Mutable<OperationEvent> {
    let info: ServiceInfo = confirmedService(p.service);
    let quantity = -1;
    let space = '';
    let values: number[] | null = null;
    switch (p.service) {
      case SERVICE.read: {
        const a = readRequest(p.body);
        if (a !== null) {
          quantity = a.count;
          space = a.listName ? 'named_variable_list' : 'named_variable';
        }
        break;
      }
      case SERVICE.write: {
        values = [];
        const a = writeRequest(p.body, values, MAX_OPERATION_VALUES);
        if (a !== null) {
          quantity = a.count;
          space = a.listName ? 'named_variable_list' : 'named_variable';
          if (a.control) info = CONTROL_WRITE;
        }
        break;
      }
      case SERVICE.getNameList: {
        const k = getNameListClass(p.body);
        if (k >= 0) space = OBJECT_CLASS_NAMES[k] ?? `object_class_${k}`;
        break;
      }
      default:
        break;
    }
    const op = newOp(info, ts);
    if (quantity >= 0) op.quantity = quantity;
    if (space !== '') op.addressSpace = space;
    if (values !== null && values.length > 0) op.values = values;
    return op;
  }

  private confirmedResponse(dir: Direction, p: MmsPdu): void {
    const op = this.respond(confirmedKey(other(dir), p.invokeId), p.service);
    if (p.service === SERVICE.identify) this.identity(dir, p.body);
    if (op === null) return;
    // All variables failed: the first DataAccessError is the operation's exception.
    if (p.service === SERVICE.read || p.service === SERVICE.write) {
      const r = p.service === SERVICE.read ? readResponse(p.body) : writeResponse(p.body);
      if (r !== null && r.count > 0 && r.failures === r.count && r.firstFailure >= 0) op.exception = r.firstFailure;
    }
    this.report(op);
  }

  private identity(side: Direction, body: Uint8Array): void {
    const id = identifyResponse(body);
    if (id === null) return;
    const fact: {
      kind: 'identity';
      side: Direction;
      protocol: string;
      vendor?: string;
      model?: string;
      firmware?: string;
    } = { kind: 'identity', side, protocol: 'mms' };
    if (id.vendor !== '') fact.vendor = id.vendor;
    if (id.model !== '') fact.model = id.model;
    if (id.revision !== '') fact.firmware = id.revision;
    this.link.ctx.fact(fact);
  }

  private request(k: number, op: Mutable<OperationEvent>, service: number): void {
    const displaced = this.pending.add(k, { op, service });
    if (displaced !== undefined) this.unanswered(displaced);
  }

  /** Takes the request a response answers; null (and an anomaly) when there is none. */
  private respond(k: number, service: number): Mutable<OperationEvent> | null {
    const p = this.pending.take(k);
    if (p === undefined) {
      this.link.ctx.anomaly('mms.unmatched_response');
      return null;
    }
    if (service >= 0 && p.service >= 0 && service !== p.service) this.link.ctx.anomaly('mms.response_mismatch');
    p.op.responded = true;
    return p.op;
  }

  private answer(k: number): void {
    const op = this.respond(k, -1);
    if (op !== null) this.report(op);
  }

  private report(op: Mutable<OperationEvent>): void {
    this.link.ctx.operation(op);
    this.link.answered();
  }

  private unanswered(p: Pending): void {
    this.link.ctx.anomaly('mms.unanswered_request');
    this.link.ctx.operation(p.op);
  }
}

function newOp(info: ServiceInfo, ts: number): Mutable<OperationEvent> {
  return {
    name: info.operation,
    protocol: 'mms',
    code: info.code,
    access: info.access,
    tsMicros: ts,
    responded: false,
  };
}
