// MMS PDU decoder (ISO 9506-2 §7, BER): the MMSpdu choice, invokeID, the service tag of confirmed
// and unconfirmed PDUs with its contents as a view, errors and rejects; plus readers for the service
// details the analyzer reports (variable access specifications, Data values, access results,
// Identify and GetNameList).

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { printable } from '../../core/text.ts';
import { BER_CLASS, MAX_BER_DEPTH, Tlv, berInt, berUint, countChildren, findChild } from './ber.ts';
import { PDU, PDU_KINDS, type MmsPduKind } from './constants.ts';

export interface MmsPdu {
  readonly kind: MmsPduKind;
  /** Confirmed, cancel and reject PDUs (when present), else -1. */
  readonly invokeId: number;
  /** Service tag of confirmed request/response and unconfirmed PDUs, else -1. */
  readonly service: number;
  /** Contents of the service element (a view; empty when absent). */
  readonly body: Uint8Array;
  /** Confirmed/cancel/initiate/conclude errors: the ServiceError class (choice tag) and code, else -1. */
  readonly errorClass: number;
  readonly errorCode: number;
  /** Reject: the rejectReason choice tag and code, else -1. */
  readonly rejectType: number;
  readonly rejectCode: number;
}

const t = new Tlv();
const c = new Tlv();
const EMPTY = new Uint8Array(0);

function pdu(
  kind: MmsPduKind,
  invokeId = -1,
  service = -1,
  body: Uint8Array = EMPTY,
  errorClass = -1,
  errorCode = -1,
  rejectType = -1,
  rejectCode = -1,
): MmsPdu {
  return { kind, invokeId, service, body, errorClass, errorCode, rejectType, rejectCode };
}

/**
 * Decodes one MMS PDU. Malformed codes: `mms.truncated` (BER lengths that do not fit),
 * `mms.bad_pdu` (not an MMSpdu choice), `mms.bad_invoke_id`, `mms.missing_service`.
 */
export function decodeMmsPdu(b: Uint8Array): Decoded<MmsPdu> {
  if (!t.read(b, 0, b.length)) return malformed('mms.truncated', 0);
  if (t.cls !== BER_CLASS.context || t.tag > PDU.concludeError) return malformed('mms.bad_pdu', 0);
  const kind = PDU_KINDS[t.tag]!;
  const consumed = t.next;
  const start = t.start;
  const end = t.end;
  const anomalies = consumed < b.length && !t.indefinite ? ['mms.trailing_bytes'] : [];
  switch (t.tag) {
    case PDU.confirmedRequest:
    case PDU.confirmedResponse: {
      // invokeID, [listOfModifier (requests)], service, [service-ext [79]].
      if (!c.read(b, start, end) || !c.is(BER_CLASS.universal, 2)) return malformed('mms.bad_invoke_id', start);
      const invokeId = berUint(b, c.start, c.end);
      if (Number.isNaN(invokeId)) return malformed('mms.bad_invoke_id', start);
      let pos = c.next;
      if (pos < end && c.read(b, pos, end) && c.is(BER_CLASS.universal, 16)) pos = c.next;
      if (pos >= end) {
        // A response without its service (seen from test servers): tshark shows no service either.
        return ok(pdu(kind, invokeId), consumed, [...anomalies, 'mms.missing_service']);
      }
      if (!c.read(b, pos, end) || c.cls !== BER_CLASS.context) return malformed('mms.truncated', pos);
      return ok(pdu(kind, invokeId, c.tag, b.subarray(c.start, c.end)), consumed, anomalies);
    }
    case PDU.unconfirmed: {
      if (!c.read(b, start, end) || c.cls !== BER_CLASS.context) return malformed('mms.missing_service', start);
      return ok(pdu(kind, -1, c.tag, b.subarray(c.start, c.end)), consumed, anomalies);
    }
    case PDU.confirmedError: {
      // invokeID [0], modifierPosition [1] OPTIONAL, serviceError [2].
      let invokeId = -1;
      if (findChild(b, start, end, BER_CLASS.context, 0, c)) invokeId = berUint(b, c.start, c.end);
      if (Number.isNaN(invokeId)) return malformed('mms.bad_invoke_id', start);
      const [cls, code] = findChild(b, start, end, BER_CLASS.context, 2, c)
        ? serviceError(b, c.start, c.end)
        : [-1, -1];
      return ok(pdu(kind, invokeId, -1, EMPTY, cls, code), consumed, anomalies);
    }
    case PDU.reject: {
      // originalInvokeID [0] OPTIONAL, rejectReason (a [1]..[11] INTEGER).
      let invokeId = -1;
      let type = -1;
      let code = -1;
      let pos = start;
      for (let i = 0; i < 3 && pos < end && c.read(b, pos, end); i++) {
        if (c.cls === BER_CLASS.context && c.tag === 0) invokeId = berUint(b, c.start, c.end);
        else if (c.cls === BER_CLASS.context) {
          type = c.tag;
          code = berInt(b, c.start, c.end);
        }
        pos = c.next;
      }
      return ok(pdu(kind, Number.isNaN(invokeId) ? -1 : invokeId, -1, EMPTY, -1, -1, type, code), consumed, anomalies);
    }
    case PDU.cancelRequest:
    case PDU.cancelResponse: {
      const invokeId = berUint(b, start, end);
      if (Number.isNaN(invokeId)) return malformed('mms.bad_invoke_id', start);
      return ok(pdu(kind, invokeId), consumed, anomalies);
    }
    case PDU.cancelError: {
      let invokeId = -1;
      if (findChild(b, start, end, BER_CLASS.context, 0, c)) invokeId = berUint(b, c.start, c.end);
      const [cls, code] = findChild(b, start, end, BER_CLASS.context, 1, c)
        ? serviceError(b, c.start, c.end)
        : [-1, -1];
      return ok(pdu(kind, Number.isNaN(invokeId) ? -1 : invokeId, -1, EMPTY, cls, code), consumed, anomalies);
    }
    case PDU.initiateError:
    case PDU.concludeError: {
      const [cls, code] = serviceError(b, start, end);
      return ok(pdu(kind, -1, -1, EMPTY, cls, code), consumed, anomalies);
    }
    default:
      // initiate request/response (parameters not reported), conclude request/response (NULL).
      return ok(pdu(kind, -1, -1, b.subarray(start, end)), consumed, anomalies);
  }
}

/** ServiceError contents: errorClass [0] { [class] INTEGER }; [-1, -1] when unreadable. */
function serviceError(b: Uint8Array, start: number, end: number): [number, number] {
  const e = new Tlv();
  if (!findChild(b, start, end, BER_CLASS.context, 0, e)) return [-1, -1];
  if (!e.read(b, e.start, e.end) || e.cls !== BER_CLASS.context) return [-1, -1];
  const code = berInt(b, e.start, e.end);
  return [e.tag, Number.isNaN(code) ? -1 : code];
}

/** What a VariableAccessSpecification names: how many variables, a named list, control objects. */
export interface VariableAccess {
  /** Variables listed (1 for a named variable list). */
  readonly count: number;
  readonly listName: boolean;
  /** Some variable is an IEC 61850 control object (`$CO$` in its item name). */
  readonly control: boolean;
}

/** Variables counted per request (MMS PDUs are bounded by the TSDU; this bounds the loop). */
const MAX_VARIABLES = 4096;

/** The VariableAccessSpecification element at `pos` (listOfVariable [0] or variableListName [1]). */
export function variableAccess(b: Uint8Array, pos: number, end: number): VariableAccess | null {
  const v = new Tlv();
  if (!v.read(b, pos, end) || v.cls !== BER_CLASS.context) return null;
  if (v.tag === 1) return { count: 1, listName: true, control: false };
  if (v.tag !== 0) return null;
  const item = new Tlv();
  let p = v.start;
  let count = 0;
  let control = false;
  while (p < v.end && count < MAX_VARIABLES) {
    if (!item.read(b, p, v.end) || item.isEndOfContents) break;
    count++;
    if (!control && hasControlMarker(b, item.start, item.end)) control = true;
    p = item.next;
  }
  return { count, listName: false, control };
}

/** `$CO$` in the bytes (the item name of a control object). */
function hasControlMarker(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i + 3 < end; i++) {
    if (b[i] === 0x24 && b[i + 1] === 0x43 && b[i + 2] === 0x4f && b[i + 3] === 0x24) return true;
  }
  return false;
}

/** Read-Request: specificationWithResult [0] OPTIONAL, variableAccessSpecification [1]. */
export function readRequest(body: Uint8Array): VariableAccess | null {
  const w = new Tlv();
  if (!findChild(body, 0, body.length, BER_CLASS.context, 1, w)) return null;
  return variableAccess(body, w.start, w.end);
}

/** Write-Request: variableAccessSpecification, listOfData [0]; numeric values collected into `values`. */
export function writeRequest(body: Uint8Array, values: number[], maxValues: number): VariableAccess | null {
  const access = variableAccess(body, 0, body.length);
  const v = new Tlv();
  if (access === null || !v.read(body, 0, body.length)) return access;
  const d = new Tlv();
  if (v.next < body.length && d.read(body, v.next, body.length) && d.is(BER_CLASS.context, 0)) {
    dataValues(body, d.start, d.end, values, maxValues, 0);
  }
  return access;
}

/**
 * Numbers in a sequence of Data (§14.4.2): boolean [3], integer [5], unsigned [6],
 * floating-point [7]; arrays [1] and structures [2] are walked.
 */
export function dataValues(b: Uint8Array, start: number, end: number, out: number[], max: number, depth: number): void {
  const d = new Tlv();
  let p = start;
  while (p < end && out.length < max) {
    if (!d.read(b, p, end) || d.isEndOfContents) return;
    p = d.next;
    if (d.cls !== BER_CLASS.context) continue;
    const n = d.end - d.start;
    switch (d.tag) {
      case 1:
      case 2:
        if (depth < MAX_BER_DEPTH) dataValues(b, d.start, d.end, out, max, depth + 1);
        break;
      case 3:
        if (n === 1) out.push(b[d.start] === 0 ? 0 : 1);
        break;
      case 5: {
        const v = berInt(b, d.start, d.end);
        if (!Number.isNaN(v)) out.push(v);
        break;
      }
      case 6: {
        const v = berUint(b, d.start, d.end);
        if (!Number.isNaN(v)) out.push(v);
        break;
      }
      case 7:
        // Exponent width octet, then an IEEE 754 single (5 octets) or double (9 octets).
        if (n === 5 || n === 9) {
          const view = new DataView(b.buffer, b.byteOffset + d.start + 1, n - 1);
          out.push(n === 5 ? view.getFloat32(0) : view.getFloat64(0));
        }
        break;
      default:
        break;
    }
  }
}

/** Access results of a Read-Response / InformationReport / Write-Response. */
export interface AccessResults {
  readonly count: number;
  readonly failures: number;
  /** DataAccessError of the first failure, or -1. */
  readonly firstFailure: number;
}

/** A SEQUENCE OF AccessResult in `[start, end)`: failure [0] IMPLICIT INTEGER, else success. */
export function accessResults(b: Uint8Array, start: number, end: number): AccessResults {
  const r = new Tlv();
  let p = start;
  let count = 0;
  let failures = 0;
  let firstFailure = -1;
  while (p < end && count < MAX_VARIABLES) {
    if (!r.read(b, p, end) || r.isEndOfContents) break;
    count++;
    if (r.cls === BER_CLASS.context && r.tag === 0 && !r.constructed) {
      failures++;
      if (firstFailure < 0) firstFailure = berInt(b, r.start, r.end);
    }
    p = r.next;
  }
  return { count, failures, firstFailure: Number.isNaN(firstFailure) ? -1 : firstFailure };
}

/** Read-Response: variableAccessSpecification [0] OPTIONAL, listOfAccessResult [1]. */
export function readResponse(body: Uint8Array): AccessResults | null {
  const l = new Tlv();
  if (!findChild(body, 0, body.length, BER_CLASS.context, 1, l)) return null;
  return accessResults(body, l.start, l.end);
}

/** Write-Response: SEQUENCE OF CHOICE { failure [0], success [1] NULL } (the body itself). */
export function writeResponse(body: Uint8Array): AccessResults {
  return accessResults(body, 0, body.length);
}

/** InformationReport: variableAccessSpecification, listOfAccessResult [0]. */
export function informationReport(body: Uint8Array): { access: VariableAccess | null; results: AccessResults | null } {
  const access = variableAccess(body, 0, body.length);
  const v = new Tlv();
  if (!v.read(body, 0, body.length)) return { access, results: null };
  const l = new Tlv();
  if (v.next >= body.length || !l.read(body, v.next, body.length) || !l.is(BER_CLASS.context, 0)) {
    return { access, results: null };
  }
  return { access, results: accessResults(body, l.start, l.end) };
}

/** Identify-Response: vendorName [0], modelName [1], revision [2] (VisibleString). */
export function identifyResponse(body: Uint8Array): { vendor: string; model: string; revision: string } | null {
  const f = new Tlv();
  const out = ['', '', ''];
  let p = 0;
  for (let i = 0; i < 4 && p < body.length; i++) {
    if (!f.read(body, p, body.length)) break;
    if (f.cls === BER_CLASS.context && f.tag <= 2 && !f.constructed) {
      out[f.tag] = printable(body.subarray(f.start, f.end), 128).trim();
    }
    p = f.next;
  }
  if (out.every((s) => s === '')) return null;
  return { vendor: out[0]!, model: out[1]!, revision: out[2]! };
}

/** GetNameList-Request: objectClass [0] { basicObjectClass [0] INTEGER }; the class, or -1. */
export function getNameListClass(body: Uint8Array): number {
  const o = new Tlv();
  if (!findChild(body, 0, body.length, BER_CLASS.context, 0, o)) return -1;
  const k = new Tlv();
  if (!k.read(body, o.start, o.end) || !k.is(BER_CLASS.context, 0)) return -1;
  const v = berInt(body, k.start, k.end);
  return Number.isNaN(v) ? -1 : v;
}

/** GetNameList-Response: listOfIdentifier [0]; the number of names, or -1. */
export function getNameListCount(body: Uint8Array): number {
  const l = new Tlv();
  if (!findChild(body, 0, body.length, BER_CLASS.context, 0, l)) return -1;
  return countChildren(body, l.start, l.end, MAX_VARIABLES, new Tlv());
}
