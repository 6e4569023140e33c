import { comparePos, minPos, posKey } from '../../src/binlog/position.ts';
import { asDmError, DmError } from '../../src/errors/index.ts';
import { classifyQuery, rewriteDdl, splitDdl } from '../../src/sql/ddl.ts';
import { strictCollations } from '../../src/sql/strict-collation.ts';
import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import type { QueryEvent } from '../binlog/events.ts';
import type { ShardHold } from '../checkpoint-holds.ts';
import { forStatement } from '../db/collations.ts';
import { classifyMysqlError } from '../db/mysql.ts';
import { crashPoint } from '../fault.ts';
import { reopenMeta, writer } from './apply.ts';
import { filterDdl } from './ddl-filter.ts';
import { execIgnoringApplied } from './ddl-ignorable.ts';
import type { SyncState } from './state.ts';
import { EventKind } from '../../src/events/record.ts';
import type { BinlogOperator } from '../../src/coord/records.ts';

/**
 * DDL and other standalone statements, in two halves: planning a statement (what it becomes downstream: the block-allow
 * list, tables reloaded from a later snapshot, the event filter per split statement and ALTER clause, strict
 * collations, routing; nothing runs) and applying it (the pending marker, execution, "already applied" errors on
 * replay, the checkpoint that moves every writer past it).
 */

/** Downstream errnos that mean "this DDL already took effect": table/db exists or is gone, duplicate column/key,
 * unknown column/key to drop. Accepted only when replaying the DDL that was in flight at a crash. */
const ALREADY_APPLIED = new Set([1007, 1008, 1050, 1051, 1054, 1060, 1061, 1091, 1146]);

/**
 * The downstream statements `text` (the event's SQL, or a `dmctl binlog replace` statement) becomes: filtered, split
 * and routed. None when the statement is out of the block-allow list, filtered out, or its tables were reloaded from
 * a later snapshot. A statement tsdm cannot classify is an error (never skipped silently).
 */
export function planDdl(st: SyncState, text: string, ev: QueryEvent): string[] {
  const { ctx } = st;
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
  if (info.kind !== 'ddl') return [];
  const tables: TableName[] = info.tables.length ? info.tables : [{ schema: ev.schema, table: '' }];
  const allowed = (t: TableName) =>
    t.table ? ctx.rules.allowTable(t.schema, t.table) : ctx.rules.allowSchema(t.schema);
  if (!tables.some(allowed)) return [];
  // Tables a resumed load reloaded from a later snapshot already have this DDL's effect (load-reconcile.ts).
  const loaded = (t: TableName) => (t.table ? st.loadedAt.get(`${tableKey(t)}`) : st.schemaLoadedAt.get(t.schema));
  if (
    tables.filter(allowed).every((t) => {
      const at = loaded(t);
      return at !== undefined && comparePos(ev.end, at) <= 0;
    })
  ) {
    ctx.log.info({ sql: text, position: at }, 'DDL skipped: its tables were loaded from a later snapshot');
    return [];
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
  const out: string[] = [];
  for (const stmt of todo) {
    try {
      out.push(
        rewriteDdl(strict(st, stmt, ev), ev.schema, (t) =>
          t.table ? ctx.rules.route(t.schema, t.table) : { schema: ctx.rules.routeSchema(t.schema), table: '' },
        ),
      );
    } catch (err) {
      const e = asDmError(err, 'UnsupportedEvent');
      Object.assign(e.context, { sql: stmt, position: at });
      throw e;
    }
  }
  return out;
}

/** collation_compatible: strict — the statement with the upstream's collations made explicit (DM's adjustCollation,
 * before routing as there). A CREATE DATABASE without charset takes the collation_server of the session that ran it. */
function strict(st: SyncState, stmt: string, ev: QueryEvent): string {
  if (!st.collations) return stmt;
  const out = strictCollations(stmt, forStatement(st.collations, ev.serverCollation));
  if (out !== stmt)
    st.ctx.log.info(
      { sql: stmt, strict: out, serverCollation: ev.serverCollation, position: posKey(ev.end) },
      'collation_compatible strict: explicit collation added',
    );
  return out;
}

/**
 * Runs planned statements of event `ev` downstream on writer 0, each after the pending marker. `replaying`: the
 * marker said this event's DDL was in flight at a crash, so "already applied" errors are accepted.
 */
async function runDdl(st: SyncState, sqls: string[], ev: QueryEvent, opts: { replaying: boolean }): Promise<void> {
  const { ctx } = st;
  const at = posKey(ev.end);
  for (const sql of sqls) {
    await ctx.ckpt.markDdlPending(st.down, at);
    try {
      const conn = await writer(st, 0);
      await execIgnoringApplied(
        sql,
        (q) => conn.query(q),
        (i) => ctx.log.warn({ ...i, position: at }, 'DDL error ignored: the downstream already has its effect (as DM)'),
      );
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      // Shard mode: every shard's CREATE TABLE targets the one merged table; the first one created it.
      if (st.shard?.mergesCreateTable && errno === 1050) continue;
      if (opts.replaying && errno !== undefined && ALREADY_APPLIED.has(errno)) {
        ctx.log.warn({ sql, position: at, errno }, 'DDL was applied before a crash; continuing');
        continue;
      }
      const e = classifyMysqlError(err, 'downstream', { sql });
      e.context.position = at;
      await ctx.ckpt.clearDdlPending(st.down).catch(() => undefined);
      throw new DmError(e.retryable ? 'DownstreamTransient' : 'DownstreamExec', `DDL failed downstream: ${e.message}`, {
        cause: err,
        context: e.context,
        suggestion: e.retryable
          ? e.suggestion
          : `Fix the downstream and \`dmctl resume-task ${ctx.task.name}\`, or skip the statement with \`dmctl binlog skip ${ctx.task.name}\`, run other SQL in its place with \`dmctl binlog replace ${ctx.task.name} "<sql>;…"\`, or run SQL before it with \`dmctl binlog inject ${ctx.task.name} "<sql>;…"\`.`,
      });
    }
    ctx.log.info({ sql, position: at }, 'DDL applied');
  }
}

/**
 * A shard DDL the coordinator decided to run (agent/shard/coordinator.ts), on writer 0. A DDL autocommits: like the DDL
 * marker, the ownership check runs right before it (fencing, checkpoint.ts). `again`: it may have run before a crash,
 * so "already applied" errors are accepted.
 */
export async function execCoordinatedDdl(st: SyncState, sql: string, opts: { again: boolean }): Promise<void> {
  const { ctx } = st;
  const conn = await writer(st, 0);
  await ctx.ckpt.checkFence(conn, `shard ddl ${sql.slice(0, 100)}`);
  st.ids.invalidate();
  try {
    await execIgnoringApplied(
      sql,
      (q) => conn.query(q),
      (i) => ctx.log.warn(i, 'shard DDL error ignored: the downstream already has its effect (as DM)'),
    );
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    if (opts.again && errno !== undefined && ALREADY_APPLIED.has(errno)) {
      ctx.log.warn({ sql, errno }, 'shard DDL was applied before a crash; continuing');
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
          : `Fix the downstream and \`dmctl resume-task ${ctx.task.name}\`, or release the lock without the DDL: \`dmctl shard-ddl-lock unlock <lock-id> --action skip\`.`,
      },
    );
  }
}

/**
 * DDL and other standalone statements: a barrier (the caller flushed), applied alone, then all writers move past
 * it in one checkpoint transaction. A `dmctl binlog skip|replace|inject` decision for this position takes precedence.
 * Crash between applying the DDL and moving the checkpoint: the DDL is replayed; the pending marker written before
 * it lets the replay accept "already done" errors from the downstream for that one statement.
 */
export async function applyQuery(st: SyncState, ev: QueryEvent): Promise<void> {
  const { ctx } = st;
  const at = posKey(ev.end);
  await reopenMeta(st);
  let extra: { sql: string; params: unknown[] }[] = [];
  let held = false;
  let reach: ShardHold | undefined;
  if (st.shard) {
    const r = await st.shard.onDdl(ev);
    if (r === 'done') return;
    if (r !== 'normal') {
      extra = r.hold;
      held = true;
      reach = r.reach;
    }
  }
  // While a released shard replays, the stream re-reads statements the writers are already past.
  if (comparePos(ev.end, minPos(st.writerPos)!) <= 0) return;
  const op = ctx.binlogOp(at);
  if (held) {
    // A shard DDL: held by its lock (the owner runs it once every shard reached it); nothing runs here.
  } else if (op?.op === 'skip') {
    ctx.log.warn({ sql: ev.sql, position: at }, 'statement skipped by dmctl binlog skip');
    ctx.event({ kind: EventKind.binlogSkip, message: 'statement skipped', position: at, ...opFacts(op, ev.sql) });
  } else {
    const pending = await ctx.ckpt.readDdlPending(st.down);
    const replaying = pending === at;
    // inject (DM's binlog inject): the user's statements first, then the event's own. A crash between them replays
    // them all; the pending marker makes "already applied" errors acceptable for each, as for a replace.
    const sqls = op?.op === 'replace' ? (op.sqls ?? []) : op?.op === 'inject' ? [...(op.sqls ?? []), ev.sql] : [ev.sql];
    for (const sql of sqls) await runDdl(st, planDdl(st, sql, ev), ev, { replaying });
    if (op?.op === 'replace') {
      ctx.log.warn({ sql: ev.sql, replacedBy: op.sqls, position: at }, 'statement replaced by dmctl binlog replace');
      ctx.event({ kind: EventKind.binlogReplace, message: 'statement replaced', position: at, ...opFacts(op, ev.sql) });
    } else if (op?.op === 'inject') {
      ctx.log.warn({ sql: ev.sql, injected: op.sqls, position: at }, 'statements injected by dmctl binlog inject');
      ctx.event({ kind: EventKind.binlogInject, message: 'statements injected', position: at, ...opFacts(op, ev.sql) });
    }
  }
  if (st.shard) extra = [...st.shard.appliedSqls(ev.end), ...extra];
  await ctx.ckpt.writeAllWriters(st.down, ev.end, st.writerCount, ev.trackerAfter, extra);
  if (held) crashPoint('shard-held');
  if (reach) await st.shard!.reached(reach);
  st.writerPos = st.writerPos.map(() => ev.end);
  st.shard?.markApplied(ev.end);
  st.synced = ev.end;
}

/** The facts of a binlog skip|replace|inject event: the statement, the user's statements, who decided. */
function opFacts(op: BinlogOperator, sql: string): { by?: string; detail: Record<string, string> } {
  const key = op.op === 'inject' ? 'injected' : 'replacedBy';
  return {
    ...(op.by ? { by: op.by } : {}),
    detail: { sql, ...(op.sqls ? { [key]: op.sqls.join('; ') } : {}) },
  };
}
