/**
 * Issue #6, acceptance 1 (optimistic) and 3: the same 2 sources x 2 shard tables scenario in optimistic mode (DDL
 * applied at once when it changes the merged table, DML never waits), and a conflict (one shard adds a column as
 * INT, another as VARCHAR) that pauses with TSDM-50008 naming both statements until `shard-ddl-lock unlock` decides.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, type MariaDBInstance } from '../harness/index.ts';
import { startCluster, status, type Cluster } from './helpers.ts';
import { SHARD_TASK, runShardScenario, shardDml, startShardTask, unionRows, waitShardSynced } from './shard-fixtures.ts';

let c: Cluster;
before(async () => { c = await startCluster({ upstreams: 2 }); });
after(async () => { await c?.stop(); });

const OPTIMISTIC = SHARD_TASK.replace('shard-mode: pessimistic', 'shard-mode: optimistic');

test('optimistic shard merge: 2 sources x 2 tables, DDL at different moments, union of rows downstream', { timeout: 300_000 }, async () => {
  await runShardScenario(c, 'opt', OPTIMISTIC);
  assert.equal((await c.ctl(['stop-task', 'opt'])).code, 0);
});

test('optimistic conflict: TSDM-50008 names both statements; unlock --action exec makes the target take the column and the task converges', { timeout: 300_000 }, async () => {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  const shards = await startShardTask(c, 'conf', OPTIMISTIC, 20);
  await up1.query('ALTER TABLE shard.t1 ADD COLUMN c2 INT NULL; INSERT INTO shard.t1 (id, name, c2) VALUES (1000900, \'x\', 7)');
  await waitFor(async () => (await status(c, 'conf')).sources.every((s) => s.sync?.caughtUp), 60_000, 'first ADD COLUMN applied');
  await up2.query('ALTER TABLE shard.t1 ADD COLUMN c2 VARCHAR(20) NULL; INSERT INTO shard.t1 (id, name, c2) VALUES (3000900, \'y\', \'seven\')');
  let message = '';
  await waitFor(async () => {
    const s = (await status(c, 'conf')).sources.find((x) => x.error?.code === 'TSDM-50008');
    message = s?.error?.message ?? '';
    return s?.stage === 'Paused';
  }, 60_000, 'TSDM-50008 on source2');
  assert.match(message, /source2\/shard\.t1: ALTER TABLE .*VARCHAR\(20\)/i);
  assert.match(message, /source1\/shard\.t1: ALTER TABLE .*c2.* INT/i);
  const shown = await c.ctl(['shard-ddl-lock', 'conf']);
  assert.match(shown.stdout, /CONFLICT/);
  const id = /^(conf-\S+)/m.exec(shown.stdout)?.[1];
  assert.ok(id, shown.stdout);
  const r = await c.ctl(['shard-ddl-lock', 'unlock', id, '--action', 'exec']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await c.ctl(['resume-task', 'conf'])).code, 0);
  shards[0]!.cols.push('c2');
  shards[2]!.cols.push('c2');
  shards[0]!.next = 1000; shards[2]!.next = 1000;
  for (const s of shards) await shardDml(s, 10);
  await waitShardSynced(c, 'conf');
  const cols = await c.sb.downstream.query(`SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'conf' AND TABLE_NAME = 't' AND COLUMN_NAME = 'c2'`);
  assert.equal(String(cols[0]?.COLUMN_TYPE), 'varchar(20)');
  const got = (await c.sb.downstream.query('SELECT id, name, c2 FROM conf.t')).map((x: Record<string, unknown>) => JSON.stringify(Object.values(x).map((v) => (v === null ? null : String(v))))).sort();
  assert.deepEqual(got, await unionRows(shards, ['id', 'name', 'c2']));
});
