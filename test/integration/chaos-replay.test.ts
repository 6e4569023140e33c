/**
 * A stop with a batch committed by one writer and not by the other (SIGKILL between their commits): the restart
 * replays that batch from the lower checkpoint, and each writer skips what its own checkpoint covers. That is right
 * only if the replay gives every change the writer it had: the dispatcher sends a change to the writer that already
 * owns one of its keys in the batch, so a unique value moving from one row to another follows the first row's writer
 * within a batch, and the other row's own writer in a batch cut between the two. Two rules keep it right
 * (agent/sync/state.ts): the replayed batch is cut where the committed one was (`replayTo`), and its keyed changes a
 * writer's checkpoint covers are applied again in safe mode (`reapply`), which also covers a downstream whose keys
 * changed while the agent was down (the second case: without `reapply` it loses rows 2, 4, 6, ..., which keep their
 * old u; before either rule the first case lost them too). Keyless changes rely on `replayTo` alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * The scenario: 10,000 unique-value moves upstream, a task from before them, a SIGKILL between the two writers' commits
 * of the first batch of 200+ rows, a restart; then upstream and downstream must be equal. `between` runs while the
 * agent is down.
 */
async function replayScenario(between: (down: Cluster['sb']['downstream']) => Promise<void>): Promise<void> {
  const once = join(mkdtempSync(join(tmpdir(), 'tsdm-replay-')), 'once');
  // After the crash the restarted agent makes every transaction a batch of its own (TSDM_FAULT_AFTER), as a reader
  // that is slow to fill would: only the replay rule keeps the replayed batch whole.
  const c = await startCluster({
    agentEnv: { TSDM_FAULT_CRASH_AT: 'writer-split', TSDM_FAULT_AFTER: 'writer-split', TSDM_FAULT_ONCE_FILE: once },
  });
  try {
    const up = c.sb.upstreams[0]!;
    const down = c.sb.downstream;
    const schema = `CREATE DATABASE rp; CREATE TABLE rp.m (id INT PRIMARY KEY, u INT NULL, v INT NOT NULL, UNIQUE KEY u (u));`;
    await up.query(schema);
    await down.query(schema);
    const N = 20_000;
    const seed: string[] = [];
    for (let id = 1; id <= N; id++) seed.push(`(${id}, ${id}, 0)`);
    await up.query(`INSERT INTO rp.m VALUES ${seed.join(',')}`);
    await down.query(`INSERT INTO rp.m VALUES ${seed.join(',')}`);
    const [ms] = await up.query('SHOW MASTER STATUS');
    // The backlog: unique values moving between rows, each move two transactions (free it on row a, give it to row
    // b), so row b's change owns a key row a's change owned. Every row is changed once: a change lost in the replay is
    // not written over by a later one, and shows in the comparison.
    const stmts: string[] = [];
    for (let a = 1; a + 1 <= N; a += 2) {
      const b = a + 1;
      stmts.push(`UPDATE rp.m SET u = NULL, v = 1 WHERE id = ${a}`, `UPDATE rp.m SET u = ${a}, v = 1 WHERE id = ${b}`);
    }
    await up.query('SET GLOBAL innodb_flush_log_at_trx_commit = 0');
    for (let i = 0; i < stmts.length; i += 500) await up.query(stmts.slice(i, i + 500).join(';'));
    await up.query('SET GLOBAL innodb_flush_log_at_trx_commit = 1');

    await startTask(c, taskYaml('replay', down, fromPositionBody(ms, 'rp'), 'incremental'));
    // Two writers (the default). The agent kills itself after the first writer's commit of the first batch of 200+
    // rows; the test restarts it.
    await waitFor(
      async () => existsSync(`${once}.writer-split`),
      120_000,
      () => 'the agent reached the writer-split crash point',
    );
    await c.agent.exited();
    const [ck] = await down.query(
      'SELECT COUNT(DISTINCT binlog_name, binlog_pos) AS n FROM dm_meta.replay_syncer_checkpoint',
    );
    assert.equal(Number(ck.n), 2, 'the two writers stopped at two positions');
    await between(down);
    await c.agent.restart();
    await c.agent.ready();
    await waitSynced(c, 'replay', 240_000);
    await assertSame(up, down, [{ up: ['rp', 'm'] }]);
  } finally {
    await c.stop();
  }
}

test('a batch one writer committed before a SIGKILL is replayed to the same writers', {
  timeout: 300_000,
}, async () => {
  await replayScenario(async () => undefined);
});

test('the replayed batch ends equal when the downstream dropped a unique key while the agent was down', {
  timeout: 300_000,
}, async () => {
  // Without `u` downstream, the replay gives each change the writer of its id alone: a move that followed row a's
  // writer the first time can now reach the writer that committed. Its keyed changes are applied again (safe mode),
  // so none is skipped there.
  await replayScenario(async (down) => {
    await down.query('ALTER TABLE rp.m DROP INDEX u');
  });
});
