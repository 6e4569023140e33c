import type { Value } from '../db/mysql.ts';
import type { TableInfo } from '../db/schema.ts';
import type { TrackedTable } from '../../src/schema/model.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';

/** The binlog as the sync unit sees it: our own types, independent of the decoder library (CONVENTIONS §2). */

export type RowImage = Record<string, Value>;

export interface RowChange {
  op: 'insert' | 'update' | 'delete';
  schema: string;
  table: string;
  before?: RowImage;
  after?: RowImage;
  /** The table's structure as of this event (schema tracker), captured when the row was decoded. */
  info: TableInfo;
  /** The upstream session had foreign_key_checks=0 (rows event flag): the change cascaded nothing upstream. */
  noFkChecks?: true;
}

/** A committed upstream transaction: its row changes and the position right after its commit event. */
export interface TxnEvent {
  kind: 'txn';
  /** With `continued`: only the changes after the last TxnPartEvent (the transaction's last part). */
  changes: RowChange[];
  /** The transaction's earlier changes came as TxnPartEvents (a large transaction, read in parts). */
  continued?: true;
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
  /** Id of the collation_server the statement ran under (its event's status variables); absent when unknown. */
  serverCollation?: number;
  /** The tracked upstream schema right after this statement (serialised), persisted with the checkpoint past it. */
  trackerAfter: unknown;
  /**
   * The tables the statement alters, as the tracker had them right BEFORE it (filter/ddl-events.ts `tablesBefore`):
   * DM classifies MODIFY/CHANGE COLUMN for the binlog event filter against the old column definition.
   */
  tablesBefore: TrackedTable[];
  end: BinlogPosition;
  timestamp: number;
}

/** Emitted when the stream moved without anything to apply (rotate, filtered transaction, heartbeat). */
export interface ProgressEvent {
  kind: 'progress';
  end: BinlogPosition;
  timestamp: number;
}

/**
 * A part of a transaction still open upstream, read in parts because it is large (ReaderOptions.chunkRows): its next
 * changes in binlog order. More parts may follow; the TxnEvent that closes it (`continued`) carries the last changes
 * and the end. A transaction the binlog shows rolled back ends with a part with `rollback` instead: drop its parts.
 * A position is never taken inside a transaction, so a part has none.
 */
export interface TxnPartEvent {
  kind: 'txn-part';
  changes: RowChange[];
  rollback?: true;
}

export type BinlogEvent = TxnEvent | TxnPartEvent | QueryEvent | ProgressEvent;

/** An event that ends at a position (everything but a transaction's part). */
export type PositionedEvent = Exclude<BinlogEvent, TxnPartEvent>;

/** Where an event ends (undefined for a transaction's part: a position is never inside a transaction). */
export function eventEnd(ev: BinlogEvent | undefined): BinlogPosition | undefined {
  return ev && ev.kind !== 'txn-part' ? ev.end : undefined;
}
