// A bounds-checked big/little-endian cursor over untrusted bytes. Every read is checked in one
// place; a short read throws ShortRead, which `decodeWith` turns into `malformed` at the boundary.

import { malformed, type Decoded } from './decoded.ts';

export class ShortRead extends Error {
  readonly offset: number;
  constructor(offset: number) {
    super(`short read at ${offset}`);
    this.offset = offset;
  }
}

export class Reader {
  bytes: Uint8Array;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = Math.min(end, bytes.length);
  }

  /**
   * Points this reader at new bytes. Hot decoders keep one module-level Reader and reset it per
   * PDU instead of allocating one (decoding is synchronous, so it is never shared mid-use).
   */
  reset(bytes: Uint8Array, start = 0, end = bytes.length): this {
    this.bytes = bytes;
    this.pos = start;
    this.end = Math.min(end, bytes.length);
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new ShortRead(this.pos);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u16le(): number {
    this.need(2);
    const b = this.bytes;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const b = this.bytes;
    const v = (b[this.pos]! << 16) | (b[this.pos + 1]! << 8) | b[this.pos + 2]!;
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const v = ((b[this.pos]! << 24) | (b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }

  u32le(): number {
    this.need(4);
    const b = this.bytes;
    const v = (b[this.pos]! | (b[this.pos + 1]! << 8) | (b[this.pos + 2]! << 16) | (b[this.pos + 3]! << 24)) >>> 0;
    this.pos += 4;
    return v;
  }

  /** A zero-copy view of the next n bytes. */
  take(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A reader over the next n bytes; this reader moves past them. */
  sub(n: number): Reader {
    this.need(n);
    const r = new Reader(this.bytes, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}

/**
 * Runs a decoder body with a Reader; a ShortRead becomes `malformed` with the given code.
 * Any other exception is our bug and propagates loudly.
 */
export function decodeWith<T>(bytes: Uint8Array, truncatedCode: string, body: (r: Reader) => Decoded<T>): Decoded<T> {
  const r = new Reader(bytes);
  try {
    return body(r);
  } catch (e) {
    if (e instanceof ShortRead) return malformed(truncatedCode, e.offset);
    throw e;
  }
}
