// ARP for Ethernet/IPv4 (RFC 826), with gratuitous ARP (RFC 5227 §3 "ARP Announcement") and
// ARP probes (RFC 5227 §2.1.1: sender IP 0.0.0.0) marked. Input: the payload after ethertype 0x0806.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith } from '../../core/reader.ts';
import { formatIpv4, ipv4FromBytes, macFromBytes } from '../../core/text.ts';

export const ARP_OPERATIONS = {
  1: 'request',
  2: 'reply',
  3: 'rarp_request',
  4: 'rarp_reply',
  8: 'inarp_request',
  9: 'inarp_reply',
} as const;

export type ArpOperation = (typeof ARP_OPERATIONS)[keyof typeof ARP_OPERATIONS] | 'unknown';

export interface ArpPacket {
  /** Raw opcode beside its name. */
  readonly opcode: number;
  readonly operation: ArpOperation;
  /** 48-bit MACs as numbers (see `macFromBytes`); IPs in dotted text. */
  readonly senderMac: number;
  readonly senderIp: string;
  readonly targetMac: number;
  readonly targetIp: string;
  /** Sender announces its own address: sender IP = target IP (request or reply), not a probe. */
  readonly gratuitous: boolean;
  /** Address-conflict probe: a request with sender IP 0.0.0.0. */
  readonly probe: boolean;
}

const ARP_LENGTH = 28;

/**
 * Decodes an Ethernet/IPv4 ARP packet. Other hardware or protocol types are `malformed`
 * with code `arp.unsupported` (they carry no addresses we could report).
 */
export function decodeArp(bytes: Uint8Array): Decoded<ArpPacket> {
  return decodeWith(bytes, 'arp.truncated', (r) => {
    const htype = r.u16();
    const ptype = r.u16();
    const hlen = r.u8();
    const plen = r.u8();
    if (htype !== 1 || ptype !== 0x0800) return malformed('arp.unsupported', 0);
    if (hlen !== 6 || plen !== 4) return malformed('arp.bad_address_length', 4);
    const opcode = r.u16();
    r.need(20);
    const b = r.bytes;
    const at = r.pos;
    r.skip(20);
    const senderIpNum = ipv4FromBytes(b, at + 6);
    const targetIpNum = ipv4FromBytes(b, at + 16);
    const targetMac = macFromBytes(b, at + 10);
    const senderMac = macFromBytes(b, at);
    const operation = (ARP_OPERATIONS as Readonly<Record<number, ArpOperation>>)[opcode] ?? 'unknown';
    const anomalies: string[] = [];
    if (operation === 'unknown') anomalies.push('arp.unknown_opcode');
    // I/G bit of the first octet: a group address can never be a sender's own.
    if (b[at]! & 1) anomalies.push('arp.multicast_sender_mac');
    const probe = opcode === 1 && senderIpNum === 0;
    const gratuitous = !probe && senderIpNum !== 0 && senderIpNum === targetIpNum && (opcode === 1 || opcode === 2);
    return ok(
      {
        opcode,
        operation,
        senderMac,
        senderIp: formatIpv4(senderIpNum),
        targetMac,
        targetIp: formatIpv4(targetIpNum),
        gratuitous,
        probe,
      },
      ARP_LENGTH,
      anomalies,
    );
  });
}
