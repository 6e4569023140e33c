import { escapeValue, type Value } from '../db/mysql.ts';
import { exactRead } from '../db/schema.ts';
import { qualified } from '../sync/sqlgen.ts';
import { quoteIdent, type TableName } from '../../src/sql/table-name.ts';
import type { CompareColumn, TableShape } from './table-shape.ts';

/**
 * The SQL text of a compare, for one side: the downstream (shard -1) or one upstream shard. Both sides use the same
 * expression shape, so equal rows give equal checksums; on the upstream an extended column is its constant.
 *
 * Checksum of a row: CRC32(CONCAT_WS('#', v1, …, vn, LENGTH(v) of the variable-length ones, NULL bitmap)), summed
 * over the chunk with its COUNT(*). Why this expression (measured on MariaDB 10.11, this box, 1.02M rows of the
 * full-load benchmark's 5 tables): COUNT(*) alone 0.22 s, SUM(CRC32(CONCAT_WS)) 0.79 s, with lengths and NULL
 * bitmap 0.86 s, BIT_XOR of MD5 halves (pt-table-checksum's) 1.64 s. The lengths keep a separator inside a value from
 * shifting between columns ('a#','b' vs 'a','#b'); the bitmap tells NULL from '' (CONCAT_WS skips NULLs). SUM rather
 * than BIT_XOR: in a table without a key two equal rows would cancel out under XOR. A changed chunk goes unnoticed
 * only if its 32-bit sums collide (about 2^-32 per changed chunk), as with sync-diff-inspector's CRC32 checksums.
 * TIMESTAMP columns are read as UNIX_TIMESTAMP(): the instant, whatever each session's time zone is.
 * A whole compareTable of those 1.02M equal rows (10k-row chunks, adaptive) costs 0.68 CPU-s in the upstream
 * mariadbd, 0.77 CPU-s in the downstream's and 0.07 CPU-s in Node, and the two sides run concurrently.
 */

export type Side = number; // -1: downstream; otherwise the shard index in the plan

/** A literal for a value in SQL text: exact text, bytes as X'..', a TIMESTAMP instant through FROM_UNIXTIME. */
export function literal(col: CompareColumn, v: Value): string {
  if (v === null) return 'NULL';
  if (col.kind === 'unix' && typeof v === 'string') {
    if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`not a UNIX_TIMESTAMP value for ${col.name}: ${v}`);
    // Exact because the task's time zone is a fixed offset (agent/db/timezone.ts refuses zones with daylight saving
    // time, whose folded hour would map one local time to two instants). The zero TIMESTAMP reads as 0; FROM_UNIXTIME(0) would be 1970-01-01 in the session's zone instead.
    return /^0+(\.0*)?$/.test(v) ? "'0000-00-00 00:00:00'" : `FROM_UNIXTIME(${v})`;
  }
  // Numbers unquoted: a quoted '18446744073709551615' against a BIGINT column is compared as a DOUBLE, which would
  // blur key ranges (and keep the range optimizer from the index); the server prints them in this exact form.
  if (col.kind === 'number' && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return v;
  return escapeValue(v);
}

/** An extended column's constant, in the downstream column's character set and collation (so keys order alike). */
function constantExpr(col: CompareColumn, value: string): string {
  const d = col.down;
  if (d.charset && d.collation && d.charset !== 'binary')
    return `CONVERT(${escapeValue(value)} USING ${d.charset}) COLLATE ${d.collation}`;
  return escapeValue(value);
}

/** The column as it is compared (predicates use `ref`, which keeps the index usable). */
export function ref(col: CompareColumn, side: Side): string {
  if (side < 0) return quoteIdent(col.down.name);
  const u = col.up[side]!;
  return 'constant' in u ? constantExpr(col, u.constant) : quoteIdent(u.column.name);
}

/** The column's value as read and checksummed. */
export function valueExpr(col: CompareColumn, side: Side): string {
  const r = ref(col, side);
  if (col.kind === 'unix') return `UNIX_TIMESTAMP(${r})`;
  // Compared (and repaired) exactly: a FLOAT's rounded print would hide a float stored with less precision.
  const u = side < 0 ? { column: col.down } : col.up[side]!;
  return 'column' in u ? exactRead(r, u.column.dataType) : r;
}

export function rowCrc(shape: TableShape, side: Side): string {
  const vals = shape.columns.map((c) =>
    c.convert ? `CONVERT(${valueExpr(c, side)} USING utf8mb4)` : valueExpr(c, side),
  );
  const lens = shape.columns.flatMap((c, i) => (c.variable ? [`LENGTH(${vals[i]})`] : []));
  const nulls = shape.columns.flatMap((c, i) => (c.nullable ? [`ISNULL(${vals[i]})`] : []));
  const parts = [...vals, ...lens, ...(nulls.length ? [`CONCAT(${nulls.join(',')})`] : [])];
  return `CRC32(CONCAT_WS('#',${parts.join(',')}))`;
}

/** A key bound: the key columns' values in key order (as read by keyExprs: UNIX_TIMESTAMP text, bytes …). */
export type KeyValues = Value[];

/**
 * `key > lo AND key <= hi` over a (composite) key, expanded to `a > x OR (a = x AND b > y)` so that the range
 * optimizer uses the index (row constructors are not always range-optimized).
 */
export function rangeWhere(shape: TableShape, side: Side, lo?: KeyValues, hi?: KeyValues): string {
  const conds: string[] = [];
  const cols = shape.key.map((i) => shape.columns[i]!);
  const cmp = (bound: KeyValues, strict: string, last: string) => {
    const ors: string[] = [];
    for (let n = 0; n < cols.length; n++) {
      const eqs = cols.slice(0, n).map((c, j) => `${ref(c, side)} = ${literal(c, bound[j]!)}`);
      const op = n === cols.length - 1 ? last : strict;
      eqs.push(`${ref(cols[n]!, side)} ${op} ${literal(cols[n]!, bound[n]!)}`);
      ors.push(eqs.length > 1 ? `(${eqs.join(' AND ')})` : eqs[0]!);
    }
    return ors.length > 1 ? `(${ors.join(' OR ')})` : ors[0]!;
  };
  if (lo) conds.push(cmp(lo, '>', '>'));
  if (hi) conds.push(cmp(hi, '<', '<='));
  return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
}

export function keyOrder(shape: TableShape, side: Side): string {
  return shape.key.map((i) => ref(shape.columns[i]!, side)).join(',');
}

/** Upstream shard (or downstream) checksum of a key range: one row, [count, sum]. */
export function checksumSql(t: TableName, shape: TableShape, side: Side, lo?: KeyValues, hi?: KeyValues): string {
  return `SELECT COUNT(*), COALESCE(SUM(${rowCrc(shape, side)}),0) FROM ${qualified(t)}${rangeWhere(shape, side, lo, hi)}`;
}

/**
 * Downstream, single-column key: the next chunk's checksum and its last key in one pass (LIMIT in a derived table,
 * which materializes only key and CRC): 0.18 s per 300k rows against 0.28 s for a boundary query then the checksum.
 */
export function nextChunkSql(t: TableName, shape: TableShape, rows: number, lo?: KeyValues): string {
  const k = shape.columns[shape.key[0]!]!;
  return `SELECT COUNT(*), COALESCE(SUM(h),0), MAX(k) AS k FROM (SELECT ${valueExpr(k, -1)} AS k, ${rowCrc(shape, -1)} AS h FROM ${qualified(t)}${rangeWhere(shape, -1, lo)} ORDER BY ${keyOrder(shape, -1)} LIMIT ${rows}) x`;
}

/** Downstream, composite key: the last key of the next chunk, aliased c0..cn (no row: fewer than `rows` remain). */
export function boundarySql(t: TableName, shape: TableShape, rows: number, lo?: KeyValues): string {
  const ks = shape.key.map((i) => shape.columns[i]!);
  return `SELECT ${ks.map((c, j) => `${valueExpr(c, -1)} AS c${j}`).join(',')} FROM ${qualified(t)}${rangeWhere(shape, -1, lo)} ORDER BY ${keyOrder(shape, -1)} LIMIT 1 OFFSET ${rows - 1}`;
}

/** The compared columns of a range's rows (key columns included), aliased c0..cn (typeCast reads bytes by alias). */
export function rowsSql(t: TableName, shape: TableShape, side: Side, where: string): string {
  return `SELECT ${shape.columns.map((c, i) => `${valueExpr(c, side)} AS c${i}`).join(',')} FROM ${qualified(t)}${where}`;
}

/**
 * `WHERE` matching exactly the given keys (key values as read), optionally within a key range: a single-column key
 * as an IN list (range-optimized, binary-searched), a composite one as OR of ANDs. Callers send at most a few
 * hundred keys per statement: a long OR list may exceed the range optimizer's memory and scan instead.
 */
export function keysWhere(shape: TableShape, side: Side, keys: KeyValues[], lo?: KeyValues, hi?: KeyValues): string {
  const cols = shape.key.map((i) => shape.columns[i]!);
  const range = lo || hi ? `${rangeWhere(shape, side, lo, hi).replace(/^ WHERE /, '')} AND ` : '';
  if (cols.length === 1 && keys.every((k) => k[0] !== null))
    return ` WHERE ${range}${ref(cols[0]!, side)} IN (${keys.map((k) => literal(cols[0]!, k[0]!)).join(',')})`;
  const one = (k: KeyValues) =>
    cols.map((c, j) => `${ref(c, side)} ${k[j] === null ? '<=>' : '='} ${literal(c, k[j]!)}`).join(' AND ');
  return ` WHERE ${range}(${keys.map((k) => (cols.length > 1 ? `(${one(k)})` : one(k))).join(' OR ')})`;
}

/** Each row's key and CRC in a range (key columns aliased by their column index, `c<i>`, as rowsSql does). */
export function keyCrcSql(t: TableName, shape: TableShape, side: Side, where: string): string {
  const keys = shape.key.map((i) => `${valueExpr(shape.columns[i]!, side)} AS c${i}`);
  return `SELECT ${keys.join(',')}, ${rowCrc(shape, side)} AS h FROM ${qualified(t)}${where}`;
}
