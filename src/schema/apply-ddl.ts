import type { TableName } from '../sql/table-name.ts';
import { analyze, type Analysis } from '../sql/ddl-parse.ts';
import { lex } from '../sql/lexer.ts';
import { DdlStatement, UnknownObject } from './apply-context.ts';
import { alterDatabase, createDatabase, dropDatabase } from './apply-database.ts';
import { createIndex, dropIndex } from './apply-index.ts';
import { alterTable, createTable, dropTables, renameTables } from './apply-table.ts';
import { CharsetError } from './charsets.ts';
import { ParseError, StaleModel, Unsupported } from './cursor.ts';
import type { SchemaTracker } from './model.ts';

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
    return { ok: true, changed: run(new DdlStatement(tracker, lex(sql).tokens, currentSchema), a) };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, code: ApplyFailure.Unsupported, reason: err.message, tables };
    if (err instanceof UnknownObject) return { ok: false, code: err.code, reason: err.message, tables };
    if (err instanceof StaleModel) return { ok: false, code: ApplyFailure.UnknownTable, reason: err.message, tables };
    if (err instanceof ParseError || err instanceof CharsetError)
      return { ok: false, code: ApplyFailure.Unreadable, reason: err.message, tables };
    throw err;
  }
}

function namesOf(a: Analysis, currentSchema: string): TableName[] {
  return a.names
    .filter((n) => n.role !== 'reference' && n.role !== 'schema')
    .map((n) => ({ schema: n.schema ?? currentSchema, table: n.table }));
}

/** The handler of each statement kind: what it returns is the tables it changed. */
function run(s: DdlStatement, a: Analysis): TableName[] {
  switch (a.eventType) {
    case 'create database':
      return createDatabase(s);
    case 'alter database':
      return alterDatabase(s);
    case 'drop database':
      return dropDatabase(s);
    case 'create table':
      return createTable(s);
    case 'alter table':
      return alterTable(s);
    case 'drop table':
      return dropTables(s);
    case 'rename table':
      return renameTables(s);
    case 'truncate table':
      return [];
    case 'create index':
      return createIndex(s);
    case 'drop index':
      return dropIndex(s);
    default:
      throw new Unsupported(`${a.eventType ?? 'this statement'} is not modelled`);
  }
}
