// Profinet frame decoder for ethertype 0x8892: frame id (IEC 61158-6-10 §4.2.3.4), DCP PDUs and
// blocks (§4.3.1.3, DCP), cyclic trailer (§4.2.3.3 APDU_Status), alarm RTA header (§4.5.3), PTCP
// and fragment ids. Input is the frame payload after the ethertype (VLAN tags removed).

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { formatIpv4, formatMac, ipv4FromBytes, macFromBytes, printable } from '../../core/text.ts';
import {
  BLOCK_ERROR_NAMES,
  DCP_CONTROL,
  DCP_OPTION,
  DCP_SERVICE,
  DCP_SERVICE_NAMES,
  DCP_SERVICE_TYPE,
  DCP_SERVICE_TYPE_NAMES,
  FRAME_ID,
  MAX_DCP_BLOCKS,
  MAX_TEXT,
  RTA_PDU_TYPE_NAMES,
  alarmTypeName,
  blockName,
  deviceRoleNames,
  frameKind,
  ptcpName,
  rtClassName,
} from './constants.ts';

/** What a DCP block carries, by option/suboption. */
export type DcpValue =
  /** All selector, empty filter blocks, Get request option pairs. */
  | { readonly kind: 'none' }
  | { readonly kind: 'mac'; readonly mac: string }
  /** IP parameter (1/2) and full IP suite (1/3, with up to four DNS servers). */
  | {
      readonly kind: 'ip';
      readonly ip: string;
      readonly netmask: string;
      readonly gateway: string;
      readonly dns?: readonly string[];
    }
  /** Type of station, name of station, alias name (printable text, at most 240 characters). */
  | { readonly kind: 'text'; readonly text: string }
  /** Device id (2/3) and OEM device id (2/8). */
  | { readonly kind: 'device_id'; readonly vendorId: number; readonly deviceId: number }
  | { readonly kind: 'device_role'; readonly role: number; readonly roles: readonly string[] }
  /** Device options (2/5): the option/suboption pairs the device supports. */
  | { readonly kind: 'options'; readonly options: ReadonlyArray<readonly [number, number]> }
  | { readonly kind: 'instance'; readonly high: number; readonly low: number }
  /** Control/Response (5/4) in Get and Set responses: which block it answers and the BlockError. */
  | {
      readonly kind: 'response';
      readonly option: number;
      readonly suboption: number;
      readonly error: number;
      readonly errorName: string;
    }
  /** Signal value (5/3), device initiative (6/1). */
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'raw'; readonly data: Uint8Array };

export interface DcpBlock {
  readonly option: number;
  readonly suboption: number;
  /** snake_case block name, e.g. `ip_parameter`, `name_of_station`. */
  readonly name: string;
  /** DCPBlockLength; -1 for the option pairs of a Get request, which carry no length. */
  readonly length: number;
  /** BlockInfo (responses, Hello) or BlockQualifier (Set requests); -1 when the block has neither. */
  readonly info: number;
  readonly value: DcpValue;
}

export interface DcpPdu {
  readonly serviceId: number;
  readonly service: string;
  readonly serviceType: number;
  readonly serviceTypeName: string;
  readonly response: boolean;
  readonly xid: number;
  /** ResponseDelay of an Identify request (multicast frame id 0xFEFE); -1 in other PDUs. */
  readonly responseDelay: number;
  /** DCPDataLength: bytes of blocks (padding included). */
  readonly dataLength: number;
  readonly blocks: readonly DcpBlock[];
}

/** Alarm frames (0xFC01 high, 0xFE01 low): the RTA-PDU header and what the PDU carries. */
export interface RtaPdu {
  readonly dstEndpoint: number;
  readonly srcEndpoint: number;
  /** PDUType.Type: 1 DATA, 2 NACK, 3 ACK, 4 ERR. */
  readonly pduType: number;
  readonly pduTypeName: string;
  readonly version: number;
  readonly sendSeqNum: number;
  readonly ackSeqNum: number;
  readonly varPartLength: number;
  /** DATA: AlarmNotification block fields, when present. */
  readonly alarmType?: number;
  readonly alarmTypeName?: string;
  readonly api?: number;
  readonly slot?: number;
  readonly subslot?: number;
  /** ERR: PNIOStatus as one 32-bit number (ErrorCode, ErrorDecode, ErrorCode1, ErrorCode2). */
  readonly pnioStatus?: number;
}

export type ProfinetFrame =
  | { readonly kind: 'dcp'; readonly frameId: number; readonly dcp: DcpPdu }
  | {
      readonly kind: 'cyclic';
      readonly frameId: number;
      readonly rtClass: string;
      /** C_SDU bytes between the frame id and the APDU status (IO data and padding). */
      readonly dataLength: number;
      readonly cycleCounter: number;
      readonly dataStatus: number;
      readonly transferStatus: number;
    }
  | { readonly kind: 'alarm'; readonly frameId: number; readonly rta: RtaPdu }
  | { readonly kind: 'ptcp'; readonly frameId: number; readonly name: string; readonly sequenceId?: number }
  | {
      readonly kind: 'fragment';
      readonly frameId: number;
      readonly fragDataLength: number;
      readonly moreFollows: boolean;
      readonly fragmentNumber: number;
    }
  | { readonly kind: 'reserved'; readonly frameId: number };

/** APDU status at the end of a cyclic frame: CycleCounter (2), DataStatus (1), TransferStatus (1). */
export const APDU_STATUS_LENGTH = 4;
/** DataStatus bits. */
export const DATA_STATUS = {
  primary: 0x01,
  redundancy: 0x02,
  dataValid: 0x04,
  providerRun: 0x10,
  stationOk: 0x20,
  ignore: 0x80,
} as const;

const NONE: DcpValue = Object.freeze({ kind: 'none' });
const NO_BLOCKS: readonly DcpBlock[] = Object.freeze([]);
/** One reader for all frames: decoding is synchronous and never re-entrant. */
const READER = new Reader(new Uint8Array(0));

// Anomalies of the frame being decoded; copied out only when not empty (see modbus/decode.ts).
const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

/**
 * Decodes one Profinet frame payload. Short frames and lengths that run past the frame are
 * `malformed('profinet.truncated')`; DCP lengths that disagree with the blocks are
 * `malformed('profinet.bad_block_length')`. Out-of-specification values that still decode are
 * anomalies. Bytes after the DCP data or the RTA PDU (Ethernet padding) are ignored.
 */
export function decodeProfinetFrame(bytes: Uint8Array): Decoded<ProfinetFrame> {
  if (bytes.length < 2) return malformed('profinet.truncated', 0);
  found.length = 0;
  const r = READER.reset(bytes);
  try {
    const frame = decodeFrame(r, bytes);
    if (frame.kind !== 'ok') return frame;
    return found.length === 0 ? frame : ok(frame.value, frame.consumed, found.slice());
  } catch (e) {
    if (e instanceof ShortRead) return malformed('profinet.truncated', e.offset);
    throw e;
  }
}

function decodeFrame(r: Reader, bytes: Uint8Array): Decoded<ProfinetFrame> {
  const frameId = r.u16();
  const kind = frameKind(frameId);
  switch (kind) {
    case 'cyclic': {
      const n = bytes.length;
      if (n < 2 + APDU_STATUS_LENGTH) return malformed('profinet.truncated', 2);
      const cycleCounter = (bytes[n - 4]! << 8) | bytes[n - 3]!;
      return ok(
        {
          kind,
          frameId,
          rtClass: rtClassName(frameId),
          dataLength: n - 2 - APDU_STATUS_LENGTH,
          cycleCounter,
          dataStatus: bytes[n - 2]!,
          transferStatus: bytes[n - 1]!,
        },
        n,
      );
    }
    case 'dcp': {
      const dcp = decodeDcp(r, frameId);
      return dcp.kind === 'ok' ? ok({ kind, frameId, dcp: dcp.value }, dcp.consumed) : dcp;
    }
    case 'alarm': {
      const rta = decodeRta(r);
      return ok({ kind, frameId, rta }, r.pos);
    }
    case 'ptcp': {
      // PTCP header: 12 reserved bytes, SequenceID, 2 reserved, Delay; the sequence id is kept.
      if (r.remaining >= 14) {
        r.skip(12);
        return ok({ kind, frameId, name: ptcpName(frameId), sequenceId: r.u16() }, bytes.length);
      }
      return ok({ kind, frameId, name: ptcpName(frameId) }, bytes.length);
    }
    case 'fragment': {
      const fragDataLength = r.u8();
      const status = r.u8();
      return ok(
        {
          kind,
          frameId,
          fragDataLength,
          moreFollows: (status & 0x80) !== 0,
          fragmentNumber: status & 0x3f,
        },
        bytes.length,
      );
    }
    case 'reserved':
      weird('profinet.reserved_frame_id');
      return ok({ kind, frameId }, bytes.length);
  }
}

/** The block layout of a DCP PDU depends on its service and direction. */
type BlockMode = 'filter' | 'get_request' | 'set_request' | 'response';

function decodeDcp(r: Reader, frameId: number): Decoded<DcpPdu> {
  const serviceId = r.u8();
  const serviceType = r.u8();
  const xid = r.u32();
  const delayOrReserved = r.u16();
  const dataLength = r.u16();
  const start = r.pos;
  if (dataLength > r.remaining) return malformed('profinet.truncated', start - 2);
  const response = serviceType !== DCP_SERVICE_TYPE.request;
  if (DCP_SERVICE_NAMES[serviceId] === undefined) weird('profinet.dcp_unknown_service');
  if (DCP_SERVICE_TYPE_NAMES[serviceType] === undefined) weird('profinet.dcp_unknown_service_type');
  if (!frameIdMatches(frameId, serviceId, response)) weird('profinet.dcp_frame_id_mismatch');
  let mode: BlockMode;
  if (response || serviceId === DCP_SERVICE.hello) mode = 'response';
  else if (serviceId === DCP_SERVICE.get) mode = 'get_request';
  else if (serviceId === DCP_SERVICE.set) mode = 'set_request';
  else mode = 'filter';
  const end = start + dataLength;
  const blocks = dataLength === 0 ? NO_BLOCKS : decodeBlocks(r, end, mode);
  if (blocks === null) return malformed('profinet.bad_block_length', r.pos);
  const multicastIdentify = frameId === FRAME_ID.dcpIdentifyRequest;
  if (!multicastIdentify && delayOrReserved !== 0) weird('profinet.dcp_reserved_not_zero');
  return ok(
    {
      serviceId,
      service: DCP_SERVICE_NAMES[serviceId] ?? `service_${serviceId}`,
      serviceType,
      serviceTypeName: DCP_SERVICE_TYPE_NAMES[serviceType] ?? `service_type_${serviceType}`,
      response,
      xid,
      responseDelay: multicastIdentify ? delayOrReserved : -1,
      dataLength,
      blocks,
    },
    end,
  );
}

/** Frame ids DCP services travel in: Hello 0xFEFC, Get/Set 0xFEFD, Identify 0xFEFE request / 0xFEFF response. */
function frameIdMatches(frameId: number, serviceId: number, response: boolean): boolean {
  switch (frameId) {
    case FRAME_ID.dcpHello:
      return serviceId === DCP_SERVICE.hello && !response;
    case FRAME_ID.dcpGetSet:
      // Identify responses to a unicast Identify also use 0xFEFD in some stacks: accepted.
      return serviceId === DCP_SERVICE.get || serviceId === DCP_SERVICE.set || serviceId === DCP_SERVICE.identify;
    case FRAME_ID.dcpIdentifyRequest:
      return serviceId === DCP_SERVICE.identify && !response;
    case FRAME_ID.dcpIdentifyResponse:
      return serviceId === DCP_SERVICE.identify && response;
    default:
      return false;
  }
}

/** Blocks up to `end`, each padded to an even length; null when a block length runs past `end`. */
function decodeBlocks(r: Reader, end: number, mode: BlockMode): DcpBlock[] | null {
  const blocks: DcpBlock[] = [];
  while (r.pos < end) {
    if (blocks.length === MAX_DCP_BLOCKS) {
      weird('profinet.dcp_too_many_blocks');
      r.pos = end;
      break;
    }
    if (mode === 'get_request') {
      if (end - r.pos < 2) return null;
      const option = r.u8();
      const suboption = r.u8();
      blocks.push({ option, suboption, name: blockName(option, suboption), length: -1, info: -1, value: NONE });
      continue;
    }
    if (end - r.pos < 4) {
      // A lone padding byte (or two) at the end of the data is allowed.
      if (blocks.length > 0 && zeros(r.bytes, r.pos, end)) {
        r.pos = end;
        break;
      }
      return null;
    }
    const option = r.u8();
    const suboption = r.u8();
    const length = r.u16();
    if (length > end - r.pos) return null;
    const blockEnd = r.pos + length;
    blocks.push(decodeBlock(r, option, suboption, length, blockEnd, mode));
    r.pos = blockEnd;
    if (length % 2 === 1 && r.pos < end) r.pos++;
  }
  return blocks;
}

function zeros(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

function decodeBlock(
  r: Reader,
  option: number,
  suboption: number,
  length: number,
  blockEnd: number,
  mode: BlockMode,
): DcpBlock {
  const name = blockName(option, suboption);
  // Control/Response answers another block: option, suboption, BlockError, without BlockInfo.
  if (option === DCP_OPTION.control && suboption === DCP_CONTROL.response && mode === 'response') {
    if (length < 3) {
      weird('profinet.dcp_bad_block_value');
      return { option, suboption, name, length, info: -1, value: raw(r, blockEnd) };
    }
    const o = r.u8();
    const s = r.u8();
    const error = r.u8();
    if (error !== 0) weird('profinet.dcp_block_error');
    const errorName = BLOCK_ERROR_NAMES[error] ?? `error_${error}`;
    return {
      option,
      suboption,
      name,
      length,
      info: -1,
      value: { kind: 'response', option: o, suboption: s, error, errorName },
    };
  }
  let info = -1;
  if (mode === 'response' || mode === 'set_request') {
    if (length < 2) {
      // The all selector carries no BlockInfo; anything else should.
      if (option !== DCP_OPTION.all) weird('profinet.dcp_short_block');
      return { option, suboption, name, length, info, value: length === 0 ? NONE : raw(r, blockEnd) };
    }
    info = r.u16();
  }
  return { option, suboption, name, length, info, value: decodeValue(r, option, suboption, blockEnd) };
}

function raw(r: Reader, end: number): DcpValue {
  return { kind: 'raw', data: r.take(end - r.pos) };
}

function decodeValue(r: Reader, option: number, suboption: number, end: number): DcpValue {
  const n = end - r.pos;
  if (option === DCP_OPTION.all) return n === 0 ? NONE : raw(r, end);
  if (option === DCP_OPTION.ip) {
    if (suboption === 1) return n >= 6 ? { kind: 'mac', mac: formatMac(macFromBytes(r.take(6), 0)) } : bad(r, end);
    if (suboption === 2 || suboption === 3) {
      if (n < 12) return bad(r, end);
      const ip = ipAt(r);
      const netmask = ipAt(r);
      const gateway = ipAt(r);
      if (suboption === 2) return { kind: 'ip', ip, netmask, gateway };
      const dns: string[] = [];
      while (end - r.pos >= 4 && dns.length < 4) dns.push(ipAt(r));
      return { kind: 'ip', ip, netmask, gateway, dns };
    }
    return raw(r, end);
  }
  if (option === DCP_OPTION.device) {
    switch (suboption) {
      case 1:
      case 2:
      case 6: {
        if (suboption === 2 && n > MAX_TEXT) weird('profinet.dcp_name_too_long');
        return { kind: 'text', text: printable(r.take(n), MAX_TEXT) };
      }
      case 3:
      case 8:
        return n >= 4 ? { kind: 'device_id', vendorId: r.u16(), deviceId: r.u16() } : bad(r, end);
      case 4: {
        if (n < 1) return bad(r, end);
        const role = r.u8();
        return { kind: 'device_role', role, roles: deviceRoleNames(role) };
      }
      case 5: {
        const options: Array<readonly [number, number]> = [];
        while (end - r.pos >= 2 && options.length < MAX_DCP_BLOCKS) options.push([r.u8(), r.u8()]);
        return { kind: 'options', options };
      }
      case 7:
        return n >= 2 ? { kind: 'instance', high: r.u8(), low: r.u8() } : bad(r, end);
      default:
        return raw(r, end);
    }
  }
  if (option === DCP_OPTION.control && suboption === DCP_CONTROL.signal) {
    return n >= 2 ? { kind: 'number', value: r.u16() } : bad(r, end);
  }
  if (option === DCP_OPTION.deviceInitiative && suboption === 1) {
    return n >= 2 ? { kind: 'number', value: r.u16() } : bad(r, end);
  }
  return n === 0 ? NONE : raw(r, end);
}

function bad(r: Reader, end: number): DcpValue {
  weird('profinet.dcp_bad_block_value');
  return raw(r, end);
}

function ipAt(r: Reader): string {
  const v = ipv4FromBytes(r.bytes, r.pos);
  r.skip(4);
  return formatIpv4(v);
}

/** RTA-PDU of an alarm frame: header, then the AlarmNotification block (DATA) or PNIOStatus (ERR). */
function decodeRta(r: Reader): RtaPdu {
  const dstEndpoint = r.u16();
  const srcEndpoint = r.u16();
  const typeByte = r.u8();
  r.skip(1); // AddFlags: window size, TACK
  const sendSeqNum = r.u16();
  const ackSeqNum = r.u16();
  const varPartLength = r.u16();
  const pduType = typeByte & 0x0f;
  const head = {
    dstEndpoint,
    srcEndpoint,
    pduType,
    pduTypeName: RTA_PDU_TYPE_NAMES[pduType] ?? `pdu_type_${pduType}`,
    version: typeByte >> 4,
    sendSeqNum,
    ackSeqNum,
    varPartLength,
  };
  if (RTA_PDU_TYPE_NAMES[pduType] === undefined) weird('profinet.rta_unknown_pdu_type');
  const end = r.pos + varPartLength;
  r.need(varPartLength);
  if (pduType === 1 && varPartLength >= 26) {
    // BlockType, BlockLength, BlockVersion, AlarmType, API, SlotNumber, SubslotNumber, ...
    const blockType = r.u16();
    r.skip(4);
    const alarmType = r.u16();
    const api = r.u32();
    const slot = r.u16();
    const subslot = r.u16();
    r.pos = end;
    if (blockType !== 0x0001 && blockType !== 0x0002) weird('profinet.rta_unknown_block');
    return { ...head, alarmType, alarmTypeName: alarmTypeName(alarmType), api, slot, subslot };
  }
  if (pduType === 4 && varPartLength >= 4) {
    const pnioStatus = r.u32();
    r.pos = end;
    return { ...head, pnioStatus };
  }
  r.pos = end;
  return head;
}
