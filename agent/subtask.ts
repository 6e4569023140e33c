import type { Connection } from 'mysql2/promise';
import type { SourceConfig, SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import {
  Stage,
  type BinlogOperator,
  type DesiredStage,
  type SubtaskStatus,
  type UnitName,
  type ValidationDesired,
} from '../src/coord/records.ts';
import { asDmError, type ErrorRecord } from '../src/errors/index.ts';
import { binlogServerId } from './binlog/zongji-reader.ts';
import { CheckpointStore } from './checkpoint.ts';
import type { Coord } from '../src/coord/index.ts';
import { KvShardLocks } from './shard/locks.ts';
import { connect } from './db/mysql.ts';
import type { Logger } from './log.ts';
import type { RelayFeed } from './relay/reader.ts';
import { buildRules } from './rules.ts';
import { CheckUnit } from './check/check.ts';
import { Aborted, type SubtaskContext, type UnitReport } from './unit.ts';
import { SubtaskLog } from './subtask-log.ts';
import { DumpUnit } from './load/dump.ts';
import { LoadUnit } from './load/load.ts';
import { SyncUnit } from './sync/unit.ts';
import { Validator } from './verify/validator.ts';
import type { AgentMetrics } from '../src/metrics/registry.ts';
import { SubtaskMetrics } from '../src/metrics/subtask-metrics.ts';
import { UpstreamWatch } from './subtask-watch.ts';
import { SubtaskEvents } from './subtask-events.ts';

export interface SubtaskInit {
  agent: string;
  task: TaskConfig;
  spec: SubtaskSpec;
  source: SourceConfig;
  generation: number;
  /** Term of the dm_bounds binding this subtask runs under (fencing: checkpoint.ts claim/checkFence). */
  term: number;
  removeMeta: boolean;
  log: Logger;
  publish(status: SubtaskStatus): Promise<void>;
  /** NATS KV, for shard-DDL locks (shard-mode tasks). */
  coord?: Coord;
  /** The source's relay (enable-relay), read by the sync unit instead of the upstream binlog. */
  relay?: RelayFeed;
  /** The agent's registry when it serves /metrics (--metrics-addr). */
  metrics?: AgentMetrics;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Runs one (task, source) pair through its units: check -> dump -> load -> sync (by task-mode), resuming from
 * the checkpoints in the downstream. Desired stage comes from dm_tasks; the runner reports to dm_status.
 * Retryable errors restart the current unit with backoff (visible in status); others pause the subtask with its
 * checkpoint intact until the user resumes it.
 */
export class Subtask {
  private desired: DesiredStage = 'Running';
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private removeMetaPending: boolean;
  private checked = false;
  readonly status: SubtaskStatus;
  private dirty = false;
  private ops: BinlogOperator[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sync: SyncUnit | undefined;
  /** `dmctl validation start|stop` (task record); undefined: the task file's validators decide. */
  private validationWanted: ValidationDesired | undefined;
  private validator: Validator | undefined;
  private validation: Promise<void> = Promise.resolve();
  private locks: KvShardLocks | undefined;
  /** This subtask's series (src/metrics/subtask-metrics.ts) and, while sync does not run, the upstream head's watch. */
  private readonly metrics: SubtaskMetrics | undefined;
  private readonly watch: UpstreamWatch | undefined;
  private readonly events: SubtaskEvents;
  private readonly lines: SubtaskLog; // its log lines

  constructor(private readonly init: SubtaskInit) {
    this.removeMetaPending = init.removeMeta;
    this.events = new SubtaskEvents(init.coord, init.task.name, init.spec.sourceId, init.task.taskMode);
    this.lines = new SubtaskLog(init.log);
    this.status = {
      task: init.task.name,
      source: init.spec.sourceId,
      agent: init.agent,
      stage: Stage.New,
      unit: 'check',
      generation: init.generation,
      updatedAt: new Date().toISOString(),
    };
    if (init.metrics) {
      const self = this;
      const m = new SubtaskMetrics(init.metrics, init.task.name, init.spec.sourceId, {
        get status() {
          return self.status;
        },
        sharded: init.task.shardMode !== '',
        shardHeld: () => self.sync?.shardHeld ?? false,
        locks: () => self.locks?.all() ?? [],
        readTs: () => self.sync?.readTs ?? 0,
      });
      this.metrics = m;
      this.watch = new UpstreamWatch({
        source: init.source,
        synced: () => self.status.sync?.synced,
        idle: (idle) => m.upstreamIdle(idle),
      });
    }
  }

  get generation(): number {
    return this.init.generation;
  }
  get term(): number {
    return this.init.term;
  }
  /** The sync unit while it runs (check-data holds it: agent/sync/hold.ts). */
  get syncUnit(): SyncUnit | undefined {
    return this.sync;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.dirty) void this.flushStatus();
    }, 1000);
    this.loop = this.run();
  }

  /** The task's pending `dmctl binlog` decisions (all sources; this subtask reads its own). */
  setBinlogOps(ops: BinlogOperator[] | undefined): void {
    this.ops = (ops ?? []).filter((o) => o.source === this.init.spec.sourceId);
  }

  /** The task this subtask runs (its downstream holds the validation error rows). */
  get taskConfig(): TaskConfig {
    return this.init.task;
  }

  /** `dmctl validation start|stop` as the task record says (undefined: the task file decides). */
  setValidation(v: ValidationDesired | undefined): void {
    if (JSON.stringify(v) === JSON.stringify(this.validationWanted)) return;
    this.validationWanted = v;
    this.reconcileValidation();
  }

  /** Error rows changed (ignore/resolve/clear-error): the counts in the status are read again. */
  validationErrorsChanged(): void {
    void this.validator?.refreshCounts().catch(() => undefined);
  }

  /**
   * Runs the validator while the sync unit runs and validation is wanted (the record's stage, else the task file's
   * mode), one change at a time. A stopped validator leaves its last status with stage Stopped.
   */
  private reconcileValidation(): void {
    this.validation = this.validation
      .then(async () => {
        const file = this.init.spec.validator;
        const want =
          this.validationWanted ??
          (file.mode !== 'none' ? { stage: 'Running' as const, mode: file.mode, updatedAt: '' } : undefined);
        const unit = this.sync;
        const run = unit !== undefined && want?.stage === 'Running';
        const cur = this.validator;
        if (cur && (!run || cur.mode !== want?.mode)) {
          unit?.setAppliedRows(undefined);
          this.validator = undefined;
          await cur.stop();
        }
        if (run && !this.validator && want) {
          const v = new Validator({
            task: this.init.task,
            source: this.init.spec.sourceId,
            mode: want.mode,
            cfg: file,
            log: this.init.log,
            event: (e) => this.events.emit(e),
            report: (s) => {
              this.status.validation = s;
              this.dirty = true;
            },
          });
          this.validator = v;
          unit.setAppliedRows(v);
          await v.start();
        }
        if (!run && this.status.validation && this.status.validation.stage !== 'Stopped') {
          this.status.validation = {
            ...this.status.validation,
            stage: 'Stopped',
            pending: { insert: 0, update: 0, delete: 0 },
          };
          this.dirty = true;
        }
      })
      .catch((err: unknown) => this.init.log.warn({ err: String(err) }, 'continuous validation: start or stop failed'));
  }

  /** Applies a new desired stage; `retry` (a resume-task) also restarts a subtask paused by an error. */
  setDesired(stage: DesiredStage, retry = false, by?: string): void {
    const changed = stage !== this.desired;
    if (changed || retry) this.events.by = by;
    this.desired = stage;
    if (changed || retry) this.lines.desired(stage);
    if (changed && stage !== 'Running') this.abort.abort();
    if (changed || retry) {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    }
  }

  /** Stops at a safe point; `cause` says why in its log line, `user` when stop-task asked (an event naming who). */
  async stop(cause = 'stop-task', user?: { by?: string }): Promise<void> {
    if (user) this.events.stopped(user.by);
    if (this.desired !== 'Stopped') this.lines.stopping(cause);
    this.desired = 'Stopped';
    this.abort.abort();
    const w = this.wake;
    this.wake = undefined;
    w?.();
    await this.loop;
    if (this.timer) clearInterval(this.timer);
    this.watch?.stop();
    this.metrics?.close();
  }

  private setStage(stage: Stage, error?: ErrorRecord): void {
    const from = this.status.stage;
    this.events.stage(from, stage, this.status.unit, error);
    this.status.stage = stage;
    if (stage === Stage.Running || stage === Stage.Stopped) this.watch?.stop();
    else this.watch?.start();
    this.lines.stage(from, stage, this.status.unit, error);
    if (error) this.status.error = error;
    else delete this.status.error;
    this.unitStopped();
    void this.flushStatus();
  }

  /**
   * The unit that reported `sync` is not running (any stage change; an error to retry): its record stays for its
   * positions and totals, but is no longer caught up and moves no rows. Readers derive the same from the stage
   * (src/coord/status-derive.ts); this keeps the raw record from contradicting it.
   */
  private unitStopped(): void {
    this.metrics?.stopped();
    if (this.status.sync) this.status.sync = { ...this.status.sync, caughtUp: false, rowsPerSecond: 0 };
  }

  private report(p: UnitReport): void {
    if (p.unit) this.status.unit = p.unit;
    if (p.load) this.status.load = p.load;
    if (p.sync) {
      this.status.sync = p.sync;
      this.metrics?.syncReport(p.sync);
    }
    if (p.warning) this.status.recentErrors = [p.warning, ...(this.status.recentErrors ?? [])].slice(0, 10);
    this.dirty = true;
  }

  private async flushStatus(): Promise<void> {
    this.dirty = false;
    this.status.updatedAt = new Date().toISOString();
    await this.init
      .publish({ ...this.status })
      .catch((err: unknown) => this.init.log.warn({ err: String(err) }, 'status publish failed'));
  }

  private waitForChange(): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
    });
  }

  private async run(): Promise<void> {
    let backoff = 1000;
    let attempt = 0;
    while (this.desired !== 'Stopped') {
      if (this.desired === 'Paused') {
        this.setStage(Stage.Paused); // a user's pause: the error it may have been retrying is not shown as current
        await this.waitForChange();
        continue;
      }
      this.abort = new AbortController();
      this.setStage(Stage.Running);
      try {
        const finished = await this.runUnits(this.abort.signal);
        if (finished) {
          this.setStage(Stage.Finished);
          await this.waitForChange();
          if (this.desired === 'Running') continue;
        }
        backoff = 1000;
        attempt = 0;
      } catch (err) {
        if (err instanceof Aborted || this.abort.signal.aborted) continue;
        const e = asDmError(err);
        const rec = e.toRecord();
        this.metrics?.unitError(this.status.unit, e.retryable);
        if (e.retryable) {
          this.events.retry(rec, this.status.unit);
          this.lines.retry(this.status.unit, e, ++attempt, backoff);
          this.report({ warning: rec });
          this.status.error = rec;
          this.unitStopped();
          this.watch?.start();
          void this.flushStatus();
          await Promise.race([new Promise((r) => setTimeout(r, backoff)), this.waitForChange()]);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        // Permanent: pause with the checkpoint intact; a resume-task (or a new start-task) retries.
        this.setStage(Stage.Paused, rec);
        await this.waitForChange();
        if (this.desired === 'Running') {
          delete this.status.error;
          this.checked = false;
        }
      }
    }
    this.setStage(Stage.Stopped);
  }

  /** Returns true when the subtask has nothing more to do (task-mode full, load finished). */
  private async runUnits(signal: AbortSignal): Promise<boolean> {
    const { task, spec, source, log } = this.init;
    const ckpt = new CheckpointStore(task.metaSchema, task.name, spec.sourceId, {
      agent: this.init.agent,
      term: this.init.term,
    });
    const ctx: SubtaskContext = {
      task,
      spec,
      source,
      ckpt,
      log,
      signal,
      rules: buildRules(task, spec, (msg, detail) => log.warn(detail, msg)),
      report: (p) => this.report(p),
      event: (e) => this.events.emit(e),
      binlogOp: (position) => this.ops.find((o) => o.position === position),
      serverId: binlogServerId(source.serverId, `${task.name}/${spec.sourceId}`),
      ...(this.metrics ? { metrics: this.metrics } : {}),
      ...(this.init.relay ? { relay: this.init.relay } : {}),
    };
    const unit = (u: UnitName) => {
      this.lines.unit(u, this.status.unit);
      this.status.unit = u;
      this.dirty = true;
    };
    let down: Connection | undefined;
    const locks = task.shardMode && this.init.coord ? new KvShardLocks(this.init.coord, task.name) : undefined;
    if (locks) {
      locks.start();
      ctx.shardLocks = locks;
      this.locks = locks;
    }
    try {
      down = await connect(task.targetDatabase, 'downstream');
      await ckpt.init(down);
      // Ownership first: every checkpoint read below must see the previous owner's last commit (fencing).
      await ckpt.claim(down);
      if (this.removeMetaPending) {
        await ckpt.remove(down);
        this.removeMetaPending = false;
      }
      if (!this.checked) {
        unit('check');
        await new CheckUnit(ctx).run();
        this.checked = true;
      }
      let state = await ckpt.readState(down);
      if (task.taskMode !== 'incremental' && (!state || state.phase === 'load')) {
        let snapshot;
        if (!state) {
          unit('dump');
          const d = new DumpUnit(ctx, down);
          await d.run();
          snapshot = d.snapshot;
        }
        unit('load');
        await new LoadUnit(ctx, down, snapshot).run();
        state = await ckpt.readState(down);
      }
      if (task.taskMode === 'full' || state?.phase === 'finished') return true;
      unit('sync');
      this.sync = new SyncUnit(ctx, down);
      this.reconcileValidation();
      try {
        await this.sync.run();
      } finally {
        this.sync = undefined;
        this.reconcileValidation();
        await this.validation;
      }
      return false;
    } finally {
      locks?.stop();
      this.locks = undefined;
      down?.destroy();
    }
  }
}
