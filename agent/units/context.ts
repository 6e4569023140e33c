import type { SourceConfig, SubtaskSpec, TaskConfig, TableName } from '../../src/config/types.ts';
import type { BinlogOperator, LoadProgress, SyncProgress, UnitName } from '../../src/coord/records.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import type { CheckpointStore } from '../checkpoint.ts';
import type { Logger } from '../log.ts';

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
  /** The user's `dmctl binlog skip|replace` decision for the event ending at `position` (`file:pos`), if any. */
  binlogOp(position: string): BinlogOperator | undefined;
  /** server-id the binlog connection uses. */
  serverId: number;
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
  /** Binlog event filter (DM semantics): what to do with this event type on this table. */
  eventAction(schema: string, table: string, eventType: string | readonly string[], sql?: string): 'Do' | 'Ignore' | 'Error';
}

/** A unit of the subtask lifecycle (DM: check, dump, load, sync). `run` resolves when the unit's work is done or
 * the signal aborted it; it throws a DmError when it cannot go on. */
export interface Unit {
  readonly name: UnitName;
  run(): Promise<void>;
}

export class Aborted extends Error {
  constructor() { super('aborted'); this.name = 'Aborted'; }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Aborted();
}
