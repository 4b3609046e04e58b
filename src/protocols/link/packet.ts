// The L2–L4 view of one frame, filled in place by `decodeFrame` (one reusable object, so the
// packet path allocates nothing per packet). Offsets are absolute positions in the frame's buffer.

export const LINKTYPE = {
  null: 0,
  ethernet: 1,
  raw: 101,
  rawAlt12: 12,
  rawAlt14: 14,
  loop: 108,
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  linuxSll2: 276,
} as const;

/** Names of link types we do not decode, for clear messages. */
export const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'BSD null/loopback',
  1: 'Ethernet',
  9: 'PPP',
  12: 'raw IP',
  101: 'raw IP',
  105: 'IEEE 802.11',
  108: 'OpenBSD loopback',
  113: 'Linux cooked v1',
  127: 'IEEE 802.11 radiotap',
  195: 'IEEE 802.15.4 with FCS',
  215: 'IEEE 802.15.4 non-ASK PHY',
  228: 'raw IPv4',
  229: 'raw IPv6',
  230: 'IEEE 802.15.4 no FCS',
  276: 'Linux cooked v2',
};

export function linkTypeName(t: number): string {
  return LINKTYPE_NAMES[t] ?? `link type ${t}`;
}

/** Outcome of decoding a frame. */
export const FRAME = {
  /** Decoded as far as we go (L4 header and payload located, or a non-IP L2 protocol). */
  ok: 0,
  /** Link type not supported. */
  unsupportedLink: 1,
  /** Headers cut short or inconsistent; `anomaly` says which. */
  malformed: 2,
  /** IPv4 fragment that needs reassembly before L4 can be read. */
  fragment: 3,
} as const;
export type FrameStatus = (typeof FRAME)[keyof typeof FRAME];

export class PacketView {
  status: FrameStatus = FRAME.ok;
  /** First anomaly code, or null. */
  anomaly: string | null = null;
  // L2 (−1 when absent, e.g. raw IP captures). MACs are offsets into the frame's buffer, read with
  // `macAt` only where needed: most packets of a known flow never need them.
  srcMacOffset = -1;
  dstMacOffset = -1;
  /** Outer and inner 802.1Q VLAN ids, −1 when absent. */
  vlan = -1;
  innerVlan = -1;
  etherType = 0;
  /** Start of the L3 (or L2 protocol) payload after the link headers. */
  l3Offset = 0;
  l3End = 0;
  // L3
  ipVersion = 0;
  /** IPv4 addresses as uint32; for IPv6 see srcIp6Offset. */
  srcIp = 0;
  dstIp = 0;
  srcIp6Offset = -1;
  dstIp6Offset = -1;
  ttl = 0;
  ipProto = -1;
  ipId = 0;
  /** IPv4 fragment fields: offset in bytes and more-fragments flag. */
  fragOffset = 0;
  moreFragments = false;
  /** Start and end of the L4 header+payload (the IP payload). */
  l4Offset = 0;
  l4End = 0;
  // L4
  srcPort = -1;
  dstPort = -1;
  tcpFlags = 0;
  /**
   * TCP sequence and acknowledgement numbers. Kept in a Uint32Array: most are above the small-integer
   * range, and storing such a number in an object field would allocate on every packet.
   */
  readonly tcpSeqAck = new Uint32Array(2);
  get tcpSeq(): number {
    return this.tcpSeqAck[0]!;
  }
  get tcpAck(): number {
    return this.tcpSeqAck[1]!;
  }
  icmpType = -1;
  icmpCode = -1;
  payloadOffset = 0;
  payloadLength = 0;
  /** IP-in-IP layers removed to reach the addresses and ports above (0 = not tunnelled). */
  tunnelDepth = 0;
  /** The outermost IP header of a tunnelled packet: version, protocol, addresses (as above). */
  outerVersion = 0;
  outerProto = 0;
  outerSrcIp = 0;
  outerDstIp = 0;
  outerSrcIp6Offset = -1;
  outerDstIp6Offset = -1;

  reset(): void {
    this.tunnelDepth = 0;
    this.status = FRAME.ok;
    this.anomaly = null;
    this.srcMacOffset = -1;
    this.dstMacOffset = -1;
    this.vlan = -1;
    this.innerVlan = -1;
    this.etherType = 0;
    this.ipVersion = 0;
    this.srcIp6Offset = -1;
    this.dstIp6Offset = -1;
    this.ipProto = -1;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.payloadOffset = 0;
    this.payloadLength = 0;
  }
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** The 48-bit MAC at `off` as a number, or −1 when `off` is −1. */
export function macAt(b: Uint8Array, off: number): number {
  if (off < 0) return -1;
  return (
    ((b[off]! << 8) | b[off + 1]!) * 0x100000000 +
    (((b[off + 2]! << 24) | (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!) >>> 0)
  );
}
