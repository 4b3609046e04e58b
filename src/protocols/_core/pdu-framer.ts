// Cuts an ordered byte stream (TcpStream's data/gap calls) into whole PDUs of a length-prefixed
// protocol, and finds PDU boundaries again after a gap or a bad frame (DESIGN: stream framer).

/**
 * Reads a PDU header at the start of `bytes` (which may hold less than a header, or more than one
 * PDU): the PDU's total length (> 0), 0 when more header bytes are needed, -1 when these bytes
 * cannot start a PDU. It must be decided by the header alone: once it answers non-zero for some
 * prefix, it gives the same answer for every longer prefix.
 */
export type FrameLength = (bytes: Uint8Array) => number;

const REJECT = 0;
const ACCEPT = 1;
const UNDECIDED = 2;
type Verdict = typeof REJECT | typeof ACCEPT | typeof UNDECIDED;

/**
 * Turns `data`/`gap` calls into `onPdu` calls, one per whole PDU.
 *
 * - PDUs lying inside one chunk are passed on as subarrays of it (no copy).
 * - A PDU split across chunks is assembled in a buffer of `maxPdu` bytes (copy) and passed on whole.
 * - A frame length above `maxPdu`, or a header still undecided after `maxPdu` bytes, is not a PDU.
 * - In sync, bytes that are not a PDU start are reported once through `onViolation(streamOffset)`,
 *   and the framer resynchronises.
 *
 * Resynchronisation (after `gap()` or a violation): the partial PDU is dropped and every later
 * offset p is tried in order. p is accepted when a PDU of length L frames at p and either a second
 * PDU frames at p + L, or p + L is exactly the end of the bytes received so far (senders usually
 * write one PDU per segment, so a boundary there is evidence too). Candidates that cannot be
 * decided yet (the PDU, or the header after it, runs past the bytes received) are held, copied, in a
 * look-ahead window of 2 × maxPdu bytes and decided when more data comes; an earlier candidate is
 * always decided before a later one is considered, so the result does not depend on how the data
 * was cut, except through the "ends exactly" rule. No violation is reported while resynchronising.
 */
export class PduFramer {
  /** PDUs delivered. */
  pdus = 0;
  /** Times the framer lost sync (gap or violation). */
  resyncs = 0;
  /** Stream bytes discarded while looking for a PDU start (lost gap bytes not included). */
  skippedBytes = 0;

  private readonly frame: FrameLength;
  private readonly onPdu: (pdu: Uint8Array, tsMicros: number) => void;
  private readonly onViolation: (offset: number) => void;
  private readonly maxPdu: number;

  /** Stream offset of the next byte `data` will receive (gaps included). */
  private offset = 0;
  private syncing = false;

  // A PDU split across chunks; `need` stays 0 while its header is incomplete.
  private partial: Uint8Array | null = null;
  private have = 0;
  private need = 0;
  private partialStart = 0;

  // Look-ahead window while resynchronising; allocated on first use.
  private window: Uint8Array | null = null;
  private windowLen = 0;
  private windowStart = 0;
  /** Set by `search`: whether the offset it returned was accepted. */
  private found = false;

  constructor(
    frame: FrameLength,
    onPdu: (pdu: Uint8Array, tsMicros: number) => void,
    onViolation: (offset: number) => void,
    maxPdu: number,
  ) {
    if (!Number.isInteger(maxPdu) || maxPdu < 1) throw new RangeError(`maxPdu must be a positive integer`);
    this.frame = frame;
    this.onPdu = onPdu;
    this.onViolation = onViolation;
    this.maxPdu = maxPdu;
  }

  /** True while looking for a PDU boundary after a gap or a violation. */
  get resynchronising(): boolean {
    return this.syncing;
  }

  /** True when nothing is held and the framer is in sync: the next bytes start a PDU. */
  get idle(): boolean {
    return this.have === 0 && this.windowLen === 0 && !this.syncing;
  }

  /**
   * The caller took a whole PDU of `n` bytes straight from the stream while `idle` (a fast path
   * that needs no view); the framer only accounts for it.
   */
  deliveredWhole(n: number): void {
    this.offset += n;
    this.pdus++;
  }

  /** Bytes held across calls (a partial PDU or undecided look-ahead). */
  get bufferedBytes(): number {
    return this.have + this.windowLen;
  }

  /** The next bytes of the stream; only read during the call. */
  data(bytes: Uint8Array, tsMicros: number): void {
    const base = this.offset;
    this.offset += bytes.length;
    // Most segments carry exactly one whole PDU: hand it over without the general loop.
    const n = bytes.length;
    if (
      n > 0 &&
      this.have === 0 &&
      this.windowLen === 0 &&
      !this.syncing &&
      n <= this.maxPdu &&
      this.frame(bytes) === n
    ) {
      this.pdus++;
      this.onPdu(bytes, tsMicros);
      return;
    }
    if (bytes.length > 0) this.run(bytes, 0, tsMicros, base);
  }

  /** `lostBytes` bytes of the stream are missing: drop what was held and resynchronise. */
  gap(lostBytes: number): void {
    this.offset += lostBytes;
    this.skippedBytes += this.have + this.windowLen;
    this.have = 0;
    this.need = 0;
    this.windowLen = 0;
    if (!this.syncing) {
      this.syncing = true;
      this.resyncs++;
    }
  }

  /**
   * Alternates between framing and searching over bytes[pos..]; `base` is the stream offset of
   * bytes[0]. A loop rather than mutual recursion, so hostile input cannot grow the stack.
   */
  private run(bytes: Uint8Array, pos: number, ts: number, base: number): void {
    while (pos >= 0) pos = this.syncing ? this.seek(bytes, pos, ts, base) : this.cut(bytes, pos, ts, base);
  }

  /** In sync: delivers PDUs; returns -1 when the bytes are used up, else where to search from. */
  private cut(bytes: Uint8Array, pos: number, ts: number, base: number): number {
    const end = bytes.length;
    if (this.have > 0) {
      pos = this.complete(bytes, pos, ts);
      if (pos < 0 || this.syncing) return pos;
    }
    const max = this.maxPdu;
    while (pos < end) {
      const len = this.frame(pos === 0 ? bytes : bytes.subarray(pos));
      if (len > 0 && len <= max) {
        if (pos + len <= end) {
          this.pdus++;
          // One PDU per segment is the common case: hand over the chunk itself, no new view.
          this.onPdu(pos === 0 && len === end ? bytes : bytes.subarray(pos, pos + len), ts);
          pos += len;
          continue;
        }
        this.keep(bytes, pos, len, base);
        return -1;
      }
      if (len === 0 && end - pos < max) {
        this.keep(bytes, pos, 0, base);
        return -1;
      }
      this.lose(base + pos);
      this.skippedBytes++;
      return pos + 1;
    }
    return -1;
  }

  /** Copies the start of a PDU that runs past the chunk. */
  /**
   * The partial-PDU buffer with room for `size` bytes, keeping the `have` bytes held. It grows on
   * demand (powers of two up to maxPdu): most flows never split a large PDU, and a 64 KiB or 1 MiB
   * buffer per direction would dominate memory with thousands of flows.
   */
  private room(size: number): Uint8Array {
    const cur = this.partial;
    if (cur !== null && cur.length >= size) return cur;
    let n = cur === null ? 256 : cur.length * 2;
    while (n < size) n *= 2;
    const next = new Uint8Array(Math.min(n, this.maxPdu));
    if (cur !== null && this.have > 0) next.set(cur.subarray(0, this.have), 0);
    this.partial = next;
    return next;
  }

  private keep(bytes: Uint8Array, pos: number, need: number, base: number): void {
    this.have = 0;
    const buf = this.room(Math.max(need, bytes.length - pos));
    buf.set(bytes.subarray(pos), 0);
    this.have = bytes.length - pos;
    this.need = need;
    this.partialStart = base + pos;
  }

  /**
   * Continues a partial PDU with bytes[pos..]. Returns -1 when the bytes are used up, else where to
   * go on (framing, or searching when the partial turned out not to be a PDU).
   */
  private complete(bytes: Uint8Array, pos: number, ts: number): number {
    const end = bytes.length;
    const max = this.maxPdu;
    if (this.need > 0) {
      const buf = this.room(this.need);
      const n = Math.min(end - pos, this.need - this.have);
      buf.set(bytes.subarray(pos, pos + n), this.have);
      this.have += n;
      if (this.have < this.need) return -1;
      const len = this.need;
      this.have = 0;
      this.need = 0;
      this.pdus++;
      this.onPdu(buf.subarray(0, len), ts);
      return pos + n < end ? pos + n : -1;
    }
    // The header itself was split: add what fits and ask again.
    const had = this.have;
    const n = Math.min(end - pos, max - had);
    const buf = this.room(had + n);
    buf.set(bytes.subarray(pos, pos + n), had);
    const len = this.frame(buf.subarray(0, had + n));
    if (len > 0 && len <= max) {
      if (len <= had + n) {
        this.have = 0;
        this.pdus++;
        this.onPdu(buf.subarray(0, len), ts);
        const resume = pos + Math.max(0, len - had);
        return resume < end ? resume : -1;
      }
      this.have = had + n;
      this.need = len;
      return -1;
    }
    if (len === 0 && had + n < max) {
      this.have = had + n;
      return -1;
    }
    // Not a PDU after all: search again from the partial's second byte, then on into these bytes.
    this.lose(this.partialStart);
    this.skippedBytes++;
    this.have = 0;
    const win = this.ensureWindow();
    win.set(buf.subarray(1, had), 0);
    this.windowLen = had - 1;
    this.windowStart = this.partialStart + 1;
    return pos;
  }

  private lose(offset: number): void {
    this.syncing = true;
    this.resyncs++;
    this.onViolation(offset);
  }

  private ensureWindow(): Uint8Array {
    return (this.window ??= new Uint8Array(2 * this.maxPdu));
  }

  /**
   * Out of sync: looks for a PDU boundary in the held window followed by bytes[pos..]. Returns -1
   * when the bytes are used up (or held), else the offset in bytes where framing resumes.
   */
  private seek(bytes: Uint8Array, pos: number, ts: number, base: number): number {
    const end = bytes.length;
    for (;;) {
      if (this.windowLen === 0) {
        // Nothing held: search the bytes in place.
        if (pos >= end) return -1;
        const p = this.search(bytes, pos, end, true);
        this.skippedBytes += p - pos;
        if (this.found) {
          this.syncing = false;
          return p;
        }
        if (p < end) {
          this.ensureWindow().set(bytes.subarray(p), 0);
          this.windowLen = end - p;
          this.windowStart = base + p;
        }
        return -1;
      }
      // Append what fits to the held bytes and search them.
      const win = this.ensureWindow();
      const n = Math.min(end - pos, win.length - this.windowLen);
      win.set(bytes.subarray(pos, pos + n), this.windowLen);
      this.windowLen += n;
      pos += n;
      const held = this.windowLen;
      const p = this.search(win, 0, held, pos === end);
      this.skippedBytes += p;
      if (this.found) {
        // Frame the held bytes from p, then go on with the rest. The window is detached meanwhile,
        // so a new loss of sync cannot write into the bytes being read; that nested run only
        // searches in place (its window starts empty), so nesting never goes deeper than one.
        this.syncing = false;
        this.windowLen = 0;
        this.window = null;
        this.run(win.subarray(0, held), p, ts, this.windowStart);
        this.window ??= win;
        return pos < end ? pos : -1;
      }
      // Keep the undecided tail; when the window was full, p > 0, so this always makes progress.
      win.copyWithin(0, p, held);
      this.windowLen = held - p;
      this.windowStart += p;
      if (pos >= end) return -1;
    }
  }

  /**
   * First offset in [from, end) that is accepted (sets `found`) or undecided (clears it); `end`
   * when every offset is rejected.
   */
  private search(bytes: Uint8Array, from: number, end: number, atDataEnd: boolean): number {
    for (let p = from; p < end; p++) {
      const v = this.judge(bytes, p, end, atDataEnd);
      if (v === REJECT) continue;
      this.found = v === ACCEPT;
      return p;
    }
    this.found = false;
    return end;
  }

  private judge(bytes: Uint8Array, p: number, end: number, atDataEnd: boolean): Verdict {
    const max = this.maxPdu;
    const len = this.frame(bytes.subarray(p, end));
    if (len < 0 || len > max) return REJECT;
    if (len === 0) return end - p >= max ? REJECT : UNDECIDED;
    const q = p + len;
    if (q > end) return UNDECIDED;
    if (q === end) return atDataEnd ? ACCEPT : UNDECIDED;
    const next = this.frame(bytes.subarray(q, end));
    if (next > 0 && next <= max) return ACCEPT;
    if (next === 0 && end - q < max) return UNDECIDED;
    return REJECT;
  }
}
