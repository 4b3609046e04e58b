// CSAF 2.0 security advisories (OASIS CSAF v2.0, the format CISA publishes ICS advisories in):
// what PlantGuard keeps of one — its products as flat entries (vendor, family, product name,
// version expression, from the product tree's branches), and per vulnerability the CVE, CVSS,
// product status and remediations. Untrusted JSON: every field is checked; what is not a CSAF
// document is an AdvisoryError with a plain message, never a crash.

import { parseVersionRange, type VersionRange } from './versions.ts';

export class AdvisoryError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** One product of the product tree: a leaf with its branch path. */
export interface AdvisoryProduct {
  readonly productId: string;
  readonly vendor: string;
  /** `product_family` branches, outermost first. */
  readonly families: readonly string[];
  /** The `product_name` branch (or the full product name when the tree has none). */
  readonly name: string;
  /** The version expression as written (`product_version` or `product_version_range`), or ''. */
  readonly versionText: string;
  readonly versions: VersionRange;
  /** The leaf's full product name. */
  readonly fullName: string;
  /** For a relationship product (firmware `installed_on` a device): the device's product name. */
  readonly platform?: string;
}

export interface AdvisoryScore {
  readonly baseScore: number;
  readonly severity: string;
  readonly vector: string;
  readonly productIds: readonly string[];
}

export interface AdvisoryRemediation {
  readonly category: string;
  readonly details: string;
  readonly productIds: readonly string[];
  readonly url?: string;
}

export interface AdvisoryVulnerability {
  /** The CVE id, or the advisory's own id for the vulnerability when it has none. */
  readonly cve: string;
  readonly title: string;
  readonly scores: readonly AdvisoryScore[];
  readonly knownAffected: readonly string[];
  readonly knownNotAffected: readonly string[];
  readonly fixed: readonly string[];
  readonly remediations: readonly AdvisoryRemediation[];
}

export interface Advisory {
  readonly id: string;
  readonly title: string;
  readonly publisher: string;
  /** ISO 8601 date of the first release, or ''. */
  readonly released: string;
  readonly version: string;
  readonly products: readonly AdvisoryProduct[];
  readonly vulnerabilities: readonly AdvisoryVulnerability[];
}

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string => (typeof x === 'string' ? x : '');
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
const objects = (x: unknown): Json[] => (Array.isArray(x) ? x.filter(isObject) : []);

/** Bounds on what one document may hold (a hostile file must not exhaust memory or the stack). */
const MAX_BRANCH_DEPTH = 16;
const MAX_PRODUCTS = 10_000;

/**
 * Reads one parsed CSAF 2.0 document. `name` is for messages (a file name). Throws AdvisoryError:
 * `advisory.not_csaf` when it is not a CSAF document, `advisory.unsupported_version` for another
 * CSAF version, `advisory.too_large` past the bounds.
 */
export function readCsaf(doc: unknown, name: string): Advisory {
  if (!isObject(doc) || !isObject(doc.document))
    throw new AdvisoryError('advisory.not_csaf', `${name}: not a CSAF advisory (no "document" object)`);
  const d = doc.document;
  const version = str(d.csaf_version);
  if (version === '')
    throw new AdvisoryError('advisory.not_csaf', `${name}: not a CSAF advisory (no document.csaf_version)`);
  if (version !== '2.0')
    throw new AdvisoryError('advisory.unsupported_version', `${name}: CSAF version ${version}; only 2.0 is read`);
  const tracking = isObject(d.tracking) ? d.tracking : {};
  const id = str(tracking.id);
  if (id === '') throw new AdvisoryError('advisory.not_csaf', `${name}: the advisory has no document.tracking.id`);
  const products: AdvisoryProduct[] = [];
  const tree = isObject(doc.product_tree) ? doc.product_tree : {};
  for (const b of objects(tree.branches))
    collect(b, { vendor: '', families: [], name: '', versionText: '' }, 0, products, name);
  const known = new Set(products.map((p) => p.productId));
  // Products named only in full_product_names (no branches): no vendor path, the name alone.
  for (const f of objects(tree.full_product_names)) {
    const pid = str(f.product_id);
    if (pid === '' || known.has(pid)) continue;
    products.push(leaf(pid, str(f.name), { vendor: '', families: [], name: str(f.name), versionText: '' }));
    known.add(pid);
  }
  // Relationship products (`installed_on`, `default_component_of`...): the referenced product's
  // vendor, name and versions, on the platform it relates to.
  const byId = new Map(products.map((p) => [p.productId, p]));
  for (const r of objects(tree.relationships)) {
    const full = isObject(r.full_product_name) ? r.full_product_name : {};
    const pid = str(full.product_id);
    const ref = byId.get(str(r.product_reference));
    if (pid === '' || known.has(pid) || ref === undefined) continue;
    const platform = byId.get(str(r.relates_to_product_reference));
    const p: AdvisoryProduct = { ...ref, productId: pid, fullName: str(full.name) };
    products.push(platform === undefined ? p : { ...p, platform: platform.name });
    known.add(pid);
  }
  if (products.length > MAX_PRODUCTS)
    throw new AdvisoryError('advisory.too_large', `${name}: more than ${MAX_PRODUCTS} products`);
  const vulnerabilities = objects(doc.vulnerabilities).map((v, i) => vulnerability(v, `${id}#${i + 1}`));
  return {
    id,
    title: str(d.title),
    publisher: isObject(d.publisher) ? str(d.publisher.name) : '',
    released: str(tracking.initial_release_date),
    version: str(tracking.version),
    products,
    vulnerabilities,
  };
}

interface Path {
  vendor: string;
  families: string[];
  name: string;
  versionText: string;
}

function collect(b: Json, path: Path, depth: number, out: AdvisoryProduct[], file: string): void {
  if (depth > MAX_BRANCH_DEPTH)
    throw new AdvisoryError(
      'advisory.too_large',
      `${file}: product tree nested deeper than ${MAX_BRANCH_DEPTH} branches`,
    );
  const category = str(b.category);
  const name = str(b.name);
  const here: Path = { ...path, families: path.families };
  if (category === 'vendor') here.vendor = name;
  else if (category === 'product_family') here.families = [...path.families, name];
  else if (category === 'product_name') here.name = name;
  else if (category === 'product_version' || category === 'product_version_range') here.versionText = name;
  if (isObject(b.product)) {
    const pid = str(b.product.product_id);
    if (pid !== '') {
      if (out.length >= MAX_PRODUCTS)
        throw new AdvisoryError('advisory.too_large', `${file}: more than ${MAX_PRODUCTS} products`);
      out.push(leaf(pid, str(b.product.name), here));
    }
  }
  for (const c of objects(b.branches)) collect(c, here, depth + 1, out, file);
}

function leaf(productId: string, fullName: string, p: Path): AdvisoryProduct {
  return {
    productId,
    vendor: p.vendor,
    families: p.families,
    name: p.name !== '' ? p.name : (p.families.at(-1) ?? fullName),
    versionText: p.versionText,
    versions: p.versionText === '' ? { kind: 'all' } : parseVersionRange(p.versionText),
    fullName,
  };
}

function vulnerability(v: Json, fallbackId: string): AdvisoryVulnerability {
  const status = isObject(v.product_status) ? v.product_status : {};
  const scores: AdvisoryScore[] = [];
  for (const s of objects(v.scores)) {
    const c = isObject(s.cvss_v3) ? s.cvss_v3 : isObject(s.cvss_v2) ? s.cvss_v2 : null;
    if (c === null || typeof c.baseScore !== 'number') continue;
    scores.push({
      baseScore: c.baseScore,
      severity: str(c.baseSeverity),
      vector: str(c.vectorString),
      productIds: strings(s.products),
    });
  }
  return {
    cve: str(v.cve) !== '' ? str(v.cve) : fallbackId,
    title: str(v.title),
    scores,
    knownAffected: [
      ...strings(status.known_affected),
      ...strings(status.first_affected),
      ...strings(status.last_affected),
    ],
    knownNotAffected: strings(status.known_not_affected),
    fixed: [...strings(status.fixed), ...strings(status.first_fixed)],
    remediations: objects(v.remediations).map((r) => {
      const rem: { -readonly [K in keyof AdvisoryRemediation]: AdvisoryRemediation[K] } = {
        category: str(r.category),
        details: str(r.details),
        productIds: strings(r.product_ids),
      };
      if (str(r.url) !== '') rem.url = str(r.url);
      return rem;
    }),
  };
}
