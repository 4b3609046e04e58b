// Synchronous push parser for classic pcap (draft-ietf-opsawg-pcap) and pcapng
// (draft-ietf-opsawg-pcapng): turns byte chunks into struct-of-arrays PacketBatches.

import { LIMITS } from '../core/limits.ts';
import { CaptureError, type CaptureFormat, type CaptureStats, type PacketBatch } from './types.ts';

export interface CaptureParserOptions {
  /** Largest record or block accepted; a larger length stops the file (default LIMITS.maxRecordBytes). */
  readonly maxRecordBytes?: number;
}

/** What the first bytes of a stream look like. `short`: too few bytes to tell. */
export type SniffResult = CaptureFormat | 'gzip' | 'short' | 'unknown';

const PCAP_US = 0xa1b2c3d4;
const PCAP_US_SWAPPED = 0xd4c3b2a1;
const PCAP_NS = 0xa1b23c4d;
const PCAP_NS_SWAPPED = 0x4d3cb2a1;
const BT_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const BT_IDB = 1;
const BT_PB = 2; // obsolete Packet Block
const BT_SPB = 3;
const BT_EPB = 6;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const EPB_MIN = 32;
const TWO32 = 4294967296;
/** Interfaces per pcapng section; each IDB costs a few numbers, so a hostile file cannot grow this without bound. */
const MAX_INTERFACES = 65_536;

const DETECT = 0;
const PCAP = 1;
const PCAPNG = 2;
const STOPPED = 3;
type Mode = typeof DETECT | typeof PCAP | typeof PCAPNG | typeof STOPPED;

/** Timestamp conversions for pcapng interfaces; FAST covers every decimal resolution from µs to ps. */
const TS_FAST = 0;
const TS_BINARY = 1;
const TS_MULTIPLY = 2;
const TS_FLOAT = 3;

function readU32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function readU32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Recognises pcap, pcapng and gzip from the first bytes (12 are enough). */
export function sniffCapture(head: Uint8Array): SniffResult {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < 4) return 'short';
  const m = readU32le(head, 0);
  if (m === PCAP_US || m === PCAP_US_SWAPPED) return 'pcap';
  if (m === PCAP_NS || m === PCAP_NS_SWAPPED) return 'pcap-ns';
  if (m === BT_SHB) {
    if (head.length < 12) return 'short';
    const bom = readU32le(head, 8);
    return bom === BYTE_ORDER_MAGIC || bom === BYTE_ORDER_MAGIC_SWAPPED ? 'pcapng' : 'unknown';
  }
  return 'unknown';
}

/** The user-facing text for input that is not a capture. */
export function notACaptureMessage(name: string, head: Uint8Array): string {
  const shown = Array.from(head.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
  const what = head.length < 4 ? `only ${head.length} byte${head.length === 1 ? '' : 's'}` : `first bytes ${shown}`;
  return `${name}: not a capture file (${what}): PlantGuard reads pcap, pcapng and their gzip-compressed forms`;
}

export function createCaptureStats(): CaptureStats {
  return {
    packets: 0,
    bytesRead: 0,
    capturedBytes: 0,
    snapTruncatedPackets: 0,
    truncated: false,
    issues: [],
    linkTypes: new Set<number>(),
    format: null,
    gzip: false,
  };
}

/**
 * Feed chunks in order with push(); each call returns the records completed by that chunk (or null).
 * A record split across chunks is kept by copying only the unfinished tail. Record bytes in a batch
 * are subarrays of the chunk (or of carry+chunk joined), so they stay valid as long as the batch.
 */
export class CaptureParser {
  readonly name: string;
  readonly stats: CaptureStats;
  private readonly maxRecord: number;
  private mode: Mode = DETECT;
  private ended = false;
  private le = true;
  private pcapLink = 1;
  private pcapNano = false;
  /** Stream offset (decompressed) of byte 0 of the buffer being parsed, then of the carry. */
  private base = 0;
  private received = 0;
  private carry: Uint8Array = new Uint8Array(0);
  private carryLen = 0;
  /** Bytes the carried record needs in total; pushes that cannot complete it only append. */
  private carryNeed = 0;
  private avgRecord = 128;
  private warnedCapOverOrig = false;
  private warnedInterface = false;
  private warnedInterfaceCap = false;
  /** Timestamp of the last record, used for Simple Packet Blocks, which carry none. */
  private lastTs = 0;

  // pcapng interfaces of the current section, one entry per IDB
  private ifLink: number[] = [];
  private ifSnap: number[] = [];
  private ifKind: number[] = [];
  /** TS_FAST: µs = high*ifQ + floor((high*ifR + low) / ifD), exact because every term stays below 2^53. */
  private ifQ: number[] = [];
  private ifR: number[] = [];
  private ifD: number[] = [];
  /** Other kinds: binary exponent, multiplier or units per second. */
  private ifP: number[] = [];
  private ifOff: number[] = [];

  // the batch being filled
  private n = 0;
  private cap = 0;
  private bTs = new Float64Array(0);
  private bOff = new Int32Array(0);
  private bCap = new Int32Array(0);
  private bOrig = new Int32Array(0);
  private bLink = new Int32Array(0);

  constructor(name: string, stats: CaptureStats, opts: CaptureParserOptions = {}) {
    this.name = name;
    this.stats = stats;
    this.maxRecord = opts.maxRecordBytes ?? LIMITS.maxRecordBytes;
  }

  /** True once a bad length or block stopped this file; further pushes are ignored. */
  get stopped(): boolean {
    return this.mode === STOPPED;
  }

  /** Bytes pushed so far (decompressed stream offset). */
  get offset(): number {
    return this.received;
  }

  /**
   * Parses the next chunk. `headroom`: how many bytes directly before `chunk` in its buffer are
   * free to overwrite (0 when unknown); a record cut by the previous chunk's end is then completed
   * in place there instead of copying the whole chunk behind it.
   */
  push(chunk: Uint8Array, headroom = 0): PacketBatch | null {
    if (this.mode === STOPPED || this.ended || chunk.length === 0) return null;
    this.received += chunk.length;
    let b: Uint8Array;
    if (this.carryLen > 0) {
      const total = this.carryLen + chunk.length;
      if (total < this.carryNeed) {
        // The record is still incomplete: append without parsing (carry was sized to carryNeed).
        this.carry.set(chunk, this.carryLen);
        this.carryLen = total;
        return null;
      }
      if (headroom >= this.carryLen && chunk.byteOffset >= this.carryLen) {
        b = new Uint8Array(chunk.buffer, chunk.byteOffset - this.carryLen, total);
        b.set(this.carry.subarray(0, this.carryLen));
      } else {
        b = new Uint8Array(total);
        b.set(this.carry.subarray(0, this.carryLen));
        b.set(chunk, this.carryLen);
      }
      this.carryLen = 0;
    } else {
      b = chunk;
    }

    let off = 0;
    if (this.mode === DETECT) {
      off = this.readFileHeader(b);
      if (off < 0) {
        this.keepTail(b, 0, -off);
        return null;
      }
    }

    this.startBatch(b.length - off);
    const start = off;
    for (;;) {
      off = this.mode === PCAP ? this.walkPcap(b, off) : this.walkPcapng(b, off);
      if (this.stopped || this.n < this.cap) break;
      this.growBatch();
    }
    const n = this.n;
    if (n > 0) this.avgRecord = Math.max(16, (off - start) / n);
    if (!this.stopped && off < b.length) this.keepTail(b, off, this.needAt(b, off));
    this.base += off;
    this.stats.packets += n;
    if (n === 0) return null;
    return {
      count: n,
      data: b,
      offset: this.bOff.subarray(0, n),
      capLen: this.bCap.subarray(0, n),
      origLen: this.bOrig.subarray(0, n),
      tsMicros: this.bTs.subarray(0, n),
      linkType: this.bLink.subarray(0, n),
    };
  }

  /**
   * Call once after the last chunk. An ending inside a record or block is recorded as
   * `capture.truncated`. Throws CaptureError for empty input or input too short to be a capture.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.mode === STOPPED) return;
    if (this.mode === DETECT) {
      if (this.received === 0) {
        this.mode = STOPPED;
        throw new CaptureError(
          'capture.empty',
          this.name,
          `${this.name}: the input is empty (0 bytes): no packets to read`,
        );
      }
      const head = this.carry.subarray(0, this.carryLen);
      if (head.length < 4) {
        this.mode = STOPPED;
        throw new CaptureError('capture.not_a_capture', this.name, notACaptureMessage(this.name, head));
      }
      this.truncatedIssue('the file header');
      return;
    }
    if (this.carryLen > 0) this.truncatedIssue(this.mode === PCAP ? 'a record' : 'a block');
  }

  private truncatedIssue(what: string): void {
    const s = this.stats;
    s.truncated = true;
    s.issues.push({
      code: 'capture.truncated',
      message:
        `${this.name}: the data ends inside ${what} at offset ${this.base} ` +
        `(${this.carryLen} of ${this.carryNeed} bytes present); ${s.packets} packets were read before it`,
      offset: this.base,
    });
  }

  private badLength(at: number, what: string): void {
    const s = this.stats;
    const offset = this.base + at;
    s.truncated = true;
    s.issues.push({
      code: 'capture.bad_record_length',
      message: `${this.name}: ${what} at offset ${offset}; stopped reading this file after ${s.packets + this.n} packets`,
      offset,
    });
    this.mode = STOPPED;
  }

  private anomaly(code: string, at: number, message: string): void {
    this.stats.issues.push({ code, message: `${this.name}: ${message}`, offset: this.base + at });
  }

  private capOverOrig(at: number, capLen: number, origLen: number): void {
    if (this.warnedCapOverOrig) return;
    this.warnedCapOverOrig = true;
    this.anomaly(
      'capture.caplen_exceeds_origlen',
      at,
      `record at offset ${this.base + at} has captured length ${capLen} above its original length ${origLen} ` +
        `(reported once per file; the captured bytes are used)`,
    );
  }

  /** Returns the first record offset, or -(bytes needed) when the header is not complete yet. */
  private readFileHeader(b: Uint8Array): number {
    const kind = sniffCapture(b);
    if (kind === 'short') return -(b.length < 4 ? 4 : 12);
    if (kind === 'unknown' || kind === 'gzip') {
      this.mode = STOPPED;
      throw new CaptureError('capture.not_a_capture', this.name, notACaptureMessage(this.name, b));
    }
    if (kind === 'pcapng') {
      this.mode = PCAPNG;
      this.stats.format = 'pcapng';
      return 0;
    }
    if (b.length < PCAP_HEADER) return -PCAP_HEADER;
    const m = readU32le(b, 0);
    this.le = m === PCAP_US || m === PCAP_NS;
    this.pcapNano = kind === 'pcap-ns';
    // Lower 16 bits: link type; the upper bits carry FCS-length information.
    this.pcapLink = (this.le ? readU32le(b, 20) : readU32be(b, 20)) & 0xffff;
    this.stats.linkTypes.add(this.pcapLink);
    this.stats.format = kind;
    this.mode = PCAP;
    return PCAP_HEADER;
  }

  /** Bytes the unit starting at `off` needs in total (its header, or the whole record once the header is in). */
  private needAt(b: Uint8Array, off: number): number {
    const avail = b.length - off;
    if (this.mode === PCAP) {
      if (avail < PCAP_RECORD_HEADER) return PCAP_RECORD_HEADER;
      const o = off + 8;
      return PCAP_RECORD_HEADER + (this.le ? readU32le(b, o) : readU32be(b, o));
    }
    if (avail < 12) return 12;
    let le = this.le;
    if (readU32le(b, off) === BT_SHB) le = readU32le(b, off + 8) === BYTE_ORDER_MAGIC;
    return le ? readU32le(b, off + 4) : readU32be(b, off + 4);
  }

  private keepTail(b: Uint8Array, off: number, need: number): void {
    const len = b.length - off;
    const size = Math.max(len, need);
    if (this.carry.length < size) this.carry = new Uint8Array(Math.max(size, 64));
    this.carry.set(b.subarray(off), 0);
    this.carryLen = len;
    this.carryNeed = need;
  }

  private startBatch(bytes: number): void {
    // Sized from the average record so far; growBatch() doubles it when a chunk holds smaller records.
    const worst = Math.floor(bytes / PCAP_RECORD_HEADER) + 1;
    this.allocBatch(Math.min(worst, Math.ceil((bytes / this.avgRecord) * 1.25) + 16));
    this.n = 0;
  }

  private allocBatch(cap: number): void {
    const buf = new ArrayBuffer(cap * 24);
    this.bTs = new Float64Array(buf, 0, cap);
    this.bOff = new Int32Array(buf, cap * 8, cap);
    this.bCap = new Int32Array(buf, cap * 12, cap);
    this.bOrig = new Int32Array(buf, cap * 16, cap);
    this.bLink = new Int32Array(buf, cap * 20, cap);
    this.cap = cap;
  }

  private growBatch(): void {
    const { bTs, bOff, bCap, bOrig, bLink } = this;
    this.allocBatch(this.cap * 2);
    this.bTs.set(bTs);
    this.bOff.set(bOff);
    this.bCap.set(bCap);
    this.bOrig.set(bOrig);
    this.bLink.set(bLink);
  }

  /** Classic pcap records; stops when the buffer runs out, the batch is full or a length is absurd. */
  private walkPcap(b: Uint8Array, off: number): number {
    const len = b.length;
    const max = this.maxRecord;
    const nano = this.pcapNano;
    const link = this.pcapLink;
    const le = this.le;
    const cap = this.cap;
    const tsA = this.bTs;
    const offA = this.bOff;
    const capA = this.bCap;
    const origA = this.bOrig;
    const linkA = this.bLink;
    let n = this.n;
    let bytes = 0;
    let snap = 0;
    while (n < cap && off + PCAP_RECORD_HEADER <= len) {
      let sec: number;
      let frac: number;
      let incl: number;
      let orig: number;
      if (le) {
        incl = (b[off + 8]! | (b[off + 9]! << 8) | (b[off + 10]! << 16) | (b[off + 11]! << 24)) >>> 0;
        if (incl > max) break;
        if (off + PCAP_RECORD_HEADER + incl > len) break;
        sec = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
        frac = (b[off + 4]! | (b[off + 5]! << 8) | (b[off + 6]! << 16) | (b[off + 7]! << 24)) >>> 0;
        orig = (b[off + 12]! | (b[off + 13]! << 8) | (b[off + 14]! << 16) | (b[off + 15]! << 24)) >>> 0;
      } else {
        incl = ((b[off + 8]! << 24) | (b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!) >>> 0;
        if (incl > max) break;
        if (off + PCAP_RECORD_HEADER + incl > len) break;
        sec = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
        frac = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
        orig = ((b[off + 12]! << 24) | (b[off + 13]! << 16) | (b[off + 14]! << 8) | b[off + 15]!) >>> 0;
      }
      tsA[n] = sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac);
      offA[n] = off + PCAP_RECORD_HEADER;
      capA[n] = incl;
      origA[n] = orig > 0x7fffffff ? 0x7fffffff : orig;
      linkA[n] = link;
      if (incl < orig) snap++;
      else if (incl > orig) this.capOverOrig(off, incl, orig);
      bytes += incl;
      n++;
      off += PCAP_RECORD_HEADER + incl;
    }
    this.pcapWalked(b, off, n, bytes, snap);
    return off;
  }

  /**
   * The bookkeeping after a walkPcap loop, in a function of its own: the loop is compiled while
   * it runs (on-stack replacement), before this code has ever run, and would otherwise be thrown
   * away each time it reaches code without type feedback.
   */
  private pcapWalked(b: Uint8Array, off: number, n: number, bytes: number, snap: number): void {
    this.n = n;
    this.stats.capturedBytes += bytes;
    this.stats.snapTruncatedPackets += snap;
    if (n < this.cap && off + PCAP_RECORD_HEADER <= b.length) {
      const incl = this.le ? readU32le(b, off + 8) : readU32be(b, off + 8);
      const max = this.maxRecord;
      if (incl > max) this.badLength(off, `record length ${incl} is beyond the limit of ${max} bytes`);
    }
    if (n > 0) this.lastTs = this.bTs[n - 1]!;
  }

  private walkPcapng(b: Uint8Array, off: number): number {
    for (;;) {
      if (this.le) off = this.walkEpbLe(b, off);
      if (this.n === this.cap || this.mode === STOPPED) return off;
      const next = this.oneBlock(b, off);
      if (next < 0) return off;
      off = next;
    }
  }

  /**
   * The hot path of little-endian pcapng: consecutive well-formed EPBs on interfaces with a decimal
   * resolution. Anything else returns to oneBlock(), which handles (or reports) it.
   */
  private walkEpbLe(b: Uint8Array, off: number): number {
    const len = b.length;
    const max = this.maxRecord;
    const cap = this.cap;
    const nIf = this.ifLink.length;
    const { ifLink, ifKind, ifQ, ifR, ifD, ifOff } = this;
    const tsA = this.bTs;
    const offA = this.bOff;
    const capA = this.bCap;
    const origA = this.bOrig;
    const linkA = this.bLink;
    let n = this.n;
    let bytes = 0;
    let snap = 0;
    while (n < cap && off + 12 <= len) {
      if ((b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) !== BT_EPB) break;
      const blen = (b[off + 4]! | (b[off + 5]! << 8) | (b[off + 6]! << 16) | (b[off + 7]! << 24)) >>> 0;
      if (blen > max || blen < EPB_MIN || (blen & 3) !== 0 || off + blen > len) break;
      const ifc = (b[off + 8]! | (b[off + 9]! << 8) | (b[off + 10]! << 16) | (b[off + 11]! << 24)) >>> 0;
      if (ifc >= nIf || ifKind[ifc] !== TS_FAST) break;
      const incl = (b[off + 20]! | (b[off + 21]! << 8) | (b[off + 22]! << 16) | (b[off + 23]! << 24)) >>> 0;
      if (incl > blen - EPB_MIN) break;
      const orig = (b[off + 24]! | (b[off + 25]! << 8) | (b[off + 26]! << 16) | (b[off + 27]! << 24)) >>> 0;
      const high = (b[off + 12]! | (b[off + 13]! << 8) | (b[off + 14]! << 16) | (b[off + 15]! << 24)) >>> 0;
      const low = (b[off + 16]! | (b[off + 17]! << 8) | (b[off + 18]! << 16) | (b[off + 19]! << 24)) >>> 0;
      tsA[n] = high * ifQ[ifc]! + Math.floor((high * ifR[ifc]! + low) / ifD[ifc]!) + ifOff[ifc]!;
      offA[n] = off + 28;
      capA[n] = incl;
      origA[n] = orig > 0x7fffffff ? 0x7fffffff : orig;
      linkA[n] = ifLink[ifc]!;
      if (incl < orig) snap++;
      else if (incl > orig) this.capOverOrig(off, incl, orig);
      bytes += incl;
      n++;
      off += blen;
    }
    this.n = n;
    this.stats.capturedBytes += bytes;
    this.stats.snapTruncatedPackets += snap;
    if (n > 0) this.lastTs = tsA[n - 1]!;
    return off;
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le ? readU32le(b, o) : readU32be(b, o);
  }

  private u16(b: Uint8Array, o: number): number {
    return this.le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
  }

  /** One block of any type in either byte order; the next offset, or -1 when incomplete or stopped. */
  private oneBlock(b: Uint8Array, off: number): number {
    const len = b.length;
    if (off + 12 > len) return -1;
    let type = readU32le(b, off);
    let le = this.le;
    if (type === BT_SHB) {
      // The Section Header Block's own byte-order magic decides how to read its length.
      const bom = readU32le(b, off + 8);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (bom === BYTE_ORDER_MAGIC_SWAPPED) le = false;
      else {
        this.stats.truncated = true;
        this.anomaly(
          'capture.bad_block',
          off,
          `section header at offset ${this.base + off} has no valid byte-order magic; ` +
            `stopped reading this file after ${this.stats.packets + this.n} packets`,
        );
        this.mode = STOPPED;
        return -1;
      }
    } else if (!le) {
      type = readU32be(b, off);
    }
    const blen = le ? readU32le(b, off + 4) : readU32be(b, off + 4);
    if (blen < 12 || (blen & 3) !== 0 || blen > this.maxRecord) {
      const why =
        blen > this.maxRecord ? `beyond the limit of ${this.maxRecord} bytes` : 'not a multiple of 4 of at least 12';
      this.badLength(off, `block of type 0x${type.toString(16)} has length ${blen} (${why})`);
      return -1;
    }
    if (off + blen > len) return -1;
    switch (type) {
      case BT_SHB:
        if (blen < 28) {
          this.badLength(off, `section header block length ${blen} is below its 28-byte minimum`);
          return -1;
        }
        this.le = le;
        this.resetInterfaces();
        break;
      case BT_IDB:
        if (blen < 20) {
          this.badLength(off, `interface description block length ${blen} is below its 20-byte minimum`);
          return -1;
        }
        this.addInterface(b, off, blen);
        break;
      case BT_EPB:
      case BT_PB: {
        if (blen < EPB_MIN) {
          this.badLength(off, `packet block length ${blen} is below its 32-byte minimum`);
          return -1;
        }
        const ifc = type === BT_EPB ? this.u32(b, off + 8) : this.u16(b, off + 8);
        const incl = this.u32(b, off + 20);
        if (incl > blen - EPB_MIN) {
          this.badLength(off, `packet block claims ${incl} captured bytes but its block holds only ${blen - EPB_MIN}`);
          return -1;
        }
        if (!this.knownInterface(ifc, off)) break;
        const ts = this.unitsToMicros(ifc, this.u32(b, off + 12), this.u32(b, off + 16));
        this.addRecord(off, off + 28, incl, this.u32(b, off + 24), ts, this.ifLink[ifc]!);
        break;
      }
      case BT_SPB: {
        if (blen < 16) {
          this.badLength(off, `simple packet block length ${blen} is below its 16-byte minimum`);
          return -1;
        }
        if (!this.knownInterface(0, off)) break;
        const orig = this.u32(b, off + 8);
        const snaplen = this.ifSnap[0]!;
        let incl = Math.min(orig, blen - 16);
        if (snaplen > 0 && snaplen < incl) incl = snaplen;
        // An SPB has no timestamp: it takes the previous record's, which keeps time order for merging.
        this.addRecord(off, off + 12, incl, orig, this.lastTs, this.ifLink[0]!);
        break;
      }
      default:
        // NRB, ISB, DSB, custom and unknown blocks carry no packets: skipped by their length.
        break;
    }
    return off + blen;
  }

  private addRecord(at: number, dataOff: number, incl: number, orig: number, ts: number, link: number): void {
    const n = this.n;
    this.bTs[n] = ts;
    this.bOff[n] = dataOff;
    this.bCap[n] = incl;
    this.bOrig[n] = orig > 0x7fffffff ? 0x7fffffff : orig;
    this.bLink[n] = link;
    this.n = n + 1;
    this.lastTs = ts;
    const s = this.stats;
    s.capturedBytes += incl;
    if (incl < orig) s.snapTruncatedPackets++;
    else if (incl > orig) this.capOverOrig(at, incl, orig);
  }

  private knownInterface(ifc: number, at: number): boolean {
    if (ifc < this.ifLink.length) return true;
    if (!this.warnedInterface) {
      this.warnedInterface = true;
      this.anomaly(
        'capture.unknown_interface',
        at,
        `packet at offset ${this.base + at} refers to interface ${ifc}, but its section describes ` +
          `${this.ifLink.length}; such packets are skipped (reported once per file)`,
      );
    }
    return false;
  }

  private resetInterfaces(): void {
    this.ifLink = [];
    this.ifSnap = [];
    this.ifKind = [];
    this.ifQ = [];
    this.ifR = [];
    this.ifD = [];
    this.ifP = [];
    this.ifOff = [];
  }

  private addInterface(b: Uint8Array, off: number, blen: number): void {
    if (this.ifLink.length >= MAX_INTERFACES) {
      if (!this.warnedInterfaceCap) {
        this.warnedInterfaceCap = true;
        this.anomaly('capture.too_many_interfaces', off, `more than ${MAX_INTERFACES} interfaces in one section`);
      }
      return;
    }
    const link = this.u16(b, off + 8);
    const snaplen = this.u32(b, off + 12);
    let tsresol = 6;
    let offsetMicros = 0;
    const end = off + blen - 4;
    let p = off + 16;
    while (p + 4 <= end) {
      const code = this.u16(b, p);
      const olen = this.u16(b, p + 2);
      p += 4;
      if (code === 0 || p + olen > end) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = b[p]!;
      else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        // Signed 64-bit seconds added to every timestamp of the interface.
        const hi = this.le ? this.u32(b, p + 4) : this.u32(b, p);
        const lo = this.le ? this.u32(b, p) : this.u32(b, p + 4);
        offsetMicros = ((hi | 0) * TWO32 + lo) * 1e6;
      }
      p += (olen + 3) & ~3;
    }
    this.ifLink.push(link);
    this.ifSnap.push(snaplen);
    this.ifOff.push(offsetMicros);
    this.stats.linkTypes.add(link);
    const exp = tsresol & 0x7f;
    let kind = TS_FLOAT;
    let d = 1;
    let param = 0;
    if (tsresol & 0x80) {
      kind = TS_BINARY;
      param = exp;
    } else if (exp >= 6 && exp <= 12) {
      kind = TS_FAST;
      d = 10 ** (exp - 6);
    } else if (exp < 6) {
      kind = TS_MULTIPLY;
      param = 10 ** (6 - exp);
    } else {
      param = exp;
    }
    this.ifKind.push(kind);
    this.ifD.push(d);
    this.ifQ.push(Math.floor(TWO32 / d));
    this.ifR.push(TWO32 % d);
    this.ifP.push(param);
  }

  /** A 64-bit timestamp (high, low words) in interface units, as µs since the epoch, rounded down. */
  private unitsToMicros(ifc: number, high: number, low: number): number {
    const off = this.ifOff[ifc]!;
    const p = this.ifP[ifc]!;
    const kind = this.ifKind[ifc];
    if (kind === TS_FAST) {
      return high * this.ifQ[ifc]! + Math.floor((high * this.ifR[ifc]! + low) / this.ifD[ifc]!) + off;
    }
    if (kind === TS_BINARY) {
      // Split into whole seconds and a fraction so the products stay exact.
      if (p <= 32) {
        const unit = 2 ** p;
        const sec = high * 2 ** (32 - p) + Math.floor(low / unit);
        return sec * 1e6 + Math.floor(((low % unit) * 1e6) / unit) + off;
      }
      const hiUnit = 2 ** (p - 32);
      const sec = Math.floor(high / hiUnit);
      const frac = (high - sec * hiUnit) / hiUnit + low / 2 ** p;
      return sec * 1e6 + Math.floor(frac * 1e6) + off;
    }
    if (kind === TS_MULTIPLY) return (high * TWO32 + low) * p + off;
    // Finer than picoseconds: not seen in practice, float precision is enough.
    return Math.floor(((high * TWO32 + low) / 10 ** p) * 1e6) + off;
  }
}
