// Per-flow EtherNet/IP state: pairs encapsulation replies with requests by command and sender
// context (CIP Vol 2 §2-3.3), connected CIP replies by sequence count (Vol 1 §3-4.2.1), and turns CIP
// requests into operations (one per service, Unconnected Send and Multiple Service Packet unwrapped),
// plus identity facts from ListIdentity replies and Identity object Get_Attributes_All replies.

import { LIMITS } from '../../core/limits.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import {
  CLASS,
  COMMAND,
  ENCAP_STATUS_NAMES,
  IDENTITY_STATE_NAMES,
  SERVICE,
  cipVendorName,
  classSpace,
  commandInfo,
  deviceTypeName,
  isErrorStatus,
  serviceInfo,
} from './constants.ts';
import {
  decodeIdentityAttributes,
  type CipRequest,
  type CipResponse,
  type EnipMessage,
  type IdentityAttributes,
  type ListIdentityItem,
  type PortHop,
} from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Op = Mutable<OperationEvent>;
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;

const NO_BYTES = new Uint8Array(0);

/**
 * A CIP request reduced to what its operations need: the services it stands for (an Unconnected
 * Send and a Multiple Service Packet unwrapped). Filled per message by the decoded-record path
 * (`EnipTransactions.message`) or by the analyzer's fast path, and read during the same call.
 */
export class RequestSummary {
  /** Delivered by an Unconnected Send. */
  routed = false;
  /** Backplane slot of the route (the operations' unit), or -1. */
  unit = -1;
  /** `port/link` hops of the route, or ''. */
  route = '';
  /** The services came in a Multiple Service Packet. */
  multiple = false;
  count = 0;
  readonly service: number[] = [];
  readonly classId: number[] = [];
  readonly instance: number[] = [];
  readonly symbolic: boolean[] = [];
  /** Values written, or null. */
  readonly values: (readonly number[] | null)[] = [];

  reset(): void {
    this.routed = false;
    this.unit = -1;
    this.route = '';
    this.multiple = false;
    this.count = 0;
  }

  add(service: number, classId: number, instance: number, symbolic: boolean, values: readonly number[] | null): void {
    const i = this.count++;
    this.service[i] = service;
    this.classId[i] = classId;
    this.instance[i] = instance;
    this.symbolic[i] = symbolic;
    this.values[i] = values;
  }
}

/**
 * A CIP response reduced to what pairing needs: its service and status, its data, and the replies
 * of a Multiple Service Packet response. Filled and read like `RequestSummary`.
 */
export class ResponseSummary {
  /** Service code without the response bit. */
  service = 0;
  generalStatus = 0;
  /** The response data is `bytes[start, end)`. */
  bytes: Uint8Array = NO_BYTES;
  start = 0;
  end = 0;
  /** Replies of a Multiple Service Packet response (0 when it has none). */
  replies = 0;
  readonly replyService: number[] = [];
  readonly replyStatus: number[] = [];
  readonly replyBytes: Uint8Array[] = [];
  readonly replyStart: number[] = [];
  readonly replyEnd: number[] = [];

  set(service: number, generalStatus: number, bytes: Uint8Array, start: number, end: number): void {
    this.service = service;
    this.generalStatus = generalStatus;
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.replies = 0;
  }

  /** Drops the references to the message's bytes (they belong to the caller). */
  release(): void {
    this.bytes = NO_BYTES;
    for (let i = 0; i < this.replies; i++) this.replyBytes[i] = NO_BYTES;
  }

  addReply(service: number, generalStatus: number, bytes: Uint8Array, start: number, end: number): void {
    const i = this.replies++;
    this.replyService[i] = service;
    this.replyStatus[i] = generalStatus;
    this.replyBytes[i] = bytes;
    this.replyStart[i] = start;
    this.replyEnd[i] = end;
  }
}

/** The summaries of the message being handled (handling is synchronous: one of each suffices). */
export const REQUEST = new RequestSummary();
export const RESPONSE = new ResponseSummary();
/** `answer` without a reply of its own. */
const NO_REPLY = -2;
/** `answer` with the response itself (not one of its Multiple Service Packet replies). */
const WHOLE_REPLY = -1;

/** One CIP service of a request, waiting for its reply. Reused once answered (see `POOL_SIZE`). */
interface PendingService {
  op: Op;
  /** The route of an Unconnected Send (`port/link` hops), or '' when the target is the flow's server. */
  route: string;
  service: number;
  /** Get_Attributes_All on the Identity object: its reply is an identity fact. */
  identity: boolean;
  /**
   * Which optional fields `op` has (`SHAPE_*` bits) when it is a CIP operation without an
   * exception, so that it can be reused for another with the same fields; -1 otherwise.
   */
  shape: number;
}

const SHAPE_UNIT = 1;
const SHAPE_SPACE = 2;
const SHAPE_ADDRESS = 4;
const SHAPE_VALUES = 8;

/** A request waiting for its reply: an encapsulation command, or the CIP services it carries. */
interface Pending {
  dir: Direction;
  command: number;
  contextLo: number;
  contextHi: number;
  /** Connected sequence count (SendUnitData), or -1. */
  sequence: number;
  /** The operations: one for an encapsulation command, one per CIP service otherwise. */
  readonly services: PendingService[];
  /** The services came in a Multiple Service Packet: the reply is a 0x8A with one reply each. */
  multiple: boolean;
  /** Delivered by an Unconnected Send: a 0xD2 reply is the router's own error. */
  routed: boolean;
  /** Broadcast-able discovery requests are often answered in another flow: no anomaly then. */
  quietIfUnanswered: boolean;
}

/**
 * Answered requests and services kept per flow for reuse: the context keeps nothing of an
 * operation (AnalyzerContext.operation), so a poller's requests then allocate nothing. Records
 * that live from a request to its reply would otherwise outlive the young generation.
 */
const POOL_SIZE = 4;
const SERVICE_POOL_SIZE = 64;

/**
 * Outstanding requests of one flow, at most `maxPending` (the oldest is evicted and reported
 * unanswered). Replies are found by command and sender context (SendRRData and the other
 * commands) or by connected sequence count (SendUnitData), in the other direction.
 */
export class EnipTransactions {
  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  private readonly pending: Pending[] = [];
  private readonly pool: Pending[] = [];
  private readonly servicePool: PendingService[] = [];

  /** Whether answered records are reused (tests turn it off for a reference run). */
  private readonly reuse: boolean;

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow, reuse = true) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
    this.reuse = reuse;
  }

  get size(): number {
    return this.pending.length;
  }

  /** One decoded encapsulation message in direction `dir`. */
  message(m: EnipMessage, dir: Direction, ts: number): void {
    const body = m.body;
    if (body.kind === 'send_data') {
      const cip = body.cip;
      const connected = m.command === COMMAND.sendUnitData;
      if (cip === null) {
        // An error reply without data (status set), or an empty item.
        if (m.status !== 0) this.encapError(m, dir);
        return;
      }
      if (cip.kind === 'request') this.cipRequest(m, cip, dir, ts, connected ? body.sequence : -1);
      else this.cipResponse(m, cip, dir, connected ? body.sequence : -1);
      return;
    }
    const info = commandInfo(m.command);
    if (info === undefined) return;
    const p = this.take(dir, m.command, m.contextLo, m.contextHi, -1);
    if (p !== undefined) {
      this.reply(p, m, dir);
      return;
    }
    if (isReply(m, dir)) {
      if (body.kind === 'list_identity') this.listIdentity(body.items, dir);
      // A reply without its request: the answer to a broadcast (another flow) counts as one
      // answered discovery operation of this flow; others are only an anomaly.
      if (info.access === 'discovery') {
        const op = this.encapOp(m.command, ts);
        op.responded = true;
        if (m.status !== 0) op.exception = m.status;
        this.ctx.operation(op);
      } else this.ctx.anomaly('enip.unmatched_response');
      return;
    }
    const op = this.encapOp(m.command, ts);
    if (!info.replied) {
      this.ctx.operation(op);
      return;
    }
    this.add({
      dir,
      command: m.command,
      contextLo: m.contextLo,
      contextHi: m.contextHi,
      sequence: -1,
      services: [{ op, service: -1, identity: false, route: '', shape: -1 }],
      multiple: false,
      routed: false,
      quietIfUnanswered: info.access === 'discovery',
    });
  }

  /** End of flow: every request still waiting is reported unanswered, oldest first. */
  flush(): void {
    const all = this.pending.splice(0);
    for (const p of all) this.unanswered(p);
  }

  private encapOp(command: number, ts: number): Op {
    const info = commandInfo(command)!;
    return {
      name: info.operation,
      protocol: 'enip',
      code: command,
      access: info.access,
      tsMicros: ts,
      responded: false,
    };
  }

  private reply(p: Pending, m: EnipMessage, dir: Direction): void {
    const s = p.services[0]!;
    s.op.responded = true;
    if (m.status !== 0) s.op.exception = m.status;
    if (m.body.kind === 'list_identity') this.listIdentity(m.body.items, dir);
    this.ctx.operation(s.op);
  }

  /** A SendRRData/SendUnitData reply with an encapsulation error and no CIP reply. */
  private encapError(m: EnipMessage, dir: Direction): void {
    if (ENCAP_STATUS_NAMES[m.status] === undefined) this.ctx.anomaly('enip.unknown_status');
    const p = this.take(dir, m.command, m.contextLo, m.contextHi, -1);
    if (p === undefined) {
      this.ctx.anomaly('enip.unmatched_response');
      return;
    }
    for (const s of p.services) {
      s.op.responded = true;
      s.op.exception = m.status;
      this.ctx.operation(s.op);
    }
  }

  private cipRequest(m: EnipMessage, req: CipRequest, dir: Direction, ts: number, sequence: number): void {
    const S = REQUEST;
    S.reset();
    let inner = req;
    if (inner.detail.kind === 'unconnected_send' && inner.detail.embedded !== null) {
      S.routed = true;
      S.unit = slotOf(inner.detail.route);
      S.route = routeText(inner.detail.route);
      inner = inner.detail.embedded;
    }
    if (inner.detail.kind === 'multiple_service_packet' && inner.detail.services.length > 0) {
      S.multiple = true;
      for (const s of inner.detail.services) summarise(S, unwrap(s));
    } else {
      // A packet whose services could not be read still stands for one request.
      summarise(S, inner);
    }
    this.request(dir, m.command, m.contextLo, m.contextHi, sequence, ts);
  }

  /** A CIP request summarised in `REQUEST`: one pending request with an operation per service. */
  request(dir: Direction, command: number, contextLo: number, contextHi: number, sequence: number, ts: number): void {
    const S = REQUEST;
    let p = this.pool.pop();
    if (p === undefined) {
      p = {
        dir,
        command,
        contextLo,
        contextHi,
        sequence,
        services: [],
        multiple: S.multiple,
        routed: S.routed,
        quietIfUnanswered: false,
      };
    } else {
      p.dir = dir;
      p.command = command;
      p.contextLo = contextLo;
      p.contextHi = contextHi;
      p.sequence = sequence;
      p.multiple = S.multiple;
      p.routed = S.routed;
      p.quietIfUnanswered = false;
    }
    const services = p.services;
    for (let i = 0; i < S.count; i++) services.push(this.serviceOp(S, i, ts));
    this.add(p);
  }

  /** The operation of service `i` of `REQUEST`, in a reused record when one of its shape is free. */
  private serviceOp(S: RequestSummary, i: number, ts: number): PendingService {
    const service = S.service[i]!;
    const classId = S.classId[i]!;
    const instance = S.instance[i]!;
    const symbolic = S.symbolic[i]!;
    const values = S.values[i] ?? null;
    const info = serviceInfo(service, classId, symbolic);
    const unit = S.unit;
    const space = classId >= 0 ? classSpace(classId) : symbolic ? classSpace(CLASS.symbol) : '';
    const shape =
      (unit >= 0 ? SHAPE_UNIT : 0) |
      (space !== '' ? SHAPE_SPACE : 0) |
      (instance >= 0 ? SHAPE_ADDRESS : 0) |
      (values !== null ? SHAPE_VALUES : 0);
    const identity = service === SERVICE.getAttributesAll && classId === CLASS.identity && instance === 1;
    let s = this.servicePool.pop();
    if (s !== undefined && s.shape === shape) {
      const op = s.op;
      op.name = info.operation;
      op.code = service;
      op.access = info.access;
      op.tsMicros = ts;
      op.responded = false;
      if (shape & SHAPE_UNIT) op.unit = unit;
      if (shape & SHAPE_SPACE) op.addressSpace = space;
      if (shape & SHAPE_ADDRESS) {
        op.address = instance;
        op.quantity = 1;
      }
      if (values !== null) op.values = values;
    } else {
      const op: Op = {
        name: info.operation,
        protocol: 'cip',
        code: service,
        access: info.access,
        tsMicros: ts,
        responded: false,
      };
      if (shape & SHAPE_UNIT) op.unit = unit;
      if (shape & SHAPE_SPACE) op.addressSpace = space;
      if (shape & SHAPE_ADDRESS) {
        op.address = instance;
        op.quantity = 1;
      }
      if (values !== null) op.values = values;
      if (s === undefined) s = { op, service, identity, route: S.route, shape };
      else {
        s.op = op;
        s.shape = shape;
      }
    }
    s.service = service;
    s.identity = identity;
    s.route = S.route;
    return s;
  }

  /** Returns an answered CIP request's records to the pools. */
  private recycle(p: Pending): void {
    if (!this.reuse) return;
    const services = p.services;
    const free = this.servicePool;
    // Emptied with pop, which keeps the array's backing store for the next request.
    for (let s = services.pop(); s !== undefined; s = services.pop()) {
      if (s.op.exception !== undefined) s.shape = -1;
      if (free.length < SERVICE_POOL_SIZE) free.push(s);
    }
    if (this.pool.length < POOL_SIZE) this.pool.push(p);
  }

  private cipResponse(m: EnipMessage, rsp: CipResponse, dir: Direction, sequence: number): void {
    const R = RESPONSE;
    R.set(rsp.service, rsp.generalStatus, rsp.data, 0, rsp.data.length);
    if (rsp.detail.kind === 'multiple_service_packet') {
      for (const r of rsp.detail.replies) R.addReply(r.service, r.generalStatus, r.data, 0, r.data.length);
    }
    this.response(dir, m.command, m.contextLo, m.contextHi, sequence);
  }

  /** A CIP response summarised in `RESPONSE`: pairs it and completes its request's operations. */
  response(dir: Direction, command: number, contextLo: number, contextHi: number, sequence: number): void {
    const R = RESPONSE;
    const p = this.take(dir, command, contextLo, contextHi, sequence);
    if (p === undefined) {
      R.release();
      this.ctx.anomaly('enip.unmatched_response');
      return;
    }
    const svcs = p.services;
    if (p.routed && R.service === SERVICE.unconnectedSend && isErrorStatus(R.generalStatus)) {
      // The router (not the target) failed the request: every embedded service shares its status.
      for (const s of svcs) this.answer(s, R.generalStatus, NO_REPLY, dir);
    } else if (p.multiple) {
      if (R.service !== SERVICE.multipleServicePacket) this.ctx.anomaly('enip.response_mismatch');
      const replies = R.replies;
      if (replies > 0 && replies !== svcs.length) this.ctx.anomaly('enip.response_mismatch');
      for (let i = 0; i < svcs.length; i++) {
        if (i >= replies) this.answer(svcs[i]!, isErrorStatus(R.generalStatus) ? R.generalStatus : -1, NO_REPLY, dir);
        else {
          if (R.replyService[i] !== (svcs[i]!.service & 0x7f)) this.ctx.anomaly('enip.response_mismatch');
          this.answer(svcs[i]!, R.replyStatus[i]!, i, dir);
        }
      }
    } else {
      const s = svcs[0]!;
      if (R.service !== (s.service & 0x7f)) this.ctx.anomaly('enip.response_mismatch');
      this.answer(s, R.generalStatus, WHOLE_REPLY, dir);
    }
    R.release();
    this.recycle(p);
  }

  /**
   * Completes one service's operation with its reply's status (-1: no status of its own). `reply`
   * is the index of its Multiple Service Packet reply in `RESPONSE`, `WHOLE_REPLY` for the
   * response itself, or `NO_REPLY`.
   */
  private answer(s: PendingService, status: number, reply: number, dir: Direction): void {
    s.op.responded = true;
    if (status >= 0 && isErrorStatus(status)) s.op.exception = status;
    if (s.identity && reply !== NO_REPLY) {
      const R = RESPONSE;
      const whole = reply === WHOLE_REPLY;
      if ((whole ? R.generalStatus : R.replyStatus[reply]!) === 0) {
        const data = whole
          ? R.bytes.subarray(R.start, R.end)
          : R.replyBytes[reply]!.subarray(R.replyStart[reply], R.replyEnd[reply]);
        const id = decodeIdentityAttributes(data);
        if (id !== null) this.identity(id, dir, undefined, s.route);
        else this.ctx.anomaly('enip.bad_identity');
      }
    }
    this.ctx.operation(s.op);
  }

  private listIdentity(items: readonly ListIdentityItem[], dir: Direction): void {
    for (const it of items) this.identity(it, dir, it, '');
  }

  /**
   * The identity of the side that sent `dir` (the responder), whichever end of the flow it is. A
   * reply that came through an Unconnected Send describes a module behind that side (a controller
   * in a chassis slot): `extra.route` then names the hops from it.
   */
  private identity(id: IdentityAttributes, dir: Direction, item: ListIdentityItem | undefined, route: string): void {
    const fact: IdentityFact = {
      kind: 'identity',
      side: dir,
      protocol: 'enip',
      vendor: cipVendorName(id.vendorId) ?? `CIP vendor ${id.vendorId}`,
      productCode: String(id.productCode),
      firmware: `${id.majorRevision}.${id.minorRevision}`,
      serial: `0x${id.serialNumber.toString(16).padStart(8, '0')}`,
    };
    if (id.productName !== '') fact.product = id.productName;
    const extra: Record<string, string> = {
      vendorId: String(id.vendorId),
      deviceType: deviceTypeName(id.deviceType),
      deviceTypeCode: String(id.deviceType),
      status: `0x${id.status.toString(16).padStart(4, '0')}`,
    };
    if (id.state >= 0) extra.state = IDENTITY_STATE_NAMES[id.state] ?? String(id.state);
    if (item !== undefined && item.socketAddress !== '0.0.0.0') extra.ip = item.socketAddress;
    if (route !== '') extra.route = route;
    fact.extra = extra;
    this.ctx.fact(fact);
  }

  private add(p: Pending): void {
    // A request repeating a key still waiting retires the older one, as an unanswered request.
    const i = this.indexOf((1 - p.dir) as Direction, p.command, p.contextLo, p.contextHi, p.sequence);
    if (i >= 0) this.unanswered(this.pending.splice(i, 1)[0]!);
    else if (this.pending.length >= this.maxPending) this.unanswered(this.pending.shift()!);
    this.pending.push(p);
  }

  /** Removes the request a message in `dir` answers (the oldest match), if any. */
  private take(dir: Direction, command: number, lo: number, hi: number, sequence: number): Pending | undefined {
    const i = this.indexOf(dir, command, lo, hi, sequence);
    if (i < 0) return undefined;
    // In place of splice, which would allocate the array of removed elements.
    const list = this.pending;
    const p = list[i]!;
    for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j]!;
    // pop keeps the backing store (setting `length` may reallocate it).
    list.pop();
    return p;
  }

  /** Index of the request that a message in `dir` would answer. */
  private indexOf(dir: Direction, command: number, lo: number, hi: number, sequence: number): number {
    const list = this.pending;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.dir === dir || p.command !== command) continue;
      // Connected replies echo the sequence count; the others echo the sender context.
      if (command === COMMAND.sendUnitData ? p.sequence === sequence : p.contextLo === lo && p.contextHi === hi)
        return i;
    }
    return -1;
  }

  private unanswered(p: Pending): void {
    if (!p.quietIfUnanswered) this.ctx.anomaly('enip.unanswered_request');
    for (const s of p.services) this.ctx.operation(s.op);
  }
}

/**
 * Whether an encapsulation message without a pending request is a reply: list replies carry data
 * (requests have none); otherwise the server's side sends replies.
 */
function isReply(m: EnipMessage, dir: Direction): boolean {
  switch (m.command) {
    case COMMAND.listIdentity:
    case COMMAND.listServices:
    case COMMAND.listInterfaces:
      return m.length > 0;
    case COMMAND.nop:
    case COMMAND.unregisterSession:
    case COMMAND.indicateStatus:
    case COMMAND.cancel:
      return false;
    default:
      return dir === 1;
  }
}

/** An Unconnected Send inside a Multiple Service Packet stands for the request it delivers. */
function unwrap(req: CipRequest): CipRequest {
  const d = req.detail;
  return d.kind === 'unconnected_send' && d.embedded !== null ? d.embedded : req;
}

/** The backplane slot of a route (port 1, one-byte link address), used as the operation's unit; or -1. */
function slotOf(route: readonly PortHop[]): number {
  const hop = route[0];
  return hop !== undefined && hop.port === 1 && hop.link >= 0 ? hop.link : -1;
}

/** `port/link` hops separated by commas, e.g. `1/0` for backplane slot 0. */
function routeText(route: readonly PortHop[]): string {
  return route.map((h) => `${h.port}/${h.link >= 0 ? h.link : (h.linkText ?? '')}`).join(',');
}

const HOP_TEXT: string[] = [];
/** `routeText` of a single hop with a one-byte link address (port 0–14), memoised. */
export function hopText(port: number, link: number): string {
  return (HOP_TEXT[port * 256 + link] ??= `${port}/${link}`);
}

/** Adds one decoded request to a summary. */
function summarise(S: RequestSummary, req: CipRequest): void {
  const d = req.detail;
  let values: readonly number[] | null = null;
  if (d.kind === 'write_tag' && d.values.length > 0) values = d.values;
  else if (d.kind === 'read_modify_write' && d.andMask >= 0) values = [d.andMask, d.orMask];
  S.add(req.service, req.path.classId, req.path.instance, req.path.symbol !== '', values);
}
