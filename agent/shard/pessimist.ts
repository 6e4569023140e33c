import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../src/sql/table-name.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import {
  ackLock,
  joinLock,
  lockReady,
  lockReleased,
  newLock,
  reachLock,
  shardKey,
  type ShardLockRecord,
} from '../../src/shard/lock.ts';
import { comparePos, posKey } from '../../src/binlog/position.ts';
import type { ShardHold } from '../checkpoint-holds.ts';
import { crashPoint } from '../fault.ts';
import type { ShardLocks, SubtaskContext } from '../unit.ts';

/**
 * Pessimistic shard-DDL coordination for one (task, source): DM's sharding lock, without DM's stuck-lock failure
 * modes. Several upstream tables (shards, in one or several sources) route to one target table; a DDL on a shard
 * must run downstream once, after every shard has reached it, while DML of the other shards keeps flowing.
 *
 * Protocol (who writes what; `L` = the lock `dm_locks/<task>.<target-schema>.<target-table>`, `H` = this source's
 * rows in the downstream `<task>_shard_hold`; every L write is a compare-and-set):
 *
 *  0. A shard table X of source S reads DDL D at position p (the sync unit flushed: a barrier). S checks D against
 *     L's open round (a different D is ShardDdlMismatch, while `dmctl binlog replace` can still decide on the event)
 *     and releases its own shards of a finished previous round first (step 5), so that round can be deleted.
 *  1. S writes, in one downstream transaction, its writer checkpoints past p and H(X) = {start p, applied p,
 *     blocked}. From now on X's events are not applied (they stay in the binlog) and S's stream goes on.
 *     Crash after 1: S restarts after p with X blocked; nothing of X after p was applied.
 *  2. S adds X as reached at p to L (creating L with the task's sources if needed; the first to reach sets D and
 *     becomes owner). A blocked hold that L does not count (a crash between 1 and 2, or L's previous round was not
 *     deleted yet) is added at the next tick. L can therefore only count X once H(X) is durable.
 *  3. Every source joins L when it sees it (declares its shard tables of the target); L is ready when every source of
 *     the task joined and every declared shard reached D (or `dmctl shard-ddl-lock unlock` forced it).
 *  4. The owner sets L executing, runs D downstream, sets L done. Crash during 4: the owner sees `executing` again
 *     at restart and re-runs D, accepting "already done" errors (duplicate column, …).
 *  5. Each source seeing L done marks its H rows of the target unblocked (one UPDATE), then acks L; the last ack
 *     deletes L. Crash between the UPDATE and the ack: at restart S acks the lock of every unblocked hold.
 *  6. S rewinds its stream to the lowest start of its unblocked holds, with the schema saved in H, and applies only
 *     the held tables' events after their `applied` (all through writer 0, whose transactions move `applied`); other
 *     tables' events there are skipped by the writer checkpoints. When `applied` reaches the writer checkpoints the
 *     hold is deleted and the table is an ordinary table again (a hold with no more events of its own follows the
 *     stream position: `behind`; one already at the writer checkpoints, e.g. released with the stream at its DDL as
 *     the last event, is deleted by the idle sync loop). A held table reaching its next DDL during the rewind goes back to step 1 for a
 *     new round. A lock released while the stream is still before its holds' start (replaying an earlier round)
 *     rewinds nothing: the stream reaches them in order (moving it forward would skip the earlier round's rows).
 */
export class Pessimist {
  readonly holds = new Map<string, ShardHold>();
  /** Released holds whose events the sync loop must still replay (released outside the loop's own step 5). */
  private pendingReplay: ShardHold | undefined;
  private seenVersion = -1;

  constructor(
    private readonly ctx: SubtaskContext,
    private readonly locks: ShardLocks,
  ) {}

  private get me(): string {
    return this.ctx.spec.sourceId;
  }
  private key(schema: string, table: string): string {
    return `${schema}.${table}`;
  }

  async load(down: Connection): Promise<void> {
    this.holds.clear();
    for (const h of await this.ctx.ckpt.readHolds(down)) this.holds.set(this.key(h.schema, h.table), h);
    // Step 5 recovery: an unblocked hold means this source was releasing its shards of that target when it stopped.
    // Finish the release (every hold the done lock counts) before acking, or the lock could be deleted while one of
    // its shards is still held. The caller rewinds the stream to the released holds (replayStarted).
    const released = new Map<string, TableName>();
    for (const h of this.holds.values())
      if (!h.blocked)
        released.set(JSON.stringify([h.targetSchema, h.targetTable]), { schema: h.targetSchema, table: h.targetTable });
    for (const t of released.values()) {
      const lock = await this.locks.fetch(t);
      if (lock?.stage === 'done') await this.release(down, t, lock);
    }
  }

  /** Where the stream must start: before `minWriter` when a released hold still has events to replay. */
  resumeFrom(
    minWriter: BinlogPosition,
    maxWriter: BinlogPosition,
  ): { start: BinlogPosition; tracker: unknown } | undefined {
    let best: ShardHold | undefined;
    for (const h of this.holds.values()) {
      if (h.blocked || comparePos(h.applied, maxWriter) >= 0) continue;
      if (!best || comparePos(h.start, best.start) < 0) best = h;
    }
    if (!best || comparePos(best.start, minWriter) >= 0) return undefined;
    return { start: best.start, tracker: best.tracker };
  }

  /** What to do with a row change of upstream table schema.table ending at `end`. */
  decide(schema: string, table: string, end: BinlogPosition): 'normal' | 'skip' | 'forced' {
    const h = this.holds.get(this.key(schema, table));
    if (!h) return 'normal';
    // Released but the stream has not been rewound to its start yet: its events come again with the replay.
    if (h.blocked || h.awaitingReplay || comparePos(end, h.applied) <= 0) return 'skip';
    return 'forced';
  }

  /** Statements that move `applied` of every released hold to `end` (never backwards), for writer 0's transaction. */
  appliedSqls(end: BinlogPosition): { sql: string; params: unknown[] }[] {
    return this.replayingBefore(end).map((h) => this.ctx.ckpt.holdAppliedSql(h.schema, h.table, end));
  }

  /** Released holds whose stream has been rewound to them and whose `applied` is before `end`. */
  private replayingBefore(end: BinlogPosition): ShardHold[] {
    return [...this.holds.values()].filter((h) => !h.blocked && !h.awaitingReplay && comparePos(end, h.applied) > 0);
  }

  /** True when a released hold that is replaying has not applied up to `end` yet (a flush to `end` moves it). */
  behind(end: BinlogPosition): boolean {
    return this.replayingBefore(end).length > 0;
  }

  /** Writer 0 committed everything up to `end` (appliedSqls were in its transaction). */
  markApplied(end: BinlogPosition): void {
    for (const h of this.replayingBefore(end)) h.applied = end;
  }

  /** Drops holds that caught up with the writer checkpoints (step 6's end). */
  async afterFlush(down: Connection, maxWriter: BinlogPosition): Promise<void> {
    for (const [k, h] of this.holds) {
      if (h.blocked || h.awaitingReplay || comparePos(h.applied, maxWriter) < 0) continue;
      await this.ctx.ckpt.deleteHold(down, h.schema, h.table);
      this.holds.delete(k);
      this.ctx.log.info(
        { table: k, target: `${h.targetSchema}.${h.targetTable}` },
        'shard table caught up after its DDL lock',
      );
    }
  }

  /** This source's shard tables routed to `target`, from the tracked upstream schema. */
  groupTables(tracker: SchemaTracker, target: TableName): string[] {
    const out: string[] = [];
    for (const t of tracker.tables()) {
      if (!this.ctx.rules.allowTable(t.schema, t.table)) continue;
      const r = this.ctx.rules.route(t.schema, t.table);
      if (r.schema === target.schema && r.table === target.table) out.push(this.key(t.schema, t.table));
    }
    return out;
  }

  /**
   * Before step 1, while the event can still be decided on (`dmctl binlog replace`): a DDL that differs from the one
   * the target's open lock waits on is ShardDdlMismatch. A previous round this source has not released yet (its loop
   * has not seen `done`) is released here, or that round could never be deleted.
   */
  async check(
    down: Connection,
    schema: string,
    table: string,
    target: TableName,
    ddls: string[],
    end: BinlogPosition,
  ): Promise<void> {
    const me = this.key(schema, table);
    for (let wait = 0; ; wait++) {
      const cur = this.locks.get(target) ?? (await this.locks.fetch(target));
      if (!cur) return;
      if (cur.stage === 'done') {
        const first = await this.release(down, target, cur);
        if (first) {
          this.ctx.log.info(
            { target, table: me },
            "released this source's shards of the previous lock round before reaching the next",
          );
          if (!this.pendingReplay || comparePos(first.start, this.pendingReplay.start) < 0) this.pendingReplay = first;
        }
      }
      if (cur.stage === 'waiting') {
        // reachLock is pure: on a copy it only validates (the lock is written in step 1, after the hold).
        reachLock(cur, this.me, me, ddls, posKey(end), new Date().toISOString());
        return;
      }
      // The previous round is not released by every source yet: wait for its deletion (step 5).
      if (this.ctx.signal.aborted)
        throw new DmError('Internal', 'aborted while waiting for the previous shard-DDL round');
      await this.locks.changed(500);
      if (wait % 20 === 19)
        this.ctx.log.warn({ target, stage: cur.stage }, 'waiting for the previous shard-DDL lock round to be released');
    }
  }

  /** The hold of step 2 for table schema.table reaching routed `ddls` at `end`. */
  holdFor(
    schema: string,
    table: string,
    target: TableName,
    ddls: string[],
    end: BinlogPosition,
    trackerAfter: unknown,
  ): ShardHold {
    return {
      schema,
      table,
      targetSchema: target.schema,
      targetTable: target.table,
      start: end,
      applied: end,
      blocked: true,
      ddls,
      tracker: trackerAfter,
    };
  }

  /**
   * Step 1 for a hold that is durable: join and mark the shard reached in the lock (idempotent). Returns false while
   * a previous round of the target is not deleted yet (the next tick tries again).
   */
  async reach(h: ShardHold): Promise<boolean> {
    const now = new Date().toISOString();
    const target = { schema: h.targetSchema, table: h.targetTable };
    const me = this.key(h.schema, h.table);
    const tables = this.groupTables(SchemaTracker.fromJSON(h.tracker), target);
    if (!tables.includes(me)) tables.push(me);
    const sources = this.ctx.task.subtasks.map((s) => s.sourceId);
    const rec = await this.locks.mutate(target, (c) => {
      if (c && c.stage !== 'waiting') return undefined;
      if (this.inLock(h, c)) return undefined;
      const base = joinLock(c ?? newLock(this.ctx.task.name, target, sources, now), this.me, tables, now);
      return reachLock(base, this.me, me, h.ddls, posKey(h.start), now);
    });
    if (!rec || rec.stage !== 'waiting') return false;
    this.ctx.log.info(
      { table: me, target, ddls: h.ddls, position: posKey(h.start) },
      'shard reached DDL; its events wait for the lock',
    );
    return true;
  }

  /** Whether blocked hold `h` is the shard the lock counts as reached (same table, same DDL position). */
  inLock(h: ShardHold, lock: ShardLockRecord | undefined): boolean {
    const st = lock?.shards[shardKey(this.me, this.key(h.schema, h.table))];
    return !!st?.reached && st.position === posKey(h.start);
  }

  /** Step 3 for locks this source has not joined yet. */
  async joinAll(tracker: SchemaTracker): Promise<void> {
    const now = new Date().toISOString();
    for (const rec of this.locks.all()) {
      if (rec.stage !== 'waiting' || rec.joined.includes(this.me) || !rec.sources.includes(this.me)) continue;
      const target = { schema: rec.targetSchema, table: rec.targetTable };
      const tables = this.groupTables(tracker, target);
      await this.locks.mutate(target, (c) =>
        c && c.stage === 'waiting' && !c.joined.includes(this.me) ? joinLock(c, this.me, tables, now) : undefined,
      );
    }
  }

  /**
   * A shard of `target` was renamed within its group (coordinator.ts): an open lock this source joined drops the old
   * name (not reached: a held shard's rename is refused) and waits on the new one, as the tracker after the event lists.
   */
  async redeclare(target: TableName, trackerAfter: unknown): Promise<void> {
    const tables = this.groupTables(SchemaTracker.fromJSON(trackerAfter), target);
    const now = new Date().toISOString();
    await this.locks.mutate(target, (c) =>
      c && c.stage === 'waiting' && c.joined.includes(this.me) ? joinLock(c, this.me, tables, now) : undefined,
    );
  }

  /** The stream was rewound to `from`: released holds starting there or later now replay in stream order. */
  replayStarted(from: BinlogPosition): void {
    for (const h of this.holds.values())
      if (h.awaitingReplay && comparePos(h.start, from) >= 0) delete h.awaitingReplay;
  }

  takePendingReplay(): ShardHold | undefined {
    const r = this.pendingReplay;
    this.pendingReplay = undefined;
    return r;
  }

  /** True when a lock changed since the last call (cheap check for the sync loop). */
  dirty(): boolean {
    if (this.pendingReplay) return true;
    if (this.locks.version === this.seenVersion) return false;
    this.seenVersion = this.locks.version;
    return true;
  }

  /** Targets this source holds blocked shards of, with their lock as last seen and the blocked holds. */
  blockedTargets(): { target: TableName; lock: ShardLockRecord | undefined; holds: ShardHold[] }[] {
    const out = new Map<string, { target: TableName; lock: ShardLockRecord | undefined; holds: ShardHold[] }>();
    for (const h of this.holds.values()) {
      if (!h.blocked) continue;
      const target = { schema: h.targetSchema, table: h.targetTable };
      const k = JSON.stringify([h.targetSchema, h.targetTable]);
      const g = out.get(k) ?? { target, lock: this.locks.get(target), holds: [] };
      g.holds.push(h);
      out.set(k, g);
    }
    return [...out.values()];
  }

  isOwnerReady(lock: ShardLockRecord): boolean {
    return lock.owner === this.me && (lock.stage === 'executing' || (lock.stage === 'waiting' && lockReady(lock)));
  }

  async setStage(target: TableName, stage: 'executing' | 'done'): Promise<void> {
    const now = new Date().toISOString();
    await this.locks.mutate(target, (c) =>
      c && c.stage !== stage && c.stage !== 'done' ? { ...c, stage, updatedAt: now } : undefined,
    );
  }

  /**
   * Step 5: release this source's shards of `target` that `lock` (done) counts as reached (the caller flushed), then
   * ack. A hold of a later round (persisted, not reached yet) stays blocked. Returns the replay start.
   */
  async release(
    down: Connection,
    target: TableName,
    lock: ShardLockRecord | undefined,
  ): Promise<ShardHold | undefined> {
    let first: ShardHold | undefined;
    for (const h of this.holds.values()) {
      if (h.targetSchema !== target.schema || h.targetTable !== target.table || !h.blocked) continue;
      if (lock && !this.inLock(h, lock)) continue;
      await this.ctx.ckpt.releaseHold(down, h.schema, h.table);
      crashPoint('shard-released');
      h.blocked = false;
      h.awaitingReplay = true; // until the stream is rewound to its start (replayStarted)
      if (!first || comparePos(h.start, first.start) < 0) first = h;
    }
    await this.ack(target);
    return first;
  }

  private async ack(target: TableName): Promise<void> {
    const now = new Date().toISOString();
    await this.locks.mutate(target, (c) => {
      if (!c || c.stage !== 'done') return undefined;
      const next = ackLock(c, this.me, now);
      return lockReleased(next) ? null : next === c ? undefined : next;
    });
  }
}
