// Requests waiting for their response, keyed by the protocol's pairing number (Modbus transaction
// and unit, DNP3 addresses and sequence, S7 PDU reference, MMS invokeID...), oldest first.

/**
 * Requests in the order they were added. The newest sits in a slot of its own: a poller has one
 * request outstanding at a time, so pairing then touches no Map at all. Older ones are in a Map,
 * whose iteration order is insertion order, so its first key is the oldest; the slot is always
 * newer than any of them. Unbounded: callers bound it (see PendingTable).
 */
export class SlotTable<T> {
  private slotKey = -1;
  private slot: T | undefined = undefined;
  private readonly older = new Map<number, T>();

  get size(): number {
    return this.older.size + (this.slot === undefined ? 0 : 1);
  }

  has(key: number): boolean {
    return (this.slot !== undefined && this.slotKey === key) || (this.older.size > 0 && this.older.has(key));
  }

  /** Adds the newest entry; the key must not be present (take it first). */
  add(key: number, value: T): void {
    if (this.slot !== undefined) this.older.set(this.slotKey, this.slot);
    this.slotKey = key;
    this.slot = value;
  }

  /** Removes and returns the entry with this key. */
  take(key: number): T | undefined {
    const slot = this.slot;
    if (slot !== undefined && this.slotKey === key) {
      this.slot = undefined;
      return slot;
    }
    if (this.older.size === 0) return undefined;
    const v = this.older.get(key);
    if (v !== undefined) this.older.delete(key);
    return v;
  }

  /** Removes and returns the oldest entry. */
  takeOldest(): T | undefined {
    if (this.older.size > 0) {
      const first = this.older.keys().next();
      if (first.done !== true) {
        const v = this.older.get(first.value);
        this.older.delete(first.value);
        return v;
      }
    }
    const slot = this.slot;
    this.slot = undefined;
    return slot;
  }
}

/**
 * A SlotTable of at most `max` entries. `add` hands back the entry it displaced: the one with the
 * same key, or the oldest when the table is full, so the caller can report it unanswered.
 */
export class PendingTable<T> {
  private readonly max: number;
  private readonly table = new SlotTable<T>();

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  get size(): number {
    return this.table.size;
  }

  add(key: number, value: T): T | undefined {
    let displaced = this.table.take(key);
    if (displaced === undefined && this.table.size >= this.max) displaced = this.table.takeOldest();
    this.table.add(key, value);
    return displaced;
  }

  take(key: number): T | undefined {
    return this.table.take(key);
  }

  takeOldest(): T | undefined {
    return this.table.takeOldest();
  }
}
