// Helpers to turn untrusted bytes into printable text and addresses into their usual notation.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** Latin-1/ASCII decode with control characters replaced, bounded to `max` characters. */
export function printable(bytes: Uint8Array, max = 256): string {
  // Fast path — names and identifiers repeated in every frame (GOOSE, LLDP, CIP) are plain ASCII,
  // maybe NUL-padded: one decode instead of a string built character by character.
  const n = Math.min(bytes.length, max);
  let i = 0;
  while (i < n && bytes[i]! >= 0x20 && bytes[i]! < 0x7f) i++;
  if (i === n || (bytes[i] === 0 && allZero(bytes, i)))
    return String.fromCharCode.apply(null, bytes.subarray(0, i) as unknown as number[]);
  return printableSlow(bytes, n);
}

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let j = from; j < bytes.length; j++) if (bytes[j] !== 0) return false;
  return true;
}

function printableSlow(bytes: Uint8Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0) {
      // NUL-terminated and NUL-padded strings are common in industrial identity objects.
      if (allZero(bytes, i)) break;
      s += '.';
    } else s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  return s;
}

/**
 * `printable` of byte runs that repeat (names and references sent in every frame: GOOSE gocbRef,
 * CIP tag names, MMS item ids): a direct-mapped cache of `slots` entries keyed by the bytes, so a
 * repeated name costs a hash and a compare instead of a view and a new string. Runs longer than
 * `maxKey` bytes are decoded without caching. Bounded: at most `slots` copies of `maxKey` bytes.
 */
export class TextMemo {
  private readonly keys: (Uint8Array | null)[];
  private readonly strings: string[];
  private readonly maxes: Int32Array;
  private readonly mask: number;
  private readonly maxKey: number;

  constructor(slots = 256, maxKey = 256) {
    if (slots <= 0 || (slots & (slots - 1)) !== 0) throw new RangeError('TextMemo: slots must be a power of two');
    this.keys = new Array<Uint8Array | null>(slots).fill(null);
    this.strings = new Array<string>(slots).fill('');
    this.maxes = new Int32Array(slots);
    this.mask = slots - 1;
    this.maxKey = maxKey;
  }

  /** `printable(bytes.subarray(off, off + len), max)`; the caller has checked the bounds. */
  printable(bytes: Uint8Array, off: number, len: number, max = 256): string {
    if (len > this.maxKey) return printable(bytes.subarray(off, off + len), max);
    let h = Math.imul(len, 0x9e3779b1);
    for (let i = 0; i < len; i++) h = Math.imul(h ^ bytes[off + i]!, 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const key = this.keys[slot];
    if (key !== null && key !== undefined && key.length === len && this.maxes[slot] === max) {
      let i = 0;
      while (i < len && key[i] === bytes[off + i]) i++;
      if (i === len) return this.strings[slot]!;
    }
    const s = printable(bytes.subarray(off, off + len), max);
    this.keys[slot] = bytes.slice(off, off + len);
    this.strings[slot] = s;
    this.maxes[slot] = max;
    return s;
  }
}

/**
 * An integer with comma thousands separators, as `toLocaleString('en-US')` writes it, without
 * loading ICU's locale data (about 15 ms of a short run). Other numbers go to toLocaleString.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let s = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) s += ',';
    s += digits[i];
  }
  return n < 0 ? `-${s}` : s;
}

/** UTF-8 decode (invalid sequences become U+FFFD), control characters removed, bounded. */
const utf8 = new TextDecoder('utf-8', { fatal: false });
export function utf8Text(bytes: Uint8Array, max = 256): string {
  const s = utf8.decode(bytes.subarray(0, Math.min(bytes.length, max * 4)));
  return s.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, max);
}

export function formatMac(mac: number): string {
  let s = '';
  for (let i = 5; i >= 0; i--) {
    const b = Math.floor(mac / 2 ** (8 * i)) % 256;
    s += HEX[b]! + (i > 0 ? ':' : '');
  }
  return s;
}

export function macFromBytes(b: Uint8Array, off: number): number {
  return (
    b[off]! * 2 ** 40 +
    b[off + 1]! * 2 ** 32 +
    (((b[off + 2]! << 24) | (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!) >>> 0)
  );
}

export function formatIpv4(ip: number): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

export function ipv4FromBytes(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** RFC 5952 text form of a 16-byte IPv6 address. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  // IPv4-mapped
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const part = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return part(words);
  return `${part(words.slice(0, bestStart))}::${part(words.slice(bestStart + bestLen))}`;
}

// The date and time to the second of the last formatTime call: timestamps come in runs within the
// same second, so most calls format only the fraction.
let lastSecond = Number.NaN;
let lastPrefix = '';

export function formatTime(micros: number): string {
  if (!Number.isFinite(micros)) return '';
  const us = Math.floor(micros);
  const second = Math.floor(us / 1e6);
  if (second !== lastSecond) {
    const d = new Date(second * 1000);
    if (Number.isNaN(d.getTime())) return '';
    lastPrefix = d.toISOString().slice(0, 20); // 2024-03-04T08:00:00.
    lastSecond = second;
  }
  return `${lastPrefix}${String(us - second * 1e6).padStart(6, '0')}Z`;
}
