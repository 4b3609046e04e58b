// L2–L4 decoding into a reusable PacketView: Ethernet II / 802.3 (IEEE 802.3 cl. 3), 802.1Q and
// QinQ (IEEE 802.1Q), Linux cooked v1/v2, raw IP, BSD null/loopback; IPv4 (RFC 791), IPv6 with
// extension headers (RFC 8200), TCP (RFC 9293), UDP (RFC 768), ICMP/ICMPv6 type and code.
// Every read is checked against the frame end; a short frame sets status `malformed` and a code.

import { FRAME, LINKTYPE, type PacketView } from './packet.ts';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
/** Bound on stacked VLAN tags and IPv6 extension headers, against crafted loops. */
const MAX_TAGS = 4;
const MAX_EXT_HEADERS = 8;
/** IP-in-IP nesting followed before giving up (IPv4/IPv6 in IPv4/IPv6, RFC 2003 / RFC 4213). */
const MAX_TUNNEL_DEPTH = 2;

function bad(p: PacketView, code: string): void {
  p.status = FRAME.malformed;
  p.anomaly = code;
}

/**
 * Decodes the frame `b[off, off+len)` of the given link type into `p` (which is reset first).
 * Never throws for any bytes.
 */
export function decodeFrame(b: Uint8Array, off: number, len: number, linkType: number, p: PacketView): void {
  p.reset();
  const end = off + len;
  let q = off;
  let et: number;
  switch (linkType) {
    case LINKTYPE.ethernet: {
      if (len < 14) return bad(p, 'eth.truncated');
      p.dstMacOffset = q;
      p.srcMacOffset = q + 6;
      et = (b[q + 12]! << 8) | b[q + 13]!;
      q += 14;
      let tags = 0;
      while (et === ETH_VLAN || et === ETH_QINQ || et === ETH_QINQ_OLD) {
        if (q + 4 > end) return bad(p, 'vlan.truncated');
        if (++tags > MAX_TAGS) return bad(p, 'vlan.too_many_tags');
        const vid = ((b[q]! & 0x0f) << 8) | b[q + 1]!;
        if (p.vlan < 0) p.vlan = vid;
        else if (p.innerVlan < 0) p.innerVlan = vid;
        et = (b[q + 2]! << 8) | b[q + 3]!;
        q += 4;
      }
      if (et < 0x0600) {
        // IEEE 802.3 length field: LLC/SNAP payload (STP, CDP, ...); not IP.
        p.etherType = 0;
        p.l3Offset = q;
        p.l3End = Math.min(end, q + et);
        return;
      }
      break;
    }
    case LINKTYPE.linuxSll: {
      if (len < 16) return bad(p, 'sll.truncated');
      const hatype = (b[q + 2]! << 8) | b[q + 3]!;
      const alen = (b[q + 4]! << 8) | b[q + 5]!;
      if (hatype === 1 && alen === 6) p.srcMacOffset = q + 6;
      et = (b[q + 14]! << 8) | b[q + 15]!;
      q += 16;
      break;
    }
    case LINKTYPE.linuxSll2: {
      if (len < 20) return bad(p, 'sll2.truncated');
      et = (b[q]! << 8) | b[q + 1]!;
      const hatype = (b[q + 8]! << 8) | b[q + 9]!;
      const alen = b[q + 11]!;
      if (hatype === 1 && alen === 6) p.srcMacOffset = q + 12;
      q += 20;
      break;
    }
    case LINKTYPE.raw:
    case LINKTYPE.rawAlt12:
    case LINKTYPE.rawAlt14:
    case LINKTYPE.ipv4:
    case LINKTYPE.ipv6: {
      if (len < 1) return bad(p, 'ip.truncated');
      const v = b[q]! >> 4;
      if (v === 4) et = ETH_IPV4;
      else if (v === 6) et = ETH_IPV6;
      else return bad(p, 'ip.bad_version');
      break;
    }
    case LINKTYPE.null:
    case LINKTYPE.loop: {
      if (len < 4) return bad(p, 'null.truncated');
      // The family is in the writer's byte order (null) or network order (loop); accept both.
      let fam = b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24);
      if (fam > 0xffff || linkType === LINKTYPE.loop)
        fam = ((b[q]! << 24) | (b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!) >>> 0;
      q += 4;
      if (fam === 2) et = ETH_IPV4;
      else if (fam === 24 || fam === 28 || fam === 30 || fam === 10) et = ETH_IPV6;
      else return bad(p, 'null.unknown_family');
      break;
    }
    default:
      p.status = FRAME.unsupportedLink;
      return;
  }
  p.etherType = et;
  p.l3Offset = q;
  p.l3End = end;
  if (et === ETH_IPV4) decodeIpv4(b, q, end, p);
  else if (et === ETH_IPV6) decodeIpv6(b, q, end, p);
}

function decodeIpv4(b: Uint8Array, q: number, end: number, p: PacketView): void {
  if (q + 20 > end) return bad(p, 'ipv4.truncated_header');
  const vihl = b[q]!;
  if (vihl >> 4 !== 4) return bad(p, 'ipv4.bad_version');
  const ihl = (vihl & 0x0f) << 2;
  if (ihl < 20) return bad(p, 'ipv4.bad_header_length');
  if (q + ihl > end) return bad(p, 'ipv4.truncated_header');
  const total = (b[q + 2]! << 8) | b[q + 3]!;
  p.ipVersion = 4;
  p.ttl = b[q + 8]!;
  p.ipProto = b[q + 9]!;
  p.ipId = (b[q + 4]! << 8) | b[q + 5]!;
  p.srcIp = ((b[q + 12]! << 24) | (b[q + 13]! << 16) | (b[q + 14]! << 8) | b[q + 15]!) >>> 0;
  p.dstIp = ((b[q + 16]! << 24) | (b[q + 17]! << 16) | (b[q + 18]! << 8) | b[q + 19]!) >>> 0;
  let ipEnd = q + total;
  if (total === 0)
    ipEnd = end; // TCP segmentation offload captures carry 0
  else if (total < ihl) return bad(p, 'ipv4.bad_total_length');
  else if (ipEnd > end) ipEnd = end; // snaplen cut the packet
  p.l3End = ipEnd;
  p.l4Offset = q + ihl;
  p.l4End = ipEnd;
  const ff = (b[q + 6]! << 8) | b[q + 7]!;
  p.moreFragments = (ff & 0x2000) !== 0;
  p.fragOffset = (ff & 0x1fff) << 3;
  if (p.moreFragments || p.fragOffset !== 0) {
    p.status = FRAME.fragment;
    return;
  }
  if ((p.ipProto === 4 || p.ipProto === 41) && p.tunnelDepth < MAX_TUNNEL_DEPTH)
    return decapsulate(b, p.l4Offset, ipEnd, p);
  decodeTransport(b, p.l4Offset, ipEnd, p.ipProto, p);
}

/** The inner packet of an IP-in-IP tunnel is what the conversation is about. */
function decapsulate(b: Uint8Array, q: number, end: number, p: PacketView): void {
  const inner = p.ipProto;
  if (p.tunnelDepth === 0) {
    p.outerVersion = p.ipVersion;
    p.outerProto = inner;
    p.outerSrcIp = p.srcIp;
    p.outerDstIp = p.dstIp;
    p.outerSrcIp6Offset = p.srcIp6Offset;
    p.outerDstIp6Offset = p.dstIp6Offset;
  }
  p.tunnelDepth++;
  p.srcIp6Offset = -1;
  p.dstIp6Offset = -1;
  p.l3Offset = q;
  if (inner === 4) decodeIpv4(b, q, end, p);
  else decodeIpv6(b, q, end, p);
}

function decodeIpv6(b: Uint8Array, q: number, end: number, p: PacketView): void {
  if (q + 40 > end) return bad(p, 'ipv6.truncated_header');
  if (b[q]! >> 4 !== 6) return bad(p, 'ipv6.bad_version');
  const plen = (b[q + 4]! << 8) | b[q + 5]!;
  let next = b[q + 6]!;
  p.ipVersion = 6;
  p.ttl = b[q + 7]!;
  p.srcIp6Offset = q + 8;
  p.dstIp6Offset = q + 24;
  let ipEnd = q + 40 + plen;
  if (plen === 0 || ipEnd > end) ipEnd = end; // jumbogram or snaplen
  p.l3End = ipEnd;
  let h = q + 40;
  for (let i = 0; ; i++) {
    if (i > MAX_EXT_HEADERS) return bad(p, 'ipv6.too_many_extension_headers');
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (h + 8 > ipEnd) return bad(p, 'ipv6.truncated_extension_header');
      const nh = b[h]!;
      h += (b[h + 1]! + 1) * 8;
      next = nh;
    } else if (next === 51) {
      if (h + 8 > ipEnd) return bad(p, 'ipv6.truncated_extension_header');
      const nh = b[h]!;
      h += (b[h + 1]! + 2) * 4;
      next = nh;
    } else if (next === 44) {
      if (h + 8 > ipEnd) return bad(p, 'ipv6.truncated_extension_header');
      const nh = b[h]!;
      const fo = (b[h + 2]! << 8) | b[h + 3]!;
      p.fragOffset = fo & 0xfff8;
      p.moreFragments = (fo & 1) !== 0;
      p.ipId = ((b[h + 4]! << 24) | (b[h + 5]! << 16) | (b[h + 6]! << 8) | b[h + 7]!) >>> 0;
      h += 8;
      next = nh;
      if (p.fragOffset !== 0 || p.moreFragments) {
        p.ipProto = next;
        p.l4Offset = h;
        p.l4End = ipEnd;
        p.status = FRAME.fragment;
        return;
      }
    } else break;
    if (h > ipEnd) return bad(p, 'ipv6.truncated_extension_header');
  }
  p.ipProto = next;
  p.l4Offset = h;
  p.l4End = ipEnd;
  if ((next === 4 || next === 41) && p.tunnelDepth < MAX_TUNNEL_DEPTH) return decapsulate(b, h, ipEnd, p);
  decodeTransport(b, h, ipEnd, next, p);
}

/** Decodes the L4 header at `b[q, end)`; also used on reassembled IP payloads. */
export function decodeTransport(b: Uint8Array, q: number, end: number, proto: number, p: PacketView): void {
  if (proto === 6) {
    if (q + 20 > end) return bad(p, 'tcp.truncated_header');
    const hl = (b[q + 12]! >> 4) << 2;
    if (hl < 20) return bad(p, 'tcp.bad_header_length');
    if (q + hl > end) return bad(p, 'tcp.truncated_header');
    p.srcPort = (b[q]! << 8) | b[q + 1]!;
    p.dstPort = (b[q + 2]! << 8) | b[q + 3]!;
    const sa = p.tcpSeqAck;
    sa[0] = (b[q + 4]! << 24) | (b[q + 5]! << 16) | (b[q + 6]! << 8) | b[q + 7]!;
    sa[1] = (b[q + 8]! << 24) | (b[q + 9]! << 16) | (b[q + 10]! << 8) | b[q + 11]!;
    p.tcpFlags = b[q + 13]!;
    p.payloadOffset = q + hl;
    p.payloadLength = end - q - hl;
  } else if (proto === 17) {
    if (q + 8 > end) return bad(p, 'udp.truncated_header');
    p.srcPort = (b[q]! << 8) | b[q + 1]!;
    p.dstPort = (b[q + 2]! << 8) | b[q + 3]!;
    const ulen = (b[q + 4]! << 8) | b[q + 5]!;
    let uEnd = q + ulen;
    if (ulen === 0) uEnd = end;
    else if (ulen < 8) return bad(p, 'udp.bad_length');
    else if (uEnd > end) uEnd = end;
    p.payloadOffset = q + 8;
    p.payloadLength = uEnd - q - 8;
  } else if (proto === 1 || proto === 58) {
    if (q + 4 > end) return bad(p, 'icmp.truncated');
    p.icmpType = b[q]!;
    p.icmpCode = b[q + 1]!;
    p.payloadOffset = q + 4;
    p.payloadLength = end - q - 4;
  } else {
    p.payloadOffset = q;
    p.payloadLength = end - q;
  }
}
