/**
 * Issue #6, acceptance 2 across agents: source1 is bound to agent-1 (also the leader) and source2 to agent-2, so one
 * lock is kept by two processes. Both run with the crash hook: every step of the pessimistic protocol kills
 * whichever agent passes it first (the owner for executing/executed/done, either one for the others, the leader
 * among them); a watchdog restarts it. The lock still completes and the merged table equals the union of the shards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bucket, type BoundRecord } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { sourceYaml, startAgent, writeTemp, type AgentProcess } from '../harness/tsdm.ts';
import { startCluster, type Cluster } from './helpers.ts';
import { runShardScenario } from './shard-fixtures.ts';

const POINTS = [
  'shard-reached',
  'shard-held',
  'shard-executing',
  'shard-executed',
  'shard-done',
  'shard-released',
  'shard-replaying',
];
const once = join(mkdtempSync(join(tmpdir(), 'tsdm-fault2-')), 'fired');
const env = { TSDM_FAULT_CRASH_AT: POINTS.join(','), TSDM_FAULT_ONCE_FILE: once };

let c: Cluster;
let agent2: AgentProcess;
before(async () => {
  c = await startCluster({ upstreams: 2, sources: false, agentEnv: env });
  agent2 = startAgent({ name: 'agent-2', nats: c.sb.nats.url, env });
  await agent2.ready();
  for (const [i, up] of c.sb.upstreams.entries()) {
    const r = await c.ctl([
      'operate-source',
      'create',
      writeTemp(`s${i + 1}.yaml`, sourceYaml(`source${i + 1}`, up)),
      '-w',
      `agent-${i + 1}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  await waitFor(
    async () => {
      const b = await c.coord.list<BoundRecord>(Bucket.bounds);
      return b.length === 2 && b.every((e) => e.value.agent === `agent-${e.value.sourceId.slice(-1)}`);
    },
    30_000,
    'source1 on agent-1, source2 on agent-2',
  );
});
after(async () => {
  await agent2?.stop();
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

test('two agents share one lock; SIGKILL at every protocol step on either of them: the lock completes and data converges', {
  timeout: 600_000,
}, async () => {
  let restarts = 0;
  const busy = new Set<AgentProcess>();
  const dog = setInterval(() => {
    for (const a of [c.agent, agent2]) {
      if (busy.has(a) || alive(a.pid())) continue;
      busy.add(a);
      restarts++;
      void a
        .restart()
        .then(() => a.ready())
        .finally(() => busy.delete(a));
    }
  }, 200);
  try {
    await runShardScenario(c, 'twoag');
  } finally {
    clearInterval(dog);
  }
  const fired = POINTS.filter((p) => existsSync(`${once}.${p}`));
  assert.deepEqual(fired, POINTS, `every protocol step crashed once (restarts: ${restarts})`);
});
