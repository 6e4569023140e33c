/**
 * Issue #6, acceptance 1 (pessimistic): 2 sources x 2 shard tables -> 1 target table. A DDL sequence (add column,
 * add index, modify column, drop column) runs on the shards at different moments, interleaved with DML on every
 * shard; the downstream ends with the right schema and exactly the union of the shards' rows.
 */
import { after, before, test } from 'node:test';
import { startCluster, waitStage, type Cluster } from './helpers.ts';
import assert from 'node:assert/strict';
import {
  runShardScenario,
  type Shard,
  shardDml,
  startShardTask,
  unionRows,
  waitShardSynced,
} from './shard-fixtures.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

test('pessimistic shard merge: 2 sources x 2 tables, DDL at different moments, union of rows downstream', {
  timeout: 300_000,
}, async () => {
  await runShardScenario(c, 'merge');
});

test('back-to-back DDLs on every shard: each round completes (a source releases its own shards of the last round before reaching the next)', {
  timeout: 300_000,
}, async () => {
  const shards = await startShardTask(c, 'b2b');
  for (const s of shards) {
    await s.up.query(
      `ALTER TABLE shard.${s.table} ADD COLUMN c1 INT NULL; ALTER TABLE shard.${s.table} ADD INDEX idx_c1 (c1); ALTER TABLE shard.${s.table} MODIFY COLUMN name VARCHAR(60) NOT NULL`,
    );
    s.cols.push('c1');
    await shardDml(s, 10);
  }
  for (const s of shards) await shardDml(s, 10);
  await waitShardSynced(c, 'b2b');
  const got = (await c.sb.downstream.query('SELECT id, name, c1 FROM b2b.t'))
    .map((r: Record<string, unknown>) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))))
    .sort();
  assert.deepEqual(got, await unionRows(shards, ['id', 'name', 'c1']));
  const idx = await c.sb.downstream.query(
    `SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'b2b' AND TABLE_NAME = 't' ORDER BY INDEX_NAME`,
  );
  assert.deepEqual(idx.map((r: Record<string, unknown>) => String(r.INDEX_NAME)).sort(), ['PRIMARY', 'idx_c1']);
});

test('RENAME TABLE within the shard group (DM shardddl1 DM_RENAME_TABLE): the merged table keeps every row and the next lock counts the new names; two renames in one statement pause with TSDM-50010 until binlog replace', {
  timeout: 180_000,
}, async () => {
  const shards = await startShardTask(c, 'ren', undefined, 10);
  const [a, b, x, y] = shards as [Shard, Shard, Shard, Shard];
  await a.up.query('RENAME TABLE shard.t1 TO shard.t3');
  a.table = 't3';
  for (const s of shards) await shardDml(s, 5);
  await b.up.query('ALTER TABLE shard.t2 RENAME TO shard.t4');
  b.table = 't4';
  for (const s of shards) await shardDml(s, 5);
  const two = 'RENAME TABLE shard.t1 TO shard.t3, shard.t2 TO shard.t4';
  await x.up.query(two);
  x.table = 't3';
  y.table = 't4';
  const v = await waitStage(c, 'ren', (t) => t.sources.some((s) => s.stage === 'Paused' && s.error), 'paused');
  const err = v.sources.find((s) => s.error)!.error!;
  assert.equal(err.code, 'TSDM-50010', err.message);
  assert.equal(err.context?.sql, two);
  assert.match(err.context?.position ?? '', /^binlog\.\d+:\d+$/);
  assert.match(err.suggestion, /dmctl binlog replace ren "RENAME TABLE `shard`.`t1` TO `shard`.`t3`; RENAME TABLE/);
  const r = await c.ctl([
    'binlog',
    'replace',
    'ren',
    '-s',
    'source2',
    'RENAME TABLE shard.t1 TO shard.t3; RENAME TABLE shard.t2 TO shard.t4;',
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const s of shards) {
    await s.up.query(`ALTER TABLE shard.${s.table} ADD COLUMN c1 INT NULL`);
    s.cols.push('c1');
  }
  for (const s of shards) await shardDml(s, 5);
  await waitShardSynced(c, 'ren');
  const got = (await c.sb.downstream.query('SELECT id, name, c1 FROM ren.t'))
    .map((r: Record<string, unknown>) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))))
    .sort();
  assert.deepEqual(got, await unionRows(shards, ['id', 'name', 'c1']));
});
