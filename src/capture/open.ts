// Opens capture inputs (files, directories, `-` for standard input; plain or gzip) as streaming
// CaptureSources: a file is read chunk by chunk, never held in memory whole.

import { Buffer } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { LIMITS } from '../core/limits.ts';
import { CaptureParser, createCaptureStats, notACaptureMessage, sniffCapture } from './parser.ts';
import { CaptureError, type CaptureSource, type CaptureStats, type PacketBatch } from './types.ts';

export { mergeByTime } from './merge.ts';

export interface OpenCaptureOptions {
  /** Bytes per read (and per decompressed gzip chunk); default 1 MiB. */
  readonly chunkBytes?: number;
  /** Told about files skipped inside a directory (not a capture, empty, unreadable). */
  readonly onWarning?: (msg: string) => void;
  /** Largest record or block accepted (default LIMITS.maxRecordBytes). */
  readonly maxRecordBytes?: number;
  /** The stream read for `-` (default process.stdin). */
  readonly stdin?: Readable;
}

interface ReadSettings {
  readonly chunkBytes: number;
  readonly maxRecordBytes: number;
}

const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Enough to tell pcap, pcapng (with its byte-order magic) and gzip apart. */
const SNIFF_BYTES = 16;
const GZIP_CHUNK_BYTES = 64 * 1024;

/**
 * Resolves every input to sources, in order: a file, each regular file under a directory (recursive,
 * sorted by path; non-captures there are skipped with a warning), or `-` for standard input (once).
 * A named file that is missing, unreadable, empty or not a capture throws CaptureError before any
 * reading starts, so a command can report it up front.
 */
export async function openCaptureSources(
  inputs: readonly string[],
  opts: OpenCaptureOptions = {},
): Promise<CaptureSource[]> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw new RangeError(`chunkBytes must be a positive integer (got ${chunkBytes})`);
  }
  const settings: ReadSettings = { chunkBytes, maxRecordBytes: opts.maxRecordBytes ?? LIMITS.maxRecordBytes };
  const warn = opts.onWarning ?? ((): void => undefined);
  const sources: CaptureSource[] = [];
  let sawStdin = false;
  for (const input of inputs) {
    if (input === '-') {
      if (sawStdin) {
        throw new CaptureError(
          'capture.stdin_twice',
          '-',
          `'-' (standard input) is given more than once; it can be read only once`,
        );
      }
      sawStdin = true;
      // Standard input is not destroyed at the end: it belongs to the process.
      sources.push(streamSource('-', () => opts.stdin ?? process.stdin, settings, false));
      continue;
    }
    const st = await statInput(input);
    if (st.isDirectory()) {
      const before = sources.length;
      for (const file of await listFiles(input, warn)) {
        try {
          sources.push(await openFile(file, settings));
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
          warn(`${e.message} (skipped)`);
        }
      }
      if (sources.length === before) warn(`${input}: no capture files in this directory`);
    } else if (st.isFile()) {
      sources.push(await openFile(input, settings));
    } else {
      // A FIFO or device (e.g. `<(zcat day.pcap.gz)`): no size, and it can only be checked once read.
      sources.push(streamSource(input, () => createReadStream(input, { highWaterMark: chunkBytes }), settings, true));
    }
  }
  return sources;
}

function fsError(path: string, e: unknown): CaptureError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
    return new CaptureError('capture.not_found', path, `${path}: no such file or directory`);
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new CaptureError('capture.unreadable', path, `${path}: permission denied: check that this user can read it`);
  }
  return new CaptureError('capture.unreadable', path, `${path}: cannot be read (${err.message})`);
}

async function statInput(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (e) {
    throw fsError(path, e);
  }
}

async function listFiles(dir: string, warn: (msg: string) => void): Promise<string[]> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      warn(`${fsError(d, e).message} (skipped)`);
      return;
    }
    for (const ent of entries) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) files.push(p);
      else if (ent.isSymbolicLink()) {
        // Links to files are followed; links to directories are not, so a loop cannot trap the walk.
        const target = await stat(p).catch(() => null);
        if (target?.isFile() === true) files.push(p);
      }
    }
  };
  await walk(dir);
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function openFile(path: string, settings: ReadSettings): Promise<CaptureSource> {
  let size: number;
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      size = (await fh.stat()).size;
      const buf = new Uint8Array(SNIFF_BYTES);
      const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw fsError(path, e);
  }
  if (head.length === 0) throw new CaptureError('capture.empty', path, `${path}: the file is empty (0 bytes)`);
  let kind = sniffCapture(head);
  const gzip = kind === 'gzip';
  if (gzip) {
    head = await gunzipHead(path);
    if (head.length === 0) {
      throw new CaptureError('capture.empty', path, `${path}: the gzip file holds no data`);
    }
    kind = sniffCapture(head);
  }
  // 'short' with 4 bytes or more is the start of a pcapng header cut off: reading will report it.
  if (kind === 'unknown' || kind === 'gzip' || (kind === 'short' && head.length < 4)) {
    throw new CaptureError('capture.not_a_capture', path, notACaptureMessage(path, head));
  }
  const stats = createCaptureStats();
  stats.gzip = gzip;
  return makeSource(path, size, stats, () =>
    readBatches(
      path,
      stats,
      gzip ? createReadStream(path, { highWaterMark: settings.chunkBytes }) : new FileChunks(path, settings.chunkBytes),
      gzip,
      settings,
      true,
    ),
  );
}

/** The first decompressed bytes of a gzip file. */
async function gunzipHead(path: string): Promise<Uint8Array> {
  const raw = createReadStream(path, { highWaterMark: 64 * 1024 });
  const gz = createGunzip();
  pipeline(raw, gz, () => undefined);
  const parts: Uint8Array[] = [];
  let got = 0;
  try {
    for await (const chunk of chunksOf(gz)) {
      parts.push(chunk);
      got += chunk.length;
      if (got >= SNIFF_BYTES) break;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!isZlibError(err)) throw fsError(path, e);
    // A stream cut or corrupted later still has a readable start: reading reports the damage.
    if (got === 0) {
      throw new CaptureError(
        'capture.bad_gzip',
        path,
        `${path}: gzip data is corrupt (${err.message}): cannot read it`,
      );
    }
  } finally {
    gz.destroy();
    raw.destroy();
  }
  return concatBytes(parts).subarray(0, SNIFF_BYTES);
}

function streamSource(
  name: string,
  openStream: () => Readable,
  settings: ReadSettings,
  destroyAtEnd: boolean,
): CaptureSource {
  const stats = createCaptureStats();
  return makeSource(name, null, stats, () => readBatches(name, stats, openStream(), 'detect', settings, destroyAtEnd));
}

function makeSource(
  name: string,
  size: number | null,
  stats: CaptureStats,
  run: () => AsyncGenerator<PacketBatch>,
): CaptureSource {
  let started = false;
  return {
    name,
    size,
    stats,
    batches(): AsyncIterable<PacketBatch> {
      if (started) throw new Error(`${name}: batches() was already called; a capture source is read once`);
      started = true;
      return run();
    },
  };
}

/** Free bytes before each chunk of a plain file, where the parser completes a record cut in two. */
const FILE_HEADROOM = 64 * 1024;

/** Where raw bytes come from: a stream, or a file read directly. */
type ChunkSource = AsyncIterable<Uint8Array> & { destroy(): void };

function chunksOf(stream: ChunkSource): AsyncIterable<Uint8Array> {
  return stream;
}

/**
 * A plain (not gzip) capture file, read a chunk ahead: the next chunk's read runs on libuv's thread
 * pool while this one is parsed, so reading costs the packet path almost nothing (no stream
 * machinery either). Each chunk is a fresh buffer, since batches keep views of it, with
 * FILE_HEADROOM free bytes before it: the parser puts a record cut by the chunk boundary there
 * instead of copying the whole chunk behind it.
 */
class FileChunks implements ChunkSource {
  private readonly path: string;
  private readonly chunkBytes: number;
  private closed = false;

  constructor(path: string, chunkBytes: number) {
    this.path = path;
    this.chunkBytes = chunkBytes;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const fh = await open(this.path, 'r');
    const size = this.chunkBytes;
    // Not zero-filled (the read overwrites what a chunk shows); a plain Uint8Array over the
    // Buffer's memory, so the packet path sees one kind of array.
    const fresh = (): Uint8Array => {
      const b = Buffer.allocUnsafeSlow(FILE_HEADROOM + size);
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    };
    let buf = fresh();
    let pending = fh.read(buf, FILE_HEADROOM, size, null);
    try {
      while (!this.closed) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) return;
        const chunk = buf.subarray(FILE_HEADROOM, FILE_HEADROOM + bytesRead);
        buf = fresh();
        pending = fh.read(buf, FILE_HEADROOM, size, null);
        yield chunk;
      }
    } finally {
      // The read ahead may still be running: let it end (or fail) before closing.
      await pending.catch(() => undefined);
      await fh.close();
    }
  }

  destroy(): void {
    this.closed = true;
  }
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function isZlibError(err: NodeJS.ErrnoException): boolean {
  return typeof err.code === 'string' && err.code.startsWith('Z_');
}

/** Raw chunks as they are consumed, counted into stats.bytesRead (compressed bytes for gzip). */
async function* countBytes(
  first: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
  stats: CaptureStats,
): AsyncGenerator<Uint8Array> {
  try {
    for (const chunk of first) {
      stats.bytesRead += chunk.length;
      yield chunk;
    }
    for (;;) {
      const r = await rest.next();
      if (r.done === true) return;
      stats.bytesRead += r.value.length;
      yield r.value;
    }
  } finally {
    await rest.return?.();
  }
}

async function* readBatches(
  name: string,
  stats: CaptureStats,
  raw: ChunkSource,
  gzipMode: boolean | 'detect',
  settings: ReadSettings,
  destroyAtEnd: boolean,
): AsyncGenerator<PacketBatch> {
  const parser = new CaptureParser(name, stats, { maxRecordBytes: settings.maxRecordBytes });
  const rawIt = chunksOf(raw)[Symbol.asyncIterator]();
  let gz: Gunzip | null = null;
  try {
    const first: Uint8Array[] = [];
    let gzip = gzipMode === true;
    if (gzipMode === 'detect') {
      let got = 0;
      while (got < 2) {
        const r = await rawIt.next();
        if (r.done === true) break;
        first.push(r.value);
        got += r.value.length;
      }
      const head = concatBytes(first);
      gzip = sniffCapture(head) === 'gzip';
      stats.gzip = gzip;
    }
    let input: AsyncIterable<Uint8Array> = countBytes(first, rawIt, stats);
    if (gzip) {
      // zlib drops the output of the call that hits an error, so a smaller output chunk loses less
      // of what precedes damage (a bad CRC, say, is only found at the very end).
      gz = createGunzip({ chunkSize: Math.max(1024, Math.min(settings.chunkBytes, GZIP_CHUNK_BYTES)) });
      // An error on either side destroys gz with it, which ends the loop below with that error.
      pipeline(Readable.from(input, { objectMode: false }), gz, () => undefined);
      input = chunksOf(gz);
    }
    // Plain files are read into buffers with free room before each chunk (see FileChunks).
    const headroom = !gzip && raw instanceof FileChunks ? FILE_HEADROOM : 0;
    for await (const chunk of input) {
      const batch = parser.push(chunk, headroom);
      if (batch !== null) yield batch;
      if (parser.stopped) break;
    }
    if (!parser.stopped) parser.end();
  } catch (e) {
    if (e instanceof CaptureError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gz !== null && isZlibError(err) && parser.offset === 0) {
      // Nothing came out at all: this input is unreadable, not a damaged capture.
      throw new CaptureError(
        'capture.bad_gzip',
        name,
        `${name}: the gzip data is corrupt (${err.message}); no capture could be read from it`,
      );
    }
    if (gz !== null && isZlibError(err)) {
      stats.truncated = true;
      stats.issues.push({
        code: 'capture.bad_gzip',
        message:
          `${name}: the gzip data is corrupt or cut short (${err.message}) after ${parser.offset} ` +
          `decompressed bytes; ${stats.packets} packets were read before it`,
        offset: parser.offset,
      });
    } else if (typeof err.code === 'string' && err.syscall !== undefined) {
      stats.truncated = true;
      stats.issues.push({
        code: 'capture.read_error',
        message: `${name}: reading failed (${err.message}) after ${parser.offset} bytes; ${stats.packets} packets were read before it`,
        offset: parser.offset,
      });
    } else {
      throw e;
    }
  } finally {
    gz?.destroy();
    if (destroyAtEnd) raw.destroy();
  }
}
