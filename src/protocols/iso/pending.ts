// A bounded table of requests waiting for their response, keyed by the protocol's pairing number
// (S7 PDU reference, S7comm-plus sequence number, MMS invokeID), oldest first.

/**
 * Requests waiting for their response, at most `max`. `add` hands back the entry it displaced: the
 * one with the same key, or the oldest when the table is full, so the caller can report it
 * unanswered.
 *
 * The newest entry sits in a slot of its own: a poller has one request outstanding at a time, so
 * pairing then touches no Map at all. Older entries are in a Map, whose iteration order is
 * insertion order, so its first key is the oldest; the slot is always newer than any of them.
 */
export class PendingTable<T> {
  private readonly max: number;
  private readonly map = new Map<number, T>();
  private slotKey = -1;
  private slot: T | undefined = undefined;

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  get size(): number {
    return this.map.size + (this.slot === undefined ? 0 : 1);
  }

  add(key: number, value: T): T | undefined {
    const slot = this.slot;
    if (slot !== undefined && this.slotKey === key) {
      this.slot = value;
      return slot;
    }
    let displaced: T | undefined;
    if (this.map.size > 0) {
      displaced = this.map.get(key);
      if (displaced !== undefined) this.map.delete(key);
    }
    if (displaced === undefined && this.size >= this.max) displaced = this.takeOldest();
    if (this.slot !== undefined) this.map.set(this.slotKey, this.slot);
    this.slotKey = key;
    this.slot = value;
    return displaced;
  }

  take(key: number): T | undefined {
    const slot = this.slot;
    if (slot !== undefined && this.slotKey === key) {
      this.slot = undefined;
      return slot;
    }
    if (this.map.size === 0) return undefined;
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }

  takeOldest(): T | undefined {
    if (this.map.size > 0) {
      const first = this.map.keys().next();
      if (first.done !== true) {
        const v = this.map.get(first.value);
        this.map.delete(first.value);
        return v;
      }
    }
    const slot = this.slot;
    this.slot = undefined;
    return slot;
  }
}
