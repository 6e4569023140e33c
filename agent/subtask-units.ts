import type { Connection } from 'mysql2/promise';
import { withSourceRules } from '../src/config/task-instance.ts';
import type { SourceConfig, SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import type { BinlogPosition } from '../src/binlog/position.ts';
import type { Coord } from '../src/coord/index.ts';
import type { BinlogOperator, UnitName } from '../src/coord/records.ts';
import type { EventInput } from '../src/events/record.ts';
import type { SubtaskMetrics } from '../src/metrics/subtask-metrics.ts';
import { binlogServerId } from './binlog/zongji-reader.ts';
import { CheckUnit } from './check/check.ts';
import { CheckpointStore } from './checkpoint.ts';
import { connect } from './db/mysql.ts';
import { DumpUnit } from './load/dump.ts';
import { LoadUnit } from './load/load.ts';
import type { Logger } from './log.ts';
import type { RelayFeed } from './relay/reader.ts';
import { buildRules } from './rules.ts';
import { KvShardLocks } from './shard/locks.ts';
import { SyncUnit } from './sync/unit.ts';
import type { SubtaskContext, UnitReport } from './unit.ts';

/** What the units of one (task, source) pair run with (the part of SubtaskInit they read). */
export interface UnitsInit {
  agent: string;
  task: TaskConfig;
  spec: SubtaskSpec;
  source: SourceConfig;
  /** Term of the dm_bounds binding this subtask runs under (fencing: checkpoint.ts claim/checkFence). */
  term: number;
  /**
   * The `start-task --remove-meta` request of this source (TaskRecord.removeMeta, RemoveMetaRequest.id): carried out
   * once, the first time a subtask of the source finds it not recorded in the downstream.
   */
  removeMeta?: string;
  /** Bumped by every start-task (TaskRecord.generation). */
  generation: number;
  /** start-task --start-time of this source (TaskRecord.startTime). */
  startTime?: string;
  /** When that --start-time was asked for (TaskRecord.startTimeAt): part of the request's id. */
  startTimeAt?: string;
  /** Incremental without meta: the upstream's position at start-task (TaskRecord.startPosition). */
  startPosition?: BinlogPosition;
  log: Logger;
  /** NATS KV, for shard-DDL locks (shard-mode tasks). */
  coord?: Coord;
  /** The source's relay (enable-relay), read by the sync unit instead of the upstream binlog. */
  relay?: RelayFeed;
}

/** What the units tell their subtask, and what they read of it. */
export interface UnitsHost {
  report(p: UnitReport): void;
  event(e: Omit<EventInput, 'task' | 'source'>): void;
  /** The pending `dmctl binlog` decision for the event ending at `position`, if any. */
  binlogOp(position: string): BinlogOperator | undefined;
  /** A unit begins (its status and log line). */
  unit(u: UnitName): void;
  /** The sync unit started or ended: continuous validation follows it. Resolves when it has. */
  syncChanged(): Promise<void>;
  metrics?: SubtaskMetrics;
}

/**
 * The units of one (task, source) pair, in order: check -> dump -> load -> sync (by task-mode), resuming from the
 * checkpoints in the downstream. One pass per call of run(); the subtask (subtask.ts) retries and pauses.
 */
export class SubtaskUnits {
  /** A remove-meta request not yet found carried out (checked on each run until it is). */
  private removeMetaPending: string | undefined;
  private checked = false;
  private syncUnit: SyncUnit | undefined;
  private shardLocks: KvShardLocks | undefined;

  constructor(
    private readonly init: UnitsInit,
    private readonly host: UnitsHost,
  ) {
    this.removeMetaPending = init.removeMeta;
  }

  /** The sync unit while it runs. */
  get sync(): SyncUnit | undefined {
    return this.syncUnit;
  }
  /** The task's shard-DDL locks while the units run (shard-mode tasks). */
  get locks(): KvShardLocks | undefined {
    return this.shardLocks;
  }

  /** The next run() checks again (a resume after a permanent error: the user may have fixed the upstream). */
  recheck(): void {
    this.checked = false;
  }

  /** Returns true when the subtask has nothing more to do (task-mode full, load finished). */
  async run(signal: AbortSignal): Promise<boolean> {
    const { task, spec, source, log } = this.init;
    const { host } = this;
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
      rules: buildRules(
        task,
        withSourceRules(spec, source, task.caseSensitive, (r) =>
          log.warn(
            { rule: r.name, schemaPattern: r.schemaPattern, tablePattern: r.tablePattern },
            "source filter rule left out: the task's rule on the same schema and table patterns takes its place",
          ),
        ),
        (msg, detail) => log.warn(detail, msg),
      ),
      report: (p) => host.report(p),
      event: (e) => host.event(e),
      binlogOp: (position) => host.binlogOp(position),
      serverId: binlogServerId(source.serverId, `${task.name}/${spec.sourceId}`),
      ...(this.init.startTime
        ? {
            startTime: {
              time: this.init.startTime,
              request: `g${this.init.generation} ${this.init.startTime}${this.init.startTimeAt ? ` @${this.init.startTimeAt}` : ''}`,
            },
          }
        : {}),
      ...(host.metrics ? { metrics: host.metrics } : {}),
      ...(this.init.startPosition ? { startPosition: this.init.startPosition } : {}),
      ...(this.init.relay ? { relay: this.init.relay } : {}),
    };
    let down: Connection | undefined;
    const locks = task.shardMode && this.init.coord ? new KvShardLocks(this.init.coord, task.name) : undefined;
    if (locks) {
      locks.start();
      ctx.shardLocks = locks;
      this.shardLocks = locks;
    }
    try {
      down = await connect(task.targetDatabase, 'downstream');
      await ckpt.init(down);
      // Ownership first: every checkpoint read below must see the previous owner's last commit (fencing).
      await ckpt.claim(down);
      if (this.removeMetaPending) {
        // After the claim: a stale owner cannot remove checkpoints the new one writes (removeOnce is fenced too).
        if (await ckpt.removeOnce(down, this.removeMetaPending))
          log.info({ request: this.removeMetaPending }, 'remove-meta: checkpoints removed, the migration starts over');
        this.removeMetaPending = undefined;
      }
      if (!this.checked) {
        host.unit('check');
        await new CheckUnit(ctx).run();
        this.checked = true;
      }
      let state = await ckpt.readState(down);
      if (task.taskMode !== 'incremental' && (!state || state.phase === 'load')) {
        let snapshot;
        if (!state) {
          host.unit('dump');
          const d = new DumpUnit(ctx, down);
          await d.run();
          snapshot = d.snapshot;
        }
        host.unit('load');
        await new LoadUnit(ctx, down, snapshot).run();
        state = await ckpt.readState(down);
      }
      if (task.taskMode === 'full' || state?.phase === 'finished') return true;
      host.unit('sync');
      this.syncUnit = new SyncUnit(ctx, down);
      void host.syncChanged();
      try {
        await this.syncUnit.run();
      } finally {
        this.syncUnit = undefined;
        await host.syncChanged();
      }
      return false;
    } finally {
      locks?.stop();
      this.shardLocks = undefined;
      down?.destroy();
    }
  }
}
