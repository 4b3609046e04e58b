// Per-flow S7comm-plus state: pairs requests and responses by sequence number, reports one operation
// per request and one per notification, follows fragmented frames (no trailer until the last
// fragment), and takes the order number and firmware from a CreateObject response.

import { LIMITS } from '../../core/limits.ts';
import type { AssetFact, Direction, OperationEvent } from '../_core/types.ts';
import { PendingTable } from '../_core/pending.ts';
import type { IsoLink, TsduHandler } from '../iso/types.ts';
import {
  NOTIFICATION_OPERATION,
  OPCODE,
  S7PLUS_PROTOCOL_ID,
  decodeS7PlusFrame,
  s7plusFunction,
  s7plusHasTrailer,
  sessionVersion,
} from './plus.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Transport flag set on requests that get no response (seen on every SetVariable that credits
 * notifications; "Bit6" in the Wireshark plugin).
 */
const NO_RESPONSE_EXPECTED = 0x40;

/** CreateObject: its response carries the server session's version string. */
const CREATE_OBJECT = 0x04ca;

interface Pending {
  readonly op: Mutable<OperationEvent>;
}

/** A TLS record header (content type 20–23, version 3.x): S7comm-plus V3 with TLS after InitSSL. */
function isTlsRecord(b: Uint8Array): boolean {
  return b.length >= 5 && b[0]! >= 0x14 && b[0]! <= 0x17 && b[1] === 0x03 && b[2]! <= 0x04;
}

/**
 * One S7comm-plus flow. Encrypted parts are not decoded: the V3 integrity digest is skipped (not
 * verified) and TLS records (TIA Portal V17+ secure communication) are passed over silently.
 *
 * Anomalies: `s7comm_plus.unmatched_response`, `s7comm_plus.unanswered_request`,
 * `s7comm_plus.response_mismatch`, `s7comm_plus.unknown_opcode`, and the decoder's codes.
 */
export class S7PlusSession implements TsduHandler {
  private readonly link: IsoLink;
  private readonly pending: PendingTable<Pending>;
  /** Per direction: inside a fragmented frame (its first fragment had no trailer). */
  private readonly fragmenting: [boolean, boolean] = [false, false];
  /** TSDUs passed over as TLS records. */
  encryptedTsdus = 0;

  constructor(link: IsoLink, maxPending: number = LIMITS.pendingRequestsPerFlow) {
    this.link = link;
    this.pending = new PendingTable(maxPending);
  }

  tsdu(dir: Direction, bytes: Uint8Array, ts: number): void {
    const ctx = this.link.ctx;
    if (bytes[0] !== S7PLUS_PROTOCOL_ID) {
      if (isTlsRecord(bytes)) this.encryptedTsdus++;
      else ctx.anomaly('s7comm_plus.bad_protocol_id');
      return;
    }
    if (this.fragmenting[dir]) {
      // An inner or last fragment: the data part continues the first fragment's.
      if (s7plusHasTrailer(bytes)) this.fragmenting[dir] = false;
      return;
    }
    const d = decodeS7PlusFrame(bytes);
    if (d.kind !== 'ok') {
      ctx.anomaly(d.kind === 'malformed' ? d.code : 's7comm_plus.truncated');
      return;
    }
    for (const a of d.anomalies) ctx.anomaly(a);
    if (d.anomalies.length === 0) this.link.decoded();
    const f = d.value;
    if (f.kind === 'keep_alive') return;
    if (!f.hasTrailer) this.fragmenting[dir] = true;
    switch (f.opcode) {
      case OPCODE.request: {
        ctx.pdu?.(dir, f.functionCode);
        const info = s7plusFunction(f.functionCode);
        const op: Mutable<OperationEvent> = {
          name: info.operation,
          protocol: 's7comm_plus',
          code: f.functionCode,
          access: info.access,
          tsMicros: ts,
          responded: false,
        };
        if ((f.transportFlags & NO_RESPONSE_EXPECTED) !== 0) {
          // Sent without waiting for a response (S7-1500 SetVariable acknowledging notifications).
          ctx.operation(op);
          break;
        }
        const displaced = this.pending.add(dir * 0x10000 + f.sequence, { op });
        if (displaced !== undefined) this.unanswered(displaced);
        break;
      }
      case OPCODE.response:
      case OPCODE.response2: {
        ctx.pdu?.(dir, f.functionCode);
        const p = this.pending.take((dir === 0 ? 0x10000 : 0) + f.sequence);
        if (p === undefined) {
          ctx.anomaly('s7comm_plus.unmatched_response');
          return;
        }
        const op = p.op;
        op.responded = true;
        if (op.code !== f.functionCode) ctx.anomaly('s7comm_plus.response_mismatch');
        if (f.returnCode < 0) op.exception = f.returnCode & 0xffff;
        else if (f.functionCode === CREATE_OBJECT) this.identity(dir, f.body);
        ctx.operation(op);
        this.link.answered();
        break;
      }
      case OPCODE.notification:
        // Values pushed by the PLC for a subscription: one read operation each, counted from the
        // server, with no response to wait for.
        ctx.operation({
          name: NOTIFICATION_OPERATION.operation,
          protocol: 's7comm_plus',
          code: OPCODE.notification,
          access: NOTIFICATION_OPERATION.access,
          tsMicros: ts,
          responded: false,
        });
        break;
      default:
        ctx.anomaly('s7comm_plus.unknown_opcode');
    }
  }

  gap(dir: Direction): void {
    this.fragmenting[dir] = false;
  }

  end(): void {
    for (let p = this.pending.takeOldest(); p !== undefined; p = this.pending.takeOldest()) this.unanswered(p);
  }

  private identity(side: Direction, body: Uint8Array): void {
    const v = sessionVersion(body);
    if (v === null) return;
    const fact: AssetFact = {
      kind: 'identity',
      side,
      protocol: 's7comm_plus',
      vendor: 'Siemens',
      productCode: v.productCode,
      firmware: v.firmware,
    };
    this.link.ctx.fact(fact);
  }

  private unanswered(p: Pending): void {
    this.link.ctx.anomaly('s7comm_plus.unanswered_request');
    this.link.ctx.operation(p.op);
  }
}
