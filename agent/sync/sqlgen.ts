import { type TableName, quoteIdent } from '../../src/sql/table-name.ts';
import { escapeValue, type Value } from '../db/mysql.ts';

/**
 * SQL text for downstream writes. Values are escaped by mysql2 (strings as quoted literals in the connection's
 * utf8mb4, Buffers as X'..' hex), except an integer column's digits, written as an integer literal where the caller
 * says which columns are integers (writer-sql.ts `integerColumns`); no value ever passes through a JS number. Rows
 * with large binary values are the exception: they go as Bound statements (below).
 */

/** A statement whose values go as binary-protocol arguments of a prepared statement (`?`), not as literals. */
export interface Bound {
  sql: string;
  params: Value[];
}
/** What a writer runs: SQL text, or a Bound statement. */
export type Stmt = string | Bound;

/**
 * A row holding at least this many bytes of binary values is written as a Bound statement. As literals its bytes
 * would be hex, twice their size, so a row the upstream's max_allowed_packet admits could exceed the downstream's
 * (DM binds every value); as arguments they go as they are. Below it, text keeps its speed (multi-row statements,
 * several per round trip).
 */
export const BIND_BYTES = 256 << 10;

/** Whether `row`'s values in `cols` hold BIND_BYTES or more of binary data. */
export function bigBinary(row: Record<string, Value> | undefined, cols: readonly string[]): boolean {
  if (!row) return false;
  let n = 0;
  for (const c of cols) {
    const v = row[c];
    if (v !== null && v !== undefined && typeof v !== 'string') n += v.length;
  }
  return n >= BIND_BYTES;
}

/** A statement built with its values as arguments: `build` writes `?` for each value it pushes on `params`. */
export function bind(build: (params: Value[]) => string): Bound {
  const params: Value[] = [];
  const sql = build(params);
  return { sql, params };
}

/** `v` as an SQL literal; `int`: its column is an integer column, whose digits go as an integer literal. */
function literal(v: Value, int = false): string {
  if (v === null) return 'NULL';
  return int && typeof v === 'string' && INTEGER_TEXT.test(v) ? v : escapeValue(v);
}

/**
 * Integer columns' values as integer literals (`5`), not quoted strings (`'5'`): DM binds them as typed integers, and
 * a quoted one costs the downstream a string-to-number conversion per value (~5 % of its CPU per row change in the
 * 100-row catch-up's statements replayed, bench/README.md). Only for columns that are integers upstream and
 * downstream (row-identity.ts `integers`), and only an integer's canonical digits, as the decoder writes them (no
 * leading zero, at most 20 digits; a JS number would lose BIGINT precision): anything else stays quoted.
 */
const INTEGER_TEXT = /^(?:0|-?[1-9]\d{0,19})$/;

/** `v` as a literal, or as `?` pushed on `params` when a statement is being bound. */
function lit(v: Value, params: Value[] | undefined): string {
  if (params) {
    params.push(v);
    return '?';
  }
  return literal(v);
}

/** One row's INSERT/REPLACE with its values as arguments. */
export function boundInsert(
  verb: 'INSERT' | 'REPLACE' | 'INSERT IGNORE',
  t: TableName,
  cols: string[],
  values: Value[],
): Bound {
  return {
    sql: `${verb} INTO ${qualified(t)} (${cols.map(quoteIdent).join(',')}) VALUES (${cols.map(() => '?').join(',')})`,
    params: values,
  };
}

export function qualified(t: TableName): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

function tuple(values: Value[], ints?: readonly boolean[]): string {
  // A loop, not map/join: one tuple per row written (and no closure per call, which costs an Object.defineProperty
  // under tsx).
  let s = '(';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) s += ',';
    s += literal(v, ints?.[i]);
  }
  return `${s})`;
}

/**
 * Multi-row INSERT/REPLACE statements of at most `maxBytes` each, counted in UTF-8 bytes as the server's
 * max_allowed_packet counts them (String.length would let non-ASCII text reach ~3× the limit). A row larger than the
 * limit still goes out, alone.
 */
export function insertStatements(
  verb: 'INSERT' | 'REPLACE' | 'INSERT IGNORE',
  t: TableName,
  cols: string[],
  rows: Value[][],
  maxBytes = 4 << 20,
  ints?: readonly boolean[],
): string[] {
  if (rows.length === 0) return [];
  const head = `${verb} INTO ${qualified(t)} (${cols.map(quoteIdent).join(',')}) VALUES `;
  const out: string[] = [];
  let cur: string[] = [];
  const headBytes = Buffer.byteLength(head);
  let size = headBytes;
  for (const r of rows) {
    const s = tuple(r, ints);
    const n = Buffer.byteLength(s);
    if (cur.length > 0 && size + n + 1 > maxBytes) {
      out.push(head + cur.join(','));
      cur = [];
      size = headBytes;
    }
    cur.push(s);
    size += n + 1;
  }
  if (cur.length) out.push(head + cur.join(','));
  return out;
}

/**
 * One UPDATE of several rows by a one-column integer key, each row's new values picked by CASE:
 * `UPDATE t SET a = CASE id WHEN 1 THEN 'x' WHEN 2 THEN 'y' END, ... WHERE id IN (1,2)`. `keys` are integer
 * literals (digits, optional minus: compared as integers, never as doubles), `values[i]` row i's values of `setCols`.
 * No ELSE: every row the WHERE reaches has its WHEN, and each CASE's type is then that of its values alone, as a
 * literal of a REPLACE would be.
 */
export function updateCaseStatement(
  t: TableName,
  keyCol: string,
  setCols: string[],
  keys: string[],
  values: Value[][],
  ints?: readonly boolean[],
): string {
  const k = quoteIdent(keyCol);
  let s = `UPDATE ${qualified(t)} SET `;
  for (let j = 0; j < setCols.length; j++) {
    if (j > 0) s += ', ';
    s += `${quoteIdent(setCols[j]!)} = CASE ${k}`;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i]![j]!;
      s += ` WHEN ${keys[i]} THEN ${literal(v, ints?.[j])}`;
    }
    s += ' END';
  }
  return `${s} WHERE ${k} IN (${keys.join(',')})`;
}

/** DELETE by key for many rows: `DELETE FROM t WHERE (k1,k2) IN ((..),(..))`. */
export function deleteByKeyStatements(
  t: TableName,
  keyCols: string[],
  keys: Value[][],
  maxRows = 1000,
  ints?: readonly boolean[],
): string[] {
  const out: string[] = [];
  const lhs = keyCols.length === 1 ? quoteIdent(keyCols[0]!) : `(${keyCols.map(quoteIdent).join(',')})`;
  for (let i = 0; i < keys.length; i += maxRows) {
    const part = keys.slice(i, i + maxRows);
    const list = part.map((k) => (keyCols.length === 1 ? literal(k[0]!, ints?.[0]) : tuple(k, ints))).join(',');
    out.push(`DELETE FROM ${qualified(t)} WHERE ${lhs} IN (${list})`);
  }
  return out;
}

/** WHERE clause matching one full row image (tables without a usable key): NULL-safe equality on every column.
 * With `params`, values are pushed there and written as `?` (the same below). */
export function fullRowWhere(cols: string[], row: Record<string, Value>, params?: Value[]): string {
  return cols.map((c) => `${quoteIdent(c)} <=> ${lit(row[c] ?? null, params)}`).join(' AND ');
}

function setList(cols: string[], after: Record<string, Value>, params?: Value[]): string {
  return cols.map((c) => `${quoteIdent(c)} = ${lit(after[c] ?? null, params)}`).join(', ');
}

/** UPDATE of one row of a table without a usable key, matched on `where` (default: every column), LIMIT 1. */
export function updateOneRow(
  t: TableName,
  cols: string[],
  before: Record<string, Value>,
  after: Record<string, Value>,
  where: string[] = cols,
  params?: Value[],
): string {
  const set = setList(cols, after, params);
  return `UPDATE ${qualified(t)} SET ${set} WHERE ${fullRowWhere(where, before, params)} LIMIT 1`;
}

/** UPDATE of the row with the old key to the new image (keyed tables; the key may change). */
export function updateByKey(
  t: TableName,
  cols: string[],
  keyCols: string[],
  before: Record<string, Value>,
  after: Record<string, Value>,
  params?: Value[],
): string {
  const set = setList(cols, after, params);
  return `UPDATE ${qualified(t)} SET ${set} WHERE ${fullRowWhere(keyCols, before, params)}`;
}

export function deleteOneRow(
  t: TableName,
  cols: string[],
  before: Record<string, Value>,
  where: string[] = cols,
  params?: Value[],
): string {
  return `DELETE FROM ${qualified(t)} WHERE ${fullRowWhere(where, before, params)} LIMIT 1`;
}

/** Rewrites the head of SHOW CREATE TABLE output to the routed, qualified name, made idempotent. */
export function createTableFor(showCreate: string, target: TableName): string {
  return showCreate.replace(/^CREATE\s+TABLE\s+`(?:[^`]|``)+`/i, `CREATE TABLE IF NOT EXISTS ${qualified(target)}`);
}

export function createDatabaseFor(showCreate: string, targetSchema: string): string {
  return showCreate.replace(
    /^CREATE\s+DATABASE\s+(?:\/\*!\d+\s+IF NOT EXISTS\s*\*\/\s*)?`(?:[^`]|``)+`/i,
    `CREATE DATABASE IF NOT EXISTS ${quoteIdent(targetSchema)}`,
  );
}
