/**
 * Steady-state lag: the upstream writes `rate` rows/s for `seconds` seconds (every 10 ms one transaction: 80 % new
 * rows, 20 % updates of earlier rows, each row carrying its write time in microseconds, and a heartbeat row
 * `hb(id = 1)` set to the tick's sequence number). A poller reads the heartbeat on the copy every ~2 ms.
 *
 * Lag of tick i = the time of the first poll that sees a heartbeat >= i on the copy − the time tick i's transaction
 * was sent upstream (one clock: this process's performance.now()). Every tick counts, also those the copy
 * overwrote before a poll saw them. Reported as p50 / p99 / max over all ticks.
 *
 * tsdm (a task in mode incremental, started and caught up before the writes begin) and the native replica (GTID)
 * are measured one after the other, each on its own schema with the same writes, so neither competes with the other
 * for this box's 2 cores.
 */
import type mysql from 'mysql2/promise';
import type { MariaDBInstance } from '../test/harness/index.ts';
import {
  assertTaskHealthy,
  EXACT_META_RULES,
  exactMetaInstance,
  masterPos,
  onEach,
  startEnv,
  taskYaml,
  waitRow,
  type Env,
} from './lib/env.ts';
import { assertReplicaHealthy, startReplica, stopReplica } from './lib/replica.ts';
import { fmtMB, fmtN, note, sameTables, verdict } from './lib/report.ts';

const TICK_MS = 10;

interface Phase {
  lags: number[];
  rows: number;
  ms: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(lags: number[]): { p50: number; p99: number; max: number } {
  const s = [...lags].sort((a, b) => a - b);
  return { p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] ?? Number.NaN };
}

const fmtMs = (ms: number) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

async function prepare(servers: MariaDBInstance[], schema: string): Promise<void> {
  await onEach(
    servers,
    `CREATE DATABASE ${schema};
     CREATE TABLE ${schema}.t (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, v VARCHAR(64) NOT NULL, written_us BIGINT NOT NULL);
     CREATE TABLE ${schema}.hb (id INT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, written_us BIGINT NOT NULL);
     INSERT INTO ${schema}.hb VALUES (1, 0, 0)`,
  );
}

/** Writes for `seconds` at `rate` rows/s while polling `copy`; returns every tick's lag. */
async function measure(
  up: MariaDBInstance,
  copy: MariaDBInstance,
  schema: string,
  rate: number,
  seconds: number,
): Promise<Phase> {
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  const inserts = Math.max(1, Math.round(perTick * 0.8));
  const updates = perTick - inserts;
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  const sent: number[] = []; // sent[i] = send time of tick i (seq i + 1)
  const seen: [number, number][] = [];
  const w = await up.connect();
  const r = await copy.connect();
  let writing = true;
  let lastSeq = 0;
  const poller = (async () => {
    for (;;) {
      const [rows] = await r.query<mysql.RowDataPacket[]>(`SELECT seq FROM ${schema}.hb WHERE id = 1`);
      const s = Number(rows[0]?.seq ?? 0);
      seen.push([performance.now(), s]);
      if (!writing && s >= lastSeq) return;
      await new Promise((res) => setTimeout(res, 2));
    }
  })();
  let rows = 0;
  let nextId = 1;
  const t0 = performance.now();
  try {
    for (let i = 0; i < ticks; i++) {
      const due = t0 + i * TICK_MS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      const us = Math.round((performance.timeOrigin + performance.now()) * 1000);
      const vals: string[] = [];
      for (let j = 0; j < inserts; j++) vals.push(`(${nextId++}, ${j}, 'tick-${i}', ${us})`);
      let sql = `BEGIN; INSERT INTO ${schema}.t VALUES ${vals.join(', ')};`;
      if (updates > 0 && nextId > updates + 1) {
        const ids = Array.from({ length: updates }, (_, j) => 1 + ((i * 7919 + j * 104729) % (nextId - 1)));
        const uniq = [...new Set(ids)];
        sql += `UPDATE ${schema}.t SET k = k + 1, written_us = ${us} WHERE id IN (${uniq.join(', ')});`;
        rows += uniq.length;
      }
      sql += `UPDATE ${schema}.hb SET seq = ${i + 1}, written_us = ${us} WHERE id = 1; COMMIT`;
      rows += inserts + 1;
      sent.push(performance.now());
      await w.query(sql);
      lastSeq = i + 1;
    }
  } finally {
    writing = false;
  }
  const ms = performance.now() - t0;
  const bound = setTimeout(() => r.destroy(), 120_000);
  await poller;
  clearTimeout(bound);
  await Promise.all([w.end(), r.end()]);
  const lags: number[] = [];
  let k = 0;
  for (const [t, s] of seen) while (k < s && k < sent.length) lags.push(t - sent[k++]!);
  if (lags.length !== sent.length) throw new Error(`lag: ${lags.length} of ${sent.length} ticks seen on the copy`);
  return { lags, rows, ms };
}

async function tsdmPhase(env: Env, o: { rate: number; seconds: number }): Promise<Phase & { rss: number }> {
  const schema = 'lag_tsdm';
  await prepare([env.up, env.down], schema);
  const start = await masterPos(env.up);
  const task = 'bench-lag';
  await env.startTask(
    taskYaml(
      task,
      'incremental',
      env.down,
      exactMetaInstance(start),
      `block-allow-list:\n  bal:\n    do-dbs: ["${schema}"]\n${EXACT_META_RULES}`,
    ),
  );
  await env.up.query(`UPDATE ${schema}.hb SET seq = -1 WHERE id = 1`);
  await waitRow(env.down, `SELECT 1 FROM ${schema}.hb WHERE seq = -1`, {
    what: 'tsdm syncing',
    check: () => assertTaskHealthy(env, task),
  });
  note(`lag: tsdm syncing; writing ${fmtN(o.rate)} rows/s for ${o.seconds} s`);
  env.rss.start();
  const p = await measure(env.up, env.down, schema, o.rate, o.seconds);
  const rss = env.rss.stop();
  await assertTaskHealthy(env, task);
  await env.stopTask(task);
  return { ...p, rss };
}

async function replicaPhase(env: Env, o: { rate: number; seconds: number }): Promise<Phase> {
  const schema = 'lag_replica';
  await prepare([env.up, env.base], schema);
  const start = await masterPos(env.up);
  await startReplica(env.base, env.up, start.gtid);
  await env.up.query(`UPDATE ${schema}.hb SET seq = -1 WHERE id = 1`);
  await waitRow(env.base, `SELECT 1 FROM ${schema}.hb WHERE seq = -1`, {
    what: 'replica replicating',
    check: () => assertReplicaHealthy(env.base),
  });
  note(`lag: native replica replicating; writing ${fmtN(o.rate)} rows/s for ${o.seconds} s`);
  const p = await measure(env.up, env.base, schema, o.rate, o.seconds);
  await assertReplicaHealthy(env.base);
  await stopReplica(env.base);
  return p;
}

export async function runLag(o: { rate: number; seconds: number }): Promise<{ line: string; ok: boolean }> {
  const env = await startEnv();
  try {
    const a = await tsdmPhase(env, o);
    const b = await replicaPhase(env, o);
    const pair = (s: string): [string, string][] => [
      [s, 't'],
      [s, 'hb'],
    ];
    const v = verdict(
      await sameTables(env.up, env.down, pair('lag_tsdm'), 'tsdm'),
      await sameTables(env.up, env.base, pair('lag_replica'), 'replica'),
    );
    const sa = stats(a.lags);
    const sb = stats(b.lags);
    const wrote = (p: Phase) => `${fmtN(Math.round(p.rows / (p.ms / 1000)))} rows/s`;
    const line =
      `${'lag'.padEnd(20)} tsdm p50 ${fmtMs(sa.p50)} p99 ${fmtMs(sa.p99)} max ${fmtMs(sa.max)}  ` +
      `native replica p50 ${fmtMs(sb.p50)} p99 ${fmtMs(sb.p99)} max ${fmtMs(sb.max)}  ratio p99 ${(sa.p99 / sb.p99).toFixed(1)}x ` +
      `(goal p99 <= 100 ms)  agent RSS peak ${fmtMB(a.rss)}  upstream ${wrote(a)} / ${wrote(b)} for ${o.seconds} s  ${v}`;
    return { line, ok: v === 'equal' };
  } finally {
    await env.stop();
  }
}
