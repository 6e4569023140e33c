import type { Connection } from 'mysql2/promise';
import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import type { SyncProgress } from '../../src/coord/records.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { DmError, asDmError } from '../../src/errors/index.ts';
import { classifyQuery, rewriteDdl, splitDdl } from '../../src/sql/ddl.ts';
import type { QueryEvent, TxnEvent } from '../binlog/events.ts';
import { comparePos, formatPos, maxPos, minPos, posKey } from '../../src/binlog/position.ts';
import { BinlogReader } from '../binlog/zongji-reader.ts';
import type { EventSource } from '../binlog/event-source.ts';
import { BridgedReader } from '../relay/bridge.ts';
import { classifyMysqlError, connect, isClosed, isConnectionLost, isTransient, query } from '../db/mysql.ts';
import { rowKey } from '../db/schema.ts';
import { liveTrackedTable, snapshotTracker } from '../db/tracked.ts';
import { shiftTimestamp, taskZone, type Zone } from '../db/timezone.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { Dispatcher, type RoutedChange, type Txn } from './dispatcher.ts';
import { Pessimist } from '../shard/pessimist.ts';
import type { ShardHold } from '../checkpoint.ts';
import { Optimist } from '../shard/optimist.ts';
import { crashPoint } from '../fault.ts';
import { writerStatements } from './writer-sql.ts';
import { openDataConnection } from '../db/downstream.ts';
import { masterStatus } from '../db/binlog-status.ts';
import { Aborted, type SubtaskContext, type Unit } from '../unit.ts';
import { extendRouted } from './extend-columns.ts';
import { OnlineDdl } from './online-ddl.ts';
import { filterDdl } from './ddl-filter.ts';
import { CascadeRules, orderedStatements } from './foreign-keys.ts';
import { loadDownstreamTable, RowIdentities } from './row-identity.ts';
import { forStatement, readUpstreamCollations, type UpstreamCollationInfo } from '../db/collations.ts';
import { strictCollations } from '../../src/sql/strict-collation.ts';

const FLUSH_INTERVAL_MS = 100;
/** Downstream errnos that mean "this DDL already took effect": table/db exists or is gone, duplicate column/key,
 * unknown column/key to drop. Accepted only when replaying the DDL that was in flight at a crash. */
const ALREADY_APPLIED = new Set([1007, 1008, 1050, 1051, 1054, 1060, 1061, 1091, 1146]);
const IDLE_CHECKPOINT_MS = 1000;

/**
 * Sync unit: binlog -> filter -> route -> batch -> N writers, each committing its rows with its own checkpoint.
 *
 * Invariants (see checkpoint.ts): writer w's checkpoint moves only inside the transaction that applies w's share
 * of the batch ending at that position; the stream resumes at the lowest writer checkpoint; on replay writer w
 * skips transactions ending at or before its own checkpoint. A DDL is a barrier: every writer flushes, the DDL runs
 * alone, then all writers move past it.
 */
export class SyncUnit implements Unit {
  readonly name = 'sync' as const;
  /** Downstream sessions run in the task's time zone; TIMESTAMP values are moved to it (db/timezone.ts). */
  private readonly zone: Zone;
  /** The upstream schema as of the stream position (owned by the reader once it runs). */
  private tracker!: SchemaTracker;
  private ctrl!: Connection;
  private writers: Connection[] = [];
  private writerPos: BinlogPosition[] = [];
  private writerCount = 1;
  private reader!: EventSource;
  private synced!: BinlogPosition;
  private master: BinlogPosition | undefined;
  private safeUntil: BinlogPosition | undefined;
  /**
   * Tables whose loaded rows already hold their events up to a position, so sync skips those events: keyless tables
   * (one chunk, loaded from one snapshot) and tables a resumed load reloaded whole (agent/load/load-reconcile.ts).
   */
  private readonly loadedAt = new Map<string, BinlogPosition>();
  /** Schemas whose own DDL (CREATE/DROP DATABASE) up to a position belongs to a reloaded table's history. */
  private readonly schemaLoadedAt = new Map<string, BinlogPosition>();
  /** End of the last event the loop took from the reader (the reader's start before the first). */
  private readPos: BinlogPosition | undefined;
  /** Shard-DDL coordination (shard-mode pessimistic). */
  private shard: Pessimist | undefined;
  /** Shard-DDL coordination (shard-mode optimistic). */
  private optimist: Optimist | undefined;
  /** The schema tracker (JSON) as of the last Query event taken (optimistic shard DDL needs the shard's table before
   * its DDL: the reader's tracker is already past it). */
  private trackerBefore: unknown;
  /** Foreign-key rules downstream that cascade (read again after every DDL). */
  private fk = CascadeRules.none;
  private fkStale = true;
  /** Row identity per target table from the downstream's keys (sync/row-identity.ts); dropped after DDL and lock steps,
   * always with the batch flushed first (a row's changes under two identities must not share a batch). */
  private readonly ids: RowIdentities;
  private lockVersion = -1;
  /** collation_compatible: strict — the upstream's collation defaults (read at start, like DM's syncer). */
  private collations: UpstreamCollationInfo | undefined;
  private stats = { totalRows: 0, totalEvents: 0, lastTs: 0, rate: 0, rateWindowRows: 0, rateWindowStart: Date.now() };

  private readonly ctx: SubtaskContext;
  /** online-ddl (gh-ost/pt-osc): decides what their DDL becomes, handed over as `binlog` decisions (sync/online-ddl.ts). */
  private readonly online: OnlineDdl | undefined;

  /** The subtask's checkpoint connection; replaced (and then owned here) when the server closed it. */
  private down: Connection;
  private ownDown: Connection | undefined;

  constructor(ctx: SubtaskContext, down: Connection) {
    this.down = down;
    this.zone = taskZone(ctx.task);
    this.online = ctx.task.onlineDdl ? new OnlineDdl(ctx, down) : undefined;
    this.ctx = this.online ? this.online.wrap(ctx) : ctx;
    this.ids = new RowIdentities((t) => loadDownstreamTable(this.down, t));
  }

  async run(): Promise<void> {
    const { ctx } = this;
    let start = await this.startPosition();
    if (ctx.task.shardMode === 'pessimistic' && ctx.shardLocks) {
      this.shard = new Pessimist(ctx, ctx.shardLocks);
      await this.shard.load(this.down);
      const replay = this.shard.resumeFrom(minPos(this.writerPos)!, maxPos(this.writerPos)!);
      if (replay) {
        start = replay.start;
        this.tracker = SchemaTracker.fromJSON(replay.tracker);
      }
      this.shard.replayStarted(start);
    } else if (ctx.task.shardMode === 'optimistic' && ctx.shardLocks) {
      this.optimist = new Optimist(ctx, ctx.shardLocks);
      await this.optimist.register(this.tracker);
    }
    this.ctrl = await connect(ctx.source.from, 'upstream');
    try {
      if (ctx.task.collationCompatible === 'strict') this.collations = await readUpstreamCollations(this.ctrl);
      for (let i = 0; i < this.writerCount; i++) {
        this.writers.push(await openDataConnection(ctx.task, ctx.ckpt));
      }
      this.synced = minPos(this.writerPos) ?? start;
      this.master = await masterStatus(this.ctrl);
      if (this.optimist) this.trackerBefore = this.tracker.toJSON();
      ctx.log.info(
        { start: formatPos(start), writers: this.writerCount, safeUntil: formatPos(this.safeUntil) },
        'sync starting',
      );
      this.startReader(start);
      await this.loop();
    } finally {
      await this.reader?.stop().catch(() => undefined);
      for (const w of this.writers) w.destroy();
      this.writers = [];
      this.ownDown?.destroy();
      this.ctrl.destroy();
    }
  }

  /**
   * Reads the binlog from `start` with `this.tracker` as the schema there (the reader owns it from now on):
   * enable-relay = the source's relay log (one upstream stream shared by its tasks, bridged from the upstream for
   * positions older than the relay), else the upstream binlog. Also used to replay released shard tables.
   */
  private startReader(start: BinlogPosition): void {
    const { ctx } = this;
    this.readPos = start;
    const from = {
      start,
      allowTable: (s: string, t: string) => ctx.rules.allowTable(s, t),
      tracker: this.tracker,
      live: (s: string, t: string) => liveTrackedTable(this.ctrl, 'upstream', s, t),
      warn: (msg: string, detail: Record<string, unknown>) => ctx.log.warn(detail, msg),
    };
    const direct = (s: BinlogPosition) =>
      new BinlogReader({ db: ctx.source.from, serverId: ctx.serverId, ...from, start: s });
    this.reader = ctx.relay ? new BridgedReader({ feed: ctx.relay, ...from }, direct) : direct(start);
    this.reader.start();
  }

  private async startPosition(): Promise<BinlogPosition> {
    const { ctx } = this;
    const rows = await ctx.ckpt.readWriters(this.down);
    const st = await ctx.ckpt.readState(this.down);
    const saved = await ctx.ckpt.readTracker(this.down);
    let fresh = false;
    if (saved !== undefined) this.tracker = SchemaTracker.fromJSON(saved);
    else {
      // No tracked schema yet (an incremental task's first start): the upstream's structure now is the best start
      // there is; DDL between the meta position and now would need a snapshot taken then (as DM documents).
      const up = await connect(ctx.source.from, 'upstream');
      try {
        this.tracker = await snapshotTracker(up, 'upstream');
      } finally {
        up.destroy();
      }
      fresh = true;
    }
    this.safeUntil = st?.safeUntil;
    const later = (m: Map<string, BinlogPosition>, k: string, p: BinlogPosition) => {
      const cur = m.get(k);
      if (!cur || comparePos(p, cur) > 0) m.set(k, p);
    };
    for (const c of await ctx.ckpt.readChunks(this.down)) {
      if (c.keyColumn === null && c.snapshot) later(this.loadedAt, `${tableKey(c)}`, c.snapshot);
    }
    for (const r of await ctx.ckpt.readReloads(this.down)) {
      if (r.table) later(this.loadedAt, `${tableKey(r)}`, r.at);
      else later(this.schemaLoadedAt, r.schema, r.at);
    }
    this.writerCount = Math.max(1, ctx.spec.sync.writerCount);
    if (rows.length > 0) {
      // Keep the writer count the checkpoints were made with until the writers agree again (after the next
      // barrier), so a replayed change reaches the writer whose checkpoint covers it.
      const stored = rows[0]!.writerCount;
      const allEqual = rows.every((r) => comparePos(r.pos, rows[0]!.pos) === 0);
      if (!allEqual) this.writerCount = stored;
      this.writerPos = Array.from(
        { length: this.writerCount },
        (_, i) => rows.find((r) => r.writer === i)?.pos ?? minPos(rows.map((r) => r.pos))!,
      );
      if ((allEqual && stored !== this.writerCount) || fresh)
        await ctx.ckpt.writeAllWriters(this.down, rows[0]!.pos, this.writerCount, this.tracker.toJSON());
      return minPos(this.writerPos)!;
    }
    let start = st?.syncStart;
    const meta = ctx.spec.meta;
    if (!start && meta && meta.binlogName) {
      start = { name: meta.binlogName, pos: meta.binlogPos || 4 };
      if (meta.binlogGtid) start.gtid = meta.binlogGtid;
    } else if (!start && meta?.binlogGtid) {
      // GTID only: the stream starts after that GTID set; the file and offset come with the first rotate event.
      start = { name: '', pos: 0, gtid: meta.binlogGtid };
    }
    if (!start) start = await this.currentPosition();
    await ctx.ckpt.writeAllWriters(this.down, start, this.writerCount, this.tracker.toJSON());
    this.writerPos = Array.from({ length: this.writerCount }, () => start!);
    return start;
  }

  /**
   * DM (dm/master/server.go generateSubTask): an incremental task with no `meta` and no checkpoint starts from the
   * source's current position (SHOW MASTER STATUS and its GTID set). DM reads it at start-task; tsdm when the sync
   * unit first starts (the position is then the checkpoint: later starts resume from there). A warning says so.
   */
  private async currentPosition(): Promise<BinlogPosition> {
    const { ctx } = this;
    const up = await connect(ctx.source.from, 'upstream');
    let pos: BinlogPosition | undefined;
    try {
      pos = await masterStatus(up);
    } finally {
      up.destroy();
    }
    if (!pos) {
      throw new DmError(
        'UpstreamBinlogDisabled',
        `task ${ctx.task.name} source ${ctx.spec.sourceId} has no meta and no checkpoint, and SHOW MASTER STATUS returned nothing to start from`,
      );
    }
    const at = formatPos(pos);
    const w = new DmError(
      'IncrementalFromCurrent',
      `task ${ctx.task.name} source ${ctx.spec.sourceId}: task-mode incremental without meta starts from the source's current position ${at}; changes before it are not migrated`,
      { context: { task: ctx.task.name, source: ctx.spec.sourceId, position: posKey(pos) } },
    );
    ctx.log.warn({ code: w.code, position: at }, w.message);
    ctx.report({ warning: { ...w.toRecord(), warning: true } });
    return pos;
  }

  private async loop(): Promise<void> {
    const { ctx } = this;
    let batch = new Dispatcher(this.writerCount);
    let batchEnd: BinlogPosition | undefined;
    let batchStarted = 0;
    let lastCkpt = Date.now();
    let lastMaster = 0;
    let lastShard = 0;
    const flush = async (): Promise<void> => {
      if (batchEnd && (!batch.empty || comparePos(batchEnd, this.synced) > 0 || this.shard?.behind(batchEnd)))
        await this.applyBatch(batch, batchEnd);
      batch = new Dispatcher(this.writerCount);
      batchEnd = undefined;
      lastCkpt = Date.now();
    };
    while (!ctx.signal.aborted) {
      await this.reopenMeta();
      if (Date.now() - lastMaster > 1000) {
        lastMaster = Date.now();
        this.master = await masterStatus(this.ctrl).catch(() => this.master);
        this.report();
      }
      if (this.shard && (this.shard.dirty() || Date.now() - lastShard > 2000)) {
        lastShard = Date.now();
        await this.shardTick(flush);
      }
      const ev = await this.reader.next(FLUSH_INTERVAL_MS);
      if (!ev) {
        // Idle: events with nothing to apply (rotate, binlog checkpoints) still move the position we can resume from.
        const sp = this.reader.streamPosition();
        // A released shard whose replay ran out of its own events moves its `applied` here too (writer 0, flush).
        if (
          sp &&
          (comparePos(sp, this.synced) > 0 || this.shard?.behind(sp)) &&
          (!batchEnd || comparePos(sp, batchEnd) > 0)
        )
          batchEnd = sp;
        if (!batch.empty || (batchEnd && Date.now() - lastCkpt > IDLE_CHECKPOINT_MS)) await flush();
        // A released hold already at the writers' position (released with the stream at its DDL, the last event; or
        // found so at a restart) has nothing to replay, so no flush would retire it and the source would never report
        // caught up until the next upstream write. Retire it here (afterFlush deletes only such holds).
        if (this.shard?.holds.size) await this.shard.afterFlush(this.down, maxPos(this.writerPos)!);
        this.report();
        continue;
      }
      this.readPos = ev.end;
      this.stats.totalEvents++;
      if (ev.kind === 'txn') {
        // Another source's shard DDL (either shard mode) may have changed a merged table's keys downstream without a DDL
        // event here: the row-identity cache is refreshed, and first the batch is flushed, as before every other
        // refresh (DDL below, execShardDdl). Changes of one row before and after carry two identities, hence unrelated
        // causality keys: in one batch, its insert and its later delete could commit on two writers in either order.
        // (The dispatcher also refuses a transaction whose identity differs from the batch's: the backstop.)
        const locks = ctx.shardLocks?.version;
        if (locks !== undefined && locks !== this.lockVersion) {
          await flush();
          this.lockVersion = locks;
          this.ids.invalidate();
        }
        const txn = await this.route(ev);
        if (await this.cascading(txn)) {
          // A change the downstream must cascade (foreign-keys.ts): a barrier, applied alone in binlog order.
          await flush();
          await this.applyOrdered(txn);
        } else if (txn.changes.length > 0) {
          if (!batch.tryAdd(txn)) {
            await flush();
            batch.tryAdd(txn);
          }
          if (batchStarted === 0 || batch.rows === txn.changes.length) batchStarted = Date.now();
        }
        batchEnd = ev.end;
        this.stats.lastTs = ev.timestamp;
        const limit = Math.max(ctx.spec.sync.batch * this.writerCount, 2000);
        if (batch.rows >= limit || (!batch.empty && Date.now() - batchStarted > FLUSH_INTERVAL_MS * 2)) await flush();
      } else if (ev.kind === 'query') {
        await flush();
        await this.online?.prepare(ev);
        await this.applyQuery(ev);
        if (this.optimist) this.trackerBefore = ev.trackerAfter;
        this.fkStale = true;
        this.ids.invalidate(); // DDL or `binlog replace` may have changed a downstream table's keys
        await this.online?.done(ev);
        // A statement with nothing to run (a held shard's DDL during its replay, say) still moves the position.
        batchEnd = ev.end;
        this.stats.lastTs = ev.timestamp;
      } else {
        batchEnd = ev.end;
      }
    }
    await flush().catch(() => undefined);
    throw new Aborted();
  }

  /**
   * Writer `w`'s connection, opened again when the server closed it (KILL, wait_timeout, a restart): the new session is
   * prepared and registered like the first (db/downstream.ts). What the closed one had not committed rolled back.
   */
  private async writer(w: number): Promise<Connection> {
    const c = this.writers[w]!;
    if (!isClosed(c)) return c;
    c.destroy();
    const n = await openDataConnection(this.ctx.task, this.ctx.ckpt);
    this.writers[w] = n;
    this.ctx.log.info({ writer: w }, 'downstream connection was closed by the server: opened a new one');
    return n;
  }

  /** The checkpoint connection, opened again when the server closed it (it idles while only rows are applied). */
  private async reopenMeta(): Promise<void> {
    if (!isClosed(this.down)) return;
    const n = await connect(this.ctx.task.targetDatabase, 'downstream');
    try {
      await this.ctx.ckpt.register(n);
    } catch (err) {
      n.destroy();
      throw err;
    }
    if (this.ownDown) this.ownDown.destroy();
    this.down = n;
    this.ownDown = n;
    this.ctx.log.info('checkpoint connection was closed by the server: opened a new one');
  }

  /**
   * After a connection was lost in the middle of a transaction that moves writer `w` to `end`: true when that
   * transaction committed all the same (the connection went after COMMIT reached the server). Its checkpoint row is
   * read on a new connection: it moved only with the transaction's rows, so replaying them is never needed twice.
   */
  private async committedBeforeLoss(w: number, end: BinlogPosition): Promise<boolean> {
    const conn = await this.writer(w);
    const row = (await this.ctx.ckpt.readWriters(conn)).find((r) => r.writer === w);
    return row !== undefined && comparePos(row.pos, end) >= 0;
  }

  /** Filters (event filter per DML type), routes and attaches structure and downstream row identity to a
   * transaction's changes. */
  private async route(ev: TxnEvent): Promise<Txn> {
    const out: RoutedChange[] = [];
    for (const change of ev.changes) {
      const { schema, table } = change;
      const { action, rule } = this.ctx.rules.eventAction(schema, table, change.op);
      if (action === 'Ignore') continue;
      if (action === 'Error') {
        throw new DmError(
          'FilterError',
          `${change.op} on ${schema}.${table} is stopped by filter rule ${rule ?? '?'} (action Error)`,
          { context: { table: `${schema}.${table}`, position: posKey(ev.end) } },
        );
      }
      // Online-DDL shadow/trash tables and expression filters (DM, sync only), before the zone shift below: TIMESTAMP
      // values are still UTC here.
      if (this.ctx.rules.skipRow(change)) continue;
      const loaded = this.loadedAt.get(`${schema}.${table}`);
      if (loaded && comparePos(ev.end, loaded) <= 0) continue;
      // A shard table held by a DDL lock: skipped while blocked, replayed through writer 0 once released.
      const held = this.shard?.decide(schema, table, ev.end) ?? 'normal';
      if (held === 'skip') continue;
      if (this.zone.offsetMinutes !== 0) this.shiftTimestamps(change);
      const rc: RoutedChange = {
        change,
        target: this.ctx.rules.route(schema, table),
        info: change.info,
        key: rowKey(change.info),
        txnEnd: ev.end,
      };
      if (held === 'forced') rc.writer = 0;
      const routed = extendRouted(rc, this.ctx.rules.extendColumns(schema, table));
      const id = this.ids.peek(routed.target, routed.info) ?? (await this.ids.resolve(routed.target, routed.info));
      routed.identity = id;
      routed.key = id.key;
      out.push(routed);
    }
    return { end: ev.end, changes: out };
  }

  /** True when the transaction changes a row whose change the downstream must cascade to child rows (FK rules). */
  private async cascading(txn: Txn): Promise<boolean> {
    if (txn.changes.length === 0 || this.shard || this.optimist) return false;
    if (this.fkStale) {
      this.fkStale = false;
      try {
        this.fk = await CascadeRules.load(await this.writer(0));
      } catch (err) {
        // A downstream without these information_schema views (an old TiDB): no cascade is mirrored, say so once.
        this.fk = CascadeRules.none;
        this.ctx.log.warn(
          { err: String(err) },
          "cannot read the downstream's foreign keys: cascading deletes and updates are applied without their cascade",
        );
      }
    }
    return !this.fk.empty && txn.changes.some((c) => this.fk.cascades(c));
  }

  /**
   * A barrier transaction (the caller flushed): its changes in binlog order on writer 0, cascading statements with
   * foreign_key_checks=1, and every writer's checkpoint moved to its end in the same downstream transaction. A
   * committed barrier moved all writers, so "at or before the lowest writer" means applied.
   */
  private async applyOrdered(txn: Txn): Promise<void> {
    if (comparePos(txn.end, minPos(this.writerPos)!) <= 0) return;
    const stmts = orderedStatements(txn.changes, (c) => this.fk.cascades(c));
    let lost = false;
    for (let attempt = 1; ; attempt++) {
      // A connection lost during the previous attempt: it may have committed (then every writer is at txn.end).
      if (lost && (await this.committedBeforeLoss(0, txn.end))) break;
      const conn = await this.writer(0);
      let checks = false;
      const setChecks = async (on: boolean) => {
        if (on !== checks) {
          await conn.query(`SET SESSION foreign_key_checks = ${on ? 1 : 0}`);
          checks = on;
        }
      };
      try {
        await conn.query('BEGIN');
        for (const s of stmts) {
          await setChecks(s.checks);
          try {
            await conn.query(s.sql);
          } catch (err) {
            throw classifyMysqlError(err, 'downstream', { sql: s.sql });
          }
        }
        await setChecks(false);
        for (let w = 0; w < this.writerCount; w++) {
          const ck = this.ctx.ckpt.writerSql(w, txn.end, this.writerCount);
          await conn.query(ck.sql, ck.params);
        }
        await this.ctx.ckpt.checkFence(conn, `cascade ${posKey(txn.end)}`);
        await conn.query('COMMIT');
        break;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        await conn.query('SET SESSION foreign_key_checks = 0').catch(() => undefined);
        lost = isConnectionLost(err);
        const e = classifyMysqlError(err, 'downstream');
        if (!isTransient(err) || attempt >= 5 || this.ctx.signal.aborted) {
          e.context.position = posKey(txn.end);
          throw e;
        }
        this.ctx.log.warn({ attempt, err: e.message }, 'retrying cascading transaction');
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
    this.writerPos = this.writerPos.map(() => txn.end);
    if (comparePos(txn.end, this.synced) > 0) this.synced = txn.end;
    this.stats.totalRows += txn.changes.length;
    this.stats.rateWindowRows += txn.changes.length;
  }

  private shiftTimestamps(change: TxnEvent['changes'][number]): void {
    for (const col of change.info.columns) {
      if (col.dataType !== 'timestamp') continue;
      for (const img of [change.before, change.after]) {
        const v = img?.[col.name];
        if (img && typeof v === 'string') img[col.name] = shiftTimestamp(v, this.zone.offsetMinutes);
      }
    }
  }

  private async applyBatch(batch: Dispatcher, end: BinlogPosition): Promise<void> {
    await Promise.all(this.writers.map((_, w) => this.applyWriter(w, batch.perWriter[w]!, end)));
    if (comparePos(end, this.synced) > 0) this.synced = end;
    if (this.shard) await this.shard.afterFlush(this.down, maxPos(this.writerPos)!);
    this.stats.totalRows += batch.rows;
    this.stats.rateWindowRows += batch.rows;
  }

  private async applyWriter(w: number, changes: RoutedChange[], end: BinlogPosition): Promise<void> {
    const mine = this.writerPos[w]!;
    // Replay: this writer already committed changes up to its checkpoint; held shard changes (writer set) are not
    // covered by it (their own `applied` position decided that they run).
    const todo = changes.filter((c) => c.writer !== undefined || comparePos(c.txnEnd, mine) > 0);
    const advance = comparePos(end, mine) > 0;
    // Writer 0 also moves released shards' `applied`, even when it has nothing else to do (their replay reached
    // positions it had already committed).
    const holdSqls = w === 0 && this.shard ? this.shard.appliedSqls(end) : [];
    if (!advance && todo.length === 0 && holdSqls.length === 0) return;
    const stmts = writerStatements(todo);
    const ck = this.ctx.ckpt.writerSql(w, end, this.writerCount);
    let lost = false;
    for (let attempt = 1; ; attempt++) {
      // The previous attempt lost its connection: retry from the writer's checkpoint, which says whether it committed.
      if (lost && advance && (await this.committedBeforeLoss(w, end))) {
        this.writerPos[w] = end;
        if (holdSqls.length) this.shard!.markApplied(end);
        return;
      }
      const conn = await this.writer(w);
      try {
        await conn.query('BEGIN');
        for (const s of stmts) {
          try {
            await conn.query(s);
          } catch (err) {
            throw classifyMysqlError(err, 'downstream', { sql: s });
          }
        }
        if (advance) await conn.query(ck.sql, ck.params);
        for (const h of holdSqls) await conn.query(h.sql, h.params);
        await this.ctx.ckpt.checkFence(conn, `writer ${w} ${posKey(end)}`);
        await conn.query('COMMIT');
        if (advance) this.writerPos[w] = end;
        if (holdSqls.length) {
          this.shard!.markApplied(end);
          if (todo.length) crashPoint('shard-replaying');
        }
        return;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        lost = isConnectionLost(err);
        const e = classifyMysqlError(err, 'downstream');
        if (!isTransient(err) || attempt >= 5 || this.ctx.signal.aborted) {
          e.context.position = posKey(end);
          throw e;
        }
        this.ctx.log.warn({ writer: w, attempt, err: e.message }, 'retrying writer transaction');
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  /**
   * DDL and other standalone statements: a barrier (the caller flushed), applied alone, then all writers move past
   * it in one checkpoint transaction. A `dmctl binlog skip|replace` decision for this position takes precedence.
   * Crash between applying the DDL and moving the checkpoint: the DDL is replayed; the pending marker written before
   * it lets the replay accept "already done" errors from the downstream for that one statement.
   */
  private async applyQuery(ev: QueryEvent): Promise<void> {
    const { ctx } = this;
    const at = posKey(ev.end);
    await this.reopenMeta();
    let extra: { sql: string; params: unknown[] }[] = [];
    let held = false;
    let reach: ShardHold | undefined;
    if (this.shard || this.optimist) {
      const r = await this.shardQuery(ev);
      if (r === 'done') return;
      if (r !== 'normal') {
        extra = r.hold;
        held = true;
        reach = r.reach;
      }
    }
    // While a released shard replays, the stream re-reads statements the writers are already past.
    if (comparePos(ev.end, minPos(this.writerPos)!) <= 0) return;
    const op = ctx.binlogOp(at);
    if (held) {
      // A shard DDL: held by its lock (the owner runs it once every shard reached it); nothing runs here.
    } else if (op?.op === 'skip') {
      ctx.log.warn({ sql: ev.sql, position: at }, 'statement skipped by dmctl binlog skip');
    } else {
      const pending = await ctx.ckpt.readDdlPending(this.down);
      const replaying = pending === at;
      for (const sql of op?.op === 'replace' ? (op.sqls ?? []) : [ev.sql])
        await this.applyStatement(sql, ev, replaying);
      if (op)
        ctx.log.warn({ sql: ev.sql, replacedBy: op.sqls, position: at }, 'statement replaced by dmctl binlog replace');
    }
    if (this.shard) extra = [...this.shard.appliedSqls(ev.end), ...extra];
    await ctx.ckpt.writeAllWriters(this.down, ev.end, this.writerCount, ev.trackerAfter, extra);
    if (held) crashPoint('shard-held');
    if (reach) {
      await this.shard!.reach(reach);
      crashPoint('shard-reached');
    }
    this.writerPos = this.writerPos.map(() => ev.end);
    this.shard?.markApplied(ev.end);
    this.synced = ev.end;
  }

  /**
   * Shard mode: a DDL on a shard table. Returns 'done' when the event needs nothing more, 'normal' for the usual
   * path, or `hold`: run nothing, and write these rows (the hold, steps 1 and 2 of agent/shard/pessimist.ts) with the
   * barrier that moves the writers past the event.
   */
  private async shardQuery(
    ev: QueryEvent,
  ): Promise<'done' | 'normal' | { hold: { sql: string; params: unknown[] }[]; reach?: ShardHold }> {
    const { ctx } = this;
    const shard = this.shard;
    const info = classifyQuery(ev.sql, ev.schema);
    if (info.kind !== 'ddl') return 'normal';
    const t = info.tables.find((x) => x.table && ctx.rules.allowTable(x.schema, x.table));
    if (!t) {
      // DM: a shard's DROP DATABASE never reaches the merged target (it would drop every shard's rows).
      const db = info.tables.find((x) => !x.table && ctx.rules.allowSchema(x.schema));
      if (info.eventType === 'drop database' && db && comparePos(ev.end, minPos(this.writerPos)!) > 0) {
        ctx.log.warn(
          { sql: ev.sql, position: posKey(ev.end) },
          'drop database of a shard schema is not replicated in shard mode',
        );
        return { hold: [] };
      }
      return 'normal';
    }
    const held = shard?.decide(t.schema, t.table, ev.end) ?? 'normal';
    if (held === 'skip') return 'done'; // blocked (replayed after its lock) or already handled
    const minWriter = minPos(this.writerPos)!;
    if (held === 'normal' && comparePos(ev.end, minWriter) <= 0) return 'done';
    const at = posKey(ev.end);
    const op = ctx.binlogOp(at);
    if (op?.op === 'skip') return 'normal';
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
      return held === 'forced' && comparePos(ev.end, maxPos(this.writerPos)!) <= 0 ? 'done' : { hold: [] };
    }
    if (
      type === 'rename table' ||
      (this.optimist && info.clauseKinds?.some((e) => e === 'rename column' || e === 'rename index'))
    ) {
      throw new DmError(
        'ShardDdlUnsupported',
        `${type === 'rename table' ? 'RENAME TABLE' : 'RENAME COLUMN/INDEX (optimistic mode is always strict)'} of a shard table cannot be coordinated: ${ev.sql.slice(0, 300)}`,
        {
          context: { sql: ev.sql, position: at },
          suggestion: `Skip it with \`dmctl binlog skip ${ctx.task.name}\` and rename the target table downstream by hand if needed.`,
        },
      );
    }
    const routed: string[] = [];
    for (const sql of op?.op === 'replace' ? (op.sqls ?? []) : [ev.sql])
      await this.applyStatement(sql, ev, false, routed);
    if (routed.length === 0) return 'normal'; // filtered out
    const target = ctx.rules.route(t.schema, t.table);
    if (this.optimist) {
      await this.optimist.ddl(t.schema, t.table, target, routed, ev.end, this.trackerBefore, ev.trackerAfter, (sql) =>
        this.execShardDdl(sql, true),
      );
      return { hold: [] };
    }
    if (!shard) return 'normal';
    // Validate against the open lock while `dmctl binlog replace` can still decide on this event; then the hold is
    // made durable (step 2) before the lock counts the shard as reached (step 1, after the barrier in applyQuery).
    await shard.check(this.down, t.schema, t.table, target, routed, ev.end);
    const hold = shard.holdFor(t.schema, t.table, target, routed, ev.end, ev.trackerAfter);
    shard.holds.set(`${tableKey(t)}`, hold);
    if (held === 'forced' && comparePos(ev.end, maxPos(this.writerPos)!) <= 0) {
      // Replaying a released shard that reached its next DDL: the writers are already past it; only the hold moves.
      const h = ctx.ckpt.holdSql(hold);
      await ctx.ckpt.checkFence(this.down, `hold ${tableKey(t)}`);
      await query(this.down, 'downstream', h.sql, h.params);
      crashPoint('shard-held');
      await shard.reach(hold);
      crashPoint('shard-reached');
      return 'done';
    }
    return { hold: [ctx.ckpt.holdSql(hold)], reach: hold };
  }

  /**
   * Steps 3–6 of the shard-DDL protocol (agent/shard/pessimist.ts), run from the sync loop when a lock changed: join
   * new locks, run a ready lock's DDL when this source owns it, release shards whose lock is done and replay them.
   */
  private async shardTick(flush: () => Promise<void>): Promise<void> {
    const { ctx } = this;
    const shard = this.shard!;
    const locks = ctx.shardLocks!;
    await shard.joinAll(this.tracker);
    const pending = shard.takePendingReplay();
    let replayFrom: { start: BinlogPosition; tracker: unknown } | undefined = pending
      ? { start: pending.start, tracker: pending.tracker }
      : undefined;
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
          for (const sql of lock.ddls) await this.execShardDdl(sql, again);
        }
        crashPoint('shard-executed');
        await shard.setStage(target, 'done');
        crashPoint('shard-done');
        ctx.log.info({ target, ddls: lock.ddls }, 'shard-DDL lock resolved: DDL applied once downstream');
        lock = await locks.fetch(target);
      }
      if (lock && lock.stage === 'done') {
        await flush();
        const first = await shard.release(this.down, target, lock);
        if (first && (!replayFrom || comparePos(first.start, replayFrom.start) < 0))
          replayFrom = { start: first.start, tracker: first.tracker };
      }
    }
    if (replayFrom && this.readPos && comparePos(replayFrom.start, this.readPos) >= 0) {
      // The stream has not passed these shards' DDL yet (it is replaying an earlier round): rewinding to it would skip
      // the earlier round's events in between; the stream reaches the new round's events in order anyway.
      ctx.log.info(
        { from: posKey(replayFrom.start), at: posKey(this.readPos) },
        'released shard tables replay with the stream already behind them',
      );
      shard.replayStarted(replayFrom.start);
    } else if (replayFrom) {
      await flush();
      ctx.log.info({ from: posKey(replayFrom.start) }, 'replaying released shard tables');
      await this.reader.stop().catch(() => undefined);
      this.tracker = SchemaTracker.fromJSON(replayFrom.tracker);
      this.startReader(replayFrom.start);
      shard.replayStarted(replayFrom.start);
    }
  }

  private async execShardDdl(sql: string, again: boolean): Promise<void> {
    // A DDL autocommits: like the DDL marker, the ownership check runs right before it (fencing, checkpoint.ts).
    const conn = await this.writer(0);
    await this.ctx.ckpt.checkFence(conn, `shard ddl ${sql.slice(0, 100)}`);
    this.ids.invalidate();
    try {
      await conn.query(sql);
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (again && errno !== undefined && ALREADY_APPLIED.has(errno)) {
        this.ctx.log.warn({ sql, errno }, 'shard DDL was applied before a crash; continuing');
        return;
      }
      const e = classifyMysqlError(err, 'downstream', { sql });
      throw new DmError(
        e.retryable ? 'DownstreamTransient' : 'DownstreamExec',
        `shard DDL failed downstream: ${e.message}`,
        {
          cause: err,
          context: e.context,
          suggestion: e.retryable
            ? e.suggestion
            : `Fix the downstream and \`dmctl resume-task ${this.ctx.task.name}\`, or release the lock without the DDL: \`dmctl shard-ddl-lock unlock <lock-id> --action skip\`.`,
        },
      );
    }
  }

  /** Runs `text` (filtered, split, routed) downstream; with `collect`, only gathers the routed statements. */
  private async applyStatement(text: string, ev: QueryEvent, replaying: boolean, collect?: string[]): Promise<void> {
    const { ctx } = this;
    const at = posKey(ev.end);
    const info = classifyQuery(text, ev.schema);
    if (info.kind === 'unknown' || info.kind === 'dml') {
      // A statement tsdm cannot classify is never skipped silently: the subtask pauses with it in the error.
      throw new DmError(
        'UnsupportedEvent',
        info.kind === 'dml'
          ? `statement-based DML in the binlog (binlog_format must be ROW for every session): ${text.slice(0, 300)}`
          : `statement not understood: ${text.slice(0, 300)}`,
        {
          context: { sql: text, position: at },
          suggestion: `Resolve it with \`dmctl binlog skip ${ctx.task.name}\` or \`dmctl binlog replace ${ctx.task.name} "<sql>"\`.`,
        },
      );
    }
    if (info.kind !== 'ddl') return;
    const tables: TableName[] = info.tables.length ? info.tables : [{ schema: ev.schema, table: '' }];
    const allowed = (t: TableName) =>
      t.table ? ctx.rules.allowTable(t.schema, t.table) : ctx.rules.allowSchema(t.schema);
    if (!tables.some(allowed)) return;
    // Tables a resumed load reloaded from a later snapshot already have this DDL's effect (load-reconcile.ts).
    const loaded = (t: TableName) =>
      t.table ? this.loadedAt.get(`${tableKey(t)}`) : this.schemaLoadedAt.get(t.schema);
    if (
      tables.filter(allowed).every((t) => {
        const at = loaded(t);
        return at !== undefined && comparePos(ev.end, at) <= 0;
      })
    ) {
      ctx.log.info({ sql: text, position: at }, 'DDL skipped: its tables were loaded from a later snapshot');
      return;
    }
    // The binlog event filter, per split statement and per ALTER clause (sync/ddl-filter.ts). Every statement is
    // decided before any runs, so an Error leaves nothing of the event applied (as DM).
    const todo: string[] = [];
    for (const stmt of splitDdl(text, ev.schema)) {
      const sub = classifyQuery(stmt, ev.schema);
      const subTables = (sub.tables.length ? sub.tables : tables).filter(allowed);
      if (subTables.length === 0) continue;
      const kept = filterDdl({
        sql: stmt,
        originalSql: text,
        tables: subTables,
        tablesBefore: ev.tablesBefore,
        taskName: ctx.task.name,
        position: at,
        decide: (s, t, e, sql) => ctx.rules.eventAction(s, t, e, sql),
        dropped: (d) => ctx.log.info({ ...d, position: at }, 'DDL filtered'),
      });
      if (kept !== null) todo.push(kept);
    }
    for (const stmt of todo) {
      let sql: string;
      try {
        sql = rewriteDdl(this.strict(stmt, ev), ev.schema, (t) =>
          t.table ? ctx.rules.route(t.schema, t.table) : { schema: ctx.rules.routeSchema(t.schema), table: '' },
        );
      } catch (err) {
        const e = asDmError(err, 'UnsupportedEvent');
        Object.assign(e.context, { sql: stmt, position: at });
        throw e;
      }
      if (collect) {
        collect.push(sql);
        continue;
      }
      await ctx.ckpt.markDdlPending(this.down, at);
      try {
        await (await this.writer(0)).query(sql);
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        // Shard mode: every shard's CREATE TABLE targets the one merged table; the first one created it.
        if (this.shard && errno === 1050) continue;
        if (replaying && errno !== undefined && ALREADY_APPLIED.has(errno)) {
          ctx.log.warn({ sql, position: at, errno }, 'DDL was applied before a crash; continuing');
          continue;
        }
        const e = classifyMysqlError(err, 'downstream', { sql });
        e.context.position = at;
        await ctx.ckpt.clearDdlPending(this.down).catch(() => undefined);
        throw new DmError(
          e.retryable ? 'DownstreamTransient' : 'DownstreamExec',
          `DDL failed downstream: ${e.message}`,
          {
            cause: err,
            context: e.context,
            suggestion: e.retryable
              ? e.suggestion
              : `Fix the downstream and \`dmctl resume-task ${ctx.task.name}\`, or skip the statement with \`dmctl binlog skip ${ctx.task.name}\`, or run other SQL in its place with \`dmctl binlog replace ${ctx.task.name} "<sql>;…"\`.`,
          },
        );
      }
      ctx.log.info({ sql, position: at }, 'DDL applied');
    }
  }

  /** collation_compatible: strict — the statement with the upstream's collations made explicit (DM's adjustCollation,
   * before routing as there). A CREATE DATABASE without charset takes the collation_server of the session that ran it. */
  private strict(stmt: string, ev: QueryEvent): string {
    if (!this.collations) return stmt;
    const out = strictCollations(stmt, forStatement(this.collations, ev.serverCollation));
    if (out !== stmt)
      this.ctx.log.info(
        { sql: stmt, strict: out, serverCollation: ev.serverCollation, position: posKey(ev.end) },
        'collation_compatible strict: explicit collation added',
      );
    return out;
  }

  private lastReport = 0;
  private report(): void {
    const now = Date.now();
    if (now - this.lastReport < 500) return;
    this.lastReport = now;
    const secs = (now - this.stats.rateWindowStart) / 1000;
    if (secs >= 2) {
      this.stats.rate = this.stats.rateWindowRows / secs;
      this.stats.rateWindowRows = 0;
      this.stats.rateWindowStart = now;
    }
    // Shard tables held by a DDL lock (or replaying after it) are not synced, whatever the position says.
    const caughtUp =
      this.reader.idle &&
      this.master !== undefined &&
      comparePos(this.synced, this.master) >= 0 &&
      !this.shard?.holds.size;
    const sync: SyncProgress = {
      synced: this.synced,
      lagSeconds: caughtUp || !this.stats.lastTs ? 0 : Math.max(0, Math.round(now / 1000 - this.stats.lastTs)),
      rowsPerSecond: Math.round(this.stats.rate),
      totalRows: this.stats.totalRows,
      totalEvents: this.stats.totalEvents,
      caughtUp,
      safeMode:
        this.ctx.spec.sync.safeMode || (this.safeUntil !== undefined && comparePos(this.synced, this.safeUntil) < 0),
    };
    if (this.master) sync.master = this.master;
    this.ctx.report({ sync });
  }
}
