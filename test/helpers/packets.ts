// Builders for synthetic frames (Ethernet, 802.1Q, ARP, IPv4, TCP, UDP) used by pipeline tests.

export interface FrameSpec {
  srcMac: number;
  dstMac: number;
  vlans?: number[];
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  sport: number;
  dport: number;
  /** TCP flags byte (SYN 0x02, ACK 0x10, PSH 0x08, FIN 0x01, RST 0x04). */
  flags?: number;
  seq?: number;
  ack?: number;
  payload?: Uint8Array;
}

function macBytes(mac: number): number[] {
  const out: number[] = [];
  for (let i = 5; i >= 0; i--) out.push(Math.floor(mac / 2 ** (8 * i)) % 256);
  return out;
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

export function frame(s: FrameSpec): Uint8Array {
  const payload = s.payload ?? new Uint8Array(0);
  const l4: number[] = [];
  if (s.proto === 'tcp') {
    const seq = s.seq ?? 1000;
    const ack = s.ack ?? 0;
    l4.push(s.sport >> 8, s.sport & 255, s.dport >> 8, s.dport & 255);
    l4.push((seq >>> 24) & 255, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255);
    l4.push((ack >>> 24) & 255, (ack >>> 16) & 255, (ack >>> 8) & 255, ack & 255);
    l4.push(0x50, s.flags ?? 0x18, 0xff, 0xff, 0, 0, 0, 0);
  } else {
    const len = 8 + payload.length;
    l4.push(s.sport >> 8, s.sport & 255, s.dport >> 8, s.dport & 255, len >> 8, len & 255, 0, 0);
  }
  const total = 20 + l4.length + payload.length;
  const ip = [
    0x45,
    0,
    total >> 8,
    total & 255,
    0,
    1,
    0x40,
    0,
    64,
    s.proto === 'tcp' ? 6 : 17,
    0,
    0,
    ...ipBytes(s.src),
    ...ipBytes(s.dst),
  ];
  const eth: number[] = [...macBytes(s.dstMac), ...macBytes(s.srcMac)];
  for (const v of s.vlans ?? []) eth.push(0x81, 0x00, (v >> 8) & 0x0f, v & 255);
  eth.push(0x08, 0x00);
  return Uint8Array.from([...eth, ...ip, ...l4, ...payload]);
}

export function arpReply(senderMac: number, senderIp: string, targetMac: number, targetIp: string): Uint8Array {
  return Uint8Array.from([
    ...macBytes(targetMac),
    ...macBytes(senderMac),
    0x08,
    0x06,
    0,
    1,
    8,
    0,
    6,
    4,
    0,
    2,
    ...macBytes(senderMac),
    ...ipBytes(senderIp),
    ...macBytes(targetMac),
    ...ipBytes(targetIp),
  ]);
}
