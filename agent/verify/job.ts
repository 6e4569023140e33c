import type { Connection } from 'mysql2/promise';
import type { SourceConfig, TaskConfig } from '../../src/config/types.ts';
import type { CheckFixRecord, CheckProgress, CheckRecord, CheckTableRecord } from '../../src/coord/index.ts';
import { connect, query } from '../db/mysql.ts';
import { qualified } from '../sync/sqlgen.ts';
import { taskZone } from '../db/timezone.ts';
import { tableRowStats } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { compareTable } from './compare-table.ts';
import { closeView, type HoldClient, openViews, type ViewSource } from './consistent-point.ts';
import { planTables, type PlannedTable } from './plan.ts';
import { repairTable } from './repair.ts';
import type { TableResult, View } from './types.ts';

/** What a check run needs from its host (runner.ts): the task, its sources, and where state goes. */
export interface CheckJobHost {
  task: TaskConfig;
  sources: Map<string, SourceConfig>;
  /** Sources whose sync unit runs (held at the consistent point); the others' downstream does not move. */
  syncing: Set<string>;
  holds: HoldClient;
  /** Holds for a repair: sync stands still while a differing table is compared again and fixed (a longer TTL). */
  repairHolds: HoldClient;
  /** CAS read-modify-write of the record; throws (CheckLost) when another run owns it now. */
  update(fn: (r: CheckRecord) => CheckRecord): Promise<CheckRecord>;
  putFix(n: number, fix: CheckFixRecord): Promise<void>;
  /** The largest replication lag of the task's syncing sources (seconds, from dm_status), for throttling. */
  lagSeconds(): Promise<number>;
  /** Threads_running of each source's upstream, for throttling. */
  threadsRunning(): Promise<{ source: string; running: number }[]>;
  log: Logger;
  signal: AbortSignal;
}

const MAX_SAMPLES = 100;
/** Fault hook for crash tests only: slows each chunk down so a test can kill the agent mid-check reliably. */
const CHUNK_DELAY_MS = Number(process.env.TSDM_FAULT_CHECK_CHUNK_DELAY_MS ?? 0);
const SAVE_EVERY_MS = 1000;

/** A downstream connection with the task's session (its time zone: TIMESTAMP values read as the writers wrote them). */
export function downstreamConnector(task: TaskConfig): () => Promise<Connection> {
  return () => connect(task.targetDatabase, 'downstream', { timeZone: taskZone(task).session });
}

/**
 * One check-data run (src/coord/check-records.ts has the protocol):
 * 1. plan the target tables from the task's rules (plan.ts); tables done in an earlier run keep their result;
 * 2. open `threads` Views at one consistent point (consistent-point.ts: sync held for a moment, never FTWRL);
 * 3. each View compares one table at a time (compare-table.ts), saving the last key after each chunk, so a run
 *    killed here resumes after it (at a new consistent point: what was compared stays compared);
 * 4. with `repair`, each different table is compared again while sync is held and its fix statements applied
 *    (repair.ts), then compared once more at a new point: the differences reported are those that remain.
 */
export async function runCheck(rec: CheckRecord, host: CheckJobHost): Promise<CheckRecord> {
  const { task, log } = host;
  const plans = await planTables(task, host.sources, rec.options.tables);
  const down = await downstreamConnector(task)();
  let estimates: Map<string, number>;
  try {
    estimates = await rowEstimates(down, plans);
  } finally {
    down.destroy();
  }
  rec = await host.update((r) => {
    const tables: Record<string, CheckTableRecord> = { ...(r.tables ?? {}) };
    for (const p of plans) {
      const upstream = p.shards.map((s) => `${s.source}:${s.schema}.${s.table}`);
      const cur = tables[p.name];
      tables[p.name] = cur ? { ...cur, upstream } : { target: p.name, upstream, done: false, rows: 0, differences: 0 };
      if (p.notComparable)
        tables[p.name] = { ...tables[p.name]!, status: 'not-comparable', reason: p.notComparable, done: true };
    }
    for (const k of Object.keys(tables)) if (!plans.some((p) => p.name === k)) delete tables[k];
    return { ...r, tables, progress: progressOf(tables, estimates, 0) };
  });
  const started = Date.now();
  const rowsAtStart = sumRows(rec.tables ?? {});
  const todo = plans.filter((p) => !rec.tables?.[p.name]?.done);
  log.info({ tables: plans.length, todo: todo.length }, 'check-data: comparing');
  let fixN = rec.fixKeys ?? 0;
  const saveFix = async (target: string, sql: string[]): Promise<void> => {
    if (!rec.options.fixSql || sql.length === 0) return;
    // Bounded parts: a KV value stays far below NATS's 1 MB payload limit.
    for (let i = 0, part: string[] = [], bytes = 0; i <= sql.length; i++) {
      const s = sql[i];
      if (s === undefined || (bytes + s.length > 512_000 && part.length > 0)) {
        await host.putFix(fixN++, { target, sql: part });
        part = [];
        bytes = 0;
      }
      if (s !== undefined) {
        part.push(s);
        bytes += s.length;
      }
    }
  };

  const finishTable = async (p: PlannedTable, r: TableResult & { unexpected?: boolean }): Promise<void> => {
    await saveFix(p.name, r.fixSql);
    rec = await host.update((cur) => {
      const tables = { ...(cur.tables ?? {}) };
      const t = tables[p.name]!;
      tables[p.name] = {
        ...t,
        done: true,
        lastKey: undefined,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.unexpected ? { unexpected: true } : {}),
        rows: r.rows,
        differences: r.differences,
        samples: r.samples.slice(0, MAX_SAMPLES),
      };
      return { ...cur, tables, fixKeys: fixN, progress: progressOf(tables, estimates, rate()) };
    });
  };
  const rate = () => (sumRows(rec.tables ?? {}) - rowsAtStart) / Math.max(0.001, (Date.now() - started) / 1000);

  // Throttle (as gh-ost, Spirit and pt-online-schema-change do): the check reads both servers hard; while sync lags
  // more than --max-lag or an upstream runs more than --max-load threads, every view waits between chunks until it
  // is back (the snapshots stay open meanwhile).
  const maxLag = rec.options.maxLagSeconds ?? 10;
  const maxLoad = rec.options.maxThreadsRunning ?? 25;
  const reason = async (): Promise<string | undefined> => {
    if (maxLag > 0 && host.syncing.size > 0) {
      const lag = await host.lagSeconds();
      if (lag > maxLag) return `sync lag ${lag}s > --max-lag ${maxLag}s`;
    }
    if (maxLoad > 0)
      for (const { source, running } of await host.threadsRunning())
        if (running > maxLoad) return `${source} Threads_running ${running} > --max-load ${maxLoad}`;
    return undefined;
  };
  let lastCheck = 0;
  let throttling: Promise<void> | undefined;
  const throttle = async (): Promise<void> => {
    if (throttling) return throttling;
    if (Date.now() - lastCheck < 1000) return;
    lastCheck = Date.now();
    let why = await reason();
    if (!why) return;
    throttling = (async () => {
      log.info({ why }, 'check-data: throttled');
      while (why && !host.signal.aborted) {
        const throttled = why;
        rec = await host.update((cur) => ({
          ...cur,
          progress: { ...(cur.progress ?? progressOf({}, estimates, 0)), throttled },
        }));
        await new Promise((r) => setTimeout(r, 1000));
        why = await reason();
      }
      rec = await host.update((cur) => {
        const { throttled: _, ...progress } = cur.progress ?? progressOf({}, estimates, 0);
        return { ...cur, progress };
      });
    })().finally(() => {
      throttling = undefined;
    });
    return throttling;
  };

  if (todo.length > 0) {
    const views = await openViews({
      sources: viewSources(host, todo),
      downstream: downstreamConnector(task),
      count: Math.max(1, Math.min(rec.options.threads, todo.length)),
      holds: host.holds,
      log,
    });
    try {
      const queue = [...todo];
      let lastSave = 0;
      const worker = async (view: View): Promise<void> => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          if (host.signal.aborted) return;
          const prev = rec.tables?.[p.name];
          const result = await compareTable(p, view, {
            chunkRows: rec.options.chunkRows,
            maxSamples: MAX_SAMPLES,
            ...(prev?.lastKey
              ? { resume: { lastKey: prev.lastKey, done: false, rows: prev.rows, differences: prev.differences } }
              : {}),
            signal: host.signal,
            onProgress: async (tp) => {
              if (CHUNK_DELAY_MS > 0) await new Promise((r) => setTimeout(r, CHUNK_DELAY_MS));
              await throttle();
              const t = rec.tables?.[p.name];
              if (t)
                rec.tables![p.name] = {
                  ...t,
                  rows: tp.rows,
                  differences: tp.differences,
                  ...(tp.lastKey ? { lastKey: tp.lastKey } : {}),
                };
              if (Date.now() - lastSave < SAVE_EVERY_MS) return;
              lastSave = Date.now();
              const snapshot = { ...rec.tables };
              rec = await host.update((cur) => ({
                ...cur,
                tables: { ...cur.tables, ...snapshot },
                progress: progressOf(snapshot, estimates, rate()),
              }));
            },
          });
          await finishTable(p, await unplanned(p, view, result));
        }
      };
      const ends = await Promise.allSettled(views.map(worker));
      const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      for (const v of views) closeView(v);
    }
  }
  if (host.signal.aborted) return rec;

  if (rec.options.repair) {
    for (const p of plans) {
      const t = rec.tables?.[p.name];
      if (!t || t.status !== 'different') continue;
      const repaired = await repairTable(p, host, rec.options.chunkRows);
      log.info({ table: p.name, repaired: repaired.applied }, 'check-data: repaired');
      // Compared once more at a new point: what is reported is what remains.
      const after = await compareAgain(p, host, rec.options.chunkRows);
      rec = await host.update((cur) => {
        const tables = { ...(cur.tables ?? {}) };
        tables[p.name] = {
          ...tables[p.name]!,
          repaired: repaired.rows,
          status: after.status,
          differences: after.differences,
          samples: after.samples.slice(0, MAX_SAMPLES),
        };
        return { ...cur, tables };
      });
    }
  }
  const differences = Object.values(rec.tables ?? {}).reduce((s, t) => s + t.differences, 0);
  // A table resumed in the middle keeps counting its differences, but the rows listed and the fix statements cover only
  // the chunks compared after the resume (the engine returns them per run): say so rather than hand out a partial fix.
  const partial = (rec.resumed ?? 0) > 0 && differences > 0 && !rec.options.repair;
  return host.update((cur) => ({
    ...cur,
    state: 'finished',
    differences,
    ...(partial
      ? {
          notes: [
            ...(cur.notes ?? []),
            'this check was resumed after its agent stopped: the differences listed and the fix statements cover only what was compared after the resume (the count covers all); run check-data again for the complete list',
          ],
        }
      : {}),
    finishedAt: new Date().toISOString(),
    progress: progressOf(cur.tables ?? {}, estimates, rate()),
  }));
}

/**
 * A table the task does not mean to differ that still cannot be compared is no proof of equality: when its target
 * table is missing downstream, every upstream row is a missing row ('different'); otherwise (a column missing, a key
 * whose collation differs) it stays not comparable but `unexpected`, which fails the check (exit 1) with the reason.
 */
async function unplanned(p: PlannedTable, view: View, r: TableResult): Promise<TableResult & { unexpected?: boolean }> {
  if (r.status !== 'not-comparable' || p.notComparable) return r;
  const [exists] = await query<{ n: number }[]>(
    view.downstream,
    'downstream',
    'SELECT COUNT(*) n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [p.target.schema, p.target.table],
  );
  if (Number(exists?.n ?? 0) > 0) return { ...r, unexpected: true };
  let rows = 0;
  for (const s of p.shards) {
    const conn = view.upstream.get(s.source);
    if (!conn) continue;
    const [c] = await query<{ n: number }[]>(conn, 'upstream', `SELECT COUNT(*) n FROM ${qualified(s)}`);
    rows += Number(c?.n ?? 0);
  }
  return { ...r, status: 'different', rows, differences: rows };
}

/** The sources a View needs for these plans: each one feeding a plan, with the upstream tables it feeds. */
function viewSources(host: CheckJobHost, plans: PlannedTable[]): ViewSource[] {
  return host.task.subtasks
    .filter((s) => plans.some((p) => p.shards.some((x) => x.source === s.sourceId)))
    .map((s) => ({
      id: s.sourceId,
      db: host.sources.get(s.sourceId)!.from,
      tables: plans.flatMap((p) =>
        p.shards.filter((x) => x.source === s.sourceId).map((x): [string, string] => [x.schema, x.table]),
      ),
      syncing: host.syncing.has(s.sourceId),
    }));
}

async function compareAgain(p: PlannedTable, host: CheckJobHost, chunkRows: number): Promise<TableResult> {
  const [view] = await openViews({
    sources: viewSources(host, [p]),
    downstream: downstreamConnector(host.task),
    count: 1,
    holds: host.holds,
    log: host.log,
  });
  try {
    return await unplanned(
      p,
      view!,
      await compareTable(p, view!, { chunkRows, maxSamples: MAX_SAMPLES, signal: host.signal }),
    );
  } finally {
    closeView(view!);
  }
}

/** Rows per target from the downstream's statistics (an estimate, for the progress and ETA only). */
async function rowEstimates(down: Connection, plans: PlannedTable[]): Promise<Map<string, number>> {
  const stats = await tableRowStats(down, 'downstream', [...new Set(plans.map((p) => p.target.schema))]);
  return new Map([...stats].map(([k, n]) => [k, n ?? 0]));
}

function sumRows(tables: Record<string, CheckTableRecord>): number {
  return Object.values(tables).reduce((s, t) => s + t.rows, 0);
}

function progressOf(
  tables: Record<string, CheckTableRecord>,
  est: Map<string, number>,
  rowsPerSecond: number,
): CheckProgress {
  const all = Object.values(tables);
  const rowsTotal = all.reduce((s, t) => s + (t.done ? t.rows : Math.max(t.rows, est.get(t.target) ?? 0)), 0);
  const rowsDone = sumRows(tables);
  const p: CheckProgress = {
    tablesTotal: all.length,
    tablesDone: all.filter((t) => t.done).length,
    rowsTotal,
    rowsDone,
    rowsPerSecond: Math.round(rowsPerSecond),
  };
  if (rowsPerSecond > 0 && rowsTotal > rowsDone) p.etaSeconds = Math.round((rowsTotal - rowsDone) / rowsPerSecond);
  return p;
}
