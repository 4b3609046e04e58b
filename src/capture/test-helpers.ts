// Test-only builders for pcap and pcapng bytes, and helpers that flatten parser output into plain
// records for comparison. Not used by the product code.

import { CaptureParser, createCaptureStats } from './parser.ts';
import type { CaptureStats, PacketBatch } from './types.ts';

export interface FlatRecord {
  readonly data: string;
  readonly capLen: number;
  readonly origLen: number;
  readonly tsMicros: number;
  readonly linkType: number;
}

class Writer {
  private readonly parts: number[] = [];
  private readonly le: boolean;
  constructor(le: boolean) {
    this.le = le;
  }
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    const b = [v >>> 24, v >>> 16, v >>> 8, v].map((x) => x & 0xff);
    for (const x of this.le ? b.reverse() : b) this.u8(x);
    return this;
  }
  u64(v: bigint): this {
    const hi = Number((v >> 32n) & 0xffffffffn);
    const lo = Number(v & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  /** pcapng packet timestamps: the high 32-bit word first, then the low one, each in section order. */
  timestamp(units: bigint): this {
    return this.u32(Number((units >> 32n) & 0xffffffffn)).u32(Number(units & 0xffffffffn));
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesOf(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export interface PcapHeaderOptions {
  readonly le?: boolean;
  readonly nano?: boolean;
  readonly linkType?: number;
  readonly snaplen?: number;
}

/** 24-byte classic pcap file header. `linkType` may carry FCS bits in its upper 16 bits. */
export function pcapHeader(o: PcapHeaderOptions = {}): Uint8Array {
  const w = new Writer(o.le ?? true);
  return w
    .u32(o.nano === true ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(o.snaplen ?? 65535)
    .u32(o.linkType ?? 1)
    .done();
}

export interface PcapRecord {
  readonly sec: number;
  /** Microseconds, or nanoseconds in a `nano` file. */
  readonly frac: number;
  readonly data: Uint8Array;
  readonly origLen?: number;
  /** Overrides the captured-length field (for malformed records). */
  readonly capLenField?: number;
}

export function pcapRecord(r: PcapRecord, le = true): Uint8Array {
  const w = new Writer(le);
  w.u32(r.sec)
    .u32(r.frac)
    .u32(r.capLenField ?? r.data.length)
    .u32(r.origLen ?? r.data.length);
  return w.bytes(r.data).done();
}

export function pcapFile(records: readonly PcapRecord[], o: PcapHeaderOptions = {}): Uint8Array {
  return concat(pcapHeader(o), ...records.map((r) => pcapRecord(r, o.le ?? true)));
}

interface PcapngOption {
  readonly code: number;
  readonly value: Uint8Array;
}

function block(
  le: boolean,
  type: number,
  body: (w: Writer) => void,
  options: readonly PcapngOption[] = [],
): Uint8Array {
  const w = new Writer(le);
  body(w);
  w.pad4();
  if (options.length > 0) {
    for (const opt of options) w.u16(opt.code).u16(opt.value.length).bytes(opt.value).pad4();
    w.u16(0).u16(0);
  }
  const bodyBytes = w.done();
  const total = bodyBytes.length + 12;
  const out = new Writer(le).u32(type).u32(total).bytes(bodyBytes).u32(total);
  return out.done();
}

export function shb(le = true): Uint8Array {
  return block(le, 0x0a0d0d0a, (w) =>
    w
      .u32(0x1a2b3c4d)
      .u16(1)
      .u16(0)
      .u64(-1n & 0xffffffffffffffffn),
  );
}

export interface IdbOptions {
  readonly linkType?: number;
  readonly snaplen?: number;
  /** Raw if_tsresol byte: 9 = ns, 0x80 | 20 = 2^-20 s. */
  readonly tsresol?: number;
  /** if_tsoffset in seconds. */
  readonly tsoffset?: bigint;
}

export function idb(le: boolean, o: IdbOptions = {}): Uint8Array {
  const options: PcapngOption[] = [{ code: 2, value: new TextEncoder().encode('eth0') }];
  if (o.tsresol !== undefined) options.push({ code: 9, value: bytesOf(o.tsresol) });
  if (o.tsoffset !== undefined) options.push({ code: 14, value: new Writer(le).u64(o.tsoffset).done() });
  return block(
    le,
    1,
    (w) =>
      w
        .u16(o.linkType ?? 1)
        .u16(0)
        .u32(o.snaplen ?? 0),
    options,
  );
}

export interface EpbOptions {
  readonly iface?: number;
  /** Timestamp in the interface's units. */
  readonly units: bigint;
  readonly data: Uint8Array;
  readonly origLen?: number;
  readonly capLenField?: number;
  readonly comment?: string;
}

export function epb(le: boolean, o: EpbOptions): Uint8Array {
  const options = o.comment === undefined ? [] : [{ code: 1, value: new TextEncoder().encode(o.comment) }];
  return block(
    le,
    6,
    (w) =>
      w
        .u32(o.iface ?? 0)
        .timestamp(o.units)
        .u32(o.capLenField ?? o.data.length)
        .u32(o.origLen ?? o.data.length)
        .bytes(o.data),
    options,
  );
}

/** The obsolete Packet Block (type 2). */
export function packetBlock(le: boolean, o: EpbOptions): Uint8Array {
  return block(le, 2, (w) =>
    w
      .u16(o.iface ?? 0)
      .u16(0)
      .timestamp(o.units)
      .u32(o.data.length)
      .u32(o.origLen ?? o.data.length)
      .bytes(o.data),
  );
}

export function spb(le: boolean, data: Uint8Array, origLen = data.length): Uint8Array {
  return block(le, 3, (w) => w.u32(origLen).bytes(data));
}

/** A block of any type with an opaque body (NRB, ISB, custom, unknown). */
export function otherBlock(le: boolean, type: number, bodyLength: number): Uint8Array {
  return block(le, type, (w) => w.bytes(new Uint8Array(bodyLength).fill(0xee)));
}

/** A block header with an arbitrary length field and no body (for malformed input). */
export function rawBlockHeader(le: boolean, type: number, length: number): Uint8Array {
  return new Writer(le).u32(type).u32(length).done();
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function flatten(batch: PacketBatch): FlatRecord[] {
  const out: FlatRecord[] = [];
  for (let i = 0; i < batch.count; i++) {
    const o = batch.offset[i]!;
    const l = batch.capLen[i]!;
    out.push({
      data: hexOf(batch.data.subarray(o, o + l)),
      capLen: l,
      origLen: batch.origLen[i]!,
      tsMicros: batch.tsMicros[i]!,
      linkType: batch.linkType[i]!,
    });
  }
  return out;
}

/** Parses `bytes` pushed as the given chunks (split points), returning flat records and stats. */
/**
 * Parses `bytes` pushed in the chunks `splits` cut it into. With `headroom`, each chunk sits in a
 * fresh buffer behind that many junk bytes, passed to `push` as free room (as plain files are read).
 */
export function parseChunks(
  bytes: Uint8Array,
  splits: readonly number[] = [],
  maxRecordBytes?: number,
  headroom = 0,
): { records: FlatRecord[]; stats: CaptureStats } {
  const stats = createCaptureStats();
  const parser = new CaptureParser('test.pcap', stats, maxRecordBytes === undefined ? {} : { maxRecordBytes });
  const records: FlatRecord[] = [];
  const cuts = [...new Set(splits.filter((s) => s > 0 && s < bytes.length))].sort((a, b) => a - b);
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    let chunk = bytes.subarray(prev, cut);
    if (headroom > 0) {
      const buf = new Uint8Array(headroom + chunk.length).fill(0xee);
      buf.set(chunk, headroom);
      chunk = buf.subarray(headroom);
    }
    const batch = parser.push(chunk, headroom);
    if (batch !== null) records.push(...flatten(batch));
    prev = cut;
  }
  parser.end();
  return { records, stats };
}

export function hex(b: Uint8Array): string {
  return hexOf(b);
}
