import { DmError } from '../errors/index.ts';
import { lex } from '../sql/lexer.ts';
import { CharsetError } from './charsets.ts';
import { createTableBody } from './create-table.ts';
import { Cursor, ParseError, Unsupported } from './cursor.ts';
import type { SchemaTracker, TrackedColumn, TrackedIndex, TrackedTable } from './model.ts';

/**
 * A tracked table as a CREATE TABLE statement, and back: what `dmctl binlog-schema list` prints and `binlog-schema
 * update` reads (DM's operate-schema get/set). The statement is written so that the tracker's own parser gives the
 * same table again (every column says its charset, collation and nullability explicitly), so a listed schema can be
 * edited and fed back. Like DM's, it names the table alone, without its schema.
 */

const NUMERIC = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'year']);

function q(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function str(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The DEFAULT clause of a column from its canonical default (default-value.ts), or '' when it has none. */
function defaultClause(c: TrackedColumn): string {
  if (c.generated || c.autoIncrement) return '';
  if (c.default === undefined) return c.hasDefault !== false && c.nullable ? ' DEFAULT NULL' : '';
  const v = c.default;
  const now = /^\(current_timestamp\((\d*)\)\)$/.exec(v);
  if (now) return ` DEFAULT current_timestamp(${now[1]})`;
  if (v.startsWith('(') && v.endsWith(')')) return ` DEFAULT ${v}`;
  if (NUMERIC.has(c.dataType) && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v)) return ` DEFAULT ${v}`;
  return ` DEFAULT ${str(v)}`;
}

function columnLine(c: TrackedColumn): string {
  let s = `${q(c.name)} ${c.columnType}`;
  if (c.charset !== null) s += ` CHARACTER SET ${c.charset}`;
  if (c.collation !== null) s += ` COLLATE ${c.collation}`;
  if (c.generated && c.generation)
    s += ` GENERATED ALWAYS AS (${c.generation.expr}) ${c.generation.stored ? 'STORED' : 'VIRTUAL'}`;
  else s += c.nullable ? ' NULL' : ' NOT NULL';
  s += defaultClause(c);
  if (c.autoIncrement) s += ' AUTO_INCREMENT';
  if (c.comment !== '') s += ` COMMENT ${str(c.comment)}`;
  return s;
}

function indexLine(i: TrackedIndex): string {
  const cols = `(${i.columns.map(q).join(',')})`;
  switch (i.kind) {
    case 'primary':
      return `PRIMARY KEY ${cols}`;
    case 'unique':
      return `UNIQUE KEY ${q(i.name)} ${cols}`;
    case 'fulltext':
      return `FULLTEXT KEY ${q(i.name)} ${cols}`;
    case 'spatial':
      return `SPATIAL KEY ${q(i.name)} ${cols}`;
    default:
      return `KEY ${q(i.name)} ${cols}`;
  }
}

/** The table as one CREATE TABLE statement (SHOW CREATE TABLE's layout: one definition per line). */
export function showCreateTable(t: TrackedTable): string {
  const lines = [...t.columns.map(columnLine), ...t.indexes.map(indexLine)];
  return `CREATE TABLE ${q(t.table)} (\n  ${lines.join(',\n  ')}\n) DEFAULT CHARSET=${t.charset} COLLATE=${t.collation}`;
}

/**
 * The table `schema`.`table` as the CREATE TABLE statement `sql` defines it, whatever name the statement gives (DM's
 * operate-schema set renames it too), with the database's default charset from `tracker` (the server's when the
 * tracker does not hold the database). Throws DmError('SchemaCreateInvalid') for anything but one CREATE TABLE with
 * its own column list that the tracker can model.
 */
export function tableFromCreate(tracker: SchemaTracker, schema: string, table: string, sql: string): TrackedTable {
  const bad = (why: string, cause?: unknown) =>
    new DmError('SchemaCreateInvalid', `not a CREATE TABLE statement tsdm can use for ${schema}.${table}: ${why}`, {
      ...(cause ? { cause } : {}),
      context: { table: `${schema}.${table}`, sql: sql.slice(0, 300) },
    });
  let tokens;
  try {
    tokens = lex(sql).tokens;
  } catch (err) {
    throw bad((err as Error).message, err);
  }
  let end = tokens.length;
  while (end > 0 && tokens[end - 1]!.type === 'op' && tokens[end - 1]!.text === ';') end--;
  if (tokens.slice(0, end).some((t) => t.type === 'op' && t.text === ';')) throw bad('more than one statement');
  const c = new Cursor(tokens, 0, end);
  try {
    c.must('CREATE');
    c.kw('OR', 'REPLACE');
    c.must('TABLE');
    c.kw('IF', 'NOT', 'EXISTS');
    c.qualifiedName();
    if (c.isWord('LIKE') || (c.isOp('(') && c.isWord('LIKE', 1))) throw new Unsupported('CREATE TABLE ... LIKE');
    const db = tracker.getSchema(schema) ?? { charset: tracker.serverCharset, collation: tracker.serverCollation };
    return createTableBody(c, tracker.fold(schema), tracker.fold(table), db, tracker);
  } catch (err) {
    if (err instanceof ParseError || err instanceof Unsupported || err instanceof CharsetError)
      throw bad(err.message, err);
    throw err;
  }
}
