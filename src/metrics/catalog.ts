/**
 * Every metric dm-agent exports on `/metrics` (issue #17), as data: the registry (src/metrics/registry.ts), the
 * reference (docs/metrics.md, generated from this table) and the alert rules and dashboard (deploy/) all read it.
 *
 * Names, labels and value encodings follow DM (pingcap/tiflow dm/worker, dm/syncer/metrics, dm/relay, dm/loader,
 * dm/dumpling, dm/syncer/metrics/validator) wherever DM has the metric, so DM's dashboards and alert expressions keep
 * working; `dm: true` marks those. tsdm's own metrics start with `tsdm_`. The differences from DM are listed in
 * docs/metrics.md ("Compatibility with DM"); the main one: one agent may run several relays, so tsdm's `dm_relay_*`
 * carry a `source_id` label that DM's (one relay per worker) do not.
 *
 * Label sets stay bounded: `task`, `source_id`, `worker` (the agent's name), and a target `schema`/`table` only on
 * the per-table series. The process metrics of prom-client's `collectDefaultMetrics` (`process_*`, `nodejs_*`) are
 * exported as well, without a prefix (see DEFAULT_METRICS below).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Histograms only: upper bounds, ascending. */
  readonly buckets?: readonly number[];
  /** The name, labels and encoding are DM's (the `_total` rule for counters does not apply: DM chose the name). */
  readonly dm?: true;
}

/** Prometheus' client_golang ExponentialBuckets(start, factor, count). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(Number(v.toPrecision(12)));
  return out;
}

/** DM's task stage numbers (dm/pb Stage; the help of dm_worker_task_state). */
export const DM_STAGE = {
  InvalidStage: 0,
  New: 1,
  Running: 2,
  Paused: 3,
  Stopped: 4,
  Finished: 5,
} as const;

const TASK = ['task', 'source_id', 'worker'] as const;
const TASK_SOURCE = ['task', 'source_id'] as const;
const TABLE = ['task', 'source_id', 'schema', 'table'] as const;

/** DM's buckets for durations of one statement or transaction (5 µs .. ~84 s). */
const DM_DURATION_BUCKETS = exponentialBuckets(0.000005, 2, 25);
/** Seconds of lag, as DM's replication_lag histogram (0.5 s .. 1024 s). */
const DM_LAG_BUCKETS = exponentialBuckets(0.5, 2, 12);
/** Rows per batch the sync unit commits (its limit is max(batch x writers, 6000) rows or 16 MiB of values, a streamed
 * large txn's parts more). */
const BATCH_ROW_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 6000, 10000, 50000];
/** Wall time of one downstream commit (all writers' shares of a batch), 1 ms .. ~65 s. */
const COMMIT_BUCKETS = exponentialBuckets(0.001, 2, 17);
/** One NATS KV request, 0.25 ms .. ~8 s. */
const KV_BUCKETS = exponentialBuckets(0.00025, 2, 16);

export const METRICS = {
  // --- DM: worker -------------------------------------------------------------------------------------------------
  taskState: {
    name: 'dm_worker_task_state',
    type: 'gauge',
    help: 'state of task, 0 - invalidStage, 1 - New, 2 - Running, 3 - Paused, 4 - Stopped, 5 - Finished',
    labels: TASK,
    dm: true,
  },

  // --- DM: syncer -------------------------------------------------------------------------------------------------
  replicationLagGauge: {
    name: 'dm_syncer_replication_lag_gauge',
    type: 'gauge',
    help: 'replication lag gauge in second between mysql and syncer (grows while the subtask is paused and the upstream moves on)',
    labels: TASK,
    dm: true,
  },
  replicationLag: {
    name: 'dm_syncer_replication_lag',
    type: 'histogram',
    help: 'replication lag histogram in second between mysql and syncer (one sample per committed batch)',
    labels: TASK,
    buckets: DM_LAG_BUCKETS,
    dm: true,
  },
  remainingTime: {
    name: 'dm_syncer_remaining_time',
    type: 'gauge',
    help: 'the remaining time in second to catch up master (0 when caught up; -1 while the lag is not shrinking)',
    labels: TASK,
    dm: true,
  },
  finishedTransactions: {
    name: 'dm_syncer_finished_transaction_total',
    type: 'counter',
    help: 'total number of finished transaction (upstream transactions committed downstream)',
    labels: TASK,
    dm: true,
  },
  syncerBinlogFile: {
    name: 'dm_syncer_binlog_file',
    type: 'gauge',
    help: 'current binlog file index (node="master": the upstream head; node="syncer": committed downstream)',
    labels: ['node', 'task', 'source_id'],
    dm: true,
  },
  syncerBinlogPos: {
    name: 'dm_syncer_binlog_pos',
    type: 'gauge',
    help: 'current binlog pos (node="master": the upstream head; node="syncer": committed downstream)',
    labels: ['node', 'task', 'source_id'],
    dm: true,
  },
  txnDuration: {
    name: 'dm_syncer_txn_duration_time',
    type: 'histogram',
    help: "Bucketed histogram of processing time (s) of a txn (one writer's downstream transaction).",
    labels: TASK,
    buckets: DM_DURATION_BUCKETS,
    dm: true,
  },
  syncerExitWithError: {
    name: 'dm_syncer_exit_with_error_count',
    type: 'counter',
    help: 'counter for syncer exits with error',
    labels: ['task', 'source_id', 'resumable_err'],
    dm: true,
  },
  shardLockResolving: {
    name: 'dm_syncer_shard_lock_resolving',
    type: 'gauge',
    help: 'waiting shard DDL lock to be resolved (1 while the subtask holds tables for a shard DDL lock)',
    labels: TASK_SOURCE,
    dm: true,
  },

  // --- DM: loader and dumpling ------------------------------------------------------------------------------------
  loaderProgress: {
    name: 'dm_loader_progress',
    type: 'gauge',
    help: 'the processing progress of loader in percentage (rows loaded / rows to load)',
    labels: TASK_SOURCE,
    dm: true,
  },
  loaderTables: {
    name: 'dm_loader_table_gauge',
    type: 'gauge',
    help: 'tables in total',
    labels: TASK_SOURCE,
    dm: true,
  },
  loaderExitWithError: {
    name: 'dm_loader_exit_with_error_count',
    type: 'counter',
    help: 'counter for loader exits with error',
    labels: TASK_SOURCE,
    dm: true,
  },
  dumplingExitWithError: {
    name: 'dm_dumpling_exit_with_error_count',
    type: 'counter',
    help: 'counter for dumpling exit with error',
    labels: TASK_SOURCE,
    dm: true,
  },

  // --- DM: relay (plus source_id: one agent may run several relays) -----------------------------------------------
  relayBinlogFile: {
    name: 'dm_relay_binlog_file',
    type: 'gauge',
    help: 'current binlog file index (node="master": the upstream head; node="relay": stored in the relay)',
    labels: ['node', 'source_id'],
    dm: true,
  },
  relayBinlogPos: {
    name: 'dm_relay_binlog_pos',
    type: 'gauge',
    help: 'current binlog pos in current binlog file (node="master" or "relay")',
    labels: ['node', 'source_id'],
    dm: true,
  },
  relaySpace: {
    name: 'dm_relay_space',
    type: 'gauge',
    help: 'the space of storage for relay component (type="capacity" or "available", bytes of its file system)',
    labels: ['type', 'source_id'],
    dm: true,
  },
  relayExitWithError: {
    name: 'dm_relay_exit_with_error_count',
    type: 'counter',
    help: 'counter of relay unit exits with error',
    labels: ['resumable_err', 'source_id'],
    dm: true,
  },

  // --- DM: validator ----------------------------------------------------------------------------------------------
  validatorErrors: {
    name: 'dm_validator_validator_error_count',
    type: 'gauge',
    help: 'total number of validator errors (error rows not ignored or resolved)',
    labels: TASK_SOURCE,
    dm: true,
  },

  // --- tsdm: sync -------------------------------------------------------------------------------------------------
  rowsApplied: {
    name: 'tsdm_sync_rows_applied_total',
    type: 'counter',
    help: 'Row changes sync committed downstream, per target table.',
    labels: TABLE,
  },
  tableLag: {
    name: 'tsdm_sync_table_lag_seconds',
    type: 'gauge',
    help: "Lag of the last batch that changed the target table, at its commit: now minus the upstream time of the batch's last event.",
    labels: TABLE,
  },
  readLag: {
    name: 'tsdm_sync_read_lag_seconds',
    type: 'gauge',
    help: 'Now minus the upstream time of the last event the sync unit read (0 when caught up; grows while paused and the upstream moves on).',
    labels: TASK_SOURCE,
  },
  applyLag: {
    name: 'tsdm_sync_apply_lag_seconds',
    type: 'gauge',
    help: 'Now minus the upstream time of the last event committed downstream (0 when caught up; grows while paused and the upstream moves on).',
    labels: TASK_SOURCE,
  },
  batchRows: {
    name: 'tsdm_sync_batch_rows',
    type: 'histogram',
    help: 'Row changes per batch the sync unit committed.',
    labels: TASK_SOURCE,
    buckets: BATCH_ROW_BUCKETS,
  },
  commitSeconds: {
    name: 'tsdm_sync_commit_seconds',
    type: 'histogram',
    help: "Wall time to commit one batch downstream (every writer's share and checkpoint).",
    labels: TASK_SOURCE,
    buckets: COMMIT_BUCKETS,
  },
  checkpointAge: {
    name: 'tsdm_sync_checkpoint_age_seconds',
    type: 'gauge',
    help: 'Seconds since the sync checkpoint was last committed downstream, 0 while caught up (grows while paused, stopped or stuck behind).',
    labels: TASK_SOURCE,
  },

  // --- tsdm: load -------------------------------------------------------------------------------------------------
  loadRowsDone: {
    name: 'tsdm_load_rows_loaded',
    type: 'gauge',
    help: 'Rows the load unit has written downstream (the full import of the subtask).',
    labels: TASK_SOURCE,
  },
  loadRowsExpected: {
    name: 'tsdm_load_rows_expected',
    type: 'gauge',
    help: 'Rows the load unit plans to write (from the dump).',
    labels: TASK_SOURCE,
  },

  // --- tsdm: relay ------------------------------------------------------------------------------------------------
  relaySize: {
    name: 'tsdm_relay_size_bytes',
    type: 'gauge',
    help: "Size of the relay log's file on disk.",
    labels: ['source_id'],
  },
  relayReusable: {
    name: 'tsdm_relay_reusable_bytes',
    type: 'gauge',
    help: "Bytes of the relay log's file freed by purges and reused before the file grows.",
    labels: ['source_id'],
  },
  relayLag: {
    name: 'tsdm_relay_lag_seconds',
    type: 'gauge',
    help: 'Now minus the upstream time of the last event stored in the relay (0 at the head).',
    labels: ['source_id'],
  },

  // --- tsdm: cluster and coordination -----------------------------------------------------------------------------
  isLeader: {
    name: 'tsdm_is_leader',
    type: 'gauge',
    help: 'Whether this agent is the cluster leader (1) or not (0).',
    labels: [],
  },
  leaderChanges: {
    name: 'tsdm_leader_changes_total',
    type: 'counter',
    help: 'Times this agent won or lost the leadership.',
    labels: [],
  },
  bindings: {
    name: 'tsdm_bindings',
    type: 'gauge',
    help: 'Sources bound to this agent.',
    labels: [],
  },
  shardLocksPending: {
    name: 'tsdm_shard_locks_pending',
    type: 'gauge',
    help: "Shard DDL locks of the task not yet resolved, as this agent sees them (every agent running one of the task's subtasks reports it: use max by (task)).",
    labels: ['task'],
  },
  shardLockOldestAge: {
    name: 'tsdm_shard_lock_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest unresolved shard DDL lock of the task (0 when none).',
    labels: ['task'],
  },
  kvRoundTrip: {
    name: 'tsdm_nats_kv_roundtrip_seconds',
    type: 'histogram',
    help: 'Round trip of one NATS KV request (op="get", "put", "create", "update", "delete").',
    labels: ['op'],
    buckets: KV_BUCKETS,
  },
  kvAnomalies: {
    name: 'tsdm_nats_kv_anomalies_total',
    type: 'counter',
    help: 'Inconsistencies of the NATS KV store this agent saw (docs/architecture.md "After a NATS outage"), by kind.',
    labels: ['kind'],
  },
  kvRepairs: {
    name: 'tsdm_nats_kv_repairs_total',
    type: 'counter',
    help: 'KV buckets this agent repaired (purged and rewrote).',
    labels: [],
  },
  natsConnected: {
    name: 'tsdm_nats_connected',
    type: 'gauge',
    help: 'Whether the NATS connection is up (1) or not (0).',
    labels: [],
  },
  memberRenewAge: {
    name: 'tsdm_member_renew_age_seconds',
    type: 'gauge',
    help: "Seconds since this agent's member key was last renewed (/readyz fails past the lease).",
    labels: [],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Process metrics from prom-client's collectDefaultMetrics (documented, not declared above). */
export const DEFAULT_METRICS: readonly { name: string; help: string }[] = [
  { name: 'process_cpu_seconds_total', help: 'CPU time of the process (user + system).' },
  { name: 'process_resident_memory_bytes', help: 'Resident set size.' },
  { name: 'process_start_time_seconds', help: 'Start time of the process (Unix seconds).' },
  { name: 'process_open_fds', help: 'Open file descriptors.' },
  { name: 'nodejs_eventloop_lag_seconds', help: 'Event-loop lag (also its _p50, _p90, _p99, _max).' },
  { name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use.' },
  { name: 'nodejs_gc_duration_seconds', help: 'Garbage collection pauses (histogram, by kind).' },
];
