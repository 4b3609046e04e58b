// Merges several capture sources into one stream of PacketBatches in timestamp order (ties: the
// earlier source first). Holds one batch per source; output batches own fresh copies of the bytes.

import type { CaptureSource, PacketBatch } from './types.ts';

const OUT_RECORDS = 4096;
const OUT_BYTES = 1 << 20;

/** One source: its batches unchanged. Several: a k-way merge by `tsMicros`. */
export function mergeByTime(sources: readonly CaptureSource[]): AsyncIterable<PacketBatch> {
  if (sources.length === 1) return sources[0]!.batches();
  return mergeSorted(sources);
}

interface OutBatch {
  readonly data: Uint8Array;
  used: number;
  n: number;
  readonly tsMicros: Float64Array;
  readonly offset: Int32Array;
  readonly capLen: Int32Array;
  readonly origLen: Int32Array;
  readonly linkType: Int32Array;
}

function newOut(minBytes: number): OutBatch {
  return {
    data: new Uint8Array(Math.max(OUT_BYTES, minBytes)),
    used: 0,
    n: 0,
    tsMicros: new Float64Array(OUT_RECORDS),
    offset: new Int32Array(OUT_RECORDS),
    capLen: new Int32Array(OUT_RECORDS),
    origLen: new Int32Array(OUT_RECORDS),
    linkType: new Int32Array(OUT_RECORDS),
  };
}

function finish(out: OutBatch): PacketBatch {
  const n = out.n;
  return {
    count: n,
    data: out.data.subarray(0, out.used),
    offset: out.offset.subarray(0, n),
    capLen: out.capLen.subarray(0, n),
    origLen: out.origLen.subarray(0, n),
    tsMicros: out.tsMicros.subarray(0, n),
    linkType: out.linkType.subarray(0, n),
  };
}

/**
 * Copies records p.. of `b` that come before the bound (ts < boundTs, or <= when `inclusive`) into
 * `out`, as far as it has room; returns the first record not copied. Records that lie one after the
 * other in `b.data` (the parser's layout) are copied with one set() per run instead of one per record.
 */
function copyRun(out: OutBatch, b: PacketBatch, p: number, boundTs: number, inclusive: boolean): number {
  const { tsMicros: ts, offset, capLen, count } = b;
  const recRoom = OUT_RECORDS - out.n;
  const byteRoom = out.data.length - out.used;
  const start = offset[p] ?? 0;
  let q = p;
  let end = start;
  let contiguous = true;
  let sum = 0;
  while (q < count && q - p < recRoom) {
    const t = ts[q]!;
    if (inclusive ? t > boundTs : t >= boundTs) break;
    const o = offset[q]!;
    const l = capLen[q]!;
    if (o < end) contiguous = false;
    if ((contiguous ? o + l - start : sum + l) > byteRoom) break;
    sum += l;
    end = o + l;
    q++;
  }
  if (q === p) return q;
  const data = b.data;
  const dst = out.data;
  const oTs = out.tsMicros;
  const oOff = out.offset;
  const oCap = out.capLen;
  const oOrig = out.origLen;
  const oLink = out.linkType;
  const { origLen, linkType } = b;
  let n = out.n;
  let d = out.used;
  if (contiguous) {
    // Short spans (interleaved sources give runs of one record) copy faster by hand than via subarray().
    if (end - start < 256) for (let x = start; x < end; x++) dst[d + x - start] = data[x]!;
    else dst.set(data.subarray(start, end), d);
    const shift = d - start;
    for (let r = p; r < q; r++, n++) {
      oOff[n] = offset[r]! + shift;
      oTs[n] = ts[r]!;
      oCap[n] = capLen[r]!;
      oOrig[n] = origLen[r]!;
      oLink[n] = linkType[r]!;
    }
    d += end - start;
  } else {
    for (let r = p; r < q; r++, n++) {
      const o = offset[r]!;
      const l = capLen[r]!;
      dst.set(data.subarray(o, o + l), d);
      oOff[n] = d;
      oTs[n] = ts[r]!;
      oCap[n] = l;
      oOrig[n] = origLen[r]!;
      oLink[n] = linkType[r]!;
      d += l;
    }
  }
  out.used = d;
  out.n = n;
  return q;
}

async function* mergeSorted(sources: readonly CaptureSource[]): AsyncGenerator<PacketBatch> {
  const k = sources.length;
  const iters: AsyncIterator<PacketBatch>[] = [];
  const done: boolean[] = [];
  const cur: PacketBatch[] = [];
  const pos: number[] = [];
  /** Min-heap of source indices by (current record time, source index). */
  const heap: number[] = [];

  const key = (i: number): number => cur[i]!.tsMicros[pos[i]!]!;
  const less = (a: number, b: number): boolean => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb || (ka === kb && a < b);
  };
  const siftDown = (at: number): void => {
    const len = heap.length;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= len) return;
      const r = l + 1;
      const c = r < len && less(heap[r]!, heap[l]!) ? r : l;
      if (!less(heap[c]!, heap[at]!)) return;
      [heap[c], heap[at]] = [heap[at]!, heap[c]!];
      at = c;
    }
  };
  const siftUp = (at: number): void => {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!less(heap[at]!, heap[parent]!)) return;
      [heap[parent], heap[at]] = [heap[at]!, heap[parent]!];
      at = parent;
    }
  };
  const nextBatch = async (i: number): Promise<PacketBatch | null> => {
    for (;;) {
      const r = await iters[i]!.next();
      if (r.done === true) {
        done[i] = true;
        return null;
      }
      if (r.value.count > 0) return r.value;
    }
  };

  try {
    for (let i = 0; i < k; i++) {
      iters.push(sources[i]!.batches()[Symbol.asyncIterator]());
      done.push(false);
      pos.push(0);
    }
    for (let i = 0; i < k; i++) {
      const b = await nextBatch(i);
      if (b === null) continue;
      cur[i] = b;
      heap.push(i);
      siftUp(heap.length - 1);
    }

    let out = newOut(0);
    while (heap.length > 0) {
      const i = heap[0]!;
      const b = cur[i]!;
      // The next-smallest source bounds how far this one can run ahead.
      let j = -1;
      if (heap.length > 1) j = heap[1]!;
      if (heap.length > 2 && less(heap[2]!, j)) j = heap[2]!;
      const boundTs = j >= 0 ? key(j) : Infinity;
      const inclusive = j < 0 || i < j;
      const q = copyRun(out, b, pos[i]!, boundTs, inclusive);
      pos[i] = q;
      if (q < b.count) {
        const t = b.tsMicros[q]!;
        if (inclusive ? t <= boundTs : t < boundTs) {
          // No room left in the output batch (or the record alone is larger than one).
          if (out.n > 0) yield finish(out);
          out = newOut(b.capLen[q]!);
          continue;
        }
        siftDown(0);
        continue;
      }
      const next = await nextBatch(i);
      if (next !== null) {
        cur[i] = next;
        pos[i] = 0;
        siftDown(0);
      } else {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          siftDown(0);
        }
      }
    }
    if (out.n > 0) yield finish(out);
  } finally {
    // Close what is still open (early exit by the consumer, or an error in one source).
    for (let i = 0; i < iters.length; i++) {
      if (!done[i]) await iters[i]!.return?.();
    }
  }
}
