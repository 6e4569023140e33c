/**
 * Issue #6, acceptance 4 (and the pessimistic side of 3): a lock that cannot complete on its own is resolved by hand
 * with `dmctl shard-ddl-lock unlock`, without losing a checkpoint or a row.
 *  - a shard that will never reach the DDL (taken out of the task's scope upstream) leaves the lock pending; `unlock
 *    --force-remove` lets the owner run the DDL, and held shards replay every row they wrote meanwhile;
 *  - shards that reach different DDLs pause the task with TSDM-50005 naming both statements.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bucket } from '../../src/coord/index.ts';
import { waitFor, type MariaDBInstance } from '../harness/index.ts';
import { startCluster, status, taskYaml, type Cluster } from './helpers.ts';
import { writeTemp } from '../harness/tsdm.ts';
import { SHARD_TASK, shardDml, startShardTask, unionRows, waitShardSynced, type Shard } from './shard-fixtures.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

function setup(task: string): Promise<Shard[]> {
  return startShardTask(c, task);
}

async function rows(task: string, cols: string): Promise<string[]> {
  return (await c.sb.downstream.query(`SELECT ${cols} FROM \`${task}\`.t`))
    .map((r: Record<string, unknown>) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))))
    .sort();
}

test('a shard that never reaches the DDL: unlock --force-remove runs it and the task converges', {
  timeout: 300_000,
}, async () => {
  const shards = await setup('unl');
  // Three shards reach the DDL; source2's t2 never will.
  for (const s of shards.slice(0, 3)) {
    await s.up.query(`ALTER TABLE shard.${s.table} ADD COLUMN c1 INT NULL`);
    s.cols.push('c1');
    for (const o of shards) await shardDml(o, 10);
  }
  let lockId = '';
  await waitFor(
    async () => {
      const r = await c.ctl(['shard-ddl-lock', 'unl', '--json']);
      const l = r.json?.locks?.[0];
      if (!l || Object.values(l.shards as Record<string, { reached: boolean }>).filter((s) => s.reached).length < 3)
        return false;
      lockId = l.id;
      return true;
    },
    60_000,
    'lock with three shards reached',
  );
  const shown = await c.ctl(['shard-ddl-lock', 'unl']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /waiting\s+source2\/shard\.t2/);
  assert.match(shown.stdout, /ADD COLUMN `c1` INT NULL|ADD COLUMN c1 INT NULL/i);
  // Nothing of the held shards reached the downstream table's new column yet: the DDL has not run.
  const before = await c.sb.downstream.query(
    `SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'unl' AND COLUMN_NAME = 'c1'`,
  );
  assert.equal(Number(before[0].n), 0);

  const bad = await c.ctl(['shard-ddl-lock', 'unlock', 'no-such-lock']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr + bad.stdout, /TSDM-50007/);
  const r = await c.ctl(['shard-ddl-lock', 'unlock', lockId, '--force-remove']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const o of shards) await shardDml(o, 10);
  await waitShardSynced(c, 'unl');
  assert.deepEqual(await rows('unl', 'id, name, c1'), await unionRows(shards, ['id', 'name', 'c1']));
  assert.equal((await c.coord.list(Bucket.locks)).length, 0);
  assert.equal((await c.ctl(['stop-task', 'unl'])).code, 0);
});

test('shards reaching different DDL pause with TSDM-50005; binlog replace with the agreed DDL resolves it', {
  timeout: 300_000,
}, async () => {
  const shards = await setup('mis');
  const [a, b] = shards as [Shard, Shard];
  await a.up.query('ALTER TABLE shard.t1 ADD COLUMN c1 INT NULL');
  await b.up.query('ALTER TABLE shard.t2 ADD COLUMN c1 BIGINT NULL');
  a.cols.push('c1');
  b.cols.push('c1');
  for (const o of shards) await shardDml(o, 10);
  let message = '';
  await waitFor(
    async () => {
      const s = (await status(c, 'mis')).sources.find((x) => x.error?.code === 'TSDM-50005');
      message = s?.error?.message ?? '';
      return s !== undefined && s.stage === 'Paused';
    },
    60_000,
    'TSDM-50005 on source1',
  );
  assert.match(message, /c1` INT NULL|c1 INT NULL/i);
  assert.match(message, /BIGINT NULL/i);
  // The user's decision: that shard's statement becomes the agreed one (written as for the upstream).
  const r = await c.ctl(['binlog', 'replace', 'mis', '-s', 'source1', 'ALTER TABLE shard.t2 ADD COLUMN c1 INT NULL']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const s of shards.slice(2)) {
    await s.up.query(`ALTER TABLE shard.${s.table} ADD COLUMN c1 INT NULL`);
    s.cols.push('c1');
  }
  for (const o of shards) await shardDml(o, 10);
  await waitShardSynced(c, 'mis');
  assert.deepEqual(await rows('mis', 'id, name, c1'), await unionRows(shards, ['id', 'name', 'c1']));
});

test('shard prechecks: inconsistent shards refuse to start (TSDM-50009); AUTO_INCREMENT keys give a warning with the fix', {
  timeout: 120_000,
}, async () => {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  await up1.query(
    'DROP DATABASE IF EXISTS pc; CREATE DATABASE pc; CREATE TABLE pc.t1 (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40))',
  );
  await up2.query(
    'DROP DATABASE IF EXISTS pc; CREATE DATABASE pc; CREATE TABLE pc.t1 (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), extra INT)',
  );
  const body = (mode: string) =>
    SHARD_TASK.replace('shard-mode: pessimistic', `shard-mode: ${mode}`)
      .replace(/"shard"/g, '"pc"')
      .replace('target-schema: "merged"', 'target-schema: "pcm"');
  const bad = await c.ctl(['start-task', writeTemp('pc.yaml', taskYaml('pc', c.sb.downstream, body('pessimistic')))]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout + bad.stderr, /TSDM-50009/);
  assert.match(bad.stdout + bad.stderr, /source2\/pc\.t1 has columns/);
  // Optimistic mode can merge them (extra is one more column); the shared AUTO_INCREMENT key is a warning.
  const ok = await c.ctl(['check-task', writeTemp('pc.yaml', taskYaml('pc', c.sb.downstream, body('optimistic')))]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /WARN shard tables of pcm\.t/);
  assert.match(ok.stdout, /AUTO_INCREMENT key id.*Fix:/s);
});
