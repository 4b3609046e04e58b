// CRC-16/DNP of the link layer (IEEE 1815-2012 §9.2.4.1.6 / Annex): polynomial 0x3D65, reflected,
// initial value 0, final complement; stored little-endian after the header and each data block.

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa6bc : c >>> 1;
  TABLE[i] = c;
}

/** CRC-16/DNP of `bytes[start, end)`. */
export function crcDnp(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return ~crc & 0xffff;
}

/** True when the two octets at `end` hold the CRC of `bytes[start, end)` (little-endian). */
export function crcMatches(bytes: Uint8Array, start: number, end: number): boolean {
  const crc = crcDnp(bytes, start, end);
  return bytes[end] === (crc & 0xff) && bytes[end + 1] === crc >>> 8;
}
