import type { TaskConfig } from '../src/config/types.ts';
import {
  Stage,
  type BinlogOperator,
  type DesiredStage,
  type SubtaskStatus,
  type ValidationDesired,
} from '../src/coord/records.ts';
import { asDmError, type ErrorRecord } from '../src/errors/index.ts';
import type { EventInput } from '../src/events/record.ts';
import { Aborted, type UnitReport } from './unit.ts';
import { SubtaskLog } from './subtask-log.ts';
import type { SyncUnit } from './sync/unit.ts';
import type { AgentMetrics } from '../src/metrics/registry.ts';
import { SubtaskMetrics } from '../src/metrics/subtask-metrics.ts';
import { UpstreamWatch } from './subtask-watch.ts';
import { SubtaskEvents } from './subtask-events.ts';
import { SubtaskUnits, type UnitsInit } from './subtask-units.ts';
import { SubtaskValidation } from './subtask-validation.ts';
import { PausedEdits } from './subtask-edits.ts';

export interface SubtaskInit extends UnitsInit {
  generation: number;
  publish(status: SubtaskStatus): Promise<void>;
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
  readonly status: SubtaskStatus;
  private dirty = false;
  private ops: BinlogOperator[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly units: SubtaskUnits;
  private readonly validation: SubtaskValidation;
  /** This subtask's series (src/metrics/subtask-metrics.ts) and, while sync does not run, the upstream head's watch. */
  private readonly metrics: SubtaskMetrics | undefined;
  private readonly watch: UpstreamWatch | undefined;
  private readonly events: SubtaskEvents;
  private readonly lines: SubtaskLog; // its log lines
  /** binlog-schema update|delete in progress (whilePaused): a resume waits for it. */
  private readonly edits: PausedEdits;

  constructor(private readonly init: SubtaskInit) {
    this.events = new SubtaskEvents(init.coord, init.task.name, init.spec.sourceId, init.task.taskMode);
    this.lines = new SubtaskLog(init.log);
    this.edits = new PausedEdits({ task: init.task.name, source: init.spec.sourceId });
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
        shardHeld: () => self.units.sync?.shardHeld ?? false,
        locks: () => self.units.locks?.all() ?? [],
        readTs: () => self.units.sync?.readTs ?? 0,
      });
      this.metrics = m;
      this.watch = new UpstreamWatch({
        source: init.source,
        synced: () => self.status.sync?.synced,
        idle: (idle) => m.upstreamIdle(idle),
      });
    }
    this.validation = new SubtaskValidation({
      task: init.task,
      spec: init.spec,
      log: init.log,
      status: this.status,
      sync: () => this.units.sync,
      event: (e) => this.events.emit(e),
      changed: () => {
        this.dirty = true;
      },
    });
    this.units = new SubtaskUnits(init, {
      report: (p) => this.report(p),
      event: (e) => this.events.emit(e),
      binlogOp: (position) => this.ops.find((o) => o.position === position),
      unit: (u) => {
        this.lines.unit(u, this.status.unit);
        this.status.unit = u;
        this.dirty = true;
      },
      syncChanged: () => this.validation.reconcile(),
      ...(this.metrics ? { metrics: this.metrics } : {}),
    });
  }

  get generation(): number {
    return this.init.generation;
  }
  get term(): number {
    return this.init.term;
  }
  /** The sync unit while it runs (check-data holds it: agent/sync/hold.ts). */
  get syncUnit(): SyncUnit | undefined {
    return this.units.sync;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.dirty) void this.flushStatus();
    }, 1000);
    this.loop = this.run();
  }

  /** What binlog-schema (schema-op.ts) needs: the configuration and the binding term its checkpoint writes carry. */
  get setup(): Pick<SubtaskInit, 'agent' | 'task' | 'spec' | 'source' | 'term'> {
    return this.init;
  }

  /** Runs `fn` only while the subtask stands paused; a resume waits for it (subtask-edits.ts). */
  whilePaused<T>(fn: () => Promise<T>): Promise<T> {
    return this.edits.run(this.status.stage, fn);
  }

  /** An event of this subtask (dm_events) from outside its units (schema-op.ts). */
  event(e: Omit<EventInput, 'task' | 'source'>): void {
    this.events.emit(e);
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
    this.validation.set(v);
  }

  /** Error rows changed (ignore/resolve/clear-error): the counts in the status are read again. */
  validationErrorsChanged(): void {
    this.validation.errorsChanged();
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
    // A unit announcing itself (the load with its plan, 0 rows done) is published at once, as stage changes are: a
    // load shorter than the 1-s flush would otherwise never show as under way in query-status or the dashboard.
    if (p.unit) void this.flushStatus();
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
      await this.edits.settled();
      if (this.desired !== 'Running') continue;
      this.abort = new AbortController();
      this.setStage(Stage.Running);
      try {
        const finished = await this.units.run(this.abort.signal);
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
          this.units.recheck();
        }
      }
    }
    this.setStage(Stage.Stopped);
  }
}
