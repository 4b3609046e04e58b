// S7comm-plus (protocol id 0x72) frame decoder: header (version, data length), the V3 integrity part
// (digest, not verified), the data part's opcode, function code, sequence number and session id,
// and the trailer. Object payloads are not decoded. Layout after the Wireshark S7comm-plus plugin
// (packet-s7comm_plus.c, Thomas Wiens) and the CISA ICSNPP S7comm analyzer.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { Reader, ShortRead } from '../../core/reader.ts';
import type { AccessClass } from '../_core/types.ts';

export const S7PLUS_PROTOCOL_ID = 0x72;

export const S7PLUS_VERSION = { v1: 0x01, v2: 0x02, v3: 0x03, extKeepAlive: 0xfe, keepAlive: 0xff } as const;

export const OPCODE = { request: 0x31, response: 0x32, notification: 0x33, response2: 0x02 } as const;

export interface S7PlusFunction {
  readonly code: number;
  /** `s7comm_plus.<name>`. */
  readonly operation: string;
  readonly access: AccessClass;
}

function fn(code: number, name: string, access: AccessClass): S7PlusFunction {
  return Object.freeze({ code, operation: `s7comm_plus.${name}`, access });
}

/** Function codes with best-effort access classes (what the object model changes is not decoded). */
const FUNCTIONS: ReadonlyMap<number, S7PlusFunction> = new Map(
  [
    fn(0x04b1, 'error', 'other'),
    fn(0x04bb, 'explore', 'discovery'),
    fn(0x04ca, 'create_object', 'other'),
    fn(0x04d4, 'delete_object', 'other'),
    fn(0x04f2, 'set_variable', 'write'),
    fn(0x04fc, 'get_variable', 'read'),
    fn(0x0506, 'add_link', 'other'),
    fn(0x051a, 'remove_link', 'other'),
    fn(0x0524, 'get_link', 'read'),
    fn(0x0542, 'set_multi_variables', 'write'),
    fn(0x054c, 'get_multi_variables', 'read'),
    fn(0x0556, 'begin_sequence', 'program'),
    fn(0x0560, 'end_sequence', 'program'),
    fn(0x056b, 'invoke', 'control'),
    fn(0x057c, 'set_var_substreamed', 'write'),
    fn(0x0586, 'get_var_substreamed', 'read'),
    fn(0x0590, 'get_variables_address', 'read'),
    fn(0x059a, 'abort', 'other'),
  ].map((f) => [f.code, f]),
);

export function s7plusFunction(code: number): S7PlusFunction {
  return FUNCTIONS.get(code) ?? fn(code, 'unknown_function', 'other');
}

export const NOTIFICATION_OPERATION = fn(OPCODE.notification, 'notification', 'read');

export type S7PlusFrame =
  | { readonly kind: 'keep_alive'; readonly version: number }
  | {
      readonly kind: 'data';
      readonly version: number;
      readonly dataLength: number;
      /** V3 integrity digest (a view), empty before V3. Not verified: the key is not known. */
      readonly digest: Uint8Array;
      /** False when the trailer is missing: the first or an inner fragment of a longer frame. */
      readonly hasTrailer: boolean;
      /** 0x31 request, 0x32/0x02 response, 0x33 notification, or another value (not decoded). */
      readonly opcode: number;
      /** Request and response only, else -1. */
      readonly functionCode: number;
      readonly sequence: number;
      /** Request only (the object the request addresses), else -1. */
      readonly sessionId: number;
      readonly transportFlags: number;
      /** Response only: the return value's low 16 bits as a signed number (negative = error), else 0. */
      readonly returnCode: number;
      /** The data part after the fields above, up to the trailer (a view). */
      readonly body: Uint8Array;
    };

/**
 * Decodes one S7comm-plus frame (a whole TSDU). Malformed codes: `s7comm_plus.truncated`,
 * `s7comm_plus.bad_protocol_id`, `s7comm_plus.bad_length`.
 */
export function decodeS7PlusFrame(bytes: Uint8Array): Decoded<S7PlusFrame> {
  const r = READER.reset(bytes);
  try {
    return decodeFrame(r, bytes);
  } catch (e) {
    if (e instanceof ShortRead) return malformed('s7comm_plus.truncated', e.offset);
    throw e;
  }
}

/** One reader for all frames: decoding is synchronous and never re-entrant. */
const READER = new Reader(new Uint8Array(0));
const NO_ANOMALIES: readonly string[] = Object.freeze([]);
const BAD_TRAILER: readonly string[] = Object.freeze(['s7comm_plus.bad_trailer']);

function decodeFrame(r: Reader, bytes: Uint8Array): Decoded<S7PlusFrame> {
  if (r.u8() !== S7PLUS_PROTOCOL_ID) return malformed('s7comm_plus.bad_protocol_id', 0);
  const version = r.u8();
  if (version === S7PLUS_VERSION.keepAlive) {
    r.skip(2);
    return ok({ kind: 'keep_alive', version }, r.pos);
  }
  const dataLength = r.u16();
  if (version === S7PLUS_VERSION.extKeepAlive) {
    r.skip(Math.min(dataLength, r.remaining));
    return ok({ kind: 'keep_alive', version }, r.pos);
  }
  if (4 + dataLength > bytes.length) return malformed('s7comm_plus.bad_length', 2);
  const dataEnd = 4 + dataLength;
  const hasTrailer = bytes.length >= dataEnd + 4 && bytes[dataEnd] === S7PLUS_PROTOCOL_ID;
  r.end = dataEnd;
  let digest = bytes.subarray(0, 0);
  if (version === S7PLUS_VERSION.v3) {
    const n = r.u8();
    digest = r.take(n);
  }
  const opcode = r.u8();
  let functionCode = -1;
  let sequence = 0;
  let sessionId = -1;
  let transportFlags = 0;
  let returnCode = 0;
  if (opcode === OPCODE.request || opcode === OPCODE.response || opcode === OPCODE.response2) {
    r.skip(2);
    functionCode = r.u16();
    r.skip(2);
    sequence = r.u16();
    if (opcode === OPCODE.request) sessionId = r.u32();
    transportFlags = r.u8();
    if (opcode !== OPCODE.request && r.remaining > 0) returnCode = returnValue(r.bytes, r.pos, r.end);
  } else if (opcode === OPCODE.notification) {
    // Subscription object id, then values not decoded here.
    sessionId = r.u32();
  }
  const body = bytes.subarray(r.pos, dataEnd);
  const anomalies = hasTrailer || bytes.length === dataEnd ? NO_ANOMALIES : BAD_TRAILER;
  return ok(
    {
      kind: 'data',
      version,
      dataLength,
      digest,
      hasTrailer,
      opcode,
      functionCode,
      sequence,
      sessionId,
      transportFlags,
      returnCode,
      body,
    },
    hasTrailer ? dataEnd + 4 : dataEnd,
    anomalies,
  );
}

/**
 * The response's return value, a VLQ of at most 9 octets (7 bits per octet with the high bit meaning
 * "more", the 9th octet giving 8 bits), reduced to its low 16 bits as a signed number (negative is
 * an error); 0 when it does not fit the bytes.
 */
function returnValue(b: Uint8Array, pos: number, end: number): number {
  let low = 0;
  for (let i = 0; i < 9 && pos + i < end; i++) {
    const c = b[pos + i]!;
    if (i === 8) {
      low = ((low << 8) | c) & 0xffff;
      return low >= 0x8000 ? low - 0x10000 : low;
    }
    low = ((low << 7) | (c & 0x7f)) & 0xffff;
    if ((c & 0x80) === 0) return low >= 0x8000 ? low - 0x10000 : low;
  }
  return 0;
}

/** Whether a frame ends with the 4-byte trailer after its data part (the last or only fragment). */
export function s7plusHasTrailer(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const end = 4 + ((bytes[2]! << 8) | bytes[3]!);
  return bytes.length >= end + 4 && bytes[end] === S7PLUS_PROTOCOL_ID;
}

/**
 * The order number and firmware version a CreateObject response of an S7-1200/1500 announces in
 * its ServerSessionVersion string (`1;6ES7 214-1HE30-0XB0 ;V2.2`), or null.
 */
export function sessionVersion(body: Uint8Array): { productCode: string; firmware: string } | null {
  // Scan for "<digits>;<order number>;V<version>" in the printable runs of the object payload.
  let run = '';
  for (let i = 0; i <= body.length; i++) {
    const c = i < body.length ? body[i]! : 0;
    if (c >= 0x20 && c < 0x7f && run.length < 96) {
      run += String.fromCharCode(c);
      continue;
    }
    const m = /\d+;(\d[A-Z0-9]{3} [A-Z0-9-]+)\s*;V(\d+(?:\.\d+)*)/.exec(run);
    if (m !== null) return { productCode: m[1]!, firmware: `V${m[2]!}` };
    run = '';
  }
  return null;
}
