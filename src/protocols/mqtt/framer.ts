// Cuts one direction of an MQTT connection into control packets (MQTT 3.1.1 §2.2, 5.0 §2.1: fixed
// header with a Remaining Length of up to four bytes). Unlike PduFramer it can skip: a packet longer
// than the maximum PDU (a PUBLISH of an image, a firmware file) is passed on as its first bytes and
// the rest of it is discarded as it arrives, so one large message never costs a resynchronisation.

import { MAX_HEAD, TYPE } from './constants.ts';
import { frameMqttAt } from './decode.ts';

/**
 * Receives each packet: `pdu` holds the whole packet, or only its first bytes when `total` (the
 * packet's length) is larger. The bytes are only valid during the call.
 */
export type PacketSink = (pdu: Uint8Array, total: number, tsMicros: number) => void;

/**
 * - Packets inside one chunk are passed on as subarrays of it (no copy); a packet split across chunks
 *   is assembled in a buffer that grows to the packet's size (at most `maxPdu`).
 * - In sync, bytes that cannot start a packet are reported once through `onLoss` and the framer
 *   resynchronises; so does a gap, except one that falls inside the skipped rest of a large packet.
 * - Resynchronising, offset p of a chunk is accepted when a plausible packet frames there and either
 *   ends with the chunk or is followed by another plausible packet (or a header cut by the chunk end);
 *   a PUBLISH that runs past the chunk is accepted when its topic is printable text. Offsets are only tried within one chunk (a header cut by the
 *   chunk end is lost), so after a loss the result may depend on how the data was cut; in sync it
 *   does not.
 */
export class MqttFramer {
  /** Packets delivered (whole or as heads). */
  pdus = 0;
  /** Times sync was lost (bad bytes or a gap). */
  resyncs = 0;
  /** Bytes discarded while resynchronising. */
  skippedBytes = 0;

  private readonly onPdu: PacketSink;
  private readonly onLoss: () => void;
  private readonly maxPdu: number;
  private readonly maxHead: number;

  private buf: Uint8Array | null = null;
  /** Bytes held in `buf`: a split header (need 0) or the first `have` of `need` bytes to deliver. */
  private have = 0;
  private need = 0;
  /** Full length of the packet being assembled (above `need` when only its head is kept). */
  private total = 0;
  /** Bytes of an oversized packet still to discard. */
  private skip = 0;
  private syncing = false;

  private readonly plausible: (pdu: Uint8Array) => boolean;

  /**
   * `plausible` vets candidate packets while resynchronising (e.g. that they decode cleanly): MQTT's
   * one-byte type and length prefix alone matches too much of other data.
   */
  constructor(
    onPdu: PacketSink,
    onLoss: () => void,
    maxPdu: number,
    plausible: (pdu: Uint8Array) => boolean = () => true,
    maxHead = Math.min(maxPdu, MAX_HEAD),
  ) {
    if (!Number.isInteger(maxPdu) || maxPdu < 5) throw new RangeError('maxPdu must be an integer of at least 5');
    this.onPdu = onPdu;
    this.onLoss = onLoss;
    this.plausible = plausible;
    this.maxPdu = maxPdu;
    this.maxHead = Math.max(5, Math.min(maxHead, maxPdu));
  }

  /** True while looking for a packet boundary. */
  get resynchronising(): boolean {
    return this.syncing;
  }

  /** Bytes held across calls. */
  get bufferedBytes(): number {
    return this.have;
  }

  data(bytes: Uint8Array, tsMicros: number): void {
    const end = bytes.length;
    let pos = 0;
    while (pos < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - pos);
        this.skip -= n;
        pos += n;
      } else if (this.syncing) pos = this.seek(bytes, pos, end);
      else if (this.have > 0) pos = this.fill(bytes, pos, end, tsMicros);
      else pos = this.cut(bytes, pos, end, tsMicros);
    }
  }

  gap(lostBytes: number): void {
    if (this.skip > 0 && lostBytes < this.skip && this.have === 0) {
      // The lost bytes were to be discarded anyway: still in sync.
      this.skip -= lostBytes;
      return;
    }
    this.skippedBytes += this.have;
    this.have = 0;
    this.need = 0;
    this.skip = 0;
    if (!this.syncing) {
      this.syncing = true;
      this.resyncs++;
    }
  }

  /** In sync, nothing held: deliver the packets of bytes[pos..]; returns where to go on. */
  private cut(bytes: Uint8Array, pos: number, end: number, ts: number): number {
    const len = frameMqttAt(bytes, pos, end - pos);
    if (len < 0) {
      this.lose();
      return pos;
    }
    if (len === 0) return this.hold(bytes, pos, end, 0, 0);
    const head = len <= this.maxPdu ? len : this.maxHead;
    if (pos + head > end) return this.hold(bytes, pos, end, head, len);
    this.pdus++;
    this.onPdu(pos === 0 && head === end ? bytes : bytes.subarray(pos, pos + head), len, ts);
    this.skip = len - head;
    return pos + head;
  }

  /** Copies the start of a packet that runs past the chunk. */
  private hold(bytes: Uint8Array, pos: number, end: number, need: number, total: number): number {
    const n = end - pos;
    const buf = this.reserve(Math.max(need, n, 5));
    buf.set(bytes.subarray(pos, end), 0);
    this.have = n;
    this.need = need;
    this.total = total;
    return end;
  }

  /** Continues a held packet (or header) with bytes[pos..]; returns where to go on. */
  private fill(bytes: Uint8Array, pos: number, end: number, ts: number): number {
    if (this.need === 0) {
      // The header itself was split: add up to five bytes and ask again.
      const had = this.have;
      const n = Math.min(end - pos, 5 - had);
      const buf = this.reserve(5);
      buf.set(bytes.subarray(pos, pos + n), had);
      const len = frameMqttAt(buf, 0, had + n);
      if (len < 0) {
        this.skippedBytes += had;
        this.have = 0;
        this.lose();
        return pos;
      }
      if (len === 0) {
        this.have = had + n;
        return pos + n;
      }
      // Decided: keep the header bytes and go on as a packet of known length (the n bytes are re-read).
      this.have = had;
      this.total = len;
      this.need = len <= this.maxPdu ? len : this.maxHead;
      this.reserve(this.need);
      return pos;
    }
    const buf = this.buf!;
    const n = Math.min(end - pos, this.need - this.have);
    buf.set(bytes.subarray(pos, pos + n), this.have);
    this.have += n;
    if (this.have < this.need) return end;
    const head = this.need;
    const total = this.total;
    this.have = 0;
    this.need = 0;
    this.total = 0;
    this.pdus++;
    this.onPdu(buf.subarray(0, head), total, ts);
    this.skip = total - head;
    return pos + n;
  }

  /** A buffer of at least `n` bytes holding the `have` bytes kept so far. */
  private reserve(n: number): Uint8Array {
    const cur = this.buf;
    if (cur !== null && cur.length >= n) return cur;
    const next = new Uint8Array(Math.min(Math.max(n, 256, (cur?.length ?? 0) * 2), Math.max(this.maxPdu, 5)));
    if (cur !== null && this.have > 0) next.set(cur.subarray(0, this.have), 0);
    this.buf = next;
    return next;
  }

  private lose(): void {
    this.syncing = true;
    this.resyncs++;
    this.onLoss();
  }

  /** Resynchronising: the first acceptable packet start in bytes[pos, end), or end. */
  private seek(bytes: Uint8Array, pos: number, end: number): number {
    for (let p = pos; p < end; p++) {
      const len = frameMqttAt(bytes, p, end - p);
      if (len <= 0) continue;
      const q = p + len;
      let accept: boolean;
      if (q > end) accept = bytes[p]! >> 4 === TYPE.publish && plausibleTopic(bytes, p, end);
      else if (!this.plausible(bytes.subarray(p, q))) accept = false;
      else if (q === end) accept = true;
      else {
        const next = frameMqttAt(bytes, q, end - q);
        accept = next === 0 ? end - q < 5 : next > 0 && (q + next > end || this.plausible(bytes.subarray(q, q + next)));
      }
      if (!accept) continue;
      this.syncing = false;
      this.skippedBytes += p - pos;
      return p;
    }
    this.skippedBytes += end - pos;
    return end;
  }
}

/** A PUBLISH at p whose topic length fits and whose topic bytes (those present) are printable. */
function plausibleTopic(bytes: Uint8Array, p: number, end: number): boolean {
  let h = p + 1;
  while (h < end && (bytes[h]! & 0x80) !== 0) h++;
  h++;
  if (h + 2 > end) return false;
  const n = (bytes[h]! << 8) | bytes[h + 1]!;
  if (n === 0) return false;
  const stop = Math.min(end, h + 2 + n);
  for (let i = h + 2; i < stop; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c === 0x7f || c === 0x23 || c === 0x2b) return false; // control, '#', '+'
  }
  return true;
}
