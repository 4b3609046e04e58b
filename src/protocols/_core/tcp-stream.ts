// Reassembles ONE direction of a TCP connection into ordered bytes (RFC 9293 §3.4 sequence numbers,
// modulo-2^32 comparison; §3.10.7.4 segment acceptance). In-order data is passed on without copying.

import { LIMITS } from '../../core/limits.ts';

/** Receives the ordered bytes of one direction. `bytes` are only valid during the call. */
export interface TcpStreamSink {
  data(bytes: Uint8Array, tsMicros: number): void;
  /**
   * Optional zero-allocation form of `data` for in-order bytes `buf[off, off + len)`: the packet
   * path calls it instead of making a view of every segment.
   */
  dataAt?(buf: Uint8Array, off: number, len: number, tsMicros: number): void;
  /** `lostBytes` bytes of the stream will never be delivered; the next `data` follows them. */
  gap(lostBytes: number): void;
}

export interface TcpStreamLimits {
  /** Out-of-order bytes held while waiting for a hole to fill. */
  readonly maxBufferedBytes: number;
  /** Out-of-order segments held (each buffered run counts as one). */
  readonly maxBufferedSegments: number;
}

const DEFAULT_LIMITS: TcpStreamLimits = {
  maxBufferedBytes: LIMITS.tcpMaxBufferedBytes,
  maxBufferedSegments: LIMITS.tcpMaxBufferedSegments,
};

/** Signed distance `a - b` in sequence space; valid while the true distance is below 2^31. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * One direction of a TCP connection. The flow table calls `syn` (if the handshake was seen),
 * `segment` for every segment carrying payload, and `flush` when the flow ends.
 *
 * - The first data segment sets the expected sequence when no SYN was seen (mid-stream capture).
 * - In-order payload goes straight to the sink (no copy); bytes already delivered are trimmed.
 * - Data ahead of the expected sequence is copied into a buffer ordered by sequence number, trimmed
 *   against what is already buffered (first-seen data wins), and delivered when the hole fills.
 * - When the buffer would exceed its bounds, the hole is declared lost (`sink.gap`), the stream
 *   skips to the earliest data held, and reassembly continues.
 */
export class TcpStream {
  /** Bytes of segments that carried nothing new (pure retransmissions). */
  retransmittedBytes = 0;
  /** Bytes trimmed from segments that also carried new data (partial overlaps). */
  overlapBytes = 0;
  /** Segments that started ahead of the expected sequence number. */
  outOfOrderSegments = 0;
  /** Gaps declared and the bytes they skipped. */
  gaps = 0;
  gapBytes = 0;
  /** Bytes handed to the sink. */
  deliveredBytes = 0;

  private readonly sink: TcpStreamSink;
  private readonly maxBytes: number;
  private readonly maxSegments: number;
  private started = false;
  private midStream = false;
  private next = 0;
  // Out-of-order runs as parallel arrays, sorted by sequence number, never overlapping and all
  // starting after `next`. Small (bounded by maxSegments) so linear scans are fine.
  private readonly seqs: number[] = [];
  private readonly bufs: Uint8Array[] = [];
  private readonly times: number[] = [];
  private buffered = 0;

  constructor(sink: TcpStreamSink, limits: TcpStreamLimits = DEFAULT_LIMITS) {
    this.sink = sink;
    this.maxBytes = Math.max(0, limits.maxBufferedBytes);
    this.maxSegments = Math.max(0, limits.maxBufferedSegments);
  }

  /** True once the stream's position is known (SYN or first data segment). */
  get isStarted(): boolean {
    return this.started;
  }

  /** True when the start of the stream was not seen (no SYN before the first data). */
  get startedMidStream(): boolean {
    return this.midStream;
  }

  /** The next sequence number expected, once started. */
  get nextSeq(): number {
    return this.next;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  get bufferedSegments(): number {
    return this.seqs.length;
  }

  /** The SYN's sequence number; data starts at seq + 1. A SYN after the stream started is ignored. */
  syn(seq: number): void {
    if (this.started) return;
    this.started = true;
    this.next = (seq + 1) >>> 0;
  }

  /**
   * `segment` for the payload `buf[off, off + len)`, without making a view of it when it arrives in
   * order (most segments); out-of-order and overlapping data take the general path.
   */
  segmentAt(seq: number, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (len === 0) return;
    seq >>>= 0;
    if (!this.started) {
      this.started = true;
      this.midStream = true;
      this.next = seq;
    }
    const sink = this.sink;
    if (seq === this.next && this.seqs.length === 0 && sink.dataAt !== undefined) {
      this.next = (seq + len) >>> 0;
      this.deliveredBytes += len;
      sink.dataAt(buf, off, len, tsMicros);
      return;
    }
    this.segment(seq, buf.subarray(off, off + len), tsMicros);
  }

  /** A segment's sequence number and payload; `payload` is only read during the call. */
  segment(seq: number, payload: Uint8Array, tsMicros: number): void {
    const len = payload.length;
    if (len === 0) return;
    seq >>>= 0;
    if (!this.started) {
      this.started = true;
      this.midStream = true;
      this.next = seq;
    }
    if (seq === this.next && this.seqs.length === 0) {
      this.next = (seq + len) >>> 0;
      this.deliveredBytes += len;
      this.sink.data(payload, tsMicros);
      return;
    }
    this.place(seq, payload, tsMicros);
  }

  /** End of the flow: deliver everything buffered, reporting each hole before the data after it. */
  flush(): void {
    while (this.seqs.length > 0) {
      const hole = seqDiff(this.seqs[0]!, this.next);
      if (hole > 0) this.skip(hole);
      this.drain();
    }
  }

  /** The slow path: a segment that overlaps old data, is ahead of `next`, or meets buffered data. */
  private place(seq: number, payload: Uint8Array, ts: number): void {
    const len = payload.length;
    if (seqDiff(seq, this.next) > 0) this.outOfOrderSegments++;
    let pos = 0;
    let trimmed = 0;
    let fresh = 0;
    while (pos < len) {
      const cur = (seq + pos) >>> 0;
      const behind = seqDiff(this.next, cur);
      if (behind > 0) {
        const n = Math.min(behind, len - pos);
        trimmed += n;
        pos += n;
        continue;
      }
      const seqs = this.seqs;
      const count = seqs.length;
      let i = 0;
      while (i < count && seqDiff(seqs[i]! + this.bufs[i]!.length, cur) <= 0) i++;
      if (i < count && seqDiff(seqs[i]!, cur) <= 0) {
        // Already buffered: the first copy seen wins.
        const n = Math.min(seqDiff(seqs[i]! + this.bufs[i]!.length, cur), len - pos);
        trimmed += n;
        pos += n;
        continue;
      }
      const end = i < count ? Math.min(len, seqDiff(seqs[i]!, seq)) : len;
      const piece = pos === 0 && end === len ? payload : payload.subarray(pos, end);
      fresh += end - pos;
      pos = end;
      if (cur === this.next) this.deliverAndDrain(piece, ts);
      else this.store(i, cur, piece, ts);
    }
    if (fresh === 0) this.retransmittedBytes += len;
    else this.overlapBytes += trimmed;
  }

  /** Buffers a piece that starts after `next` at index i, declaring gaps while it would not fit. */
  private store(i: number, cur: number, piece: Uint8Array, ts: number): void {
    while (this.buffered + piece.length > this.maxBytes || this.seqs.length + 1 > this.maxSegments) {
      if (this.seqs.length > 0 && seqDiff(this.seqs[0]!, cur) < 0) {
        // Skip to the earliest buffered data; what drains cannot pass `cur`, which is not buffered.
        this.skip(seqDiff(this.seqs[0]!, this.next));
        this.drain();
        if (cur === this.next) {
          this.deliverAndDrain(piece, ts);
          return;
        }
      } else {
        // The piece itself is the earliest data held: skip to it and pass it on uncopied.
        this.skip(seqDiff(cur, this.next));
        this.deliverAndDrain(piece, ts);
        return;
      }
    }
    // Buffered runs before the insertion point may have drained; find the position again.
    let at = Math.min(i, this.seqs.length);
    while (at > 0 && seqDiff(this.seqs[at - 1]!, cur) > 0) at--;
    while (at < this.seqs.length && seqDiff(this.seqs[at]!, cur) < 0) at++;
    this.seqs.splice(at, 0, cur);
    this.bufs.splice(at, 0, piece.slice());
    this.times.splice(at, 0, ts);
    this.buffered += piece.length;
  }

  private deliverAndDrain(piece: Uint8Array, ts: number): void {
    this.next = (this.next + piece.length) >>> 0;
    this.deliveredBytes += piece.length;
    this.sink.data(piece, ts);
    this.drain();
  }

  /** Delivers buffered runs that start exactly at `next`. */
  private drain(): void {
    while (this.seqs.length > 0 && this.seqs[0] === this.next) {
      this.seqs.shift();
      const buf = this.bufs.shift()!;
      const ts = this.times.shift()!;
      this.buffered -= buf.length;
      this.next = (this.next + buf.length) >>> 0;
      this.deliveredBytes += buf.length;
      this.sink.data(buf, ts);
    }
  }

  private skip(lost: number): void {
    this.next = (this.next + lost) >>> 0;
    this.gaps++;
    this.gapBytes += lost;
    this.sink.gap(lost);
  }
}
