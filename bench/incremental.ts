/**
 * Incremental catch-up: a table is loaded everywhere (upstream, tsdm's downstream, the native replica) without
 * binlogging it; then a backlog of transactions is written upstream while nothing replicates; then tsdm (a task in
 * mode `incremental` from the position before the backlog) and a native MariaDB replica (GTID, same position) each
 * catch up on it, one after the other.
 *
 * Timing: the backlog starts with marker row 1 and a DDL (see markedBacklog) and ends with marker row 2 (table
 * `marker` of the same schema). A copy's time is from the moment marker 1 is visible on it to the moment marker 2 is
 * (both polled every 5 ms): this leaves out dmctl's and the agent's start-up and the replica's connect, and counts
 * applying the backlog only.
 * Equality (rows of the table and of the markers) is checked afterwards, outside the timed window.
 */
import type { MariaDBInstance } from '../test/harness/index.ts';
import {
  assertTaskHealthy,
  EXACT_META_RULES,
  exactMetaInstance,
  masterPos,
  onEach,
  taskYaml,
  waitRow,
  type Env,
} from './lib/env.ts';
import { assertReplicaHealthy, startReplica, stopReplica } from './lib/replica.ts';
import { cpuSeconds, per100k } from './lib/cpu.ts';
import { fmtMB, fmtN, fmtRate, fmtS, note, rate, sameTables, verdict } from './lib/report.ts';
import { prng } from '../test/harness/prng.ts';

export interface IncrementalOptions {
  /** Rows loaded before the backlog. */
  rows: number;
  /** Row changes in the backlog. */
  changes: number;
  /** Rows per upstream transaction (1 = single-row transactions). */
  rowsPerTxn: number;
  /** Upstream client connections writing the backlog. */
  conns: number;
}

const TABLE = (s: string) => `CREATE DATABASE ${s};
  CREATE TABLE ${s}.t (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY k (k));
  CREATE TABLE ${s}.marker (id INT NOT NULL PRIMARY KEY, at DATETIME(6) NOT NULL)`;

/** Loads `rows` rows into schema.t on every server (not binlogged). */
export async function load(servers: MariaDBInstance[], schema: string, rows: number): Promise<void> {
  const step = 50_000;
  let sql = `${TABLE(schema)};`;
  for (let lo = 0; lo < rows; lo += step) {
    const n = Math.min(step, rows - lo);
    sql += `INSERT INTO ${schema}.t SELECT ${lo} + seq, seq % 10007, CONCAT(MD5(${lo} + seq), MD5(seq), MD5(seq + 1)), 'pad' FROM mysql.seq_1_to_${n};`;
  }
  await onEach(servers, sql);
}

/**
 * The backlog's statements for one client connection, each its own (autocommit) transaction: 50 % updates, 25 %
 * inserts, 25 % deletes, each touching exactly `rowsPerTxn` rows. Connection `c` of `conns` owns the keys (or
 * 100-row key blocks) congruent to c, so connections never touch the same rows.
 */
function statements(
  schema: string,
  o: IncrementalOptions,
  c: number,
): { sql: string[]; rows: number; mix: [number, number, number] } {
  const rnd = prng(1000 + c);
  const per = o.rowsPerTxn;
  const blocks = Math.floor(o.rows / per);
  const live: number[] = [];
  for (let b = c; b < blocks; b += o.conns) live.push(b);
  let next = blocks + c;
  const txns = Math.ceil(o.changes / per / o.conns);
  const sql: string[] = [];
  const mix: [number, number, number] = [0, 0, 0];
  const range = (b: number) => (per === 1 ? `id = ${b + 1}` : `id BETWEEN ${b * per + 1} AND ${b * per + per}`);
  for (let i = 0; i < txns; i++) {
    const r = rnd();
    if (r < 0.5 && live.length > 0) {
      const b = live[Math.floor(rnd() * live.length)]!;
      sql.push(`UPDATE ${schema}.t SET k = k + 1, pad = 'u${i}' WHERE ${range(b)}`);
      mix[0]++;
    } else if (r < 0.75 || live.length === 0) {
      const b = next;
      next += o.conns;
      live.push(b);
      sql.push(
        per === 1
          ? `INSERT INTO ${schema}.t VALUES (${b + 1}, ${i % 10007}, MD5(${b}), 'ins')`
          : `INSERT INTO ${schema}.t SELECT ${b * per} + seq, seq, MD5(${b} + seq), 'ins' FROM mysql.seq_1_to_${per}`,
      );
      mix[1]++;
    } else {
      const j = Math.floor(rnd() * live.length);
      const b = live[j]!;
      live[j] = live[live.length - 1]!;
      live.pop();
      sql.push(`DELETE FROM ${schema}.t WHERE ${range(b)}`);
      mix[2]++;
    }
  }
  return { sql, rows: txns * per, mix };
}

/** Writes the backlog upstream from `conns` connections (statements sent 200 per round trip); returns row changes. */
async function writeBacklog(up: MariaDBInstance, schema: string, o: IncrementalOptions): Promise<number> {
  const parts = Array.from({ length: o.conns }, (_, c) => statements(schema, o, c));
  let affected = 0;
  await Promise.all(
    parts.map(async ({ sql }) => {
      const conn = await up.connect();
      try {
        for (let i = 0; i < sql.length; i += 200) {
          const [res] = await conn.query(sql.slice(i, i + 200).join(';\n'));
          const list = Array.isArray(res) ? res : [res];
          for (const r of list) affected += Number((r as { affectedRows?: number }).affectedRows ?? 0);
        }
      } finally {
        await conn.end();
      }
    }),
  );
  const expected = parts.reduce((n, p) => n + p.rows, 0);
  if (affected !== expected) throw new Error(`backlog changed ${affected} rows, expected ${expected}`);
  return expected;
}

/**
 * Marker row 1, a DDL, the backlog, marker row 2, written upstream: the position before them, the row changes and the
 * time the writing took. The rates run from marker 1 to marker 2 as each side shows them. The DDL keeps the backlog
 * out of the window's start on both sides: tsdm commits every row before a DDL (marker 1 in a batch of its own), so
 * none of the backlog can commit with marker 1 and before the window opens; without it, marker 1's batch could hold
 * up to a batch of the backlog, counted as changes but applied before the window, which flattered tsdm the more
 * its batches grew. The replica applies the same DDL inside its window.
 */
export async function markedBacklog(
  up: MariaDBInstance,
  schema: string,
  o: IncrementalOptions,
): Promise<{ start: Awaited<ReturnType<typeof masterPos>>; changes: number; writeMs: number }> {
  const start = await masterPos(up);
  const t0 = performance.now();
  await up.query(`INSERT INTO ${schema}.marker VALUES (1, NOW(6))`);
  await up.query(`CREATE TABLE ${schema}.window_start (id INT PRIMARY KEY)`);
  const changes = await writeBacklog(up, schema, o);
  await up.query(`INSERT INTO ${schema}.marker VALUES (2, NOW(6))`);
  return { start, changes, writeMs: performance.now() - t0 };
}

/** tsdm's task: mode incremental over `schema` from `start` (the position before the backlog), no safe-mode window. */
export function catchUpTask(
  task: string,
  down: MariaDBInstance,
  start: { file: string; pos: number },
  schema: string,
): string {
  return taskYaml(
    task,
    'incremental',
    down,
    exactMetaInstance(start),
    `block-allow-list:\n  bal:\n    do-dbs: ["${schema}"]\n${EXACT_META_RULES}`,
  );
}

/** The native replica's catch-up on the backlog from `gtid`: the time from marker 1 to marker 2 on it, and its CPU
 * seconds at both (undefined when unreadable). */
export async function replicaCatchUp(
  base: MariaDBInstance,
  up: MariaDBInstance,
  schema: string,
  gtid: string,
): Promise<{ ms: number; cpuFrom: number | undefined; cpuTo: number | undefined }> {
  const check = () => assertReplicaHealthy(base);
  await startReplica(base, up, gtid);
  const rA = await waitRow(base, `SELECT 1 FROM ${schema}.marker WHERE id = 1`, { what: 'marker 1 on replica', check });
  const cpuFrom = cpuSeconds(base.pid);
  const rB = await waitRow(base, `SELECT 1 FROM ${schema}.marker WHERE id = 2`, { what: 'marker 2 on replica', check });
  const cpuTo = cpuSeconds(base.pid);
  await stopReplica(base);
  return { ms: rB - rA, cpuFrom, cpuTo };
}

/** performance.now() when the task's subtask status first says Running (polled every 20 ms from NATS). */
async function waitRunning(env: Env, task: string): Promise<number> {
  for (;;) {
    const s = await env.status(task);
    if (s && s.stage !== 'New') return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface IncrementalResult {
  line: string;
  ok: boolean;
}

/** One incremental workload on a running env (the env's agent and baseline server are reused across workloads). */
export async function runIncremental(
  env: Env,
  name: string,
  schema: string,
  o: IncrementalOptions,
): Promise<IncrementalResult> {
  const { up, down, base } = env;
  note(`${name}: loading ${fmtN(o.rows)} rows on upstream, downstream and replica`);
  await load([up, down, base], schema, o.rows);
  const { start, changes, writeMs } = await markedBacklog(up, schema, o);
  const txns = Math.round(changes / o.rowsPerTxn);
  note(
    `${name}: backlog of ${fmtN(changes)} row changes in ${fmtN(txns)} transactions written upstream in ${fmtS(writeMs)} (${fmtRate(rate(changes, writeMs))} rows/s)`,
  );

  // tsdm: a task in mode incremental from the position before the backlog.
  const task = `bench-${schema}`;
  const yaml = catchUpTask(task, down, start, schema);
  const check = () => assertTaskHealthy(env, task);
  env.rss.start();
  const running = waitRunning(env, task);
  running.catch(() => undefined);
  const first = waitRow(down, `SELECT 1 FROM ${schema}.marker WHERE id = 1`, { what: 'marker 1 on tsdm', check });
  first.catch(() => undefined);
  await env.startTask(yaml);
  const tA = await first;
  const cpuA = [cpuSeconds(env.agent.pid()), cpuSeconds(down.pid)];
  note(`${name}: tsdm started applying`);
  const tB = await waitRow(down, `SELECT 1 FROM ${schema}.marker WHERE id = 2`, { what: 'marker 2 on tsdm', check });
  const cpuB = [cpuSeconds(env.agent.pid()), cpuSeconds(down.pid)];
  const rssPeak = env.rss.stop();
  const tsdmMs = tB - tA;
  const fromRunning = tB - (await running);
  note(`${name}: tsdm caught up in ${fmtS(tsdmMs)} (${fmtS(fromRunning)} from its subtask Running)`);
  await env.stopTask(task);

  // Native replica from the same position (GTID).
  const replica = await replicaCatchUp(base, up, schema, start.gtid);
  const replicaMs = replica.ms;
  note(`${name}: native replica caught up in ${fmtS(replicaMs)}; comparing`);

  const tables: [string, string][] = [
    [schema, 't'],
    [schema, 'marker'],
  ];
  const v = verdict(await sameTables(up, down, tables, 'tsdm'), await sameTables(up, base, tables, 'replica'));
  const tr = rate(changes, tsdmMs);
  const rr = rate(changes, replicaMs);
  const goal = o.rowsPerTxn === 1 ? 10 : 1;
  const line =
    `${name.padEnd(20)} tsdm ${fmtRate(tr)} rows/s (${fmtS(tsdmMs)}; ${fmtS(fromRunning)} from Running)  native replica ${fmtRate(rr)} rows/s (${fmtS(replicaMs)})  ` +
    `ratio ${(tr / rr).toFixed(2)}x (goal >= ${goal}x)  agent RSS peak ${fmtMB(rssPeak)}  ${fmtN(changes)} row changes  ` +
    `CPU per 100k rows: agent ${per100k(cpuA[0], cpuB[0], changes)}, its downstream ${per100k(cpuA[1], cpuB[1], changes)}, replica ${per100k(replica.cpuFrom, replica.cpuTo, changes)}  ${v}`;
  return { line, ok: v === 'equal' };
}
