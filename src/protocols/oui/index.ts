// MAC address vendor lookup (IEEE 802 MA-L/MA-M/MA-S registries, IEEE Std 802-2014 §8.2) and
// the two address bits every MAC carries: individual/group and universal/local (§8.2.2).

import { OUI_INDEX_DIGITS, OUI_MA_L, OUI_MA_M, OUI_MA_S, OUI_VENDOR_LINES } from './oui.gen.js';

/** One registry: prefixes ascending, each with the index of its vendor name. */
interface PrefixTable {
  readonly bits: number;
  readonly keys: Float64Array;
  readonly vendors: Uint32Array;
}

let tables: readonly PrefixTable[] | undefined;
let vendorNames: readonly string[] | undefined;

/** Value of each character code as a hex digit or as a base-64 index digit (-1: not one). */
function digitValues(alphabet: string): Int8Array {
  const v = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) v[alphabet.charCodeAt(i)] = i;
  return v;
}

function buildTable(chunks: readonly string[], hexDigits: number): PrefixTable {
  const hexValue = digitValues('0123456789ABCDEF');
  const indexValue = digitValues(OUI_INDEX_DIGITS);
  const width = hexDigits + 3;
  let n = 0;
  for (const c of chunks) n += Math.floor(c.length / width);
  const keys = new Float64Array(n);
  const vendors = new Uint32Array(n);
  let k = 0;
  for (const c of chunks) {
    for (let off = 0; off + width <= c.length; off += width) {
      let key = 0;
      for (let i = 0; i < hexDigits; i++) key = key * 16 + hexValue[c.charCodeAt(off + i) & 127]!;
      let idx = 0;
      for (let i = hexDigits; i < width; i++) idx = idx * 64 + indexValue[c.charCodeAt(off + i) & 127]!;
      keys[k] = key;
      vendors[k++] = idx;
    }
  }
  return { bits: hexDigits * 4, keys, vendors };
}

/** Built once, on first use (about 46k prefixes, a few milliseconds). Longest prefixes first. */
function loadTables(): readonly PrefixTable[] {
  tables ??= [buildTable(OUI_MA_S, 9), buildTable(OUI_MA_M, 7), buildTable(OUI_MA_L, 6)];
  return tables;
}

/** Every vendor name, by the index the tables hold. */
export function vendorNameList(): readonly string[] {
  vendorNames ??= OUI_VENDOR_LINES.join('|').split('|');
  return vendorNames;
}

function find(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = keys[mid]!;
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
    const i = find(t.keys, Math.floor(mac / 2 ** (48 - t.bits)));
    if (i >= 0) return vendorNameList()[t.vendors[i]!];
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
