// Profinet layer-2 analyzer (ethertype 0x8892, IEC 61158-6-10): DCP requests as operations, DCP
// Identify responses and Hello as identity facts, cyclic RT, alarm and PTCP frames counted.

import {
  defineL2Protocol,
  type AnalyzerContext,
  type AssetFact,
  type Direction,
  type OperationEvent,
  type StreamAnalyzer,
} from '../_core/types.ts';
import {
  DCP_CONTROL,
  DCP_OPTION,
  DCP_SERVICE,
  DCP_SERVICE_TYPE,
  OPERATIONS,
  PROFINET_ETHERTYPE,
  PROFINET_VENDORS,
  alarmTypeName,
  frameKind,
  ipBlockInfoName,
  rtClassName,
  type OperationInfo,
} from './constants.ts';
import { APDU_STATUS_LENGTH, DATA_STATUS, decodeProfinetFrame, type DcpPdu, type ProfinetFrame } from './decode.ts';

export { decodeProfinetFrame } from './decode.ts';
export type { DcpBlock, DcpPdu, DcpValue, ProfinetFrame, RtaPdu } from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IdentityFact = Mutable<Extract<AssetFact, { kind: 'identity' }>>;

/** Cyclic frame ids whose data status is remembered (to report a change once, not every cycle). */
const MAX_TRACKED_FRAME_IDS = 64;
const MAX_VALUES = 16;

/**
 * One Profinet communication (sender MAC → destination MAC or group). Every frame is one datagram
 * from the sender (direction 0).
 *
 * - DCP requests are operations at once: a request and its response travel in opposite
 *   communications (another analyzer), so `responded` is false and nothing is paired by xid here.
 * - DCP Identify/Get responses and Hello describe the sender: identity facts with `side: 0`.
 * - Cyclic RT frames are one `profinet.cyclic_data` operation each (code = frame id); a data status
 *   turning bad (provider stopped, station problem, data invalid) is an anomaly once per change.
 * - Before the first valid frame a malformed frame violates the protocol (`profinet.not_profinet`);
 *   after it, it is an anomaly with the decoder's code.
 */
export class ProfinetAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private confirmed = false;
  private detached = false;
  /** Reused for every cyclic frame: the context keeps nothing of an operation. */
  private readonly cyclicOp: Mutable<OperationEvent> = {
    name: OPERATIONS.cyclic.name,
    protocol: 'profinet',
    code: 0,
    access: OPERATIONS.cyclic.access,
    tsMicros: 0,
    quantity: 0,
    addressSpace: 'rt_class_1',
    responded: false,
  };
  private readonly dataStatus = new Map<number, number>();
  private lastFact = '';
  /** The last frame decoded on the general path (not cyclic frames after confirmation); for traces and tests. */
  last: ProfinetFrame | null = null;

  constructor(ctx: AnalyzerContext) {
    this.ctx = ctx;
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    this.dataAt(dir, bytes, 0, bytes.length, tsMicros);
  }

  dataAt(_dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    // Cyclic frames are most of the traffic: after confirmation they are counted in place.
    if (this.confirmed && len >= 2 + APDU_STATUS_LENGTH) {
      const frameId = (buf[off]! << 8) | buf[off + 1]!;
      if (frameKind(frameId) === 'cyclic') {
        this.cyclic(frameId, len - 2 - APDU_STATUS_LENGTH, buf[off + len - 2]!, tsMicros);
        return;
      }
    }
    const d = decodeProfinetFrame(off === 0 && len === buf.length ? buf : buf.subarray(off, off + len));
    if (d.kind !== 'ok') {
      const code = d.kind === 'malformed' ? d.code : 'profinet.truncated';
      if (this.confirmed) this.ctx.anomaly(code);
      else {
        this.detached = true;
        this.ctx.violate('profinet.not_profinet');
      }
      return;
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    for (const a of d.anomalies) this.ctx.anomaly(a);
    this.frame(d.value, tsMicros);
  }

  gap(): void {
    // Datagrams: nothing to resynchronise.
  }

  end(): void {
    // Requests are reported when seen (their responses travel in another communication).
  }

  private frame(f: ProfinetFrame, ts: number): void {
    this.last = f;
    switch (f.kind) {
      case 'cyclic':
        this.cyclic(f.frameId, f.dataLength, f.dataStatus, ts);
        return;
      case 'dcp':
        this.ctx.pdu?.(0, f.dcp.serviceId);
        this.dcp(f.dcp, ts);
        return;
      case 'alarm': {
        this.ctx.pdu?.(0, f.frameId);
        const rta = f.rta;
        const isAck = rta.pduType === 2 || rta.pduType === 3;
        const op = this.op(isAck ? OPERATIONS.alarmAck : OPERATIONS.alarm, f.frameId, ts);
        op.addressSpace = rta.alarmType !== undefined ? alarmTypeName(rta.alarmType) : rta.pduTypeName;
        if (rta.slot !== undefined) op.address = rta.slot;
        if (rta.alarmType !== undefined && rta.subslot !== undefined) op.values = [rta.alarmType, rta.subslot];
        if (rta.pnioStatus !== undefined) op.exception = rta.pnioStatus;
        this.ctx.operation(op);
        return;
      }
      case 'ptcp': {
        this.ctx.pdu?.(0, f.frameId);
        const op = this.op(OPERATIONS.ptcp, f.frameId, ts);
        op.addressSpace = f.name;
        this.ctx.operation(op);
        return;
      }
      case 'fragment':
        this.ctx.pdu?.(0, f.frameId);
        this.ctx.operation(this.op(OPERATIONS.fragment, f.frameId, ts));
        return;
      case 'reserved':
        this.ctx.pdu?.(0, f.frameId);
        return;
    }
  }

  private cyclic(frameId: number, dataLength: number, status: number, ts: number): void {
    this.ctx.pdu?.(0, frameId);
    const op = this.cyclicOp;
    op.code = frameId;
    op.tsMicros = ts;
    op.quantity = dataLength;
    op.addressSpace = rtClassName(frameId);
    this.ctx.operation(op);
    const before = this.dataStatus.get(frameId);
    if (before === status) return;
    if (before === undefined && this.dataStatus.size >= MAX_TRACKED_FRAME_IDS) {
      const oldest = this.dataStatus.keys().next();
      if (oldest.done !== true) this.dataStatus.delete(oldest.value);
    }
    this.dataStatus.set(frameId, status);
    if ((status & DATA_STATUS.ignore) !== 0) return;
    const was = before === undefined || (before & DATA_STATUS.ignore) !== 0 ? 0xff : before;
    if (turnedOff(was, status, DATA_STATUS.providerRun)) this.ctx.anomaly('profinet.provider_stopped');
    if (turnedOff(was, status, DATA_STATUS.stationOk)) this.ctx.anomaly('profinet.station_problem');
    if (turnedOff(was, status, DATA_STATUS.dataValid)) this.ctx.anomaly('profinet.data_invalid');
  }

  private dcp(p: DcpPdu, ts: number): void {
    if (p.response) {
      if (p.serviceType === DCP_SERVICE_TYPE.responseUnsupported) this.ctx.anomaly('profinet.dcp_unsupported');
      if (p.serviceType === DCP_SERVICE_TYPE.responseSuccess && p.serviceId !== DCP_SERVICE.set) this.identity(p);
      return;
    }
    switch (p.serviceId) {
      case DCP_SERVICE.identify: {
        const op = this.op(OPERATIONS.identify, p.serviceId, ts);
        const first = p.blocks[0];
        if (first !== undefined) op.addressSpace = first.name;
        this.ctx.operation(op);
        return;
      }
      case DCP_SERVICE.hello:
        this.ctx.operation(this.op(OPERATIONS.hello, p.serviceId, ts));
        this.identity(p);
        return;
      case DCP_SERVICE.get: {
        const op = this.op(OPERATIONS.get, p.serviceId, ts);
        const first = p.blocks[0];
        if (first !== undefined) op.addressSpace = first.name;
        op.quantity = p.blocks.length;
        this.ctx.operation(op);
        return;
      }
      case DCP_SERVICE.set:
        this.ctx.operation(setOperation(p, this.op(OPERATIONS.set, p.serviceId, ts)));
        return;
      default:
        return;
    }
  }

  private op(info: OperationInfo, code: number, ts: number): Mutable<OperationEvent> {
    return { name: info.name, protocol: 'profinet', code, access: info.access, tsMicros: ts, responded: false };
  }

  /** Identity of the sender from the blocks of an Identify/Get response or a Hello. */
  private identity(p: DcpPdu): void {
    const fact: IdentityFact = { kind: 'identity', side: 0, protocol: 'profinet' };
    const extra: Record<string, string> = {};
    let name: string | undefined;
    let ip: string | undefined;
    for (const b of p.blocks) {
      const v = b.value;
      switch (v.kind) {
        case 'text':
          if (v.text === '') break;
          if (b.option !== DCP_OPTION.device) break;
          if (b.suboption === 1) fact.product = v.text;
          else if (b.suboption === 2) extra.nameOfStation = name = v.text;
          else if (b.suboption === 6) extra.aliasName = v.text;
          break;
        case 'device_id':
          if (b.suboption === 3) {
            fact.productCode = `${hex4(v.vendorId)}/${hex4(v.deviceId)}`;
            const vendor = PROFINET_VENDORS.get(v.vendorId);
            if (vendor !== undefined) fact.vendor = vendor;
          } else extra.oemDeviceId = `${hex4(v.vendorId)}/${hex4(v.deviceId)}`;
          break;
        case 'device_role':
          extra.deviceRole = v.roles.length > 0 ? v.roles.join(',') : `0x${v.role.toString(16).padStart(2, '0')}`;
          break;
        case 'ip':
          extra.ip = ip = v.ip;
          extra.netmask = v.netmask;
          extra.gateway = v.gateway;
          if (b.info >= 0) extra.ipInfo = ipBlockInfoName(b.info);
          if (v.dns !== undefined && v.dns.length > 0) extra.dns = v.dns.join(',');
          break;
        case 'mac':
          extra.mac = v.mac;
          break;
        case 'instance':
          extra.deviceInstance = `${v.high}.${v.low}`;
          break;
        case 'none':
        case 'options':
        case 'response':
        case 'number':
        case 'raw':
          break;
      }
    }
    if (Object.keys(extra).length > 0) fact.extra = extra;
    if (fact.product === undefined && fact.productCode === undefined && fact.extra === undefined) return;
    // Identify responses repeat: one fact per change, not per response.
    const key = JSON.stringify(fact);
    if (key === this.lastFact) return;
    this.lastFact = key;
    this.ctx.fact(fact);
    if (name !== undefined && ip !== undefined && ip !== '0.0.0.0') {
      this.ctx.fact({ kind: 'name', name, source: 'profinet', ip });
    }
  }
}

function turnedOff(before: number, now: number, bit: number): boolean {
  return (before & bit) !== 0 && (now & bit) === 0;
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/**
 * A Set request is one operation, named by what it does: a factory reset or reset to factory
 * (control) before anything else; else a write of its first data block (IP parameter, name of
 * station...: re-addressing) with the IP octets as values; else a signal (flash LED, control).
 */
function setOperation(p: DcpPdu, op: Mutable<OperationEvent>): Mutable<OperationEvent> {
  let signal = -1;
  let dataBlocks = 0;
  let firstData: DcpPdu['blocks'][number] | undefined;
  for (const b of p.blocks) {
    if (b.option === DCP_OPTION.control) {
      if (b.suboption === DCP_CONTROL.factoryReset) {
        op.name = OPERATIONS.factoryReset.name;
        op.access = OPERATIONS.factoryReset.access;
        op.addressSpace = b.name;
        return op;
      }
      if (b.suboption === DCP_CONTROL.resetToFactory) {
        op.name = OPERATIONS.resetToFactory.name;
        op.access = OPERATIONS.resetToFactory.access;
        op.addressSpace = b.name;
        // The BlockQualifier carries the reset mode (communication, application, all data...).
        if (b.info >= 0) op.values = [b.info];
        return op;
      }
      if (b.suboption === DCP_CONTROL.signal) signal = b.value.kind === 'number' ? b.value.value : 0;
      continue;
    }
    dataBlocks++;
    firstData ??= b;
  }
  if (firstData !== undefined) {
    op.addressSpace = firstData.name;
    op.quantity = dataBlocks;
    const v = firstData.value;
    if (v.kind === 'ip') op.values = ipOctets(v.ip, v.netmask, v.gateway);
    return op;
  }
  if (signal >= 0) {
    op.name = OPERATIONS.signal.name;
    op.access = OPERATIONS.signal.access;
    op.addressSpace = 'signal';
    op.values = [signal];
    return op;
  }
  op.addressSpace = 'control';
  return op;
}

function ipOctets(...addresses: string[]): number[] {
  const out: number[] = [];
  for (const a of addresses) for (const o of a.split('.')) if (out.length < MAX_VALUES) out.push(Number(o));
  return out;
}

export const profinetProtocol = defineL2Protocol({
  name: 'profinet',
  etherTypes: [PROFINET_ETHERTYPE],
  createAnalyzer: (ctx) => new ProfinetAnalyzer(ctx),
});
