// Reassembles one direction's TSDUs from DT TPDUs: user data is concatenated until a DT with EOT
// set (ISO 8073 / X.224 §6.3 segmenting and reassembling), within a fixed bound.

/**
 * One direction's TSDU in progress.
 *
 * - A TSDU carried whole in one DT (EOT set, nothing pending) is returned as the DT's own bytes: no
 *   copy on the common path.
 * - Segments are copied into a buffer that grows by doubling up to `max` bytes; the assembled TSDU
 *   returned is a view of that buffer, valid until the next `push`.
 * - A TSDU that would exceed `max` is dropped up to its EOT; `overflowed` tells the caller once.
 */
export class TsduAssembler {
  private readonly max: number;
  private buf: Uint8Array | null = null;
  private len = 0;
  private discarding = false;
  /** Set by `push` when this TSDU outgrew the bound (reported once per TSDU). */
  overflowed = false;

  constructor(max: number) {
    this.max = max;
  }

  /** Bytes held for a TSDU whose EOT has not arrived. */
  get pendingBytes(): number {
    return this.len;
  }

  /** Nothing held or being discarded: a DT with EOT set is a whole TSDU by itself. */
  get idle(): boolean {
    return this.len === 0 && !this.discarding;
  }

  /** The next DT's user data; returns the whole TSDU when `eot` completes one, else null. */
  push(data: Uint8Array, eot: boolean): Uint8Array | null {
    this.overflowed = false;
    if (this.discarding) {
      if (eot) this.discarding = false;
      return null;
    }
    if (this.len === 0 && eot) return data;
    const need = this.len + data.length;
    if (need > this.max) {
      this.len = 0;
      this.overflowed = true;
      this.discarding = !eot;
      return null;
    }
    let buf = this.buf;
    if (buf === null || buf.length < need) {
      let size = buf === null ? 1024 : buf.length;
      while (size < need) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.max));
      if (buf !== null && this.len > 0) grown.set(buf.subarray(0, this.len), 0);
      this.buf = buf = grown;
    }
    buf.set(data, this.len);
    this.len = need;
    if (!eot) return null;
    this.len = 0;
    return buf.subarray(0, need);
  }

  /** Drops a TSDU in progress (bytes were lost). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
  }
}
