import type { Counter, Gauge, Histogram } from 'prom-client';
import type { SubtaskStatus, SyncProgress, UnitName } from '../coord/records.ts';
import type { TableName } from '../sql/table-name.ts';
import { DM_STAGE } from './catalog.ts';
import { binlogFileIndex, LagClock } from './lag.ts';
import type { AgentMetrics } from './registry.ts';

/** What the metrics read of a subtask at scrape time (agent/subtask.ts provides it). */
export interface SubtaskProbe {
  readonly status: SubtaskStatus;
  /** Shard mode: the subtask reports dm_syncer_shard_lock_resolving and its task's locks. */
  readonly sharded: boolean;
  /** True while the sync unit holds tables for a shard DDL lock. */
  shardHeld(): boolean;
  /** The task's shard DDL locks as this subtask last saw them (creation times, ISO). */
  locks(): readonly { createdAt: string }[];
  /** Upstream time (s) of the last event the running sync unit read; 0 when it does not run. */
  readTs(): number;
}

/** A row change as the sync unit commits it: only its target table is read here. */
export interface AppliedChange {
  readonly target: TableName;
}

interface TableSeries {
  rows: Counter.Internal;
  lag: Gauge.Internal<string>;
}

/**
 * One subtask's series. The sync unit calls `batch` / `writerTxn` / `readTo` on its hot path: they touch children
 * bound once to this subtask's labels (no label lookup per call; per target table one map lookup per run of rows of
 * the table, never per row). Everything else is read from the subtask's status when Prometheus scrapes (`collect`).
 */
export class SubtaskMetrics {
  readonly lag = new LagClock();
  private readonly labels: { task: string; source_id: string; worker: string };
  private readonly ts: { task: string; source_id: string };
  private readonly finished: Counter.Internal;
  private readonly txn: Histogram.Internal<string>;
  private readonly lagHist: Histogram.Internal<string>;
  private readonly batchRows: Histogram.Internal<string>;
  private readonly commit: Histogram.Internal<string>;
  private readonly byObject = new WeakMap<TableName, TableSeries>();
  private readonly byName = new Map<string, TableSeries>();
  /** Wall time (ms) of the last sync checkpoint commit; 0 = none yet. */
  private checkpointAt = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly all: AgentMetrics,
    task: string,
    source: string,
    private readonly probe: SubtaskProbe,
  ) {
    const { m } = all;
    this.labels = { task, source_id: source, worker: all.worker };
    this.ts = { task, source_id: source };
    this.finished = m.finishedTransactions.labels(this.labels);
    this.txn = m.txnDuration.labels(this.labels);
    this.lagHist = m.replicationLag.labels(this.labels);
    this.batchRows = m.batchRows.labels(this.ts);
    this.commit = m.commitSeconds.labels(this.ts);
    this.unsubscribe = all.onCollect((now) => this.collect(now));
  }

  /**
   * A batch (or a barrier transaction) is committed with its checkpoint: `shares` are its row changes (per writer),
   * `ts` the upstream time (s) of its last event, `seconds` the commit's wall time.
   */
  batch(shares: readonly (readonly AppliedChange[])[], rows: number, txns: number, seconds: number, ts: number): void {
    const now = Date.now();
    this.checkpointAt = now;
    if (ts > 0) this.lag.committed(ts);
    if (rows === 0) return;
    this.finished.inc(txns);
    this.batchRows.observe(rows);
    this.commit.observe(seconds);
    const lag = ts > 0 ? Math.max(0, now / 1000 - ts) : 0;
    if (ts > 0) this.lagHist.observe(lag);
    for (const share of shares) {
      let last: TableName | undefined;
      let n = 0;
      for (const c of share) {
        if (c.target !== last) {
          if (last) this.table(last, n, lag);
          last = c.target;
          n = 0;
        }
        n++;
      }
      if (last) this.table(last, n, lag);
    }
  }

  /**
   * A large upstream transaction streamed in parts (agent/sync/big-txn.ts) is committed: one transaction of `rows`
   * rows, counted per target table, that took `seconds` from its first part; `ts` its upstream time (s).
   */
  tables(perTable: ReadonlyMap<TableName, number>, rows: number, seconds: number, ts: number): void {
    const now = Date.now();
    this.checkpointAt = now;
    if (ts > 0) this.lag.committed(ts);
    if (rows === 0) return;
    this.finished.inc(1);
    this.batchRows.observe(rows);
    this.commit.observe(seconds);
    this.txn.observe(seconds);
    const lag = ts > 0 ? Math.max(0, now / 1000 - ts) : 0;
    if (ts > 0) this.lagHist.observe(lag);
    for (const [t, n] of perTable) this.table(t, n, lag);
  }

  /** One writer's downstream transaction took `seconds` (DM's txn duration). */
  writerTxn(seconds: number): void {
    this.txn.observe(seconds);
  }

  /** The sync unit's progress report. */
  syncReport(s: SyncProgress): void {
    this.lag.state(s.caughtUp, Date.now());
  }

  /** The units stopped (pause, error, stop): lag grows from now on unless the upstream is seen idle. */
  stopped(): void {
    this.lag.stopped();
  }

  /** A look at the upstream while the sync unit does not run: is its head still the synced position? */
  upstreamIdle(idle: boolean): void {
    this.lag.state(idle, Date.now());
  }

  /** A unit failed: DM's exit-with-error counters of the unit. */
  unitError(unit: UnitName, retryable: boolean): void {
    const { m } = this.all;
    if (unit === 'dump') m.dumplingExitWithError.inc(this.ts);
    else if (unit === 'load') m.loaderExitWithError.inc(this.ts);
    else if (unit === 'sync') m.syncerExitWithError.inc({ ...this.ts, resumable_err: String(retryable) });
  }

  /** The subtask is gone from this agent: no more readings (counters stay, as counters do). */
  close(): void {
    this.unsubscribe();
  }

  private table(t: TableName, n: number, lag: number): void {
    let s = this.byObject.get(t);
    if (!s) {
      const key = `${t.schema}\u0000${t.table}`;
      s = this.byName.get(key);
      if (!s) {
        const l = { ...this.ts, schema: t.schema, table: t.table };
        s = { rows: this.all.m.rowsApplied.labels(l), lag: this.all.m.tableLag.labels(l) };
        this.byName.set(key, s);
      }
      this.byObject.set(t, s);
    }
    s.rows.inc(n);
    s.lag.set(lag);
  }

  private collect(now: number): void {
    const { m } = this.all;
    const st = this.probe.status;
    const l = this.labels;
    const ts = this.ts;
    m.taskState.set(l, DM_STAGE[st.stage] ?? DM_STAGE.InvalidStage);
    const sync = st.sync;
    if (sync) {
      this.lag.readTo(this.probe.readTs());
      const apply = this.lag.applyLag(now);
      m.replicationLagGauge.set(l, apply);
      m.applyLag.set(ts, apply);
      m.readLag.set(ts, this.lag.readLag(now));
      m.remainingTime.set(l, this.lag.remainingSeconds(now));
      for (const [node, p] of [
        ['master', sync.master],
        ['syncer', sync.synced],
      ] as const) {
        if (!p) continue;
        m.syncerBinlogFile.set({ node, ...ts }, binlogFileIndex(p.name));
        m.syncerBinlogPos.set({ node, ...ts }, p.pos);
      }
      // Caught up and idle, there is nothing to checkpoint: the age counts only while something is owed.
      if (this.checkpointAt > 0 && sync.caughtUp && st.stage === 'Running') this.checkpointAt = now;
      if (this.checkpointAt > 0) m.checkpointAge.set(ts, Math.max(0, (now - this.checkpointAt) / 1000));
    }
    const load = st.load;
    if (load) {
      m.loaderProgress.set(
        ts,
        load.totalRows > 0 ? (100 * load.doneRows) / load.totalRows : load.doneChunks > 0 ? 100 : 0,
      );
      m.loaderTables.set(ts, load.tables);
      m.loadRowsDone.set(ts, load.doneRows);
      m.loadRowsExpected.set(ts, load.totalRows);
    }
    if (st.validation) m.validatorErrors.set(ts, st.validation.errors.new);
    if (this.probe.sharded) {
      m.shardLockResolving.set(ts, this.probe.shardHeld() ? 1 : 0);
      const locks = this.probe.locks();
      m.shardLocksPending.set({ task: ts.task }, locks.length);
      let oldest = now;
      for (const k of locks) oldest = Math.min(oldest, Date.parse(k.createdAt) || now);
      m.shardLockOldestAge.set({ task: ts.task }, (now - oldest) / 1000);
    }
  }
}
