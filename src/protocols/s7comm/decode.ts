// S7comm PDU decoder (protocol id 0x32, carried in one COTP TSDU): header, parameter part of every
// job/ack_data function and of userdata, and the data items of read/write var and userdata. Field
// layout after the Wireshark S7comm dissector (packet-s7comm.c), there being no public specification.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { printable } from '../../core/text.ts';
import {
  BLOCK_TYPE_NAMES,
  FUNC,
  ROSCTR,
  ROSCTR_NAMES,
  RETURN_OK,
  S7_PROTOCOL_ID,
  SYNTAX,
  dataLengthInBits,
} from './constants.ts';

/** A variable specification of a read/write var job (S7ANY decoded; other syntaxes kept raw). */
export interface S7Item {
  readonly syntaxId: number;
  /** S7ANY transport size (element type), or -1 for other syntaxes. */
  readonly transportSize: number;
  /** Number of elements. */
  readonly length: number;
  readonly dbNumber: number;
  /** S7ANY area code, or -1 for other syntaxes. */
  readonly area: number;
  /** The 24-bit address: byte << 3 | bit (the number itself for counters and timers). */
  readonly address: number;
  readonly byteAddress: number;
  readonly bitAddress: number;
}

/** A data item of a read var response or a write var job. */
export interface S7DataItem {
  readonly returnCode: number;
  readonly transportSize: number;
  /** The length field as sent (bits or bytes, by transport size). */
  readonly length: number;
  readonly data: Uint8Array;
}

export type S7Param =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'setup';
      readonly maxAmqCalling: number;
      readonly maxAmqCalled: number;
      readonly pduLength: number;
    }
  | { readonly kind: 'var_request'; readonly itemCount: number; readonly items: readonly S7Item[] }
  | { readonly kind: 'var_response'; readonly itemCount: number }
  | {
      readonly kind: 'block_control';
      readonly functionStatus: number;
      /** Upload id (start upload ack, upload, end upload), else 0. */
      readonly uploadId: number;
      /** File name like `_0A00001P` (empty in acks without one). */
      readonly filename: string;
      /** `ob`, `db`, `fc`, ... from the file name, or ''. */
      readonly blockType: string;
      /** Block number from the file name, or -1. */
      readonly blockNumber: number;
    }
  | {
      readonly kind: 'pi_service';
      readonly service: string;
      /** The parameter block as text (block names for _INSE/_DELE). */
      readonly parameter: string;
      readonly blockType: string;
      readonly blockNumber: number;
    }
  | { readonly kind: 'plc_stop'; readonly service: string }
  | {
      readonly kind: 'userdata';
      /** 0x11 request, 0x12 response (0x00 in mode-transition pushes). */
      readonly method: number;
      /** 0 push, 4 request, 8 response. */
      readonly type: number;
      readonly group: number;
      /** Subfunction (the current mode in a mode-transition push). */
      readonly subfunction: number;
      readonly sequence: number;
      readonly dataUnitRef: number;
      /** 0 when this is the last data unit; -1 when absent. */
      readonly lastDataUnit: number;
      readonly errorCode: number;
    }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

export type S7Data =
  | { readonly kind: 'none' }
  | { readonly kind: 'items'; readonly items: readonly S7DataItem[] }
  | { readonly kind: 'return_codes'; readonly codes: Uint8Array }
  | {
      readonly kind: 'userdata';
      readonly returnCode: number;
      readonly transportSize: number;
      readonly length: number;
      readonly payload: Uint8Array;
    }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

export interface S7Pdu {
  readonly rosctr: number;
  readonly rosctrName: string;
  readonly redundancyId: number;
  readonly pduRef: number;
  readonly paramLength: number;
  readonly dataLength: number;
  /** Ack and ack_data only, else 0. */
  readonly errorClass: number;
  readonly errorCode: number;
  /** First parameter octet of job/ack/ack_data (the function), -1 without one or for userdata. */
  readonly functionCode: number;
  readonly param: S7Param;
  readonly data: S7Data;
}

const NONE_PARAM: S7Param = Object.freeze({ kind: 'none' });
const NO_ANOMALIES: readonly string[] = Object.freeze([]);
// Anomalies of the PDU being decoded: decoding is synchronous, so one list serves every call and
// is copied out only when not empty.
const found: string[] = [];
const NONE_DATA: S7Data = Object.freeze({ kind: 'none' });
const reader = new Reader(new Uint8Array(0));

/**
 * Decodes one S7comm PDU (a whole TSDU). Malformed codes: `s7comm.truncated`,
 * `s7comm.bad_protocol_id`, `s7comm.bad_rosctr`, `s7comm.bad_length`, `s7comm.bad_parameter`.
 * Anomalies on a valid PDU: `s7comm.trailing_bytes`, `s7comm.bad_data` (data part cut short),
 * `s7comm.bad_item_spec`.
 */
export function decodeS7Pdu(bytes: Uint8Array): Decoded<S7Pdu> {
  const n = bytes.length;
  if (n === 0) return malformed('s7comm.truncated', 0);
  if (bytes[0] !== S7_PROTOCOL_ID) return malformed('s7comm.bad_protocol_id', 0);
  if (n < 2) return malformed('s7comm.truncated', 1);
  const rosctr = bytes[1]!;
  if (ROSCTR_NAMES[rosctr] === undefined) return malformed('s7comm.bad_rosctr', 1);
  const acked = rosctr === ROSCTR.ack || rosctr === ROSCTR.ackData;
  const paramStart = acked ? 12 : 10;
  if (n < paramStart) return malformed('s7comm.truncated', n);
  const paramLength = (bytes[6]! << 8) | bytes[7]!;
  const dataLength = (bytes[8]! << 8) | bytes[9]!;
  const end = paramStart + paramLength + dataLength;
  if (end > n) return malformed('s7comm.bad_length', 6);
  const anomalies = found;
  anomalies.length = 0;
  if (end < n) anomalies.push('s7comm.trailing_bytes');
  const paramBytes = bytes.subarray(paramStart, paramStart + paramLength);
  const dataBytes = bytes.subarray(paramStart + paramLength, end);
  let functionCode = -1;
  let param: S7Param = NONE_PARAM;
  let data: S7Data = NONE_DATA;
  if (rosctr === ROSCTR.userdata) {
    if (paramLength > 0) {
      const p = decodeUserdataParam(paramBytes);
      if (p === null) return malformed('s7comm.bad_parameter', paramStart);
      param = p;
    }
    if (dataLength > 0) data = decodeUserdataData(dataBytes, anomalies);
  } else if (paramLength > 0) {
    functionCode = paramBytes[0]!;
    const p = decodeParam(rosctr, paramBytes, anomalies);
    // A known function whose parameter block does not parse.
    if (p === null) return malformed('s7comm.bad_parameter', paramStart);
    param = p;
    if (dataLength > 0) data = decodeData(rosctr, param, functionCode, dataBytes, anomalies);
  } else if (dataLength > 0) data = { kind: 'raw', bytes: dataBytes };
  const pdu: S7Pdu = {
    rosctr,
    rosctrName: ROSCTR_NAMES[rosctr],
    redundancyId: (bytes[2]! << 8) | bytes[3]!,
    pduRef: (bytes[4]! << 8) | bytes[5]!,
    paramLength,
    dataLength,
    errorClass: acked ? bytes[10]! : 0,
    errorCode: acked ? bytes[11]! : 0,
    functionCode,
    param,
    data,
  };
  return ok(pdu, end, anomalies.length === 0 ? NO_ANOMALIES : anomalies.slice());
}

/**
 * The parameter part of job/ack/ack_data: `raw` for functions without a decoded layout (and acks
 * of PI services), null when a decoded layout does not fit.
 */
function decodeParam(rosctr: number, p: Uint8Array, anomalies: string[]): S7Param | null {
  const r = reader.reset(p);
  const func = p[0]!;
  const job = rosctr === ROSCTR.job;
  try {
    r.skip(1);
    switch (func) {
      case FUNC.setupCommunication: {
        r.skip(1);
        const maxAmqCalling = r.u16();
        const maxAmqCalled = r.u16();
        const pduLength = r.u16();
        return { kind: 'setup', maxAmqCalling, maxAmqCalled, pduLength };
      }
      case FUNC.readVar:
      case FUNC.writeVar: {
        const itemCount = r.u8();
        if (!job) return { kind: 'var_response', itemCount };
        const items: S7Item[] = [];
        for (let i = 0; i < itemCount; i++) items.push(decodeItem(r, anomalies));
        return { kind: 'var_request', itemCount, items };
      }
      case FUNC.requestDownload:
      case FUNC.downloadBlock:
      case FUNC.downloadEnded:
      case FUNC.startUpload:
      case FUNC.upload:
      case FUNC.endUpload:
        return decodeBlockControl(r);
      case FUNC.plcControl: {
        if (!job) return { kind: 'raw', bytes: p };
        r.skip(7);
        const blockLen = r.u16();
        const block = r.take(blockLen);
        const nameLen = r.u8();
        const service = printable(r.take(nameLen), 64);
        // _INSE / _DELE parameter block: block count, reserved, then 8-character block names
        // (`0A00001P`): type, number, file system.
        const parameter = printable(block.subarray(block.length > 2 ? 2 : 0), 128);
        const { blockType, blockNumber } = blockName(parameter, 0);
        return { kind: 'pi_service', service, parameter, blockType, blockNumber };
      }
      case FUNC.plcStop: {
        if (!job) return { kind: 'raw', bytes: p };
        r.skip(5);
        const nameLen = r.u8();
        return { kind: 'plc_stop', service: printable(r.take(nameLen), 64) };
      }
      default:
        return { kind: 'raw', bytes: p };
    }
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    // Block control acks may stop after any field; the others must fit their layout.
    return func >= FUNC.requestDownload && func <= FUNC.endUpload ? { kind: 'raw', bytes: p } : null;
  }
}

/**
 * One variable specification: 0x12, length, syntax id, then the syntax's fields. The fields are read
 * in place: the specification's length is checked once, and each syntax reads only when it fits.
 */
function decodeItem(r: Reader, anomalies: string[]): S7Item {
  const varspec = r.u8();
  const specLen = r.u8();
  r.need(specLen);
  const b = r.bytes;
  const at = r.pos;
  r.pos += specLen;
  if (varspec !== 0x12 && !anomalies.includes('s7comm.bad_item_spec')) anomalies.push('s7comm.bad_item_spec');
  if (specLen === 0) throw new ShortRead(at);
  const syntaxId = b[at]!;
  if (syntaxId === SYNTAX.s7any && specLen >= 10) {
    const address = (b[at + 7]! << 16) | (b[at + 8]! << 8) | b[at + 9]!;
    return {
      syntaxId,
      transportSize: b[at + 1]!,
      length: (b[at + 2]! << 8) | b[at + 3]!,
      dbNumber: (b[at + 4]! << 8) | b[at + 5]!,
      area: b[at + 6]!,
      address,
      byteAddress: address >>> 3,
      bitAddress: address & 7,
    };
  }
  if (syntaxId === SYNTAX.dbread && specLen >= 7) {
    // DBREAD (S7-400): number of areas, then per area length, DB number, start address.
    const start = (b[at + 5]! << 8) | b[at + 6]!;
    return {
      syntaxId,
      transportSize: 0x02,
      length: b[at + 2]!,
      dbNumber: (b[at + 3]! << 8) | b[at + 4]!,
      area: 0x84,
      address: start << 3,
      byteAddress: start,
      bitAddress: 0,
    };
  }
  return { syntaxId, transportSize: -1, length: 0, dbNumber: 0, area: -1, address: 0, byteAddress: 0, bitAddress: 0 };
}

/** Block control (functions 0x1a–0x1f), request or ack_data. */
function decodeBlockControl(r: Reader): S7Param {
  const functionStatus = r.remaining > 0 ? r.u8() : 0;
  let uploadId = 0;
  let filename = '';
  if (r.remaining >= 6) {
    r.skip(2);
    uploadId = r.u32();
    if (r.remaining > 0) {
      const nameLen = r.u8();
      filename = printable(r.take(Math.min(nameLen, r.remaining)), 64);
    }
  }
  const { blockType, blockNumber } = blockName(filename, filename.startsWith('_') ? 1 : 0);
  return { kind: 'block_control', functionStatus, uploadId, filename, blockType, blockNumber };
}

/** `0A00001P` at `at`: block type (2 hex characters), block number (5 digits). */
function blockName(s: string, at: number): { blockType: string; blockNumber: number } {
  if (s.length < at + 7) return { blockType: '', blockNumber: -1 };
  const blockType = BLOCK_TYPE_NAMES[s.slice(at, at + 2).toUpperCase()] ?? '';
  const digits = s.slice(at + 2, at + 7);
  const blockNumber = /^\d{5}$/.test(digits) ? Number(digits) : -1;
  return { blockType, blockNumber };
}

/** Userdata parameter: head (3), length, method, type/group, subfunction, sequence [, DUR, LDU, error]. */
function decodeUserdataParam(p: Uint8Array): S7Param | null {
  if (p.length < 8) return null;
  const plen = p[3]!;
  const tg = p[5]!;
  const long = plen >= 8 && p.length >= 12;
  return {
    kind: 'userdata',
    method: p[4]!,
    type: tg >> 4,
    group: tg & 0x0f,
    subfunction: p[6]!,
    sequence: p[7]!,
    dataUnitRef: long ? p[8]! : 0,
    lastDataUnit: long ? p[9]! : -1,
    errorCode: long ? (p[10]! << 8) | p[11]! : 0,
  };
}

/** Userdata data part: return code, transport size, length, payload. */
function decodeUserdataData(d: Uint8Array, anomalies: string[]): S7Data {
  if (d.length < 4) {
    anomalies.push('s7comm.bad_data');
    return { kind: 'raw', bytes: d };
  }
  const length = (d[2]! << 8) | d[3]!;
  if (4 + length > d.length) anomalies.push('s7comm.bad_data');
  return {
    kind: 'userdata',
    returnCode: d[0]!,
    transportSize: d[1]!,
    length,
    payload: d.subarray(4, Math.min(d.length, 4 + length)),
  };
}

/** The data part of read var responses, write var jobs and write var responses. */
function decodeData(rosctr: number, param: S7Param, func: number, d: Uint8Array, anomalies: string[]): S7Data {
  const itemCount = param.kind === 'var_request' || param.kind === 'var_response' ? param.itemCount : -1;
  if (itemCount < 0) return { kind: 'raw', bytes: d };
  if (func === FUNC.writeVar && rosctr === ROSCTR.ackData) {
    if (d.length < itemCount) anomalies.push('s7comm.bad_data');
    return { kind: 'return_codes', codes: d.subarray(0, Math.min(itemCount, d.length)) };
  }
  const fromJob = rosctr === ROSCTR.job && func === FUNC.writeVar;
  const fromAck = rosctr === ROSCTR.ackData && func === FUNC.readVar;
  if (!fromJob && !fromAck) return { kind: 'raw', bytes: d };
  const r = reader.reset(d);
  const items: S7DataItem[] = [];
  try {
    for (let i = 0; i < itemCount; i++) {
      const returnCode = r.u8();
      const transportSize = r.u8();
      const length = r.u16();
      // A failed item carries no data whatever its length says (0x00 in write jobs, 0xff success).
      const present = returnCode === 0x00 || returnCode === RETURN_OK;
      const bytes = !present ? 0 : dataLengthInBits(transportSize) ? (length + 7) >>> 3 : length;
      const data = r.take(bytes);
      items.push({ returnCode, transportSize, length, data });
      // Items are padded to an even length, except the last.
      if ((bytes & 1) === 1 && i < itemCount - 1 && r.remaining > 0) r.skip(1);
    }
  } catch (e) {
    if (!(e instanceof ShortRead)) throw e;
    anomalies.push('s7comm.bad_data');
  }
  return { kind: 'items', items };
}
