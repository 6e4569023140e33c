import { tableKey } from '../sql/table-name.ts';
import { analyze, type Analysis } from '../sql/ddl-parse.ts';
import { lex, type Token } from '../sql/lexer.ts';
import { applyAlter, changeIndexes } from './alter-table.ts';
import { CharsetError } from './charsets.ts';
import type { CharsetDefault } from './column-def.ts';
import { createTableBody } from './create-table.ts';
import { Cursor, ParseError, StaleModel, Unsupported } from './cursor.ts';
import { parseKeyParts } from './indexes.ts';
import { tableOf, type IndexSpec, type SchemaTracker, type TableName, type TrackedTable } from './model.ts';
import { readTableOptions, resolveTableCharset, type TableOptions } from './table-options.ts';

/**
 * Applies one binlog Query event to the schema tracker, as MariaDB 10.11 would change the tables (the oracle test
 * checks this against a real server). The tracker changes only when the whole statement was understood.
 *
 * Statements that change no table structure (transaction control, DML, and what DM never replicates: views,
 * triggers, routines, temporary tables, ...) give `{ ok: true, changed: [] }`. A DDL the model cannot follow
 * gives `{ ok: false }` with the tables involved: the engine must then reload those tables' structure from the
 * server (which is only right if the server has not changed them since), or stop.
 *
 * Not modelled, so refused: CREATE TABLE ... SELECT (columns come from a query; in ROW format the server logs a
 * plain CREATE TABLE instead), system versioning (MariaDB adds row_start/row_end columns that the binlog rows carry
 * but information_schema HIDES: reloading such a table from the server gives the wrong column count, so the engine
 * must stop rather than reload), sequences, functional (expression) index parts, WITHOUT OVERLAPS keys, data
 * types MariaDB 10.11 does not have (VECTOR ...), and any ALTER TABLE clause not recognised.
 */

/** Why a statement could not be applied. */
export const ApplyFailure = {
  /** Understood, but not modelled (CREATE TABLE ... SELECT, system versioning, sequences, ...). */
  Unsupported: 'unsupported',
  /** The statement names a table the tracker does not hold (or a column/index it lacks: the model is stale). */
  UnknownTable: 'unknown-table',
  /** CREATE TABLE in a database the tracker does not hold: its default charset is unknown. */
  UnknownSchema: 'unknown-schema',
  /** The statement could not be read. */
  Unreadable: 'unreadable',
} as const;
export type ApplyFailureCode = (typeof ApplyFailure)[keyof typeof ApplyFailure];

export type ApplyResult =
  | { ok: true; changed: TableName[] }
  | { ok: false; code: ApplyFailureCode; reason: string; tables: TableName[] };

export function applyDdl(tracker: SchemaTracker, sql: string, currentSchema: string): ApplyResult {
  const a = analyze(sql);
  const tables = namesOf(a, currentSchema).map((n) => ({
    schema: tracker.fold(n.schema),
    table: tracker.fold(n.table),
  }));
  switch (a.kind) {
    case 'begin':
    case 'commit':
    case 'rollback':
    case 'dml':
    case 'skip':
      return { ok: true, changed: [] };
    case 'unknown':
      return { ok: false, code: ApplyFailure.Unsupported, reason: a.skipReason ?? 'statement not recognised', tables };
    default:
      break;
  }
  try {
    return new Applier(tracker, lex(sql).tokens, currentSchema).run(a);
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, code: ApplyFailure.Unsupported, reason: err.message, tables };
    if (err instanceof UnknownObject) return { ok: false, code: err.code, reason: err.message, tables };
    if (err instanceof StaleModel) return { ok: false, code: ApplyFailure.UnknownTable, reason: err.message, tables };
    if (err instanceof ParseError || err instanceof CharsetError)
      return { ok: false, code: ApplyFailure.Unreadable, reason: err.message, tables };
    throw err;
  }
}

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

class UnknownObject extends Error {
  constructor(
    readonly code: ApplyFailureCode,
    message: string,
  ) {
    super(message);
  }
}

function namesOf(a: Analysis, currentSchema: string): TableName[] {
  return a.names
    .filter((n) => n.role !== 'reference' && n.role !== 'schema')
    .map((n) => ({ schema: n.schema ?? currentSchema, table: n.table }));
}

class Applier {
  private readonly c: Cursor;

  constructor(
    private readonly tracker: SchemaTracker,
    t: Token[],
    private readonly currentSchema: string,
  ) {
    let end = t.length;
    while (end > 0 && t[end - 1]!.type === 'op' && t[end - 1]!.text === ';') end--;
    this.c = new Cursor(t, statementStart(t), end);
  }

  run(a: Analysis): ApplyResult {
    switch (a.eventType) {
      case 'create database':
        return this.createDatabase();
      case 'alter database':
        return this.alterDatabase();
      case 'drop database':
        return this.dropDatabase();
      case 'create table':
        return this.createTable();
      case 'alter table':
        return this.alterTable();
      case 'drop table':
        return this.dropTables();
      case 'rename table':
        return this.renameTables();
      case 'truncate table':
        return { ok: true, changed: [] };
      case 'create index':
        return this.createIndex();
      case 'drop index':
        return this.dropIndex();
      default:
        throw new Unsupported(`${a.eventType ?? 'this statement'} is not modelled`);
    }
  }

  // ---- databases

  private createDatabase(): ApplyResult {
    const c = this.c;
    c.must('CREATE');
    c.kw('OR', 'REPLACE');
    c.kwAny('DATABASE', 'SCHEMA');
    const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
    const name = this.tracker.fold(c.ident());
    const o = this.dbOptions();
    if (this.tracker.getSchema(name) && ifNotExists) return { ok: true, changed: [] };
    const server = this.serverDefault();
    // A new database has no tables: whatever the model held under this name (OR REPLACE, or a stale model) goes.
    const changed = this.tracker.dropSchema(name);
    this.tracker.setSchema({ name, ...resolveTableCharset(o, server, server) });
    return { ok: true, changed };
  }

  private alterDatabase(): ApplyResult {
    const c = this.c;
    c.must('ALTER');
    c.kwAny('DATABASE', 'SCHEMA');
    let name = this.currentSchema;
    const next = c.peek();
    if (next !== undefined && (next.type !== 'word' || !DB_OPTION_WORDS.has(next.upper)) && c.isIdent())
      name = c.ident();
    if (c.kw('UPGRADE')) return { ok: true, changed: [] }; // UPGRADE DATA DIRECTORY NAME
    if (name === '') throw new ParseError('ALTER DATABASE without a name and no current schema');
    const o = this.dbOptions();
    if (o.charset === undefined && o.collate === undefined) return { ok: true, changed: [] };
    const old = this.tracker.getSchema(name) ?? this.serverDefault();
    this.tracker.setSchema({ name, ...resolveTableCharset(o, old, this.serverDefault()) });
    return { ok: true, changed: [] };
  }

  private dbOptions(): TableOptions {
    const o: TableOptions = {};
    readTableOptions(this.c, o);
    if (this.c.kw('READ', 'ONLY')) {
      this.c.op('=');
      this.c.next();
      readTableOptions(this.c, o);
    }
    if (!this.c.atEnd()) throw new ParseError(`unexpected ${this.c.where()}`);
    return o;
  }

  private dropDatabase(): ApplyResult {
    const c = this.c;
    c.must('DROP');
    c.kwAny('DATABASE', 'SCHEMA');
    c.kw('IF', 'EXISTS');
    return { ok: true, changed: this.tracker.dropSchema(c.ident()) };
  }

  // ---- tables

  private createTable(): ApplyResult {
    const c = this.c;
    c.must('CREATE');
    c.kw('OR', 'REPLACE');
    c.must('TABLE');
    const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
    const name = this.tableName();
    if (ifNotExists && this.tracker.has(name.schema, name.table)) return { ok: true, changed: [] };
    let t: TrackedTable;
    const parenLike = c.isOp('(') && c.isWord('LIKE', 1);
    if (parenLike || c.isWord('LIKE')) {
      c.op('(');
      c.must('LIKE');
      const src = this.tableName();
      if (parenLike) c.mustOp(')');
      const from = this.tracker.get(src.schema, src.table);
      if (!from)
        throw new UnknownObject(
          'unknown-table',
          `CREATE TABLE ... LIKE ${tableKey(src)}: the source table is not in the model`,
        );
      t = tableOf({ ...from, schema: name.schema, table: name.table });
    } else {
      const db = this.tracker.getSchema(name.schema);
      if (!db)
        throw new UnknownObject(
          'unknown-schema',
          `database ${name.schema} is not in the model (its default charset is unknown)`,
        );
      t = createTableBody(c, name.schema, name.table, db, this.tracker);
    }
    this.tracker.set(t);
    return { ok: true, changed: [name] };
  }

  private alterTable(): ApplyResult {
    const c = this.c;
    c.must('ALTER');
    c.kwAny('ONLINE', 'OFFLINE');
    c.kw('IGNORE');
    c.must('TABLE');
    c.kw('IF', 'EXISTS');
    const name = this.tableName();
    if (c.kw('WAIT')) c.next();
    else c.kw('NOWAIT');
    const t = this.mustGet(name);
    const out = applyAlter(t, c.t, c.i, partitioningStart(c), this.dbDefault(t.schema), this.tracker);
    const changed: TableName[] = [name];
    let result = out.table;
    if (out.renameTo) {
      // An unqualified new name is in the CURRENT database, not the table's (measured: ALTER TABLE other.t
      // RENAME t2 moves the table to the current database; the parser fills in the current db).
      const to = this.resolve(out.renameTo);
      this.tracker.drop(t.schema, t.table);
      result = tableOf({ ...result, schema: to.schema, table: to.table });
      changed.push(to);
    }
    this.tracker.set(result);
    if (out.partitionToTable) {
      const to = this.resolve(out.partitionToTable);
      this.tracker.set(tableOf({ ...result, schema: to.schema, table: to.table }));
      changed.push(to);
    }
    if (out.tableToPartition) {
      const gone = this.resolve(out.tableToPartition);
      this.tracker.drop(gone.schema, gone.table);
      changed.push(gone);
    }
    return { ok: true, changed };
  }

  private dropTables(): ApplyResult {
    const c = this.c;
    c.must('DROP');
    c.kwAny('TABLE', 'TABLES');
    c.kw('IF', 'EXISTS');
    const changed: TableName[] = [];
    do {
      const n = this.tableName();
      this.tracker.drop(n.schema, n.table);
      changed.push(n);
    } while (c.op(','));
    return { ok: true, changed };
  }

  /** RENAME TABLE a TO b, c TO d: in order (so `a TO tmp, b TO a, tmp TO b` swaps), all or nothing. */
  private renameTables(): ApplyResult {
    const c = this.c;
    c.must('RENAME');
    c.kwAny('TABLE', 'TABLES');
    const ifExists = c.kw('IF', 'EXISTS');
    const overlay = new Map<string, TrackedTable | null>();
    const key = (n: TableName): string => `${this.tracker.fold(n.schema)}\0${this.tracker.fold(n.table)}`;
    const lookup = (n: TableName): TrackedTable | undefined => {
      const k = key(n);
      return overlay.has(k) ? (overlay.get(k) ?? undefined) : this.tracker.get(n.schema, n.table);
    };
    const changed: TableName[] = [];
    do {
      const from = this.tableName();
      if (c.kw('WAIT')) c.next();
      else c.kw('NOWAIT');
      c.must('TO');
      const to = this.tableName();
      const t = lookup(from);
      if (!t) {
        if (ifExists) continue;
        throw new UnknownObject('unknown-table', `RENAME TABLE ${tableKey(from)}: not in the model`);
      }
      overlay.set(key(from), null);
      overlay.set(key(to), tableOf({ ...t, schema: to.schema, table: to.table }));
      changed.push(from, to);
    } while (c.op(','));
    for (const [k, t] of overlay) {
      const [schema, table] = k.split('\0') as [string, string];
      if (t === null) this.tracker.drop(schema, table);
    }
    for (const t of overlay.values()) if (t !== null) this.tracker.set(t);
    return { ok: true, changed };
  }

  // ---- indexes

  private createIndex(): ApplyResult {
    const c = this.c;
    c.must('CREATE');
    const orReplace = c.kw('OR', 'REPLACE');
    c.kwAny('ONLINE', 'OFFLINE');
    const kindWord = c.kwAny('UNIQUE', 'FULLTEXT', 'SPATIAL');
    c.must('INDEX');
    const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
    const indexName = c.ident();
    if (c.kw('USING') || c.kw('TYPE')) c.next();
    c.must('ON');
    const name = this.tableName();
    if (c.kw('USING') || c.kw('TYPE')) c.next();
    const spec: IndexSpec = {
      kind:
        kindWord === 'UNIQUE'
          ? 'unique'
          : kindWord === 'FULLTEXT'
            ? 'fulltext'
            : kindWord === 'SPATIAL'
              ? 'spatial'
              : 'index',
      name: indexName,
      columns: parseKeyParts(c),
    };
    if (ifNotExists) spec.ifNotExists = true;
    const t = this.mustGet(name);
    const drops = orReplace ? [{ name: indexName, ifExists: true }] : [];
    const { indexes, columns } = changeIndexes(t, t.columns, new Map(), drops, [], [spec]);
    this.tracker.set(tableOf({ ...t, columns, indexes }));
    return { ok: true, changed: [name] };
  }

  private dropIndex(): ApplyResult {
    const c = this.c;
    c.must('DROP');
    c.kwAny('ONLINE', 'OFFLINE');
    c.must('INDEX');
    const ifExists = c.kw('IF', 'EXISTS');
    const indexName = c.ident();
    c.must('ON');
    const name = this.tableName();
    const t = this.mustGet(name);
    const isPrimary = indexName.toUpperCase() === 'PRIMARY';
    const { indexes, columns } = changeIndexes(
      t,
      t.columns,
      new Map(),
      [{ name: isPrimary ? 'PRIMARY' : indexName, ifExists }],
      [],
      [],
    );
    this.tracker.set(tableOf({ ...t, columns, indexes }));
    return { ok: true, changed: [name] };
  }

  // ---- helpers

  private tableName(): TableName {
    return this.resolve(this.c.qualifiedName());
  }

  private resolve(q: { schema?: string; name: string }): TableName {
    const schema = q.schema ?? this.currentSchema;
    if (schema === '') throw new ParseError(`table ${q.name} has no schema and the event has no current schema`);
    return { schema: this.tracker.fold(schema), table: this.tracker.fold(q.name) };
  }

  private mustGet(n: TableName): TrackedTable {
    const t = this.tracker.get(n.schema, n.table);
    if (!t) throw new UnknownObject('unknown-table', `table ${tableKey(n)} is not in the model`);
    return t;
  }

  private serverDefault(): CharsetDefault {
    return { charset: this.tracker.serverCharset, collation: this.tracker.serverCollation };
  }

  private dbDefault(schema: string): CharsetDefault {
    return this.tracker.getSchema(schema) ?? this.serverDefault();
  }
}

/** After MariaDB's `SET STATEMENT var=value, ... FOR`, where the statement itself starts. */
function statementStart(t: Token[]): number {
  if (!(t[0]?.upper === 'SET' && t[0].type === 'word' && t[1]?.upper === 'STATEMENT')) return 0;
  let depth = 0;
  for (let j = 2; j < t.length; j++) {
    const x = t[j]!;
    if (x.text === '(') depth++;
    else if (x.text === ')') depth--;
    else if (depth === 0 && x.type === 'word' && x.upper === 'FOR') return j + 1;
  }
  return 0;
}

/** Where a top-level `PARTITION BY` starts in an ALTER TABLE (it follows the clauses without a comma). */
function partitioningStart(c: Cursor): number {
  let depth = 0;
  for (let j = c.i; j < c.end; j++) {
    const x = c.t[j]!;
    if (x.type === 'op') depth += x.text === '(' ? 1 : x.text === ')' ? -1 : 0;
    else if (depth === 0 && x.type === 'word' && x.upper === 'PARTITION' && c.t[j + 1]?.upper === 'BY') return j;
  }
  return c.end;
}
