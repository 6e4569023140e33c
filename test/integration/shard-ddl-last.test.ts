/**
 * Issue #12 item 5: a shard DDL that is the last event in every source's binlog. The task applies it and must then
 * report itself caught up (`query-status --wait-for synced` succeeds) without any new upstream write, in both shard
 * modes, with the merged table's rows and structure equal to the shards'. Two layouts: 2 sources x 2 shard tables,
 * and 2 sources where the second has a single shard table in the task (its one hold is released with the stream
 * already at its DDL, so no replay moves it: the released hold must still be retired while idle).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, status, type Cluster } from './helpers.ts';
import { SHARD_TASK, startShardTask, unionRows, type Shard } from './shard-fixtures.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

/** Source 2 takes part with shard.t1 only (its shard.t2 is not in the task). */
const ONE_TABLE_ON_SOURCE2 = SHARD_TASK.replace(/(source-id: source2\n    block-allow-list:) bal/, '$1 bal2').replace(
  'block-allow-list:\n  bal:',
  'block-allow-list:\n  bal2:\n    do-tables:\n      - db-name: "shard"\n        tbl-name: "t1"\n  bal:',
);

async function ddlLast(task: string, body: string, inTask = (_s: Shard) => true): Promise<void> {
  const shards = (await startShardTask(c, task, body, 20)).filter(inTask);
  // The DDL on every shard is the last thing each upstream writes: nothing after it moves any position.
  for (const s of shards) {
    await s.up.query(`ALTER TABLE shard.${s.table} ADD COLUMN c1 INT NULL`);
    s.cols.push('c1');
  }
  const heads = await Promise.all(
    c.sb.upstreams.map(async (u) => {
      const [r] = await u.query('SHOW MASTER STATUS');
      return `${String(r.File)}:${Number(r.Position)}`;
    }),
  );
  const r = await c.ctl(['query-status', task, '--wait-for', 'synced', '--timeout', '30']);
  const v = await status(c, task);
  const seen = JSON.stringify(
    v.sources.map((s) => [s.source, s.stage, s.unit, s.sync?.synced, s.sync?.master, s.sync?.caughtUp]),
  );
  assert.equal(
    r.code,
    0,
    `query-status --wait-for synced: ${r.stdout}${r.stderr}\nupstream heads ${heads.join(', ')}; status ${seen}`,
  );
  // Caught up means at the upstream head, not only a flag.
  for (const [i, s] of v.sources.entries())
    assert.equal(`${s.sync?.synced?.name}:${s.sync?.synced?.pos}`, heads[i], `${s.source} synced position`);
  const cols = await c.sb.downstream.query(
    `SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION`,
    [task],
  );
  assert.deepEqual(
    cols.map((x: Record<string, unknown>) => String(x.COLUMN_NAME)),
    ['id', 'name', 'c1'],
  );
  const got = (await c.sb.downstream.query(`SELECT id, name, c1 FROM \`${task}\`.t`))
    .map((x: Record<string, unknown>) => JSON.stringify(Object.values(x).map((y) => (y === null ? null : String(y)))))
    .sort();
  assert.deepEqual(got, await unionRows(shards, ['id', 'name', 'c1']));
  assert.equal((await c.ctl(['stop-task', task])).code, 0);
}

test('pessimistic: a shard DDL last in every binlog ends caught up without another write', {
  timeout: 240_000,
}, async () => {
  await ddlLast('lastp', SHARD_TASK);
});

test('optimistic: a shard DDL last in every binlog ends caught up without another write', {
  timeout: 240_000,
}, async () => {
  await ddlLast('lasto', SHARD_TASK.replace('shard-mode: pessimistic', 'shard-mode: optimistic'));
});

test('pessimistic, one shard table on a source: its DDL last, the task ends caught up without another write', {
  timeout: 240_000,
}, async () => {
  await ddlLast('lastp1', ONE_TABLE_ON_SOURCE2, (s) => !(s.up === c.sb.upstreams[1] && s.table === 't2'));
});

test('optimistic, one shard table on a source: its DDL last, the task ends caught up without another write', {
  timeout: 240_000,
}, async () => {
  await ddlLast(
    'lasto1',
    ONE_TABLE_ON_SOURCE2.replace('shard-mode: pessimistic', 'shard-mode: optimistic'),
    (s) => !(s.up === c.sb.upstreams[1] && s.table === 't2'),
  );
});
