import type { Token } from '../sql/lexer.ts';

/**
 * A column's DEFAULT in one canonical form, whether it was read from a DDL statement (tokens) or from
 * information_schema.COLUMNS.COLUMN_DEFAULT, so the two compare equal when the server would say they are equal.
 * The binlog event filter needs it (DM's `modify default value`: a MODIFY/CHANGE whose DEFAULT differs from the
 * column's); rows are never decoded with it.
 *
 * Canonical form:
 * - no DEFAULT, or DEFAULT NULL: undefined (MariaDB shows `NULL`; TiDB, whose comparison DM uses, keeps nil);
 * - a literal: its value, unquoted (`'a''b'` → `a'b`, `_latin1'x'`, `N'x'`, `DATE '2020-01-01'` → the text); on a
 *   numeric or BIT column a number is normalised (`'1'`, `1.00`, `1`, `TRUE` are all `1`); hex and bit literals
 *   (`X'0A'`, `0x0A`, `b'101'`) are a number on numeric/BIT columns and their bytes elsewhere;
 * - a sequence (`NEXT VALUE FOR db.s`, `nextval(s)`): `(nextval(s))`;
 * - CURRENT_TIMESTAMP and its synonyms (NOW(), LOCALTIME, LOCALTIMESTAMP), with their precision:
 *   `(current_timestamp(p))`;
 * - any other expression: `(` + its text, lower-cased, without spaces + `)`.
 * Checked against MariaDB 10.11 over the whole schema-tracker corpus (test/integration/schema-tracker-oracle.test.ts).
 * Limits, on purpose: temporal literals are not normalised (`'2020-01-01'` and MariaDB's `'2020-01-01 00:00:00'`
 * differ), and MySQL 8's unquoted COLUMN_DEFAULT strings are read as literals.
 */

const NUMERIC = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'bigint',
  'decimal',
  'float',
  'double',
  'year',
  'bit',
]);
const NOW = new Set(['CURRENT_TIMESTAMP', 'NOW', 'LOCALTIME', 'LOCALTIMESTAMP']);
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

function numeric(dataType: string, v: string): string {
  if (!NUMERIC.has(dataType)) return v;
  const n = Number(v.trim());
  return v.trim() !== '' && Number.isFinite(n) ? String(n) : v;
}

/** A hexadecimal or bit-value literal's bytes: a number on a numeric or BIT column, else the bytes as text. */
function bits(dataType: string, digits: string, radix: 16 | 2): string {
  const clean = digits === '' ? '0' : digits;
  const n = BigInt(radix === 16 ? `0x${clean}` : `0b${clean}`);
  if (NUMERIC.has(dataType)) return n.toString();
  let hex = n.toString(16);
  const bytes = radix === 16 ? Math.ceil(clean.length / 2) : Math.ceil(clean.length / 8);
  hex = hex.padStart(bytes * 2, '0');
  return Buffer.from(hex, 'hex').toString('latin1');
}

/** NEXT VALUE FOR s / NEXTVAL(s) / nextval(`db`.`s`): `(nextval(s))`, the sequence's own name only. */
function nextval(name: string): string {
  const last = name.split('.').pop()!.replace(/`/g, '').toLowerCase();
  return `(nextval(${last}))`;
}

/** The DEFAULT value in tokens [from, to) (what follows the DEFAULT keyword), for a column of `dataType`. */
export function defaultFromTokens(t: Token[], from: number, to: number, dataType: string): string | undefined {
  const toks = t.slice(from, to);
  if (toks.length === 0) return undefined;
  const first = toks[0]!;
  const up = first.type === 'word' ? first.upper : '';
  if (toks.length === 1 && up === 'NULL') return undefined;
  if (toks.length === 1 && (up === 'TRUE' || up === 'FALSE')) return numeric(dataType, up === 'TRUE' ? '1' : '0');
  if (toks.length === 2 && toks[1]!.type === 'str' && (up === 'X' || up === 'B'))
    return bits(dataType, toks[1]!.value, up === 'X' ? 16 : 2);
  if (toks.length === 1 && first.type === 'num' && /^0[xb]/i.test(first.text))
    return bits(dataType, first.text.slice(2), /^0x/i.test(first.text) ? 16 : 2);
  if (up === 'NEXT' && toks[1]?.upper === 'VALUE' && toks[2]?.upper === 'FOR')
    return nextval(
      toks
        .slice(3)
        .map((x) => x.value)
        .join(''),
    );
  if (up === 'NEXTVAL' && toks[1]?.text === '(')
    return nextval(
      toks
        .slice(2, -1)
        .map((x) => x.value)
        .join(''),
    );
  // literal strings, possibly introduced (_utf8mb4'x', N'x'), typed (DATE '2020-01-01') or concatenated ('a' 'b')
  const strs = toks.filter((x) => x.type === 'str');
  const prefixed =
    up !== '' && (/^_/.test(first.text) || ['N', 'DATE', 'TIME', 'TIMESTAMP'].includes(up)) && toks.length > 1;
  if (strs.length > 0 && strs.length === toks.length - (prefixed ? 1 : 0))
    return numeric(dataType, strs.map((x) => x.value).join(''));
  const text = toks.map((x) => x.text).join('');
  if (NUMBER.test(text)) return numeric(dataType, text);
  if (NOW.has(up)) {
    const p = /^\w+(?:\((\d*)\))?$/.exec(text);
    if (p) return `(current_timestamp(${p[1] ?? ''}))`;
  }
  const inner =
    first.type === 'op' && first.text === '(' && toks[toks.length - 1]?.text === ')' ? toks.slice(1, -1) : toks;
  return `(${inner.map((x) => (x.type === 'word' ? x.text.toLowerCase() : x.text)).join('')})`;
}

const ESCAPES: Record<string, string> = { 0: '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };

/** The DEFAULT from information_schema.COLUMNS.COLUMN_DEFAULT (MariaDB 10.2.7+ quotes literals). */
export function defaultFromInfoSchema(value: string | null, dataType: string): string | undefined {
  if (value === null || value === 'NULL') return undefined;
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
    return numeric(
      dataType,
      value
        .slice(1, -1)
        .replace(/''/g, "'")
        .replace(/\\(.)/gs, (_, ch: string) => ESCAPES[ch] ?? ch),
    );
  }
  const b = /^b'([01]*)'$/i.exec(value);
  if (b) return bits(dataType, b[1]!, 2);
  if (NUMBER.test(value)) return numeric(dataType, value);
  const now = /^(current_timestamp|now|localtime|localtimestamp)(?:\((\d*)\))?$/i.exec(value);
  if (now) return `(current_timestamp(${now[2] ?? ''}))`;
  const seq = /^nextval\((.*)\)$/i.exec(value);
  if (seq) return nextval(seq[1]!);
  if (/^[a-z_][a-z0-9_]*\(.*\)$/is.test(value) || value.startsWith('(')) {
    const inner = value.startsWith('(') && value.endsWith(')') ? value.slice(1, -1) : value;
    return `(${inner.replace(/\s+/g, '').toLowerCase()})`;
  }
  return value; // MySQL 8 prints literals unquoted
}
