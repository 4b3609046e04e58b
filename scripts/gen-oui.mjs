#!/usr/bin/env node
// Generates src/protocols/oui/oui.gen.js (+ its oui.gen.d.ts) from the IEEE registry CSVs shipped by Debian's ieee-data
// package (MA-L 24-bit, MA-M 28-bit, MA-S and IAB 36-bit blocks). Deterministic: same input, same file.
//
//   node scripts/gen-oui.mjs [ieee-data dir]      (default /usr/share/ieee-data)
//
// Vendor names are shortened by one rule, applied to every name alike:
//   1. whitespace collapsed, control characters dropped;
//   2. trailing legal-form words removed, repeatedly (Inc., Ltd, Co., Corp(oration), GmbH, AG, KG,
//      S.A., S.p.A., S.r.l., B.V., N.V., LLC, PLC, Pty, Oy, AB, A/S, SAS, Sp. z o.o., ...), together
//      with the commas, dots and '&' left before them; never down to nothing;
//   3. a name left without any lower-case letter has its purely alphabetic words of five or more letters
//      written in title case (SIEMENS AG -> Siemens, TELEMECANIQUE ELECTRIQUE -> Telemecanique
//      Electrique); shorter words are kept as written, being likely acronyms (ABB, IGT, WAGO).
// Words that tell vendors apart (Automation, Electronics, Contact, ...) are never removed.
// A prefix listed more than once (a few MA-L duplicates) gets its distinct names joined by " / ".

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = process.argv[2] ?? '/usr/share/ieee-data';
const outFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'protocols', 'oui', 'oui.gen.js');
const declFile = outFile.replace(/\.js$/, '.d.ts');

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const LEGAL_FORMS = [
  'inc',
  'incorporated',
  'ltd',
  'limited',
  'ltda',
  'lda',
  'private',
  'corporate',
  'co',
  'company',
  'corp',
  'corporation',
  'gmbh',
  'mbh',
  'ag',
  'kg',
  'kgaa',
  'ohg',
  'e\\.?\\s?k',
  'e\\.?\\s?v',
  's\\.?\\s?a',
  's\\.?\\s?a\\.?\\s?s',
  's\\.?\\s?a\\.?\\s?u',
  's\\.?\\s?p\\.?\\s?a',
  's\\.?\\s?r\\.?\\s?l',
  's\\.?\\s?l',
  's\\.?\\s?l\\.?\\s?u',
  's\\.?\\s?a\\.?\\s?r\\.?\\s?l',
  's\\.?\\s?a\\.?\\s? de c\\.?\\s?v',
  'de c\\.?\\s?v',
  'b\\.?\\s?v',
  'n\\.?\\s?v',
  'l\\.?\\s?l\\.?\\s?c',
  'l\\.?\\s?l\\.?\\s?p',
  'l\\.?\\s?p',
  'plc',
  'pty',
  'pte',
  'oy',
  'oyj',
  'ab',
  'a/s',
  'as',
  'asa',
  'aps',
  'k\\.?\\s?k',
  'sas',
  'sarl',
  'srl',
  'spa',
  'se',
  'sp\\.?\\s?z\\.?\\s?o\\.?\\s?o',
  's\\.?\\s?r\\.?\\s?o',
  'a\\.?\\s?s',
  'kft',
  'zrt',
  'd\\.?\\s?o\\.?\\s?o',
  'ooo',
  'jsc',
  'pvt',
  'bhd',
  'sdn',
];
const LEGAL_TAIL = new RegExp(`[\\s,.&]+(?:${LEGAL_FORMS.join('|')})\\.?[\\s,.&]*$`, 'i');
const PUNCT_TAIL = /[\s,.&]+$/;

function shortenVendor(raw) {
  let s = raw
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  s = s.replace(PUNCT_TAIL, '');
  for (;;) {
    const m = LEGAL_TAIL.exec(s);
    if (!m || m.index === 0) break;
    const next = s.slice(0, m.index).replace(PUNCT_TAIL, '');
    if (next.length < 2) break;
    s = next;
  }
  if (!/[a-z]/.test(s)) {
    s = s.replace(/\b[A-Z]{5,}\b/g, (w) => w[0] + w.slice(1).toLowerCase());
  }
  return s;
}

/** Reads one registry CSV: [prefix (hex, upper case), vendor name] pairs of the given width. */
function readRegistry(file, hexDigits) {
  const path = join(srcDir, file);
  if (!existsSync(path)) return { entries: [], lines: 0, records: 0 };
  const text = readFileSync(path, 'utf8');
  const rows = parseCsv(text);
  const header = rows.shift();
  if (!header || header[1] !== 'Assignment' || header[2] !== 'Organization Name') {
    throw new Error(`${path}: unexpected header ${JSON.stringify(header)}`);
  }
  const entries = [];
  for (const r of rows) {
    if (r.length < 3) continue;
    const prefix = r[1].trim().toUpperCase();
    if (!new RegExp(`^[0-9A-F]{${hexDigits}}$`).test(prefix)) continue;
    const name = shortenVendor(r[2]);
    if (name === '') continue;
    entries.push([prefix, name]);
  }
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return { entries, lines, records: rows.length };
}

/** Sorted by prefix, duplicates merged into one entry with their distinct names. */
function mergeEntries(entries) {
  const byPrefix = new Map();
  for (const [p, n] of entries) {
    const names = byPrefix.get(p) ?? new Set();
    names.add(n);
    byPrefix.set(p, names);
  }
  return [...byPrefix.keys()].sort().map((p) => [p, [...byPrefix.get(p)].sort().join(' / ')]);
}

const sources = [
  { file: 'oui.csv', digits: 6, key: 'L' },
  { file: 'mam.csv', digits: 7, key: 'M' },
  { file: 'oui36.csv', digits: 9, key: 'S' },
  { file: 'iab.csv', digits: 9, key: 'S' },
];
const tables = { L: [], M: [], S: [] };
const provenance = [];
for (const s of sources) {
  const { entries, lines, records } = readRegistry(s.file, s.digits);
  tables[s.key].push(...entries);
  if (lines > 0) provenance.push(`${s.file} (${lines} lines, ${records} records)`);
}
if (tables.L.length === 0) {
  console.error(
    `gen-oui: no MA-L entries in ${srcDir}/oui.csv: install Debian's ieee-data (apt-get install ieee-data) or name its folder`,
  );
  process.exit(2);
}
for (const k of Object.keys(tables)) tables[k] = mergeEntries(tables[k]);

const vendorSet = new Set();
for (const k of Object.keys(tables)) for (const [, n] of tables[k]) vendorSet.add(n);
const vendors = [...vendorSet].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const vendorIndex = new Map(vendors.map((v, i) => [v, i]));

// Vendor indexes as three base-64 digits (up to 262,144 names), an alphabet that needs no escaping.
const B64 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
if (vendors.length > 64 ** 3) throw new Error('too many vendor names for three base-64 digits');
const idx3 = (i) => B64[(i >> 12) & 63] + B64[(i >> 6) & 63] + B64[i & 63];

/** Records packed into lines of about 1,000 characters: Node strips types from long lines faster. */
function chunkLines(entries, perLine) {
  const lines = [];
  for (let i = 0; i < entries.length; i += perLine) {
    const records = entries.slice(i, i + perLine).map(([p, n]) => p + idx3(vendorIndex.get(n)));
    lines.push(`  '${records.join('')}',`);
  }
  return lines.join('\n');
}

/** Vendor names joined by '|' (which no name holds), cut into lines between names. */
function vendorLines() {
  if (vendors.some((v) => v.includes('|'))) throw new Error("a vendor name holds '|', pick another separator");
  const lines = [];
  let cur = [];
  let len = 0;
  for (const v of vendors) {
    cur.push(v);
    len += v.length + 1;
    if (len >= 1000) {
      lines.push(`  ${quote(cur.join('|'))},`);
      cur = [];
      len = 0;
    }
  }
  if (cur.length > 0) lines.push(`  ${quote(cur.join('|'))},`);
  return lines.join('\n');
}

const quote = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

let date = 'unknown date';
try {
  const t = Number(readFileSync(join(srcDir, '.lastupdate'), 'utf8').trim());
  if (Number.isFinite(t) && t > 0) date = new Date(t * 1000).toISOString().slice(0, 10);
} catch {
  // no .lastupdate: the date stays unknown rather than today's, to keep the output deterministic
}

const out = `// GENERATED by scripts/gen-oui.mjs — do not edit. IEEE MAC address block registry, vendor names
// shortened by the rule documented in the generator.
// Source: ${srcDir}/ (Debian package ieee-data, registry dated ${date}):
${provenance.map((p) => `//   ${p}`).join('\n')}
// Format: each table is a list of strings of fixed-width records, ascending by prefix: the prefix in
// upper-case hex (6, 7 or 9 digits) followed by the vendor's index in OUI_VENDORS as three base-64
// digits of OUI_INDEX_DIGITS. Plain JavaScript (types in oui.gen.d.ts): Node loads it without
// stripping types, which for a file this size would cost ~0.1 s at every start.

export const OUI_INDEX_DIGITS = '${B64}';

/** ${tables.L.length} MA-L (24-bit) blocks, records of 6 + 3 characters. */
export const OUI_MA_L = [
${chunkLines(tables.L, 111)}
];

/** ${tables.M.length} MA-M (28-bit) blocks, records of 7 + 3 characters. */
export const OUI_MA_M = [
${chunkLines(tables.M, 100)}
];

/** ${tables.S.length} MA-S and IAB (36-bit) blocks, records of 9 + 3 characters. */
export const OUI_MA_S = [
${chunkLines(tables.S, 83)}
];

/**
 * ${vendors.length} distinct shortened vendor names, sorted by UTF-16 code units: the lines joined with
 * '|', then split at '|', give the names by index.
 */
export const OUI_VENDOR_LINES = [
${vendorLines()}
];
`;

writeFileSync(outFile, out);
writeFileSync(
  declFile,
  `// GENERATED by scripts/gen-oui.mjs — do not edit. Types of oui.gen.js (see there for the format).
export declare const OUI_INDEX_DIGITS: string;
export declare const OUI_MA_L: readonly string[];
export declare const OUI_MA_M: readonly string[];
export declare const OUI_MA_S: readonly string[];
export declare const OUI_VENDOR_LINES: readonly string[];
`,
);
console.log(
  `wrote ${outFile}: ${tables.L.length} MA-L, ${tables.M.length} MA-M, ${tables.S.length} MA-S/IAB, ` +
    `${vendors.length} vendors, ${out.length} characters`,
);
