/**
 * SIGKILL during a maximum-speed catch-up (issue #14): the sync unit reads ahead and commits one batch while it
 * prepares the next (agent/sync/unit.ts), each writer's statements and checkpoint in one transaction sent in few
 * round trips (apply.ts). Killed at once whenever its checkpoints move, it must still end with the downstream equal
 * to the upstream: nothing lost, nothing applied twice (a keyless table counts duplicates as extra rows).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import {
  assertSame,
  fromPositionBody,
  startCluster,
  startTask,
  taskYaml,
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

const KILLS = 4;

test('SIGKILLs during a maximum-speed catch-up lose and duplicate nothing', { timeout: 600_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  const schema = `CREATE DATABASE cu; CREATE TABLE cu.t (id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(40), UNIQUE KEY (c));
    CREATE TABLE cu.nokey (a INT, b VARCHAR(20));`;
  await up.query(schema);
  await down.query(schema);
  const [ms] = await up.query('SHOW MASTER STATUS');
  // The backlog, written before the task starts: single-row and 100-row transactions on a keyed table (with a unique
  // key: REPLACE semantics), and inserts into a keyless table (applied once each, or they show as extra rows).
  const stmts: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const id = 1 + (i % 5000);
    if (i < 5000) stmts.push(`INSERT INTO cu.t VALUES (${id}, ${i}, 'c${id}')`);
    else if (i % 7 === 0) stmts.push(`DELETE FROM cu.t WHERE id = ${id}`);
    else if (i % 7 === 1) stmts.push(`REPLACE INTO cu.t VALUES (${id}, ${i}, 'c${id}')`);
    else if (i % 7 === 2) stmts.push(`INSERT INTO cu.nokey VALUES (${i % 13}, 'n${i % 5}')`);
    else stmts.push(`UPDATE cu.t SET k = k + 1, c = CONCAT('c', id, '-', ${i % 3}) WHERE id = ${id}`);
    if (i % 200 === 0)
      stmts.push(
        `INSERT INTO cu.nokey SELECT seq % 17, 'bulk' FROM mysql.seq_1_to_100`,
        `UPDATE cu.t SET k = k + 1 WHERE id BETWEEN ${id} AND ${id + 99}`,
      );
  }
  await up.query('SET GLOBAL innodb_flush_log_at_trx_commit = 0');
  for (let i = 0; i < stmts.length; i += 500) await up.query(stmts.slice(i, i + 500).join(';'));
  await up.query('SET GLOBAL innodb_flush_log_at_trx_commit = 1');
  const [end] = await up.query('SHOW MASTER STATUS');

  await startTask(c, taskYaml('catchup', down, fromPositionBody(ms, 'cu'), 'incremental'));
  // Each writer's checkpoint: killed as soon as any moved since the last restart, while the backlog is not applied.
  const checkpoints = async (): Promise<string> => {
    const rows = await down
      .query('SELECT writer, binlog_name, binlog_pos FROM dm_meta.catchup_syncer_checkpoint ORDER BY writer')
      .catch(() => []);
    return JSON.stringify(rows);
  };
  const done = async (): Promise<boolean> => {
    const rows: { binlog_name: string; binlog_pos: string }[] = await down
      .query('SELECT binlog_name, binlog_pos FROM dm_meta.catchup_syncer_checkpoint')
      .catch(() => []);
    return (
      rows.length > 0 &&
      rows.every(
        (r) => r.binlog_name > end.File || (r.binlog_name === end.File && Number(r.binlog_pos) >= Number(end.Position)),
      )
    );
  };
  let midway = 0;
  for (let k = 0; k < KILLS; k++) {
    const before = await checkpoints();
    await waitFor(
      async () => (await checkpoints()) !== before || (await done()),
      120_000,
      () => 'a checkpoint moved',
    );
    if (await done()) break;
    await c.agent.kill();
    if (!(await done())) midway++;
    await c.agent.restart();
    await c.agent.ready();
  }
  console.log(`${midway} SIGKILLs during the catch-up`);
  assert.ok(midway >= 1, 'the agent was killed at least once with the backlog not yet applied');
  await waitSynced(c, 'catchup', 240_000);
  await assertSame(up, down, [{ up: ['cu', 't'] }, { up: ['cu', 'nokey'] }]);
});
