import type { Connection } from 'mysql2/promise';
import { type BinlogPosition, comparePos, maxPos, minPos, posKey } from '../../src/binlog/position.ts';
import { openDataConnection } from '../db/downstream.ts';
import { classifyMysqlError, connect, isClosed, isConnectionLost, isTransient } from '../db/mysql.ts';
import { crashPoint, faultArmed } from '../fault.ts';
import { DmError } from '../../src/errors/index.ts';
import type { Dispatcher, RoutedChange, Txn } from './dispatcher.ts';
import { CascadeRules, orderedStatements, stmtOf } from './foreign-keys.ts';
import { inSafeMode } from './resume.ts';
import type { SyncState } from './state.ts';
import type { Stmt } from './sqlgen.ts';
import { writerStatements } from './writer-sql.ts';

/**
 * Applying row changes downstream: the writer connections (opened again when the server closed them), a batch's
 * share per writer, each in one transaction with that writer's checkpoint, and the cascading barrier.
 *
 * Invariants (see checkpoint.ts): writer w's checkpoint moves only inside the transaction that applies w's share of
 * the batch ending at that position; on replay writer w skips transactions ending at or before its own checkpoint.
 */

/** Opens the writers (`st.writerCount` downstream data connections). */
export async function openWriters(st: SyncState): Promise<void> {
  for (let i = 0; i < st.writerCount; i++) {
    st.writers.push(await openWriter(st));
  }
}

/**
 * A writer's session runs READ COMMITTED. Under REPEATABLE READ, REPLACE and DELETE ... IN take next-key (gap) locks,
 * and writers hold interleaved keys of the same tables (keys are spread by hash), so their gap locks collide: a 300k-row
 * catch-up in 100-row transactions with 16 writers hit 2,020 deadlocks and ran at 2.6k rows/s, 35k under READ
 * COMMITTED. Writers never read inside their transactions except the fence's locking read (the same under either
 * level), and every row a writer changes is its own by causality, so nothing they rely on changes. A downstream that
 * writes a STATEMENT-format binlog refuses InnoDB writes under READ COMMITTED: there the default level stays.
 */
async function openWriter(st: SyncState): Promise<Connection> {
  const c = await openDataConnection(st.ctx.task, st.ctx.ckpt, { multipleStatements: true });
  try {
    const [rows] = await c.query('SELECT @@log_bin AS b, @@binlog_format AS f');
    const r = (rows as { b: unknown; f: unknown }[])[0];
    if (!(Number(r?.b) === 1 && String(r?.f).toUpperCase() === 'STATEMENT'))
      await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  } catch (err) {
    if (isClosed(c) || isConnectionLost(err)) {
      c.destroy();
      throw classifyMysqlError(err, 'downstream');
    }
    if (!st.isolationWarned) {
      st.isolationWarned = true;
      st.ctx.log.warn(
        { err: String(err) },
        'the downstream refused READ COMMITTED for sync writers: they keep its default',
      );
    }
  }
  return c;
}

/**
 * Writer `w`'s connection, opened again when the server closed it (KILL, wait_timeout, a restart): the new session is
 * prepared and registered like the first (db/downstream.ts). What the closed one had not committed rolled back.
 */
export async function writer(st: SyncState, w: number): Promise<Connection> {
  const c = st.writers[w]!;
  if (!isClosed(c)) return c;
  c.destroy();
  const n = await openWriter(st);
  st.writers[w] = n;
  st.ctx.log.info({ writer: w }, 'downstream connection was closed by the server: opened a new one');
  return n;
}

/** The checkpoint connection, opened again when the server closed it (it idles while only rows are applied). */
export async function reopenMeta(st: SyncState): Promise<void> {
  if (!isClosed(st.down)) return;
  const n = await connect(st.ctx.task.targetDatabase, 'downstream');
  try {
    await st.ctx.ckpt.register(n);
  } catch (err) {
    n.destroy();
    throw err;
  }
  if (st.ownDown) st.ownDown.destroy();
  st.down = n;
  st.ownDown = n;
  st.ctx.log.info('checkpoint connection was closed by the server: opened a new one');
}

/**
 * After a connection was lost in the middle of a transaction that moves writer `w` to `end`: true when that
 * transaction committed all the same (the connection went after COMMIT reached the server). Its checkpoint row is
 * read on a new connection: it moved only with the transaction's rows, so replaying them is never needed twice.
 */
async function committedBeforeLoss(st: SyncState, w: number, end: BinlogPosition, moved = w): Promise<boolean> {
  const conn = await writer(st, w);
  const row = (await st.ctx.ckpt.readWriters(conn)).find((r) => r.writer === moved);
  return row !== undefined && comparePos(row.pos, end) >= 0;
}

/** True when the transaction changes a row whose change the downstream must cascade to child rows (FK rules). */
export function cascading(st: SyncState, txn: Txn): boolean | Promise<boolean> {
  if (txn.changes.length === 0 || st.shard) return false;
  // Known rules: no promise (this runs for every transaction).
  if (!st.fkStale) return !st.fk.empty && txn.changes.some((c) => st.fk.cascades(c));
  return loadCascading(st, txn);
}

async function loadCascading(st: SyncState, txn: Txn): Promise<boolean> {
  if (st.fkStale) {
    st.fkStale = false;
    try {
      st.fk = await CascadeRules.load(await writer(st, 0));
    } catch (err) {
      // A downstream without these information_schema views (an old TiDB): no cascade is mirrored, say so once.
      st.fk = CascadeRules.none;
      st.ctx.log.warn(
        { err: String(err) },
        "cannot read the downstream's foreign keys: cascading deletes and updates are applied without their cascade",
      );
    }
  }
  return !st.fk.empty && txn.changes.some((c) => st.fk.cascades(c));
}

/**
 * A barrier transaction (the caller flushed): its changes in binlog order on writer 0, cascading statements with
 * foreign_key_checks=1, and every writer's checkpoint moved to its end in the same downstream transaction. A
 * committed barrier moved all writers, so "at or before the lowest writer" means applied.
 */
export async function applyOrdered(st: SyncState, txn: Txn): Promise<void> {
  if (comparePos(txn.end, minPos(st.writerPos)!) <= 0) return;
  const t0 = performance.now();
  const stmts = orderedStatements(txn.changes, (c) => st.fk.cascades(c));
  let lost = false;
  for (let attempt = 1; ; attempt++) {
    // A connection lost during the previous attempt: it may have committed (then every writer is at txn.end).
    if (lost && (await committedBeforeLoss(st, 0, txn.end))) break;
    const conn = await writer(st, 0);
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
          await execStmt(conn, stmtOf(s));
        } catch (err) {
          throw classifyMysqlError(err, 'downstream', { sql: s.sql });
        }
      }
      await setChecks(false);
      for (let w = 0; w < st.writerCount; w++) {
        const ck = st.ctx.ckpt.writerSql(w, txn.end, st.writerCount);
        await conn.query(ck.sql, ck.params);
      }
      await st.ctx.ckpt.checkFence(conn, `cascade ${posKey(txn.end)}`);
      await conn.query('COMMIT');
      break;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      await conn.query('SET SESSION foreign_key_checks = 0').catch(() => undefined);
      lost = isConnectionLost(err);
      const e = classifyMysqlError(err, 'downstream');
      if (!isTransient(err) || attempt >= 5 || st.ctx.signal.aborted) {
        e.context.position = posKey(txn.end);
        throw e;
      }
      const delayMs = 100 * 2 ** attempt;
      st.ctx.log.warn({ attempt, delayMs, code: e.code, err: e.message }, 'retrying cascading transaction');
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  st.writerPos = st.writerPos.map(() => txn.end);
  st.appliedRows?.applied([txn.changes]);
  const secs = (performance.now() - t0) / 1000;
  st.ctx.metrics?.writerTxn(secs);
  st.ctx.metrics?.batch([txn.changes], txn.changes.length, 1, secs, st.stats.lastTs);
  st.tables.batch([txn.changes], st.stats.lastTs);
  if (comparePos(txn.end, st.synced) > 0) st.synced = txn.end;
  st.stats.totalRows += txn.changes.length;
  st.stats.rateWindowRows += txn.changes.length;
}

/** Every writer applies its share of `batch` and moves its checkpoint to `end`, in parallel. */
export async function applyBatch(st: SyncState, batch: Dispatcher, end: BinlogPosition): Promise<void> {
  // The batch's last event: the loop reads on while the batch commits (unit.ts), so st.stats moves on meanwhile.
  const ts = st.stats.lastTs;
  const t0 = performance.now();
  const parts = carriers(st, batch, end);
  // Crash test: a stop with one writer's share of a batch of 200+ rows committed and the others' not (state.ts replayTo).
  if (parts.length > 1 && batch.rows >= 200 && faultArmed('writer-split')) {
    const [w, carried] = parts.shift()!;
    await applyWriter(st, w, batch.perWriter[w]!, end, carried);
    crashPoint('writer-split');
  }
  await Promise.all(parts.map(([w, carried]) => applyWriter(st, w, batch.perWriter[w]!, end, carried)));
  // The stop's batch is replayed once every writer committed past it.
  if (st.reapply && comparePos(minPos(st.writerPos)!, st.reapply.to) >= 0) st.reapply = undefined;
  st.appliedRows?.applied(batch.perWriter);
  st.ctx.metrics?.batch(batch.perWriter, batch.rows, batch.txns, (performance.now() - t0) / 1000, ts);
  st.tables.batch(batch.perWriter, ts);
  if (comparePos(end, st.synced) > 0) st.synced = end;
  if (st.shard) await st.shard.afterFlush(maxPos(st.writerPos)!);
  st.stats.totalRows += batch.rows;
  st.stats.rateWindowRows += batch.rows;
}

/**
 * Which writers run a transaction for this batch, and whose checkpoints each also moves. A writer with no rows in the
 * batch has its checkpoint moved inside another writer's transaction (the first with rows, else writer 0's): its
 * share of the batch is empty, so that transaction holds all of its rows, as the invariant asks; and no transaction of
 * its own is running (one batch in flight), so nothing else writes its checkpoint row meanwhile. A batch of one
 * small upstream transaction then costs one downstream commit, not one per writer. Shard coordination (writer 0 also
 * moves hold rows) keeps one transaction per writer.
 */
function carriers(st: SyncState, batch: Dispatcher, end: BinlogPosition): [number, number[]][] {
  const all = st.writers.map((_, w): [number, number[]] => [w, []]);
  if (st.shard) return all;
  const busy = all.filter(([w]) => batch.perWriter[w]!.length > 0);
  const carrier = busy[0] ?? all[0]!;
  for (const [w] of all)
    if (batch.perWriter[w]!.length === 0 && w !== carrier[0] && comparePos(end, st.writerPos[w]!) > 0)
      carrier[1].push(w);
  return busy.length > 0 ? busy : [carrier];
}

async function applyWriter(
  st: SyncState,
  w: number,
  changes: RoutedChange[],
  end: BinlogPosition,
  carried: number[] = [],
): Promise<void> {
  const { ctx } = st;
  const mine = st.writerPos[w]!;
  // Replay: this writer already committed changes up to its checkpoint; held shard changes (writer set) are not
  // covered by it (their own `applied` position decided that they run).
  // In the batch a stop left committed by some writers only (state.ts reapply), a keyed change it covers is applied
  // again all the same, in safe mode: the net row per key is idempotent, so the replay is right even when it gives a
  // change another writer than the first run did (the downstream's keys changed while the agent was down). Keyless
  // changes are not idempotent: those rely on the replay giving them the same writer (state.ts replayTo).
  const re = st.reapply;
  let again = false;
  const todo = changes.filter((c) => {
    if (c.writer !== undefined || comparePos(c.txnEnd, mine) > 0) return true;
    if (!re || c.key.length === 0 || comparePos(c.txnEnd, re.from) <= 0 || comparePos(c.txnEnd, re.to) > 0)
      return false;
    again = true;
    return true;
  });
  const advance = comparePos(end, mine) > 0;
  // Writer 0 also moves released shards' `applied`, even when it has nothing else to do (their replay reached
  // positions it had already committed).
  const holdSqls = w === 0 && st.shard ? st.shard.appliedSqls(end) : [];
  if (!advance && todo.length === 0 && holdSqls.length === 0 && carried.length === 0) return;
  // Outside safe mode rows that existed are updated in place (writer-update.ts); shard merges keep REPLACE.
  const stmts = writerStatements(todo, again || inSafeMode(st) || st.shard !== undefined);
  // Checkpoints moved in this transaction: its own (when it advances) and those it carries (see carriers()).
  const moved = [...(advance ? [w] : []), ...carried];
  const ckSqls = moved.map((x) => ctx.ckpt.writerStatement(x, end, st.writerCount));
  const ckParams = moved.map((x) => ctx.ckpt.writerSql(x, end, st.writerCount));
  let lost = false;
  const t0 = performance.now();
  for (let attempt = 1; ; attempt++) {
    // The previous attempt lost its connection: retry from a checkpoint it moves, which says whether it committed.
    if (lost && moved.length > 0 && (await committedBeforeLoss(st, w, end, moved[0]))) {
      for (const x of moved) st.writerPos[x] = end;
      if (holdSqls.length) st.shard!.markApplied(end);
      return;
    }
    const conn = await writer(st, w);
    const what = `writer ${w} ${posKey(end)}`;
    try {
      if (holdSqls.length > 0) await oneByOne(st, conn, stmts, [...ckParams, ...holdSqls], what);
      else {
        try {
          await inFewRoundTrips(st, conn, [...stmts, ...ckSqls], what);
        } catch (err) {
          // Lost: the retry below asks the checkpoint; a DmError is the fence's (this agent no longer owns the source).
          if (isConnectionLost(err) || err instanceof DmError) throw err;
          // Which statement failed, with its SQL in the error: again one statement per round trip (it may also
          // succeed this time: a deadlock, a lock wait timeout).
          await conn.query('ROLLBACK').catch(() => undefined);
          await oneByOne(st, conn, stmts, ckParams, what);
        }
      }
      for (const x of moved) st.writerPos[x] = end;
      st.ctx.metrics?.writerTxn((performance.now() - t0) / 1000);
      if (holdSqls.length) {
        st.shard!.markApplied(end);
        if (todo.length) crashPoint('shard-replaying');
      }
      return;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      lost = isConnectionLost(err);
      const e = classifyMysqlError(err, 'downstream');
      if (!isTransient(err) || attempt >= 5 || ctx.signal.aborted) {
        e.context.position = posKey(end);
        throw e;
      }
      const delayMs = 100 * 2 ** attempt;
      ctx.log.warn({ writer: w, attempt, delayMs, code: e.code, err: e.message }, 'retrying writer transaction');
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/** Statements per round trip are cut at this many characters (at most 4 bytes each: under 4 MiB, the smallest default
 * max_allowed_packet of the servers tsdm writes to; a longer statement goes alone, as before). */
export const ROUND_TRIP_CHARS = 1 << 20;

/**
 * One writer transaction in two round trips: BEGIN, the rows, the checkpoint and the fence's locking read in one
 * multi-statement query (more when they pass ROUND_TRIP_BYTES), then COMMIT once the fence's rows say this agent
 * still owns the source. A failure leaves the transaction open: the caller rolls back.
 */
async function inFewRoundTrips(st: SyncState, conn: Connection, stmts: Stmt[], what: string): Promise<void> {
  const fence = st.ctx.ckpt.fenceStatement();
  const last = await sendGrouped(conn, ['BEGIN', ...stmts, ...(fence ? [fence] : [])]);
  if (fence) await st.ctx.ckpt.fenceChecked(conn, last as Record<string, unknown>[], what);
  await conn.query('COMMIT');
}

/** Runs one writer statement: text as a query, a Bound statement as a prepared statement with its arguments. */
export async function execStmt(conn: Connection, s: Stmt): Promise<unknown> {
  const [res] = typeof s === 'string' ? await conn.query(s) : await conn.execute(s.sql, s.params);
  return res;
}

/** The SQL of a statement, for errors (a Bound statement's with its `?`: its values can be megabytes). */
export const sqlOf = (s: Stmt): string => (typeof s === 'string' ? s : s.sql);

/**
 * Statements in multi-statement round trips of up to ROUND_TRIP_CHARS characters each (a longer one alone; a Bound
 * statement alone, as a prepared statement); returns the last statement's result.
 */
export async function sendGrouped(conn: Connection, stmts: readonly Stmt[]): Promise<unknown> {
  let last: unknown;
  let group: string[] = [];
  let chars = 0;
  const send = async () => {
    if (group.length === 0) return;
    const [res] = await conn.query(group.join(';\n'));
    last = group.length > 1 ? (res as unknown[])[group.length - 1] : res;
    group = [];
    chars = 0;
  };
  for (const s of stmts) {
    if (typeof s !== 'string') {
      await send();
      last = await execStmt(conn, s);
      continue;
    }
    if (group.length > 0 && chars + s.length > ROUND_TRIP_CHARS) await send();
    group.push(s);
    chars += s.length + 2;
  }
  await send();
  return last;
}

/** One writer transaction, one statement per round trip; a failing statement's error carries its SQL. */
async function oneByOne(
  st: SyncState,
  conn: Connection,
  stmts: Stmt[],
  extra: { sql: string; params: unknown[] }[],
  what: string,
): Promise<void> {
  await conn.query('BEGIN');
  for (const s of stmts) {
    try {
      await execStmt(conn, s);
    } catch (err) {
      throw classifyMysqlError(err, 'downstream', { sql: sqlOf(s) });
    }
  }
  for (const x of extra) await conn.query(x.sql, x.params);
  await st.ctx.ckpt.checkFence(conn, what);
  await conn.query('COMMIT');
}
