// Per-flow OPC UA state (OPC 10000-6 §6.7, §7.1): the secure channel's policy, the handshake, chunked
// messages in progress, requests waiting for their response (paired by RequestId, §6.7.2.4) and the
// identity facts learnt from HEL, OPN, CreateSession and GetEndpoints.

import { LIMITS } from '../../core/limits.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import {
  ENCRYPTED_MESSAGE,
  HELLO,
  MESSAGE_TYPE,
  SERVICE_FAULT,
  SVC,
  applicationTypeName,
  isBad,
  lookupService,
  securityModeName,
  securityPolicyName,
  type ServiceInfo,
} from './constants.ts';
import type { ApplicationDescription, EndpointDescription, OpcUaMessage, ServiceBody } from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;
type Op = Mutable<OperationEvent>;

interface Pending {
  readonly op: Op;
  /** RequestHandle of the request header, -1 when unknown. */
  readonly handle: number;
  /** Encoding id the response must carry (the service's response id), -1 when not checked. */
  readonly responseId: number;
}

/** Multi-chunk messages in progress per direction (each keeps only its first chunk's decoded body). */
const MAX_CHUNKED = 16;
/** Distinct identity facts emitted per flow. */
const MAX_FACTS = 8;
/** Entries kept in list-valued identity extras (endpoint URLs, policies). */
const MAX_LIST = 4;

/** What the analyzer tells the state about the channel: is the symmetric part readable? */
export type ChannelSecurity = 'unknown' | 'plain' | 'secured';

export class OpcUaSession {
  /** The direction the OPC UA client sends in: the sender of HEL (flipped by a ReverseHello). */
  clientDir: Direction = 0;
  security: ChannelSecurity = 'unknown';
  /** SecurityPolicy short name of the channel, '' until an OPN was seen. */
  policy = '';
  /** MessageSecurityMode of the OPN request, -1 when not read (it is encrypted unless the policy is None). */
  mode = -1;
  endpointUrl = '';

  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  /** Requests by RequestId, oldest first (Map keeps insertion order). */
  private readonly pending = new Map<number, Pending>();
  private hello: Pending | null = null;
  private opening: Pending | null = null;
  /** The RequestId of the newest request still waiting (an ERR is attributed to it). */
  private newest = -1;
  /** First-chunk bodies of messages still being chunked, per direction, by RequestId. */
  private readonly chunked: readonly [Map<number, ServiceBody | null>, Map<number, ServiceBody | null>] = [
    new Map<number, ServiceBody | null>(),
    new Map<number, ServiceBody | null>(),
  ];
  private readonly facts = new Set<string>();
  private paired = false;
  /** The server answered the OPN without a fault. */
  private accepted = false;

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
  }

  get size(): number {
    return this.pending.size + (this.hello === null ? 0 : 1) + (this.opening === null ? 0 : 1);
  }

  /** True once a request was answered (the flow is confirmed then). */
  get answered(): boolean {
    return this.paired;
  }

  /** True when the channel's policy is None: MSG/CLO bodies are plain text. */
  get plain(): boolean {
    return this.security === 'plain';
  }

  /** True when `requestId` names a message of `dir` whose first chunk was seen and last was not. */
  continues(dir: Direction, requestId: number): boolean {
    return this.chunked[dir].size > 0 && this.chunked[dir].has(requestId);
  }

  /**
   * Whether a MSG/CLO chunk decoded as plain text really is: its body is a known service sent in the
   * right direction without decoding faults, or it continues a message whose first chunk was.
   */
  readable(dir: Direction, m: OpcUaMessage, anomalies: number): boolean {
    if (m.kind !== 'message' && m.kind !== 'close') return true;
    if (m.requestId >= 0 && this.chunked[dir].has(m.requestId)) return true;
    const body = m.body;
    if (body === null || anomalies > 0 || body.role === 'unknown') return false;
    return (body.role === 'request') === (dir === this.clientDir);
  }

  /**
   * One decoded chunk from `dir`. Returns the code for the per-PDU trace: the service's encoding id
   * for MSG chunks whose body was read, else the packed message type.
   */
  message(dir: Direction, m: OpcUaMessage, ts: number): number {
    const fromClient = dir === this.clientDir;
    switch (m.kind) {
      case 'hello':
        this.clientDir = dir;
        if (m.endpointUrl !== '') this.endpointUrl = m.endpointUrl;
        if (this.hello !== null) this.unanswered(this.hello);
        this.hello = { op: newOp(HELLO, HELLO.requestId, ts), handle: -1, responseId: -1 };
        break;
      case 'acknowledge': {
        const p = this.hello;
        if (p === null) {
          if (fromClient) this.ctx.anomaly('opcua.unexpected_direction');
          break;
        }
        this.hello = null;
        this.answer(p);
        break;
      }
      case 'error':
        this.error(m.error);
        break;
      case 'reverse_hello':
        // The server opened the connection: the client is the other side (§7.1.2.6).
        this.clientDir = dir === 0 ? 1 : 0;
        break;
      case 'open':
        this.open(fromClient, m, ts);
        break;
      case 'message':
        return this.chunk(dir, fromClient, m, ts);
      case 'close':
        if (fromClient && m.header.chunkType !== 'C') {
          // CloseSecureChannel has no response (OPC 10000-4 §5.5.3): reported at once.
          const code = m.body !== null && m.body.typeId >= 0 ? m.body.typeId : MESSAGE_TYPE.close;
          const op = newOp(lookupService(SVC.closeSecureChannel)!.info, code, ts);
          this.ctx.operation(op);
        }
        break;
    }
    return m.header.messageType;
  }

  /** End of flow: requests still waiting are unanswered (outstanding Publish requests are normal). */
  flush(): void {
    if (this.hello !== null) this.unanswered(this.hello);
    if (this.opening !== null) this.unanswered(this.opening);
    this.hello = null;
    this.opening = null;
    for (const p of this.pending.values()) {
      if (p.op.code !== SVC.publish) this.ctx.anomaly('opcua.unanswered_request');
      this.ctx.operation(p.op);
    }
    this.pending.clear();
  }

  private open(fromClient: boolean, m: Extract<OpcUaMessage, { kind: 'open' }>, ts: number): void {
    this.policy = m.securityPolicy;
    this.security = m.securityPolicy === 'None' ? 'plain' : 'secured';
    const body = m.body;
    const details = body?.details;
    if (fromClient) {
      if (details?.kind === 'open_request') this.mode = details.securityMode;
      if (this.opening !== null) this.unanswered(this.opening);
      const info = lookupService(SVC.openSecureChannel)!.info;
      const code = body !== null && body.typeId >= 0 ? body.typeId : MESSAGE_TYPE.open;
      this.opening = { op: newOp(info, code, ts), handle: body?.requestHandle ?? -1, responseId: -1 };
      return;
    }
    const p = this.opening;
    if (p === null) {
      this.ctx.anomaly('opcua.unmatched_response');
      return;
    }
    this.opening = null;
    if (body !== null && (body.typeId === SERVICE_FAULT || isBad(body.serviceResult)))
      p.op.exception = body.serviceResult;
    this.answer(p);
    if (p.op.exception !== undefined) return;
    this.accepted = true;
    this.channelFact();
  }

  /** The server accepted a channel: its policy, mode (when known) and the endpoint URL of the HEL. */
  private channelFact(): void {
    const extra: Record<string, string> = { securityPolicy: this.policy };
    if (this.mode >= 0) extra.securityMode = securityModeName(this.mode);
    if (this.endpointUrl !== '') extra.endpointUrl = this.endpointUrl;
    this.fact({ kind: 'identity', side: this.serverSide(), protocol: 'opcua', extra });
  }

  /**
   * The OPN of a secured channel is encrypted, so its mode is learnt from the first MSG: readable
   * means Sign, unreadable SignAndEncrypt.
   */
  private inferMode(readable: boolean): void {
    if (this.security !== 'secured' || this.mode >= 0) return;
    this.mode = readable ? 2 : 3;
    if (this.accepted) this.channelFact();
  }

  /** A MSG chunk: encrypted chunks are counted; plain ones are paired once their message is whole. */
  private chunk(
    dir: Direction,
    fromClient: boolean,
    m: Extract<OpcUaMessage, { kind: 'message' | 'close' }>,
    ts: number,
  ): number {
    const packed = m.header.messageType;
    this.inferMode(m.requestId >= 0);
    if (m.requestId < 0) {
      if (fromClient) this.ctx.operation(newOp(ENCRYPTED_MESSAGE, packed, ts));
      return packed;
    }
    const inProgress = this.chunked[dir];
    const chunkType = m.header.chunkType;
    if (chunkType === 'A') {
      inProgress.delete(m.requestId);
      return packed;
    }
    if (chunkType === 'C') {
      if (!inProgress.has(m.requestId)) {
        if (inProgress.size >= MAX_CHUNKED) {
          this.ctx.anomaly('opcua.too_many_chunked_messages');
          const oldest = inProgress.keys().next();
          if (oldest.done !== true) inProgress.delete(oldest.value);
        }
        inProgress.set(m.requestId, m.body);
      }
      return packed;
    }
    // A final chunk: the message is whole. Its body is the first chunk's when it was chunked.
    let body = m.body;
    if (inProgress.has(m.requestId)) {
      body = inProgress.get(m.requestId) ?? null;
      inProgress.delete(m.requestId);
    }
    if (body === null || body.typeId < 0 || body.role === 'unknown') {
      if (this.security !== 'plain') {
        // No OPN seen (capture began mid-channel) and this is no known service: most likely encrypted.
        if (fromClient) this.ctx.operation(newOp(ENCRYPTED_MESSAGE, packed, ts));
        return packed;
      }
      if (body === null || body.typeId < 0) {
        this.ctx.anomaly('opcua.unknown_service');
        return packed;
      }
    }
    // Services outside the table are taken as requests from the client and responses from the server.
    const request = body.role === 'unknown' ? fromClient : body.role === 'request';
    if (request !== fromClient) this.ctx.anomaly('opcua.unexpected_direction');
    else if (request) this.request(m.requestId, body, ts);
    else this.response(m.requestId, body);
    return body.typeId;
  }

  private request(requestId: number, body: ServiceBody, ts: number): void {
    const op = newOp(body.service, body.typeId, ts);
    const d = body.details;
    if (d.kind === 'count') {
      op.quantity = d.count;
      if (d.values.length > 0) op.values = d.values;
    }
    if (body.typeId === SVC.createSession && d.kind === 'create_session_request') {
      this.application(this.clientDir, d.client, null);
    }
    const old = this.pending.get(requestId);
    if (old !== undefined) {
      this.pending.delete(requestId);
      this.unanswered(old);
    } else if (this.pending.size >= this.maxPending) {
      const oldest = this.pending.keys().next();
      if (oldest.done !== true) {
        const p = this.pending.get(oldest.value)!;
        this.pending.delete(oldest.value);
        this.unanswered(p);
      }
    }
    this.pending.set(requestId, { op, handle: body.requestHandle, responseId: body.service.responseId });
    this.newest = requestId;
  }

  private response(requestId: number, body: ServiceBody): void {
    const d = body.details;
    if (d.kind === 'endpoints' && d.endpoints.length > 0) this.endpoints(d.endpoints);
    const p = this.pending.get(requestId);
    if (p === undefined) {
      this.ctx.anomaly('opcua.unmatched_response');
      return;
    }
    this.pending.delete(requestId);
    const fault = body.typeId === SERVICE_FAULT;
    if (fault || isBad(body.serviceResult)) p.op.exception = body.serviceResult;
    if (
      (!fault && p.responseId >= 0 && body.typeId !== p.responseId) ||
      (p.handle >= 0 && body.requestHandle !== p.handle)
    )
      this.ctx.anomaly('opcua.response_mismatch');
    this.answer(p);
  }

  /** ERR ends the connection: its StatusCode answers the handshake, or else the newest request. */
  private error(code: number): void {
    let p = this.hello;
    if (p !== null) this.hello = null;
    else if (this.opening !== null) {
      p = this.opening;
      this.opening = null;
    } else {
      p = this.pending.get(this.newest) ?? null;
      if (p !== null) this.pending.delete(this.newest);
    }
    if (p === null) return;
    p.op.exception = code;
    this.answer(p);
  }

  private answer(p: Pending): void {
    p.op.responded = true;
    this.paired = true;
    this.ctx.operation(p.op);
  }

  private unanswered(p: Pending): void {
    this.ctx.anomaly('opcua.unanswered_request');
    this.ctx.operation(p.op);
  }

  private serverSide(): Direction {
    return this.clientDir === 0 ? 1 : 0;
  }

  /** The server described by the endpoints of a GetEndpoints or CreateSession response. */
  private endpoints(list: readonly EndpointDescription[]): void {
    const urls: string[] = [];
    const policies: string[] = [];
    const modes: string[] = [];
    for (const e of list) {
      if (e.endpointUrl !== '' && urls.length < MAX_LIST && !urls.includes(e.endpointUrl)) urls.push(e.endpointUrl);
      const policy = securityPolicyName(e.securityPolicyUri);
      if (policy !== '' && !policies.includes(policy)) policies.push(policy);
      const mode = securityModeName(e.securityMode);
      if (!modes.includes(mode)) modes.push(mode);
    }
    const extra: Record<string, string> = {};
    if (urls.length > 0) extra.endpointUrls = urls.join(' ');
    if (policies.length > 0) extra.securityPolicies = policies.slice(0, 2 * MAX_LIST).join(',');
    if (modes.length > 0) extra.securityModes = modes.join(',');
    this.application(this.serverSide(), list[0]!.server, extra);
  }

  /** An ApplicationDescription as an identity fact: its name is the product. */
  private application(side: Direction, a: ApplicationDescription, more: Record<string, string> | null): void {
    const fact: IdentityFact = { kind: 'identity', side, protocol: 'opcua' };
    if (a.applicationName !== '') fact.product = a.applicationName;
    const extra: Record<string, string> = {};
    if (a.applicationUri !== '') extra.applicationUri = a.applicationUri;
    if (a.productUri !== '') extra.productUri = a.productUri;
    extra.applicationType = applicationTypeName(a.applicationType);
    if (more !== null) Object.assign(extra, more);
    fact.extra = extra;
    this.fact(fact);
  }

  /** Emits a fact once per flow (the same handshake repeats on every reconnection). */
  private fact(fact: IdentityFact): void {
    const key = JSON.stringify(fact);
    if (this.facts.has(key) || this.facts.size >= MAX_FACTS) return;
    this.facts.add(key);
    this.ctx.fact(fact);
  }
}

function newOp(info: ServiceInfo, code: number, ts: number): Op {
  return { name: info.operation, protocol: 'opcua', code, access: info.access, tsMicros: ts, responded: false };
}
