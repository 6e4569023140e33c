import type { Connection } from 'mysql2/promise';
import { query, type Side } from '../db/mysql.ts';
import { type ColumnInfo, loadTableInfo, rowKey, type TableInfo } from '../db/schema.ts';
import { tableKey } from '../../src/sql/table-name.ts';
import type { TablePlan, View } from './types.ts';
import { kindOf, type ValueKind } from './normalize.ts';

/** Where a compared column's upstream values come from, per shard: a column, or a DM extended-column constant. */
export type UpSource = { column: ColumnInfo } | { constant: string };

export interface CompareColumn {
  /** The downstream column name (reports, fix SQL). */
  name: string;
  down: ColumnInfo;
  /** One per plan shard, in plan order. */
  up: UpSource[];
  kind: ValueKind;
  /** Read as bytes on both sides. */
  binary: boolean;
  /** Part of the checksum's NULL bitmap (nullable on some side): the same list on both sides. */
  nullable: boolean;
  /** Its rendering may contain the separator, so its length goes into the checksum too (same list on both sides). */
  variable: boolean;
  /** Checksummed as CONVERT(… USING utf8mb4): the sides store it in different character sets. */
  convert?: boolean;
}

/** What one target's compare works with: columns, the key (indexes into columns), and whether the checksum fast
 * path is sound (every column has the same type on both sides: equal values render equal text). */
export interface TableShape {
  columns: CompareColumn[];
  /** Indexes of the key columns in `columns`, in key order; empty for a table without a usable key. */
  key: number[];
  fast: boolean;
  /** Why rows are compared without the checksum fast path. */
  slowReason?: string;
}

const lower = (s: string) => s.toLowerCase();
/** COLUMN_TYPE without what does not change how values print: integer display widths (MySQL 8.0.19+ shows `int`
 * where MariaDB and MySQL 5.7 show `int(11)`; ZEROFILL, which does change it, is kept). */
const sameType = (t: string) => lower(t).replace(/^(tinyint|smallint|mediumint|int|integer|bigint|year)\(\d+\)/, '$1');
const UTF8 = /^utf8(mb3|mb4)?_/;

/** Two collations order keys the same way: equal, or utf8mb3/utf8mb4 variants of one collation (BMP order). */
function sameOrder(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return UTF8.test(a) && UTF8.test(b) && a.replace(UTF8, '') === b.replace(UTF8, '');
}

/**
 * Reads the structures (inside the View's snapshots) and matches columns by name, case-insensitively: compared
 * columns are the upstream columns (all of them must exist downstream) plus the extended columns; downstream-only
 * columns (extra columns with defaults) are ignored. Returns a reason instead when the table cannot be compared.
 */
export async function loadShape(plan: TablePlan, view: View): Promise<TableShape | { reason: string }> {
  const down = await loadInfo(view.downstream, 'downstream', plan.target.schema, plan.target.table);
  if (!down) return { reason: `downstream table ${tableKey(plan.target)} does not exist` };
  const ups: TableInfo[] = [];
  for (const s of plan.shards) {
    const conn = view.upstream.get(s.source);
    if (!conn) return { reason: `no upstream snapshot for source ${s.source}` };
    const info = await loadInfo(conn, 'upstream', s.schema, s.table);
    if (!info) return { reason: `upstream table ${s.source}:${s.schema}.${s.table} does not exist` };
    ups.push(info);
  }
  return shapeOf(plan, down, ups);
}

/**
 * loadTableInfo, with MariaDB's JSON columns typed 'json': MariaDB stores JSON as LONGTEXT with a json_valid() CHECK
 * (information_schema says 'longtext'), and JSON must be compared by value, not text.
 */
async function loadInfo(conn: Connection, side: Side, schema: string, table: string): Promise<TableInfo | undefined> {
  const info = await loadTableInfo(conn, side, schema, table);
  if (!info || !info.columns.some((c) => c.dataType === 'longtext')) return info;
  let clauses: { CHECK_CLAUSE: string }[];
  try {
    clauses = await query<{ CHECK_CLAUSE: string }[]>(
      conn,
      side,
      'SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
      [schema, table],
    );
  } catch {
    return info; // MySQL: no TABLE_NAME there, and its JSON columns are typed 'json' anyway
  }
  const json = new Set(
    clauses.flatMap((r) =>
      [...String(r.CHECK_CLAUSE).matchAll(/json_valid\(`((?:[^`]|``)+)`\)/gi)].map((m) =>
        lower(m[1]!.replace(/``/g, '`')),
      ),
    ),
  );
  return {
    ...info,
    columns: info.columns.map((c) =>
      c.dataType === 'longtext' && json.has(lower(c.name)) ? { ...c, dataType: 'json' } : c,
    ),
  };
}

/** The pure part of loadShape (unit-tested). */
export function shapeOf(plan: TablePlan, down: TableInfo, ups: TableInfo[]): TableShape | { reason: string } {
  const downBy = new Map(down.columns.map((c) => [lower(c.name), c]));
  const sources = new Map<string, UpSource[]>();
  for (const [i, s] of plan.shards.entries()) {
    const where = `${s.source}:${s.schema}.${s.table}`;
    const constants = new Map(Object.entries(s.constants).map(([k, v]) => [lower(k), v]));
    for (const [name, value] of constants) {
      if (!downBy.has(name)) return { reason: `extended column ${name} of ${where} does not exist downstream` };
      (sources.get(name) ?? sources.set(name, []).get(name)!)[i] = { constant: value };
    }
    for (const c of ups[i]!.columns) {
      if (c.generated) continue; // computed on each side from the compared columns
      const name = lower(c.name);
      if (constants.has(name)) continue; // the extended column's constant overrides the upstream column
      if (!downBy.has(name)) return { reason: `upstream column ${c.name} of ${where} does not exist downstream` };
      (sources.get(name) ?? sources.set(name, []).get(name)!)[i] = { column: c };
    }
  }
  const columns: CompareColumn[] = [];
  let fast = true;
  let slowReason: string | undefined;
  for (const d of down.columns) {
    const up = sources.get(lower(d.name));
    if (!up) continue; // downstream-only: not the task's to fill
    if (d.generated) continue; // the downstream computes it
    for (let i = 0; i < plan.shards.length; i++) {
      if (!up[i]) {
        const s = plan.shards[i]!;
        return { reason: `column ${d.name} has no source in ${s.source}:${s.schema}.${s.table}` };
      }
    }
    const upCols = up.flatMap((u) => ('column' in u ? [u.column] : []));
    const kind = kindOf(
      d.dataType,
      upCols.map((c) => c.dataType),
    );
    // Text in different character sets (utf8mb3 upstream, utf8mb4 downstream: the usual upgrade) is checksummed in
    // utf8mb4 on both sides, so equal text still gives equal checksums.
    const text = (c: ColumnInfo) => c.charset !== null && c.charset !== 'binary';
    const convert = upCols.some((c) => c.charset !== d.charset) && text(d) && upCols.every(text);
    for (const c of upCols) {
      if (fast && (sameType(c.columnType) !== sameType(d.columnType) || (c.charset !== d.charset && !convert))) {
        fast = false;
        slowReason = `column ${d.name} is ${c.columnType}${c.charset ? ` ${c.charset}` : ''} upstream, ${d.columnType}${d.charset ? ` ${d.charset}` : ''} downstream`;
      }
    }
    columns.push({
      name: d.name,
      down: d,
      ...(convert ? { convert } : {}),
      up,
      kind: kind === 'unix' && upCols.length < up.length ? 'temporal' : kind,
      binary: d.binary || upCols.some((c) => c.binary),
      nullable: d.nullable || upCols.some((c) => c.nullable),
      variable: !['number', 'float', 'temporal', 'unix'].includes(kind),
    });
  }
  let keyNames = rowKey(down);
  // An ENUM, SET or BIT key sorts by its number but compares with a text bound as text: key ranges would not hold
  // the rows ORDER BY puts in them. Such tables (small lookup tables, in practice) are compared whole.
  const byNumber = (k: string) =>
    ['enum', 'set', 'bit'].includes(down.columns.find((c) => c.name === k)?.dataType ?? '');
  if (keyNames.some(byNumber)) keyNames = [];
  const key: number[] = [];
  for (const k of keyNames) {
    const i = columns.findIndex((c) => c.name === k);
    if (i < 0) return { reason: `key column ${k} of ${tableKey(plan.target)} has no upstream source` };
    const col = columns[i]!;
    for (const u of col.up) {
      if ('column' in u && !sameOrder(u.column.collation, col.down.collation))
        return {
          reason: `key column ${k} has collation ${u.column.collation} upstream and ${col.down.collation} downstream: key ranges would not hold the same rows`,
        };
    }
    key.push(i);
  }
  return { columns, key, fast, ...(slowReason ? { slowReason } : {}) };
}
