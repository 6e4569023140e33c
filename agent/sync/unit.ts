import type { Connection } from 'mysql2/promise';
import { type BinlogPosition, comparePos, formatPos, maxPos, minPos } from '../../src/binlog/position.ts';
import type { SyncProgress } from '../../src/coord/records.ts';
import { DmError } from '../../src/errors/index.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import type { EventSource } from '../binlog/event-source.ts';
import { BinlogReader } from '../binlog/zongji-reader.ts';
import { masterStatus } from '../db/binlog-status.ts';
import { readUpstreamCollations } from '../db/collations.ts';
import { connect, isClosed } from '../db/mysql.ts';
import { liveTrackedTable } from '../db/tracked.ts';
import { BridgedReader } from '../relay/bridge.ts';
import { ShardCoordinator, type SyncHost } from '../shard/coordinator.ts';
import { Aborted, type SubtaskContext, type Unit } from '../unit.ts';
import type { BinlogEvent } from '../binlog/events.ts';
import { applyBatch, applyOrdered, cascading, openWriters, reopenMeta } from './apply.ts';
import { TxnParts } from './big-txn.ts';
import { applyQuery, execCoordinatedDdl, planDdl } from './ddl.ts';
import { BATCH_FLOOR, Dispatcher } from './dispatcher.ts';
import { routeTxn } from './route.ts';
import { type HoldRequest, SyncHold } from './hold.ts';
import { OnlineDdl } from './online-ddl.ts';
import { inSafeMode, mayCut, recordSafeWindow, startPosition } from './resume.ts';
import { type AppliedRows, SyncState } from './state.ts';

const FLUSH_INTERVAL_MS = 100;
const IDLE_CHECKPOINT_MS = 1000;

/**
 * Sync unit: binlog -> filter -> route -> batch -> N writers, each committing its rows with its own checkpoint.
 * Its parts: where it starts (resume.ts), filtering and routing row changes (route.ts), applying rows (apply.ts),
 * DDL (ddl.ts), shard DDL (agent/shard/coordinator.ts), what they share (state.ts); here the read loop and the report.
 *
 * Invariants (see checkpoint.ts): writer w's checkpoint moves only inside the transaction that applies w's share
 * of the batch ending at that position; the stream resumes at the lowest writer checkpoint; on replay writer w
 * skips transactions ending at or before its own checkpoint. A DDL is a barrier: every writer flushes, the DDL runs
 * alone, then all writers move past it.
 */
export class SyncUnit implements Unit {
  readonly name = 'sync' as const;
  private readonly st: SyncState;
  private ctrl!: Connection;
  private reader!: EventSource;
  private master: BinlogPosition | undefined;
  /** End of the last event the loop took from the reader (the reader's start before the first). */
  private readPos: BinlogPosition | undefined;
  private lockVersion = -1;
  /** check-data's hold (hold.ts): the loop asks it before each event; `kept` is the event a hold keeps in hand, and
   * `idlePos` the idle reader's position past events with nothing to apply (since the reader started). */
  private readonly holds: SyncHold;
  private kept: BinlogEvent | undefined;
  private idlePos: BinlogPosition | undefined;
  /** online-ddl (gh-ost/pt-osc): decides what their DDL becomes, handed over as `binlog` decisions (online-ddl.ts). */
  private readonly online: OnlineDdl | undefined;
  /** A transaction read in parts (syncers.large-txn-rows): streamed in one downstream transaction (big-txn.ts). */
  private readonly parts: TxnParts;

  constructor(ctx: SubtaskContext, down: Connection) {
    this.online = ctx.task.onlineDdl ? new OnlineDdl(ctx, down) : undefined;
    this.st = new SyncState(this.online ? this.online.wrap(ctx) : ctx, down);
    this.holds = new SyncHold(ctx.log);
    this.parts = new TxnParts(this.st);
  }

  /** Holds sync (agent op `sync-hold`, hold.ts): resolves with the position the downstream then reflects exactly. */
  hold(r: HoldRequest): Promise<BinlogPosition> {
    return this.holds.request(r);
  }

  /** True while shard tables are held by a DDL lock or replay after it (dm_syncer_shard_lock_resolving). */
  get shardHeld(): boolean {
    return (this.st.shard?.held ?? 0) > 0;
  }

  /** Upstream time (s) of the last transaction read (tsdm_sync_read_lag_seconds). */
  get readTs(): number {
    return this.st.stats.lastTs;
  }

  /** Continuous validation (agent/verify/validator.ts) is told of every committed row change; undefined: off. */
  setAppliedRows(hook: AppliedRows | undefined): void {
    this.st.appliedRows = hook;
  }

  release(holdId: string): { position?: BinlogPosition; heldMs?: number } {
    return this.holds.release(holdId);
  }

  async run(): Promise<void> {
    const { st } = this;
    const { ctx } = st;
    let start = await startPosition(st);
    st.shard = ShardCoordinator.create(ctx, this.host());
    const replay = await st.shard?.start(start, st.tracker);
    if (replay) {
      start = replay.start;
      st.tracker = SchemaTracker.fromJSON(replay.tracker);
    }
    this.ctrl = await connect(ctx.source.from, 'upstream');
    try {
      if (ctx.task.collationCompatible === 'strict') st.collations = await readUpstreamCollations(this.ctrl);
      await openWriters(st);
      st.synced = minPos(st.writerPos) ?? start;
      this.master = await masterStatus(this.ctrl);
      ctx.log.info(
        {
          start: formatPos(start),
          writers: st.writerCount,
          safeUntil: formatPos(st.safeUntil),
          ...(st.replayTo ? { replayWholeTo: formatPos(st.replayTo) } : {}),
          ...(st.safeUntilMs ? { safeModeSeconds: Math.round((st.safeUntilMs - Date.now()) / 1000) } : {}),
        },
        'sync starting',
      );
      this.startReader(start);
      await this.loop();
    } finally {
      this.holds.close(new DmError('SyncHoldAborted', 'the sync unit stopped (pause, stop or error): its hold ended'));
      await this.reader?.stop().catch(() => undefined);
      for (const w of st.writers) w.destroy();
      st.writers = [];
      st.ownDown?.destroy();
      this.ctrl.destroy();
    }
  }

  /** What the shard coordinator sees of this unit (agent/shard/coordinator.ts SyncHost). */
  private host(): SyncHost {
    const { st } = this;
    return {
      down: () => st.down,
      writers: () => ({ min: minPos(st.writerPos)!, max: maxPos(st.writerPos)! }),
      tracker: () => st.tracker,
      readPos: () => this.readPos,
      plan: (sql, ev) => planDdl(st, sql, ev),
      exec: (sql, opts) => execCoordinatedDdl(st, sql, opts),
    };
  }

  /**
   * Reads the binlog from `start` with `st.tracker` as the schema there (the reader owns it from now on):
   * enable-relay = the source's relay log (one upstream stream shared by its tasks, bridged from the upstream for
   * positions older than the relay), else the upstream binlog. Also used to replay released shard tables.
   */
  private startReader(start: BinlogPosition): void {
    const { ctx } = this.st;
    this.readPos = start;
    this.idlePos = undefined;
    this.kept = undefined;
    const from = {
      start,
      allowTable: (s: string, t: string) => ctx.rules.allowTable(s, t),
      tracker: this.st.tracker,
      live: (s: string, t: string) => liveTrackedTable(this.ctrl, 'upstream', s, t),
      warn: (msg: string, detail: Record<string, unknown>) => ctx.log.warn(detail, msg),
    };
    const direct = (s: BinlogPosition) =>
      new BinlogReader({
        db: ctx.source.from,
        serverId: ctx.serverId,
        ...from,
        start: s,
        // Memory holds a few parts: the queue pauses the binlog connection above 4 parts' rows, resumes below one
        // (with the default 10000, close to the reader's own 50000/10000).
        chunkRows: ctx.spec.sync.largeTxnRows,
        highWater: 4 * ctx.spec.sync.largeTxnRows,
        lowWater: ctx.spec.sync.largeTxnRows,
      });
    this.reader = ctx.relay ? new BridgedReader({ feed: ctx.relay, ...from }, direct) : direct(start);
    this.reader.start();
  }

  private async loop(): Promise<void> {
    const { st } = this;
    const { ctx } = st;
    let batch = new Dispatcher(st.writerCount);
    let batchEnd: BinlogPosition | undefined;
    let batchStarted = 0;
    let lastCkpt = Date.now();
    let lastMaster = 0;
    // Pipelining: at most one batch is being committed (`inflight`) while the loop reads, routes and dispatches the
    // next one. The next batch is applied only after every writer committed this one, so each writer's transactions
    // (rows + checkpoint) still commit in binlog order, one at a time. Every barrier (DDL, cascading change, lock
    // step, refreshed row identity, shard coordination) calls flush(), which waits for it first. A crash (SIGKILL
    // included) with a batch in flight leaves each writer's transaction committed or rolled back with its checkpoint.
    let inflight: Promise<void> | undefined;
    const settle = async (): Promise<void> => {
      const p = inflight;
      inflight = undefined;
      if (p) await p;
    };
    // Shard coordination moves positions and holds around flushes (afterFlush): there every flush completes at once.
    const pipelined = !st.shard;
    const flush = async (wait = true): Promise<void> => {
      await settle();
      if (batchEnd && (!batch.empty || comparePos(batchEnd, st.synced) > 0 || st.shard?.behind(batchEnd))) {
        const p = applyBatch(st, batch, batchEnd);
        if (wait || !pipelined) await p;
        else {
          p.catch(() => undefined); // thrown by the next settle()
          inflight = p;
        }
      }
      batch = new Dispatcher(st.writerCount);
      batchEnd = undefined;
      lastCkpt = Date.now();
    };
    try {
      while (!ctx.signal.aborted) {
        if (isClosed(st.down)) await reopenMeta(st);
        if (Date.now() - lastMaster > 1000) {
          lastMaster = Date.now();
          this.master = await masterStatus(this.ctrl).catch(() => this.master);
          this.report();
          await recordSafeWindow(this.st, this.readPos);
        }
        // Held: nothing moves, shard steps included (a hold is reached only with no shard table held); nor inside a
        // transaction read in parts (steps come between transactions), nor in a batch replayed whole (st.replayTo).
        const still = this.holds.stationary || this.parts.open || st.replayTo;
        const replay = still ? undefined : await st.shard?.tick(flush);
        if (replay) {
          await this.reader.stop().catch(() => undefined);
          st.tracker = SchemaTracker.fromJSON(replay.tracker);
          this.startReader(replay.start);
          st.shard!.replayStarted(replay.start);
        }
        let ev = this.kept;
        this.kept = undefined;
        // An event already queued is taken without a promise (most of them during a catch-up).
        if (!ev && !this.holds.stationary) ev = this.reader.poll?.() ?? (await this.reader.next(FLUSH_INTERVAL_MS));
        // Inside a transaction read in parts nothing may stop: a hold is decided at the next transaction boundary.
        if (this.holds.active && !this.parts.open && (await this.holdStep(ev, flush))) continue;
        if (!ev) {
          // Idle: wait for the batch in flight, so that its failure pauses the task now, not at the next upstream write.
          await settle();
          // Events with nothing to apply (rotate, binlog checkpoints) still move the position we can resume from.
          const sp = this.reader.streamPosition();
          if (sp && (!this.idlePos || comparePos(sp, this.idlePos) > 0)) this.idlePos = sp;
          // A released shard whose replay ran out of its own events moves its `applied` here too (writer 0, flush).
          if (
            sp &&
            (comparePos(sp, st.synced) > 0 || st.shard?.behind(sp)) &&
            (!batchEnd || comparePos(sp, batchEnd) > 0)
          )
            batchEnd = sp;
          if (mayCut(st, batchEnd) && (!batch.empty || (batchEnd && Date.now() - lastCkpt > IDLE_CHECKPOINT_MS)))
            await flush(false);
          // A released hold already at the writers' position (released with the stream at its DDL, the last event; or
          // found so at a restart) has nothing to replay, so no flush would retire it and the source would never report
          // caught up until the next upstream write. Retire it here (afterFlush deletes only such holds).
          if (st.shard?.held) await st.shard.afterFlush(maxPos(st.writerPos)!);
          this.report();
          continue;
        }
        st.stats.totalEvents++;
        if (ev.kind === 'txn-part') {
          // readPos (the end of the event before the transaction) moves only with the event that closes it.
          await this.parts.part(ev, this.readPos!, () => flush());
          continue;
        }
        this.readPos = ev.end;
        if (ev.kind === 'txn' && ev.continued) {
          const whole = await this.parts.close(ev);
          if (!whole) {
            // Streamed and committed with every writer's checkpoint at its end.
            batchEnd = undefined;
            continue;
          }
          ev = whole;
        }
        if (ev.kind === 'txn') {
          // Another source's shard DDL (either shard mode) may have changed a merged table's keys downstream without a
          // DDL event here: the row-identity cache is refreshed, and first the batch is flushed, as before every other
          // refresh (DDL below, a coordinated shard DDL: ddl.ts execCoordinatedDdl). Changes of one row before and after
          // carry two identities, hence unrelated causality keys: in one batch, its insert and its later delete could
          // commit on two writers in either order.
          // (The dispatcher also refuses a transaction whose identity differs from the batch's: the backstop.)
          const locks = ctx.shardLocks?.version;
          if (locks !== undefined && locks !== this.lockVersion) {
            await flush();
            this.lockVersion = locks;
            st.ids.invalidate();
          }
          // Both answer without a promise unless they must read the downstream (a table's keys, its foreign keys).
          let txn = routeTxn(this.st, ev);
          if (txn instanceof Promise) txn = await txn;
          // Reading the downstream's foreign keys uses writer 0's connection: not while it commits a batch.
          if (st.fkStale) await settle();
          let casc = cascading(st, txn);
          if (typeof casc !== 'boolean') casc = await casc;
          if (casc) {
            // A change the downstream must cascade (foreign-keys.ts): a barrier, applied alone in binlog order.
            await flush();
            await applyOrdered(st, txn);
          } else if (txn.changes.length > 0) {
            if (!batch.tryAdd(txn)) {
              await flush(false);
              batch.tryAdd(txn);
            }
            if (batchStarted === 0 || batch.rows === txn.changes.length) batchStarted = Date.now();
          }
          batchEnd = ev.end;
          st.stats.lastTs = ev.timestamp;
          // Flushed when full, when the reader has nothing more buffered (caught up: waiting would only add lag; while
          // a batch commits, the reader's queue fills up again, so under load batches grow by themselves), or after
          // FLUSH_INTERVAL_MS of a continuous stream. Not before the end of a batch being replayed (state.ts replayTo).
          const limit = Math.max(ctx.spec.sync.batch * st.writerCount, BATCH_FLOOR);
          if (
            mayCut(st, batchEnd) &&
            (batch.full(limit) ||
              (!batch.empty && (this.reader.idle || st.cutEach || Date.now() - batchStarted > FLUSH_INTERVAL_MS)))
          )
            await flush(false);
        } else if (ev.kind === 'query') {
          await flush();
          await this.online?.prepare(ev);
          await applyQuery(st, ev);
          st.shard?.afterQuery(ev);
          st.fkStale = true;
          st.ids.invalidate(); // DDL or `binlog replace` may have changed a downstream table's keys
          await this.online?.done(ev);
          // A statement with nothing to run (a held shard's DDL during its replay, say) still moves the position.
          batchEnd = ev.end;
          st.stats.lastTs = ev.timestamp;
        } else {
          batchEnd = ev.end;
        }
      }
      await this.parts.abort();
      await (mayCut(st, batchEnd) ? flush() : settle()).catch(() => undefined);
    } catch (err) {
      await this.parts.abort();
      // A batch in flight commits or fails on its own: wait for it, so that work already committed is not repeated.
      await settle().catch(() => undefined);
      // The status shows what committed before the failure, not the last periodic report.
      this.lastReport = 0;
      this.report();
      throw err;
    }
    throw new Aborted();
  }

  /**
   * check-data's hold (hold.ts), asked before the loop handles `ev` (undefined: an idle step). True when the loop must
   * not handle it now: it is kept in hand, and the loop waited, or flushed every writer and stands held.
   */
  private async holdStep(ev: BinlogEvent | undefined, flush: () => Promise<void>): Promise<boolean> {
    const { st } = this;
    const sp = ev ? undefined : this.reader.streamPosition();
    const taken = this.readPos!;
    const d = this.holds.decide({
      taken,
      streamed: maxPos([taken, ...(this.idlePos ? [this.idlePos] : []), ...(sp ? [sp] : [])])!,
      writersMax: maxPos(st.writerPos)!,
      barrier: (st.shard?.held ?? 0) > 0,
      nextEnd: ev && ev.kind !== 'txn-part' ? ev.end : undefined,
    });
    if (d === 'go') return false;
    this.kept = ev;
    if (d === 'keep') await this.holds.wait(FLUSH_INTERVAL_MS);
    else {
      await flush();
      this.holds.reached(d.stop, taken);
    }
    this.report();
    return true;
  }

  private lastReport = 0;
  private report(): void {
    const { st } = this;
    const now = Date.now();
    if (now - this.lastReport < 500) return;
    this.lastReport = now;
    const secs = (now - st.stats.rateWindowStart) / 1000;
    if (secs >= 2) {
      st.stats.rate = st.stats.rateWindowRows / secs;
      st.stats.rateWindowRows = 0;
      st.stats.rateWindowStart = now;
    }
    // Shard tables held by a DDL lock (or replaying after it) are not synced, whatever the position says.
    const m = this.master;
    const caughtUp =
      this.reader.idle && !this.kept && m !== undefined && comparePos(st.synced, m) >= 0 && !st.shard?.held;
    const sync: SyncProgress = {
      synced: st.synced,
      lagSeconds: caughtUp || !st.stats.lastTs ? 0 : Math.max(0, Math.round(now / 1000 - st.stats.lastTs)),
      rowsPerSecond: Math.round(st.stats.rate),
      totalRows: st.stats.totalRows,
      totalEvents: st.stats.totalEvents,
      caughtUp,
      safeMode: inSafeMode(st),
    };
    if (this.master) sync.master = this.master;
    const perTable = st.tables.list();
    if (perTable.length) sync.perTable = perTable;
    st.ctx.report({ sync });
  }
}
