/**
 * Issue #6, acceptance 2: SIGKILL at every step of the pessimistic shard-DDL protocol (agent/shard/pessimist.ts).
 * The one agent here is the owner of every lock, the bound agent of both sources and the leader, so each crash
 * kills all three roles at once. A fault hook (agent/fault.ts) makes the agent kill itself the first time it passes
 * each step; a watchdog restarts it. The scenario must still end with the right schema and exactly the union of
 * the shards' rows, and every step must have crashed once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from './helpers.ts';
import { SHARD_TASK, runShardScenario } from './shard-fixtures.ts';

const POINTS = [
  'shard-reached',
  'shard-held',
  'shard-executing',
  'shard-executed',
  'shard-done',
  'shard-released',
  'shard-replaying',
];
const OPTIMISTIC_POINTS = ['optimistic-pending'];
const once = join(mkdtempSync(join(tmpdir(), 'tsdm-fault-')), 'fired');

let c: Cluster;
before(async () => {
  c = await startCluster({
    upstreams: 2,
    agentEnv: { TSDM_FAULT_CRASH_AT: [...POINTS, ...OPTIMISTIC_POINTS].join(','), TSDM_FAULT_ONCE_FILE: once },
  });
});
after(async () => {
  await c?.stop();
});

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the scenario while a watchdog restarts the agent each time it dies; returns the number of restarts. */
async function withWatchdog(run: () => Promise<void>): Promise<number> {
  let restarts = 0;
  let busy = false;
  const dog = setInterval(() => {
    if (busy || alive(c.agent.pid())) return;
    busy = true;
    restarts++;
    void c.agent
      .restart()
      .then(() => c.agent.ready())
      .finally(() => {
        busy = false;
      });
  }, 200);
  try {
    await run();
  } finally {
    clearInterval(dog);
  }
  return restarts;
}

test('SIGKILL at each step of the pessimistic lock protocol: the lock completes and data converges', {
  timeout: 600_000,
}, async () => {
  const restarts = await withWatchdog(() => runShardScenario(c, 'crashy'));
  const fired = POINTS.filter((p) => existsSync(`${once}.${p}`));
  assert.deepEqual(fired, POINTS, `every protocol step crashed once (restarts: ${restarts})`);
  assert.ok(restarts >= POINTS.length, `the agent was restarted after each crash (${restarts})`);
  assert.equal((await c.ctl(['stop-task', 'crashy'])).code, 0);
});

test('SIGKILL between recording an optimistic DDL and running it downstream: the replay runs it', {
  timeout: 600_000,
}, async () => {
  const restarts = await withWatchdog(() =>
    runShardScenario(c, 'crashopt', SHARD_TASK.replace('shard-mode: pessimistic', 'shard-mode: optimistic')),
  );
  assert.ok(existsSync(`${once}.optimistic-pending`), 'the optimistic step crashed');
  assert.ok(restarts >= 1);
});
