/**
 * The shapes the rest of tsdm consumes, derived from the tracker's model by from-server.ts: the engine's table and
 * column (how the agent reads, writes and keys rows), and zongji's column definition.
 */

/** The engine's column shape: how the agent reads, writes and keys rows (agent/db/schema.ts re-exports it). */
export interface ColumnInfo {
  name: string;
  dataType: string;
  columnType: string;
  nullable: boolean;
  generated: boolean;
  charset: string | null;
  collation: string | null;
  comment: string;
  /** Bytes on the wire: binary strings, BLOBs, BIT, geometry. */
  binary: boolean;
}

/** The engine's table shape. uniqueKeys: unique keys other than the primary key, columns in index order. */
export interface TableInfo {
  schema: string;
  table: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  uniqueKeys: string[][];
}

/** What zongji needs per column (structurally identical to agent/binlog/events.ts ColumnDef). */
export interface ColumnDef {
  COLUMN_NAME: string;
  COLLATION_NAME: string | null;
  CHARACTER_SET_NAME: string | null;
  COLUMN_COMMENT: string;
  COLUMN_TYPE: string;
  ENUM_VALUES?: string[];
  SET_VALUES?: string[];
}
