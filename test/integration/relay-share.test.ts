/**
 * Issue #4, acceptance 1: two tasks with different filters on one source converge to their expected downstreams
 * while reading one relay (the upstream serves a single binlog dump connection), across a DDL in the stream
 * (schema at event time holds for relay reads).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorkload, type WorkloadTable } from '../harness/workload.ts';
import {
  assertSame,
  startCluster,
  startTask,
  taskYaml,
  pausedWithError,
  waitStage,
  waitSynced,
  type Cluster,
} from './helpers.ts';
import { binlogDumps, createRelaySource, waitRelayAtHead, waitRelayRunning } from './relay-helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE app');
  for (const t of ['a', 'b', 'c']) {
    await up.query(
      `CREATE TABLE app.${t} (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT, note TEXT, bin VARBINARY(8))`,
    );
    await up.query(
      `INSERT INTO app.${t} SELECT seq, CONCAT('${t}-', seq), seq % 50, IF(seq % 3 = 0, NULL, REPEAT('n', seq % 30)), UNHEX(LPAD(HEX(seq), 8, '0')) FROM mysql.seq_1_to_3000`,
    );
  }
  // Binlog from before the relay exists: an incremental task starting there bridges to the relay (second test).
  await up.query('CREATE DATABASE inc');
  await up.query('CREATE TABLE inc.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))');
  await up.query('FLUSH BINARY LOGS');
  const [m] = await up.query('SHOW MASTER STATUS');
  oldFile = String(m.File);
  await up.query("INSERT INTO inc.t SELECT seq, CONCAT('old-', seq) FROM mysql.seq_1_to_500");
  await createRelaySource(c, 'source1', up);
  await waitRelayRunning(c, 'source1');
});
let oldFile = '';
after(async () => {
  await c?.stop();
});

// The workload also deletes: it runs on a and b; app.c gets inserts and updates by hand, then chosen deletes.
const TABLES: WorkloadTable[] = ['a', 'b'].map((t) => ({
  schema: 'app',
  table: t,
  idCol: 'id',
  insert: (id: number) => `(id, name, qty, note, bin) VALUES (${id}, 'w-${id}', ${id % 7}, NULL, UNHEX('00ff'))`,
  update: "qty = qty + 1, note = CONCAT(IFNULL(note, ''), 'u')",
}));

// t1: only app.a and app.b, as they are. t2: everything, routed to app_t2, deletes on app.c ignored.
const T1 = `mysql-instances:
  - source-id: source1
    block-allow-list: only-ab
block-allow-list:
  only-ab:
    do-tables:
      - db-name: app
        tbl-name: a
      - db-name: app
        tbl-name: b
`;
const T2 = `mysql-instances:
  - source-id: source1
    block-allow-list: app
    route-rules: [to-t2, to-t2-tables]
    filter-rules: [keep-c-deletes]
block-allow-list:
  app:
    do-dbs: [app]
routes:
  to-t2:
    schema-pattern: app
    target-schema: app_t2
  to-t2-tables:
    schema-pattern: app
    table-pattern: "*"
    target-schema: app_t2
filters:
  keep-c-deletes:
    schema-pattern: app
    table-pattern: c
    events: [delete]
    action: Ignore
`;

test('two tasks with different filters share one relay and converge', { timeout: 300_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await startTask(c, taskYaml('t1', down, T1));
  await startTask(c, taskYaml('t2', down, T2));
  let w = startWorkload(up, TABLES, { pauseMs: 2, seed: 5 });
  await up.query("INSERT INTO app.c (id, name, qty) SELECT seq, CONCAT('c2-', seq), 1 FROM mysql.seq_5001_to_5500");
  await up.query('UPDATE app.c SET qty = qty + 10 WHERE id % 7 = 0');
  await new Promise((r) => setTimeout(r, 3000));
  // A DDL mid-stream: rows after it have one more column; both tasks must decode each row with its own schema.
  await up.query('ALTER TABLE app.a ADD COLUMN extra INT NOT NULL DEFAULT 7 AFTER name');
  await up.query('ALTER TABLE app.c ADD COLUMN extra2 VARCHAR(10) NULL');
  await new Promise((r) => setTimeout(r, 2000));
  await w.stop();
  // Deletes of app.c that t2 must not apply, after the DDL.
  const deleted = (await up.query('SELECT id FROM app.c ORDER BY id LIMIT 25')).map((r: { id: number }) =>
    Number(r.id),
  );
  await up.query(`DELETE FROM app.c WHERE id IN (${deleted.join(',')})`);
  await up.query(
    "INSERT INTO app.c (id, name, qty, extra2) SELECT seq, CONCAT('c3-', seq), 2, 'x' FROM mysql.seq_6001_to_6300",
  );
  await up.query("UPDATE app.c SET extra2 = 'upd' WHERE id % 11 = 0");
  w = startWorkload(up, TABLES, { pauseMs: 2, seed: 6, idBase: 20_000_000 });
  await new Promise((r) => setTimeout(r, 2000));
  await w.stop();

  await waitRelayAtHead(c, 'source1', up);
  await waitSynced(c, 't1', 180_000);
  await waitSynced(c, 't2', 180_000);
  assert.equal(await binlogDumps(up), 1, 'one binlog stream from the upstream: the relay');

  await assertSame(up, down, [{ up: ['app', 'a'] }, { up: ['app', 'b'] }]);
  const [t1c] = await down.query(
    "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'c'",
  );
  assert.equal(Number(t1c.n), 0, 't1 does not replicate app.c');
  await assertSame(up, down, [
    { up: ['app', 'a'], down: ['app_t2', 'a'] },
    { up: ['app', 'b'], down: ['app_t2', 'b'] },
  ]);
  // app_t2.c: every upstream row, plus the deleted ones (deletes ignored by t2's filter).
  const [u] = await up.query(
    "SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', id, name, qty, note, HEX(bin), extra2))) AS h FROM app.c",
  );
  const [d] = await down.query(
    `SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', id, name, qty, note, HEX(bin), extra2))) AS h FROM app_t2.c WHERE id NOT IN (${deleted.join(',')})`,
  );
  assert.deepEqual(
    [Number(d.n), String(d.h)],
    [Number(u.n), String(u.h)],
    'app_t2.c equals app.c outside the deleted ids',
  );
  const [kept] = await down.query(`SELECT COUNT(*) AS n FROM app_t2.c WHERE id IN (${deleted.join(',')})`);
  assert.equal(Number(kept.n), deleted.length, 'deletes on app.c were ignored by t2');
});

test('a task whose position is older than the relay reads the upstream until the relay origin, then the relay', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query("INSERT INTO inc.t SELECT seq, CONCAT('new-', seq) FROM mysql.seq_501_to_900");
  await up.query("UPDATE inc.t SET v = CONCAT(v, '+') WHERE id % 5 = 0");
  await down.query('CREATE DATABASE IF NOT EXISTS inc');
  await down.query('CREATE TABLE inc.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))');
  await startTask(
    c,
    taskYaml(
      'inc',
      down,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-name: ${oldFile}\n      binlog-pos: 4\nblock-allow-list:\n  b:\n    do-dbs: ["inc"]\n`,
      'incremental',
    ),
  );
  await waitSynced(c, 'inc', 180_000);
  await up.query("INSERT INTO inc.t SELECT seq, 'after' FROM mysql.seq_901_to_950");
  await waitSynced(c, 'inc', 180_000);
  await assertSame(up, down, [{ up: ['inc', 't'] }]);
  assert.match(c.agent.log(), /task reached the relay/);
});

test('schema at event time through the relay: a paused task replays a backlog across DDL', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  assert.equal((await c.ctl(['pause-task', 't1'])).code, 0);
  await waitStage(c, 't1', (v) => v.sources.every((s) => s.stage === 'Paused'), 't1 paused');
  await up.query(
    "INSERT INTO app.b (id, name, qty, note) SELECT 30000000 + seq, 'before-ddl', seq, 'n' FROM mysql.seq_1_to_300",
  );
  await up.query(
    'ALTER TABLE app.b DROP COLUMN note, ADD COLUMN score DECIMAL(10,2) NULL AFTER name, MODIFY qty BIGINT',
  );
  await up.query(
    "INSERT INTO app.b (id, name, score, qty) SELECT 30001000 + seq, 'after-ddl', seq / 4, seq * 1000000000 FROM mysql.seq_1_to_300",
  );
  await up.query('UPDATE app.b SET score = 1.5 WHERE id BETWEEN 30000001 AND 30000100');
  await up.query('ALTER TABLE app.b RENAME COLUMN name TO label');
  await up.query("UPDATE app.b SET label = CONCAT(label, '!') WHERE id % 9 = 0");
  await waitRelayAtHead(c, 'source1', up);
  assert.equal((await c.ctl(['resume-task', 't1'])).code, 0);
  await waitSynced(c, 't1', 180_000);
  await waitSynced(c, 't2', 180_000);
  await assertSame(up, down, [{ up: ['app', 'b'] }, { up: ['app', 'b'], down: ['app_t2', 'b'] }]);
});

test('through the relay, a write the downstream refuses pauses the task while the upstream stays quiet', {
  timeout: 240_000,
}, async () => {
  // DM's tracker_ignored_ddl: the task filters ALTER TABLE, so a column added upstream is missing downstream and the
  // next row with it fails there (1054). The relay hands out no idle positions, so a failed batch in flight was seen
  // only at the next flush, which waited for the next upstream write: the task showed Running, stuck, meanwhile.
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE quiet');
  await up.query('CREATE TABLE quiet.t1 (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY)');
  await up.query('INSERT INTO quiet.t1 VALUES (1)');
  const body = `mysql-instances:
  - source-id: source1
    block-allow-list: quiet
    filter-rules: [no-alter]
block-allow-list:
  quiet:
    do-dbs: [quiet]
filters:
  no-alter:
    schema-pattern: "*"
    table-pattern: "*"
    events: ["alter table"]
    action: Ignore
`;
  await startTask(c, taskYaml('t3', down, body));
  await waitSynced(c, 't3');
  await up.query('ALTER TABLE quiet.t1 ADD COLUMN ignore_1 INT');
  const [afterAlter] = await up.query('SHOW MASTER STATUS');
  await up.query('INSERT INTO quiet.t1 (id, ignore_1) VALUES (2, 2)');
  const v = await waitStage(c, 't3', pausedWithError, 'paused on the row the downstream cannot take', 30_000);
  assert.equal(v.sources[0]!.error!.context?.errno, 1054, JSON.stringify(v.sources[0]!.error));
  assert.match(
    v.sources[0]!.error!.suggestion,
    /lacks a column .* ADD COLUMN/,
    'the advice names the cause and the fix',
  );
  // The paused status shows what committed before the failure: the filtered ALTER, not an older periodic report.
  const synced = v.sources[0]!.sync?.synced;
  assert.ok(
    synced !== undefined && synced.name === afterAlter.File && synced.pos >= Number(afterAlter.Position),
    JSON.stringify(synced),
  );
  await down.query('ALTER TABLE quiet.t1 ADD COLUMN ignore_1 INT');
  assert.equal((await c.ctl(['resume-task', 't3'])).code, 0);
  await waitSynced(c, 't3');
  await assertSame(up, down, [{ up: ['quiet', 't1'] }]);
});
