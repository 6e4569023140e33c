import type { FilterAction } from '../config/types.ts';

/**
 * `dmctl plan` (op `plan-task`): what a task would do, read from its sources and downstream without writing
 * anything. The JSON shape of `dmctl plan --json` is this document (docs/commands.md describes it).
 */

/** An upstream table, by source. */
export interface PlanTableRef {
  source: string;
  schema: string;
  table: string;
}

/** What the binlog event filter does with one DML type on a table, and the rule that decided (none: Do). */
export interface PlanDmlDecision {
  action: FilterAction;
  rule?: string;
}

/** An upstream table the task migrates. */
export interface PlanTable extends PlanTableRef {
  target: { schema: string; table: string };
  /** The route rule that decides the target; absent when none matches (the name is kept). */
  route?: string;
  /** The other upstream tables routed to the same target (a shard merge, or a collision without shard-mode). */
  mergedWith: PlanTableRef[];
  /** The block-allow list entry that let it through (do-tables), when one did. */
  allowedBy?: string;
  /** Binlog event filter rules whose patterns match the table, in the order they are read. */
  eventFilters: { rule: string; action: FilterAction; events: string[]; sqlPattern: string[] }[];
  /** What those rules decide for each row change type. */
  dml: { insert: PlanDmlDecision; update: PlanDmlDecision; delete: PlanDmlDecision };
  /** Expression filters on the table (applied to binlog rows only, as in DM). */
  expressionFilters: { rule: string; key: string; expr: string }[];
  /** DM extended columns: column -> the value every row of this table carries. */
  extendedColumns?: Record<string, string>;
  /** The columns that identify a row: primary key, else a unique key over NOT NULL columns, else none. */
  key: { kind: 'primary' | 'unique' | 'none'; columns: string[] };
  /** What tsdm does about the key (always set when kind is none). */
  keyNote?: string;
  /** The integer key column the dump splits chunks on; null: the table is one chunk. */
  chunkColumn: string | null;
  /** information_schema.TABLES.TABLE_ROWS (InnoDB's estimate). */
  rowEstimate: number;
}

/** An upstream table the task does not migrate, and why. */
export interface PlanSkipped extends PlanTableRef {
  reason: string;
}

/** A statement the dump runs downstream before it loads rows (in this order per source; sources run in parallel). */
export interface PlanStatement {
  source: string;
  kind: 'database' | 'table';
  /** The upstream schema (kind database) or table it comes from. */
  upstream: { schema: string; table?: string };
  /** The downstream schema or table it creates. */
  target: { schema: string; table?: string };
  sql: string;
  /** Why the statement will not create anything (IF NOT EXISTS): the target exists, or an earlier one creates it. */
  noop?: string;
}

/** A downstream table the task writes. */
export interface PlanTarget {
  schema: string;
  table: string;
  /** It exists downstream now (then the dump's CREATE TABLE IF NOT EXISTS does nothing). */
  exists: boolean;
  /** Every upstream table routed here. */
  from: PlanTableRef[];
  /** The statement that creates it (the first in the plan; with several sources, whichever source runs first). */
  createdBy?: PlanStatement;
  /** Upstream tables whose CREATE TABLE differs from the one that creates the target (AUTO_INCREMENT aside). */
  differentShards?: PlanTableRef[];
}

export interface TaskPlanResult {
  task: string;
  taskMode: 'all' | 'full' | 'incremental';
  shardMode: '' | 'pessimistic' | 'optimistic';
  tables: PlanTable[];
  skipped: PlanSkipped[];
  targets: PlanTarget[];
  statements: PlanStatement[];
  notes: string[];
}
