/**
 * Scale: (a) one task (mode all) over `tables` small tables: time from start-task until every table is loaded and
 * the task syncs, then until a change to each of 20 sampled tables is on the downstream; (b) `tasks` tasks (mode
 * all, one small schema each) on the same source: time until all sync, the time `dmctl query-status --json` takes to
 * list them (as a process, the way a user runs it) and that it lists each, a change per task synced; the agent's RSS
 * with the table and task count. The source uses the relay (enable-relay: true), as DM advises for many tasks on one
 * source, so the tasks share one binlog reader.
 *
 * Tasks in (b) are started with dmctl's own start-task code in this process (tui/commands/task.ts): the same
 * prechecks and records, without 100 dmctl process start-ups.
 */
import { Writable } from 'node:stream';
import type { MariaDBInstance } from '../test/harness/index.ts';
import { writeTemp } from '../test/harness/tsdm.ts';
import { CommandContext } from '../tui/context.ts';
import { startTask } from '../tui/commands/task.ts';
import { onEach, startEnv, taskYaml, type Env } from './lib/env.ts';
import { rssOf } from './lib/rss.ts';
import { fmtMB, fmtN, fmtS, note, sameTables, type Verdict, verdict } from './lib/report.ts';

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** CHECKSUM TABLE on both sides; the tables whose checksums differ are compared row by row. */
async function sameByChecksum(
  a: MariaDBInstance,
  b: MariaDBInstance,
  tables: [string, string][],
  label: string,
): Promise<Verdict> {
  const list = tables.map(([s, t]) => `${s}.${t}`).join(', ');
  const sums = async (db: MariaDBInstance) =>
    new Map(
      ((await db.query(`CHECKSUM TABLE ${list}`)) as { Table: string; Checksum: string | null }[]).map((r) => [
        r.Table,
        r.Checksum,
      ]),
    );
  const [x, y] = await Promise.all([sums(a), sums(b)]);
  const differ = tables.filter(([s, t]) => x.get(`${s}.${t}`) === null || x.get(`${s}.${t}`) !== y.get(`${s}.${t}`));
  return differ.length === 0 ? { ok: true, diffs: [] } : sameTables(a, b, differ, label);
}

/**
 * Polls the tasks' status records until every one satisfies `pred`. Fails at once on a task paused by an error, and
 * after 90 s without progress, naming the errors the tasks show (a retryable error keeps a task Running with `error`).
 */
async function waitStatus(
  env: Env,
  tasks: string[],
  pred: (unit: string, stage: string) => boolean,
  what: string,
): Promise<number> {
  let done = -1;
  let progress = performance.now();
  for (;;) {
    const all = await Promise.all(tasks.map((t) => env.status(t)));
    const bad = all.find((s) => s?.stage === 'Paused' && s.error);
    if (bad) throw new Error(`task ${bad.task} paused: ${bad.error!.code} ${bad.error!.message}`);
    const n = all.filter((s) => s && pred(s.unit, s.stage)).length;
    if (n === tasks.length) return performance.now();
    if (n !== done) {
      done = n;
      progress = performance.now();
    } else if (performance.now() - progress > 90_000) {
      const errs = new Map<string, number>();
      for (const s of all) {
        const e = s?.error ?? s?.recentErrors?.[0];
        if (e) errs.set(`${e.code} ${e.message}`, (errs.get(`${e.code} ${e.message}`) ?? 0) + 1);
      }
      const list = [...errs].map(([m, c]) => `${c} task(s): ${m}`).join('; ');
      throw new Error(
        `no progress for 90 s waiting for ${what}: ${n}/${tasks.length} there; ${list || 'no errors shown'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves when `sql` returns n = `want` (polled every 20 ms). */
async function waitCount(db: MariaDBInstance, sql: string, want: number, what: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const [r] = await db.query(sql);
    if (Number(r.n) >= want) return performance.now();
    if (performance.now() - t0 > 300_000) throw new Error(`timed out waiting for ${what} (last ${r.n}/${want})`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function manyTables(env: Env, n: number): Promise<{ line: string; v: Verdict }> {
  const { up, down } = env;
  const names = Array.from({ length: n }, (_, i) => `t${pad(i + 1, 4)}`);
  let sql = 'CREATE DATABASE scale;';
  for (const t of names)
    sql += `CREATE TABLE scale.${t} (id INT NOT NULL PRIMARY KEY, v VARCHAR(32) NOT NULL); INSERT INTO scale.${t} SELECT seq, MD5(seq) FROM mysql.seq_1_to_10;`;
  await onEach([up], sql);
  note(`scale: ${fmtN(n)} tables created; start-task`);
  const task = 'bench-scale';
  const yaml = taskYaml(
    task,
    'all',
    down,
    'block-allow-list: bal',
    'block-allow-list:\n  bal:\n    do-dbs: ["scale"]\n',
  );
  env.rss.start();
  const c0 = performance.now();
  const running = waitStatus(env, [task], () => true, 'task running');
  running.catch(() => undefined);
  await env.startTask(yaml);
  const tRun = await running;
  const tSync = await waitStatus(env, [task], (u, s) => u === 'sync' && s === 'Running', 'task syncing');
  note(`scale: ${fmtN(n)} tables loaded, task syncing; changing 20 sampled tables`);
  const sample = Array.from({ length: 20 }, (_, i) => names[Math.floor((i * n) / 20)]!);
  await up.query(sample.map((t) => `UPDATE scale.${t} SET v = 'changed' WHERE id = 1`).join(';'));
  const probe = `SELECT ${sample.map((t) => `(SELECT COUNT(*) FROM scale.${t} WHERE id = 1 AND v = 'changed')`).join(' + ')} AS n`;
  const tChanged = await waitCount(down, probe, sample.length, 'sampled changes on the downstream');
  const rss = env.rss.stop();
  const v = await sameByChecksum(
    up,
    down,
    names.map((t): [string, string] => ['scale', t]),
    'tsdm',
  );
  const line =
    `${`scale-${n}-tables`.padEnd(20)} start-task → Running ${fmtS(tRun - c0)} (dmctl included), Running → all loaded and syncing ${fmtS(tSync - tRun)} ` +
    `(status, ±1 s), → 20 sampled changes synced ${fmtS(tChanged - tSync)}; total ${fmtS(tChanged - c0)}  agent RSS peak ${fmtMB(rss)}  ${verdict(v)}`;
  return { line, v };
}

async function manyTasks(env: Env, n: number): Promise<{ line: string; v: Verdict }> {
  const { up, down } = env;
  const schemas = Array.from({ length: n }, (_, i) => `st${pad(i + 1, 3)}`);
  await onEach(
    [up],
    schemas
      .map(
        (s) =>
          `CREATE DATABASE ${s}; CREATE TABLE ${s}.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(32) NOT NULL); INSERT INTO ${s}.t SELECT seq, MD5(seq) FROM mysql.seq_1_to_100;`,
      )
      .join(''),
  );
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const ctx = new CommandContext({ nats: env.natsUrl, cluster: 'dm', json: true, timeout: 60_000 }, sink, sink);
  const tasks = schemas.map((s) => `bench-${s}`);
  note(`scale: starting ${n} tasks`);
  env.rss.start();
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i += 10) {
      const codes = await Promise.all(
        schemas.slice(i, i + 10).map((s, j) => {
          const yaml = taskYaml(
            tasks[i + j]!,
            'all',
            down,
            'block-allow-list: bal',
            `block-allow-list:\n  bal:\n    do-dbs: ["${s}"]\n`,
          );
          return startTask.run(ctx, [writeTemp('task.yaml', yaml)], {});
        }),
      );
      if (codes.some((c) => c !== 0)) throw new Error(`start-task of tasks ${i + 1}..${i + 10} failed`);
    }
  } finally {
    await ctx.close();
  }
  const tStarted = performance.now();
  note(`scale: ${n} tasks started in ${fmtS(tStarted - t0)}; waiting for all to sync`);
  const tSync = await waitStatus(env, tasks, (u, s) => u === 'sync' && s === 'Running', 'all tasks syncing');
  await up.query(schemas.map((s) => `UPDATE ${s}.t SET v = 'changed' WHERE id = 1`).join(';'));
  const probe = `SELECT ${schemas.map((s) => `(SELECT COUNT(*) FROM ${s}.t WHERE id = 1 AND v = 'changed')`).join(' + ')} AS n`;
  const tChanged = await waitCount(down, probe, n, 'a change per task on the downstream');
  const rss = env.rss.stop();
  const [mu] = await down.query("SHOW GLOBAL STATUS LIKE 'Max_used_connections'");
  const q0 = performance.now();
  const st = await env.ctl(['query-status', '--json']);
  const qMs = performance.now() - q0;
  const listed = new Set<string>(
    ((st.json?.tasks ?? []) as { name: string }[]).map((t) => t.name).filter((t) => tasks.includes(t)),
  );
  const missing = tasks.filter((t) => !listed.has(t));
  const v = await sameByChecksum(
    up,
    down,
    schemas.map((s): [string, string] => [s, 't']),
    'tsdm',
  );
  if (missing.length > 0)
    v.diffs.push(`query-status --json does not list ${missing.length} tasks: ${missing.slice(0, 5).join(', ')}`);
  const line =
    `${`scale-${n}-tasks`.padEnd(20)} started ${fmtS(tStarted - t0)}, all syncing ${fmtS(tSync - t0)}, a change per task synced ${fmtS(tChanged - tSync)}  ` +
    `dmctl query-status --json ${fmtS(qMs)} (lists ${listed.size}/${n})  agent RSS peak ${fmtMB(rss)}, now ${fmtMB(rssOf(env.agent.pid())?.rss ?? 0)}  downstream connections used ${mu.Value}  ${verdict({ ok: v.diffs.length === 0, diffs: v.diffs })}`;
  return { line, v: { ok: v.diffs.length === 0, diffs: v.diffs } };
}

export async function runScale(o: {
  tables: number;
  tasks: number;
  maxConnections: number;
}): Promise<{ lines: string[]; ok: boolean }> {
  const env = await startEnv({
    relay: true,
    baseline: false,
    downstreamArgs: [`--max-connections=${o.maxConnections}`],
  });
  try {
    const idle = rssOf(env.agent.pid())?.rss ?? 0;
    note(`scale: agent RSS idle ${fmtMB(idle)}`);
    const a = await manyTables(env, o.tables);
    const b = await manyTasks(env, o.tasks);
    return { lines: [a.line, b.line], ok: a.v.ok && b.v.ok };
  } finally {
    await env.stop();
  }
}
