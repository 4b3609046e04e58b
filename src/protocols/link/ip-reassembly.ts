// IP fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6), bounded in datagrams in
// progress, bytes per datagram and time. First-arrived data wins on overlap (counted as an anomaly).

interface Pending {
  readonly key: string;
  readonly firstTs: number;
  /** Received pieces, in arrival order; bytes are copies. */
  readonly pieces: { off: number; bytes: Uint8Array }[];
  bytes: number;
  /** Total payload length, known once the last fragment (MF = 0) arrived; −1 before. */
  total: number;
}

export interface ReassemblyLimits {
  readonly maxDatagrams: number;
  readonly maxBytes: number;
  readonly timeoutMicros: number;
}

export interface ReassemblyCounters {
  reassembled: number;
  fragments: number;
  timedOut: number;
  evicted: number;
  overlaps: number;
  oversize: number;
}

export class IpReassembler {
  readonly counters: ReassemblyCounters = {
    reassembled: 0,
    fragments: 0,
    timedOut: 0,
    evicted: 0,
    overlaps: 0,
    oversize: 0,
  };
  private readonly pending = new Map<string, Pending>();
  private readonly limits: ReassemblyLimits;

  constructor(limits: ReassemblyLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds one fragment (payload after the IP header). Returns the whole reassembled payload when
   * this fragment completes the datagram, else null.
   */
  add(key: string, fragOffset: number, more: boolean, payload: Uint8Array, tsMicros: number): Uint8Array | null {
    this.counters.fragments++;
    this.expire(tsMicros);
    let d = this.pending.get(key);
    if (d === undefined) {
      if (this.pending.size >= this.limits.maxDatagrams) {
        // Oldest first: Map iteration order is insertion order.
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
        this.counters.evicted++;
      }
      d = { key, firstTs: tsMicros, pieces: [], bytes: 0, total: -1 };
      this.pending.set(key, d);
    }
    const end = fragOffset + payload.length;
    if (end > this.limits.maxBytes) {
      this.counters.oversize++;
      this.pending.delete(key);
      return null;
    }
    for (const piece of d.pieces) {
      if (fragOffset < piece.off + piece.bytes.length && piece.off < end) {
        this.counters.overlaps++;
        break;
      }
    }
    d.pieces.push({ off: fragOffset, bytes: payload.slice() });
    d.bytes += payload.length;
    if (!more) d.total = end;
    if (d.total < 0) return null;
    // Complete when the pieces cover [0, total) without a hole.
    const sorted = d.pieces.slice().sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const piece of sorted) {
      if (piece.off > covered) return null;
      covered = Math.max(covered, piece.off + piece.bytes.length);
    }
    if (covered < d.total) return null;
    const out = new Uint8Array(d.total);
    // Later pieces are written first so that earlier-arrived data wins on overlap.
    for (let i = d.pieces.length - 1; i >= 0; i--) {
      const piece = d.pieces[i]!;
      const n = Math.min(piece.bytes.length, d.total - piece.off);
      if (n > 0) out.set(piece.bytes.subarray(0, n), piece.off);
    }
    this.pending.delete(key);
    this.counters.reassembled++;
    return out;
  }

  private expire(now: number): void {
    for (const d of this.pending.values()) {
      if (now - d.firstTs <= this.limits.timeoutMicros) break;
      this.pending.delete(d.key);
      this.counters.timedOut++;
    }
  }

  /** Datagrams still incomplete at the end of the input. */
  incomplete(): number {
    return this.pending.size;
  }
}
