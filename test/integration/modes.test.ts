/**
 * Acceptance 4 (issue #2): task-mode `full` copies the snapshot and finishes (no sync: later changes are not
 * replicated); task-mode `incremental` starts at the `meta` position and replicates only what came after it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTables, waitFor } from '../harness/index.ts';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

/** An incremental task of schema `db` from SHOW MASTER STATUS row `ms`, with a safe-mode-duration when given. */
function metaTask(name: string, db: string, ms: { File: string; Position: number }, safeModeDuration?: string): string {
  const syncer = safeModeDuration ? '\n    syncer-config-name: s' : '';
  const syncers = safeModeDuration ? `syncers:\n  s:\n    safe-mode-duration: ${safeModeDuration}\n` : '';
  return taskYaml(
    name,
    c.sb.downstream,
    `mysql-instances:\n  - source-id: source1\n    block-allow-list: b${syncer}\n    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: ${ms.Position}\nblock-allow-list:\n  b:\n    do-dbs: ["${db}"]\n${syncers}`,
    'incremental',
  );
}

/**
 * `db.t (id, v)` with `upRows` upstream and `downRows` downstream (a backup not exactly at meta, not replicated);
 * returns the upstream position after its rows: the task's meta.
 */
async function backupAtMeta(db: string, upRows: string, downRows: string): Promise<{ File: string; Position: number }> {
  const table = `CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${db}.t VALUES`;
  await c.sb.upstreams[0]!.query(`${table} ${upRows}`);
  const [ms] = await c.sb.upstreams[0]!.query('SHOW MASTER STATUS');
  await c.sb.downstream.query(`${table} ${downRows}`);
  return ms;
}

/** Pauses `task`, runs `sql` upstream while it is paused, resumes it: its sync unit starts again after `sql`. */
async function restartAround(task: string, sql: string): Promise<void> {
  assert.equal((await c.ctl(['pause-task', task])).code, 0);
  await waitStage(c, task, (v) => v.sources[0]!.stage === 'Paused', 'paused');
  await c.sb.upstreams[0]!.query(sql);
  assert.equal((await c.ctl(['resume-task', task])).code, 0);
}

/** `<task>_safe_window`'s `open` column, one entry per row. */
async function safeWindow(task: string): Promise<number[]> {
  const rows = await c.sb.downstream.query(`SELECT open FROM \`dm_meta\`.\`${task}_safe_window\``);
  return rows.map((r: { open: number }) => r.open);
}

test('task-mode full copies the snapshot, then finishes without syncing', { timeout: 180_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE fm; CREATE TABLE fm.t (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE fm.k (a INT, b INT);
    INSERT INTO fm.t SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_3000; INSERT INTO fm.k SELECT seq % 7, seq % 3 FROM mysql.seq_1_to_500;`);
  await startTask(
    c,
    taskYaml(
      'full-task',
      c.sb.downstream,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["fm"]\n`,
      'full',
    ),
  );
  const v = await waitStage(c, 'full-task', (s) => s.sources[0]!.stage === 'Finished', 'full task finished');
  assert.equal(v.sources[0]!.unit, 'load');
  assert.equal(v.sources[0]!.sync, undefined, 'a full task never syncs');
  await assertSame(up, c.sb.downstream, [{ up: ['fm', 't'] }, { up: ['fm', 'k'] }]);
  await up.query(`INSERT INTO fm.t VALUES (99999, 'after')`);
  await new Promise((r) => setTimeout(r, 2000));
  const [row] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM fm.t WHERE id = 99999');
  assert.equal(Number(row.n), 0, 'changes after the snapshot are not replicated in mode full');
});

test('task-mode incremental starts at meta and replicates only later changes', { timeout: 180_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(
    `CREATE DATABASE inc; CREATE TABLE inc.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO inc.t VALUES (1, 'before-meta')`,
  );
  // As DM documents: the downstream already holds the data up to the meta position (restored from a backup).
  await down.query(
    `CREATE DATABASE inc; CREATE TABLE inc.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO inc.t VALUES (1, 'before-meta')`,
  );
  const [ms] = await up.query('SHOW MASTER STATUS');
  await up.query(
    `INSERT INTO inc.t VALUES (2, 'after-meta'); UPDATE inc.t SET v = 'updated' WHERE id = 1; INSERT INTO inc.t VALUES (3, 'x'); DELETE FROM inc.t WHERE id = 3`,
  );
  await startTask(c, metaTask('inc-task', 'inc', ms));
  await waitSynced(c, 'inc-task');
  const r = await compareTables(up, { schema: 'inc', table: 't' }, down, { schema: 'inc', table: 't' });
  assert.ok(r.equal, r.diffs.join('; '));
  await up.query(`INSERT INTO inc.t VALUES (4, 'live')`);
  await waitSynced(c, 'inc-task');
  await assertSame(up, down, [{ up: ['inc', 't'] }]);
  // A rotation (and writes to schemas the task ignores) still lets the task report synced with the new head.
  await up.query(
    'FLUSH BINARY LOGS; CREATE DATABASE IF NOT EXISTS ignored_db; CREATE TABLE ignored_db.x (id INT); INSERT INTO ignored_db.x VALUES (1)',
  );
  await waitSynced(c, 'inc-task', 30_000);
  const st = await c.ctl(['query-status', 'inc-task', '--json']);
  assert.equal(st.json.tasks[0].sources[0].unit, 'sync');
  assert.equal(st.json.tasks[0].sources[0].load, undefined, 'an incremental task does not dump or load');
});

test('safe-mode-duration: a first start from meta over a downstream not exactly at meta ends equal, then safe mode goes off', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // A backup not exactly at meta: row 1 is missing (behind: its UPDATE finds nothing to update) and row 5, inserted
  // after meta, is already there (ahead: its INSERT would be a duplicate).
  const ms = await backupAtMeta('sm', "(1, 'a'), (2, 'b'), (3, 'c')", "(2, 'b'), (3, 'c'), (5, 'e')");
  await up.query(
    `INSERT INTO sm.t VALUES (5, 'e'); UPDATE sm.t SET v = 'a2' WHERE id = 1; UPDATE sm.t SET v = 'b2' WHERE id = 2`,
  );
  await startTask(c, metaTask('sm-task', 'sm', ms, '4s'));
  await waitSynced(c, 'sm-task');
  await assertSame(up, down, [{ up: ['sm', 't'] }]);
  // The window is wall clock from the first start: it closes, and later changes are written outside safe mode.
  await waitStage(c, 'sm-task', (s) => s.sources[0]!.sync?.safeMode === false, 'safe mode off after 4 s', 30_000);
  await up.query(`UPDATE sm.t SET v = 'c2' WHERE id = 3; INSERT INTO sm.t VALUES (6, 'f')`);
  await waitSynced(c, 'sm-task');
  await assertSame(up, down, [{ up: ['sm', 't'] }]);
  assert.equal((await c.ctl(['stop-task', 'sm-task'])).code, 0);
});

test("safe-mode-duration: a restart inside the first start's window opens it again; once run out, it stays off", {
  timeout: 150_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // A backup behind meta: row 1 is missing downstream.
  const ms = await backupAtMeta('sw', "(1, 'a'), (2, 'b'), (3, 'c')", "(2, 'b'), (3, 'c')");
  await startTask(c, metaTask('sw-task', 'sw', ms, '60s'));
  await waitSynced(c, 'sw-task');
  assert.deepEqual(await safeWindow('sw-task'), [1], 'the first start records its window open');
  // Paused and resumed inside the window: row 1's UPDATE comes after the restart. Outside safe mode it would be an
  // in-place UPDATE of a row the downstream does not have (lost); in safe mode it is a REPLACE of the whole row.
  await restartAround('sw-task', `UPDATE sw.t SET v = 'a2' WHERE id = 1`);
  await waitStage(c, 'sw-task', (v) => v.sources[0]!.sync?.safeMode === true, 'safe mode on again after the resume');
  await waitSynced(c, 'sw-task');
  await assertSame(up, down, [{ up: ['sw', 't'] }]);
  assert.equal((await c.ctl(['stop-task', 'sw-task'])).code, 0);

  // A window that ran out with its changes committed is recorded so, and a later start opens none.
  const ms2 = await backupAtMeta('sx', "(1, 'a')", "(1, 'a')");
  await startTask(c, metaTask('sx-task', 'sx', ms2, '2s'));
  await waitSynced(c, 'sx-task');
  await waitStage(c, 'sx-task', (v) => v.sources[0]!.sync?.safeMode === false, 'safe mode off after 2 s', 30_000);
  await waitFor(async () => (await safeWindow('sx-task'))[0] === 0, 30_000, 'the window recorded as run out');
  await restartAround('sx-task', `UPDATE sx.t SET v = 'a2' WHERE id = 1`);
  await waitSynced(c, 'sx-task');
  const v = await waitStage(c, 'sx-task', (x) => x.sources[0]!.sync !== undefined, 'syncing');
  assert.equal(v.sources[0]!.sync!.safeMode, false, 'no window after a start that found it run out');
  await assertSame(up, down, [{ up: ['sx', 't'] }]);
  assert.equal((await c.ctl(['stop-task', 'sx-task'])).code, 0);
});

test('task-mode incremental can start from a GTID alone (meta.binlog-gtid)', { timeout: 120_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(
    `CREATE DATABASE gt; CREATE TABLE gt.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO gt.t VALUES (1, 'old')`,
  );
  await down.query(
    `CREATE DATABASE gt; CREATE TABLE gt.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO gt.t VALUES (1, 'old')`,
  );
  const [{ g }] = await up.query('SELECT @@gtid_binlog_pos AS g');
  await up.query(`INSERT INTO gt.t VALUES (2, 'new'); UPDATE gt.t SET v = 'upd' WHERE id = 1`);
  await startTask(
    c,
    taskYaml(
      'gtid-task',
      down,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-gtid: "${g}"\nblock-allow-list:\n  b:\n    do-dbs: ["gt"]\n`,
      'incremental',
    ),
  );
  await waitSynced(c, 'gtid-task');
  await assertSame(up, down, [{ up: ['gt', 't'] }]);
});

test('task-mode incremental without meta starts from the position at start-task, with warning TSDM-10023', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // DM (downstream_more_column's dm-task-incremental.yaml): no meta, no checkpoint -> the source's position now.
  await up.query(
    `CREATE DATABASE nometa; CREATE TABLE nometa.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO nometa.t VALUES (1, 'a')`,
  );
  await down.query(
    `CREATE DATABASE nometa; CREATE TABLE nometa.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO nometa.t VALUES (1, 'a')`,
  );
  await up.query(`INSERT INTO nometa.t VALUES (2, 'before-start')`);
  await startTask(
    c,
    taskYaml(
      'nometa-task',
      down,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["nometa"]\n`,
      'incremental',
    ),
  );
  // The position is read at start-task, as DM reads it: what is written as soon as start-task has returned, before
  // the agent has even started the subtask, is migrated.
  await up.query(`INSERT INTO nometa.t VALUES (3, 'after-start'); UPDATE nometa.t SET v = 'b' WHERE id = 1`);
  const v = await waitStage(
    c,
    'nometa-task',
    (s) => (s.sources[0]?.recentErrors ?? []).some((e) => e.code === 'TSDM-10023'),
    'TSDM-10023 warning in recent errors',
  );
  const w = v.sources[0]!.recentErrors!.find((e) => e.code === 'TSDM-10023')!;
  assert.match(w.message, /starts from the source's position at start-task .*changes before it are not migrated/);
  assert.equal(w.warning, true);
  assert.equal(v.sources[0]!.error, undefined, 'a warning, not an error');
  await waitSynced(c, 'nometa-task');
  const rows = await down.query('SELECT id, v FROM nometa.t ORDER BY id');
  assert.deepEqual(
    rows.map((r: { id: number; v: string }) => [r.id, r.v]),
    [
      [1, 'b'],
      [3, 'after-start'],
    ],
    'only changes after start-task are replicated, all of them',
  );
  // A restart resumes from the checkpoint, not from a new current position.
  await c.ctl(['pause-task', 'nometa-task']);
  await waitStage(c, 'nometa-task', (s) => s.sources[0]!.stage === 'Paused', 'paused');
  await up.query(`INSERT INTO nometa.t VALUES (4, 'while-paused')`);
  await c.ctl(['resume-task', 'nometa-task']);
  await waitSynced(c, 'nometa-task');
  const [r4] = await down.query('SELECT COUNT(*) AS n FROM nometa.t WHERE id = 4');
  assert.equal(Number(r4.n), 1, 'changes made while paused are replicated: the checkpoint wins');
});

test("UPDATE and DELETE identify rows by the downstream table's keys (DM downstream_diff_index)", {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // Two upstream tables keyed by c1 (overlapping values) merge into one downstream table created beforehand without a
  // key; later it gets a primary key on c3. An upstream table without a key goes to one keyed downstream.
  await up.query(`CREATE DATABASE dk1; CREATE DATABASE dk2;
    CREATE TABLE dk1.t1 (c1 INT PRIMARY KEY, c2 INT, c3 VARCHAR(10)); INSERT INTO dk1.t1 VALUES (1, 1, '1'), (2, 2, '2'), (3, 3, '3');
    CREATE TABLE dk2.t2 (c1 INT PRIMARY KEY, c2 INT, c3 VARCHAR(10)); INSERT INTO dk2.t2 VALUES (1, 12, '13'), (2, 22, '23'), (3, 32, '33');
    CREATE TABLE dk1.k (a INT, b VARCHAR(10)); INSERT INTO dk1.k VALUES (1, 'x'), (2, 'y')`);
  await down.query(`CREATE DATABASE dk; CREATE TABLE dk.t (c1 INT, c2 INT, c3 VARCHAR(10));
    INSERT INTO dk.t VALUES (1, 1, '1'), (2, 2, '2'), (3, 3, '3'), (1, 12, '13'), (2, 22, '23'), (3, 32, '33');
    CREATE TABLE dk.k (a INT PRIMARY KEY, b VARCHAR(10)); INSERT INTO dk.k VALUES (1, 'x'), (2, 'y')`);
  const [ms] = await up.query('SHOW MASTER STATUS');
  await startTask(
    c,
    taskYaml(
      'diff-index',
      down,
      `mysql-instances:
  - source-id: source1
    block-allow-list: b
    route-rules: [rt, rs]
    meta:
      binlog-name: ${ms.File}
      binlog-pos: ${ms.Position}
block-allow-list:
  b:
    do-dbs: ["dk1", "dk2"]
routes:
  rt: {schema-pattern: "dk?", table-pattern: "t?", target-schema: dk, target-table: t}
  rs: {schema-pattern: "dk?", target-schema: dk}
`,
      'incremental',
    ),
  );
  const merged = async (what: string) => {
    const want = await up.query(
      'SELECT c1, c2, c3 FROM dk1.t1 UNION ALL SELECT c1, c2, c3 FROM dk2.t2 ORDER BY c1, c2, c3',
    );
    const got = await down.query('SELECT c1, c2, c3 FROM dk.t ORDER BY c1, c2, c3');
    assert.deepEqual(got, want, what);
  };
  // Downstream without a key: each row is matched on all its columns (LIMIT 1), not on the upstream's c1.
  await up.query(`UPDATE dk1.t1 SET c3 = '111' WHERE c1 = 1; DELETE FROM dk1.t1 WHERE c1 = 2;
    UPDATE dk1.k SET b = 'z' WHERE a = 1; DELETE FROM dk1.k WHERE a = 2; INSERT INTO dk1.k VALUES (3, 'w')`);
  await waitSynced(c, 'diff-index');
  await merged('downstream without a key');
  await assertSame(up, down, [{ up: ['dk1', 'k'], down: ['dk', 'k'] }]);
  // A primary key on c3 downstream; a DDL on the target table makes the sync unit read the downstream keys again.
  await down.query('ALTER TABLE dk.t ADD PRIMARY KEY (c3)');
  await up.query(`ALTER TABLE dk1.t1 COMMENT = 'diff index'`);
  // A row that differs downstream outside its key is still found by the key (a full-row match would miss it).
  await down.query(`UPDATE dk.t SET c2 = -1 WHERE c3 = '23'`);
  await up.query(
    `UPDATE dk2.t2 SET c3 = '333' WHERE c1 = 3; DELETE FROM dk2.t2 WHERE c1 = 1; UPDATE dk2.t2 SET c2 = 99 WHERE c1 = 2`,
  );
  await waitSynced(c, 'diff-index');
  await merged('downstream primary key c3');
});

test('rows of one target with different row identities in one writer batch are all written, in order', {
  timeout: 60_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // Two routes merge tables of different structures (no shard mode). Downstream, mix.t is keyed by u, which only
  // mx1.a carries (mx2.b's rows get an AUTO_INCREMENT u): a's rows are keyed, b's keyless. mix.t2 is keyed by id and
  // unique on u: mx1.c carries both (keyed by id), mx2.d only u (keyed by u), with values equal to c's ids.
  await up.query(`CREATE DATABASE mx1; CREATE DATABASE mx2;
    CREATE TABLE mx1.a (u INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE mx2.b (v VARCHAR(10));
    CREATE TABLE mx1.c (id INT PRIMARY KEY, u INT NOT NULL); CREATE TABLE mx2.d (u INT PRIMARY KEY)`);
  await down.query(`CREATE DATABASE mix;
    CREATE TABLE mix.t (u INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));
    CREATE TABLE mix.t2 (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, u INT NOT NULL UNIQUE)`);
  const [ms] = await up.query('SHOW MASTER STATUS');
  // Written before the task starts: one writer reads them into one batch. A keyed row first (before the fix it decided
  // the whole target: b's rows collapsed into one and its DELETE was `WHERE () IN`; d's u=-5 overwrote c's id=-5).
  await up.query(`INSERT INTO mx1.a VALUES (-1, 'a1'); INSERT INTO mx2.b VALUES ('b1'); INSERT INTO mx1.a VALUES (-2, 'a2');
    INSERT INTO mx2.b VALUES ('b2'); INSERT INTO mx2.b VALUES ('b3'); UPDATE mx2.b SET v = 'b2x' WHERE v = 'b2';
    UPDATE mx1.a SET v = 'a1x' WHERE u = -1; DELETE FROM mx2.b WHERE v = 'b1'; DELETE FROM mx1.a WHERE u = -2;
    INSERT INTO mx2.b VALUES ('b4'); INSERT INTO mx1.a VALUES (-3, 'a3');
    INSERT INTO mx1.c VALUES (-5, 9); INSERT INTO mx2.d VALUES (-5); INSERT INTO mx2.d VALUES (7); INSERT INTO mx1.c VALUES (-7, 3);
    UPDATE mx1.c SET u = 4 WHERE id = -5; DELETE FROM mx2.d WHERE u = 7; UPDATE mx2.d SET u = -6 WHERE u = -5;
    INSERT INTO mx1.c VALUES (-6, 8); DELETE FROM mx1.c WHERE id = -7`);
  await startTask(
    c,
    taskYaml(
      'mixed-ids',
      down,
      `mysql-instances:
  - source-id: source1
    block-allow-list: b
    route-rules: [ra, rb, rc, rd]
    syncer-thread: 1
    meta:
      binlog-name: ${ms.File}
      binlog-pos: ${ms.Position}
block-allow-list:
  b:
    do-dbs: ["mx1", "mx2"]
routes:
  ra: {schema-pattern: "mx1", table-pattern: "a", target-schema: mix, target-table: t}
  rb: {schema-pattern: "mx2", table-pattern: "b", target-schema: mix, target-table: t}
  rc: {schema-pattern: "mx1", table-pattern: "c", target-schema: mix, target-table: t2}
  rd: {schema-pattern: "mx2", table-pattern: "d", target-schema: mix, target-table: t2}
`,
      'incremental',
    ),
  );
  await waitSynced(c, 'mixed-ids', 30_000);
  const same = async (what: string) => {
    // b's and d's rows carry no value of the downstream's AUTO_INCREMENT column: compare them without it.
    assert.deepEqual(
      await down.query('SELECT IF(u < 0, u, NULL) AS u, v FROM mix.t ORDER BY v'),
      await up.query('SELECT u, v FROM mx1.a UNION ALL SELECT NULL, v FROM mx2.b ORDER BY v'),
      `${what}: mix.t`,
    );
    assert.deepEqual(
      await down.query('SELECT IF(id < 0, id, NULL) AS id, u FROM mix.t2 ORDER BY u'),
      await up.query('SELECT id, u FROM mx1.c UNION ALL SELECT NULL, u FROM mx2.d ORDER BY u'),
      `${what}: mix.t2`,
    );
  };
  await same('one batch');
  // And live, in small transactions mixing both identities of each target.
  await up.query(`BEGIN; INSERT INTO mx2.b VALUES ('b5'); INSERT INTO mx1.a VALUES (-4, 'a4'); DELETE FROM mx2.b WHERE v = 'b3'; COMMIT;
    BEGIN; UPDATE mx1.c SET u = 10 WHERE id = -6; DELETE FROM mx2.d WHERE u = -6; INSERT INTO mx2.d VALUES (-7); COMMIT`);
  await waitSynced(c, 'mixed-ids', 30_000);
  await same('live');
});
