import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { comparePos, posKey } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import type { SchemaTracker } from '../../src/schema/model.ts';
import { shardRename } from '../../src/shard/rename.ts';
import { classifyQuery, renamedTables } from '../../src/sql/ddl.ts';
import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import type { QueryEvent } from '../binlog/events.ts';
import type { ShardHold } from '../checkpoint-holds.ts';
import { query } from '../db/mysql.ts';
import { crashPoint } from '../fault.ts';
import type { SubtaskContext } from '../unit.ts';
import { Optimist } from './optimist.ts';
import { Pessimist } from './pessimist.ts';

/** A checkpoint-table statement to run in the barrier transaction that moves the writers past a DDL. */
export type HoldRow = { sql: string; params: unknown[] };

/**
 * What the sync unit does with a DDL event in shard mode: `normal` = apply it as without shards; `done` = the event
 * needs nothing more (not even the barrier); `hold` = run nothing, and write these rows with the barrier that moves
 * the writers past the event, then call `reached(reach)` once it committed (steps 1 and 2 of pessimist.ts).
 */
export type DdlDecision = 'normal' | 'done' | { hold: HoldRow[]; reach?: ShardHold };

/** Where the stream must start again (released shard tables to replay), with the schema there. */
export interface Replay {
  start: BinlogPosition;
  tracker: unknown;
}

/**
 * What the coordinator needs of the sync unit. Defined here so that shard/ never imports sync/: the sync unit
 * implements it (sync/unit.ts).
 */
export interface SyncHost {
  /** The checkpoint connection (the current one: the unit opens it again when the server closed it). */
  down(): Connection;
  /** The lowest and highest writer checkpoints. */
  writers(): { min: BinlogPosition; max: BinlogPosition };
  /** The upstream schema as of the stream position (owned by the reader). */
  tracker(): SchemaTracker;
  /** End of the last event the loop took from the reader. */
  readPos(): BinlogPosition | undefined;
  /** The downstream statements `sql` of event `ev` becomes (filters, routing, split; sync/ddl.ts), none run. */
  plan(sql: string, ev: QueryEvent): string[];
  /** Runs one coordinated DDL downstream (writer 0); with `again`, "already applied" errors are accepted. */
  exec(sql: string, opts: { again: boolean }): Promise<void>;
}

/**
 * The one seam between the sync unit and shard-DDL coordination (shard-mode pessimistic or optimistic): the sync
 * unit hands over DDL events (`onDdl`), row changes of shard tables (`rowDecision`), its flushes (`appliedSqls`,
 * `markApplied`, `afterFlush`) and its ticks (`tick`); the protocols' steps (pessimist.ts, optimist.ts) run here.
 */
export class ShardCoordinator {
  private readonly pessimist: Pessimist | undefined;
  private readonly optimist: Optimist | undefined;
  /** The schema tracker (JSON) as of the last Query event taken (optimistic shard DDL needs the shard's table before
   * its DDL: the reader's tracker is already past it). */
  private trackerBefore: unknown;
  private lastTick = 0;

  private constructor(
    private readonly ctx: SubtaskContext,
    private readonly host: SyncHost,
  ) {
    const locks = ctx.shardLocks!;
    if (ctx.task.shardMode === 'pessimistic') this.pessimist = new Pessimist(ctx, locks);
    else this.optimist = new Optimist(ctx, locks);
  }

  /** The coordinator of a task in shard mode, or undefined (no shard mode, or no lock store). */
  static create(ctx: SubtaskContext, host: SyncHost): ShardCoordinator | undefined {
    const mode = ctx.task.shardMode;
    if ((mode !== 'pessimistic' && mode !== 'optimistic') || !ctx.shardLocks) return undefined;
    return new ShardCoordinator(ctx, host);
  }

  /** Pessimistic: every shard's CREATE TABLE targets the one merged table, so "table exists" means the first shard
   * created it. */
  get mergesCreateTable(): boolean {
    return this.pessimist !== undefined;
  }

  /** Shard tables held by a lock or replaying after it (not synced, whatever the position says). */
  get held(): number {
    return this.pessimist?.holds.size ?? 0;
  }

  /**
   * At sync start, before the reader: pessimistic = load the holds (finishing an interrupted release, step 5) and say
   * where the stream must start when a released hold still has events to replay; optimistic = add this source's
   * shard structures to the locks (step 1).
   */
  async start(start: BinlogPosition, tracker: SchemaTracker): Promise<Replay | undefined> {
    if (this.optimist) {
      await this.optimist.register(tracker);
      this.trackerBefore = tracker.toJSON();
      return undefined;
    }
    const shard = this.pessimist!;
    await shard.load(this.host.down());
    const { min, max } = this.host.writers();
    const replay = shard.resumeFrom(min, max);
    shard.replayStarted(replay?.start ?? start);
    return replay;
  }

  /** What to do with a row change of upstream table schema.table ending at `end` (pessimist.ts `decide`). */
  rowDecision(schema: string, table: string, end: BinlogPosition): 'normal' | 'skip' | 'forced' {
    return this.pessimist?.decide(schema, table, end) ?? 'normal';
  }

  /** True when a released hold that is replaying has not applied up to `end` yet (a flush to `end` moves it). */
  behind(end: BinlogPosition): boolean {
    return this.pessimist?.behind(end) ?? false;
  }

  /** Statements that move released holds' `applied` to `end`, for writer 0's transaction. */
  appliedSqls(end: BinlogPosition): HoldRow[] {
    return this.pessimist?.appliedSqls(end) ?? [];
  }

  /** Writer 0 committed everything up to `end` (appliedSqls were in its transaction). */
  markApplied(end: BinlogPosition): void {
    this.pessimist?.markApplied(end);
  }

  /** Drops holds that caught up with the writer checkpoints (step 6's end). */
  async afterFlush(maxWriter: BinlogPosition): Promise<void> {
    await this.pessimist?.afterFlush(this.host.down(), maxWriter);
  }

  /** A Query event was taken (whatever became of it). */
  afterQuery(ev: QueryEvent): void {
    if (this.optimist) this.trackerBefore = ev.trackerAfter;
  }

  /** Step 2, after the barrier carrying the hold (step 1) committed: the lock counts the shard as reached. */
  async reached(hold: ShardHold): Promise<void> {
    await this.pessimist!.reach(hold);
    crashPoint('shard-reached');
  }

  /**
   * A DDL on a shard table (the sync unit flushed: a barrier). Returns 'done' when the event needs nothing more,
   * 'normal' for the usual path, or `hold`: run nothing, and write these rows (the hold, steps 1 and 2 of
   * agent/shard/pessimist.ts) with the barrier that moves the writers past the event.
   */
  async onDdl(ev: QueryEvent): Promise<DdlDecision> {
    const { ctx } = this;
    const shard = this.pessimist;
    const info = classifyQuery(ev.sql, ev.schema);
    if (info.kind !== 'ddl') return 'normal';
    const t = info.tables.find((x) => x.table && ctx.rules.allowTable(x.schema, x.table));
    const writers = this.host.writers();
    if (!t) {
      // DM: a shard's DROP DATABASE never reaches the merged target (it would drop every shard's rows).
      const db = info.tables.find((x) => !x.table && ctx.rules.allowSchema(x.schema));
      if (info.eventType === 'drop database' && db && comparePos(ev.end, writers.min) > 0) {
        ctx.log.warn(
          { sql: ev.sql, position: posKey(ev.end) },
          'drop database of a shard schema is not replicated in shard mode',
        );
        return { hold: [] };
      }
      return 'normal';
    }
    const held = shard?.decide(t.schema, t.table, ev.end) ?? 'normal';
    const at = posKey(ev.end);
    const op = ctx.binlogOp(at);
    if (held === 'skip') {
      // Blocked (replayed after its lock) or already handled. A blocked shard's RENAME TABLE cannot wait like its
      // other events: the rows after it carry the new name, which no hold covers, and would reach the merged table
      // before the lock's DDL ran. DM forbids a shard's next DDL before the current one is resolved (shard merge docs).
      const blocked = shard!.holds.get(tableKey(t))?.blocked;
      if (
        blocked &&
        op?.op !== 'skip' &&
        renamedTables(ev.sql, ev.schema).some((p) => tableKey(p.from) === tableKey(t))
      )
        throw new DmError(
          'ShardDdlUnsupported',
          `RENAME TABLE of shard ${tableKey(t)} while it waits on the shard-DDL lock of its target (a shard's next DDL must wait until its current one ran): ${ev.sql.slice(0, 300)}`,
          {
            context: { sql: ev.sql, position: at },
            suggestion: `Let the other shards reach the lock's DDL or resolve it (\`dmctl shard-ddl-lock ${ctx.task.name}\`, \`dmctl shard-ddl-lock unlock LOCK-ID\`), then \`dmctl resume-task ${ctx.task.name}\`.`,
          },
        );
      return 'done';
    }
    if (held === 'normal' && comparePos(ev.end, writers.min) <= 0) return 'done';
    if (op?.op === 'skip') {
      if (this.optimist) await this.optimistSkipped(ev, info.clauseKinds, t);
      return 'normal';
    }
    const type = info.eventType;
    if (
      type === 'create table' ||
      type === 'create database' ||
      type === 'create view' ||
      type === 'drop view' ||
      type === 'alter database'
    )
      return 'normal';
    if (type === 'drop table' || type === 'truncate table' || type === 'drop database') {
      // DM: in shard mode these never reach the merged table (one shard's DROP must not drop every shard's rows).
      ctx.log.warn({ sql: ev.sql, position: at }, `${type} of a shard table is not replicated in shard mode`);
      return held === 'forced' && comparePos(ev.end, writers.max) <= 0 ? 'done' : { hold: [] };
    }
    const stmts = op?.op === 'replace' ? (op.sqls ?? []) : [ev.sql];
    const rename = shardRename(stmts, ev.schema, this.optimist ? 'optimistic' : 'pessimistic', ctx.rules, {
      task: ctx.task.name,
      sql: ev.sql,
      position: at,
    });
    if (rename.kind === 'noop') {
      // Pessimistic, within the shard group: DM's routed `RENAME TABLE target TO target` changes nothing downstream
      // (src/shard/rename.ts). The shard goes on under its new name; an open lock counts it under that name.
      await shard?.redeclare(rename.target, ev.trackerAfter);
      ctx.log.info(
        { sql: ev.sql, position: at, target: rename.target },
        'shard renamed within its shard group: the merged table does not change',
      );
      return { hold: [] };
    }
    const routed: string[] = [];
    for (const sql of stmts) routed.push(...this.host.plan(sql, ev));
    if (routed.length === 0) return 'normal'; // filtered out
    const target = ctx.rules.route(t.schema, t.table);
    if (this.optimist) {
      await this.optimist.ddl(t.schema, t.table, target, routed, ev.end, this.trackerBefore, ev.trackerAfter, (sql) =>
        this.host.exec(sql, { again: true }),
      );
      return { hold: [] };
    }
    if (!shard) return 'normal';
    const down = this.host.down();
    // Validate against the open lock while `dmctl binlog replace` can still decide on this event; then the hold is
    // made durable (step 2) before the lock counts the shard as reached (step 1, after the barrier in sync/ddl.ts applyQuery).
    await shard.check(down, t.schema, t.table, target, routed, ev.end);
    const hold = shard.holdFor(t.schema, t.table, target, routed, ev.end, ev.trackerAfter);
    shard.holds.set(`${tableKey(t)}`, hold);
    if (held === 'forced' && comparePos(ev.end, writers.max) <= 0) {
      // Replaying a released shard that reached its next DDL: the writers are already past it; only the hold moves.
      const h = ctx.ckpt.holdSql(hold);
      await ctx.ckpt.checkFence(down, `hold ${tableKey(t)}`);
      await query(down, 'downstream', h.sql, h.params);
      crashPoint('shard-held');
      await shard.reach(hold);
      crashPoint('shard-reached');
      return 'done';
    }
    return { hold: [ctx.ckpt.holdSql(hold)], reach: hold };
  }

  /**
   * Optimistic: `dmctl binlog skip` of a shard rename tsdm refuses (src/shard/rename.ts). The lock record follows the
   * upstream shard (its new name, its columns after the event), so later joins do not see a shard that no longer exists.
   */
  private async optimistSkipped(ev: QueryEvent, kinds: readonly string[] | undefined, t: TableName): Promise<void> {
    const { rules } = this.ctx;
    const route = (x: TableName) => tableKey(rules.route(x.schema, x.table));
    const pair = renamedTables(ev.sql, ev.schema).find(
      (p) => rules.allowTable(p.from.schema, p.from.table) && rules.allowTable(p.to.schema, p.to.table),
    );
    if (pair && route(pair.from) === route(pair.to)) {
      await this.optimist!.skipped(pair.from, pair.to, rules.route(t.schema, t.table), ev.trackerAfter);
    } else if (!pair && kinds?.some((k) => k === 'rename column' || k === 'rename index')) {
      await this.optimist!.skipped(t, t, rules.route(t.schema, t.table), ev.trackerAfter);
    }
  }

  /**
   * Steps 3–6 of the shard-DDL protocol (agent/shard/pessimist.ts), run from the sync loop when a lock changed (or
   * every 2 s): join new locks, run a ready lock's DDL when this source owns it, release shards whose lock is done.
   * Returns where the stream must be rewound to replay released shards (`flush` already ran), or undefined.
   */
  async tick(flush: () => Promise<void>): Promise<Replay | undefined> {
    const shard = this.pessimist;
    if (!shard || !(shard.dirty() || Date.now() - this.lastTick > 2000)) return undefined;
    this.lastTick = Date.now();
    const { ctx } = this;
    const locks = ctx.shardLocks!;
    await shard.joinAll(this.host.tracker());
    const pending = shard.takePendingReplay();
    let replayFrom: Replay | undefined = pending ? { start: pending.start, tracker: pending.tracker } : undefined;
    for (const { target, lock: seen, holds } of shard.blockedTargets()) {
      let lock = seen ?? (await locks.fetch(target));
      // Step 1 for durable holds the lock does not count yet (a crash between steps 2 and 1, or the previous round of
      // this target was not deleted yet when the DDL was read).
      const missing = holds.filter((h) => !shard.inLock(h, lock));
      if (missing.length > 0 && (!lock || lock.stage === 'waiting')) {
        for (const h of missing) await shard.reach(h);
        lock = await locks.fetch(target);
      }
      if (lock && shard.isOwnerReady(lock) && holds.some((h) => shard.inLock(h, lock))) {
        await flush();
        const again = lock.stage === 'executing';
        await shard.setStage(target, 'executing');
        crashPoint('shard-executing');
        if (lock.resolution !== 'skip') {
          for (const sql of lock.ddls) await this.host.exec(sql, { again });
        }
        crashPoint('shard-executed');
        await shard.setStage(target, 'done');
        crashPoint('shard-done');
        ctx.log.info({ target, ddls: lock.ddls }, 'shard-DDL lock resolved: DDL applied once downstream');
        lock = await locks.fetch(target);
      }
      if (lock && lock.stage === 'done') {
        await flush();
        const first = await shard.release(this.host.down(), target, lock);
        if (first && (!replayFrom || comparePos(first.start, replayFrom.start) < 0))
          replayFrom = { start: first.start, tracker: first.tracker };
      }
    }
    const readPos = this.host.readPos();
    if (replayFrom && readPos && comparePos(replayFrom.start, readPos) >= 0) {
      // The stream has not passed these shards' DDL yet (it is replaying an earlier round): rewinding to it would skip
      // the earlier round's events in between; the stream reaches the new round's events in order anyway.
      ctx.log.info(
        { from: posKey(replayFrom.start), at: posKey(readPos) },
        'released shard tables replay with the stream already behind them',
      );
      shard.replayStarted(replayFrom.start);
      return undefined;
    }
    if (!replayFrom) return undefined;
    await flush();
    ctx.log.info({ from: posKey(replayFrom.start) }, 'replaying released shard tables');
    return replayFrom;
  }

  /** Step 6: the sync unit rewound its stream to `from` (the reader restarted there). */
  replayStarted(from: BinlogPosition): void {
    this.pessimist?.replayStarted(from);
  }
}
