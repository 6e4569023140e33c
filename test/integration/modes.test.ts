/**
 * Acceptance 4 (issue #2): task-mode `full` copies the snapshot and finishes (no sync: later changes are not
 * replicated); task-mode `incremental` starts at the `meta` position and replicates only what came after it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTables } from '../harness/index.ts';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => { c = await startCluster(); });
after(async () => { await c?.stop(); });

test('task-mode full copies the snapshot, then finishes without syncing', { timeout: 180_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE fm; CREATE TABLE fm.t (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE fm.k (a INT, b INT);
    INSERT INTO fm.t SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_3000; INSERT INTO fm.k SELECT seq % 7, seq % 3 FROM mysql.seq_1_to_500;`);
  await startTask(c, taskYaml('full-task', c.sb.downstream, `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["fm"]\n`, 'full'));
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
  await up.query(`CREATE DATABASE inc; CREATE TABLE inc.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO inc.t VALUES (1, 'before-meta')`);
  // As DM documents: the downstream already holds the data up to the meta position (restored from a backup).
  await down.query(`CREATE DATABASE inc; CREATE TABLE inc.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO inc.t VALUES (1, 'before-meta')`);
  const [ms] = await up.query('SHOW MASTER STATUS');
  await up.query(`INSERT INTO inc.t VALUES (2, 'after-meta'); UPDATE inc.t SET v = 'updated' WHERE id = 1; INSERT INTO inc.t VALUES (3, 'x'); DELETE FROM inc.t WHERE id = 3`);
  await startTask(c, taskYaml('inc-task', down, `mysql-instances:
  - source-id: source1
    block-allow-list: b
    meta:
      binlog-name: ${ms.File}
      binlog-pos: ${ms.Position}
block-allow-list:
  b:
    do-dbs: ["inc"]
`, 'incremental'));
  await waitSynced(c, 'inc-task');
  const r = await compareTables(up, { schema: 'inc', table: 't' }, down, { schema: 'inc', table: 't' });
  assert.ok(r.equal, r.diffs.join('; '));
  await up.query(`INSERT INTO inc.t VALUES (4, 'live')`);
  await waitSynced(c, 'inc-task');
  await assertSame(up, down, [{ up: ['inc', 't'] }]);
  // A rotation (and writes to schemas the task ignores) still lets the task report synced with the new head.
  await up.query('FLUSH BINARY LOGS; CREATE DATABASE IF NOT EXISTS ignored_db; CREATE TABLE ignored_db.x (id INT); INSERT INTO ignored_db.x VALUES (1)');
  await waitSynced(c, 'inc-task', 30_000);
  const st = await c.ctl(['query-status', 'inc-task', '--json']);
  assert.equal(st.json.tasks[0].sources[0].unit, 'sync');
  assert.equal(st.json.tasks[0].sources[0].load, undefined, 'an incremental task does not dump or load');
});

test('task-mode incremental can start from a GTID alone (meta.binlog-gtid)', { timeout: 120_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(`CREATE DATABASE gt; CREATE TABLE gt.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO gt.t VALUES (1, 'old')`);
  await down.query(`CREATE DATABASE gt; CREATE TABLE gt.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO gt.t VALUES (1, 'old')`);
  const [{ g }] = await up.query('SELECT @@gtid_binlog_pos AS g');
  await up.query(`INSERT INTO gt.t VALUES (2, 'new'); UPDATE gt.t SET v = 'upd' WHERE id = 1`);
  await startTask(c, taskYaml('gtid-task', down, `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-gtid: "${g}"\nblock-allow-list:\n  b:\n    do-dbs: ["gt"]\n`, 'incremental'));
  await waitSynced(c, 'gtid-task');
  await assertSame(up, down, [{ up: ['gt', 't'] }]);
});

test('task-mode incremental without meta starts from the current position, with warning TSDM-10023', { timeout: 120_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // DM (downstream_more_column's dm-task-incremental.yaml): no meta, no checkpoint -> the source's position now.
  await up.query(`CREATE DATABASE nometa; CREATE TABLE nometa.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO nometa.t VALUES (1, 'a')`);
  await down.query(`CREATE DATABASE nometa; CREATE TABLE nometa.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO nometa.t VALUES (1, 'a')`);
  await up.query(`INSERT INTO nometa.t VALUES (2, 'before-start')`);
  await startTask(c, taskYaml('nometa-task', down, `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["nometa"]\n`, 'incremental'));
  // The position is read when the sync unit starts: wait for the warning that says which one.
  const v = await waitStage(c, 'nometa-task', (s) => (s.sources[0]?.recentErrors ?? []).some((e) => e.code === 'TSDM-10023'), 'TSDM-10023 warning in recent errors');
  const w = v.sources[0]!.recentErrors!.find((e) => e.code === 'TSDM-10023')!;
  assert.match(w.message, /starts from the source's current position .*changes before it are not migrated/);
  assert.equal(w.warning, true);
  assert.equal(v.sources[0]!.error, undefined, 'a warning, not an error');
  await up.query(`INSERT INTO nometa.t VALUES (3, 'after-start'); UPDATE nometa.t SET v = 'b' WHERE id = 1`);
  await waitSynced(c, 'nometa-task');
  const rows = await down.query('SELECT id, v FROM nometa.t ORDER BY id');
  assert.deepEqual(rows.map((r: { id: number; v: string }) => [r.id, r.v]), [[1, 'b'], [3, 'after-start']], 'only changes after the start are replicated');
  // A restart resumes from the checkpoint, not from a new current position.
  await c.ctl(['pause-task', 'nometa-task']);
  await waitStage(c, 'nometa-task', (s) => s.sources[0]!.stage === 'Paused', 'paused');
  await up.query(`INSERT INTO nometa.t VALUES (4, 'while-paused')`);
  await c.ctl(['resume-task', 'nometa-task']);
  await waitSynced(c, 'nometa-task');
  const [r4] = await down.query('SELECT COUNT(*) AS n FROM nometa.t WHERE id = 4');
  assert.equal(Number(r4.n), 1, 'changes made while paused are replicated: the checkpoint wins');
});

test('UPDATE and DELETE identify rows by the downstream table\'s keys (DM downstream_diff_index)', { timeout: 120_000 }, async () => {
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
  await startTask(c, taskYaml('diff-index', down, `mysql-instances:
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
`, 'incremental'));
  const merged = async (what: string) => {
    const want = await up.query('SELECT c1, c2, c3 FROM dk1.t1 UNION ALL SELECT c1, c2, c3 FROM dk2.t2 ORDER BY c1, c2, c3');
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
  await up.query(`UPDATE dk2.t2 SET c3 = '333' WHERE c1 = 3; DELETE FROM dk2.t2 WHERE c1 = 1; UPDATE dk2.t2 SET c2 = 99 WHERE c1 = 2`);
  await waitSynced(c, 'diff-index');
  await merged('downstream primary key c3');
});
