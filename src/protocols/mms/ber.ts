// A minimal BER reader (ITU-T X.690 §8.1: identifier octets with high tag numbers, definite short and
// long lengths, indefinite length) for the OSI upper layers and MMS. One reusable cursor, no
// allocation per element; every length is checked against its enclosing element.

export const BER_CLASS = { universal: 0, application: 1, context: 2, private: 3 } as const;

/** Nesting accepted when walking Data values (structures of structures). */
export const MAX_BER_DEPTH = 8;

/**
 * One TLV, filled in place by `read`. `start`/`end` bound the contents; `next` is where the
 * following element starts. With the indefinite form the contents run to the enclosing limit
 * (the end-of-contents octets are not searched for).
 */
export class Tlv {
  cls = 0;
  constructed = false;
  tag = 0;
  start = 0;
  end = 0;
  next = 0;
  indefinite = false;

  /** Reads the element at `pos` within `[pos, limit)`; false when it is cut short or malformed. */
  read(b: Uint8Array, pos: number, limit: number): boolean {
    if (pos >= limit) return false;
    const id = b[pos++]!;
    this.cls = id >> 6;
    this.constructed = (id & 0x20) !== 0;
    let tag = id & 0x1f;
    if (tag === 0x1f) {
      tag = 0;
      for (let i = 0; ; i++) {
        if (pos >= limit || i >= 4) return false;
        const c = b[pos++]!;
        tag = tag * 128 + (c & 0x7f);
        if ((c & 0x80) === 0) break;
      }
    }
    this.tag = tag;
    if (pos >= limit) return false;
    let len = b[pos++]!;
    this.indefinite = false;
    if (len === 0x80) {
      if (!this.constructed) return false;
      this.indefinite = true;
      this.start = pos;
      this.end = limit;
      this.next = limit;
      return true;
    }
    if (len > 0x80) {
      const n = len & 0x7f;
      if (n > 4 || pos + n > limit) return false;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[pos++]!;
    }
    if (pos + len > limit) return false;
    this.start = pos;
    this.end = pos + len;
    this.next = pos + len;
    return true;
  }

  /** True for the end-of-contents octets (00 00) that close an indefinite-length element. */
  get isEndOfContents(): boolean {
    return this.cls === 0 && this.tag === 0 && !this.constructed && this.end === this.start;
  }

  is(cls: number, tag: number): boolean {
    return this.cls === cls && this.tag === tag;
  }
}

/** Two's complement integer of up to 6 content octets, or NaN. */
export function berInt(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 6) return Number.NaN;
  let v = b[start]! >= 0x80 ? -1 : 0;
  for (let i = start; i < end; i++) v = v * 256 + b[i]!;
  return v;
}

/** Unsigned integer of up to 6 significant content octets (a leading 00 is allowed), or NaN. */
export function berUint(b: Uint8Array, start: number, end: number): number {
  let s = start;
  if (end - s > 1 && b[s] === 0) s++;
  const n = end - s;
  if (n < 1 || n > 6) return Number.NaN;
  let v = 0;
  for (let i = s; i < end; i++) v = v * 256 + b[i]!;
  return v;
}

/**
 * The first child of the constructed element `[start, end)` with this class and tag: fills `out`
 * and returns true, or false when absent or malformed.
 */
export function findChild(b: Uint8Array, start: number, end: number, cls: number, tag: number, out: Tlv): boolean {
  let pos = start;
  for (let i = 0; i < 64 && pos < end; i++) {
    if (!out.read(b, pos, end) || out.isEndOfContents) return false;
    if (out.cls === cls && out.tag === tag) return true;
    pos = out.next;
  }
  return false;
}

/** Children of `[start, end)` (at most `max`); -1 when malformed. */
export function countChildren(b: Uint8Array, start: number, end: number, max: number, t: Tlv): number {
  let pos = start;
  let n = 0;
  while (pos < end && n < max) {
    if (!t.read(b, pos, end)) return -1;
    if (t.isEndOfContents) break;
    n++;
    pos = t.next;
  }
  return n;
}
