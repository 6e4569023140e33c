/** Applying CREATE / ALTER / DROP DATABASE to the tracker (apply-ddl.ts dispatches here). */
import type { TableName } from '../sql/table-name.ts';
import type { DdlStatement } from './apply-context.ts';
import { ParseError } from './cursor.ts';
import { readTableOptions, resolveTableCharset, type TableOptions } from './table-options.ts';

/** ALTER DATABASE <these> ... has no name: it alters the current database. */
const DB_OPTION_WORDS = new Set([
  'DEFAULT',
  'CHARACTER',
  'CHARSET',
  'CHAR',
  'COLLATE',
  'COMMENT',
  'READ',
  'ENCRYPTION',
  'UPGRADE',
]);

export function createDatabase(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('CREATE');
  c.kw('OR', 'REPLACE');
  c.kwAny('DATABASE', 'SCHEMA');
  const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
  const name = s.tracker.fold(c.ident());
  const o = dbOptions(s);
  if (s.tracker.getSchema(name) && ifNotExists) return [];
  const server = s.serverDefault();
  // A new database has no tables: whatever the model held under this name (OR REPLACE, or a stale model) goes.
  const changed = s.tracker.dropSchema(name);
  s.tracker.setSchema({ name, ...resolveTableCharset(o, server, server) });
  return changed;
}

export function alterDatabase(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('ALTER');
  c.kwAny('DATABASE', 'SCHEMA');
  let name = s.currentSchema;
  const next = c.peek();
  if (next !== undefined && (next.type !== 'word' || !DB_OPTION_WORDS.has(next.upper)) && c.isIdent()) name = c.ident();
  if (c.kw('UPGRADE')) return []; // UPGRADE DATA DIRECTORY NAME
  if (name === '') throw new ParseError('ALTER DATABASE without a name and no current schema');
  const o = dbOptions(s);
  if (o.charset === undefined && o.collate === undefined) return [];
  const old = s.tracker.getSchema(name) ?? s.serverDefault();
  s.tracker.setSchema({ name, ...resolveTableCharset(o, old, s.serverDefault()) });
  return [];
}

function dbOptions(s: DdlStatement): TableOptions {
  const o: TableOptions = {};
  readTableOptions(s.c, o);
  if (s.c.kw('READ', 'ONLY')) {
    s.c.op('=');
    s.c.next();
    readTableOptions(s.c, o);
  }
  if (!s.c.atEnd()) throw new ParseError(`unexpected ${s.c.where()}`);
  return o;
}

export function dropDatabase(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('DROP');
  c.kwAny('DATABASE', 'SCHEMA');
  c.kw('IF', 'EXISTS');
  return s.tracker.dropSchema(c.ident());
}
