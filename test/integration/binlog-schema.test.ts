/**
 * Issue #18 (DM's missing verbs): `dmctl binlog-schema list|update|delete` unblock a task whose tracked schema does
 * not match the binlog rows, as DM's "Manage Table Schemas of Tables to be Migrated" describes:
 *  - an incremental task started from a position where a table had fewer columns than it has now (the tracker starts
 *    from the upstream's current structure): update from a file holding the table as it was then;
 *  - a column added upstream without a binlog event (sql_log_bin=0) and by hand downstream: update --from-source,
 *    --from-target (the table routed to another name; applied by an agent restart, not a resume: the change is
 *    stored with the checkpoint), and delete (the next event takes the upstream's structure).
 * list and update refuse while the subtask runs. --sync (optimistic shard mode): a column dropped from one shard
 * outside the binlog; the update records the shard's new structure in the shard-DDL lock, so when the other shard drops
 * it too the target drops it (without --sync the lock would still count the column on the first shard and keep it).
 * Every case ends with the data compared.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeTemp } from '../harness/tsdm.ts';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const TABLES = ['f', 't1', 't2', 't3'];

/** Paused by the row event of `table` that has one column more (or fewer) than its tracked schema. */
async function pausedOn(table: string) {
  const v = await waitStage(
    c,
    'bs',
    (s) => s.sources[0]!.stage === 'Paused' && s.sources[0]!.error?.message.includes(`bs.${table} has`) === true,
    `paused on bs.${table}'s rows`,
  );
  const e = v.sources[0]!.error!;
  assert.equal(e.code, 'TSDM-60002');
  assert.match(e.suggestion, /dmctl binlog-schema update TASK bs/);
}

/** A column added upstream outside the binlog, and by hand downstream (to `downTable`), then a row that has it. */
async function missedColumn(table: string, downTable = table): Promise<void> {
  const up = c.sb.upstreams[0]!;
  await up.query(`SET sql_log_bin = 0; ALTER TABLE bs.${table} ADD COLUMN c VARCHAR(10); SET sql_log_bin = 1`);
  await c.sb.downstream.query(`ALTER TABLE bs.${downTable} ADD COLUMN c VARCHAR(10)`);
  await up.query(`INSERT INTO bs.${table} VALUES (20, 2, 'x'); UPDATE bs.${table} SET c = 'y' WHERE id = 1`);
}

test('binlog-schema update (a file, --from-source, --from-target) and delete unblock a task; list shows the schema', {
  timeout: 180_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  const create = TABLES.map((t) => `CREATE TABLE bs.${t} (id INT PRIMARY KEY, a INT)`).join('; ');
  await up.query(`CREATE DATABASE bs; ${create}; INSERT INTO bs.t1 VALUES (1, 1); INSERT INTO bs.t2 VALUES (1, 1)`);
  await up.query('INSERT INTO bs.t3 VALUES (1, 1)');
  await down.query(
    `CREATE DATABASE bs; ${create.replace('bs.t2 ', 'bs.t2d ')}; INSERT INTO bs.t1 VALUES (1, 1); INSERT INTO bs.t2d VALUES (1, 1); INSERT INTO bs.t3 VALUES (1, 1)`,
  );
  const [ms] = await up.query('SHOW MASTER STATUS');
  // After the task's start position: f gets a column. The tracker, taken from the upstream at the first start, has it
  // already, and the rows written before it have one column fewer.
  await up.query(
    'INSERT INTO bs.f VALUES (1, 10), (2, 20); ALTER TABLE bs.f ADD COLUMN b INT; INSERT INTO bs.f VALUES (3, 30, 300); UPDATE bs.f SET b = 1 WHERE id = 1',
  );
  await startTask(
    c,
    taskYaml(
      'bs',
      down,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    route-rules: ["r2"]\n    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: ${ms.Position}\nblock-allow-list:\n  b:\n    do-dbs: ["bs"]\nroutes:\n  r2:\n    schema-pattern: bs\n    table-pattern: t2\n    target-schema: bs\n    target-table: t2d\n`,
      'incremental',
    ),
  );
  await pausedOn('f');
  let r = await c.ctl(['binlog-schema', 'list', 'bs', 'bs', 'f']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^CREATE TABLE `f` \(\n {2}`id` int\(11\) NOT NULL,\n {2}`a` int\(11\) NULL DEFAULT NULL,\n {2}`b` int\(11\)/,
  );
  // As DM's docs advise: keep the listed schema; the file says the table as it was at the start position. Written as
  // DM's scripts still write it (downstream_more_column's run.sh): the deprecated operate-schema set.
  r = await c.ctl([
    'operate-schema',
    'set',
    '-s',
    'source1',
    'bs',
    '-d',
    'bs',
    '-t',
    'f',
    writeTemp('f.sql', 'CREATE TABLE `whatever` (\n  id INT NOT NULL PRIMARY KEY,\n  a INT\n);\n'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /operate-schema is DM's deprecated name; running `dmctl binlog-schema update bs bs f /);
  r = await c.ctl(['binlog-schema', 'list', 'bs', 'bs', 'f', '--json', '-s', 'source1,']);
  assert.equal(r.json.result, true);
  assert.doesNotMatch(r.json.sources[0].schema, /`b`/);
  assert.equal((await c.ctl(['resume-task', 'bs'])).code, 0);
  await waitSynced(c, 'bs');
  await assertSame(up, down, [{ up: ['bs', 'f'] }]);

  // Running: update and list are refused (DM: the subtask must be Paused).
  r = await c.ctl(['binlog-schema', 'update', 'bs', 'bs', 't1', '--from-source', '--json']);
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.json.sources[0].error.code, 'TSDM-50061');
  assert.match(r.json.sources[0].error.suggestion, /pause-task/);
  r = await c.ctl(['binlog-schema', 'list', 'bs', 'bs', 't1', '--json']);
  assert.equal(r.json.sources[0].error.code, 'TSDM-50061');

  // --from-source: the upstream's table now has the column the tracker missed.
  await missedColumn('t1');
  await pausedOn('t1');
  r = await c.ctl(['binlog-schema', 'update', 'bs', 'bs', 't1', '--from-source']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /`c` varchar\(10\)/);
  assert.equal((await c.ctl(['resume-task', 'bs'])).code, 0);
  await waitSynced(c, 'bs');
  await assertSame(up, down, [{ up: ['bs', 't1'] }]);

  // --from-target: the table bs.t2 is routed to bs.t2d, which the user altered. An agent restart (no resume-task)
  // runs the subtask again: it reads the schema stored with the checkpoint.
  await missedColumn('t2', 't2d');
  await pausedOn('t2');
  r = await c.ctl(['binlog-schema', 'update', 'bs', 'bs', 't2', '--from-target', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.json.sources[0].schema, /^CREATE TABLE `t2` [^]*`c` varchar\(10\)/);
  await c.agent.restart();
  await waitSynced(c, 'bs');
  await assertSame(up, down, [{ up: ['bs', 't2'], down: ['bs', 't2d'] }]);

  // delete: the table's next event takes the upstream's structure (which has the column).
  await missedColumn('t3');
  await pausedOn('t3');
  r = await c.ctl(['binlog-schema', 'delete', 'bs', 'bs', 't3']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.ctl(['binlog-schema', 'list', 'bs', 'bs', 't3', '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.json.sources[0].error.code, 'TSDM-10062');
  assert.equal((await c.ctl(['resume-task', 'bs'])).code, 0);
  await waitSynced(c, 'bs');
  await assertSame(
    up,
    down,
    TABLES.map((t) => (t === 't2' ? { up: ['bs', t] as [string, string], down: ['bs', 't2d'] } : { up: ['bs', t] })),
  );
  r = await c.ctl(['events', '--task', 'bs', '--json']);
  const kinds = (r.json as { kind: string; table?: string }[]).filter((e) => e.kind === 'binlog.schema');
  assert.deepEqual(
    kinds.map((e) => e.table),
    ['bs.f', 'bs.t1', 'bs.t2', 'bs.t3'],
  );
});

test("binlog-schema update --sync: the optimistic shard-DDL lock takes the shard's new structure", {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  const shard = (t: string) => `CREATE TABLE so.${t} (id INT PRIMARY KEY, a INT, c INT)`;
  await up.query(`CREATE DATABASE so; ${shard('s1')}; ${shard('s2')}`);
  await down.query(`CREATE DATABASE so; ${shard('s')}`);
  const [ms] = await up.query('SHOW MASTER STATUS');
  await up.query('INSERT INTO so.s1 VALUES (1, 1, 1); INSERT INTO so.s2 VALUES (101, 1, 1)');
  await startTask(
    c,
    taskYaml(
      'so',
      down,
      `shard-mode: optimistic\nmysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    route-rules: ["r"]\n    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: ${ms.Position}\nblock-allow-list:\n  b:\n    do-dbs: ["so"]\nroutes:\n  r:\n    schema-pattern: so\n    table-pattern: s*\n    target-schema: so\n    target-table: s\n`,
      'incremental',
    ),
  );
  await waitSynced(c, 'so');
  // s1 loses c outside the binlog: its next row has one column fewer than the tracker's s1.
  await up.query(
    'SET sql_log_bin = 0; ALTER TABLE so.s1 DROP COLUMN c; SET sql_log_bin = 1; INSERT INTO so.s1 VALUES (2, 2)',
  );
  await waitStage(
    c,
    'so',
    (v) => v.sources[0]!.error?.message.includes('so.s1 has') === true,
    "paused on so.s1's rows",
  );
  // --sync is the default (DM's too); --no-flush is accepted without effect, as DM overrides it.
  const r = await c.ctl(['binlog-schema', 'update', 'so', 'so', 's1', '--from-source', '--no-flush']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /shard-DDL lock of so\.s records it as this shard's structure/);
  assert.match(r.stderr, /--no-flush has no effect/);
  assert.equal((await c.ctl(['resume-task', 'so'])).code, 0);
  await up.query('ALTER TABLE so.s2 DROP COLUMN c; INSERT INTO so.s2 VALUES (102, 2)');
  await waitSynced(c, 'so');
  const cols = await down.query(
    "SELECT COLUMN_NAME AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'so' AND TABLE_NAME = 's' ORDER BY ORDINAL_POSITION",
  );
  assert.deepEqual(
    cols.map((x: { n: string }) => x.n),
    ['id', 'a'],
    'no shard has c any more: the target dropped it',
  );
  const rows = async (db: typeof up, sql: string) =>
    (await db.query(sql)).map((x: { id: number; a: number }) => `${x.id}:${x.a}`);
  assert.deepEqual(
    await rows(down, 'SELECT id, a FROM so.s ORDER BY id'),
    await rows(up, 'SELECT id, a FROM so.s1 UNION ALL SELECT id, a FROM so.s2 ORDER BY id'),
  );
});
