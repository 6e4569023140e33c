/** The shard-merge scenario of issue #6 (2 sources x 2 shard tables -> 1 target), shared by its tests. */
import assert from 'node:assert/strict';
import { Bucket } from '../../src/coord/index.ts';
import { waitFor, type MariaDBInstance } from '../harness/index.ts';
import { startTask, status, taskYaml, type Cluster } from './helpers.ts';

export const SHARD_TASK = `shard-mode: pessimistic
mysql-instances:
  - source-id: source1
    block-allow-list: bal
    route-rules: [merge]
  - source-id: source2
    block-allow-list: bal
    route-rules: [merge]
block-allow-list:
  bal:
    do-dbs: ["shard"]
routes:
  merge:
    schema-pattern: "shard"
    table-pattern: "t*"
    target-schema: "merged"
    target-table: "t"
`;

export interface Shard {
  up: MariaDBInstance;
  table: string;
  base: number;
  cols: string[];
  next: number;
}

/** DML on one shard, in the columns it has now. */
export async function shardDml(s: Shard, n: number): Promise<void> {
  const hasC1 = s.cols.includes('c1');
  const stmts: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = s.base + s.next++;
    stmts.push(
      hasC1
        ? `INSERT INTO shard.${s.table} (id, name, c1) VALUES (${id}, 'n${id}', ${id % 97})`
        : `INSERT INTO shard.${s.table} (id, name) VALUES (${id}, 'n${id}')`,
    );
  }
  stmts.push(`UPDATE shard.${s.table} SET name = CONCAT(name, 'u') WHERE id = ${s.base + Math.floor(s.next / 2)}`);
  stmts.push(`DELETE FROM shard.${s.table} WHERE id = ${s.base + s.next - 3}`);
  await s.up.query(stmts.join(';'));
}

/** Every source applied everything its upstream has now, with no shard held by a lock (caughtUp), no pessimistic
 * lock or optimistic conflict left. */
export async function waitShardSynced(cl: Cluster, task: string, timeoutMs = 180_000): Promise<void> {
  const heads = await Promise.all(
    cl.sb.upstreams.map(async (u) => {
      const [r] = await u.query('SHOW MASTER STATUS');
      return { name: String(r.File), pos: Number(r.Position) };
    }),
  );
  let last = '';
  await waitFor(
    async () => {
      const v = await status(cl, task);
      last = JSON.stringify(
        v.sources.map((s) => [s.stage, s.unit, s.sync?.synced, s.sync?.caughtUp, s.error?.message]),
      );
      const paused = v.sources.find((s) => s.stage === 'Paused');
      if (paused) throw new Error(`paused: ${JSON.stringify(paused.error)}`);
      const done = v.sources.every((s, i) => {
        const h = heads[i]!;
        const syn = s.sync?.synced;
        return (
          s.sync?.caughtUp === true &&
          syn !== undefined &&
          (syn.name > h.name || (syn.name === h.name && syn.pos >= h.pos))
        );
      });
      // Pessimistic locks must be gone; optimistic records stay for the task's life (they hold the shards' structures).
      const locks = await cl.coord.list<{ task?: string; mode?: string; conflict?: unknown }>(Bucket.locks);
      return (
        done &&
        locks.filter((e) => e.value?.task === task && (e.value.mode !== 'optimistic' || e.value.conflict)).length === 0
      );
    },
    timeoutMs,
    `task ${task} synced with no shard-DDL lock left (last ${last})`,
  );
}

export async function unionRows(shards: Shard[], cols: string[]): Promise<string[]> {
  const rows: string[] = [];
  for (const s of shards) {
    const have = cols.map((x) => (s.cols.includes(x) ? x : 'NULL'));
    const r = await s.up.query(`SELECT ${have.join(',')} FROM shard.${s.table}`);
    for (const row of r) rows.push(JSON.stringify(Object.values(row).map((v) => (v === null ? null : String(v)))));
  }
  return rows.sort();
}

/**
 * Creates the shards, starts the task, runs add column / add index / modify column / drop column on the four
 * shards in different orders with DML on every shard between two shards' DDL, and checks the merged table (mid-way
 * with c1, at the end without) against the union of the shards.
 */
/**
 * Creates `shard.t1` and `shard.t2` on both upstreams (4 shards with distinct key ranges), writes `rows` rows to each,
 * starts `task` (target schema = the task name) and waits until every source is in sync.
 */
export async function startShardTask(c: Cluster, task: string, taskBody = SHARD_TASK, rows = 30): Promise<Shard[]> {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  const shards: Shard[] = [
    { up: up1, table: 't1', base: 1_000_000, cols: ['id', 'name'], next: 1 },
    { up: up1, table: 't2', base: 2_000_000, cols: ['id', 'name'], next: 1 },
    { up: up2, table: 't1', base: 3_000_000, cols: ['id', 'name'], next: 1 },
    { up: up2, table: 't2', base: 4_000_000, cols: ['id', 'name'], next: 1 },
  ];
  for (const up of [up1, up2]) {
    await up.query(`DROP DATABASE IF EXISTS shard; CREATE DATABASE shard; CREATE TABLE shard.t1 (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL);
      CREATE TABLE shard.t2 (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL)`);
  }
  for (const s of shards) await shardDml(s, rows);
  await startTask(
    c,
    taskYaml(task, c.sb.downstream, taskBody.replace('target-schema: "merged"', `target-schema: "${task}"`)),
  );
  await waitFor(
    async () => (await status(c, task)).sources.every((s) => s.unit === 'sync' && s.sync?.caughtUp),
    120_000,
    'task in sync',
  );
  return shards;
}

export async function runShardScenario(c: Cluster, task: string, taskBody = SHARD_TASK): Promise<void> {
  const down = c.sb.downstream;
  const shards = await startShardTask(c, task, taskBody, 50);

  const ddls: { sql: string; apply(cols: string[]): string[] }[] = [
    { sql: 'ALTER TABLE shard.T ADD COLUMN c1 INT NULL', apply: (c0) => [...c0, 'c1'] },
    { sql: 'ALTER TABLE shard.T ADD INDEX idx_c1 (c1)', apply: (c0) => c0 },
    { sql: 'ALTER TABLE shard.T MODIFY COLUMN name VARCHAR(100) NOT NULL', apply: (c0) => c0 },
    { sql: 'ALTER TABLE shard.T DROP COLUMN c1', apply: (c0) => c0.filter((x) => x !== 'c1') },
  ];
  const orders = [
    [0, 1, 2, 3],
    [3, 1, 0, 2],
    [2, 0, 3, 1],
    [1, 3, 2, 0],
  ];
  for (const [round, d] of ddls.entries()) {
    for (const i of orders[round]!) {
      const s = shards[i]!;
      await s.up.query(d.sql.replace('shard.T', `shard.${s.table}`));
      s.cols = d.apply(s.cols);
      // DML on every shard between two shards' DDL: some shards are past the DDL, others are not yet.
      for (const o of shards) await shardDml(o, 20);
    }
    if (round === 1) {
      // Mid-way: c1 exists on every shard and downstream; rows written while shards disagreed are all there.
      await waitShardSynced(c, task);
      const want = await unionRows(shards, ['id', 'name', 'c1']);
      const got = (await down.query(`SELECT id, name, c1 FROM \`${task}\`.t`))
        .map((r: Record<string, unknown>) =>
          JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))),
        )
        .sort();
      if (JSON.stringify(got) !== JSON.stringify(want))
        console.error(
          c.agent
            .log()
            .split('\n')
            .filter((l) => /shard|replay|lock|DDL|sync starting/i.test(l))
            .join('\n'),
        );
      assert.deepEqual(got, want, 'rows with c1 after the ADD COLUMN and ADD INDEX rounds');
    }
  }
  for (const s of shards) await shardDml(s, 20);

  await waitShardSynced(c, task);

  const cols = await down.query(
    `SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION`,
    [task],
  );
  assert.deepEqual(
    cols.map((r: Record<string, unknown>) => `${String(r.COLUMN_NAME)} ${String(r.COLUMN_TYPE)}`),
    ['id bigint(20)', 'name varchar(100)'],
  );
  const idx = await down.query(
    `SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY INDEX_NAME`,
    [task],
  );
  assert.deepEqual(
    idx.map((r: Record<string, unknown>) => String(r.INDEX_NAME)),
    ['PRIMARY'],
  );
  const want = await unionRows(shards, ['id', 'name']);
  const got = (await down.query(`SELECT id, name FROM \`${task}\`.t`))
    .map((r: Record<string, unknown>) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))))
    .sort();
  const gotSet = new Set(got);
  const wantSet = new Set(want);
  const missing = want.filter((r: string) => !gotSet.has(r));
  const extra = got.filter((r: string) => !wantSet.has(r));
  if (missing.length || extra.length)
    console.error(
      c.agent
        .log()
        .split('\n')
        .filter((l) => /shard|DDL|replay|lock/i.test(l))
        .join('\n'),
    );
  assert.ok(
    missing.length === 0 && extra.length === 0,
    `${task}.t differs from the union of the shards: ${missing.length} missing (${missing.slice(0, 10).join(' ')}), ${extra.length} extra (${extra.slice(0, 10).join(' ')})`,
  );
}
