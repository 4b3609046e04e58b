// MAC address vendor lookup (IEEE 802 MA-L/MA-M/MA-S registries, IEEE Std 802-2014 §8.2) and
// the two address bits every MAC carries: individual/group and universal/local (§8.2.2).

import { OUI_INDEX_DIGITS, OUI_MA_L, OUI_MA_M, OUI_MA_S, OUI_VENDOR_LINES } from './oui.gen.js';

/**
 * One registry as generated: fixed-width records (hex prefix, then the vendor index in base-64
 * digits), ascending, in chunks of `perChunk` records (the last may hold fewer). Looked up in place
 * by binary search: nothing is built at start-up.
 */
interface PrefixTable {
  readonly bits: number;
  readonly hexDigits: number;
  readonly width: number;
  readonly chunks: readonly string[];
  readonly perChunk: number;
  readonly n: number;
}

let tables: readonly PrefixTable[] | undefined;
let vendorNames: readonly string[] | undefined;

/** Value of each character code as a hex digit or as a base-64 index digit (-1: not one). */
function digitValues(alphabet: string): Int8Array {
  const v = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) v[alphabet.charCodeAt(i)] = i;
  return v;
}

const HEX_VALUE = digitValues('0123456789ABCDEF');
let indexValue: Int8Array | undefined;

function table(chunks: readonly string[], hexDigits: number): PrefixTable {
  const width = hexDigits + 3;
  const perChunk = chunks.length > 0 ? Math.floor(chunks[0]!.length / width) : 0;
  const last = chunks.length > 0 ? Math.floor(chunks[chunks.length - 1]!.length / width) : 0;
  const n = chunks.length > 0 ? (chunks.length - 1) * perChunk + last : 0;
  return { bits: hexDigits * 4, hexDigits, width, chunks, perChunk, n };
}

/** The prefix of record i. */
function keyAt(t: PrefixTable, i: number): number {
  const c = t.chunks[Math.floor(i / t.perChunk)]!;
  const off = (i % t.perChunk) * t.width;
  let key = 0;
  for (let k = 0; k < t.hexDigits; k++) key = key * 16 + HEX_VALUE[c.charCodeAt(off + k) & 127]!;
  return key;
}

/** The vendor index of record i. */
function vendorAt(t: PrefixTable, i: number): number {
  indexValue ??= digitValues(OUI_INDEX_DIGITS);
  const c = t.chunks[Math.floor(i / t.perChunk)]!;
  const off = (i % t.perChunk) * t.width;
  let idx = 0;
  for (let k = t.hexDigits; k < t.width; k++) idx = idx * 64 + indexValue[c.charCodeAt(off + k) & 127]!;
  return idx;
}

/** The registries, longest prefixes first. */
function loadTables(): readonly PrefixTable[] {
  tables ??= [table(OUI_MA_S, 9), table(OUI_MA_M, 7), table(OUI_MA_L, 6)];
  return tables;
}

/** Every vendor name, by the index the tables hold. */
export function vendorNameList(): readonly string[] {
  vendorNames ??= OUI_VENDOR_LINES.join('|').split('|');
  return vendorNames;
}

function find(t: PrefixTable, key: number): number {
  let lo = 0;
  let hi = t.n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = keyAt(t, mid);
    if (v === key) return mid;
    if (v < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The registered organisation for a 48-bit MAC (as made by `macFromBytes`), from the most specific
 * block that holds it (36-, then 28-, then 24-bit), or undefined when none does.
 */
export function lookupVendor(mac: number): string | undefined {
  if (!Number.isInteger(mac) || mac < 0 || mac > 0xffff_ffff_ffff) return undefined;
  for (const t of loadTables()) {
    const i = find(t, Math.floor(mac / 2 ** (48 - t.bits)));
    if (i >= 0) return vendorNameList()[vendorAt(t, i)];
  }
  return undefined;
}

function firstOctet(mac: number): number {
  return Math.floor(mac / 2 ** 40) & 0xff;
}

/** U/L bit set: the address was assigned locally (randomised, virtual), not from an IEEE block. */
export function isLocallyAdministered(mac: number): boolean {
  return (firstOctet(mac) & 0x02) !== 0;
}

/** I/G bit set: a group (multicast or broadcast) address, never a device's own. */
export function isMulticastMac(mac: number): boolean {
  return (firstOctet(mac) & 0x01) !== 0;
}
