import type { Value } from '../db/mysql.ts';
import type { BinlogPosition } from './position.ts';

/** The binlog as the sync unit sees it: our own types, independent of the decoder library (CONVENTIONS §2). */

export type RowImage = Record<string, Value>;

export interface RowChange {
  op: 'insert' | 'update' | 'delete';
  schema: string;
  table: string;
  before?: RowImage;
  after?: RowImage;
}

/** A committed upstream transaction: its row changes and the position right after its commit event. */
export interface TxnEvent {
  kind: 'txn';
  changes: RowChange[];
  /** End of the commit (XID/COMMIT) event: resuming here replays nothing of this transaction. */
  end: BinlogPosition;
  /** Upstream commit time, unix seconds. */
  timestamp: number;
}

/** A statement outside a row transaction (DDL, or anything logged as a standalone query). */
export interface QueryEvent {
  kind: 'query';
  schema: string;
  sql: string;
  end: BinlogPosition;
  timestamp: number;
}

/** Emitted when the stream moved without anything to apply (rotate, filtered transaction, heartbeat). */
export interface ProgressEvent {
  kind: 'progress';
  end: BinlogPosition;
  timestamp: number;
}

export type BinlogEvent = TxnEvent | QueryEvent | ProgressEvent;

/** Where the schema of a table comes from when decoding its rows (the schema tracker plugs in here). */
export interface ColumnDef {
  COLUMN_NAME: string;
  COLLATION_NAME: string | null;
  CHARACTER_SET_NAME: string | null;
  COLUMN_COMMENT: string;
  COLUMN_TYPE: string;
  /** Exact member lists for ENUM/SET columns (zongji would otherwise split COLUMN_TYPE on every comma). */
  ENUM_VALUES?: string[];
  SET_VALUES?: string[];
}
export type SchemaProvider = (schema: string, table: string) => Promise<ColumnDef[] | undefined>;
