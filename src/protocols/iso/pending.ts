// A bounded table of requests waiting for their response, keyed by the protocol's pairing number
// (S7 PDU reference, S7comm-plus sequence number, MMS invokeID), oldest first.

/**
 * Requests waiting for their response, at most `max`. `add` hands back the entry it displaced: the
 * one with the same key, or the oldest when the table is full, so the caller can report it
 * unanswered. Map iteration order is insertion order, so the first key is the oldest.
 */
export class PendingTable<T> {
  private readonly max: number;
  private readonly map = new Map<number, T>();

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  get size(): number {
    return this.map.size;
  }

  add(key: number, value: T): T | undefined {
    const same = this.map.get(key);
    if (same !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
      return same;
    }
    let evicted: T | undefined;
    if (this.map.size >= this.max) evicted = this.takeOldest();
    this.map.set(key, value);
    return evicted;
  }

  take(key: number): T | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }

  takeOldest(): T | undefined {
    const first = this.map.keys().next();
    if (first.done === true) return undefined;
    const v = this.map.get(first.value);
    this.map.delete(first.value);
    return v;
  }
}
