#!/usr/bin/env node
// Merges the Ethernet frames of every classic pcap / pcapng capture under a folder into one classic
// pcap (microsecond, LINKTYPE_ETHERNET) in timestamp order. Used by bench/run.mjs; needs nothing but
// Node (mergecap -F pcap would need the non-Ethernet files and interfaces filtered out first).
//
//   node bench/merge-pcaps.mjs ../shared/pcaps bench/data/real-all.pcap
//
// Rules: only Ethernet (link type 1) interfaces; byte-identical input files are taken once;
// pcapng Simple Packet Blocks (no timestamp) and records longer than 262,144 bytes (libpcap's
// limit) are skipped; a truncated trailing record ends that file. Ties keep file order, then record order.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const LINKTYPE_ETHERNET = 1;
const MAX_CAPLEN = 262144;

/** Capture files under dir (recursive), sorted by relative path. */
export function listCaptureFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Ethernet records of one capture: {sec, nsec, data, origLen}; also the reason a file gave nothing.
 * Timestamps are split in seconds + nanoseconds to stay exact in a Number.
 */
export function readEthernetRecords(buf) {
  if (buf.length < 24) return { records: [], skipped: 'too short' };
  const magicLE = buf.readUInt32LE(0);
  if (magicLE === 0x0a0d0d0a) return readPcapng(buf);
  let le;
  let nanos;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nanos = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = buf.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) return { records: [], skipped: 'not a pcap/pcapng file' };
    le = false;
    nanos = magicBE === 0xa1b23c4d;
  }
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20) & 0x0fffffff;
  if (linktype !== LINKTYPE_ETHERNET) return { records: [], skipped: `link type ${linktype}` };
  const records = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const capLen = u32(off + 8);
    const origLen = u32(off + 12);
    if (off + 16 + capLen > buf.length) break;
    if (capLen <= MAX_CAPLEN) {
      records.push({ sec, nsec: nanos ? frac : frac * 1000, data: buf.subarray(off + 16, off + 16 + capLen), origLen });
    }
    off += 16 + capLen;
  }
  return { records, skipped: null };
}

function readPcapng(buf) {
  const records = [];
  let off = 0;
  let le = true;
  let ifaces = [];
  const linktypes = new Set();
  while (off + 12 <= buf.length) {
    const typeLE = buf.readUInt32LE(off);
    if (typeLE === 0x0a0d0d0a) {
      const bom = buf.readUInt32LE(off + 8);
      le = bom === 0x1a2b3c4d;
      ifaces = [];
    }
    const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const u16 = (o) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const type = u32(off);
    const len = u32(off + 4);
    if (len < 12 || off + len > buf.length) break;
    const body = off + 8;
    const end = off + len - 4;
    if (type === 1) {
      // Interface Description Block: link type, then options; if_tsresol (9) changes the tick.
      const linktype = u16(body);
      linktypes.add(linktype);
      let tickNs = 1000; // default resolution 10^-6 s
      let o = body + 8;
      while (o + 4 <= end) {
        const code = u16(o);
        const olen = u16(o + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = buf[o + 4];
          tickNs = r & 0x80 ? 1e9 / 2 ** (r & 0x7f) : 1e9 / 10 ** r;
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linktype, tickNs });
    } else if (type === 6 || type === 2) {
      // Enhanced Packet Block (6) / obsolete Packet Block (2): same layout up to the data.
      const ifId = type === 6 ? u32(body) : u16(body);
      const iface = ifaces[ifId];
      const hi = u32(body + 4);
      const lo = u32(body + 8);
      const capLen = u32(body + 12);
      const origLen = u32(body + 16);
      if (iface && iface.linktype === LINKTYPE_ETHERNET && capLen <= MAX_CAPLEN && body + 20 + capLen <= end) {
        const ticks = BigInt(hi) * 4294967296n + BigInt(lo);
        const ns = iface.tickNs === 1000 ? ticks * 1000n : BigInt(Math.round(Number(ticks) * iface.tickNs));
        records.push({
          sec: Number(ns / 1000000000n),
          nsec: Number(ns % 1000000000n),
          data: buf.subarray(body + 20, body + 20 + capLen),
          origLen,
        });
      }
    }
    off += len;
  }
  const skipped =
    records.length > 0
      ? null
      : linktypes.has(LINKTYPE_ETHERNET)
        ? 'no packets'
        : `link type ${[...linktypes].join('/')}`;
  return { records, skipped };
}

/**
 * Merge every Ethernet capture under srcDir into outFile (written atomically).
 * Returns {packets, bytes, files: [{file, packets}], skipped: [{file, reason}]}.
 */
export function mergeEthernetCaptures(srcDir, outFile) {
  const all = [];
  const files = [];
  const skipped = [];
  const seen = new Map();
  for (const [fileIndex, path] of listCaptureFiles(srcDir).entries()) {
    const rel = relative(srcDir, path);
    const buf = readFileSync(path);
    const digest = createHash('sha256').update(buf).digest('hex');
    if (seen.has(digest)) {
      skipped.push({ file: rel, reason: `identical to ${seen.get(digest)}` });
      continue;
    }
    seen.set(digest, rel);
    const { records, skipped: why } = readEthernetRecords(buf);
    if (records.length === 0) {
      skipped.push({ file: rel, reason: why ?? 'no packets' });
      continue;
    }
    records.forEach((r, i) => {
      r.file = fileIndex;
      r.index = i;
      all.push(r);
    });
    files.push({ file: rel, packets: records.length });
  }
  all.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.file - b.file || a.index - b.index);

  let size = 24;
  let snap = 65535;
  for (const r of all) {
    size += 16 + r.data.length;
    if (r.data.length > snap) snap = r.data.length;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(Math.min(snap, MAX_CAPLEN), 16);
  out.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  let off = 24;
  for (const r of all) {
    out.writeUInt32LE(r.sec >>> 0, off);
    out.writeUInt32LE(Math.floor(r.nsec / 1000), off + 4);
    out.writeUInt32LE(r.data.length, off + 8);
    out.writeUInt32LE(Math.max(r.origLen, r.data.length), off + 12);
    r.data.copy(out, off + 16);
    off += 16 + r.data.length;
  }
  const tmp = `${outFile}.tmp-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, outFile);
  return { packets: all.length, bytes: size, files, skipped };
}

/** Identity of the inputs (paths, sizes, mtimes) so a cached merge can be checked cheaply. */
export function inputsFingerprint(srcDir) {
  const h = createHash('sha256');
  for (const p of listCaptureFiles(srcDir)) {
    const st = statSync(p);
    h.update(`${relative(srcDir, p)}\0${st.size}\0${Math.round(st.mtimeMs)}\n`);
  }
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [src, dest] = process.argv.slice(2);
  if (!src || !dest) {
    console.error('usage: node bench/merge-pcaps.mjs SRC_DIR OUT.pcap');
    process.exit(2);
  }
  const r = mergeEthernetCaptures(src, dest);
  for (const s of r.skipped) console.log(`  skipped ${s.file}: ${s.reason}`);
  console.log(`${dest}: ${r.packets} packets, ${r.bytes} bytes from ${r.files.length} captures`);
}
