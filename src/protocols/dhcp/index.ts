// DHCPv4 over UDP 67/68 as a datagram analyzer (RFC 2131 §3.1): client identity facts from
// requests, the address a server acknowledged (DHCPACK yiaddr), and oddities as anomalies.

import { createDatagramAnalyzer } from '../_core/datagram.ts';
import { defineProtocol, type AnalyzerContext, type AssetFact, type StreamAnalyzer } from '../_core/types.ts';
import { decodeDhcp, type DhcpMessage } from './decode.ts';

export { decodeDhcp, DHCP_MESSAGE_TYPES } from './decode.ts';
export type { DhcpClientId, DhcpMessage, DhcpMessageTypeName } from './decode.ts';

type DhcpFact = Extract<AssetFact, { kind: 'dhcp' }>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Message types a client sends (BOOTREQUEST) and a server sends (BOOTREPLY). */
const CLIENT_TYPES: ReadonlySet<number> = new Set([1, 3, 4, 7, 8]);
const SERVER_TYPES: ReadonlySet<number> = new Set([2, 5, 6, 9]);

/**
 * The asset fact a message carries, if any: what a client says about itself (hostname, vendor
 * class, parameter request list, requested address), or the address a DHCPACK assigns.
 */
export function dhcpFact(m: DhcpMessage): DhcpFact | undefined {
  if (m.clientMac === undefined || m.clientMac === 0) return undefined;
  const f: Mutable<DhcpFact> = { kind: 'dhcp', mac: m.clientMac };
  if (m.op === 1) {
    if (m.hostname) f.hostname = m.hostname;
    if (m.vendorClass) f.vendorClass = m.vendorClass;
    if (m.parameterRequestList) f.parameterRequestList = m.parameterRequestList;
    if (m.requestedIp) f.requestedIp = m.requestedIp;
  } else if (m.messageType === 5 && m.yiaddr !== '0.0.0.0') {
    f.assignedIp = m.yiaddr;
  }
  return Object.keys(f).length > 2 ? f : undefined;
}

/** Oddities of a valid message beyond what the decoder notes. */
export function dhcpAnomalies(m: DhcpMessage): string[] {
  const out: string[] = [];
  if (m.messageType === undefined) out.push('dhcp.no_message_type');
  else if (m.messageTypeName === 'unknown') out.push('dhcp.unknown_message_type');
  else if ((m.op === 1 && SERVER_TYPES.has(m.messageType)) || (m.op === 2 && CLIENT_TYPES.has(m.messageType))) {
    out.push('dhcp.op_type_mismatch');
  }
  if (m.clientMac === 0) out.push('dhcp.zero_chaddr');
  // A client identifier naming another MAC than chaddr: relays aside, a sign of spoofing or cloning.
  if (m.op === 1 && m.clientId?.mac !== undefined && m.clientMac !== undefined && m.clientId.mac !== m.clientMac) {
    out.push('dhcp.client_id_mismatch');
  }
  return out;
}

export function createDhcpAnalyzer(ctx: AnalyzerContext): StreamAnalyzer {
  return createDatagramAnalyzer(ctx, {
    decode: decodeDhcp,
    truncatedCode: 'dhcp.truncated',
    violationCode: 'dhcp.not_dhcp',
    onMessage(c, m) {
      for (const a of dhcpAnomalies(m)) c.anomaly(a);
      const f = dhcpFact(m);
      if (f) c.fact(f);
    },
  });
}

export const dhcpProtocol = defineProtocol({
  name: 'dhcp',
  transport: 'udp',
  ports: [67, 68],
  createAnalyzer: createDhcpAnalyzer,
});
