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
import { BACNET_PORTS } from './constants.ts';
import { decodeBacnet, decodeBacnetEthernet, type BacnetMessage } from './decode.ts';
import type { Decoded } from '../../core/decoded.ts';
import { BacnetTransactions } from './state.ts';

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

  /** `decode` reads one datagram: BACnet/IP (BVLL) by default, or a BACnet/Ethernet LLC frame. */
  constructor(
    ctx: AnalyzerContext,
    maxPending?: number,
    decode: (bytes: Uint8Array) => Decoded<BacnetMessage> = decodeBacnet,
  ) {
    this.ctx = ctx;
    this.decode = decode;
    this.transactions = new BacnetTransactions(ctx, maxPending);
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    if (this.detached) return;
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
