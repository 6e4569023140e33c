import {
  inlineKeys,
  parseColumnDef,
  resolveColumn,
  type CharsetDefault,
  type ColumnRules,
  type ColumnSpec,
} from './column-def.ts';
import { Cursor, ParseError, Unsupported, matchingParen, splitTopLevel } from './cursor.ts';
import { buildIndexes, parseIndexDef } from './indexes.ts';
import { tableOf, type IndexSpec, type TrackedColumn, type TrackedTable } from './model.ts';
import { sameName } from './names.ts';
import { readTableOptions, resolveTableCharset, type TableOptions } from './table-options.ts';

/**
 * The body of CREATE TABLE after the table name: `(definitions) [options] [partitioning]`. A `LIKE` body is
 * handled by the caller. `... SELECT` bodies are Unsupported: the columns come from a query (in ROW binlog format
 * the server logs such a statement as a plain CREATE TABLE with every column, so this is rare).
 */
export function createTableBody(
  c: Cursor,
  schema: string,
  table: string,
  dbDefault: CharsetDefault,
  rules: ColumnRules,
): TrackedTable {
  const defs: [number, number][] = [];
  if (c.isOp('(')) {
    if (c.isWord('SELECT', 1) || c.isWord('WITH', 1) || c.isOp('(', 1) || c.isWord('VALUES', 1)) throw selectBody();
    const close = matchingParen(c.t, c.i, c.end);
    defs.push(...splitTopLevel(c.t, c.i + 1, close));
    c.i = close + 1;
  }
  const options: TableOptions = {};
  readTableOptions(c, options);
  if (c.kw('PARTITION', 'BY') || c.kw('PARTITIONS')) {
    // partitioning changes no column; a SELECT after it still matters
    for (let depth = 0; !c.atEnd(); c.i++) {
      const tok = c.peek()!;
      if (tok.type === 'op') depth += tok.text === '(' ? 1 : tok.text === ')' ? -1 : 0;
      else if (
        depth === 0 &&
        tok.type === 'word' &&
        (tok.upper === 'SELECT' || tok.upper === 'AS' || tok.upper === 'IGNORE' || tok.upper === 'REPLACE')
      )
        break;
    }
  }
  if (
    c.kwAny('IGNORE', 'REPLACE', 'AS') ||
    c.isWord('SELECT') ||
    c.isWord('WITH') ||
    c.isOp('(') ||
    c.isWord('TABLE') ||
    c.isWord('VALUES')
  )
    throw selectBody();
  if (!c.atEnd()) throw new ParseError(`unexpected ${c.where()} in CREATE TABLE`);
  if (defs.length === 0) throw new ParseError('CREATE TABLE without columns');

  const tableDefault = resolveTableCharset(options, dbDefault, dbDefault);
  const columns: TrackedColumn[] = [];
  const keys: IndexSpec[] = [];
  const specs = new Map<string, ColumnSpec>();
  let firstTimestamp = !rules.explicitDefaultsForTimestamp;
  for (const [start, end] of defs) {
    const d = new Cursor(c.t, start, end);
    if (d.isWord('LIKE')) throw new ParseError('LIKE inside a column list');
    const idx = parseIndexDef(d);
    if (idx === null) continue;
    if (idx !== undefined) {
      keys.push(idx);
      continue;
    }
    const spec = parseColumnDef(d);
    if (columns.some((x) => sameName(x.name, spec.name))) throw new ParseError(`duplicate column ${spec.name}`);
    const col = resolveColumn(spec, tableDefault, rules);
    // explicit_defaults_for_timestamp OFF: the table's first TIMESTAMP column, NOT NULL without DEFAULT or ON UPDATE,
    // gets DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP (measured on MariaDB 10.11).
    if (firstTimestamp && col.dataType === 'timestamp' && !col.generated) {
      firstTimestamp = false;
      if (!col.nullable && !spec.explicitDefault && !spec.onUpdate) col.default = '(current_timestamp())';
    }
    columns.push(col);
    specs.set(spec.name.toLowerCase(), spec);
    keys.push(...inlineKeys(spec));
  }
  const indexes = buildIndexes([], keys, columns);
  const pk = indexes.find((i) => i.kind === 'primary')?.columns ?? [];
  for (const col of columns)
    if (pk.some((p) => sameName(p, col.name)) && col.nullable) {
      col.nullable = false;
      if (!specs.get(col.name.toLowerCase())?.explicitDefault) col.hasDefault = false;
    }
  return tableOf({ schema, table, columns, indexes, charset: tableDefault.charset, collation: tableDefault.collation });
}

function selectBody(): Unsupported {
  return new Unsupported(
    'CREATE TABLE ... SELECT takes its columns from a query: reload the table structure from the server',
  );
}
