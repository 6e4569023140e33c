/**
 * The downstream's ceiling for tsdm's own SQL: how fast the statements tsdm sends in the 100-row catch-up apply when
 * nothing else runs beside the server — no agent decoding the binlog or building them. It says what the catch-up
 * ratio can reach on this machine whatever the agent costs, and so how much CPU the agent may use at a given ratio.
 *
 * How: the incremental bench's backlog is written upstream; tsdm catches up on it (a task from the position before
 * it) while the downstream's general log (log_output=TABLE) records every statement; the writers' transactions are
 * read back from mysql.general_log and replayed, on two more servers loaded with the same rows beforehand, from as many
 * connections as tsdm had writers (a batch's transactions at once, batches one after the other, as tsdm runs them) and
 * from one connection (every transaction in turn). The native replica catches up on the same binlog in the same run,
 * as in `incremental`. tsdm's own rate is not reported here: the general log slows its downstream.
 *
 * A writer transaction is its connection's statements from BEGIN to COMMIT; its batch is the binlog position its
 * checkpoint row is set to (every writer of a batch sets the same one). Replays end equal to the upstream when the
 * batches keep their order, which the final comparison checks.
 */
import type mysql from 'mysql2/promise';
import { startMariaDB, type MariaDBInstance } from '../test/harness/index.ts';
import { cpuSeconds, per100k } from './lib/cpu.ts';
import { waitRow, type Env } from './lib/env.ts';
import { fmtN, fmtRate, fmtS, note, rate, sameTables, verdict } from './lib/report.ts';
import { catchUpTask, load, markedBacklog, replicaCatchUp, type IncrementalOptions } from './incremental.ts';

export interface CeilingResult {
  line: string;
  ok: boolean;
}

/** One writer transaction as logged: its connection and its statements (multi-statement queries as sent; prepared
 * statements, which tsdm uses only for rows with large binary values, are not in this workload). */
interface Txn {
  thread: number;
  sql: string[];
}

/** The checkpoint upsert's position: `VALUES ('source', writer, 'binlog name', pos, ...`. */
const CHECKPOINT_POS = /binlog_name, binlog_pos[^]*?VALUES \('(?:[^'\\]|\\.)*',\s*\d+,\s*'([^']*)',\s*(\d+)/;

/** The writers' transactions in the general log, grouped by batch in the order batches started. */
async function loggedBatches(down: MariaDBInstance, schema: string): Promise<Txn[][]> {
  const rows = (await down.query(
    `SELECT thread_id AS t, CONVERT(argument USING utf8mb4) AS a FROM mysql.general_log WHERE command_type = 'Query'`,
  )) as { t: number; a: string }[];
  const open = new Map<number, { txn: Txn; key?: string }>();
  const batches = new Map<string, Txn[]>();
  const touches = `\`${schema}\`.`;
  for (const { t, a } of rows) {
    let cur = open.get(t);
    if (/^BEGIN\b/i.test(a)) {
      cur = { txn: { thread: t, sql: [] } };
      open.set(t, cur);
    }
    if (!cur) continue;
    cur.txn.sql.push(a);
    const m = CHECKPOINT_POS.exec(a);
    if (m) cur.key = `${m[1]}:${m[2]}`;
    if (/^COMMIT\b/i.test(a)) {
      open.delete(t);
      // A writer transaction: it set a checkpoint, and (or) wrote the bench's table.
      if (cur.key && cur.txn.sql.some((s) => s.includes(touches))) {
        const l = batches.get(cur.key);
        if (l) l.push(cur.txn);
        else batches.set(cur.key, [cur.txn]);
      }
    }
  }
  return [...batches.values()];
}

/** Copies the downstream's tsdm schemas (checkpoints, fence) to `to`, so the replayed statements find their tables. */
async function copyMeta(down: MariaDBInstance, to: MariaDBInstance[], schema: string): Promise<void> {
  const dbs = (await down.query(
    `SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql','information_schema','performance_schema','sys','test',?)`,
    [schema],
  )) as { s: string }[];
  for (const { s } of dbs) {
    const tables = (await down.query(`SHOW TABLES FROM \`${s}\``)) as Record<string, string>[];
    let sql = `CREATE DATABASE IF NOT EXISTS \`${s}\`;`;
    for (const r of tables) {
      const t = Object.values(r)[0]!;
      const [ct] = (await down.query(`SHOW CREATE TABLE \`${s}\`.\`${t}\``)) as Record<string, string>[];
      sql += `${ct!['Create Table']!.replace(/^CREATE TABLE `/, `CREATE TABLE \`${s}\`.\``)};`;
    }
    for (const db of to) await db.query(sql);
  }
}

/** Runs `batches` on `db` from `conns` connections (a batch's transactions at once, each on its writer's connection)
 * or from one (conns = 1); returns wall time and the server's CPU seconds. */
async function replay(
  db: MariaDBInstance,
  batches: Txn[][],
  conns: number,
): Promise<{ ms: number; cpuFrom: number | undefined; cpuTo: number | undefined }> {
  const threads = [...new Set(batches.flat().map((x) => x.thread))].sort((a, b) => a - b);
  const pool: mysql.Connection[] = await Promise.all(Array.from({ length: conns }, () => db.connect()));
  // As tsdm's writers run (agent/sync/apply.ts openWriter): READ COMMITTED, so REPLACE and DELETE ... IN from two
  // connections take no gap locks.
  for (const c of pool) await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  const connOf = (t: number) => pool[conns === 1 ? 0 : threads.indexOf(t) % conns]!;
  const run = async (x: Txn) => {
    const c = connOf(x.thread);
    for (const q of x.sql) await c.query(q);
  };
  try {
    const cpuFrom = cpuSeconds(db.pid);
    const t0 = performance.now();
    for (const b of batches) {
      if (conns === 1) for (const x of b) await run(x);
      else await Promise.all(b.map(run));
    }
    return { ms: performance.now() - t0, cpuFrom, cpuTo: cpuSeconds(db.pid) };
  } finally {
    await Promise.all(pool.map((c) => c.end()));
  }
}

export async function runCeiling(env: Env, o: IncrementalOptions): Promise<CeilingResult> {
  const { up, down, base } = env;
  const schema = 'ceil100';
  const spare = await Promise.all([
    startMariaDB({ name: 'replay-n', serverId: 401 }),
    startMariaDB({ name: 'replay-1', serverId: 402 }),
  ]);
  try {
    note(`ceiling: loading ${fmtN(o.rows)} rows on upstream, downstream, replica and two replay servers`);
    await load([up, down, base, ...spare], schema, o.rows);
    const { start, changes } = await markedBacklog(up, schema, o);

    note('ceiling: tsdm catches up with the general log on');
    await down.query(`SET GLOBAL log_output = 'TABLE'; TRUNCATE TABLE mysql.general_log; SET GLOBAL general_log = 1`);
    const task = `bench-${schema}`;
    await env.startTask(catchUpTask(task, down, start, schema));
    await waitRow(down, `SELECT 1 FROM ${schema}.marker WHERE id = 2`, { what: 'marker 2 on tsdm' });
    // Marker 2 shows once its own writer committed: the log stays on until every writer committed that batch.
    await waitRow(
      down,
      `SELECT 1 FROM dm_meta.\`${task}_syncer_checkpoint\` HAVING COUNT(DISTINCT binlog_name, binlog_pos) = 1`,
      { what: 'every writer at the same checkpoint' },
    );
    await down.query('SET GLOBAL general_log = 0');
    await env.stopTask(task);
    const batches = await loggedBatches(down, schema);
    await down.query('TRUNCATE TABLE mysql.general_log');
    const writers = new Set(batches.flat().map((x) => x.thread)).size;
    note(
      `ceiling: ${fmtN(batches.length)} batches, ${fmtN(batches.flat().length)} writer transactions on ${writers} connections`,
    );
    await copyMeta(down, spare, schema);

    const replica = await replicaCatchUp(base, up, schema, start.gtid);
    const replicaMs = replica.ms;

    note('ceiling: replaying');
    const many = await replay(spare[0], batches, writers);
    const one = await replay(spare[1], batches, 1);
    // The markers are tsdm's first and last rows: replayed with the rest.
    const tables: [string, string][] = [
      [schema, 't'],
      [schema, 'marker'],
    ];
    const v = verdict(
      await sameTables(up, spare[0], tables, `replay on ${writers}`),
      await sameTables(up, spare[1], tables, 'replay on 1'),
    );
    const rr = rate(changes, replicaMs);
    const line =
      `${'ceiling-100row'.padEnd(20)} tsdm's statements without the agent: ${writers} connections ${fmtRate(rate(changes, many.ms))} rows/s (${fmtS(many.ms)}, ratio ${(replicaMs / many.ms).toFixed(2)}x), ` +
      `1 connection ${fmtRate(rate(changes, one.ms))} rows/s (ratio ${(replicaMs / one.ms).toFixed(2)}x)  native replica ${fmtRate(rr)} rows/s (${fmtS(replicaMs)})  ` +
      `CPU per 100k rows: replay ${per100k(many.cpuFrom, many.cpuTo, changes)} / ${per100k(one.cpuFrom, one.cpuTo, changes)}, replica ${per100k(replica.cpuFrom, replica.cpuTo, changes)}  ${fmtN(changes)} row changes  ${v}`;
    return { line, ok: v === 'equal' };
  } finally {
    await Promise.allSettled(spare.map((s) => s.stop()));
  }
}
