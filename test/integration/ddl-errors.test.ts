/**
 * Issue #3 acceptance 4 and 5: a DDL the downstream rejects pauses the task with the statement and position in the
 * error; `dmctl binlog skip`, `dmctl binlog replace` and (issue #18) `dmctl binlog inject` each let it continue
 * correctly. A purged binlog and a wrong
 * start position produce their coded errors in query-status.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeTemp } from '../harness/tsdm.ts';
import {
  assertSame,
  pausedWithError,
  purgeBinlogsTo,
  startCluster,
  startTask,
  taskYaml,
  waitStage,
  waitSynced,
  type Cluster,
} from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const body = (db: string) =>
  `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["${db}"]\n`;

test('a rejected DDL pauses the task with the statement; binlog skip and binlog replace resume it correctly', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(
    'CREATE DATABASE ddl; CREATE TABLE ddl.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ddl.t VALUES (1, "a")',
  );
  await startTask(c, taskYaml('ddl-task', down, body('ddl')));
  await waitSynced(c, 'ddl-task');
  // The downstream diverged by hand: it has column c already, and an index i1 on another column. As in DM, a DDL
  // whose effect is there already (duplicate column, key name; table exists…) is no reason to stop: the ALTER's other
  // clause (column e) still runs, clause by clause.
  await down.query('ALTER TABLE ddl.t ADD COLUMN c INT, ADD INDEX i1 (id, v)');
  await up.query('ALTER TABLE ddl.t ADD COLUMN c INT, ADD COLUMN e INT; INSERT INTO ddl.t VALUES (2, "b", 20, 200)');
  await up.query('ALTER TABLE ddl.t ADD INDEX i1 (v)');
  await waitSynced(c, 'ddl-task');
  await assertSame(up, down, [{ up: ['ddl', 't'] }]);
  assert.equal((await c.ctl(['binlog', 'list', 'ddl-task', '--json'])).json.operators.length, 0);

  // Column v was narrowed downstream by hand: an index on a 10-character prefix of v fails there (errno 1089).
  await down.query('ALTER TABLE ddl.t MODIFY v VARCHAR(5)');
  await up.query('ALTER TABLE ddl.t ADD INDEX iv (v(10)); INSERT INTO ddl.t VALUES (3, "c", 30, 300)');
  let v = await waitStage(c, 'ddl-task', pausedWithError, 'paused on the DDL');
  const err = v.sources[0]!.error!;
  assert.equal(err.code, 'TSDM-30003');
  assert.match(err.context?.sql ?? '', /ALTER TABLE `ddl`\.`t` ADD INDEX iv \(v\(10\)\)/);
  assert.match(err.context?.position ?? '', /^binlog\.\d+:\d+$/);
  assert.match(err.suggestion, /dmctl binlog skip/);
  const status = await c.ctl(['query-status', 'ddl-task']);
  assert.match(status.stdout, /TSDM-30003/);
  assert.match(status.stdout, /ADD INDEX iv/);

  let r = await c.ctl(['binlog', 'skip', 'ddl-task']);
  assert.equal(r.code, 0, r.stderr);
  await waitSynced(c, 'ddl-task');
  await assertSame(up, down, [{ up: ['ddl', 't'] }]);

  await up.query('ALTER TABLE ddl.t ADD INDEX i2 (v(8)); INSERT INTO ddl.t VALUES (4, "d", 40, 400)');
  v = await waitStage(
    c,
    'ddl-task',
    (s) => s.sources[0]!.stage === 'Paused' && s.sources[0]!.error?.context?.sql?.includes('i2') === true,
    'paused on the index',
  );
  r = await c.ctl(['binlog', 'replace', 'ddl-task', 'ALTER TABLE ddl.t ADD INDEX i1_v (v(5));']);
  assert.equal(r.code, 0, r.stderr);
  await waitSynced(c, 'ddl-task');
  await assertSame(up, down, [{ up: ['ddl', 't'] }]);
  const idx = (
    await down.query(
      "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='ddl' AND TABLE_NAME='t'",
    )
  )
    .map((x: { INDEX_NAME: string }) => x.INDEX_NAME)
    .sort();
  assert.deepEqual(idx, ['PRIMARY', 'i1', 'i1_v'], 'the replacement statement ran through routing');
  r = await c.ctl(['binlog', 'list', 'ddl-task', '--json']);
  assert.equal(r.json.operators.length, 2);
  assert.deepEqual(
    r.json.operators.map((o: { op: string }) => o.op),
    ['skip', 'replace'],
  );
  r = await c.ctl(['binlog', 'skip', 'ddl-task', '--json']);
  assert.equal(r.code, 1, 'nothing to skip when no source is paused');
  assert.equal(r.json.error.code, 'TSDM-20013');
});

test('binlog inject runs statements before the DDL the downstream rejected, then the DDL (DM handle-failed-DDL)', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE inj; CREATE TABLE inj.t (id INT PRIMARY KEY, v VARCHAR(20))');
  await up.query('INSERT INTO inj.t VALUES (1, "a")');
  await startTask(c, taskYaml('inj-task', down, body('inj')));
  await waitSynced(c, 'inj-task');
  // Column v was narrowed downstream by hand: the upstream's index on a 10-character prefix fails there.
  await down.query('ALTER TABLE inj.t MODIFY v VARCHAR(5)');
  await up.query('ALTER TABLE inj.t ADD INDEX iv (v(10)); INSERT INTO inj.t VALUES (2, "b")');
  const v = await waitStage(
    c,
    'inj-task',
    (s) => s.sources[0]!.stage === 'Paused' && s.sources[0]!.error?.context?.sql?.includes('ADD INDEX') === true,
    'paused on the ADD INDEX',
  );
  assert.match(v.sources[0]!.error!.suggestion, /dmctl binlog inject inj-task/);
  let r = await c.ctl(['binlog', 'inject', 'inj-task', 'ALTER TABLE inj.t MODIFY v VARCHAR(20);', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.op, 'inject');
  await waitSynced(c, 'inj-task');
  await assertSame(up, down, [{ up: ['inj', 't'] }]);
  const idx = (
    await down.query(
      "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='inj' AND TABLE_NAME='t' ORDER BY 1",
    )
  ).map((x: { INDEX_NAME: string }) => x.INDEX_NAME);
  assert.deepEqual(idx, ['iv', 'PRIMARY'], 'the injected MODIFY ran, then the event added the index');
  r = await c.ctl(['binlog', 'list', 'inj-task', '--json']);
  assert.deepEqual(
    r.json.operators.map((o: { op: string; sqls: string[] }) => [o.op, o.sqls]),
    [['inject', ['ALTER TABLE inj.t MODIFY v VARCHAR(20)']]],
  );
  // A decision for a position not reached yet can be reverted (same records as skip and replace).
  r = await c.ctl(['binlog', 'inject', 'inj-task', '--binlog-pos', 'binlog.000099:4', 'DROP TABLE inj.x;']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await c.ctl(['binlog', 'revert', 'inj-task', '--binlog-pos', 'binlog.000099:4'])).code, 0);
  r = await c.ctl(['binlog', 'list', 'inj-task', '--json']);
  assert.equal(r.json.operators.length, 1);
  r = await c.ctl(['binlog', 'inject', 'inj-task', '--json']);
  assert.equal(r.code, 2, 'inject needs statements');
  r = await c.ctl(['events', '--task', 'inj-task', '--json']);
  assert.ok(
    (r.json as { kind: string }[]).some((e) => e.kind === 'binlog.inject'),
    'the inject is in the event log',
  );
});

test('a wrong start position and a purged binlog give their coded errors in query-status', {
  timeout: 180_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE pos; CREATE TABLE pos.t (id INT PRIMARY KEY)');
  const [ms] = await up.query('SHOW MASTER STATUS');
  // A position past the end of the file: start-task's precheck refuses it (meta position, issue #16), the task is not
  // recorded (test/integration/precheck-defaults.test.ts covers the run-time cases).
  const bad = await c.ctl([
    'start-task',
    writeTemp(
      'bad-pos.yaml',
      taskYaml(
        'bad-pos',
        down,
        `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: 999999999\nblock-allow-list:\n  b:\n    do-dbs: ["pos"]\n`,
        'incremental',
      ),
    ),
    '--json',
  ]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.equal(bad.json?.error?.code, 'TSDM-20013', bad.stdout);

  await startTask(
    c,
    taskYaml(
      'purged',
      down,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: ${ms.Position}\nblock-allow-list:\n  b:\n    do-dbs: ["pos"]\n`,
      'incremental',
    ),
  );
  await waitSynced(c, 'purged');
  assert.equal((await c.ctl(['pause-task', 'purged'])).code, 0);
  await waitStage(c, 'purged', (s) => s.sources[0]!.stage === 'Paused', 'paused');
  await up.query('INSERT INTO pos.t VALUES (1); FLUSH BINARY LOGS; INSERT INTO pos.t VALUES (2); FLUSH BINARY LOGS');
  const [cur] = await up.query('SHOW MASTER STATUS');
  await purgeBinlogsTo(up, cur.File);
  assert.equal((await c.ctl(['resume-task', 'purged'])).code, 0);
  const v = await waitStage(
    c,
    'purged',
    (s) => s.sources[0]!.error?.code === 'TSDM-20009' && s.sources[0]!.stage === 'Paused',
    'paused on the purged binlog',
  );
  assert.match(v.sources[0]!.error!.suggestion, /full migration|expire_logs_days/);
});

test('two streams with one server-id: the conflict is a coded error in query-status', {
  timeout: 180_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE sid; CREATE TABLE sid.t (id INT PRIMARY KEY)');
  // The tasks are incremental (from after the CREATE): the table exists downstream too, so the only error is the
  // server-id conflict (otherwise the first row can pause a task with "table doesn't exist" before the conflict).
  await down.query('CREATE DATABASE sid; CREATE TABLE sid.t (id INT PRIMARY KEY)');
  const { sourceYaml, writeTemp } = await import('../harness/tsdm.ts');
  const r = await c.ctl([
    'operate-source',
    'create',
    writeTemp('sid.yaml', sourceYaml('fixed-id', up, 'server-id: 4242\n')),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [ms] = await up.query('SHOW MASTER STATUS');
  const t = (name: string) =>
    taskYaml(
      name,
      down,
      `mysql-instances:\n  - source-id: fixed-id\n    block-allow-list: b\n    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: ${ms.Position}\nblock-allow-list:\n  b:\n    do-dbs: ["sid"]\n`,
      'incremental',
    );
  await startTask(c, t('sid-a'));
  await startTask(c, t('sid-b'));
  for (let i = 0; i < 20; i++) await up.query(`INSERT INTO sid.t VALUES (${i})`);
  const { waitFor } = await import('../harness/index.ts');
  const { status } = await import('./helpers.ts');
  let last = '';
  await waitFor(
    async () => {
      const all = [...(await status(c, 'sid-a')).sources, ...(await status(c, 'sid-b')).sources];
      last = JSON.stringify(
        all.map((s) => [
          s.stage,
          s.error?.code,
          s.error?.message?.slice(0, 120),
          (s.recentErrors ?? []).map((e) => e.code),
        ]),
      );
      return all.some((s) => s.error?.code === 'TSDM-20010');
    },
    60_000,
    'a server-id conflict error',
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last status ${last})`);
  });
  await c.ctl(['stop-task', 'sid-a']);
  await c.ctl(['stop-task', 'sid-b']);
});

test('a row image without every column (a session with binlog_row_image=MINIMAL) pauses the task, never loses data silently', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(
    'CREATE DATABASE ri; CREATE TABLE ri.t (id INT PRIMARY KEY, name VARCHAR(20), note VARCHAR(20)); INSERT INTO ri.t VALUES (9, "a", "keep")',
  );
  await startTask(
    c,
    taskYaml(
      'ri',
      c.sb.downstream,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["ri"]\n',
    ),
  );
  await waitSynced(c, 'ri');
  await up.query("SET SESSION binlog_row_image = 'MINIMAL'; UPDATE ri.t SET name = 'hoho' WHERE id = 9");
  const v = await waitStage(
    c,
    'ri',
    (s) => s.sources[0]!.error?.code === 'TSDM-20004' && s.sources[0]!.stage === 'Paused',
    'paused on the minimal row image',
  );
  assert.match(v.sources[0]!.error!.message, /ri\.t/);
  const [row] = await c.sb.downstream.query('SELECT name, note FROM ri.t WHERE id = 9');
  assert.deepEqual([row.name, row.note], ['a', 'keep'], 'the downstream row was not touched');
});
