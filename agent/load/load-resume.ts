import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../src/sql/table-name.ts';
import { DmError } from '../../src/errors/index.ts';
import { classifyQuery } from '../../src/sql/ddl.ts';
import { maxPos, posKey, type BinlogPosition } from '../../src/binlog/position.ts';
import type { SourceState } from '../checkpoint.ts';
import type { ChunkRow, TableReload } from '../checkpoint-load.ts';
import { binlogStatements } from '../db/binlog-ddl.ts';
import { query } from '../db/mysql.ts';
import { quoteIdent } from '../../src/sql/table-name.ts';
import type { SubtaskContext } from '../unit.ts';
import { createTarget, migratedTable, planChunks, schemaCreator, snapshotInfo, strictDefaults } from './dump.ts';
import { planReload, tableKey, type PlanTable, type TouchingStatement } from './load-reconcile.ts';
import { Snapshot } from './snapshot.ts';

/**
 * A load restarting after a crash, a failover or an error: its first snapshot is gone, so it takes a new one and
 * reconciles the plan with it before loading what is left (agent/load/load-reconcile.ts says which tables are
 * reloaded whole and why). Order, and what a crash leaves:
 *  1. new snapshot at P (tables, CREATE TABLE and structure read under its lock);
 *  2. the statements of the binlog in (first snapshot, P] name the tables DDL touched;
 *  3. each table to reload is dropped downstream and created from P's CREATE TABLE;
 *  4. one transaction replaces those tables' chunks by a plan at P, records P as their `loadedAt`, and moves
 *     safe mode's end to P.
 * A crash between 3 and 4 leaves the old plan with tables already dropped: the next start computes the same
 * tables again (their chunks are still unfinished, the DDL still in range) and drops them again.
 */
export async function resumeSnapshot(
  ctx: SubtaskContext,
  down: Connection,
  chunks: ChunkRow[],
  workers: number,
): Promise<Snapshot> {
  const full = ctx.task.taskMode === 'full';
  const snap = await Snapshot.take(ctx.source.from, workers, {
    withSchema: true,
    withPosition: !full,
    tables: (s, t) => migratedTable(ctx.rules, s, t),
  });
  try {
    const st = await ctx.ckpt.readState(down);
    const reloads = await ctx.ckpt.readReloads(down);
    const plan = planTables(chunks, reloads);
    const tables = snap.tables ?? [];
    const base = st?.syncStart;
    const ddl = full || !base ? undefined : await touching(ctx, snap, base);
    const changed = await structureChanged(
      ctx,
      down,
      snap,
      plan.filter((t) => !t.done),
    );
    const decision = planReload({
      ...(full || !base ? {} : { base, at: snap.position }),
      plan,
      snapshot: tables,
      ...(ddl ? { ddl } : {}),
      changed: (t) => changed.has(tableKey(t)),
    });
    const safeUntil = full ? undefined : maxPos([snap.position, ...(st?.safeUntil ? [st.safeUntil] : [])]);
    const syncStart = full ? st?.syncStart : (st?.syncStart ?? snap.position);
    const state: SourceState = {
      phase: 'load',
      ...(syncStart ? { syncStart } : {}),
      ...(safeUntil ? { safeUntil } : {}),
    };
    if (decision.reload.length === 0) {
      await ctx.ckpt.writeState(down, state);
      ctx.log.info(
        { position: snap.position, remaining: chunks.filter((c) => !c.done).length },
        'resuming load with a new snapshot',
      );
      return snap;
    }
    if (ddl === undefined && !full) {
      ctx.log.warn(
        { from: base ? posKey(base) : '-', to: posKey(snap.position) },
        'the binlog since the first snapshot cannot be read: every table is loaded again from the new snapshot',
      );
    }
    refuseMerged(ctx, decision.reload, [...plan, ...tables]);
    const strict = await strictDefaults(ctx.task, snap.conns[0]!);
    const ensureSchema = schemaCreator(snap.conns[0]!, down, strict);
    const present = new Map(tables.map((t) => [tableKey(t), t]));
    const newChunks: ChunkRow[] = [];
    for (const t of decision.reload) {
      const target = ctx.rules.route(t.schema, t.table);
      await query(down, 'downstream', `DROP TABLE IF EXISTS ${quoteIdent(target.schema)}.${quoteIdent(target.table)}`);
      const p = present.get(tableKey(t));
      if (!p) continue;
      await ensureSchema(t.schema, target.schema);
      await createTarget(down, p.createSql, target, strict);
      newChunks.push(
        ...(await planChunks(
          snap.conns[0]!,
          t,
          target,
          ctx.spec.dump.rows || 10_000,
          ctx.spec.dump.where,
          snapshotInfo(snap, t),
        )),
      );
    }
    const marks: TableReload[] = full
      ? []
      : [
          ...decision.reload.map((t) => ({ ...t, at: snap.position })),
          ...decision.schemas.map((schema) => ({ schema, table: '', at: snap.position })),
        ];
    await ctx.ckpt.replan(down, decision.reload, newChunks, marks, state);
    ctx.log.warn(
      {
        position: snap.position,
        tables: decision.reload.map((t) => `${tableKey(t)}`).slice(0, 50),
        count: decision.reload.length,
      },
      'resuming load with a new snapshot: tables changed by DDL since the first snapshot are loaded again whole',
    );
    return snap;
  } catch (err) {
    snap.close();
    throw err;
  }
}

/** One entry per upstream table of the chunk plan (plus tables reloaded before that are gone from it). */
function planTables(chunks: ChunkRow[], reloads: TableReload[]): PlanTable[] {
  const out = new Map<string, PlanTable>();
  for (const c of chunks) {
    const k = tableKey(c);
    const t = out.get(k) ?? { schema: c.schema, table: c.table, done: true };
    t.done &&= c.done;
    out.set(k, t);
  }
  for (const r of reloads) {
    const t = out.get(tableKey(r));
    if (t && r.table) t.loadedAt = r.at;
  }
  return [...out.values()];
}

/** Statements of the binlog in (base, snapshot] naming a migrated table or schema; undefined when unknown. */
async function touching(
  ctx: SubtaskContext,
  snap: Snapshot,
  base: BinlogPosition,
): Promise<TouchingStatement[] | undefined> {
  const stmts = await binlogStatements(snap.conns[0]!, base, snap.position);
  if (!stmts) return undefined;
  const out: TouchingStatement[] = [];
  for (const s of stmts) {
    let info;
    try {
      info = classifyQuery(s.sql, s.schema);
    } catch {
      return undefined;
    }
    if (info.kind === 'unknown') return undefined;
    if (info.kind !== 'ddl') continue;
    const tables = info.tables.filter((t) =>
      t.table ? migratedTable(ctx.rules, t.schema, t.table) : ctx.rules.allowSchema(t.schema),
    );
    if (tables.length) out.push({ end: s.end, tables });
  }
  return out;
}

/** Tables whose downstream columns are not the snapshot's (+ extended columns): a check beside the binlog's DDL. */
async function structureChanged(
  ctx: SubtaskContext,
  down: Connection,
  snap: Snapshot,
  tables: TableName[],
): Promise<Set<string>> {
  const out = new Set<string>();
  for (const t of tables) {
    const info = snapshotInfo(snap, t);
    if (!info) {
      out.add(tableKey(t));
      continue;
    }
    const target = ctx.rules.route(t.schema, t.table);
    const rows = await query<Record<string, string>[]>(
      down,
      'downstream',
      'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [target.schema, target.table],
    );
    const want = [
      ...info.columns.map((c) => c.name),
      ...(ctx.rules.extendColumns(t.schema, t.table)?.columns ?? []),
    ].map((c) => c.toLowerCase());
    const have = rows.map((r) => String(r.c).toLowerCase());
    if (want.join('\u0000') !== have.join('\u0000')) out.add(tableKey(t));
  }
  return out;
}

/** A merged target holds other tables' rows too: it cannot be dropped to reload one of them. */
function refuseMerged(ctx: SubtaskContext, reload: TableName[], all: TableName[]): void {
  const sources = new Map<string, Set<string>>();
  for (const t of all) {
    const target = ctx.rules.route(t.schema, t.table);
    const k = tableKey(target);
    sources.set(k, (sources.get(k) ?? new Set()).add(tableKey(t)));
  }
  const merged = reload.filter(
    (t) => ctx.task.shardMode || (sources.get(tableKey(ctx.rules.route(t.schema, t.table)))?.size ?? 0) > 1,
  );
  if (merged.length === 0) return;
  const names = merged.map((t) => `${tableKey(t)}`).join(', ');
  throw new DmError(
    'LoadResumeMerged',
    `the load restarted after DDL upstream changed ${names}, which ${merged.length > 1 ? 'are' : 'is'} merged with other tables downstream: tsdm cannot reload only ${merged.length > 1 ? 'their' : 'its'} rows`,
    {
      context: { table: names, task: ctx.task.name },
      suggestion: `Restart the migration of this task from the beginning: \`dmctl stop-task ${ctx.task.name}\`, drop its target tables downstream, then \`dmctl start-task --remove-meta task.yaml\`. Avoid DDL on shard tables while they are being loaded.`,
    },
  );
}
