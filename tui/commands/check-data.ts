import { mkdirPrivate, writePrivateFile } from '../../src/fs/private.ts';
import { join } from 'node:path';
import {
  Bucket,
  type CheckFixRecord,
  type CheckOptions,
  type CheckRecord,
  type CheckTableRecord,
  type Coord,
  Keys,
  type TaskRecord,
} from '../../src/coord/index.ts';
import { DmError, formatRecord } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';

/**
 * `dmctl check-data TASK` (issue #15; DM users know sync-diff-inspector): asks the agents to compare every table the
 * task migrates, upstream vs downstream as the task maps them, at one consistent point, and waits for the report.
 * The request and its progress live in `dm_checks` (src/coord/check-records.ts), so the check goes on (and resumes)
 * without this process; running the command again attaches to a check still running.
 */
export const checkData: Command = {
  name: 'check-data',
  summary: 'prove the copy equal: compare upstream and downstream (and repair)',
  usage: `
  Usage
    $ dmctl check-data TASK [--repair] [--fix-sql DIR] [--threads N] [--table SCHEMA.TABLE]...

  Compares every table TASK migrates, upstream against downstream as the task maps them (routes, shard merges with
  their extended columns, block/allow lists), at one consistent point: each source's sync stops for a moment at a
  binlog position P, the upstream is read in a snapshot at P and the downstream as of P, then sync goes on (no
  FLUSH TABLES WITH READ LOCK). Chunks of keys are compared by checksums the servers compute; only chunks that
  differ are read row by row. Values are compared exactly (to the microsecond and the byte). Tables whose copy is
  meant to differ (an event filter ignoring deletes, an expression filter, a dump where) are reported not
  comparable, with the rule. Progress is stored: a check whose agent died resumes where it was; running the
  command again while a check runs attaches to it. Progress goes to stderr.

  Flags
    --repair              make the downstream equal: each differing table is compared again while sync is held and
                          the fix statements applied; the report counts what remains
    --fix-sql DIR         write the statements that make the downstream equal to DIR/<schema>.<table>.sql
    --threads N           tables compared at once (default 4)
    --chunk-rows N        rows per checksum chunk (default 10000)
    --table SCHEMA.TABLE  only this target table (repeatable)
    --max-lag SEC         wait between chunks while the task's sync lags more than SEC seconds (default 10; 0: never)
    --max-load N          wait between chunks while an upstream's Threads_running is above N (default 25; 0: never)
    --status              show the last check of TASK without starting one

  Exit codes
    0 equal   1 differences remain (or the check failed)   2 bad usage   3 no agent took the check in --timeout

  --json prints {result, task, check, differences, tables: [{target, upstream, status, reason, rows, differences:
  [{key, kind, columns: [{name, upstream, downstream}]}], differenceCount, repaired}], ...}; result is true when equal.
`,
  flags: {
    repair: { type: 'boolean' },
    fixSql: { type: 'string' },
    threads: { type: 'number' },
    chunkRows: { type: 'number' },
    table: { type: 'string', isMultiple: true },
    maxLag: { type: 'number' },
    maxLoad: { type: 'number' },
    status: { type: 'boolean' },
  },
  async run(ctx, args, flags) {
    const task = args[0];
    if (!task || args.length > 1) throw usageError('check-data needs exactly one TASK name');
    const threads = (flags.threads as number | undefined) ?? 4;
    const chunkRows = (flags.chunkRows as number | undefined) ?? 10_000;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw usageError('--threads must be 1..64');
    if (!Number.isInteger(chunkRows) || chunkRows < 100) throw usageError('--chunk-rows must be an integer >= 100');
    const maxLag = (flags.maxLag as number | undefined) ?? 10;
    if (!(maxLag >= 0)) throw usageError('--max-lag must be a number of seconds >= 0');
    const maxLoad = (flags.maxLoad as number | undefined) ?? 25;
    if (!Number.isInteger(maxLoad) || maxLoad < 0) throw usageError('--max-load must be an integer >= 0');
    const tables = (flags.table as string[] | undefined) ?? [];
    for (const t of tables) if (!/^[^.]+\.[^.]+$/.test(t)) throw usageError(`--table ${t}: expected SCHEMA.TABLE`);
    const fixDir = flags.fixSql as string | undefined;
    const coord = await ctx.coord();
    if (!(await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task))))
      throw new DmError('TaskNotFound', `task ${task} does not exist`);
    const key = Keys.check(task);
    let rec: CheckRecord;
    if (flags.status) {
      const e = await coord.get<CheckRecord>(Bucket.checks, key);
      if (!e) throw new DmError('TaskNotFound', `task ${task} has never been checked`);
      rec = e.value;
    } else {
      const options: CheckOptions = {
        repair: flags.repair === true,
        fixSql: fixDir !== undefined,
        threads,
        chunkRows,
        maxLagSeconds: maxLag,
        maxThreadsRunning: maxLoad,
        ...(tables.length ? { tables } : {}),
      };
      rec = await request(ctx, coord, task, options);
      rec = await waitFor(ctx, coord, task, rec);
    }
    if (fixDir && rec.state === 'finished') await writeFixSql(coord, task, rec, fixDir);
    return report(ctx, rec, fixDir);
  },
};

/** Starts a check (or attaches to the one pending or running). */
async function request(ctx: CommandContext, coord: Coord, task: string, options: CheckOptions): Promise<CheckRecord> {
  const key = Keys.check(task);
  for (let i = 0; i < 5; i++) {
    const cur = await coord.get<CheckRecord>(Bucket.checks, key);
    if (cur && (cur.value.state === 'pending' || cur.value.state === 'running')) {
      ctx.err.write(
        `check ${cur.value.id} of ${task} is already ${cur.value.state} (since ${cur.value.requestedAt}): attaching to it\n`,
      );
      return cur.value;
    }
    if (cur)
      for (const e of await coord.list<unknown>(Bucket.checks, `fix.${key.slice('check.'.length)}.>`))
        await coord.delete(Bucket.checks, e.key);
    const now = new Date().toISOString();
    const rec: CheckRecord = {
      id: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
      task,
      state: 'pending',
      options,
      requestedAt: now,
      updatedAt: now,
    };
    const ok = cur
      ? await coord.update(Bucket.checks, key, rec, cur.revision)
      : await coord.create(Bucket.checks, key, rec);
    if (ok !== undefined) return rec;
  }
  throw new DmError('Timeout', `the check record of ${task} kept changing concurrently; retry`);
}

/** Polls the record until the check ends, printing progress on stderr. */
async function waitFor(ctx: CommandContext, coord: Coord, task: string, rec: CheckRecord): Promise<CheckRecord> {
  const since = Date.now();
  let lastLine = 0;
  const tty = (ctx.err as NodeJS.WriteStream).isTTY === true;
  for (;;) {
    const e = await coord.get<CheckRecord>(Bucket.checks, Keys.check(task));
    if (!e) throw new DmError('TaskNotFound', `the check of ${task} was removed`);
    if (e.value.id !== rec.id)
      throw new DmError('CheckLost', `the check of ${task} was replaced by check ${e.value.id}`);
    rec = e.value;
    if (rec.state === 'finished' || rec.state === 'failed') {
      if (tty) ctx.err.write('\r\x1b[K');
      return rec;
    }
    if (rec.state === 'pending' && Date.now() - since > ctx.flags.timeout * 1000)
      throw new DmError(
        'Timeout',
        `no agent took check ${rec.id} of ${task} within ${ctx.flags.timeout}s: is the agent bound to the task's first source alive? (the request stays; it starts when that agent runs; \`dmctl check-data ${task}\` attaches to it)`,
      );
    const now = Date.now();
    if (now - lastLine >= (tty ? 500 : 5000)) {
      lastLine = now;
      const line = progressLine(rec);
      ctx.err.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

export function progressLine(rec: CheckRecord): string {
  const p = rec.progress;
  if (rec.state === 'pending' || !p) return `check ${rec.id}: waiting for the agent…`;
  const pct = p.rowsTotal > 0 ? Math.min(100, Math.floor((p.rowsDone / p.rowsTotal) * 100)) : 0;
  const eta = p.etaSeconds !== undefined ? `, ETA ${p.etaSeconds}s` : '';
  return `check ${rec.id}: ${p.tablesDone}/${p.tablesTotal} tables, ${p.rowsDone.toLocaleString('en-US')} rows (${pct}%), ${p.rowsPerSecond.toLocaleString('en-US')} rows/s${eta}${p.throttled ? ` [throttled: ${p.throttled}]` : ''}`;
}

async function writeFixSql(coord: Coord, task: string, rec: CheckRecord, dir: string): Promise<void> {
  const prefix = `fix.${Keys.check(task).slice('check.'.length)}.`;
  const parts = (await coord.list<CheckFixRecord>(Bucket.checks, `${prefix}>`))
    .filter((e) => e.key.startsWith(`${Keys.checkFix(task, rec.id, 0).slice(0, -1)}`))
    .sort((a, b) => Number(a.key.split('.').pop()) - Number(b.key.split('.').pop()));
  const byTable = new Map<string, string[]>();
  for (const p of parts) byTable.set(p.value.target, [...(byTable.get(p.value.target) ?? []), ...p.value.sql]);
  // Owner-only: the statements carry upstream rows.
  mkdirPrivate(dir);
  for (const [target, sql] of byTable)
    writePrivateFile(
      join(dir, `${target}.sql`),
      `-- check-data ${rec.id} of task ${task}: makes ${target} equal to its upstream\n${sql.map((s) => `${s};`).join('\n')}\n`,
    );
}

function report(ctx: CommandContext, rec: CheckRecord, fixDir: string | undefined): number {
  if (rec.state === 'failed') {
    if (rec.error) return ctx.failRecord(rec.error);
    return ctx.fail(new DmError('Internal', `check ${rec.id} failed`));
  }
  if (rec.state !== 'finished') {
    ctx.print(progressLine(rec));
    return Exit.failed;
  }
  const tables = Object.values(rec.tables ?? {}).sort((a, b) => a.target.localeCompare(b.target));
  const differences = tables.reduce((s, t) => s + t.differences, 0);
  // Equal only with proof for every table: one the task does not mean to differ but that could not be compared fails.
  const unproven = tables.filter((t) => t.unexpected).length;
  const equal = differences === 0 && unproven === 0;
  const elapsed =
    rec.startedAt && rec.finishedAt ? (Date.parse(rec.finishedAt) - Date.parse(rec.startedAt)) / 1000 : undefined;
  if (ctx.flags.json) {
    ctx.json({
      result: equal,
      task: rec.task,
      check: rec.id,
      differences,
      notComparable: tables.filter((t) => t.status === 'not-comparable').length,
      unproven,
      rows: tables.reduce((s, t) => s + t.rows, 0),
      ...(elapsed !== undefined ? { elapsedSeconds: elapsed } : {}),
      resumed: rec.resumed ?? 0,
      notes: rec.notes ?? [],
      ...(fixDir ? { fixSqlDir: fixDir } : {}),
      tables: tables.map((t) => tableJson(t)),
    });
    return equal ? Exit.ok : Exit.failed;
  }
  const w = Math.max(6, ...tables.map((t) => t.target.length));
  ctx.print(`${'TARGET'.padEnd(w)}  STATUS          ROWS  DIFFERENCES`);
  for (const t of tables) {
    ctx.print(
      `${t.target.padEnd(w)}  ${(t.status ?? '?').padEnd(14)} ${String(t.rows).padStart(5)}  ${t.differences}${t.repaired ? ` (${t.repaired} repaired)` : ''}${t.reason ? `  ${t.reason}` : ''}`,
    );
    for (const d of (t.samples ?? []).slice(0, 10)) {
      const key = Object.entries(d.key)
        .map(([k, v]) => `${k}=${v ?? 'NULL'}`)
        .join(',');
      const cols = d.columns
        .slice(0, 4)
        .map((c) => `${c.name}: ${c.upstream ?? 'NULL'} | ${c.downstream ?? 'NULL'}`)
        .join('; ');
      ctx.print(`    ${d.kind.padEnd(7)} ${key}  ${d.kind === 'changed' ? cols : ''}`);
    }
    if ((t.samples?.length ?? 0) > 10) ctx.print(`    … ${t.differences - 10} more (--json lists up to 100)`);
  }
  const nc = tables.filter((t) => t.status === 'not-comparable').length;
  ctx.print(
    `${equal ? 'equal' : differences ? `${differences} differing row(s)` : 'not proven equal'}: ${tables.length} table(s)${nc ? `, ${nc} not comparable` : ''}${unproven ? ` (${unproven} that the task does not mean to differ: fix them, see the reasons)` : ''}${elapsed !== undefined ? ` in ${elapsed.toFixed(1)}s` : ''}${fixDir ? `; fix statements in ${fixDir}` : ''}`,
  );
  for (const n of rec.notes ?? []) ctx.print(`note: ${n}`);
  if (rec.error) ctx.err.write(`${formatRecord(rec.error)}\n`);
  return equal ? Exit.ok : Exit.failed;
}

function tableJson(t: CheckTableRecord): Record<string, unknown> {
  return {
    target: t.target,
    upstream: t.upstream,
    status: t.status,
    ...(t.reason ? { reason: t.reason } : {}),
    ...(t.unexpected ? { unexpected: true } : {}),
    rows: t.rows,
    differenceCount: t.differences,
    differences: t.samples ?? [],
    ...(t.repaired !== undefined ? { repaired: t.repaired } : {}),
  };
}
