import type { ErrorRecord } from '../errors/index.ts';

/**
 * `dmctl check-data` (issue #15) as desired state plus progress, in `dm_checks` (DESIGN.md §3: dmctl writes what
 * should be, agents reconcile and report):
 *
 * 1. dmctl writes `check.<task>` with state `pending` and a new id (or attaches to the one still pending/running).
 * 2. The agent bound to the task's first source (sorted by source-id) watches the bucket, takes the record with a
 *    CAS update to `running` (owner = itself) and runs the check (agent/verify/job.ts).
 * 3. After every chunk it CAS-updates `tables[target]` (the last key compared): a killed agent's successor — the
 *    agent the source is rebound to — sees `running` under an owner that is no longer bound and resumes from
 *    there, at a new consistent point, instead of starting over. A stale revision means somebody else took over:
 *    the runner stops.
 * 4. Fix statements of differing tables go to `fix.<task>.<id>.<n>` (values exact, unbounded by the record's size);
 *    the report (counts, the first differences per table) goes into the record with state `finished`.
 * 5. dmctl polls the record, prints progress, then the report; `--fix-sql DIR` reads the fix keys.
 */

export type CheckState = 'pending' | 'running' | 'finished' | 'failed';

export interface CheckOptions {
  /** Apply the fix statements while sync is held at a consistent point, then compare those tables again. */
  repair: boolean;
  /** Store the fix statements (dmctl --fix-sql DIR writes them to files). */
  fixSql: boolean;
  /** Tables compared at once (one upstream and one downstream snapshot connection each). */
  threads: number;
  /** Rows per chunk (the engine adapts from there). */
  chunkRows: number;
  /** Only these target tables (`schema.table`), all when absent. */
  tables?: string[];
  /** Pause between chunks while a syncing source lags more than this (seconds; 0: never). Default 10. */
  maxLagSeconds?: number;
  /** Pause between chunks while an upstream's Threads_running is above this (0: never). Default 25, as
   * pt-online-schema-change's --max-load. */
  maxThreadsRunning?: number;
}

/** One difference as shown to the user (agent/verify/types.ts Difference). */
export interface CheckDifference {
  key: Record<string, string | null>;
  kind: 'missing' | 'extra' | 'changed';
  columns: { name: string; upstream: string | null; downstream: string | null }[];
}

export interface CheckTableRecord {
  target: string;
  /** Upstream tables compared with it (`source:schema.table`). */
  upstream: string[];
  status?: 'equal' | 'different' | 'not-comparable';
  reason?: string;
  /** Not comparable although the task does not mean it to differ (a column missing downstream, keys collated
   * differently): no proof, so the check fails. */
  unexpected?: boolean;
  /** Key of the last row of the last chunk compared (resume point). */
  lastKey?: (string | null)[];
  done: boolean;
  rows: number;
  /** Differing rows counted by key (after repair: those that remain). */
  differences: number;
  /** Rows repaired (with --repair). */
  repaired?: number;
  /** The first differences (bounded). */
  samples?: CheckDifference[];
}

export interface CheckProgress {
  tablesTotal: number;
  tablesDone: number;
  /** Rows of the tables to compare (estimate from the downstream's statistics). */
  rowsTotal: number;
  rowsDone: number;
  rowsPerSecond: number;
  etaSeconds?: number;
  /** Why the check waits between chunks now (sync lag above --max-lag), absent when it does not. */
  throttled?: string;
}

export interface CheckRecord {
  id: string;
  task: string;
  state: CheckState;
  options: CheckOptions;
  requestedAt: string;
  updatedAt: string;
  owner?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Times the check was resumed by another run (agent killed, rebound). */
  resumed?: number;
  progress?: CheckProgress;
  tables?: Record<string, CheckTableRecord>;
  /** Sum of the tables' differences when finished. */
  differences?: number;
  /** What the user should know about how this check compared (e.g. a paused source compared as it stands). */
  notes?: string[];
  /** Keys under `fix.<task>.<id>.` holding fix statements. */
  fixKeys?: number;
  error?: ErrorRecord;
}

/** A part of the fix statements of one check (`fix.<task>.<id>.<n>`). */
export interface CheckFixRecord {
  target: string;
  sql: string[];
}
