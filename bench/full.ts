/**
 * Full migration: 1.02M rows in 5 keyed tables of various column types, copied by tsdm (task-mode full) into its
 * downstream, then by mydumper + myloader (same thread counts as tsdm's dump threads and load pool) and by
 * `mysqldump | mysql` into the baseline server (the database dropped in between). All end to end: tsdm from the
 * moment its subtask is Running (prechecks, snapshot, dump and load) until it is Finished, polled from its status
 * every 20 ms; the baselines from the dump's start to the load's end.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TASK_DEFAULTS } from '../src/config/task-units.ts';
import type { MariaDBInstance } from '../test/harness/index.ts';
import { onEach, startEnv, taskYaml, type Env } from './lib/env.ts';
import { childrenCpuSeconds, cpuSeconds, per1M } from './lib/cpu.ts';
import { fmtMB, fmtN, fmtRate, fmtS, note, rate, sameTables, verdict } from './lib/report.ts';

const run = promisify(execFile);
const SCHEMA = 'benchfull';

/** The 5 tables: share of the rows, definition, and the SELECT list over seq that fills it. */
const TABLES: { name: string; share: number; def: string; select: string }[] = [
  {
    name: 'ints',
    share: 0.3,
    def: 'id BIGINT NOT NULL PRIMARY KEY, a INT NOT NULL, b INT UNSIGNED, c BIGINT, d SMALLINT, e TINYINT, KEY a (a)',
    select: 'seq, seq * 7 % 100000, seq * 13, seq * 1000003, seq % 30000, seq % 100',
  },
  {
    name: 'strs',
    share: 0.25,
    def: 'id INT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, code CHAR(16), body TEXT, KEY name (name)',
    select: "seq, CONCAT('name-', seq), LEFT(MD5(seq), 16), REPEAT(MD5(seq), 3)",
  },
  {
    name: 'nums',
    share: 0.2,
    def: 'id INT NOT NULL PRIMARY KEY, price DECIMAL(12,2), qty DECIMAL(20,6), ratio DOUBLE, amount BIGINT',
    select: 'seq, seq / 100, seq / 7, seq / 4, seq * 3',
  },
  {
    name: 'times',
    share: 0.15,
    def: 'id INT NOT NULL PRIMARY KEY, created DATETIME(6), d DATE, ts TIMESTAMP(3) NULL, tm TIME, y YEAR',
    select:
      "seq, TIMESTAMP('2020-01-01') + INTERVAL seq SECOND + INTERVAL seq % 1000000 MICROSECOND, DATE('2000-01-01') + INTERVAL seq % 10000 DAY, FROM_UNIXTIME(1600000000 + seq), SEC_TO_TIME(seq % 86400), 1901 + seq % 200",
  },
  {
    name: 'misc',
    share: 0.1,
    def: "id BIGINT UNSIGNED NOT NULL PRIMARY KEY, js JSON, e ENUM('a','b','c'), st SET('x','y','z'), bin VARBINARY(16), bits BIT(8), n INT NULL",
    select:
      "seq + 9223372036854775807, JSON_OBJECT('k', seq, 's', MD5(seq)), ELT(1 + seq % 3, 'a', 'b', 'c'), seq % 8, UNHEX(MD5(seq)), seq % 256, IF(seq % 5 = 0, NULL, seq)",
  },
];

async function generate(up: MariaDBInstance, total: number): Promise<number> {
  let sql = `CREATE DATABASE ${SCHEMA};`;
  let rows = 0;
  for (const t of TABLES) {
    const n = Math.round(total * t.share);
    rows += n;
    sql += `CREATE TABLE ${SCHEMA}.${t.name} (${t.def});`;
    for (let lo = 0; lo < n; lo += 100_000) {
      const m = Math.min(100_000, n - lo);
      sql += `INSERT INTO ${SCHEMA}.${t.name} SELECT ${t.select.replaceAll('seq', `(${lo} + seq)`)} FROM mysql.seq_1_to_${m};`;
    }
  }
  await onEach([up], sql);
  return rows;
}

/** mydumper/myloader, installed with apt when missing (as .ci/run installs its packages), or the command to run. */
function ensureMydumper(): void {
  const has = () => {
    try {
      execFileSync('sh', ['-c', 'command -v mydumper && command -v myloader'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (has()) return;
  const cmd = 'apt-get install -y --no-install-recommends mydumper';
  const sudo = process.getuid?.() === 0 ? '' : 'sudo -n ';
  note(`mydumper is missing: running ${sudo}${cmd}`);
  try {
    execFileSync('sh', ['-c', `${sudo}apt-get update && DEBIAN_FRONTEND=noninteractive ${sudo}${cmd}`], {
      stdio: 'inherit',
    });
  } catch {
    throw new Error(`mydumper is not installed and could not be installed; run: sudo ${cmd}`);
  }
  if (!has()) throw new Error(`mydumper is not installed; run: sudo ${cmd}`);
}

const conn = (db: MariaDBInstance) => ['-h', '127.0.0.1', '-P', String(db.port), '-u', 'root', '-p', db.password];

async function mydumperMyloader(
  up: MariaDBInstance,
  base: MariaDBInstance,
  dump: number,
  load: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-bench-mydumper-'));
  try {
    const t0 = performance.now();
    const out = join(dir, 'dump');
    const rows = ['--rows', String(TASK_DEFAULTS.dumpRows)];
    await run('mydumper', [...conn(up), '-B', SCHEMA, '-o', out, '-t', String(dump), ...rows], { maxBuffer: 1 << 24 });
    await run('myloader', [...conn(base), '-d', out, '-t', String(load), '-o'], { maxBuffer: 1 << 24 });
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The baseline's run (its time and CPU readings), run once more when the tools fail (myloader has exited non-zero
 * about once in 30 runs here, after loading): its failure is not tsdm's measurement, so it is printed with the tools'
 * own output and run again on an empty target; a second failure fails the workload.
 */
async function baselineWithRetry<T>(runIt: () => Promise<T>, base: MariaDBInstance): Promise<T> {
  try {
    return await runIt();
  } catch (err) {
    const e = err as { message?: string; stderr?: string; stdout?: string };
    note(
      `full: the baseline failed, running it once more: ${e.message ?? String(err)}\n${(e.stderr ?? '').slice(-4000)}${(e.stdout ?? '').slice(-2000)}`,
    );
    await base.query(`DROP DATABASE IF EXISTS ${SCHEMA}`);
    return runIt();
  }
}

function mysqldumpPipe(up: MariaDBInstance, base: MariaDBInstance): Promise<number> {
  const cli = (db: MariaDBInstance) => `-h 127.0.0.1 -P ${db.port} -u root`;
  const cmd = `set -o pipefail; mysqldump ${cli(up)} --single-transaction --databases ${SCHEMA} | mysql ${cli(base)}`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('bash', ['-c', cmd], { env: { ...process.env, MYSQL_PWD: up.password }, stdio: 'inherit' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd}: exit ${code}`))));
  });
}

/** Polls the task's status every 20 ms: ms from Running to Finished. */
async function timeTask(env: Env, task: string): Promise<number> {
  let t0: number | undefined;
  for (;;) {
    const s = await env.status(task);
    const now = performance.now();
    if (s?.stage === 'Paused' && s.error) throw new Error(`task ${task} paused: ${s.error.code} ${s.error.message}`);
    if (s && t0 === undefined && (s.stage === 'Running' || s.stage === 'Finished')) t0 = now;
    if (s?.stage === 'Finished' && t0 !== undefined) return now - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runFull(o: {
  rows: number;
  threads?: number;
}): Promise<{ line: string; extra: string[]; ok: boolean }> {
  ensureMydumper();
  const dump = o.threads ?? TASK_DEFAULTS.dumpThreads;
  const load = o.threads ?? TASK_DEFAULTS.loadPoolSize;
  const env = await startEnv();
  try {
    const { up, down, base } = env;
    note(`full: generating ${fmtN(o.rows)} rows in ${TABLES.length} tables upstream`);
    const rows = await generate(up, o.rows);
    const tables = TABLES.map((t): [string, string] => [SCHEMA, t.name]);

    const task = 'bench-full';
    const threads = o.threads ? `\nmydumper-thread: ${o.threads}\nloader-thread: ${o.threads}` : '';
    const yaml = taskYaml(
      task,
      'full',
      down,
      `block-allow-list: bal${threads}`,
      `block-allow-list:\n  bal:\n    do-dbs: ["${SCHEMA}"]\n`,
    );
    env.rss.start();
    const timing = timeTask(env, task);
    timing.catch(() => undefined);
    // CPU of each process over the whole start (dmctl's start-up is not the agent's): agent, upstream, downstream.
    const cpuA = [cpuSeconds(env.agent.pid()), cpuSeconds(up.pid), cpuSeconds(down.pid)];
    await env.startTask(yaml);
    const tsdmMs = await timing;
    const cpuB = [cpuSeconds(env.agent.pid()), cpuSeconds(up.pid), cpuSeconds(down.pid)];
    const rssPeak = env.rss.stop();
    // check-data on the same data right after the load (issue #15: at most a quarter of the load's time). Its time is
    // the agent's, from the run's start to its report (startedAt..finishedAt), as the load's is from Running to
    // Finished: dmctl's own start-up (tsx) and its 300 ms polling are left out of both.
    note(`full: tsdm done in ${fmtS(tsdmMs)}; check-data`);
    const cr = await env.ctl(['check-data', task, '--json', '--timeout', '60'], 600_000);
    if (cr.code !== 0 || cr.json?.result !== true)
      throw new Error(`check-data after the full load: exit ${cr.code}: ${cr.stdout.slice(0, 2000)}${cr.stderr}`);
    const checkMs = Number(cr.json.elapsedSeconds) * 1000;
    note(`full: check-data ${fmtS(checkMs)}; mydumper -t ${dump} + myloader -t ${load}`);

    // The CPU readings belong to the attempt that is timed: a failed first attempt counts in neither.
    const baseCpu = () => [childrenCpuSeconds(), cpuSeconds(up.pid), cpuSeconds(base.pid)];
    const { myMs, baseA, baseB } = await baselineWithRetry(async () => {
      const baseA = baseCpu();
      const myMs = await mydumperMyloader(up, base, dump, load);
      return { myMs, baseA, baseB: baseCpu() };
    }, base);
    note(`full: mydumper+myloader done in ${fmtS(myMs)}; comparing`);
    const vTsdm = await sameTables(up, down, tables, 'tsdm');
    const vMy = await sameTables(up, base, tables, 'mydumper+myloader');
    await base.query(`DROP DATABASE ${SCHEMA}`);
    note('full: mysqldump | mysql');
    const dumpMs = await mysqldumpPipe(up, base);
    const vDump = await sameTables(up, base, tables, 'mysqldump|mysql');
    const v = verdict(vTsdm, vMy, vDump);

    const tr = rate(rows, tsdmMs);
    const mr = rate(rows, myMs);
    const dr = rate(rows, dumpMs);
    const line =
      `${'full'.padEnd(20)} tsdm ${fmtRate(tr)} rows/s (${fmtS(tsdmMs)})  mydumper -t ${dump} + myloader -t ${load} ${fmtRate(mr)} rows/s (${fmtS(myMs)})  ` +
      `ratio ${(tr / mr).toFixed(2)}x (goal >= 1.5x)  agent RSS peak ${fmtMB(rssPeak)}  ${fmtN(rows)} rows  ${v}`;
    const cpu = (a: (number | undefined)[], b: (number | undefined)[]) => a.map((x, i) => per1M(x, b[i], rows));
    const [tA, tUp, tDown] = cpu(cpuA, cpuB);
    const [bTools, bUp, bDown] = cpu(baseA, baseB);
    const extra = [
      `${'full-cpu'.padEnd(20)} CPU-s per 1M rows: tsdm agent ${tA}, upstream ${tUp}, downstream ${tDown}  mydumper+myloader ${bTools}, upstream ${bUp}, downstream ${bDown}`,
      `${'check-data'.padEnd(20)} ${fmtN(cr.json.rows)} rows compared equal in ${fmtS(checkMs)}  full load ${fmtS(tsdmMs)}  fraction ${(checkMs / tsdmMs).toFixed(2)} (goal <= 0.25)  ${fmtRate(rate(cr.json.rows, checkMs))} rows/s`,
      `${'full-mysqldump'.padEnd(20)} tsdm ${fmtRate(tr)} rows/s  mysqldump | mysql ${fmtRate(dr)} rows/s (${fmtS(dumpMs)})  ratio ${(tr / dr).toFixed(2)}x  ${v}`,
    ];
    return { line, extra, ok: v === 'equal' };
  } finally {
    await env.stop();
  }
}
