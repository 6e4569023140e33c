import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../src/sql/table-name.ts';
import { DmError } from '../../src/errors/index.ts';
import type { ChunkRow } from '../checkpoint-load.ts';
import type { SubtaskSpec, TaskConfig } from '../../src/config/types.ts';
import { query } from '../db/mysql.ts';
import { quoteIdent, tableKey } from '../../src/sql/table-name.ts';
import { listTables, loadTableInfo, rowKey, tableRowStats, type TableInfo } from '../db/schema.ts';
import { toTableInfo } from '../../src/schema/from-server.ts';
import { createDatabaseFor, createTableFor } from '../sync/sqlgen.ts';
import { strictCollations, type UpstreamCollations } from '../../src/sql/strict-collation.ts';
import { forStatement, readUpstreamCollations } from '../db/collations.ts';
import { Snapshot } from './snapshot.ts';
import { throwIfAborted, type SubtaskContext, type SubtaskRules, type Unit } from '../unit.ts';

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/**
 * Dump unit: takes the consistent snapshot, creates the routed schemas and tables downstream, and writes the chunk
 * plan (primary-key ranges) with the snapshot position as one checkpoint transaction. The snapshot stays open for
 * the load unit, which streams each chunk from it.
 */
export class DumpUnit implements Unit {
  readonly name = 'dump' as const;
  snapshot: Snapshot | undefined;

  constructor(
    private readonly ctx: SubtaskContext,
    private readonly down: Connection,
  ) {}

  async run(): Promise<void> {
    const { ctx } = this;
    const workers = Math.max(1, ctx.spec.dump.threads);
    const wanted = (schema: string, table: string) => migratedTable(ctx.rules, schema, table);
    const snap = await Snapshot.take(ctx.source.from, workers, {
      withSchema: true,
      withPosition: ctx.task.taskMode !== 'full',
      tables: wanted,
    });
    this.snapshot = snap;
    try {
      const conn = snap.conns[0]!;
      // Foreign keys: tables are created in name order, a child before its parent; every downstream session has the
      // checks off (db/mysql.ts connect), as DM's loader.
      // Tables and their structure as of the snapshot (read under its lock), not as they are a moment later.
      const tables = snap.tables ?? (await listTables(conn, 'upstream')).filter((t) => wanted(t.schema, t.table));
      ctx.log.info({ tables: tables.length, position: snap.position }, 'snapshot taken');
      const chunks: ChunkRow[] = [];
      const strict = await strictDefaults(ctx.task, conn);
      const ensureSchema = schemaCreator(conn, this.down, strict);
      const small = await smallTables(conn, tables, ctx.spec.dump.rows || 10_000);
      for (const t of tables) {
        throwIfAborted(ctx.signal);
        const target = ctx.rules.route(t.schema, t.table);
        await ensureSchema(t.schema, target.schema);
        const createSql = (t as { createSql?: string }).createSql ?? (await readCreateTable(conn, t));
        await createTarget(this.down, createSql, target, strict);
        chunks.push(
          ...(await planChunks(
            conn,
            t,
            target,
            ctx.spec.dump.rows || 10_000,
            ctx.spec.dump.where,
            snapshotInfo(snap, t),
            small.has(tableKey(t)),
          )),
        );
      }
      for (const name of await allowedSchemas(conn, ctx.spec, ctx.rules))
        await ensureSchema(name, ctx.rules.routeSchema(name));
      await ctx.ckpt.writePlan(
        this.down,
        chunks,
        { phase: 'load', syncStart: snap.position, safeUntil: snap.position },
        snap.tracker?.toJSON(),
      );
      ctx.report({
        load: {
          totalChunks: chunks.length,
          doneChunks: 0,
          totalRows: chunks.reduce((s, c) => s + c.estRows, 0),
          doneRows: 0,
          tables: tables.length,
        },
      });
    } catch (err) {
      snap.close();
      this.snapshot = undefined;
      throw err;
    }
  }
}

/** Tables a full migration copies: allowed by the rules, and not an online-DDL tool's shadow or trash table (the
 * tool's scratch copy, not data). */
export function migratedTable(rules: SubtaskRules, schema: string, table: string): boolean {
  return rules.allowTable(schema, table) && rules.onlineTableType(table) === 'real';
}

/** A table's structure as of the snapshot (its tracker was read under the lock), not as information_schema shows
 * it a moment later. */
export function snapshotInfo(snap: Snapshot, t: TableName): TableInfo | undefined {
  const tracked = snap.tracker?.get(t.schema, t.table);
  return tracked ? toTableInfo(tracked) : undefined;
}

/** collation_compatible: strict — the upstream's collation defaults for the schema statements of a full load (as
 * dumpling adds them to its schema files); undefined with loose. */
export async function strictDefaults(task: TaskConfig, up: Connection): Promise<UpstreamCollations | undefined> {
  return task.collationCompatible === 'strict' ? forStatement(await readUpstreamCollations(up)) : undefined;
}

/** The upstream's SHOW CREATE TABLE text of a table. */
export async function readCreateTable(conn: Connection, t: TableName): Promise<string> {
  const [ct] = await query<Record<string, string>[]>(
    conn,
    'upstream',
    `SHOW CREATE TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
  );
  return String(ct?.['Create Table']);
}

/** Schemas the rules let through, created even when they hold no table yet (DM does the same); none when the
 * block-allow list names tables (do-tables). */
export async function allowedSchemas(conn: Connection, spec: SubtaskSpec, rules: SubtaskRules): Promise<string[]> {
  if (spec.blockAllowList?.doTables.length) return [];
  const schemas = await query<Record<string, string>[]>(
    conn,
    'upstream',
    `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql','information_schema','performance_schema','sys')`,
  );
  return schemas.map((r) => String(r.SCHEMA_NAME)).filter((name) => rules.allowSchema(name));
}

/** The CREATE DATABASE IF NOT EXISTS statement for a routed name, with the upstream schema's charset; once per target
 * (undefined after the first). `strict`: collation_compatible strict, the upstream's default collation is made
 * explicit. The dump runs these statements; `dmctl plan` prints them. */
export function databaseStatements(
  up: Connection,
  strict?: UpstreamCollations,
): (upstream: string, target: string) => Promise<string | undefined> {
  const created = new Set<string>();
  return async (upstream, target) => {
    if (created.has(target)) return undefined;
    const [db] = await query<Record<string, string>[]>(up, 'upstream', `SHOW CREATE DATABASE ${quoteIdent(upstream)}`);
    const show = String(db?.['Create Database'] ?? `CREATE DATABASE \`${upstream}\``);
    created.add(target);
    return createDatabaseFor(strict ? strictCollations(show, strict) : show, target);
  };
}

/** Runs databaseStatements() downstream. */
export function schemaCreator(
  up: Connection,
  down: Connection,
  strict?: UpstreamCollations,
): (upstream: string, target: string) => Promise<void> {
  const next = databaseStatements(up, strict);
  return async (upstream, target) => {
    const sql = await next(upstream, target);
    if (sql) await query(down, 'downstream', sql);
  };
}

/** The CREATE TABLE IF NOT EXISTS statement of a routed table, from the upstream's CREATE TABLE (`strict`: with
 * explicit collations). */
export function tableStatement(createSql: string, target: TableName, strict?: UpstreamCollations): string {
  return createTableFor(strict ? strictCollations(createSql, strict) : createSql, target);
}

/** Creates the routed table downstream (tableStatement()). */
export async function createTarget(
  down: Connection,
  createSql: string,
  target: TableName,
  strict?: UpstreamCollations,
): Promise<void> {
  const ddl = tableStatement(createSql, target, strict);
  try {
    await query(down, 'downstream', ddl);
  } catch (err) {
    throw new DmError('DownstreamSchema', `cannot create ${tableKey(target)} downstream`, {
      cause: err,
      context: { sql: ddl, table: `${tableKey(target)}` },
    });
  }
}

/**
 * Tables information_schema counts under one chunk of rows (its statistics, one query for all): planChunks counts
 * those at once instead of asking EXPLAIN first (1,000 small tables took 0.15-0.2 s more of EXPLAINs). A table its
 * statistics undercount (MySQL 8 caches them) is only counted exactly, as before the estimates.
 */
async function smallTables(conn: Connection, tables: TableName[], rows: number): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const stats = await tableRowStats(conn, 'upstream', [...new Set(tables.map((t) => t.schema))]);
    for (const [k, n] of stats) if (n !== null && n < rows) out.add(k);
  } catch {
    // Without them every table is asked with EXPLAIN.
  }
  return out;
}

/** The rows `EXPLAIN SELECT * FROM <from>` expects (statistics, no scan), or undefined when it says nothing usable. */
async function estimateRows(conn: Connection, from: string): Promise<number | undefined> {
  try {
    const plan = await query<Record<string, unknown>[]>(conn, 'upstream', `EXPLAIN SELECT * FROM ${from}`);
    const n = Number(plan[0]?.rows ?? Number.NaN);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  } catch {
    // A server whose EXPLAIN refuses this SELECT: the COUNT(*) that follows says what is wrong, if anything is.
    return undefined;
  }
}

async function countRows(conn: Connection, from: string): Promise<number> {
  const [c] = await query<Record<string, string>[]>(conn, 'upstream', `SELECT COUNT(*) AS n FROM ${from}`);
  return Number(c?.n ?? 0);
}

/** The column the dump splits a table's chunks on: its row key when that is one integer column, else null (one chunk). */
export function chunkColumn(info: TableInfo): string | null {
  const key = rowKey(info);
  return key.length === 1 && INTEGER_TYPES.has(info.columns.find((c) => c.name === key[0])?.dataType ?? '')
    ? key[0]!
    : null;
}

/** Splits a table into ranges of about `rows` rows on an integer key; other tables are one chunk. `known`: the
 * table's structure at the snapshot (read from information_schema when not given); `small`: its statistics say it is
 * under one chunk (counted without asking EXPLAIN). */
export async function planChunks(
  conn: Connection,
  t: TableName,
  target: TableName,
  rows: number,
  where: string,
  known?: TableInfo,
  small = false,
): Promise<ChunkRow[]> {
  const info = known ?? (await loadTableInfo(conn, 'upstream', t.schema, t.table));
  if (!info) throw new DmError('UpstreamQuery', `table ${tableKey(t)} vanished during the dump`);
  const keyCol = chunkColumn(info);
  const base = {
    schema: t.schema,
    table: t.table,
    targetSchema: target.schema,
    targetTable: target.table,
    done: false,
    rows: 0,
  };
  const id = (i: number) => `${tableKey(t)}#${String(i).padStart(6, '0')}`;
  const filter = where ? ` WHERE ${where}` : '';
  const from = `${quoteIdent(t.schema)}.${quoteIdent(t.table)}${filter}`;
  // The optimizer's row estimate sizes the chunks, as dumpling's does: an exact COUNT(*) scans the whole table before
  // the first row is loaded (90 ms of a 3.3 s full bench, and the upstream's CPU; minutes on a large table). Counted
  // only when the estimate is missing or under one chunk (the table is small, or its statistics say so: counting then
  // decides one chunk or several), and with a `where` filter (EXPLAIN's rows are the rows examined, not those that
  // match). The load corrects each table's total as its chunks finish.
  const est = where || small ? undefined : await estimateRows(conn, from);
  const counted = est === undefined || est < rows;
  if (!keyCol) {
    const n = counted ? await countRows(conn, from) : est;
    return [{ ...base, chunkId: id(0), keyColumn: null, lo: null, hi: null, estRows: n }];
  }
  const [mm] = await query<Record<string, string | null>[]>(
    conn,
    'upstream',
    `SELECT MIN(${quoteIdent(keyCol)}) AS lo, MAX(${quoteIdent(keyCol)}) AS hi${counted ? ', COUNT(*) AS n' : ''} FROM ${from}`,
  );
  if (!mm || mm.lo === null || mm.hi === null) {
    return [{ ...base, chunkId: id(0), keyColumn: keyCol, lo: null, hi: null, estRows: 0 }];
  }
  const lo = BigInt(String(mm.lo));
  const hi = BigInt(String(mm.hi));
  const span = hi - lo + 1n;
  // An estimate above the key range's width (statistics from before a mass delete) is at most that many rows.
  const n = counted ? Number(mm.n ?? 0) : Math.min(est, Number(span));
  if (n <= rows) return [{ ...base, chunkId: id(0), keyColumn: keyCol, lo: null, hi: null, estRows: n }];
  const parts = BigInt(Math.min(Math.ceil(n / rows), 100_000));
  const bounds: bigint[] = [];
  for (let i = 1n; i < parts; i++) {
    const b = lo + (span * i) / parts;
    if (bounds.length === 0 || b > bounds[bounds.length - 1]!) bounds.push(b);
  }
  // First and last chunks are open-ended, so rows outside [MIN, MAX] of this snapshot (a later snapshot after a
  // crash) are still covered by some chunk.
  const chunks: ChunkRow[] = [];
  for (let i = 0; i <= bounds.length; i++) {
    chunks.push({
      ...base,
      chunkId: id(i),
      keyColumn: keyCol,
      lo: i === 0 ? null : String(bounds[i - 1]),
      hi: i === bounds.length ? null : String(bounds[i]),
      estRows: Math.ceil(n / (bounds.length + 1)),
    });
  }
  return chunks;
}
