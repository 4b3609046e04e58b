// Fast path of the EtherNet/IP analyzer: the common SendRRData/SendUnitData messages (a Logix
// client's tag reads and writes, alone or in a Multiple Service Packet, often through an Unconnected
// Send, and their replies) read straight into the pairing summaries of state.ts, without building
// the decoded records. Every shape the general decoder would flag with an anomaly, and every detail
// the operations need that is not read here (Forward Open, nested packets), is
// refused: the caller then takes the general path, which gives the same result for what is accepted
// here (fast.test.ts checks that on arbitrary input).

import {
  CLASS,
  COMMAND,
  CPF,
  ENCAP_HEADER_LENGTH,
  LOGIX_TYPE,
  MAX_CIP_DEPTH,
  MAX_ENCAP_DATA,
  MAX_MSP_SERVICES,
  RESPONSE_BIT,
  SERVICE,
  commandInfo,
} from './constants.ts';
import { atomicValues, leBytes } from './decode.ts';
import { REQUEST, RESPONSE, hopText } from './state.ts';

/** `frameEnip(buf.subarray(off, off + len))` without the view. */
export function frameEnipAt(b: Uint8Array, off: number, len: number): number {
  if (len < 2) return 0;
  if (b[off + 1] !== 0 || commandInfo(b[off]!) === undefined) return -1;
  if (len < 4) return 0;
  const length = b[off + 2]! | (b[off + 3]! << 8);
  if (length > MAX_ENCAP_DATA) return -1;
  if (len < ENCAP_HEADER_LENGTH) return 0;
  if ((b[off + 20]! | b[off + 21]! | b[off + 22]! | b[off + 23]!) !== 0) return -1;
  return ENCAP_HEADER_LENGTH + length;
}

/** Fields of the message read by `fastMessage` (synchronous: module state suffices). */
export const FAST = {
  command: 0,
  contextLo: 0,
  contextHi: 0,
  /** Connected sequence count (SendUnitData), or -1. */
  sequence: -1,
  /** The CIP message is a response (`RESPONSE`), else a request (`REQUEST`). */
  response: false,
  /** Service code of the outermost CIP message (for the trace). */
  service: 0,
};

/**
 * Reads a whole encapsulation message `b[o, o + n)` (framed: n is 24 + its length field) into
 * `FAST` and `REQUEST` or `RESPONSE`; false when it is not a shape of the fast path.
 */
export function fastMessage(b: Uint8Array, o: number, n: number): boolean {
  if (n < 42) return false;
  const command = b[o]! | (b[o + 1]! << 8);
  const connected = command === COMMAND.sendUnitData;
  if (!connected && command !== COMMAND.sendRRData) return false;
  // Interface handle 0 and two items.
  if ((b[o + 24]! | b[o + 25]! | b[o + 26]! | b[o + 27]!) !== 0 || u16(b, o + 30) !== 2) return false;
  const type0 = u16(b, o + 32);
  const length0 = u16(b, o + 34);
  if (connected ? type0 !== CPF.connectedAddress || length0 !== 4 : type0 !== CPF.nullAddress || length0 !== 0)
    return false;
  const item = o + 36 + length0;
  const end = o + n;
  if (item + 4 > end) return false;
  const type1 = u16(b, item);
  const length1 = u16(b, item + 2);
  if (item + 4 + length1 !== end) return false;
  let c = item + 4;
  let sequence = -1;
  if (connected) {
    if (type1 !== CPF.connectedData || length1 <= 2) return false;
    sequence = u16(b, c);
    c += 2;
  } else if (type1 !== CPF.unconnectedData || length1 === 0) return false;
  const sc = b[c]!;
  if (sc & RESPONSE_BIT) {
    if (!fastResponse(b, c, end)) {
      RESPONSE.release();
      return false;
    }
    FAST.response = true;
    FAST.service = sc & 0x7f;
  } else {
    if (!fastRequest(b, c, end)) return false;
    FAST.response = false;
    FAST.service = sc;
  }
  FAST.command = command;
  FAST.contextLo = u32(b, o + 12);
  FAST.contextHi = u32(b, o + 16);
  FAST.sequence = sequence;
  return true;
}

// The request head read by `head`: service, logical class and instance, whether a tag name was
// given, and where the request data starts.
let hService = 0;
let hClass = -1;
let hInstance = -1;
let hSymbolic = false;
let hData = 0;

/**
 * Reads a CIP request `b[c, e)` into `REQUEST`: a request on the object itself, a Multiple Service
 * Packet of such requests, either delivered by an Unconnected Send over a one-hop route.
 */
function fastRequest(b: Uint8Array, c: number, e: number): boolean {
  const S = REQUEST;
  S.reset();
  if (!head(b, c, e)) return false;
  if (hService === SERVICE.unconnectedSend && hClass === CLASS.connectionManager) {
    // Unconnected Send data (Vol 1 Table 3-5.20): priority/tick, timeout ticks, message size, the
    // message, a pad byte when its size is odd, route size in words, reserved, the route.
    const d = hData;
    if (d + 4 > e) return false;
    const m = d + 4;
    const me = m + u16(b, d + 2);
    const q = me + ((me - m) & 1);
    if (q + 2 > e) return false;
    // Exactly one port segment with a one-byte link address, ending the data.
    if (b[q] !== 1 || q + 4 !== e) return false;
    const port = b[q + 2]!;
    if (port > 14) return false;
    const link = b[q + 3]!;
    S.routed = true;
    S.unit = port === 1 ? link : -1;
    S.route = hopText(port, link);
    if (!head(b, m, me)) return false;
    return servicesOf(b, me, 1);
  }
  return servicesOf(b, e, 0);
}

/** The request whose head was just read, ending at `e`, at nesting `depth`: its services. */
function servicesOf(b: Uint8Array, e: number, depth: number): boolean {
  if (hService !== SERVICE.multipleServicePacket) return leaf(b, e);
  // Multiple Service Packet (Vol 1 § ): count, offsets from the count, the requests.
  const d = hData;
  const len = e - d;
  if (len < 2 || depth + 1 >= MAX_CIP_DEPTH) return false;
  const count = u16(b, d);
  if (count === 0 || count > MAX_MSP_SERVICES || 2 + 2 * count > len) return false;
  REQUEST.multiple = true;
  for (let i = 0; i < count; i++) {
    const start = u16(b, d + 2 + 2 * i);
    const end = i + 1 < count ? u16(b, d + 4 + 2 * i) : len;
    if (start < 2 + 2 * count || end > len || start >= end) return false;
    if (!head(b, d + start, d + end) || !leaf(b, d + end)) return false;
  }
  return true;
}

/**
 * Adds the request whose head was just read (ending at `e`) as one service, with the values of a
 * tag write, unless its detail needs the general path.
 */
function leaf(b: Uint8Array, e: number): boolean {
  const service = hService;
  const length = e - hData;
  let values: readonly number[] | null = null;
  if (service === SERVICE.multipleServicePacket) return false;
  if (hClass === CLASS.connectionManager) {
    if (
      service === SERVICE.unconnectedSend ||
      service === SERVICE.forwardOpen ||
      service === SERVICE.largeForwardOpen ||
      service === SERVICE.forwardClose
    )
      return false;
  } else if (hClass === CLASS.symbol || (hClass < 0 && hSymbolic)) {
    switch (service) {
      case SERVICE.readTag:
        if (length < 2) return false;
        break;
      case SERVICE.readTagFragmented:
        if (length < 6) return false;
        break;
      case SERVICE.writeTag:
      case SERVICE.writeTagFragmented: {
        // Type, structure handle of a structure, element count, offset when fragmented, values.
        let q = hData;
        if (q + 2 > e) return false;
        const dataType = u16(b, q);
        q += dataType === LOGIX_TYPE.struct ? 4 : 2;
        if (q + 2 > e) return false;
        const elements = u16(b, q);
        q += service === SERVICE.writeTagFragmented ? 6 : 2;
        if (q > e) return false;
        const written = atomicValues(dataType, b.subarray(q, e), elements);
        values = written.length > 0 ? written : null;
        break;
      }
      case SERVICE.readModifyWriteTag: {
        // Mask size, OR masks, AND masks.
        if (length < 2) return false;
        const size = u16(b, hData);
        if (size === 0 || length < 2 + 2 * size) return false;
        if (size <= 4) values = [leBytes(b, hData + 2 + size, size), leBytes(b, hData + 2, size)];
        break;
      }
      default:
        break;
    }
  }
  REQUEST.add(service, hClass, hInstance, hSymbolic, values);
  return true;
}

/**
 * Reads the service and path of a request `b[c, e)` into the `h…` fields. Paths of logical class,
 * instance, member, connection point and attribute segments and ANSI extended symbol segments only;
 * false for anything else, or a path the general decoder would call incomplete.
 */
function head(b: Uint8Array, c: number, e: number): boolean {
  if (c + 2 > e) return false;
  const sc = b[c]!;
  if (sc & RESPONSE_BIT) return false;
  const end = c + 2 + 2 * b[c + 1]!;
  if (end > e) return false;
  let classId = -1;
  let instance = -1;
  let symbolic = false;
  let p = c + 2;
  while (p < end) {
    const seg = b[p]!;
    if (seg === 0x91) {
      if (p + 2 > end) return false;
      const len = b[p + 1]!;
      const q = p + 2 + len;
      if (q > end) return false;
      // A name of NUL bytes only is no name (printable gives '').
      for (let i = p + 2; !symbolic && i < q; i++) if (b[i] !== 0) symbolic = true;
      p = q + (len & 1);
      continue;
    }
    if (seg < 0x20 || seg > 0x32) return false;
    const logical = (seg >> 2) & 7;
    const format = seg & 3;
    let value: number;
    if (format === 0) {
      if (p + 2 > end) return false;
      value = b[p + 1]!;
      p += 2;
    } else if (format === 1) {
      if (p + 4 > end) return false;
      value = u16(b, p + 2);
      p += 4;
    } else if (format === 2) {
      if (p + 6 > end) return false;
      value = u32(b, p + 2);
      p += 6;
    } else return false;
    if (logical === 0) {
      if (classId < 0) classId = value;
    } else if (logical === 1) {
      if (instance < 0) instance = value;
    }
  }
  if (p > end) return false;
  hService = sc;
  hClass = classId;
  hInstance = instance;
  hSymbolic = symbolic;
  hData = end;
  return true;
}

/**
 * Reads a CIP response `b[c, e)` into `RESPONSE`, with the replies of a Multiple Service Packet
 * response (each a plain response).
 */
function fastResponse(b: Uint8Array, c: number, e: number): boolean {
  if (c + 4 > e) return false;
  const d = c + 4 + 2 * b[c + 3]!;
  if (d > e) return false;
  const service = b[c]! & 0x7f;
  const R = RESPONSE;
  R.set(service, b[c + 2]!, b, d, e);
  const len = e - d;
  if (service !== SERVICE.multipleServicePacket || len < 2) return true;
  const count = u16(b, d);
  if (count > MAX_MSP_SERVICES || 2 + 2 * count > len) return false;
  for (let i = 0; i < count; i++) {
    const start = u16(b, d + 2 + 2 * i);
    const end = i + 1 < count ? u16(b, d + 4 + 2 * i) : len;
    if (start < 2 + 2 * count || end > len || start >= end) return false;
    const rc = d + start;
    const re = d + end;
    if (rc + 4 > re || (b[rc]! & RESPONSE_BIT) === 0) return false;
    const rd = rc + 4 + 2 * b[rc + 3]!;
    if (rd > re) return false;
    const rs = b[rc]! & 0x7f;
    if (rs === SERVICE.multipleServicePacket && re - rd >= 2) return false;
    R.addReply(rs, b[rc + 2]!, b, rd, re);
  }
  return true;
}

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
