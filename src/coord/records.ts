import type { ErrorRecord } from '../errors/index.ts';
import type { BinlogPosition } from '../binlog/position.ts';
import type { KvHealthReport } from './kv-health.ts';

/** Values stored in the KV buckets (JSON). Every record is owned by exactly one writer (DESIGN.md §3 table). */

/** dm_members/<agent>: written by the agent itself, renewed every HEARTBEAT_MS. */
export interface MemberRecord {
  name: string;
  host: string;
  pid: number;
  version: string;
  started: string;
  heartbeat: string;
  /** Inconsistencies of the NATS KV store this agent met and its repairs (absent while there were none). */
  kv?: KvHealthReport;
}

/** dm_leader/leader: `create` to win, CAS `update` to renew. */
export interface LeaderRecord {
  name: string;
  term: number;
  since: string;
}

/** dm_sources/<source-id>: written by dmctl operate-source. */
export interface SourceRecord {
  sourceId: string;
  /** The source file as the user wrote it (validated by dmctl, parsed again by the agent). */
  yaml: string;
  file: string;
  /** Preferred agent (operate-source create -w). */
  worker?: string;
  /** Relay desired stage set by dmctl start/stop/pause/resume-relay; absent: Running when enable-relay is true. */
  relayStage?: DesiredStage;
  /** When relayStage was last set: a new request (resume-relay) retries a relay an error stopped. */
  relayStageAt?: string;
  createdAt: string;
}

/**
 * dm_bounds/<source-id>: written by the leader only, by CAS. `term` is the binding's term: it grows with every
 * (re)binding of the source (max(previous + 1, now in ms)), and the bound agent's subtasks write it to the
 * downstream owner row that fences stale writers. `leaderTerm` is the term of the leader that wrote it;
 * `previous` the agent the source was bound to before.
 */
export interface BoundRecord {
  sourceId: string;
  agent: string;
  term: number;
  boundAt: string;
  leaderTerm?: number;
  previous?: string;
}

export const Stage = {
  New: 'New',
  Running: 'Running',
  Paused: 'Paused',
  Stopped: 'Stopped',
  Finished: 'Finished',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];
export type DesiredStage = 'Running' | 'Paused' | 'Stopped';

/**
 * A user's decision about one binlog event that paused a subtask (`dmctl binlog skip|replace|inject`), as in DM's
 * handle-error: at `position` (the event's end, `file:pos`, as shown in the error) skip the event, run `sqls` in its
 * place (replace), or run `sqls` first and then the event itself (inject). The statements go through the same
 * filters and routing as the original statement.
 */
export interface BinlogOperator {
  source: string;
  position: string;
  op: 'skip' | 'replace' | 'inject';
  sqls?: string[];
  createdAt: string;
  /** `user@host` of the dmctl that recorded it (shown in the binlog.skip|replace event). */
  by?: string;
}

/** dm_tasks/<task>: written by dmctl (desired state; agents reconcile). */
export interface TaskRecord {
  name: string;
  yaml: string;
  file: string;
  stage: DesiredStage;
  /** Per-source desired stage overrides (pause-task -s SOURCE). */
  sourceStages?: Record<string, DesiredStage>;
  sources: string[];
  /** Bumped by every start-task: a new generation makes agents restart the subtask from its checkpoint. */
  generation: number;
  /** `dmctl validation start|stop`: overrides the validators' mode of the task file (absent: the file decides). */
  validation?: ValidationDesired;
  /** Pending `dmctl binlog skip|replace|inject` decisions (see BinlogOperator). */
  binlogOps?: BinlogOperator[];
  /**
   * Task-mode incremental, a source without meta and without a checkpoint: its upstream's position when start-task
   * ran (DM reads it there too), where the sync unit starts when it finds no checkpoint (agent/sync/resume.ts).
   */
  startPosition?: Record<string, BinlogPosition>;
  /**
   * start-task --start-time, by source: the sync unit of this generation starts from the first binlog event at or
   * after that time (once: agent/sync/start-time.ts), instead of its checkpoint or meta.
   */
  startTime?: Record<string, string>;
  /**
   * When each source's --start-time was asked for (ISO time of that start-task): part of the request's id, so a new
   * start-task with the same time is a new request even where the generation starts over (NATS data wiped).
   */
  startTimeAt?: Record<string, string>;
  /** The last `start-task --remove-meta` of the task (see RemoveMetaRequest); absent when it was started without. */
  removeMeta?: RemoveMetaRequest;
  updatedAt: string;
  /** `user@host` of the dmctl (or dashboard) that last changed the desired stage: who the task.* events name. */
  by?: string;
}

/**
 * `start-task --remove-meta`, as a request the agents carry out once per source (as DM's master removes the meta once,
 * at start-task): the first subtask of a listed source removes its checkpoints and records `id` in the downstream, in
 * the same transaction (agent/checkpoint.ts removeOnce); every later subtask of the source (a restart, resume-task,
 * an agent restart, a failover) finds `id` recorded and resumes from the checkpoints written since. `id` is unique per
 * start-task (generation and time), so a new `start-task --remove-meta` removes them again. `sources`: the sources it
 * was given for (start-task -s); a source added to the running task later keeps its checkpoints.
 */
export interface RemoveMetaRequest {
  id: string;
  sources: string[];
}

/**
 * The remove-meta request for one source of a task record, or undefined. A record written by a dmctl from before
 * requests had ids holds `true`: the generation names that request.
 */
export function removeMetaRequest(rec: TaskRecord, source: string): string | undefined {
  // The stored JSON may predate the type (`true`).
  const r = rec.removeMeta as RemoveMetaRequest | boolean | undefined;
  if (r === true) return `g${rec.generation}`;
  if (!r || typeof r !== 'object' || !r.sources.includes(source)) return undefined;
  return r.id;
}

export type UnitName = 'check' | 'dump' | 'load' | 'sync';

/** Desired state of a task's continuous validation (DM `validation start|stop`), for all its sources. */
export interface ValidationDesired {
  stage: 'Running' | 'Stopped';
  mode: 'fast' | 'full';
  updatedAt: string;
}

/** Row counts by the change that queued them (DM's "insert/update/delete: a/b/c"). */
export interface RowCounts {
  insert: number;
  update: number;
  delete: number;
}

/** A validated table that is not validated (no usable key, a read failed): DM's table stage Stopped. */
export interface ValidationTableStatus {
  srcTable: string;
  dstTable: string;
  stage: 'Running' | 'Stopped';
  message?: string;
}

/** Continuous validation of one subtask (DM query-status `validation`). */
export interface ValidationStatus {
  mode: 'fast' | 'full';
  stage: 'Running' | 'Stopped';
  /** Rows read back and found as expected since the validator started. */
  processed: RowCounts;
  /** Rows waiting for their first read, or differing and read again until row-error-delay passes. */
  pending: RowCounts;
  /** Error rows of this source in the meta schema, by status (DM new/ignored/resolved). */
  errors: { new: number; ignored: number; resolved: number };
  /** Why the validator stopped by itself (too many pending rows, the downstream refused its reads). */
  result?: string;
  /** Tables seen so far (capped at 200, stopped ones first). */
  tables: ValidationTableStatus[];
}

export interface TableLoadProgress {
  table: string;
  doneChunks: number;
  totalChunks: number;
  doneRows: number;
  totalRows: number;
}

export interface LoadProgress {
  totalChunks: number;
  doneChunks: number;
  totalRows: number;
  doneRows: number;
  tables: number;
  /** Per upstream table (`schema.table`), unfinished tables first, at most 200 entries. */
  perTable?: TableLoadProgress[];
}

/** What sync applied to one target table since the sync unit started (the figures behind its per-table metrics). */
export interface SyncTableProgress {
  /** Target `schema.table`. */
  table: string;
  rows: number;
  /** Seconds between the upstream time of the last event applied to the table and its commit. */
  lagSeconds: number;
  /** When sync last committed rows of the table. */
  lastAppliedAt: string;
}

export interface SyncProgress {
  /** Upstream head as last seen (SHOW MASTER STATUS). */
  master?: BinlogPosition;
  /** Position whose effects are all committed downstream. */
  synced?: BinlogPosition;
  /** Seconds between the last applied event's upstream timestamp and now (0 when idle and caught up). */
  lagSeconds: number;
  rowsPerSecond: number;
  totalRows: number;
  totalEvents: number;
  /** true once synced == master and nothing is buffered. */
  caughtUp: boolean;
  safeMode: boolean;
  /** Target tables sync applied rows to, the most recently applied first, at most 30 (SYNC_TABLES_LISTED). */
  perTable?: SyncTableProgress[];
}

/** dm_status/task.<task>.<source>: written by the agent bound to the source. */
export interface SubtaskStatus {
  task: string;
  source: string;
  agent: string;
  stage: Stage;
  unit: UnitName;
  generation: number;
  load?: LoadProgress;
  sync?: SyncProgress;
  /** Continuous validation (absent: never started for this subtask). */
  validation?: ValidationStatus;
  /** Current error (the one that paused the subtask), if any. */
  error?: ErrorRecord;
  /** Retryable errors recently seen (bounded). */
  recentErrors?: ErrorRecord[];
  updatedAt: string;
}
