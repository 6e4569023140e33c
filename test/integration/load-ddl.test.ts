/**
 * Issue #12 item 1: DDL upstream while a load runs. A table the load's snapshot has read is held by its metadata
 * lock (the DDL waits for the load, as with mydumper); the first snapshot reads every table when it plans chunks.
 * A resumed load's snapshot reads tables only as it loads them, so DDL on the tables it has not reached goes
 * through, and the snapshot then cannot read them (InnoDB 1412 for a rebuilt table, 1054 for a column an instant
 * ALTER dropped, 1146 for a renamed table). The load takes a new snapshot and reconciles, as a restart does, with no
 * pause and no error shown; the task ends equal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSchemas } from '../harness/index.ts';
import { startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ agentEnv: { TSDM_FAULT_CHUNK_DELAY_MS: '150' } });
});
after(async () => {
  await c?.stop();
});

test('DDL on tables the load has not reached yet: a new snapshot, no pause, equal data', {
  timeout: 300_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE ld;
    CREATE TABLE ld.a_first (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO ld.a_first SELECT seq, CONCAT('a', seq) FROM mysql.seq_1_to_20000;
    CREATE TABLE ld.m_alter (id INT PRIMARY KEY, v VARCHAR(20), w INT);
    INSERT INTO ld.m_alter SELECT seq, CONCAT('m', seq), seq FROM mysql.seq_1_to_3000;
    CREATE TABLE ld.n_nokey (k INT, v VARCHAR(20));
    INSERT INTO ld.n_nokey SELECT seq % 10, 'n' FROM mysql.seq_1_to_2000;
    CREATE TABLE ld.z_rename (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO ld.z_rename SELECT seq, 'z' FROM mysql.seq_1_to_2000;`);
  await startTask(
    c,
    taskYaml(
      'load-ddl',
      c.sb.downstream,
      `mysql-instances:
  - source-id: source1
    block-allow-list: b
    mydumper-thread: 1
    loader-thread: 1
    mydumper-config-name: tiny
block-allow-list:
  b:
    do-dbs: ["ld"]
mydumpers:
  tiny:
    rows: 500
`,
    ),
  );
  const loading = async (after: number) => {
    const t0 = Date.now();
    for (;;) {
      const s = (await status(c, 'load-ddl')).sources[0];
      if (Date.parse(s?.updatedAt ?? '') > after && (s?.load?.doneChunks ?? 0) >= 1) {
        assert.equal(s?.unit, 'load', 'still loading');
        return;
      }
      assert.ok(Date.now() - t0 < 60_000, `the load runs (last ${JSON.stringify(s?.load)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // Kill once while a_first (40 chunks) loads: the restarted load's snapshot has not read the tables after it.
  await loading(0);
  await c.agent.kill();
  const restarted = Date.now();
  await c.agent.restart();
  await c.agent.ready();
  await loading(restarted);
  await up.query(`ALTER TABLE ld.m_alter ADD COLUMN extra INT NULL DEFAULT 7, DROP COLUMN w;
    UPDATE ld.m_alter SET extra = id WHERE id % 3 = 0;
    ALTER TABLE ld.n_nokey MODIFY COLUMN v VARCHAR(40);
    INSERT INTO ld.n_nokey VALUES (99, 'after the alter');
    RENAME TABLE ld.z_rename TO ld.z_renamed;
    INSERT INTO ld.z_renamed VALUES (100000, 'renamed')`);
  await waitSynced(c, 'load-ddl', 180_000);
  const v = (await status(c, 'load-ddl')).sources[0]!;
  assert.equal(v.stage, 'Running');
  assert.equal(v.error, undefined, 'no error was reported');
  assert.deepEqual(
    v.recentErrors ?? [],
    [],
    `no error was reported, even a retried one: ${JSON.stringify(v.recentErrors)} ${c.agent
      .log()
      .split('\n')
      .filter((l) => /changed under|subtask error|resuming load|loaded again/.test(l))
      .join('\n')}`,
  );
  const r = await compareSchemas(up, c.sb.downstream, ['ld']);
  assert.ok(r.equal, r.diffs.slice(0, 10).join('; '));
  assert.match(
    c.agent.log(),
    /a table changed under the load's snapshot: taking a new one/,
    'the running load met the DDL',
  );
  assert.match(c.agent.log(), /loaded again whole/, 'the changed tables were reloaded');
});
