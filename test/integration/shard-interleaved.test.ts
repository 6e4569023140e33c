/**
 * Two merged targets whose pessimistic locks resolve close together (issue #6; found by DM's online_ddl case, #8):
 * source 1 holds shards of target A and, later in its binlog, a shard of target B. Lock A resolves and source 1
 * replays A's held rows from A's DDL; lock B resolves while that replay is still before B's DDL. The stream must go
 * on from where the replay is (rewinding forward to B's DDL would skip A's rows in between), and every released
 * shard must finish its replay even when nothing of it follows in the binlog.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bucket } from '../../src/coord/index.ts';
import { waitFor, type MariaDBInstance } from '../harness/index.ts';
import { startCluster, startTask, status, taskYaml, type Cluster } from './helpers.ts';
import { waitShardSynced } from './shard-fixtures.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

const TASK = `shard-mode: pessimistic
mysql-instances:
  - source-id: source1
    block-allow-list: bal
    route-rules: [ra, rb]
  - source-id: source2
    block-allow-list: bal
    route-rules: [ra, rb]
block-allow-list:
  bal:
    do-dbs: ["shard"]
routes:
  ra:
    schema-pattern: "shard"
    table-pattern: "a*"
    target-schema: "inter"
    target-table: "a"
  rb:
    schema-pattern: "shard"
    table-pattern: "b*"
    target-schema: "inter"
    target-table: "b"
`;

/** `n` rows into shard.table from id `from`, in multi-row INSERTs of 500 (one binlog event each). */
async function insertRows(up: MariaDBInstance, table: string, from: number, n: number, withC1: boolean): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    const vals: string[] = [];
    for (let j = i; j < Math.min(n, i + 500); j++)
      vals.push(withC1 ? `(${from + j}, 'r${from + j}', ${j % 7})` : `(${from + j}, 'r${from + j}')`);
    await up.query(`INSERT INTO shard.${table} (id, name${withC1 ? ', c1' : ''}) VALUES ${vals.join(',')}`);
  }
}

async function union(tables: [MariaDBInstance, string][]): Promise<string[]> {
  const out: string[] = [];
  for (const [up, t] of tables)
    for (const r of await up.query(`SELECT id, name, c1 FROM shard.${t}`))
      out.push(JSON.stringify([String(r.id), r.name, r.c1 === null ? null : String(r.c1)]));
  return out.sort();
}

test("two targets' locks resolve while one replay is in progress: no row of either target is lost", {
  timeout: 300_000,
}, async () => {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  const ddl = (t: string) => `CREATE TABLE shard.${t} (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL)`;
  await up1.query(`DROP DATABASE IF EXISTS shard; CREATE DATABASE shard; ${ddl('a1')}; ${ddl('a2')}; ${ddl('b1')}`);
  await up2.query(`DROP DATABASE IF EXISTS shard; CREATE DATABASE shard; ${ddl('a3')}; ${ddl('b2')}`);
  for (const [up, t, base] of [
    [up1, 'a1', 1e6],
    [up1, 'a2', 2e6],
    [up1, 'b1', 3e6],
    [up2, 'a3', 4e6],
    [up2, 'b2', 5e6],
  ] as const)
    await insertRows(up, t, base, 100, false);
  await startTask(c, taskYaml('inter', c.sb.downstream, TASK));
  await waitFor(
    async () => (await status(c, 'inter')).sources.every((s) => s.unit === 'sync' && s.sync?.caughtUp),
    120_000,
    'task in sync',
  );

  // Source 1: both shards of A reach ADD COLUMN, then many held rows of A, then B's shard reaches ADD COLUMN, then
  // more rows of both targets.
  await up1.query('ALTER TABLE shard.a1 ADD COLUMN c1 INT NULL; ALTER TABLE shard.a2 ADD COLUMN c1 INT NULL');
  await insertRows(up1, 'a1', 1_100_000, 15_000, true);
  await insertRows(up1, 'a2', 2_100_000, 5_000, true);
  await up1.query('ALTER TABLE shard.b1 ADD COLUMN c1 INT NULL');
  await insertRows(up1, 'a1', 1_200_000, 2_000, true);
  await insertRows(up1, 'b1', 3_100_000, 2_000, true);
  await waitFor(
    async () => {
      const locks = await c.coord.list<{ task?: string; shards?: Record<string, { reached?: boolean }> }>(Bucket.locks);
      const reached = locks
        .filter((l) => l.value?.task === 'inter')
        .flatMap((l) =>
          Object.entries(l.value.shards ?? {})
            .filter(([, s]) => s.reached)
            .map(([k]) => k),
        );
      return reached.length === 3;
    },
    60_000,
    'source 1 reached both locks (a1, a2, b1)',
  );

  // Source 2 completes lock A, then lock B right after: B resolves while source 1 replays A's 20,000 held rows.
  await up2.query('ALTER TABLE shard.a3 ADD COLUMN c1 INT NULL; ALTER TABLE shard.b2 ADD COLUMN c1 INT NULL');
  await insertRows(up2, 'a3', 4_100_000, 500, true);
  await insertRows(up2, 'b2', 5_100_000, 500, true);

  await waitShardSynced(c, 'inter');
  const down = c.sb.downstream;
  const got = async (t: string) =>
    (await down.query(`SELECT id, name, c1 FROM inter.${t}`))
      .map((r: Record<string, unknown>) => JSON.stringify([String(r.id), r.name, r.c1 === null ? null : String(r.c1)]))
      .sort();
  const wantA = await union([
    [up1, 'a1'],
    [up1, 'a2'],
    [up2, 'a3'],
  ]);
  const gotA = await got('a');
  assert.equal(gotA.length, wantA.length, `target a: ${gotA.length} rows downstream, ${wantA.length} in the shards`);
  assert.deepEqual(gotA, wantA);
  assert.deepEqual(
    await got('b'),
    await union([
      [up1, 'b1'],
      [up2, 'b2'],
    ]),
  );
});
