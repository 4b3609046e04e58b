// Versions and version ranges as industrial security advisories (CSAF 2.0 `product_version` and
// `product_version_range` branch names) write them, and whether a device's firmware falls in one.
// Advisories mix vers (`vers:all/<V3.1.4`), bare constraints (`>= 1.0 | <= 1.32`), prose (`All
// versions < V4.2.3`, `Versions 2.00 to 6.11`), hyphen ranges (`20-33`), lists (`6.10.00 | 6.11.00`),
// per-train fixes (`<v36.011_v35.013_v34.014`), wildcards (`< V3.X.16`) and suffixes (`< V17 Update
// 5`, `15.0 SP1`); a range that cannot be read is kept as `unparsed`, never guessed.

/** A version as comparable parts: numbers and lower-case words (`V17 Update 5` → 17, 'update', 5). */
export interface Version {
  readonly raw: string;
  readonly parts: readonly (number | string)[];
  /** A digit run ending in x (`8.1x`, `7.4x`): a series whose numbering is not known. */
  readonly fuzzy: boolean;
}

/** One bound: `op` and a version whose parts may hold the wildcard `WILDCARD`. */
export interface Constraint {
  readonly op: '<' | '<=' | '>' | '>=' | '=';
  readonly version: Version;
}

export type VersionRange =
  /** Every version (`vers:all/*`, `*`, `All versions`). */
  | { readonly kind: 'all'; readonly note?: string }
  /** Matches when every constraint of any one alternative holds. */
  | { readonly kind: 'constraints'; readonly alternatives: readonly (readonly Constraint[])[]; readonly note?: string }
  /** One bound per release train (`<v36.011_v35.013_v34.014`): compared within the version's train. */
  | { readonly kind: 'trains'; readonly bounds: readonly Version[] }
  /** Not a version expression (a model or order number in the version field, say). */
  | { readonly kind: 'unparsed'; readonly text: string };

export type VersionMatch = 'affected' | 'not_affected' | 'unknown';

/** A part that matches any value (`X` in `V3.X.16`). */
export const WILDCARD = '*';

/**
 * Parses a version: it must start with a digit, or with `V`, `FW` or `R` right before one (after a
 * vendor prefix such as `MX-`). Parts
 * are runs of digits and runs of letters; dots, dashes, spaces, brackets and underscores only
 * separate them. A lone `x` is a wildcard part (`V3.X.16`). Returns null for anything else (model
 * and order numbers put in the version field).
 */
export function parseVersion(text: string): Version | null {
  const raw = text.trim();
  const s = raw.toLowerCase();
  // A vendor's own prefix before the version (Mobotix `MX-V4.0.1.15`) is dropped.
  const t = s.replace(/^[a-z]{1,4}-(?=v?\d)/, '');
  const m = /^(?:v|fw|r)?\s*(?=\d)/.exec(t);
  if (m === null) return null;
  const body = /^(?:v|fw)\s*\d/.test(t) ? t.slice(m[0].length) : t;
  const parts: (number | string)[] = [];
  for (const t of body.match(/\d+|[a-z]+/g) ?? []) {
    if (t === 'x') parts.push(WILDCARD);
    else if (/^\d/.test(t)) parts.push(Number(t));
    else parts.push(t);
  }
  return parts.length === 0 ? null : { raw, parts, fuzzy: /\dx/.test(body) };
}

/**
 * Compares two versions part by part: numbers by value, words alphabetically, a number before a
 * word; a missing part counts as 0 against a number and before any word (4.2 = 4.2.0 < 4.2 SP1).
 * A wildcard equals anything. Returns -1, 0 or 1.
 */
export function compareVersions(a: Version, b: Version): -1 | 0 | 1 {
  const n = Math.max(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    const x = a.parts[i];
    const y = b.parts[i];
    if (x === WILDCARD || y === WILDCARD) continue;
    const c = comparePart(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

function comparePart(x: number | string | undefined, y: number | string | undefined): -1 | 0 | 1 {
  if (x === undefined && y === undefined) return 0;
  if (x === undefined) return typeof y === 'number' ? (y > 0 ? -1 : 0) : -1;
  if (y === undefined) return typeof x === 'number' ? (x > 0 ? 1 : 0) : 1;
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'number') return -1;
  if (typeof y === 'number') return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

const OPS = ['<=', '>=', '<', '>', '='] as const;

/** Parses one advisory version expression (see the file header for the forms). */
export function parseVersionRange(text: string): VersionRange {
  let s = text.trim();
  // Notes the advisory appends: "(only affected by CVE-…)", "_installed_on_CP100_devices".
  let note: string | undefined;
  const paren = /\s*\(([^)]*)\)\s*$/.exec(s);
  if (paren !== null && !/^\d+$/.test(paren[1]!)) {
    note = paren[1];
    s = s.slice(0, paren.index);
  }
  const installed = /_installed_on_(.+)$/i.exec(s);
  if (installed !== null) {
    note = installed[1]!.replace(/_/g, ' ');
    s = s.slice(0, installed.index);
  }
  const withNote = <T extends object>(r: T): T & { note?: string } => (note === undefined ? r : { ...r, note });
  s = s.replace(/^vers:[a-z]+\//i, '').trim();
  s = s.replace(/^all versions\s*/i, '').trim();
  if (s === '' || s === '*') return withNote({ kind: 'all' as const });
  const prose = /^versions?\s+(.+?)\s+(?:to|through)\s+(.+)$/i.exec(s);
  if (prose !== null) {
    const lo = parseVersion(prose[1]!);
    const hi = parseVersion(prose[2]!);
    if (lo === null || hi === null) return { kind: 'unparsed', text };
    return withNote({
      kind: 'constraints' as const,
      alternatives: [
        [
          { op: '>=', version: lo },
          { op: '<=', version: hi },
        ],
      ],
    });
  }
  const hyphen = /^(\d+(?:\.\d+)*)\s*-\s*(\d+(?:\.\d+)*)$/.exec(s);
  if (hyphen !== null) {
    const lo = parseVersion(hyphen[1]!)!;
    const hi = parseVersion(hyphen[2]!)!;
    return withNote({
      kind: 'constraints' as const,
      alternatives: [
        [
          { op: '>=', version: lo },
          { op: '<=', version: hi },
        ],
      ],
    });
  }
  const trains = /^<\s*(v?\d[\w.]*(?:_v?\d[\w.]*)+)$/i.exec(s);
  if (trains !== null) {
    const bounds = trains[1]!.split('_').map(parseVersion);
    if (bounds.some((b) => b === null)) return { kind: 'unparsed', text };
    return { kind: 'trains', bounds: bounds as Version[] };
  }
  const constraints: Constraint[] = [];
  for (const piece of s.split('|')) {
    const t = piece.trim();
    const op = OPS.find((o) => t.startsWith(o)) ?? '=';
    const version = parseVersion(op === '=' && !t.startsWith('=') ? t : t.slice(op.length));
    if (version === null) return { kind: 'unparsed', text };
    constraints.push({ op, version });
  }
  return withNote({ kind: 'constraints' as const, alternatives: intervals(constraints) });
}

/**
 * vers semantics for a `|` list: bare versions are alternatives of their own; a lower bound and
 * the upper bound after it form one interval; a lone bound is open on its other side.
 */
function intervals(cs: readonly Constraint[]): Constraint[][] {
  const out: Constraint[][] = [];
  let open: Constraint | null = null;
  for (const c of cs) {
    if (c.op === '=') out.push([c]);
    else if (c.op === '>' || c.op === '>=') {
      if (open !== null) out.push([open]);
      open = c;
    } else if (open !== null) {
      out.push([open, c]);
      open = null;
    } else out.push([c]);
  }
  if (open !== null) out.push([open]);
  return out;
}

function holds(c: Constraint, v: Version): boolean {
  const r = compareVersions(v, c.version);
  switch (c.op) {
    case '<':
      return r < 0;
    case '<=':
      return r <= 0;
    case '>':
      return r > 0;
    case '>=':
      return r >= 0;
    case '=':
      return r === 0;
  }
}

/**
 * Whether a firmware version is in the range: `unknown` when the firmware is unknown or not a
 * version (unless the range is every version) and when the range could not be read — never a
 * guess either way.
 */
export function matchVersion(range: VersionRange, firmware: string | undefined): VersionMatch {
  if (range.kind === 'all') return 'affected';
  if (range.kind === 'unparsed') return 'unknown';
  const v = firmware === undefined ? null : parseVersion(firmware);
  if (v === null) return 'unknown';
  if (range.kind === 'trains') {
    const train = range.bounds.find((b) => comparePart(b.parts[0], v.parts[0]) === 0);
    if (train !== undefined) return compareVersions(v, train) < 0 ? 'affected' : 'not_affected';
    // Older than every train listed: a train with no fix at all.
    const oldest = range.bounds.every((b) => comparePart(v.parts[0], b.parts[0]) < 0);
    return oldest ? 'affected' : 'unknown';
  }
  // `< 8.1x`: is 8.05 before the 8.1x series? The numbering decides, and it is not known.
  if (range.alternatives.some((alt) => alt.some((c) => c.version.fuzzy))) return 'unknown';
  return range.alternatives.some((alt) => alt.every((c) => holds(c, v))) ? 'affected' : 'not_affected';
}
