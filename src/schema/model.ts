import { DmError } from '../errors/index.ts';
import { lex } from '../sql/lexer.ts';
import { charsetOfCollation } from './charsets.ts';
import type { TableName } from '../sql/table-name.ts';
import { compareNames } from './names.ts';

/**
 * The schema tracker's model (DESIGN.md §4 "Schema at event time"): the structure of every replicated table as
 * of the binlog event being decoded, kept by applying each DDL of the binlog in order (apply-ddl.ts) to a
 * snapshot (from-server.ts), and persisted with the checkpoint (toJSON / fromJSON).
 *
 * Invariants:
 * - Every string is as information_schema prints it on MariaDB 10.11: COLUMN_TYPE lower case with display
 *   widths (`int(11)`, `bigint(20) unsigned`), charsets/collations canonical (`utf8mb3`, not `utf8`).
 * - Column and index names are compared case-insensitively (as the server does: names.ts); schema and table
 *   names are case-sensitive unless the tracker was created with `lowerCaseTableNames`.
 * - A TrackedTable is never mutated once stored: applyDdl builds new objects and stores them only when the whole
 *   statement was understood, so a statement that fails leaves the tracker as it was.
 * - `primaryKey` and `uniqueKeys` are derived from `indexes` (see `tableOf`): uniqueKeys are the UNIQUE indexes in
 *   index-name order, which is also how the engine's loadTableInfo orders them.
 */

export interface TrackedColumn {
  name: string;
  /** information_schema COLUMN_TYPE, e.g. `bigint(20) unsigned`, `varchar(64)`, `enum('a','x,y')`. */
  columnType: string;
  /** information_schema DATA_TYPE, e.g. `bigint` (always the leading word of columnType). */
  dataType: string;
  nullable: boolean;
  /** A generated (virtual or stored) column. */
  generated: boolean;
  /** A generated column's expression (SQL: as written in the DDL, or information_schema's GENERATION_EXPRESSION; compare
   * with `normalizeExpr`) and whether it is stored (STORED/PERSISTENT) or computed on read (VIRTUAL). */
  generation?: { expr: string; stored: boolean };
  /**
   * The column has a default (information_schema COLUMN_DEFAULT is not NULL): an explicit DEFAULT, or NULL for a
   * nullable column that says none. False for NOT NULL columns without one, AUTO_INCREMENT and generated columns.
   * Undefined in models built before this was tracked.
   */
  hasDefault?: boolean;
  /** null for types without a character set (numbers, temporal, binary strings, BLOBs, BIT, geometry). */
  charset: string | null;
  collation: string | null;
  comment: string;
  /**
   * The DEFAULT's value in canonical form (default-value.ts): absent when there is none or it is NULL (`hasDefault`
   * tells those apart). Kept for the binlog event filter (a MODIFY that changes it is DM's `modify default value`).
   */
  default?: string;
  /** AUTO_INCREMENT (a MODIFY that drops it is DM's `remove auto increment`). */
  autoIncrement?: true;
}

export type IndexKind = 'primary' | 'unique' | 'index' | 'fulltext' | 'spatial';

/** An index as a DDL statement states it, before the tracker names it (indexes.ts turns these into TrackedIndex). */
export interface IndexSpec {
  kind: IndexKind | 'foreign';
  name?: string;
  columns: string[];
  ifNotExists?: boolean;
}

export interface TrackedIndex {
  /** `PRIMARY` for the primary key. */
  name: string;
  kind: IndexKind;
  columns: string[];
  /** Created implicitly for a FOREIGN KEY: MariaDB drops it when a later index covers it (HA_GENERATED_KEY). */
  generated?: boolean;
}

export interface TrackedTable {
  schema: string;
  table: string;
  columns: TrackedColumn[];
  /** Every index, in the order they were defined. */
  indexes: TrackedIndex[];
  primaryKey: string[];
  /** Unique keys other than the primary key, in index-name order. */
  uniqueKeys: string[][];
  /** Table default character set and collation (information_schema.TABLES.TABLE_COLLATION). */
  charset: string;
  collation: string;
}

export interface TrackedSchema {
  name: string;
  charset: string;
  collation: string;
}

/**
 * An expression in a form two spellings of it share: tokens lower-cased, identifiers unquoted, one space between
 * tokens (`a*3` from a DDL and `` `a` * 3 `` from information_schema compare equal).
 */
export function normalizeExpr(expr: string): string {
  try {
    return lex(expr)
      .tokens.map((t) =>
        t.type === 'str' ? t.text : t.type === 'qident' ? t.value.toLowerCase() : t.text.toLowerCase(),
      )
      .join(' ');
  } catch {
    return expr.trim().replace(/\s+/g, ' ').toLowerCase();
  }
}

/** DATA_TYPE from COLUMN_TYPE: the leading word (`bigint(20) unsigned` → `bigint`). */
export function dataTypeOf(columnType: string): string {
  return /^[a-z0-9_]+/i.exec(columnType)?.[0].toLowerCase() ?? columnType.toLowerCase();
}

/** A table with primaryKey/uniqueKeys derived from its indexes. Copies every array, so the result shares nothing. */
export function tableOf(t: Omit<TrackedTable, 'primaryKey' | 'uniqueKeys'>): TrackedTable {
  const indexes = t.indexes.map((i) => ({ ...i, columns: [...i.columns] }));
  const uniques = indexes.filter((i) => i.kind === 'unique').sort((a, b) => compareNames(a.name, b.name));
  return {
    schema: t.schema,
    table: t.table,
    columns: t.columns.map((c) => ({ ...c })),
    indexes,
    primaryKey: [...(indexes.find((i) => i.kind === 'primary')?.columns ?? [])],
    uniqueKeys: uniques.map((i) => [...i.columns]),
    charset: t.charset,
    collation: t.collation,
  };
}

export interface SchemaTrackerOptions {
  /** The upstream's @@character_set_server / @@collation_server: defaults of CREATE DATABASE without a charset. */
  serverCharset?: string;
  serverCollation?: string;
  /** The upstream's lower_case_table_names is 1: schema and table names are stored and compared in lower case. */
  lowerCaseTableNames?: boolean;
  /**
   * The upstream's @@global.explicit_defaults_for_timestamp (default ON, as in MariaDB 10.10+; OFF on older
   * servers): when OFF, a TIMESTAMP column that does not say NULL is NOT NULL. The binlog does not carry a
   * session's own setting, so the global one is assumed for every statement.
   */
  explicitDefaultsForTimestamp?: boolean;
}

/** Serialised form, version 1 (see toJSON). */
export interface TrackerJsonV1 {
  v: 1;
  server: [charset: string, collation: string];
  lctn?: 1;
  /** explicit_defaults_for_timestamp OFF */
  edt?: 0;
  schemas: [name: string, charset: string, collation: string][];
  tables: TableJson[];
}
type ColumnJson = [
  name: string,
  columnType: string,
  flags: number,
  collation?: string | null,
  comment?: string,
  charset?: string | null,
  generation?: [expr: string, stored: 0 | 1] | null,
  dflt?: string,
];
type IndexJson = [name: string, kind: IndexKind, columns: string[], generated?: 1];
type TableJson = [
  schema: string,
  table: string,
  collation: string,
  columns: ColumnJson[],
  indexes: IndexJson[],
  charset?: string,
];

const NULLABLE = 1;
const GENERATED = 2;
/** COLUMN_DEFAULT is NULL (no default). Checkpoints written before defaults were tracked lack it: read as "has one". */
const NO_DEFAULT = 4;
const AUTO_INCREMENT = 8;
const INDEX_KINDS: ReadonlySet<string> = new Set(['primary', 'unique', 'index', 'fulltext', 'spatial']);

export class SchemaTracker {
  readonly serverCharset: string;
  readonly serverCollation: string;
  readonly lowerCaseTableNames: boolean;
  readonly explicitDefaultsForTimestamp: boolean;
  private readonly dbs = new Map<string, TrackedSchema>();
  private readonly tbls = new Map<string, Map<string, TrackedTable>>();

  constructor(opts: SchemaTrackerOptions = {}) {
    this.serverCharset = opts.serverCharset ?? 'latin1';
    this.serverCollation = opts.serverCollation ?? 'latin1_swedish_ci';
    this.lowerCaseTableNames = opts.lowerCaseTableNames ?? false;
    this.explicitDefaultsForTimestamp = opts.explicitDefaultsForTimestamp ?? true;
  }

  /** How the server stores a schema or table name. */
  fold(name: string): string {
    return this.lowerCaseTableNames ? name.toLowerCase() : name;
  }

  // ---- schemas

  getSchema(name: string): TrackedSchema | undefined {
    return this.dbs.get(this.fold(name));
  }

  setSchema(s: TrackedSchema): void {
    const name = this.fold(s.name);
    this.dbs.set(name, { name, charset: s.charset, collation: s.collation });
  }

  /** Removes the schema and its tables; returns the tables removed. */
  dropSchema(name: string): TableName[] {
    const n = this.fold(name);
    this.dbs.delete(n);
    const gone = [...(this.tbls.get(n)?.keys() ?? [])].sort().map((table) => ({ schema: n, table }));
    this.tbls.delete(n);
    return gone;
  }

  schemas(): TrackedSchema[] {
    return [...this.dbs.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((s) => ({ ...s }));
  }

  // ---- tables

  /** The stored table: treat it as read-only (applyDdl replaces tables, never edits them). */
  get(schema: string, table: string): TrackedTable | undefined {
    return this.tbls.get(this.fold(schema))?.get(this.fold(table));
  }

  has(schema: string, table: string): boolean {
    return this.get(schema, table) !== undefined;
  }

  /** Stores a copy of `t` (primaryKey/uniqueKeys re-derived from its indexes). */
  set(t: TrackedTable): void {
    const schema = this.fold(t.schema);
    const table = this.fold(t.table);
    let m = this.tbls.get(schema);
    if (!m) this.tbls.set(schema, (m = new Map()));
    m.set(table, tableOf({ ...t, schema, table }));
  }

  drop(schema: string, table: string): boolean {
    const m = this.tbls.get(this.fold(schema));
    if (!m) return false;
    const had = m.delete(this.fold(table));
    if (m.size === 0) this.tbls.delete(this.fold(schema));
    return had;
  }

  /** Every table, or those of one schema, ordered by schema then table name. */
  tables(schema?: string): TrackedTable[] {
    const out: TrackedTable[] = [];
    const names = schema === undefined ? [...this.tbls.keys()].sort() : [this.fold(schema)];
    for (const s of names) {
      const m = this.tbls.get(s);
      if (!m) continue;
      for (const t of [...m.keys()].sort()) out.push(m.get(t)!);
    }
    return out;
  }

  clone(): SchemaTracker {
    return SchemaTracker.fromJSON(this.toJSON());
  }

  /**
   * Compact and stable: schemas and tables sorted by name, columns and indexes as arrays, trailing defaults
   * omitted, DATA_TYPE and charsets derived on load where they follow from COLUMN_TYPE and the collation.
   * The same tracker always gives the same JSON, so equal checkpoints compare equal.
   */
  toJSON(): TrackerJsonV1 {
    const out: TrackerJsonV1 = {
      v: 1,
      server: [this.serverCharset, this.serverCollation],
      schemas: this.schemas().map((s) => [s.name, s.charset, s.collation]),
      tables: this.tables().map(tableToJson),
    };
    if (this.lowerCaseTableNames) out.lctn = 1;
    if (!this.explicitDefaultsForTimestamp) out.edt = 0;
    return out;
  }

  /** Throws DmError('CheckpointCorrupt') when `json` is not a tracker this version can read. */
  static fromJSON(json: unknown): SchemaTracker {
    try {
      const j = json as TrackerJsonV1;
      if (j === null || typeof j !== 'object' || j.v !== 1) {
        throw new Error(`unsupported schema tracker format ${String((j as { v?: unknown } | null)?.v)}`);
      }
      const [serverCharset, serverCollation] = j.server;
      const t = new SchemaTracker({
        serverCharset: str(serverCharset),
        serverCollation: str(serverCollation),
        lowerCaseTableNames: j.lctn === 1,
        explicitDefaultsForTimestamp: j.edt !== 0,
      });
      for (const [name, charset, collation] of j.schemas)
        t.setSchema({ name: str(name), charset: str(charset), collation: str(collation) });
      for (const tj of j.tables) t.set(tableFromJson(tj));
      return t;
    } catch (err) {
      throw new DmError('CheckpointCorrupt', `schema tracker state is unreadable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

function str(x: unknown): string {
  if (typeof x !== 'string') throw new Error(`expected a string, got ${JSON.stringify(x)}`);
  return x;
}

/** The charset a collation implies, or undefined when the collation is not one we know. */
function impliedCharset(collation: string | null): string | null | undefined {
  if (collation === null) return null;
  try {
    return charsetOfCollation(collation);
  } catch {
    return undefined;
  }
}

function tableToJson(t: TrackedTable): TableJson {
  const cols = t.columns.map((c): ColumnJson => {
    const flags =
      (c.nullable ? NULLABLE : 0) |
      (c.generated ? GENERATED : 0) |
      (c.hasDefault === false ? NO_DEFAULT : 0) |
      (c.autoIncrement ? AUTO_INCREMENT : 0);
    const cj: ColumnJson = [c.name, c.columnType, flags, c.collation, c.comment];
    // The DEFAULT's value is last: a column with one spells out its charset (even when implied) and generation (null).
    if (c.default !== undefined)
      cj.push(c.charset, c.generation ? [c.generation.expr, c.generation.stored ? 1 : 0] : null, c.default);
    else if (c.generation) cj.push(c.charset, [c.generation.expr, c.generation.stored ? 1 : 0]);
    else if (impliedCharset(c.collation) !== c.charset) cj.push(c.charset);
    else if (c.comment === '') cj.length = c.collation === null ? 3 : 4;
    return cj;
  });
  const idx = t.indexes.map(
    (i): IndexJson => (i.generated ? [i.name, i.kind, i.columns, 1] : [i.name, i.kind, i.columns]),
  );
  const tj: TableJson = [t.schema, t.table, t.collation, cols, idx];
  if (impliedCharset(t.collation) !== t.charset) tj.push(t.charset);
  return tj;
}

function tableFromJson(tj: TableJson): TrackedTable {
  const [schema, table, collation, cols, idx, charset] = tj;
  const columns = cols.map(([name, columnType, flags, coll = null, comment = '', cs, gen, dflt]): TrackedColumn => {
    const charset = cs === undefined ? impliedCharset(coll) : cs;
    if (charset === undefined) throw new Error(`column ${name}: unknown collation ${coll}`);
    const col: TrackedColumn = {
      name: str(name),
      columnType: str(columnType),
      dataType: dataTypeOf(str(columnType)),
      nullable: (flags & NULLABLE) !== 0,
      generated: (flags & GENERATED) !== 0,
      charset,
      collation: coll,
      comment: str(comment),
      hasDefault: (flags & NO_DEFAULT) === 0,
    };
    if (gen !== undefined && gen !== null) col.generation = { expr: str(gen[0]), stored: gen[1] === 1 };
    if (dflt !== undefined) col.default = str(dflt);
    if ((flags & AUTO_INCREMENT) !== 0) col.autoIncrement = true;
    return col;
  });
  const indexes = idx.map(([name, kind, columns, generated]): TrackedIndex => {
    if (!INDEX_KINDS.has(kind)) throw new Error(`index ${name}: unknown kind ${kind}`);
    const i: TrackedIndex = { name: str(name), kind, columns: columns.map(str) };
    if (generated === 1) i.generated = true;
    return i;
  });
  const tcs = charset ?? impliedCharset(collation);
  if (typeof tcs !== 'string') throw new Error(`table ${schema}.${table}: unknown collation ${collation}`);
  return tableOf({ schema: str(schema), table: str(table), columns, indexes, charset: tcs, collation: str(collation) });
}
