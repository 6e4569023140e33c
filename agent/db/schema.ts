import type { Connection } from 'mysql2/promise';
import { query, type Side } from './mysql.ts';

/** A table's structure as tsdm needs it to read, write and key rows: one definition, in src/schema (the tracker
 * produces it too). */
import type { ColumnInfo, TableInfo } from '../../src/schema/engine-shapes.ts';
import { BINARY_TYPES } from '../../src/schema/from-server.ts';
export type { ColumnInfo, TableInfo };

/**
 * The columns that identify a row: the primary key, else the first unique key over NOT NULL columns, else none. A key
 * over a generated column does not count: its value is the downstream's to compute, so it is never written and a row
 * must not be found by it.
 */
export function rowKey(t: TableInfo): string[] {
  // Memoised per structure (TableInfo objects are never changed once built; row-identity.ts keys by them too): the
  // sync unit asks for every row change, and under tsx each call's closures cost an Object.defineProperty
  // (esbuild keepNames): ~10 % of the agent's CPU in a 100-row catch-up.
  let key = rowKeys.get(t);
  if (key === undefined) rowKeys.set(t, (key = computeRowKey(t)));
  return key;
}

const rowKeys = new WeakMap<TableInfo, string[]>();

function computeRowKey(t: TableInfo): string[] {
  const col = (c: string) => t.columns.find((x) => x.name === c);
  const stored = (k: string[]) => k.every((c) => col(c)?.generated === false);
  if (t.primaryKey.length && stored(t.primaryKey)) return t.primaryKey;
  for (const uk of t.uniqueKeys) {
    if (stored(uk) && uk.every((c) => col(c)?.nullable === false)) return uk;
  }
  return [];
}

export async function loadTableInfo(
  conn: Connection,
  side: Side,
  schema: string,
  table: string,
): Promise<TableInfo | undefined> {
  const cols = await query<Record<string, string | null>[]>(
    conn,
    side,
    `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT,
            GENERATION_EXPRESSION
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [schema, table],
  );
  if (cols.length === 0) return undefined;
  const columns: ColumnInfo[] = cols.map((c) => {
    const dataType = String(c.DATA_TYPE).toLowerCase();
    const extra = String(c.EXTRA ?? '').toUpperCase();
    return {
      name: String(c.COLUMN_NAME),
      dataType,
      columnType: String(c.COLUMN_TYPE),
      nullable: c.IS_NULLABLE === 'YES',
      // MySQL 8 shows DEFAULT_GENERATED for `DEFAULT (expr)`/CURRENT_TIMESTAMP: not a generated column.
      generated:
        /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/.test(extra) || /^(VIRTUAL|PERSISTENT|STORED)$/.test(extra.trim()),
      charset: c.CHARACTER_SET_NAME ?? null,
      collation: c.COLLATION_NAME ?? null,
      comment: String(c.COLUMN_COMMENT ?? ''),
      binary: BINARY_TYPES.has(dataType) || c.CHARACTER_SET_NAME === 'binary',
    };
  });
  const idx = await query<Record<string, string | number>[]>(
    conn,
    side,
    `SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, SEQ_IN_INDEX FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    [schema, table],
  );
  const keys = new Map<string, string[]>();
  for (const r of idx) {
    if (Number(r.NON_UNIQUE) !== 0) continue;
    const name = String(r.INDEX_NAME);
    keys.set(name, [...(keys.get(name) ?? []), String(r.COLUMN_NAME)]);
  }
  const primaryKey = keys.get('PRIMARY') ?? [];
  keys.delete('PRIMARY');
  return { schema, table, columns, primaryKey, uniqueKeys: [...keys.values()] };
}

export async function listTables(conn: Connection, side: Side): Promise<{ schema: string; table: string }[]> {
  const rows = await query<Record<string, string>[]>(
    conn,
    side,
    `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'
       AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') ORDER BY TABLE_SCHEMA, TABLE_NAME`,
  );
  return rows.map((r) => ({ schema: String(r.TABLE_SCHEMA), table: String(r.TABLE_NAME) }));
}

/**
 * information_schema's row count of every table in `schemas` (the engine's statistics, one query, no scan), keyed by
 * tableKey; null where the server has none.
 */
export async function tableRowStats(
  conn: Connection,
  side: Side,
  schemas: string[],
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  if (schemas.length === 0) return out;
  const rows = await query<{ s: string; t: string; n: unknown }[]>(
    conn,
    side,
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${schemas.map(() => '?').join(',')})`,
    schemas,
  );
  for (const r of rows) out.set(`${r.s}.${r.t}`, r.n === null || r.n === undefined ? null : Number(r.n));
  return out;
}

/**
 * How to SELECT a column's exact value, given an expression reading it: a FLOAT prints rounded to 6 significant
 * digits on MariaDB ('1.33333' for 1.3333334), which written back or compared is another value; as a DOUBLE it
 * prints the exact float32 value, which a FLOAT column stores back unchanged. Every other type reads as itself.
 */
export function exactRead(expr: string, dataType: string): string {
  return dataType === 'float' ? `(${expr} + 0e0)` : expr;
}

export function binaryColumns(t: TableInfo): Set<string> {
  return new Set(t.columns.filter((c) => c.binary).map((c) => c.name));
}
