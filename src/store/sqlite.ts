// The embedded store: the site's model in one SQLite file (node:sqlite), with numbered migrations.
// Analysing more captures into the same file merges them into the same inventory (model/merge.ts).

import { DatabaseSync } from 'node:sqlite';
import { classifyAssets, type AssetChoices, type Choices } from '../model/classify.ts';
import { mergeDocuments } from '../model/merge.ts';
import {
  emptyDocument,
  type AnalysisDocument,
  type Asset,
  type AssetRole,
  type Communication,
  type Criticality,
  type PurdueLevel,
} from '../model/types.ts';
import type { Zone, ZoneState } from '../intel/zones.ts';

export { emptyDocument } from '../model/types.ts';

export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** Numbered migrations; each runs once, in order, inside a transaction. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE captures (
     id INTEGER PRIMARY KEY AUTOINCREMENT, analysed_at TEXT NOT NULL, files TEXT NOT NULL,
     packets INTEGER NOT NULL, bytes INTEGER NOT NULL, start TEXT, "end" TEXT, truncated INTEGER NOT NULL, issues TEXT NOT NULL);
   CREATE TABLE assets (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, macs TEXT NOT NULL, ips TEXT NOT NULL, vendor TEXT, names TEXT NOT NULL,
     vlans TEXT NOT NULL, role TEXT NOT NULL, role_evidence TEXT NOT NULL, identity TEXT NOT NULL, protocols TEXT NOT NULL,
     dhcp TEXT, lldp TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL);
   CREATE TABLE asset_addresses (asset_id TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE, kind TEXT NOT NULL, address TEXT NOT NULL);
   CREATE INDEX asset_addresses_address ON asset_addresses(address);
   CREATE TABLE communications (
     id TEXT PRIMARY KEY, client TEXT NOT NULL, server TEXT NOT NULL, transport TEXT NOT NULL, port INTEGER NOT NULL,
     protocol TEXT NOT NULL, confirmed INTEGER NOT NULL, vlans TEXT NOT NULL, flows INTEGER NOT NULL,
     packets INTEGER NOT NULL, bytes INTEGER NOT NULL, packets_to_server INTEGER NOT NULL, packets_to_client INTEGER NOT NULL,
     bytes_to_server INTEGER NOT NULL, bytes_to_client INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
     operations TEXT NOT NULL);
   CREATE INDEX communications_client ON communications(client);
   CREATE INDEX communications_server ON communications(server);
   CREATE TABLE groups_ (id TEXT PRIMARY KEY, address TEXT NOT NULL, kind TEXT NOT NULL);
   CREATE TABLE protocols (protocol TEXT PRIMARY KEY, packets INTEGER NOT NULL, bytes INTEGER NOT NULL, communications INTEGER NOT NULL);
   CREATE TABLE anomalies (code TEXT PRIMARY KEY, count INTEGER NOT NULL);`,
  // 2: asset intelligence — classification, a person's choices, zones, advisories, the change log.
  `ALTER TABLE assets ADD COLUMN classification TEXT;
   CREATE TABLE asset_choices (
     asset_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, note TEXT, set_at TEXT NOT NULL,
     PRIMARY KEY (asset_id, field));
   CREATE TABLE zones (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, name_source TEXT NOT NULL, level REAL, origin TEXT NOT NULL,
     keys TEXT NOT NULL, reason TEXT NOT NULL);
   CREATE TABLE zone_members (asset_id TEXT PRIMARY KEY, zone_id TEXT NOT NULL, source TEXT NOT NULL);
   CREATE TABLE advisories (
     id TEXT PRIMARY KEY, version TEXT NOT NULL, released TEXT NOT NULL, title TEXT NOT NULL, file TEXT NOT NULL,
     imported_at TEXT NOT NULL, document TEXT NOT NULL);
   CREATE TABLE changes (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);`,
];

type Row = Record<string, unknown>;

function json<T>(v: unknown): T {
  return JSON.parse(String(v)) as T;
}

export class SqliteStore {
  readonly path: string;
  private readonly db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  static open(path: string): SqliteStore {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    } catch (e) {
      throw new StoreError('store.open_failed', `Cannot open database ${path}: ${(e as Error).message}`);
    }
    const store = new SqliteStore(path, db);
    store.migrate();
    return store;
  }

  /** The schema version this file is at (number of migrations applied). */
  version(): number {
    const r = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row | undefined;
    return Number(r?.v ?? 0);
  }

  private migrate(): void {
    try {
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
      );
    } catch (e) {
      throw new StoreError(
        'store.not_a_database',
        `${this.path} is not a PlantGuard database (${(e as Error).message})`,
      );
    }
    const current = this.version();
    if (current > MIGRATIONS.length) {
      throw new StoreError(
        'store.newer_schema',
        `${this.path} was written by a newer PlantGuard (schema ${current}; this one knows ${MIGRATIONS.length}); upgrade PlantGuard`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db
          .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
          .run(v + 1, new Date().toISOString());
      });
    }
  }

  private transaction(body: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      body();
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  /** The stored model, or an empty one. */
  load(): AnalysisDocument {
    const doc = emptyDocument();
    const meta = new Map(
      (this.db.prepare('SELECT key, value FROM meta').all() as Row[]).map((r) => [String(r.key), String(r.value)]),
    );
    if (meta.has('capture')) doc.capture = json(meta.get('capture'));
    if (meta.has('stats')) doc.stats = json(meta.get('stats'));
    if (meta.has('generator')) doc.generator = json(meta.get('generator'));
    doc.assets = (this.db.prepare('SELECT * FROM assets').all() as Row[]).map((r) => {
      const a: Asset = {
        id: String(r.id),
        kind: String(r.kind) as Asset['kind'],
        macs: json(r.macs),
        ips: json(r.ips),
        vendor: typeof r.vendor === 'string' ? r.vendor : null,
        names: json(r.names),
        vlans: json(r.vlans),
        role: String(r.role) as Asset['role'],
        roleEvidence: json(r.role_evidence),
        identity: json(r.identity),
        protocols: json(r.protocols),
        firstSeen: String(r.first_seen),
        lastSeen: String(r.last_seen),
        packets: Number(r.packets),
        bytes: Number(r.bytes),
      };
      if (r.dhcp !== null) a.dhcp = json(r.dhcp);
      if (r.lldp !== null) a.lldp = json(r.lldp);
      if (typeof r.classification === 'string') Object.assign(a, json<Partial<Asset>>(r.classification));
      return a;
    });
    doc.communications = (this.db.prepare('SELECT * FROM communications ORDER BY id').all() as Row[]).map(
      (r): Communication => ({
        id: String(r.id),
        client: String(r.client),
        server: String(r.server),
        transport: String(r.transport) as Communication['transport'],
        port: Number(r.port),
        protocol: String(r.protocol),
        confirmed: Number(r.confirmed) === 1,
        vlans: json(r.vlans),
        flows: Number(r.flows),
        packets: Number(r.packets),
        bytes: Number(r.bytes),
        packetsToServer: Number(r.packets_to_server),
        packetsToClient: Number(r.packets_to_client),
        bytesToServer: Number(r.bytes_to_server),
        bytesToClient: Number(r.bytes_to_client),
        firstSeen: String(r.first_seen),
        lastSeen: String(r.last_seen),
        operations: json(r.operations),
      }),
    );
    doc.groups = (this.db.prepare('SELECT * FROM groups_ ORDER BY id').all() as Row[]).map((r) => ({
      id: String(r.id),
      address: String(r.address),
      kind: String(r.kind) as 'broadcast' | 'multicast',
    }));
    doc.protocols = (this.db.prepare('SELECT * FROM protocols ORDER BY packets DESC, protocol').all() as Row[]).map(
      (r) => ({
        protocol: String(r.protocol),
        packets: Number(r.packets),
        bytes: Number(r.bytes),
        communications: Number(r.communications),
      }),
    );
    doc.anomalies = Object.fromEntries(
      (this.db.prepare('SELECT code, count FROM anomalies ORDER BY code').all() as Row[]).map((r) => [
        String(r.code),
        Number(r.count),
      ]),
    );
    return doc;
  }

  /**
   * Merges an analysis into the stored model and records the run; returns the merged model,
   * classified again with the person's choices (which follow an asset whose id changed).
   */
  merge(next: AnalysisDocument): AnalysisDocument {
    let merged = emptyDocument();
    this.transaction(() => {
      const remap = new Map<string, string>();
      merged = mergeDocuments(this.load(), next, remap);
      for (const [from, to] of remap) {
        this.db.prepare('UPDATE OR REPLACE asset_choices SET asset_id = ? WHERE asset_id = ?').run(to, from);
        this.db.prepare('UPDATE OR REPLACE zone_members SET asset_id = ? WHERE asset_id = ?').run(to, from);
      }
      classifyAssets(merged.assets, merged.communications, this.choices());
      this.replace(merged);
      const c = next.capture;
      this.db
        .prepare(
          'INSERT INTO captures (analysed_at, files, packets, bytes, start, "end", truncated, issues) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          new Date().toISOString(),
          JSON.stringify(c.files),
          c.packets,
          c.bytes,
          c.start,
          c.end,
          c.truncated ? 1 : 0,
          JSON.stringify(c.issues),
        );
    });
    return merged;
  }

  /** Analysis runs recorded in this store, oldest first. */
  captures(): { id: number; analysedAt: string; files: string[]; packets: number }[] {
    return (this.db.prepare('SELECT id, analysed_at, files, packets FROM captures ORDER BY id').all() as Row[]).map(
      (r) => ({
        id: Number(r.id),
        analysedAt: String(r.analysed_at),
        files: json(r.files),
        packets: Number(r.packets),
      }),
    );
  }

  private replace(doc: AnalysisDocument): void {
    const db = this.db;
    db.exec(
      'DELETE FROM asset_addresses; DELETE FROM assets; DELETE FROM communications; DELETE FROM groups_; DELETE FROM protocols; DELETE FROM anomalies; DELETE FROM meta;',
    );
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    meta.run('capture', JSON.stringify(doc.capture));
    meta.run('stats', JSON.stringify(doc.stats));
    meta.run('generator', JSON.stringify(doc.generator));
    const ia = db.prepare(
      'INSERT INTO assets (id, kind, macs, ips, vendor, names, vlans, role, role_evidence, identity, protocols, dhcp, lldp, first_seen, last_seen, packets, bytes, classification) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const iaddr = db.prepare('INSERT INTO asset_addresses (asset_id, kind, address) VALUES (?, ?, ?)');
    for (const a of doc.assets) {
      ia.run(
        a.id,
        a.kind,
        JSON.stringify(a.macs),
        JSON.stringify(a.ips),
        a.vendor,
        JSON.stringify(a.names),
        JSON.stringify(a.vlans),
        a.role,
        JSON.stringify(a.roleEvidence),
        JSON.stringify(a.identity),
        JSON.stringify(a.protocols),
        a.dhcp === undefined ? null : JSON.stringify(a.dhcp),
        a.lldp === undefined ? null : JSON.stringify(a.lldp),
        a.firstSeen,
        a.lastSeen,
        a.packets,
        a.bytes,
        JSON.stringify({
          roleConfidence: a.roleConfidence,
          roleSource: a.roleSource,
          level: a.level,
          criticality: a.criticality,
        }),
      );
      for (const m of a.macs) iaddr.run(a.id, 'mac', m);
      for (const ip of a.ips) iaddr.run(a.id, 'ip', ip);
    }
    const ic = db.prepare(
      'INSERT INTO communications (id, client, server, transport, port, protocol, confirmed, vlans, flows, packets, bytes, packets_to_server, packets_to_client, bytes_to_server, bytes_to_client, first_seen, last_seen, operations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const c of doc.communications) {
      ic.run(
        c.id,
        c.client,
        c.server,
        c.transport,
        c.port,
        c.protocol,
        c.confirmed ? 1 : 0,
        JSON.stringify(c.vlans),
        c.flows,
        c.packets,
        c.bytes,
        c.packetsToServer,
        c.packetsToClient,
        c.bytesToServer,
        c.bytesToClient,
        c.firstSeen,
        c.lastSeen,
        JSON.stringify(c.operations),
      );
    }
    const ig = db.prepare('INSERT INTO groups_ (id, address, kind) VALUES (?, ?, ?)');
    for (const g of doc.groups) ig.run(g.id, g.address, g.kind);
    const ip = db.prepare('INSERT INTO protocols (protocol, packets, bytes, communications) VALUES (?, ?, ?, ?)');
    for (const p of doc.protocols) ip.run(p.protocol, p.packets, p.bytes, p.communications);
    const ian = db.prepare('INSERT INTO anomalies (code, count) VALUES (?, ?)');
    for (const [k, v] of Object.entries(doc.anomalies)) ian.run(k, v);
  }

  /** What people decided about assets (role, level, criticality, name), by asset id. */
  choices(): Map<string, AssetChoices> {
    const out = new Map<string, AssetChoices>();
    for (const r of this.db
      .prepare('SELECT asset_id, field, value, note FROM asset_choices ORDER BY set_at')
      .all() as Row[]) {
      const id = String(r.asset_id);
      const c = out.get(id) ?? {};
      const v = String(r.value);
      switch (String(r.field)) {
        case 'role':
          c.role = v as AssetRole;
          break;
        case 'level':
          c.level = Number(v) as PurdueLevel;
          break;
        case 'criticality':
          c.criticality = v as Criticality;
          break;
        case 'name':
          c.name = v;
          break;
        default:
          continue;
      }
      if (typeof r.note === 'string') c.note = r.note;
      out.set(id, c);
    }
    return out;
  }

  /** Records a person's choices for one asset (each set field replaces the previous choice). */
  setChoices(assetId: string, c: AssetChoices): void {
    this.transaction(() => {
      const put = this.db.prepare(
        'INSERT OR REPLACE INTO asset_choices (asset_id, field, value, note, set_at) VALUES (?, ?, ?, ?, ?)',
      );
      const at = new Date().toISOString();
      for (const field of ['role', 'level', 'criticality', 'name'] as const) {
        const v = c[field];
        if (v === undefined) continue;
        put.run(assetId, field, String(v), c.note ?? null, at);
        this.logChange(
          `asset.set_${field}`,
          `${assetId}: ${field} = ${v}${c.note !== undefined ? ` (${c.note})` : ''}`,
        );
      }
    });
  }

  /** Forgets a person's choices: inference decides these fields again. */
  clearChoices(assetId: string, fields: readonly ('role' | 'level' | 'criticality' | 'name')[]): void {
    this.transaction(() => {
      for (const f of fields) {
        const r = this.db.prepare('DELETE FROM asset_choices WHERE asset_id = ? AND field = ?').run(assetId, f);
        if (Number(r.changes) > 0) this.logChange(`asset.clear_${f}`, `${assetId}: ${f} back to inference`);
      }
    });
  }

  zoneState(): ZoneState {
    const zones = (this.db.prepare('SELECT * FROM zones ORDER BY id').all() as Row[]).map((r): Zone => ({
      id: String(r.id),
      name: String(r.name),
      nameSource: String(r.name_source) as Zone['nameSource'],
      level: r.level === null ? null : (Number(r.level) as PurdueLevel),
      origin: String(r.origin) as Zone['origin'],
      keys: json(r.keys),
      reason: String(r.reason),
    }));
    const members = new Map(
      (this.db.prepare('SELECT asset_id, zone_id, source FROM zone_members').all() as Row[]).map((r) => [
        String(r.asset_id),
        { zone: String(r.zone_id), source: String(r.source) as Zone['nameSource'] },
      ]),
    );
    return { zones, members };
  }

  /** Replaces the zone model; `change` (when given) goes to the change log. */
  saveZoneState(state: ZoneState, change?: { action: string; detail: string }): void {
    this.transaction(() => {
      this.db.exec('DELETE FROM zone_members; DELETE FROM zones;');
      const iz = this.db.prepare(
        'INSERT INTO zones (id, name, name_source, level, origin, keys, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const z of state.zones)
        iz.run(z.id, z.name, z.nameSource, z.level, z.origin, JSON.stringify(z.keys), z.reason);
      const im = this.db.prepare('INSERT INTO zone_members (asset_id, zone_id, source) VALUES (?, ?, ?)');
      for (const [a, m] of state.members) im.run(a, m.zone, m.source);
      if (change !== undefined) this.logChange(change.action, change.detail);
    });
  }

  /** Stored advisories: the CSAF documents as imported, newest version per id. */
  advisoryDocuments(): { id: string; version: string; file: string; importedAt: string; document: string }[] {
    return (
      this.db.prepare('SELECT id, version, file, imported_at, document FROM advisories ORDER BY id').all() as Row[]
    ).map((r) => ({
      id: String(r.id),
      version: String(r.version),
      file: String(r.file),
      importedAt: String(r.imported_at),
      document: String(r.document),
    }));
  }

  /** The stored version of an advisory, or null. */
  advisoryVersion(id: string): string | null {
    const r = this.db.prepare('SELECT version FROM advisories WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? null : String(r.version);
  }

  putAdvisory(a: {
    id: string;
    version: string;
    released: string;
    title: string;
    file: string;
    document: string;
  }): void {
    this.transaction(() => {
      this.db
        .prepare(
          'INSERT OR REPLACE INTO advisories (id, version, released, title, file, imported_at, document) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(a.id, a.version, a.released, a.title, a.file, new Date().toISOString(), a.document);
      this.logChange('advisory.import', `${a.id} version ${a.version} from ${a.file}`);
    });
  }

  /** The change log: every choice, zone edit and import, oldest first. */
  changes(): { at: string; action: string; detail: string }[] {
    return (this.db.prepare('SELECT at, action, detail FROM changes ORDER BY id').all() as Row[]).map((r) => ({
      at: String(r.at),
      action: String(r.action),
      detail: String(r.detail),
    }));
  }

  private logChange(action: string, detail: string): void {
    this.db
      .prepare('INSERT INTO changes (at, action, detail) VALUES (?, ?, ?)')
      .run(new Date().toISOString(), action, detail);
  }

  close(): void {
    this.db.close();
  }
}

export type { Choices };
