// DHCPv4 messages: the BOOTP header (RFC 2131 §2, fig. 1), the magic cookie and the options that
// identify a client (RFC 2132 §3.14, §3.17, §9.1, §9.6, §9.7, §9.13, §9.14; RFC 4702 for option 81).

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith } from '../../core/reader.ts';
import { formatIpv4, hex, ipv4FromBytes, macFromBytes, printable } from '../../core/text.ts';
import { nameText, readNameLabels } from '../dns/name.ts';

export const DHCP_MESSAGE_TYPES = {
  1: 'discover',
  2: 'offer',
  3: 'request',
  4: 'decline',
  5: 'ack',
  6: 'nak',
  7: 'release',
  8: 'inform',
  9: 'force_renew',
  10: 'lease_query',
  11: 'lease_unassigned',
  12: 'lease_unknown',
  13: 'lease_active',
  14: 'bulk_lease_query',
  15: 'lease_query_done',
  16: 'active_lease_query',
  17: 'lease_query_status',
  18: 'tls',
} as const;

export type DhcpMessageTypeName = (typeof DHCP_MESSAGE_TYPES)[keyof typeof DHCP_MESSAGE_TYPES] | 'bootp' | 'unknown';

/** Option codes recorded in `optionCodes`, in order; past this they are counted only. */
export const MAX_DHCP_OPTION_CODES = 64;

export interface DhcpClientId {
  /** Hardware type byte (1 = Ethernet, 0 = opaque, 255 = RFC 4361 DUID). */
  readonly type: number;
  /** Everything after the type byte, in hex. */
  readonly value: string;
  /** Set for type 1 with six bytes: the MAC the client names itself by. */
  readonly mac?: number;
}

export interface DhcpMessage {
  /** 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server). */
  readonly op: 1 | 2;
  readonly htype: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly broadcast: boolean;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** chaddr as a 48-bit MAC when htype is Ethernet (1) with hlen 6. */
  readonly clientMac?: number;
  /** Option 53, raw and named; `bootp` when absent. */
  readonly messageType?: number;
  readonly messageTypeName: DhcpMessageTypeName;
  /** Option codes in the order sent (fingerprinting), at most MAX_DHCP_OPTION_CODES. */
  readonly optionCodes: readonly number[];
  readonly hostname?: string;
  readonly requestedIp?: string;
  readonly leaseTime?: number;
  readonly serverId?: string;
  readonly parameterRequestList?: readonly number[];
  readonly vendorClass?: string;
  readonly clientId?: DhcpClientId;
  readonly domainName?: string;
  /** Option 81: the client's fully qualified name. */
  readonly fqdn?: string;
}

const MAGIC_COOKIE = 0x63825363;
const FIXED_HEADER = 236;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function note(anomalies: string[], code: string): void {
  if (!anomalies.includes(code)) anomalies.push(code);
}

function text(b: Uint8Array): string {
  return printable(b, 255).trim();
}

/** Option 81 (RFC 4702 §2): flags, two obsolete rcodes, then the name, wire format if E is set. */
function fqdnName(v: Uint8Array): string | undefined {
  if (v.length < 3) return undefined;
  const name = v.subarray(3);
  if ((v[0]! & 0x04) === 0) return text(name) || undefined;
  const res = readNameLabels(name, 0);
  // A partial name (no root label) is allowed: take the labels read before the end.
  if (res.ok) return res.labels.length > 0 ? nameText(res.labels) : undefined;
  const labels: Uint8Array[] = [];
  let p = 0;
  while (p < name.length) {
    const len = name[p]!;
    if (len === 0 || len > 63 || p + 1 + len > name.length) break;
    labels.push(name.subarray(p + 1, p + 1 + len));
    p += 1 + len;
  }
  return labels.length > 0 ? nameText(labels) : undefined;
}

/** Decodes one DHCPv4 message (the UDP payload). */
export function decodeDhcp(bytes: Uint8Array): Decoded<DhcpMessage> {
  return decodeWith(bytes, 'dhcp.truncated', (r) => {
    const op = r.u8();
    if (op !== 1 && op !== 2) return malformed('dhcp.bad_op', 0);
    const htype = r.u8();
    const hlen = r.u8();
    const hops = r.u8();
    const xid = r.u32();
    const secs = r.u16();
    const flags = r.u16();
    r.need(FIXED_HEADER - 12);
    const b = r.bytes;
    const ciaddr = formatIpv4(ipv4FromBytes(b, 12));
    const yiaddr = formatIpv4(ipv4FromBytes(b, 16));
    const siaddr = formatIpv4(ipv4FromBytes(b, 20));
    const giaddr = formatIpv4(ipv4FromBytes(b, 24));
    const anomalies: string[] = [];
    const m: Mutable<DhcpMessage> = {
      op,
      htype,
      hops,
      xid,
      secs,
      broadcast: (flags & 0x8000) !== 0,
      ciaddr,
      yiaddr,
      siaddr,
      giaddr,
      messageTypeName: 'bootp',
      optionCodes: [],
    };
    if (htype === 1 && hlen === 6) m.clientMac = macFromBytes(b, 28);
    else anomalies.push('dhcp.not_ethernet');
    r.pos = FIXED_HEADER;
    if (r.u32() !== MAGIC_COOKIE) return malformed('dhcp.bad_magic_cookie', FIXED_HEADER);

    const codes: number[] = [];
    const seen = new Set<number>();
    let ended = false;
    while (r.remaining > 0) {
      const code = r.u8();
      if (code === 0) continue;
      if (code === 255) {
        ended = true;
        break;
      }
      if (r.remaining < 1 || r.bytes[r.pos]! > r.remaining - 1) {
        anomalies.push('dhcp.truncated_option');
        r.pos = r.end;
        break;
      }
      const v = r.take(r.u8());
      if (codes.length < MAX_DHCP_OPTION_CODES) codes.push(code);
      // RFC 3396 splits long options into repeats; rare on the wire, the first one is kept.
      if (seen.has(code)) {
        note(anomalies, 'dhcp.repeated_option');
        continue;
      }
      seen.add(code);
      switch (code) {
        case 53:
          if (v.length !== 1) note(anomalies, 'dhcp.bad_option_length');
          else {
            m.messageType = v[0]!;
            m.messageTypeName =
              (DHCP_MESSAGE_TYPES as Readonly<Record<number, DhcpMessageTypeName>>)[v[0]!] ?? 'unknown';
          }
          break;
        case 12:
          m.hostname = text(v);
          break;
        case 15:
          m.domainName = text(v);
          break;
        case 50:
        case 54:
          if (v.length !== 4) note(anomalies, 'dhcp.bad_option_length');
          else if (code === 50) m.requestedIp = formatIpv4(ipv4FromBytes(v, 0));
          else m.serverId = formatIpv4(ipv4FromBytes(v, 0));
          break;
        case 51:
          if (v.length !== 4) note(anomalies, 'dhcp.bad_option_length');
          else m.leaseTime = ipv4FromBytes(v, 0);
          break;
        case 55:
          m.parameterRequestList = Array.from(v);
          break;
        case 60:
          m.vendorClass = text(v);
          break;
        case 61:
          if (v.length < 2) note(anomalies, 'dhcp.bad_option_length');
          else {
            const id: Mutable<DhcpClientId> = { type: v[0]!, value: hex(v.subarray(1, 65)) };
            if (v[0] === 1 && v.length === 7) id.mac = macFromBytes(v, 1);
            m.clientId = id;
          }
          break;
        case 81: {
          const name = fqdnName(v);
          if (name !== undefined) m.fqdn = name;
          break;
        }
        default:
          break;
      }
    }
    if (!ended) anomalies.push('dhcp.missing_end');
    m.optionCodes = codes;
    return ok(m, r.pos, anomalies);
  });
}
