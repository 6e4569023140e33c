import type { BinlogPosition } from '../binlog/position.ts';
import type { ErrorRecord } from '../errors/index.ts';
import type { DesiredStage } from './records.ts';

/** Request/reply operations (DESIGN.md §3: one-off operations go over `dm.op.>` with a timeout). */
export const Op = {
  checkSource: 'check-source',
  checkTask: 'check-task',
  /** `dmctl plan`: routes, rules, keys and the DDL a task would run, read-only (agent/plan/plan-task.ts). */
  planTask: 'plan-task',
  /** Served by the agent the source is bound to (Subjects.agentOp). */
  purgeRelay: 'purge-relay',
  /** Holds or releases a subtask's sync at a position (check-data's consistent point: agent/sync/hold.ts). */
  syncHold: 'sync-hold',
  /** Continuous validation's error rows (show-error, ignore-error, resolve-error, clear-error), served by the agent
   * a source of the task is bound to: agent/verify/validator-op.ts. */
  validationError: 'validation-error',
  /** `dmctl binlog-schema list|update|delete`: a table's tracked schema, served by the agent the source is bound to
   * (agent/schema-op.ts). */
  binlogSchema: 'binlog-schema',
  /** Leader ops (sent to `<cluster>.op.agent.<leader>.<op>`; a follower answers NoLeader). */
  transferSource: 'transfer-source',
  offlineMember: 'offline-member',
  /** Per-agent ops (sent to the agent named). */
  evictLeader: 'evict-leader',
  cancelEvict: 'cancel-evict',
} as const;

export interface PurgeRelayRequest {
  source: string;
  filename?: string;
}
export interface PurgeRelayResult {
  source: string;
  purged: number;
  firstSeq: number;
  lastSeq: number;
  size: { fileBytes: number; usedBytes: number; reusableBytes: number; records: number };
}

/**
 * `sync-hold`, sent to the agent the source is bound to. `hold`: stop the (task, source) sync with the downstream
 * reflecting exactly the upstream events ending at or before the returned position (without `until`: where it has
 * read to; with `until`: it applies up to `until` and stops there). A hold ends by itself `ttlMs` after it was reached
 * (default 30 s) or renewed by another `hold` of the same `holdId`; one `holdId` at a time per subtask.
 */
export interface SyncHoldRequest {
  task: string;
  source: string;
  action: 'hold' | 'release';
  holdId: string;
  until?: BinlogPosition;
  ttlMs?: number;
}
/** `position`: where sync is held (hold), or was last held (release; absent when the hold was gone already).
 * `heldMs`: how long sync stood still under this hold in total (release). */
export interface SyncHoldResult {
  position?: BinlogPosition;
  heldMs?: number;
}

/**
 * `binlog-schema list|update|delete` of one (task, source, upstream table), as DM's operate-schema: the schema the
 * subtask's tracker holds for the table at its checkpoint. update and delete need the subtask paused; update takes the
 * table from `sql` (one CREATE TABLE), or from the upstream's current table (`from: 'source'`) or the table it is
 * routed to downstream (`from: 'target'`).
 */
export interface BinlogSchemaRequest {
  task: string;
  source: string;
  action: 'list' | 'update' | 'delete';
  database: string;
  table: string;
  sql?: string;
  from?: 'source' | 'target';
  /** update in shard-mode optimistic: the table's shard-DDL lock records the new structure as this shard's (DM --sync). */
  sync?: boolean;
  /** `user@host` of the dmctl (named in the binlog.schema event). */
  by?: string;
}

export interface BinlogSchemaResult {
  source: string;
  /** list and update: the table's CREATE TABLE as the tracker now holds it. */
  schema?: string;
  /** update --sync: the shard-DDL lock that took the new structure (`<target-schema>.<target-table>`). */
  syncedLock?: string;
}

/** `validation show-error|ignore-error|resolve-error|clear-error` of a task (its error rows, every source). */
export interface ValidationErrorOpRequest {
  task: string;
  /** The source whose agent is asked (it reads the task's downstream). */
  source: string;
  action: 'show' | 'ignore' | 'resolve' | 'clear';
  /** show: which rows (default unprocessed, as DM). */
  filter?: 'all' | 'unprocessed' | 'ignored' | 'resolved';
  /** ignore/resolve/clear: one error id, or every row when absent (--all). */
  id?: number;
}

/** One error row (DM show-error's fields). Values as text, binary as 0x hex. */
export interface ValidationErrorRow {
  id: number;
  task: string;
  source: string;
  srcTable: string;
  dstTable: string;
  key: Record<string, string | null>;
  /** Expected rows not exist | Expected rows are deleted | Column data not matched. */
  errorType: string;
  /** What sync wrote (null: the row must not exist). */
  srcData: Record<string, string | null> | null;
  /** What the downstream holds (null: no row). */
  dstData: Record<string, string | null> | null;
  status: 'NewErr' | 'IgnoredErr' | 'ResolvedErr';
  time: string;
}

export interface ValidationErrorOpResult {
  errors?: ValidationErrorRow[];
  /** ignore/resolve/clear: rows changed. */
  affected?: number;
}

export interface TransferSourceRequest {
  source: string;
  agent: string;
}
export interface OfflineMemberRequest {
  name: string;
}
export interface OfflineMemberResult {
  name: string;
  rebound: string[];
}
export interface EvictResult {
  name: string;
  evicted: boolean;
  wasLeader: boolean;
}

export interface CheckSourceRequest {
  yaml: string;
  file: string;
}
export interface CheckTaskRequest {
  yaml: string;
  file: string;
  /** `relayStage`: the source record's (dmctl start/pause/stop-relay), when set. */
  sources: Record<string, { yaml: string; file: string; relayStage?: DesiredStage }>;
  /** start-task/check-task --start-time: each source must have a binlog position for it (instead of meta). */
  startTime?: string;
  /** start-task --remove-meta: the task's checkpoints are removed before it starts (they do not count here). */
  removeMeta?: boolean;
}
/** `warning`: the check passed, with something the user should know (printed as WARN, never blocks). */
export interface CheckItem {
  name: string;
  source?: string;
  ok: boolean;
  error?: ErrorRecord;
  warning?: string;
  /** What a passed check found, for the ok line (e.g. the position of --start-time). */
  detail?: string;
  /**
   * Task-mode incremental without meta or checkpoint: the source's current position when the check ran, which
   * start-task records (TaskRecord.startPosition) so that the task starts there, as DM's start-task does.
   */
  startFrom?: BinlogPosition;
}
export interface CheckResult {
  ok: boolean;
  items: CheckItem[];
}

/** The envelope every op reply has (see Coord.subscribe). */
export interface OpReply<T> {
  ok: boolean;
  result?: T;
  error?: ErrorRecord;
}
