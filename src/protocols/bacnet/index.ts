// BACnet/IP analyzer and its registration (ANSI/ASHRAE 135-2020 Annex J, UDP 47808 and 47809):
// decodes each datagram, traces its service code, and hands it to the per-flow pairing state.

import { LLC_SAP_BASE } from '../ethertypes.ts';
import {
  defineL2Protocol,
  defineProtocol,
  type AnalyzerContext,
  type Direction,
  type StreamAnalyzer,
} from '../_core/types.ts';
import { BACNET_PORTS, CONFIRMED, OBJECT_TYPE } from './constants.ts';
import { decodeBacnet, decodeBacnetEthernet, type BacnetMessage } from './decode.ts';
import type { Decoded } from '../../core/decoded.ts';
import { BacnetTransactions, networkAddress } from './state.ts';

export { decodeBacnet } from './decode.ts';
export type { Apdu, BacnetMessage, BacnetValue, Npdu, ServiceAck, ServiceRequest } from './decode.ts';

/** Codes reported to `ctx.pdu` for unconfirmed services, above the confirmed service numbers. */
export const UNCONFIRMED_PDU_BASE = 0x100;

/**
 * One BACnet/IP conversation (UDP; both ends are often port 47808, so the first sender is the
 * client). Before the flow is confirmed a datagram that is not a BVLL violates the protocol
 * (`bacnet.not_bacnet`); afterwards it is an anomaly. The first valid datagram confirms the flow
 * (broadcast Who-Is/I-Am flows never see an exchange). `ctx.pdu` gets, per APDU that names a
 * service, the confirmed service number (requests, SimpleACK, ComplexACK, Error) or 0x100 + the
 * unconfirmed service number (tshark's `bacapp.confirmed_service` / `bacapp.unconfirmed_service`).
 */
export class BacnetAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private readonly transactions: BacnetTransactions;
  private confirmed = false;
  private detached = false;

  private readonly decode: (bytes: Uint8Array) => Decoded<BacnetMessage>;
  /** Whether BACnet/IP ReadProperty exchanges take `fastReadProperty` (off to test it). */
  private readonly fastPath: boolean;

  /** `decode` reads one datagram: BACnet/IP (BVLL) by default, or a BACnet/Ethernet LLC frame. */
  constructor(
    ctx: AnalyzerContext,
    maxPending?: number,
    decode: (bytes: Uint8Array) => Decoded<BacnetMessage> = decodeBacnet,
    fastPath = decode === decodeBacnet,
  ) {
    this.ctx = ctx;
    this.decode = decode;
    this.fastPath = fastPath;
    this.transactions = new BacnetTransactions(ctx, maxPending);
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
    if (this.fastPath && this.fastReadProperty(dir, bytes, tsMicros)) return;
    const d = this.decode(bytes);
    if (d.kind !== 'ok') {
      const code = d.kind === 'malformed' ? d.code : 'bacnet.truncated';
      if (this.confirmed) this.ctx.anomaly(code);
      else {
        this.detached = true;
        this.ctx.violate('bacnet.not_bacnet');
      }
      return;
    }
    const m = d.value;
    const apdu = m.npdu?.apdu ?? null;
    const trace = this.ctx.pdu;
    if (trace !== undefined && apdu !== null) {
      switch (apdu.kind) {
        case 'confirmed_request':
        case 'simple_ack':
        case 'complex_ack':
        case 'error':
          trace(dir, apdu.service);
          break;
        case 'unconfirmed_request':
          trace(dir, UNCONFIRMED_PDU_BASE + apdu.service);
          break;
        case 'segment_ack':
        case 'reject':
        case 'abort':
          break;
      }
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    this.transactions.message(m, dir, tsMicros);
  }

  /**
   * ReadProperty of one property and its ComplexACK with one primitive value, in an
   * Original-Unicast/Broadcast-NPDU (local or routed: network specifiers allowed, nothing after
   * the service data): most of the traffic of a building automation poller. Handled as the general
   * path handles them, without the decoded records; an ACK about a device object (identity) takes
   * the general path. False: the general path must take the datagram.
   */
  private fastReadProperty(dir: Direction, b: Uint8Array, ts: number): boolean {
    const n = b.length;
    if (n < 17 || b[0] !== 0x81 || (b[1] !== 0x0a && b[1] !== 0x0b) || ((b[2]! << 8) | b[3]!) !== n) return false;
    // NPDU version 1; control: no network message or reserved bits.
    const control = b[5]!;
    if (b[4] !== 1 || (control & 0xd0) !== 0) return false;
    let a = 6;
    let dnet = -1;
    let dadr = 0;
    let dlen = 0;
    let snet = -1;
    let sadr = 0;
    let slen = 0;
    if ((control & 0x20) !== 0) {
      if (a + 3 > n) return false;
      dnet = (b[a]! << 8) | b[a + 1]!;
      dlen = b[a + 2]!;
      dadr = a + 3;
      a = dadr + dlen;
    }
    if ((control & 0x08) !== 0) {
      if (a + 3 > n) return false;
      snet = (b[a]! << 8) | b[a + 1]!;
      slen = b[a + 2]!;
      if (slen === 0) return false;
      sadr = a + 3;
      a = sadr + slen;
    }
    if ((control & 0x20) !== 0) a++; // hop count
    const b0 = b[a]!;
    if ((b0 & 0xf8) === 0x00) {
      // Confirmed request, not segmented: ReadProperty with [0] object id and [1] property only.
      if (a + 11 > n || b[a + 3] !== CONFIRMED.readProperty || b[a + 4] !== 0x0c) return false;
      const tag = b[a + 9]!;
      const lvt = tag & 0x07;
      if ((tag & 0xf8) !== 0x18 || lvt === 0 || lvt > 4 || a + 10 + lvt !== n) return false;
      const id = ((b[a + 5]! << 24) | (b[a + 6]! << 16) | (b[a + 7]! << 8) | b[a + 8]!) >>> 0;
      this.ctx.pdu?.(dir, CONFIRMED.readProperty);
      this.confirm();
      // The request's destination specifier names the target device.
      const peer = dnet < 0 ? '' : networkAddress(dnet, b, dadr, dlen);
      this.transactions.readPropertyRequest(dir, b[a + 2]!, id >>> 22, id & 0x3fffff, peer, ts);
      return true;
    }
    if (a + 13 > n || (b0 & 0xf8) !== 0x30 || b[a + 2] !== CONFIRMED.readProperty || b[a + 3] !== 0x0c) return false;
    // ComplexACK, not segmented: [0] object id, [1] property, [3] one application value.
    if (((b[a + 4]! << 2) | (b[a + 5]! >> 6)) === OBJECT_TYPE.device) return false;
    const lvt = b[a + 8]! & 0x07;
    if ((b[a + 8]! & 0xf8) !== 0x18 || lvt === 0 || lvt > 4) return false;
    let p = a + 9 + lvt;
    if (p + 3 > n || b[p] !== 0x3e) return false;
    const t = b[p + 1]!;
    const tag = t >> 4;
    const len = t & 0x07;
    // Null, boolean, unsigned, signed, real, enumerated, of their usual lengths.
    if ((t & 0x08) !== 0) return false;
    if (t === 0x00 || t === 0x10 || t === 0x11) p += 2;
    else if (((tag === 2 || tag === 3 || tag === 9) && len >= 1 && len <= 4) || (tag === 4 && len === 4)) p += 2 + len;
    else return false;
    if (p + 1 !== n || b[p] !== 0x3f) return false;
    this.ctx.pdu?.(dir, CONFIRMED.readProperty);
    this.confirm();
    // The reply's source specifier names the device that answered.
    this.transactions.readPropertyAck(dir, b[a + 1]!, snet < 0 ? '' : networkAddress(snet, b, sadr, slen));
    return true;
  }

  private confirm(): void {
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
  }

  gap(): void {
    // Datagrams: nothing to resynchronise.
  }

  end(): void {
    if (this.detached) return;
    this.transactions.flush();
  }
}

/** A BACnet/IP BVLL: type 0x81, a known function, and a length that is the datagram's. */
function probe(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x81 && bytes[1]! <= 0x0c && ((bytes[2]! << 8) | bytes[3]!) === bytes.length;
}

export const bacnetProtocol = defineProtocol({
  name: 'bacnet',
  transport: 'udp',
  ports: BACNET_PORTS,
  probe,
  createAnalyzer: (ctx) => new BacnetAnalyzer(ctx),
});

export const bacnetEthernetProtocol = defineL2Protocol({
  name: 'bacnet',
  etherTypes: [LLC_SAP_BASE + 0x82],
  // BACnet/Ethernet (ASHRAE 135 clause 7, LLC SAP 0x82): the same analyzer over the NPDU.
  createAnalyzer: (ctx) => new BacnetAnalyzer(ctx, undefined, decodeBacnetEthernet),
});
