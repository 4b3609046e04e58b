// Per-flow BACnet/IP state: pairs confirmed requests with their SimpleACK/ComplexACK/Error/Reject/
// Abort by invoke id and network address (ANSI/ASHRAE 135-2020 §5.4, §6.2.2), BBMD requests with their
// BVLC-Result or -Ack (Annex J.2), and reports operations and identity facts (I-Am §16.10; device
// object properties read through ReadProperty/ReadPropertyMultiple §12.11).

import { LIMITS } from '../../core/limits.ts';
import { hex } from '../../core/text.ts';
import type { AnalyzerContext, AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import {
  BVLC,
  CONFIRMED,
  OBJECT_TYPE,
  PROPERTY,
  SEGMENTATION_NAMES,
  UNCONFIRMED,
  bacnetVendorName,
  bvlcInfo,
  confirmedService,
  networkMessageInfo,
  objectTypeName,
  unconfirmedService,
} from './constants.ts';
import {
  numericValues,
  type Apdu,
  type BacnetMessage,
  type BacnetValue,
  type Npdu,
  type ObjectId,
  type ServiceRequest,
} from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Op = Mutable<OperationEvent>;
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;

/** Exception codes of an operation: the BACnet error code; rejects and aborts offset to stay apart. */
export const REJECT_EXCEPTION_BASE = 0x10000;
export const ABORT_EXCEPTION_BASE = 0x20000;
/** Devices whose properties one flow collects for identity facts. */
const MAX_DEVICES = 16;

interface Pending {
  readonly op: Op;
  /** Direction the request went. */
  readonly dir: Direction;
  /** Invoke id of a confirmed request; -1 for a BBMD (BVLC) request. */
  readonly invokeId: number;
  /** Confirmed service, or the BVLC function of a BBMD request. */
  readonly service: number;
  /** Network address of the target device (DNET/DADR), '' when local. */
  readonly peer: string;
}

/** Identity properties of one device, collected from ACKs and reported when the flow ends. */
interface DeviceProperties {
  readonly side: Direction;
  readonly instance: number;
  readonly network: string;
  vendor?: string;
  vendorId?: number;
  model?: string;
  firmware?: string;
  serial?: string;
  extra: Record<string, string>;
}

/**
 * Outstanding requests of one flow, at most `maxPending` (the oldest is evicted and reported
 * unanswered). Confirmed requests come from either side of a 47808↔47808 flow, so a reply is
 * looked for among the requests of the other direction (an Abort sent by the client, among its own).
 */
export class BacnetTransactions {
  private readonly ctx: AnalyzerContext;
  private readonly maxPending: number;
  private readonly pending = new PendingList();
  private readonly devices: DeviceProperties[] = [];

  constructor(ctx: AnalyzerContext, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.ctx = ctx;
    this.maxPending = Math.max(1, maxPending);
  }

  get size(): number {
    return this.pending.length;
  }

  message(m: BacnetMessage, dir: Direction, ts: number): void {
    const npdu = m.npdu;
    if (npdu === null) {
      this.bvlc(m, dir, ts);
      return;
    }
    if (npdu.network !== null) {
      const info = networkMessageInfo(npdu.network.type);
      this.ctx.operation({
        name: info.operation,
        protocol: 'bacnet',
        code: npdu.network.type,
        access: info.access,
        tsMicros: ts,
        responded: false,
      });
      return;
    }
    const apdu = npdu.apdu;
    if (apdu === null) return;
    switch (apdu.kind) {
      case 'confirmed_request':
        // Only the first segment of a segmented request stands for it.
        if (apdu.segmented && apdu.sequence > 0) return;
        this.add({
          op: requestOp(confirmedService(apdu.service), apdu.service, apdu.request, ts),
          dir,
          invokeId: apdu.invokeId,
          service: apdu.service,
          peer: address(npdu.dnet, npdu.dadr),
        });
        return;
      case 'unconfirmed_request':
        this.unconfirmed(m, npdu, apdu, dir, ts);
        return;
      case 'simple_ack':
        this.reply(npdu, dir, apdu.invokeId, apdu.service, -1);
        return;
      case 'complex_ack':
        if (apdu.segmented && apdu.sequence > 0) return;
        this.reply(npdu, dir, apdu.invokeId, apdu.service, -1);
        if (apdu.ack.kind === 'read_property') {
          const a = apdu.ack;
          this.deviceProperty(npdu, dir, a.object, a.property, a.values);
        } else if (apdu.ack.kind === 'read_property_multiple') {
          for (const x of apdu.ack.results) {
            if (x.errorClass < 0) this.deviceProperty(npdu, dir, x.object, x.property, x.values);
          }
        }
        return;
      case 'error':
        this.reply(npdu, dir, apdu.invokeId, apdu.service, apdu.errorCode < 0 ? 0xffff : apdu.errorCode);
        return;
      case 'reject':
        this.reply(npdu, dir, apdu.invokeId, -1, REJECT_EXCEPTION_BASE + apdu.reason);
        return;
      case 'abort':
        // An abort from the client ends its own request; one from the server answers it.
        this.reply(
          npdu,
          apdu.server ? dir : ((1 - dir) as Direction),
          apdu.invokeId,
          -1,
          ABORT_EXCEPTION_BASE + apdu.reason,
        );
        return;
      case 'segment_ack':
        return;
    }
  }

  /** End of flow: requests still waiting are unanswered; collected device properties are reported. */
  flush(): void {
    const all = this.pending.takeAll();
    for (const p of all) this.unanswered(p);
    for (const d of this.devices.splice(0)) this.deviceFact(d);
  }

  /** BBMD management (no NPDU): requests answered by BVLC-Result or the matching -Ack. */
  private bvlc(m: BacnetMessage, dir: Direction, ts: number): void {
    const fn = m.bvlcFunction;
    const info = bvlcInfo(fn);
    if (info === undefined) return;
    if (info.request) {
      const op: Op = {
        name: info.operation,
        protocol: 'bacnet',
        code: fn,
        access: info.access,
        tsMicros: ts,
        responded: false,
      };
      this.add({ op, dir, invokeId: -1, service: fn, peer: '' });
      return;
    }
    let answers = -1;
    if (fn === BVLC.readBdtAck) answers = BVLC.readBdt;
    else if (fn === BVLC.readFdtAck) answers = BVLC.readFdt;
    else if (fn !== BVLC.result) return;
    const list = this.pending;
    for (let i = 0; i < list.length; i++) {
      const p = list.at(i);
      if (p.dir === dir || p.invokeId !== -1 || (answers >= 0 && p.service !== answers)) continue;
      list.removeAt(i);
      p.op.responded = true;
      if (fn === BVLC.result && m.bvlcValue > 0) p.op.exception = m.bvlcValue;
      this.ctx.operation(p.op);
      return;
    }
    // A NAK of a Distribute-Broadcast-To-Network or of another flow's request: nothing to pair.
  }

  private unconfirmed(
    m: BacnetMessage,
    npdu: Npdu,
    apdu: Extract<Apdu, { kind: 'unconfirmed_request' }>,
    dir: Direction,
    ts: number,
  ): void {
    const info = unconfirmedService(apdu.service);
    this.ctx.operation(requestOp(info, apdu.service, apdu.request, ts));
    const req = apdu.request;
    if (apdu.service !== UNCONFIRMED.iAm || req.kind !== 'i_am') return;
    // A Forwarded-NPDU's I-Am comes from a third device (the BBMD only relays it): no side of this
    // flow is that device, so it is not attributed to either.
    if (m.forwardedFrom !== undefined) return;
    const fact: IdentityFact = {
      kind: 'identity',
      side: dir,
      protocol: 'bacnet',
      vendor: bacnetVendorName(req.vendorId) ?? `BACnet vendor ${req.vendorId}`,
    };
    const extra: Record<string, string> = {
      deviceInstance: String(req.device.instance),
      vendorId: String(req.vendorId),
      maxApdu: String(req.maxApdu),
      segmentation: SEGMENTATION_NAMES[req.segmentation] ?? String(req.segmentation),
    };
    const network = address(npdu.snet, npdu.sadr);
    if (network !== '') extra.network = network;
    fact.extra = extra;
    this.ctx.fact(fact);
  }

  /**
   * A local ReadProperty request (no network specifiers) from its fields: the analyzer's fast path,
   * the same as `message` with its decoded record.
   */
  readPropertyRequest(
    dir: Direction,
    invokeId: number,
    objectType: number,
    instance: number,
    peer: string,
    ts: number,
  ): void {
    const info = confirmedService(CONFIRMED.readProperty);
    const op: Op = {
      name: info.operation,
      protocol: 'bacnet',
      code: CONFIRMED.readProperty,
      access: info.access,
      tsMicros: ts,
      responded: false,
      addressSpace: objectTypeName(objectType),
      address: instance,
      quantity: 1,
    };
    this.add({ op, dir, invokeId, service: CONFIRMED.readProperty, peer });
  }

  /** A local ReadProperty ComplexACK for an object other than a device: the analyzer's fast path. */
  readPropertyAck(dir: Direction, invokeId: number, peer: string): void {
    this.replyFrom(peer, dir, invokeId, CONFIRMED.readProperty, -1);
  }

  /** Completes the request a reply answers; `exception` -1 for success. */
  private reply(npdu: Npdu, dir: Direction, invokeId: number, service: number, exception: number): void {
    // The reply comes from the target: its source specifier is the request's destination.
    this.replyFrom(address(npdu.snet, npdu.sadr), dir, invokeId, service, exception);
  }

  private replyFrom(peer: string, dir: Direction, invokeId: number, service: number, exception: number): void {
    const list = this.pending;
    for (let i = 0; i < list.length; i++) {
      const p = list.at(i);
      if (p.dir === dir || p.invokeId !== invokeId || p.peer !== peer) continue;
      list.removeAt(i);
      if (service >= 0 && service !== p.service) this.ctx.anomaly('bacnet.response_mismatch');
      p.op.responded = true;
      if (exception >= 0) p.op.exception = exception;
      this.ctx.operation(p.op);
      return;
    }
    this.ctx.anomaly('bacnet.unmatched_response');
  }

  private add(p: Pending): void {
    const list = this.pending;
    // A request reusing a pending invoke id (or BBMD function) retires the earlier one.
    for (let i = 0; i < list.length; i++) {
      const q = list.at(i);
      if (
        q.dir === p.dir &&
        q.invokeId === p.invokeId &&
        q.peer === p.peer &&
        (p.invokeId >= 0 || q.service === p.service)
      ) {
        this.unanswered(list.removeAt(i));
        break;
      }
    }
    if (list.length >= this.maxPending) this.unanswered(list.removeAt(0));
    list.push(p);
  }

  private unanswered(p: Pending): void {
    this.ctx.anomaly('bacnet.unanswered_request');
    this.ctx.operation(p.op);
  }

  /** Keeps a device object's identity property from an ACK sent in `dir`. */
  private deviceProperty(
    npdu: Npdu,
    dir: Direction,
    object: ObjectId,
    property: number,
    values: readonly BacnetValue[],
  ): void {
    if (object.type !== OBJECT_TYPE.device) return;
    const v = values[0];
    if (v === undefined) return;
    const text =
      v.kind === 'string' ? v.value : v.kind === 'unsigned' || v.kind === 'enumerated' ? String(v.value) : '';
    if (text === '') return;
    const network = address(npdu.snet, npdu.sadr);
    let d = this.devices.find((x) => x.side === dir && x.instance === object.instance && x.network === network);
    if (d === undefined) {
      if (this.devices.length >= MAX_DEVICES) return;
      d = { side: dir, instance: object.instance, network, extra: {} };
      this.devices.push(d);
    }
    switch (property) {
      case PROPERTY.vendorName:
        d.vendor = text;
        break;
      case PROPERTY.vendorIdentifier:
        if (v.kind === 'unsigned') d.vendorId = v.value;
        break;
      case PROPERTY.modelName:
        d.model = text;
        break;
      case PROPERTY.firmwareRevision:
        d.firmware = text;
        break;
      case PROPERTY.serialNumber:
        d.serial = text;
        break;
      case PROPERTY.applicationSoftwareVersion:
        d.extra.applicationSoftwareVersion = text;
        break;
      case PROPERTY.objectName:
        d.extra.objectName = text;
        break;
      case PROPERTY.description:
        d.extra.description = text;
        break;
      case PROPERTY.location:
        d.extra.location = text;
        break;
      default:
        break;
    }
  }

  private deviceFact(d: DeviceProperties): void {
    const vendor = d.vendor ?? (d.vendorId !== undefined ? bacnetVendorName(d.vendorId) : undefined);
    const known = vendor !== undefined || d.model !== undefined || d.firmware !== undefined || d.serial !== undefined;
    if (!known && Object.keys(d.extra).length === 0) return;
    const fact: IdentityFact = { kind: 'identity', side: d.side, protocol: 'bacnet' };
    if (vendor !== undefined) fact.vendor = vendor;
    if (d.model !== undefined) fact.model = d.model;
    if (d.firmware !== undefined) fact.firmware = d.firmware;
    if (d.serial !== undefined) fact.serial = d.serial;
    const extra: Record<string, string> = { deviceInstance: String(d.instance), ...d.extra };
    if (d.vendorId !== undefined) extra.vendorId = String(d.vendorId);
    if (d.network !== '') extra.network = d.network;
    fact.extra = extra;
    this.ctx.fact(fact);
  }
}

/**
 * Pending requests, oldest first. Its array never shrinks: a request answered before the next one
 * (the usual poll) would otherwise free and regrow the backing store every time.
 */
class PendingList {
  private readonly items: (Pending | undefined)[] = [];
  length = 0;

  at(i: number): Pending {
    return this.items[i]!;
  }

  push(p: Pending): void {
    if (this.length < this.items.length) this.items[this.length] = p;
    else this.items.push(p);
    this.length++;
  }

  /** Removes and returns the request at `i`, keeping the order of the others. */
  removeAt(i: number): Pending {
    const items = this.items;
    const p = items[i]!;
    const n = --this.length;
    for (let j = i; j < n; j++) items[j] = items[j + 1];
    items[n] = undefined;
    return p;
  }

  /** Removes and returns every request, oldest first. */
  takeAll(): Pending[] {
    const all: Pending[] = [];
    for (let i = 0; i < this.length; i++) all.push(this.items[i]!);
    this.items.length = 0;
    this.length = 0;
    return all;
  }
}

/** Network address texts of short addresses (MS/TP, ARCNET: 1 octet), made once each. */
const ADDRESSES = new Map<number, string>();

/**
 * `address(net, bytes[off, off + len))` for the fast path: the same text, from a bounded memo when
 * the address is short (a routed poll names the same few devices again and again).
 */
export function networkAddress(net: number, bytes: Uint8Array, off: number, len: number): string {
  if (len > 3) return address(net, bytes.subarray(off, off + len));
  let v = len;
  for (let i = 0; i < len; i++) v = v * 256 + bytes[off + i]!;
  const k = net * 0x4000000 + v;
  let s = ADDRESSES.get(k);
  if (s === undefined) {
    if (ADDRESSES.size >= 4096) ADDRESSES.clear();
    s = address(net, bytes.subarray(off, off + len));
    ADDRESSES.set(k, s);
  }
  return s;
}

/** `dnet:dadr-hex` of a network address, '' when the address is local (no specifier). */
function address(net: number, adr: Uint8Array): string {
  return net < 0 ? '' : `${net}:${hex(adr)}`;
}

/** The operation a request stands for: object type as address space, instance as address. */
function requestOp(
  info: { readonly operation: string; readonly access: OperationEvent['access'] },
  code: number,
  req: ServiceRequest,
  ts: number,
): Op {
  const op: Op = {
    name: info.operation,
    protocol: 'bacnet',
    code,
    access: info.access,
    tsMicros: ts,
    responded: false,
  };
  let object: ObjectId | undefined;
  let values: number[] | undefined;
  switch (req.kind) {
    case 'read_property':
    case 'object':
    case 'file':
      object = req.object;
      break;
    case 'write_property':
      object = req.object;
      values = numericValues(req.values);
      break;
    case 'read_property_multiple':
      object = req.specs[0]?.object;
      break;
    case 'write_property_multiple': {
      object = req.specs[0]?.object;
      values = [];
      for (const s of req.specs) for (const w of s.writes) values.push(...numericValues(w.values, 16 - values.length));
      break;
    }
    case 'i_am':
      object = req.device;
      break;
    case 'who_is':
      if (req.low >= 0) {
        op.addressSpace = objectTypeName(OBJECT_TYPE.device);
        op.address = req.low;
        op.quantity = req.high >= req.low ? req.high - req.low + 1 : 1;
      }
      break;
    case 'reinitialize_device':
    case 'device_communication_control':
    case 'private_transfer':
    case 'none':
      break;
  }
  if (object !== undefined && object.type >= 0) {
    op.addressSpace = objectTypeName(object.type);
    if (object.instance >= 0) {
      op.address = object.instance;
      op.quantity = 1;
    }
  }
  if (values !== undefined && values.length > 0) op.values = values.slice(0, 16);
  return op;
}
