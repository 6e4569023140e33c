import { charsetOfCollation } from './charsets.ts';
import { defaultFromInfoSchema } from './default-value.ts';
import { parseEnumMembers } from './enum-members.ts';
import type { ColumnDef, ColumnInfo, TableInfo } from './engine-shapes.ts';
import {
  SchemaTracker,
  tableOf,
  type SchemaTrackerOptions,
  type IndexKind,
  type TrackedColumn,
  type TrackedIndex,
  type TrackedSchema,
  type TrackedTable,
} from './model.ts';
import { compareNames } from './names.ts';

/**
 * The tracker's model from the server's own description (information_schema rows, queried by the agent: this file
 * has no driver), and the two shapes the rest of tsdm consumes: zongji's column definitions and the engine's
 * TableInfo. Row objects may use upper- or lower-case keys (MySQL 8 returns information_schema columns upper case
 * unless aliased) and numbers as numbers or strings.
 */

type Value = string | number | bigint | null | undefined;
export type InfoSchemaRow = Record<string, Value>;

/** The queries whose rows these functions read (`?` = schema, table). */
export const INFO_SCHEMA_QUERIES = {
  columns: `SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME,
      COLUMN_COMMENT, COLUMN_DEFAULT, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
  statistics: `SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, INDEX_TYPE FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
  table: `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
  schemata: `SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA`,
} as const;

function get(row: InfoSchemaRow, key: string): Value {
  return key in row ? row[key] : row[key.toLowerCase()];
}

function text(row: InfoSchemaRow, key: string): string {
  const v = get(row, key);
  if (v === null || v === undefined) throw new Error(`information_schema row has no ${key}`);
  return String(v);
}

function textOrNull(row: InfoSchemaRow, key: string): string | null {
  const v = get(row, key);
  return v === null || v === undefined ? null : String(v);
}

/**
 * A TrackedTable from information_schema.COLUMNS (any order: sorted by ORDINAL_POSITION when present),
 * information_schema.STATISTICS and the table's information_schema.TABLES row.
 * Not visible there, so not restored: which indexes MariaDB created implicitly for a FOREIGN KEY.
 */
export function trackedTableFromInfoSchema(
  columnRows: InfoSchemaRow[],
  statisticsRows: InfoSchemaRow[],
  tableRow: InfoSchemaRow,
): TrackedTable {
  const rows = [...columnRows];
  if (rows.every((r) => get(r, 'ORDINAL_POSITION') != null))
    rows.sort((a, b) => Number(get(a, 'ORDINAL_POSITION')) - Number(get(b, 'ORDINAL_POSITION')));
  const columns = rows.map((r): TrackedColumn => {
    const extra = (textOrNull(r, 'EXTRA') ?? '').toUpperCase();
    const isGenerated = (textOrNull(r, 'IS_GENERATED') ?? '').toUpperCase() === 'ALWAYS';
    // MySQL 8 shows DEFAULT_GENERATED for DEFAULT (expr): that is not a generated column
    const generated = isGenerated || /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/.test(extra);
    const dataType = text(r, 'DATA_TYPE').toLowerCase();
    const col: TrackedColumn = {
      name: text(r, 'COLUMN_NAME'),
      columnType: text(r, 'COLUMN_TYPE'),
      dataType,
      nullable: text(r, 'IS_NULLABLE').toUpperCase() === 'YES',
      generated,
      charset: textOrNull(r, 'CHARACTER_SET_NAME'),
      collation: textOrNull(r, 'COLLATION_NAME'),
      comment: textOrNull(r, 'COLUMN_COMMENT') ?? '',
    };
    // Rows read without these columns (older callers) leave them unknown.
    if ('COLUMN_DEFAULT' in r || 'column_default' in r)
      col.hasDefault = !generated && get(r, 'COLUMN_DEFAULT') !== null;
    const expr = textOrNull(r, 'GENERATION_EXPRESSION');
    if (generated && expr !== null) col.generation = { expr, stored: /\b(STORED|PERSISTENT)\b/.test(extra) };
    // The DEFAULT's value and AUTO_INCREMENT serve the binlog event filter (DM classifies MODIFY against them).
    const dflt = generated ? undefined : defaultFromInfoSchema(textOrNull(r, 'COLUMN_DEFAULT'), dataType);
    if (dflt !== undefined) col.default = dflt;
    if (/\bAUTO_INCREMENT\b/.test(extra)) col.autoIncrement = true;
    return col;
  });
  const parts = [...statisticsRows].sort(
    (a, b) =>
      compareNames(text(a, 'INDEX_NAME'), text(b, 'INDEX_NAME')) ||
      Number(get(a, 'SEQ_IN_INDEX')) - Number(get(b, 'SEQ_IN_INDEX')),
  );
  const byName = new Map<string, TrackedIndex>();
  for (const r of parts) {
    const name = text(r, 'INDEX_NAME');
    let idx = byName.get(name);
    if (!idx) {
      const type = (textOrNull(r, 'INDEX_TYPE') ?? '').toUpperCase();
      const kind: IndexKind =
        name === 'PRIMARY'
          ? 'primary'
          : Number(get(r, 'NON_UNIQUE')) === 0
            ? 'unique'
            : type === 'FULLTEXT'
              ? 'fulltext'
              : type === 'SPATIAL'
                ? 'spatial'
                : 'index';
      byName.set(name, (idx = { name, kind, columns: [] }));
    }
    const col = textOrNull(r, 'COLUMN_NAME');
    if (col !== null) idx.columns.push(col); // MySQL 8 functional key parts have no column
  }
  const collation = text(tableRow, 'TABLE_COLLATION');
  return tableOf({
    schema: text(tableRow, 'TABLE_SCHEMA'),
    table: text(tableRow, 'TABLE_NAME'),
    columns,
    indexes: [...byName.values()],
    charset: charsetOf(collation),
    collation,
  });
}

/** The charset of a collation; one this version does not know (a MySQL-only charset) by its name's prefix. */
function charsetOf(collation: string): string {
  try {
    return charsetOfCollation(collation);
  } catch {
    return collation.split('_')[0]!;
  }
}

/** A TrackedSchema from an information_schema.SCHEMATA row. */
export function trackedSchemaFromInfoSchema(row: InfoSchemaRow): TrackedSchema {
  return {
    name: text(row, 'SCHEMA_NAME'),
    charset: text(row, 'DEFAULT_CHARACTER_SET_NAME'),
    collation: text(row, 'DEFAULT_COLLATION_NAME'),
  };
}

/** information_schema rows of a whole server (or of the schemas to track), each carrying TABLE_SCHEMA/TABLE_NAME. */
export interface InfoSchemaSnapshot {
  schemata: InfoSchemaRow[];
  /** Base tables only (TABLE_TYPE 'BASE TABLE'; MariaDB's 'SYSTEM VERSIONED' ones hide columns, see apply-ddl.ts). */
  tables: InfoSchemaRow[];
  columns: InfoSchemaRow[];
  statistics: InfoSchemaRow[];
}

/** A tracker holding every schema and table of a snapshot: the starting point the binlog's DDL is applied to. */
export function trackerFromInfoSchema(snap: InfoSchemaSnapshot, opts: SchemaTrackerOptions): SchemaTracker {
  const t = new SchemaTracker(opts);
  for (const r of snap.schemata) t.setSchema(trackedSchemaFromInfoSchema(r));
  const key = (r: InfoSchemaRow): string => `${String(get(r, 'TABLE_SCHEMA'))}\0${String(get(r, 'TABLE_NAME'))}`;
  const group = (rows: InfoSchemaRow[]): Map<string, InfoSchemaRow[]> => {
    const m = new Map<string, InfoSchemaRow[]>();
    for (const r of rows) {
      const k = key(r);
      const list = m.get(k);
      if (list) list.push(r);
      else m.set(k, [r]);
    }
    return m;
  };
  const cols = group(snap.columns);
  const stats = group(snap.statistics);
  for (const tr of snap.tables)
    t.set(trackedTableFromInfoSchema(cols.get(key(tr)) ?? [], stats.get(key(tr)) ?? [], tr));
  return t;
}

/** zongji's column definitions, with exact ENUM/SET member lists. */
export function toColumnDefs(t: TrackedTable): ColumnDef[] {
  return t.columns.map((c) => {
    const d: ColumnDef = {
      COLUMN_NAME: c.name,
      COLLATION_NAME: c.collation,
      CHARACTER_SET_NAME: c.charset,
      COLUMN_COMMENT: c.comment,
      COLUMN_TYPE: c.columnType,
    };
    if (c.dataType === 'enum') d.ENUM_VALUES = parseEnumMembers(c.columnType) ?? [];
    else if (c.dataType === 'set') d.SET_VALUES = parseEnumMembers(c.columnType) ?? [];
    return d;
  });
}

/** Spatial data types (values are WKB bytes). */
export const SPATIAL_TYPES: ReadonlySet<string> = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
]);

/** Data types whose values are bytes, not text (also for the agent's information_schema reads, agent/db/schema.ts). */
export const BINARY_TYPES = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'bit',
  ...SPATIAL_TYPES,
]);

/** The engine's TableInfo (agent/db/schema.ts), as loadTableInfo builds it from the live server. */
export function toTableInfo(t: TrackedTable): TableInfo {
  const columns: ColumnInfo[] = t.columns.map((c) => ({
    name: c.name,
    dataType: c.dataType,
    columnType: c.columnType,
    nullable: c.nullable,
    generated: c.generated,
    charset: c.charset,
    collation: c.collation,
    comment: c.comment,
    binary: BINARY_TYPES.has(c.dataType) || c.charset === 'binary',
  }));
  return {
    schema: t.schema,
    table: t.table,
    columns,
    primaryKey: [...t.primaryKey],
    uniqueKeys: t.uniqueKeys.map((k) => [...k]),
  };
}
