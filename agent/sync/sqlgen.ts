import { type TableName, quoteIdent } from '../../src/sql/table-name.ts';
import { escapeValue, type Value } from '../db/mysql.ts';

/**
 * SQL text for downstream writes. Values are escaped by mysql2 (strings as quoted literals in the connection's
 * utf8mb4, Buffers as X'..' hex), so no value ever passes through a JS number.
 */

export function qualified(t: TableName): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

function tuple(values: Value[]): string {
  // A loop, not map/join: one tuple per row written (and no closure per call, which costs an Object.defineProperty
  // under tsx).
  let s = '(';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) s += ',';
    s += v === null ? 'NULL' : escapeValue(v);
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
): string[] {
  if (rows.length === 0) return [];
  const head = `${verb} INTO ${qualified(t)} (${cols.map(quoteIdent).join(',')}) VALUES `;
  const out: string[] = [];
  let cur: string[] = [];
  const headBytes = Buffer.byteLength(head);
  let size = headBytes;
  for (const r of rows) {
    const s = tuple(r);
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
): string {
  const k = quoteIdent(keyCol);
  let s = `UPDATE ${qualified(t)} SET `;
  for (let j = 0; j < setCols.length; j++) {
    if (j > 0) s += ', ';
    s += `${quoteIdent(setCols[j]!)} = CASE ${k}`;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i]![j]!;
      s += ` WHEN ${keys[i]} THEN ${v === null ? 'NULL' : escapeValue(v)}`;
    }
    s += ' END';
  }
  return `${s} WHERE ${k} IN (${keys.join(',')})`;
}

/** DELETE by key for many rows: `DELETE FROM t WHERE (k1,k2) IN ((..),(..))`. */
export function deleteByKeyStatements(t: TableName, keyCols: string[], keys: Value[][], maxRows = 1000): string[] {
  const out: string[] = [];
  const lhs = keyCols.length === 1 ? quoteIdent(keyCols[0]!) : `(${keyCols.map(quoteIdent).join(',')})`;
  for (let i = 0; i < keys.length; i += maxRows) {
    const part = keys.slice(i, i + maxRows);
    const list = part
      .map((k) => (keyCols.length === 1 ? (k[0] === null ? 'NULL' : escapeValue(k[0]!)) : tuple(k)))
      .join(',');
    out.push(`DELETE FROM ${qualified(t)} WHERE ${lhs} IN (${list})`);
  }
  return out;
}

/** WHERE clause matching one full row image (tables without a usable key): NULL-safe equality on every column. */
export function fullRowWhere(cols: string[], row: Record<string, Value>): string {
  return cols
    .map((c) => {
      const v = row[c] ?? null;
      return `${quoteIdent(c)} <=> ${v === null ? 'NULL' : escapeValue(v)}`;
    })
    .join(' AND ');
}

function setList(cols: string[], after: Record<string, Value>): string {
  return cols
    .map((c) => {
      const v = after[c] ?? null;
      return `${quoteIdent(c)} = ${v === null ? 'NULL' : escapeValue(v)}`;
    })
    .join(', ');
}

/** UPDATE of one row of a table without a usable key, matched on `where` (default: every column), LIMIT 1. */
export function updateOneRow(
  t: TableName,
  cols: string[],
  before: Record<string, Value>,
  after: Record<string, Value>,
  where: string[] = cols,
): string {
  return `UPDATE ${qualified(t)} SET ${setList(cols, after)} WHERE ${fullRowWhere(where, before)} LIMIT 1`;
}

/** UPDATE of the row with the old key to the new image (keyed tables; the key may change). */
export function updateByKey(
  t: TableName,
  cols: string[],
  keyCols: string[],
  before: Record<string, Value>,
  after: Record<string, Value>,
): string {
  return `UPDATE ${qualified(t)} SET ${setList(cols, after)} WHERE ${fullRowWhere(keyCols, before)}`;
}

export function deleteOneRow(
  t: TableName,
  cols: string[],
  before: Record<string, Value>,
  where: string[] = cols,
): string {
  return `DELETE FROM ${qualified(t)} WHERE ${fullRowWhere(where, before)} LIMIT 1`;
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
