import type pg from 'pg';
import { describeSource, qualified, type ClickHouse } from './client';
import { DEFAULT_NAMED_COLLECTION, ensureWarehouseAccess, namedCollectionExists, warehouseAccess } from './data-files';
import { keyTuple, watermarkKey, type WatermarkKey } from './range';
import {
  addFingerprints,
  federatedView,
  fingerprintQuery,
  icebergTableFunction,
  literalTuple,
  namedCollectionDdl,
  parsePin,
  type FederatedView,
  type Fingerprint,
  splitMetadataLocation,
  type IcebergAccess,
  viewName,
} from './federation';
import type { Settings } from '../config/settings';
import { identifier } from '../config/tables';
import { tableConfig, tableIdent } from '../config/lookup';
import { readBoundary } from '../db/boundary';

export { DEFAULT_NAMED_COLLECTION };

export interface FederateOptions {
  /** @default every table of the registry */
  tables?: string[];
  /**
   * An existing named collection with the S3 keys (server config or an operator's DDL): coldtier then creates none.
   * @default coldtier_s3, created or updated from the settings' S3 keys (none without keys)
   */
  namedCollection?: string;
}

interface Services {
  ch: ClickHouse;
  pool: pg.Pool;
}

interface TablePlan {
  table: string;
  hot: string;
  columns: string[];
  key: WatermarkKey;
  view: FederatedView;
  /** The pinned Iceberg table function; null before the first commit. */
  iceberg: string | null;
}

const access = (s: Settings, o: FederateOptions): IcebergAccess => warehouseAccess(s, o.namedCollection);

/** The view of each table from the boundary committed now: columns from the hot table, pair from one Postgres read. */
export async function planViews(s: Settings, svc: Services, o: FederateOptions = {}): Promise<TablePlan[]> {
  if (o.namedCollection !== undefined && !identifier.safeParse(o.namedCollection).success) {
    throw new Error(`--named-collection ${JSON.stringify(o.namedCollection)}: must be the plain name of a ClickHouse named collection (letters, digits and _)`);
  }
  const acc = access(s, o);
  const plans: TablePlan[] = [];
  for (const name of o.tables ?? s.tables.map((t) => t.name)) {
    const cfg = tableConfig(s, name);
    const cols = await describeSource(svc.ch, name, cfg.source);
    const key = watermarkKey(cfg, cols);
    const hot = qualified(svc.ch, cfg.source);
    const b = await readBoundary(svc.pool, tableIdent(s, name));
    const pinned = b.key && b.metadataLocation ? b.metadataLocation : null;
    const iceberg = pinned ? icebergTableFunction(pinned, acc) : null;
    const metadata = pinned ? splitMetadataLocation(pinned).metadataPath : null;
    const columns = cols.map((c) => c.name);
    const view = federatedView({ database: hot.database, table: name, hot: hot.sql, columns, key, iceberg, pin: { key: pinned ? b.key : null, metadata } });
    plans.push({ table: name, hot: hot.sql, columns, key, view, iceberg });
  }
  return plans;
}

/** The named-collection statement --apply runs first (null when none is needed), and its text with the keys masked. */
function collectionStatement(s: Settings, o: FederateOptions, exists: boolean): { sql: string; shown: string } | null {
  if (o.namedCollection || !s.s3.accessKeyId || !s.s3.secretAccessKey || !s.warehouse.startsWith('s3://')) return null;
  const sql = namedCollectionDdl(DEFAULT_NAMED_COLLECTION, exists, { accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey });
  return { sql, shown: namedCollectionDdl(DEFAULT_NAMED_COLLECTION, exists, { accessKeyId: '***', secretAccessKey: '***' }) };
}


/** `federate --print`: the statements --apply would run, secrets masked. */
export async function printViews(s: Settings, svc: Services, o: FederateOptions = {}): Promise<string> {
  const plans = await planViews(s, svc, o);
  const coll = collectionStatement(s, o, await namedCollectionExists(svc.ch, DEFAULT_NAMED_COLLECTION));
  return [...(coll ? [coll.shown] : []), ...plans.map((p) => p.view.ddl)].map((q) => `${q};`).join('\n\n');
}

/** `federate --apply`: (re)creates each view atomically (CREATE OR REPLACE), each definition one consistent pair. */
export async function applyViews(s: Settings, svc: Services, o: FederateOptions = {}): Promise<TablePlan[]> {
  const coll = collectionStatement(s, o, await namedCollectionExists(svc.ch, DEFAULT_NAMED_COLLECTION));
  if (coll) await svc.ch.command(coll.sql);
  const plans = await planViews(s, svc, o);
  for (const p of plans) await svc.ch.command(p.view.ddl);
  return plans;
}

/** The comment of the table's view `<table>_all` (where coldtier keeps its pin), or null when there is no such view. */
async function viewComment(s: Settings, ch: ClickHouse, table: string): Promise<string | null> {
  const [meta] = await ch.json<{ comment: string }>('SELECT comment FROM system.tables WHERE database = {db:String} AND name = {t:String}', {
    db: qualified(ch, tableConfig(s, table).source).database,
    t: `${table}_all`,
  });
  return meta ? meta.comment : null;
}

/**
 * `refreshed`: re-pinned to the pair committed now; `current`: already pinned to it; `absent`: no view to refresh;
 * `foreign`: a view of that name that coldtier did not create (no coldtier pin in its comment), left untouched.
 */
export type RefreshStatus = 'refreshed' | 'current' | 'absent' | 'foreign';

/**
 * Re-pins the table's view, if `coldtier federate --apply` created one, to the pair committed now; a table without a
 * view is left alone (one look at system.tables), so federation stays opt-in. Called after each commit, so the hot
 * side of a view scans only the rows since that commit and its pinned files stay current.
 */
export async function refreshView(s: Settings, svc: Services, table: string): Promise<{ view: string; status: RefreshStatus }> {
  const comment = await viewComment(s, svc.ch, table);
  const view = viewName(qualified(svc.ch, tableConfig(s, table).source).database, table);
  if (comment === null) return { view, status: 'absent' };
  const pin = parsePin(comment);
  if (!pin) return { view, status: 'foreign' };
  const [plan] = await planViews(s, svc, { tables: [table] });
  if (JSON.stringify(pin) === JSON.stringify(plan!.view.pin)) return { view, status: 'current' };
  // Rotated keys reach the named collection before the view names it again.
  await ensureWarehouseAccess(svc.ch, s);
  await svc.ch.command(plan!.view.ddl);
  return { view, status: 'refreshed' };
}

export interface CheckResult {
  table: string;
  view: string;
  status: 'ok' | 'different' | 'missing';
  actual: Fingerprint | null;
  expected: Fingerprint;
  detail: string;
}

async function fp(ch: ClickHouse, sql: string): Promise<Fingerprint> {
  return (await ch.json<Fingerprint>(sql))[0]!;
}

/**
 * The union an analyst expects, computed without the view: every row of the Iceberg table as committed now (all of it:
 * a committed snapshot holds nothing above its boundary) plus the hot rows above that boundary. If an offload commits
 * while the three queries run, the expectation moved under them: measure again (at most 5 times).
 */
export async function checkViews(s: Settings, svc: Services, o: FederateOptions = {}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const name of o.tables ?? s.tables.map((t) => t.name)) {
    for (let attempt = 1; ; attempt++) {
      const [p] = await planViews(s, svc, { ...o, tables: [name] });
      const plan = p!;
      const comment = await viewComment(s, svc.ch, name);
      const pin = plan.view.pin;
      const hotWhere = pin.key ? `${keyTuple(plan.key)} > ${literalTuple(plan.key, pin.key)}` : '1';
      const hot = await fp(svc.ch, fingerprintQuery(plan.hot, plan.columns, hotWhere));
      const cold = plan.iceberg ? await fp(svc.ch, fingerprintQuery(plan.iceberg, plan.columns)) : { n: '0', hash: '0' };
      const expected = addFingerprints(hot, cold);
      if (comment === null) {
        out.push({ table: name, view: plan.view.name, status: 'missing', actual: null, expected, detail: `view ${plan.view.name} does not exist; run coldtier federate --apply` });
        break;
      }
      let actual: Fingerprint | null = null;
      let error = '';
      try {
        actual = await fp(svc.ch, fingerprintQuery(plan.view.name, plan.columns));
      } catch (err) {
        error = (err as Error).message;
      }
      const [again] = await planViews(s, svc, { ...o, tables: [name] });
      const moved = JSON.stringify(again!.view.pin) !== JSON.stringify(pin);
      if (moved && attempt < 5) continue;
      const same = actual !== null && actual.n === expected.n && actual.hash === expected.hash;
      const viewPin = parsePin(comment);
      const pinText = viewPin?.key ? `view pinned at (${viewPin.key.join(', ')}) ${viewPin.metadata}` : 'view holds the hot table only';
      const detail = same
        ? `${actual!.n} rows; ${pinText}`
        : `view ${error ? `fails: ${error}` : `has ${actual!.n} rows (hash ${actual!.hash})`}, expected ${expected.n} (hash ${expected.hash}); ${pinText}${moved ? '; offloads kept committing during the check' : ''}; run coldtier federate --apply and check again`;
      out.push({ table: name, view: plan.view.name, status: same ? 'ok' : 'different', actual, expected, detail });
      break;
    }
  }
  return out;
}
