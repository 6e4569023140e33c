import type { Token } from '../sql/lexer.ts';

/**
 * A column's DEFAULT in one canonical form, whether it was read from a DDL statement (tokens) or from
 * information_schema.COLUMNS.COLUMN_DEFAULT, so the two compare equal when the server would say they are equal.
 * The binlog event filter needs it (DM's `modify default value`: a MODIFY/CHANGE whose DEFAULT differs from the
 * column's); rows are never decoded with it.
 *
 * Canonical form:
 * - no DEFAULT, or DEFAULT NULL: undefined (MariaDB shows `NULL`; TiDB, whose comparison DM uses, keeps nil);
 * - a literal: its value, unquoted (`'a''b'` → `a'b`); on a numeric column a number is normalised (`'1'`, `1.00`
 *   and `1` are all `1`, as the server stores them);
 * - CURRENT_TIMESTAMP and its synonyms (NOW(), LOCALTIME, LOCALTIMESTAMP), with their precision:
 *   `(current_timestamp(p))`;
 * - any other expression: `(` + its text, lower-cased, without spaces + `)`.
 * Limits, on purpose: temporal literals are not normalised (`'2020-01-01'` and MariaDB's `'2020-01-01 00:00:00'`
 * differ), and MySQL 8's unquoted COLUMN_DEFAULT strings are read as literals.
 */

const NUMERIC = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'year']);
const NOW = new Set(['CURRENT_TIMESTAMP', 'NOW', 'LOCALTIME', 'LOCALTIMESTAMP']);

function numeric(dataType: string, v: string): string {
  if (!NUMERIC.has(dataType)) return v;
  const n = Number(v.trim());
  return v.trim() !== '' && Number.isFinite(n) ? String(n) : v;
}

/** The DEFAULT value in tokens [from, to) (what follows the DEFAULT keyword), for a column of `dataType`. */
export function defaultFromTokens(t: Token[], from: number, to: number, dataType: string): string | undefined {
  const toks = t.slice(from, to);
  if (toks.length === 0) return undefined;
  const first = toks[0]!;
  if (toks.length === 1 && first.type === 'word' && first.upper === 'NULL') return undefined;
  // literal strings, possibly introduced (_utf8mb4'x', N'x') or concatenated ('a' 'b')
  const strs = toks.filter((x) => x.type === 'str');
  const introduced = first.type === 'word' && (/^_/.test(first.text) || first.upper === 'N') && toks.length > 1;
  if (strs.length > 0 && strs.length === toks.length - (introduced ? 1 : 0)) return numeric(dataType, strs.map((x) => x.value).join(''));
  const text = toks.map((x) => x.text).join('');
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return numeric(dataType, text);
  if (first.type === 'word' && NOW.has(first.upper)) {
    const p = /^\w+(?:\((\d*)\))?$/.exec(text);
    if (p) return `(current_timestamp(${p[1] ?? ''}))`;
  }
  const inner = first.type === 'op' && first.text === '(' && toks[toks.length - 1]?.text === ')' ? toks.slice(1, -1) : toks;
  return `(${inner.map((x) => (x.type === 'word' ? x.text.toLowerCase() : x.text)).join('')})`;
}

/** The DEFAULT from information_schema.COLUMNS.COLUMN_DEFAULT (MariaDB 10.2.7+ quotes literals). */
export function defaultFromInfoSchema(value: string | null, dataType: string): string | undefined {
  if (value === null || value === 'NULL') return undefined;
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) return numeric(dataType, value.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1'));
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value)) return numeric(dataType, value);
  const now = /^(current_timestamp|now|localtime|localtimestamp)(?:\((\d*)\))?$/i.exec(value);
  if (now) return `(current_timestamp(${now[2] ?? ''}))`;
  if (/^[a-z_][a-z0-9_]*\(.*\)$/is.test(value) || value.startsWith('(')) {
    const inner = value.startsWith('(') && value.endsWith(')') ? value.slice(1, -1) : value;
    return `(${inner.replace(/\s+/g, '').toLowerCase()})`;
  }
  return value; // MySQL 8 prints literals unquoted
}
