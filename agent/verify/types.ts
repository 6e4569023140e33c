import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { TableName } from '../../src/sql/table-name.ts';

/**
 * Contracts of `dmctl check-data` (issue #15) between its parts:
 * - consistent-point.ts opens Views: upstream and downstream snapshot connections at one logical point;
 * - compare-table.ts compares one target table inside a View (chunk checksums, then rows of differing chunks);
 * - job.ts plans the targets from the task, drives the compares, stores progress and the report, repairs.
 */

/** One upstream table that feeds a target table (several for a shard merge). */
export interface ShardSide {
  /** source-id of the upstream. */
  source: string;
  schema: string;
  table: string;
  /** DM extended columns of this upstream table: downstream column name -> the constant it holds for these rows. */
  constants: Record<string, string>;
}

/** A downstream table and every upstream table the task routes into it. */
export interface TablePlan {
  target: TableName;
  shards: ShardSide[];
}

/**
 * Snapshot connections at one logical point: every upstream connection is in a REPEATABLE READ transaction WITH
 * CONSISTENT SNAPSHOT at binlog position `positions[source]`, and the downstream connection's snapshot was opened
 * while every source's sync was held having applied exactly that position (or while sync was not running).
 * One connection per side: a View is used by one compare at a time (queries on it are sequential).
 * Sessions: time_zone '+00:00' on the upstream; the downstream session has the task's session settings (its time
 * zone), exactly as the sync writers have, so TIMESTAMP values read the same on both sides.
 */
export interface View {
  upstream: Map<string, Connection>;
  downstream: Connection;
  positions: Map<string, BinlogPosition>;
}

/** One differing row, by key. Values as text (binary as 0x hex), cut to 256 characters. */
export interface Difference {
  /** Key column -> value (the downstream key; every column of the row for a table without a key). */
  key: Record<string, string | null>;
  /** missing: upstream only; extra: downstream only; changed: both, with different values. */
  kind: 'missing' | 'extra' | 'changed';
  /** The columns that differ (every compared column for missing/extra). */
  columns: { name: string; upstream: string | null; downstream: string | null }[];
}

/** Where a table's compare stands: chunks are compared in key order, so the last key done is enough to resume. */
export interface TableProgress {
  /** Key values of the last row of the last chunk compared (undefined: not started); null in `done` tables. */
  lastKey?: (string | null)[];
  done: boolean;
  rows: number;
  differences: number;
}

export interface TableResult {
  target: string;
  status: 'equal' | 'different' | 'not-comparable';
  /** Why not comparable (the rule that makes the downstream differ on purpose, a missing key column …). */
  reason?: string;
  /** Rows compared (upstream side). */
  rows: number;
  /** Differing rows, counted by key. */
  differences: number;
  /** The first differences found (at most `maxSamples`). */
  samples: Difference[];
  /** Statements that make the downstream equal for the differences found (in order: deletes first). */
  fixSql: string[];
  /** Chunks compared, and how many of them were read row by row (checksums differed, or no fast path). */
  chunks?: { compared: number; readRows: number };
}
