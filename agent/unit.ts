import type { SourceConfig, SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import type { TableName } from '../src/sql/table-name.ts';
import type { BinlogPosition } from '../src/binlog/position.ts';
import type { BinlogOperator, LoadProgress, SyncProgress, UnitName } from '../src/coord/records.ts';
import type { ShardLockRecord } from '../src/shard/lock.ts';
import type { ErrorRecord } from '../src/errors/index.ts';
import type { ExtendedColumns } from '../src/route/router.ts';
import type { OnlineTableType } from '../src/filter/online-ddl-tables.ts';
import type { DmEventType, FilterDecision } from '../src/filter/event-filter.ts';
import type { RowChange } from './binlog/events.ts';
import type { CheckpointStore } from './checkpoint.ts';
import type { Logger } from './log.ts';
import type { RelayFeed } from './relay/reader.ts';
import type { SubtaskMetrics } from '../src/metrics/subtask-metrics.ts';
import type { EventInput } from '../src/events/record.ts';

/** What one (task, source) pair's units share. Built by the subtask runner; units never reach NATS themselves. */
export interface SubtaskContext {
  task: TaskConfig;
  spec: SubtaskSpec;
  source: SourceConfig;
  ckpt: CheckpointStore;
  rules: SubtaskRules;
  log: Logger;
  /** Aborted on pause/stop/shutdown: units stop at the next safe point and keep their checkpoints. */
  signal: AbortSignal;
  report(patch: UnitReport): void;
  /** Something a human should know (dm_events); task and source are filled in. Never blocks, never throws. */
  event(e: Omit<EventInput, 'task' | 'source'>): void;
  /** The user's `dmctl binlog skip|replace|inject` decision for the event ending at `position` (`file:pos`), if any. */
  binlogOp(position: string): BinlogOperator | undefined;
  /** start-task --start-time for this source: `time` as given, `request` what marks it applied (with the generation). */
  startTime?: { time: string; request: string };
  /** Incremental without meta: where the upstream was at start-task, the start when there is no checkpoint. */
  startPosition?: BinlogPosition;
  /** server-id the binlog connection uses. */
  serverId: number;
  /** The source's relay log when enable-relay is on: sync reads it instead of the upstream binlog. */
  relay?: RelayFeed;
  /** The task's shard-DDL locks (dm_locks), for shard-mode tasks. */
  shardLocks?: ShardLocks;
  /** This subtask's Prometheus series, when the agent serves /metrics: told of each commit (apply.ts). */
  metrics?: SubtaskMetrics;
}

/** What the sync unit needs of `dm_locks` (agent/shard/locks.ts implements it over NATS KV). */
export interface ShardLocks {
  get(target: TableName): ShardLockRecord | undefined;
  /** Reads the lock from KV now (the watched copy may not have arrived yet). */
  fetch(target: TableName): Promise<ShardLockRecord | undefined>;
  /** Every lock of the task, as last seen. */
  all(): ShardLockRecord[];
  /** Compare-and-set read-modify-write: `fn` returns the new record, null to delete, undefined to leave it. */
  mutate(
    target: TableName,
    fn: (cur: ShardLockRecord | undefined) => ShardLockRecord | null | undefined,
  ): Promise<ShardLockRecord | undefined>;
  /** Resolves at the next change of any lock of the task, or after `ms`. */
  changed(ms: number): Promise<void>;
  /** Bumped at every change seen. */
  readonly version: number;
}

export interface UnitReport {
  unit?: UnitName;
  load?: LoadProgress;
  sync?: SyncProgress;
  warning?: ErrorRecord;
}

/** Block/allow list, routing and event filter, applied identically by dump, load and sync. */
export interface SubtaskRules {
  allowTable(schema: string, table: string): boolean;
  allowSchema(schema: string): boolean;
  route(schema: string, table: string): TableName;
  routeSchema(schema: string): string;
  /** Binlog event filter (DM semantics): what to do with this event type on this table, and which rule said so.
   * `eventType` null: DM's NullEvent (only sql-patterns apply). */
  eventAction(schema: string, table: string, eventType: DmEventType | null, sql?: string): FilterDecision;
  /** True = discard this row change: a row of an online-DDL shadow/trash table, or an expression filter (DM
   * `expression-filter`, sync only) says so. */
  skipRow(change: RowChange): boolean;
  /** online-ddl (DM): 'ghost'/'trash' for gh-ost/pt-osc shadow and trash tables; always 'real' when it is off. */
  onlineTableType(table: string): OnlineTableType;
  /** DM extended columns (routes' extract-table/schema/source) of an upstream table, in dump, load and sync. */
  extendColumns(schema: string, table: string): ExtendedColumns | undefined;
}

/** A unit of the subtask lifecycle (DM: check, dump, load, sync). `run` resolves when the unit's work is done or
 * the signal aborted it; it throws a DmError when it cannot go on. */
export interface Unit {
  readonly name: UnitName;
  run(): Promise<void>;
}

export class Aborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'Aborted';
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Aborted();
}
