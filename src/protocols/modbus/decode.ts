// Modbus/TCP ADU decoder: MBAP header (Messaging on TCP/IP v1.0b §3.1.3) and the PDU of every public
// function code, requests and responses (Modbus Application Protocol v1.1b3 §6, exceptions §7).

import { incomplete, malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import { printable } from '../../core/text.ts';
import type { AccessClass, Direction } from '../_core/types.ts';
import {
  CONFORMITY_LEVELS,
  EXCEPTION_BIT,
  EXCEPTION_NAMES,
  FC,
  MAX_ADU_LENGTH,
  MAX_MBAP_LENGTH,
  MEI,
  MIN_MBAP_LENGTH,
  QUANTITY_LIMITS,
  deviceIdObjectName,
  diagnosticSubFunctionName,
  exceptionName,
  functionInfo,
} from './constants.ts';

/** A file record reference in a function 20 request (§6.14). */
export interface FileRecordRef {
  readonly referenceType: number;
  readonly fileNumber: number;
  readonly recordNumber: number;
  /** In registers. */
  readonly recordLength: number;
}

/** A function 21 sub-request (and its echo in the response) (§6.15). */
export interface FileRecordWrite extends FileRecordRef {
  readonly data: Uint8Array;
}

/** A function 20 sub-response (§6.14). */
export interface FileRecordData {
  /** "File response length": reference type byte + data bytes. */
  readonly length: number;
  readonly referenceType: number;
  readonly data: Uint8Array;
}

/** One object of a Read Device Identification response (§6.21). */
export interface DeviceIdObject {
  readonly id: number;
  readonly name: string;
  /** Printable text of the value (the specification defines them as ASCII strings). */
  readonly value: string;
}

/** The PDU after the function code. Byte fields are views of the decoded bytes (no copy). */
export type ModbusPdu =
  | { readonly kind: 'exception'; readonly exceptionCode: number; readonly exceptionName: string }
  /** Requests of functions 1–4. */
  | { readonly kind: 'read_request'; readonly address: number; readonly quantity: number }
  /** Responses of functions 1, 2 (bits, LSB first) and 3, 4, 23 (big-endian registers). */
  | { readonly kind: 'read_response'; readonly byteCount: number; readonly data: Uint8Array }
  /** Functions 5 and 6, request and echoed response. */
  | { readonly kind: 'write_single'; readonly address: number; readonly value: number }
  /** Requests of functions 15 and 16. */
  | {
      readonly kind: 'write_multiple';
      readonly address: number;
      readonly quantity: number;
      readonly byteCount: number;
      readonly data: Uint8Array;
    }
  /** Responses of functions 15 and 16. */
  | { readonly kind: 'write_multiple_response'; readonly address: number; readonly quantity: number }
  /** Requests without data: functions 7, 11, 12, 17. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'exception_status'; readonly status: number }
  | {
      readonly kind: 'diagnostics';
      readonly subFunction: number;
      readonly subFunctionName: string;
      readonly data: Uint8Array;
    }
  | { readonly kind: 'comm_event_counter'; readonly status: number; readonly eventCount: number }
  | {
      readonly kind: 'comm_event_log';
      readonly byteCount: number;
      readonly status: number;
      readonly eventCount: number;
      readonly messageCount: number;
      readonly events: Uint8Array;
    }
  /**
   * Function 17 response. The server id's length is device specific, so the run indicator
   * (0x00 OFF / 0xFF ON) is located by heuristic: second byte if it is 0x00/0xFF (one-byte id),
   * else the last byte if it is; otherwise it is absent and all bytes are the id.
   */
  | {
      readonly kind: 'server_id';
      readonly byteCount: number;
      readonly serverId: Uint8Array;
      readonly runIndicator?: number;
      readonly additionalData: Uint8Array;
    }
  | { readonly kind: 'file_record_read'; readonly byteCount: number; readonly subRequests: readonly FileRecordRef[] }
  | {
      readonly kind: 'file_record_read_response';
      readonly byteCount: number;
      readonly subResponses: readonly FileRecordData[];
    }
  /** Function 21, request and echoed response. */
  | { readonly kind: 'file_record_write'; readonly byteCount: number; readonly subRequests: readonly FileRecordWrite[] }
  /** Function 22, request and echoed response. */
  | { readonly kind: 'mask_write'; readonly address: number; readonly andMask: number; readonly orMask: number }
  | {
      readonly kind: 'read_write_request';
      readonly readAddress: number;
      readonly readQuantity: number;
      readonly writeAddress: number;
      readonly writeQuantity: number;
      readonly byteCount: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: 'fifo_request'; readonly address: number }
  | {
      readonly kind: 'fifo_response';
      readonly byteCount: number;
      readonly fifoCount: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: 'device_id_request'; readonly readDeviceIdCode: number; readonly objectId: number }
  | {
      readonly kind: 'device_id_response';
      readonly readDeviceIdCode: number;
      readonly conformityLevel: number;
      readonly moreFollows: number;
      readonly nextObjectId: number;
      readonly objectCount: number;
      readonly objects: readonly DeviceIdObject[];
    }
  /** Function 43 with another MEI type (13 CANopen General Reference, or unknown). */
  | { readonly kind: 'mei'; readonly meiType: number; readonly data: Uint8Array }
  /** Function codes without a public definition. */
  | { readonly kind: 'raw'; readonly data: Uint8Array };

export interface ModbusAdu {
  readonly transactionId: number;
  readonly protocolId: number;
  /** MBAP length: unit id + PDU bytes. */
  readonly length: number;
  readonly unit: number;
  /** Function code without the exception bit. */
  readonly functionCode: number;
  /** snake_case operation name and access class (function 43 refined by its MEI type). */
  readonly operation: string;
  readonly access: AccessClass;
  readonly response: boolean;
  /** Set for functions 43: the MEI type. */
  readonly meiType?: number;
  readonly pdu: ModbusPdu;
}

const EMPTY: ModbusPdu = Object.freeze({ kind: 'empty' });
const NO_BYTES = new Uint8Array(0);
/** One reader for all ADUs: decoding is synchronous and never re-entrant. */
const READER = new Reader(NO_BYTES);

// Anomalies found while decoding one ADU. Decoding is synchronous, so one module-level list is
// safe and saves an allocation per PDU; it is copied out only when it is not empty.
const found: string[] = [];
function weird(code: string): void {
  if (!found.includes(code)) found.push(code);
}

/**
 * Frame length of a Modbus/TCP ADU for PduFramer: 6 + MBAP length; 0 until the 8 bytes up to the
 * function code are present; -1 when the protocol id is not 0, the length is outside 2..254 or the
 * function code is 0 / 0x80. Decided by the header alone, as PduFramer requires.
 */
export function frameModbusAdu(bytes: Uint8Array): number {
  return frameModbusAduAt(bytes, 0, bytes.length);
}

/** `frameModbusAdu` of `bytes[off, off + n)`, without a view. */
export function frameModbusAduAt(bytes: Uint8Array, off: number, n: number): number {
  if (n < 4) return 0;
  if (bytes[off + 2] !== 0 || bytes[off + 3] !== 0) return -1;
  if (n < 6) return 0;
  const length = (bytes[off + 4]! << 8) | bytes[off + 5]!;
  if (length < MIN_MBAP_LENGTH || length > MAX_MBAP_LENGTH) return -1;
  if (n < 8) return 0;
  if ((bytes[off + 7]! & 0x7f) === 0) return -1;
  return 6 + length;
}

/**
 * Decodes one ADU at the start of `bytes`; `dir` 0 (client → server) decodes a request, 1 a
 * response. `consumed` is 6 + MBAP length; bytes after it are ignored. `incomplete.needed` is the
 * total length needed. Out-of-specification values that still decode (quantities, byte counts,
 * coil values, trailing bytes) are anomalies; a PDU shorter than its fields is
 * `malformed('modbus.truncated')`.
 */
export function decodeModbusAdu(bytes: Uint8Array, dir: Direction): Decoded<ModbusAdu> {
  const n = bytes.length;
  if (n >= 4 && (bytes[2] !== 0 || bytes[3] !== 0)) return malformed('modbus.bad_protocol_id', 2);
  if (n < 6) return incomplete(8);
  const length = (bytes[4]! << 8) | bytes[5]!;
  if (length < MIN_MBAP_LENGTH || length > MAX_MBAP_LENGTH) return malformed('modbus.bad_length', 4);
  const total = 6 + length;
  if (n < total) return incomplete(total);
  found.length = 0;
  const r = READER.reset(bytes, 0, total);
  try {
    return decodeAdu(r, dir === 1, length, total);
  } catch (e) {
    if (e instanceof ShortRead) return malformed('modbus.truncated', e.offset);
    throw e;
  }
}

function decodeAdu(r: Reader, response: boolean, length: number, total: number): Decoded<ModbusAdu> {
  const transactionId = r.u16();
  r.skip(4); // protocol id and length, checked above
  const unit = r.u8();
  const fcByte = r.u8();
  const functionCode = fcByte & 0x7f;
  if (functionCode === 0 || (!response && fcByte & EXCEPTION_BIT)) {
    return malformed('modbus.bad_function_code', 7);
  }
  let pdu: ModbusPdu;
  let meiType = -1;
  if (response && fcByte & EXCEPTION_BIT) {
    const exceptionCode = r.u8();
    if (EXCEPTION_NAMES[exceptionCode] === undefined) weird('modbus.unknown_exception_code');
    pdu = { kind: 'exception', exceptionCode, exceptionName: exceptionName(exceptionCode) };
  } else if (functionCode === FC.encapsulatedInterfaceTransport) {
    meiType = r.u8();
    pdu = response ? decodeMeiResponse(r, meiType) : decodeMeiRequest(r, meiType);
  } else {
    pdu = response ? decodeResponse(r, functionCode) : decodeRequest(r, functionCode);
  }
  if (r.remaining > 0) weird('modbus.trailing_bytes');
  const info = functionInfo(functionCode, meiType);
  const base = {
    transactionId,
    protocolId: 0,
    length,
    unit,
    functionCode,
    operation: info.name,
    access: info.access,
    response,
    pdu,
  };
  const adu: ModbusAdu = meiType >= 0 ? { ...base, meiType } : base;
  return found.length === 0 ? ok(adu, total) : ok(adu, total, found.slice());
}

function checkQuantity(q: number, max: number): void {
  if (q < 1 || q > max) weird('modbus.quantity_out_of_range');
}

function rest(r: Reader): Uint8Array {
  return r.remaining > 0 ? r.take(r.remaining) : NO_BYTES;
}

function decodeRequest(r: Reader, fc: number): ModbusPdu {
  switch (fc) {
    case FC.readCoils:
    case FC.readDiscreteInputs:
    case FC.readHoldingRegisters:
    case FC.readInputRegisters: {
      const address = r.u16();
      const quantity = r.u16();
      checkQuantity(quantity, fc <= FC.readDiscreteInputs ? QUANTITY_LIMITS.readBits : QUANTITY_LIMITS.readRegisters);
      return { kind: 'read_request', address, quantity };
    }
    case FC.writeSingleCoil:
    case FC.writeSingleRegister:
      return decodeWriteSingle(r, fc);
    case FC.readExceptionStatus:
    case FC.getCommEventCounter:
    case FC.getCommEventLog:
    case FC.reportServerId:
      return EMPTY;
    case FC.diagnostics:
      return decodeDiagnostics(r);
    case FC.writeMultipleCoils:
    case FC.writeMultipleRegisters: {
      const address = r.u16();
      const quantity = r.u16();
      const byteCount = r.u8();
      const data = r.take(byteCount);
      const coils = fc === FC.writeMultipleCoils;
      checkQuantity(quantity, coils ? QUANTITY_LIMITS.writeCoils : QUANTITY_LIMITS.writeRegisters);
      if (byteCount !== (coils ? (quantity + 7) >>> 3 : quantity * 2)) weird('modbus.byte_count_mismatch');
      return { kind: 'write_multiple', address, quantity, byteCount, data };
    }
    case FC.readFileRecord: {
      const byteCount = r.u8();
      if (byteCount < 0x07 || byteCount > 0xf5 || byteCount % 7 !== 0) weird('modbus.byte_count_mismatch');
      const s = r.sub(byteCount);
      const subRequests: FileRecordRef[] = [];
      while (s.remaining >= 7) subRequests.push(decodeFileRef(s));
      if (s.remaining > 0) s.skip(s.remaining);
      return { kind: 'file_record_read', byteCount, subRequests };
    }
    case FC.writeFileRecord:
      return decodeFileWrite(r, 0x09, 0xfb);
    case FC.maskWriteRegister:
      return { kind: 'mask_write', address: r.u16(), andMask: r.u16(), orMask: r.u16() };
    case FC.readWriteMultipleRegisters: {
      const readAddress = r.u16();
      const readQuantity = r.u16();
      const writeAddress = r.u16();
      const writeQuantity = r.u16();
      const byteCount = r.u8();
      const data = r.take(byteCount);
      checkQuantity(readQuantity, QUANTITY_LIMITS.readRegisters);
      checkQuantity(writeQuantity, QUANTITY_LIMITS.readWriteWriteRegisters);
      if (byteCount !== writeQuantity * 2) weird('modbus.byte_count_mismatch');
      return { kind: 'read_write_request', readAddress, readQuantity, writeAddress, writeQuantity, byteCount, data };
    }
    case FC.readFifoQueue:
      return { kind: 'fifo_request', address: r.u16() };
    default:
      return { kind: 'raw', data: rest(r) };
  }
}

function decodeResponse(r: Reader, fc: number): ModbusPdu {
  switch (fc) {
    case FC.readCoils:
    case FC.readDiscreteInputs:
    case FC.readHoldingRegisters:
    case FC.readInputRegisters:
    case FC.readWriteMultipleRegisters: {
      const byteCount = r.u8();
      const data = r.take(byteCount);
      if (fc >= FC.readHoldingRegisters && byteCount % 2 !== 0) weird('modbus.byte_count_mismatch');
      return { kind: 'read_response', byteCount, data };
    }
    case FC.writeSingleCoil:
    case FC.writeSingleRegister:
      return decodeWriteSingle(r, fc);
    case FC.readExceptionStatus:
      return { kind: 'exception_status', status: r.u8() };
    case FC.diagnostics:
      return decodeDiagnostics(r);
    case FC.getCommEventCounter:
      return { kind: 'comm_event_counter', status: r.u16(), eventCount: r.u16() };
    case FC.getCommEventLog: {
      const byteCount = r.u8();
      const s = r.sub(byteCount);
      const status = s.u16();
      const eventCount = s.u16();
      const messageCount = s.u16();
      const events = rest(s);
      if (events.length > 64) weird('modbus.byte_count_mismatch');
      return { kind: 'comm_event_log', byteCount, status, eventCount, messageCount, events };
    }
    case FC.writeMultipleCoils:
    case FC.writeMultipleRegisters: {
      const address = r.u16();
      const quantity = r.u16();
      checkQuantity(
        quantity,
        fc === FC.writeMultipleCoils ? QUANTITY_LIMITS.writeCoils : QUANTITY_LIMITS.writeRegisters,
      );
      return { kind: 'write_multiple_response', address, quantity };
    }
    case FC.reportServerId:
      return decodeServerId(r);
    case FC.readFileRecord: {
      const byteCount = r.u8();
      const s = r.sub(byteCount);
      const subResponses: FileRecordData[] = [];
      while (s.remaining > 0) {
        const length = s.u8();
        if (length < 1) {
          weird('modbus.byte_count_mismatch');
          s.skip(s.remaining);
          break;
        }
        const referenceType = s.u8();
        if (referenceType !== 6) weird('modbus.bad_reference_type');
        const data = s.take(length - 1);
        if (data.length % 2 !== 0) weird('modbus.byte_count_mismatch');
        subResponses.push({ length, referenceType, data });
      }
      return { kind: 'file_record_read_response', byteCount, subResponses };
    }
    case FC.writeFileRecord:
      return decodeFileWrite(r, 0x09, 0xfb);
    case FC.maskWriteRegister:
      return { kind: 'mask_write', address: r.u16(), andMask: r.u16(), orMask: r.u16() };
    case FC.readFifoQueue: {
      const byteCount = r.u16();
      const s = r.sub(byteCount);
      const fifoCount = s.u16();
      const data = rest(s);
      if (fifoCount > QUANTITY_LIMITS.fifoCount) weird('modbus.quantity_out_of_range');
      if (data.length !== fifoCount * 2) weird('modbus.byte_count_mismatch');
      return { kind: 'fifo_response', byteCount, fifoCount, data };
    }
    default:
      return { kind: 'raw', data: rest(r) };
  }
}

function decodeWriteSingle(r: Reader, fc: number): ModbusPdu {
  const address = r.u16();
  const value = r.u16();
  if (fc === FC.writeSingleCoil && value !== 0x0000 && value !== 0xff00) weird('modbus.bad_coil_value');
  return { kind: 'write_single', address, value };
}

function decodeDiagnostics(r: Reader): ModbusPdu {
  const subFunction = r.u16();
  return { kind: 'diagnostics', subFunction, subFunctionName: diagnosticSubFunctionName(subFunction), data: rest(r) };
}

function decodeFileRef(s: Reader): FileRecordRef {
  const referenceType = s.u8();
  const fileNumber = s.u16();
  const recordNumber = s.u16();
  const recordLength = s.u16();
  if (referenceType !== 6) weird('modbus.bad_reference_type');
  if (recordNumber > 0x270f) weird('modbus.record_number_out_of_range');
  return { referenceType, fileNumber, recordNumber, recordLength };
}

function decodeFileWrite(r: Reader, min: number, max: number): ModbusPdu {
  const byteCount = r.u8();
  if (byteCount < min || byteCount > max) weird('modbus.byte_count_mismatch');
  const s = r.sub(byteCount);
  const subRequests: FileRecordWrite[] = [];
  // Each sub-request takes at least 7 bytes, so a 251-byte count bounds this loop.
  while (s.remaining > 0) {
    const ref = decodeFileRef(s);
    subRequests.push({ ...ref, data: s.take(ref.recordLength * 2) });
  }
  return { kind: 'file_record_write', byteCount, subRequests };
}

function decodeServerId(r: Reader): ModbusPdu {
  const byteCount = r.u8();
  const data = r.take(byteCount);
  const n = data.length;
  if (n >= 2 && (data[1] === 0x00 || data[1] === 0xff)) {
    return {
      kind: 'server_id',
      byteCount,
      serverId: data.subarray(0, 1),
      runIndicator: data[1],
      additionalData: data.subarray(2),
    };
  }
  const last = n > 0 ? data[n - 1]! : -1;
  if (last === 0x00 || last === 0xff) {
    return {
      kind: 'server_id',
      byteCount,
      serverId: data.subarray(0, n - 1),
      runIndicator: last,
      additionalData: NO_BYTES,
    };
  }
  return { kind: 'server_id', byteCount, serverId: data, additionalData: NO_BYTES };
}

function decodeMeiRequest(r: Reader, meiType: number): ModbusPdu {
  if (meiType === MEI.readDeviceIdentification) {
    const readDeviceIdCode = r.u8();
    const objectId = r.u8();
    if (readDeviceIdCode < 1 || readDeviceIdCode > 4) weird('modbus.bad_read_device_id_code');
    return { kind: 'device_id_request', readDeviceIdCode, objectId };
  }
  if (meiType !== MEI.canOpenGeneralReference) weird('modbus.unknown_mei_type');
  return { kind: 'mei', meiType, data: rest(r) };
}

function decodeMeiResponse(r: Reader, meiType: number): ModbusPdu {
  if (meiType !== MEI.readDeviceIdentification) {
    if (meiType !== MEI.canOpenGeneralReference) weird('modbus.unknown_mei_type');
    return { kind: 'mei', meiType, data: rest(r) };
  }
  const readDeviceIdCode = r.u8();
  const conformityLevel = r.u8();
  const moreFollows = r.u8();
  const nextObjectId = r.u8();
  const objectCount = r.u8();
  if (readDeviceIdCode < 1 || readDeviceIdCode > 4) weird('modbus.bad_read_device_id_code');
  if (!CONFORMITY_LEVELS.has(conformityLevel)) weird('modbus.bad_conformity_level');
  if (moreFollows !== 0x00 && moreFollows !== 0xff) weird('modbus.bad_more_follows');
  // Each object takes at least 2 bytes, so the PDU bounds this loop well below objectCount ≤ 255.
  const objects: DeviceIdObject[] = [];
  for (let i = 0; i < objectCount; i++) {
    const id = r.u8();
    const len = r.u8();
    const value = printable(r.take(len), MAX_ADU_LENGTH);
    objects.push({ id, name: deviceIdObjectName(id), value });
  }
  return {
    kind: 'device_id_response',
    readDeviceIdCode,
    conformityLevel,
    moreFollows,
    nextObjectId,
    objectCount,
    objects,
  };
}

/** Up to `max` big-endian registers from `data` (at most `count`). */
export function registerValues(data: Uint8Array, count: number, max: number): number[] {
  const n = Math.min(count, data.length >>> 1, max);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (data[2 * i]! << 8) | data[2 * i + 1]!;
  return out;
}

/** Up to `max` bits from `data`, LSB of the first byte first (§6.11), as 0/1 (at most `count`). */
export function bitValues(data: Uint8Array, count: number, max: number): number[] {
  const n = Math.min(count, data.length * 8, max);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (data[i >>> 3]! >>> (i & 7)) & 1;
  return out;
}
