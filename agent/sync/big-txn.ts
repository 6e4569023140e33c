import type { Connection } from 'mysql2/promise';
import { type BinlogPosition, comparePos, maxPos, posKey } from '../../src/binlog/position.ts';
import type { RowChange, TxnEvent, TxnPartEvent } from '../binlog/events.ts';
import { DmError } from '../../src/errors/index.ts';
import { classifyMysqlError } from '../db/mysql.ts';
import { cascading, execStmt, sendGrouped, writer } from './apply.ts';
import type { RoutedChange } from './dispatcher.ts';
import type { TableName } from '../../src/sql/table-name.ts';
import { orderedStatements, stmtOf } from './foreign-keys.ts';
import { inSafeMode } from './resume.ts';
import { routeTxn } from './route.ts';
import type { SyncState } from './state.ts';
import { writerStatements } from './writer-sql.ts';

/**
 * Large upstream transactions (issue #16): the reader hands out a transaction of more than `syncers.large-txn-rows`
 * row changes in parts (TxnPartEvent, then the TxnEvent that closes it with `continued`), and each part is applied as
 * it comes, so memory holds a part, not the transaction, and the event loop runs between parts.
 *
 * Streamed: the pending batch is flushed first (every writer committed, none running); then the transaction's parts
 * are applied in binlog order on writer 0, all in ONE downstream transaction, which at the closing event also moves
 * every writer's checkpoint to its end, re-checks the fence (checkpoint-fence.ts: a locking read of the owner row right
 * before COMMIT, as every checkpoint transaction does) and commits. It is the cascading barrier (apply.ts
 * applyOrdered) read in parts.
 *
 * Invariants: what commits is the whole transaction with every writer's checkpoint at its end, or nothing: a crash,
 * an error or a pause in the middle rolls the downstream transaction back, and the stream resumes from the lowest
 * writer checkpoint, which is before the transaction. Per-key compaction (writer-sql.ts) works within a part; parts
 * run in binlog order on one connection, so the result is the same as the transaction applied at once.
 *
 * Gathered (held whole in memory and handled as a usual transaction, as before): when streaming could break the
 * invariants above: shard coordination (its held tables and hold rows move around flushes); writers at different
 * positions (right after a restart: one may already cover this transaction, and its end is unknown until the last
 * part); a table whose loaded rows hold events past the transaction's start (their skip is decided by its end).
 */
export class TxnParts {
  private big: BigTxn | undefined;
  private gathered: RowChange[] | undefined;

  constructor(private readonly st: SyncState) {}

  /** A transaction read in parts is open: the loop takes no hold decision and no checkpoint inside it. */
  get open(): boolean {
    return this.big !== undefined || this.gathered !== undefined;
  }

  /** A part (`from`: the end of the event before the transaction). `flush` commits the pending batch. */
  async part(ev: TxnPartEvent, from: BinlogPosition, flush: () => Promise<void>): Promise<void> {
    if (ev.rollback) {
      await this.abort();
      return;
    }
    if (!this.open) {
      await flush();
      if (!this.canStream(from)) {
        this.st.ctx.log.info(
          { from: posKey(from) },
          'large transaction: gathered whole (shard mode, writers at different positions, or a reloaded table)',
        );
        this.gathered = [];
      } else this.big = await BigTxn.open(this.st, from);
    }
    if (this.gathered) {
      for (const c of ev.changes) this.gathered.push(c);
      return;
    }
    await this.big!.apply(ev.changes);
  }

  /** The event that closes a transaction read in parts: undefined once it is committed (streamed), else the whole
   * transaction (gathered) for the loop to handle as usual. */
  async close(ev: TxnEvent): Promise<TxnEvent | undefined> {
    const big = this.big;
    const gathered = this.gathered;
    this.big = undefined;
    this.gathered = undefined;
    if (!big) {
      // The reader starts only at transaction boundaries, so the parts before this event were all seen here.
      if (!gathered) throw new DmError('Internal', `the end of a transaction read in parts came without its parts`);
      const changes = gathered;
      for (const c of ev.changes) changes.push(c);
      return { kind: 'txn', changes, end: ev.end, timestamp: ev.timestamp };
    }
    try {
      await big.apply(ev.changes);
      await big.commit(ev.end, ev.timestamp);
    } catch (err) {
      await big.rollback();
      throw err;
    }
    return undefined;
  }

  /** Drops an open transaction (rolled back upstream, or the unit stops): its downstream transaction rolls back. */
  async abort(): Promise<void> {
    const big = this.big;
    this.big = undefined;
    this.gathered = undefined;
    await big?.rollback();
  }

  private canStream(from: BinlogPosition): boolean {
    const { st } = this;
    if (st.shard) return false;
    if (comparePos(maxPos(st.writerPos)!, from) > 0) return false;
    for (const p of st.loadedAt.values()) if (comparePos(p, from) > 0) return false;
    return true;
  }
}

/** One streamed transaction: open on writer 0 from BEGIN to COMMIT. */
class BigTxn {
  private rows = 0;
  private parts = 0;
  private readonly started = Date.now();
  /** Continuous validation is told of rows only once they are committed: it keeps them until then (state.ts). */
  private readonly retained: RoutedChange[][] | undefined;
  /** Rows per target table, for the metrics and the status (only counts are kept: the rows are not held). */
  private readonly perTable = new Map<TableName, number>();

  private constructor(
    private readonly st: SyncState,
    private readonly conn: Connection,
    private readonly from: BinlogPosition,
  ) {
    this.retained = st.appliedRows ? [] : undefined;
  }

  static async open(st: SyncState, from: BinlogPosition): Promise<BigTxn> {
    const conn = await writer(st, 0);
    try {
      await conn.query('BEGIN');
    } catch (err) {
      throw classifyMysqlError(err, 'downstream');
    }
    st.ctx.log.info({ from: posKey(from) }, 'large transaction: applying it in parts, in one downstream transaction');
    return new BigTxn(st, conn, from);
  }

  /** Applies a part, then lets the event loop run (lease renewals, status) before the next one is read. */
  async apply(changes: RowChange[]): Promise<void> {
    const { st } = this;
    if (changes.length > 0) {
      // Its end is not known yet: `from` stands in (a change's end only matters for replay, and the whole transaction
      // is after every writer's checkpoint: canStream).
      const txn = await routeTxn(st, { kind: 'txn', changes, end: this.from, timestamp: 0 }, true);
      if (txn.changes.length > 0) {
        try {
          if (await cascading(st, txn)) await this.ordered(txn.changes);
          else await sendGrouped(this.conn, writerStatements(txn.changes, inSafeMode(st) || st.shard !== undefined));
        } catch (err) {
          throw located(err, `in the transaction after ${posKey(this.from)}`);
        }
        this.rows += txn.changes.length;
        this.retained?.push(txn.changes);
        countTables(this.perTable, txn.changes);
      }
      this.parts++;
      st.ctx.log.debug({ part: this.parts, rows: this.rows }, 'large transaction part applied');
    }
    await new Promise((r) => setImmediate(r));
  }

  /** Moves every writer's checkpoint to `end` in this transaction, checks the fence, commits. */
  async commit(end: BinlogPosition, timestamp: number): Promise<void> {
    const { st } = this;
    const { ckpt } = st.ctx;
    try {
      for (let w = 0; w < st.writerCount; w++) {
        const ck = ckpt.writerSql(w, end, st.writerCount);
        await this.conn.query(ck.sql, ck.params);
      }
      await ckpt.checkFence(this.conn, `large transaction ${posKey(end)}`);
      await this.conn.query('COMMIT');
    } catch (err) {
      throw located(err, posKey(end));
    }
    st.writerPos = st.writerPos.map(() => end);
    if (comparePos(end, st.synced) > 0) st.synced = end;
    if (this.retained) st.appliedRows?.applied(this.retained);
    st.stats.totalRows += this.rows;
    st.stats.rateWindowRows += this.rows;
    st.stats.lastTs = timestamp;
    st.ctx.metrics?.tables(this.perTable, this.rows, (Date.now() - this.started) / 1000, timestamp);
    st.tables.tables(this.perTable, timestamp);
    st.ctx.log.info(
      { end: posKey(end), rows: this.rows, parts: this.parts, ms: Date.now() - this.started },
      'large transaction committed',
    );
  }

  async rollback(): Promise<void> {
    await this.conn.query('ROLLBACK').catch(() => undefined);
    await this.conn.query('SET SESSION foreign_key_checks = 0').catch(() => undefined);
  }

  /** A part with changes the downstream must cascade (foreign-keys.ts): in binlog order, cascading ones with checks. */
  private async ordered(changes: RoutedChange[]): Promise<void> {
    let checks = false;
    for (const s of orderedStatements(changes, (c) => this.st.fk.cascades(c))) {
      if (s.checks !== checks) {
        await this.conn.query(`SET SESSION foreign_key_checks = ${s.checks ? 1 : 0}`);
        checks = s.checks;
      }
      await execStmt(this.conn, stmtOf(s));
    }
    if (checks) await this.conn.query('SET SESSION foreign_key_checks = 0');
  }
}

function located(err: unknown, position: string): Error {
  const e = classifyMysqlError(err, 'downstream');
  e.context.position = position;
  return e;
}

/** Adds `changes` to the per-table counts, one map update per run of rows of one table (not per row). */
function countTables(counts: Map<TableName, number>, changes: readonly RoutedChange[]): void {
  let last: TableName | undefined;
  let n = 0;
  for (const c of changes) {
    if (c.target !== last) {
      if (last) counts.set(last, (counts.get(last) ?? 0) + n);
      last = c.target;
      n = 0;
    }
    n++;
  }
  if (last) counts.set(last, (counts.get(last) ?? 0) + n);
}
