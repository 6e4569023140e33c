/**
 * Issue #3 acceptance 3: SIGKILL of the agent at random moments, 5 times during load and 5 times during sync of a
 * mixed workload (tables with and without keys). After the last restart the downstream equals the upstream: no row
 * lost, none duplicated (keyless tables are compared as multisets, so a duplicate is an extra row).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorkload } from '../harness/workload.ts';
import { ALL_TABLES, chunkedTaskBody, seed, WORKLOAD } from './fixtures.ts';
import { assertSame, startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  // Each chunk takes >= 60 ms more than it would, so the load lasts long enough to be killed five times.
  c = await startCluster({ agentEnv: { TSDM_FAULT_CHUNK_DELAY_MS: '60' } });
  await seed(c.sb.upstreams[0]!, 0.5);
});
after(async () => {
  await c?.stop();
});

let seedNo = 100;
const rnd = (a: number, b: number) => a + Math.floor(Math.random() * (b - a));

let restartedAt = 0;
async function killRestart(): Promise<void> {
  await c.agent.kill();
  restartedAt = Date.now();
  await c.agent.restart();
  await c.agent.ready();
}

test('5 SIGKILLs during load and 5 during sync lose and duplicate nothing', { timeout: 600_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const writer = startWorkload(up, WORKLOAD, { pauseMs: 3, seed: seedNo++ });
  await startTask(c, taskYaml('chaos', c.sb.downstream, chunkedTaskBody(300)));
  let loadKills = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      const s = (await status(c, 'chaos')).sources[0]!;
      // Only a status written by the current agent process counts (the killed one's last record stays in KV).
      if (
        s.unit === 'load' &&
        s.stage === 'Running' &&
        (s.load?.doneChunks ?? 0) > 0 &&
        Date.parse(s.updatedAt) > restartedAt
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const s = (await status(c, 'chaos')).sources[0]!;
    if (s.unit !== 'load') {
      console.log(`load ended after ${loadKills} kills (unit ${s.unit}, stage ${s.stage})`);
      break;
    }
    // A short wait: on an idle machine the whole load lasts only a few seconds more than five restarts.
    await new Promise((r) => setTimeout(r, rnd(100, 600)));
    const seen = (await status(c, 'chaos')).sources[0]!;
    await killRestart();
    loadKills++;
    console.log(
      `kill ${loadKills} during load: ${seen.load?.doneChunks ?? '?'} of ${seen.load?.totalChunks ?? '?'} chunks done (unit ${seen.unit})`,
    );
  }
  assert.equal(loadKills, 5, 'the agent was killed five times while loading');
  let syncKills = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    while ((await status(c, 'chaos')).sources[0]!.unit !== 'sync' && Date.now() - t0 < 180_000)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, rnd(500, 2500)));
    await killRestart();
    syncKills++;
    console.log(`kill ${syncKills} during sync`);
  }
  const w = await writer.stop();
  assert.ok(w.txns > 100, `writer committed ${w.txns} transactions`);
  await waitSynced(c, 'chaos', 240_000);
  await assertSame(
    up,
    c.sb.downstream,
    ALL_TABLES.map((t) => ({ up: t })),
  );
  const [{ n }] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM logs.events_nokey');
  const [{ m }] = await up.query('SELECT COUNT(*) AS m FROM logs.events_nokey');
  assert.equal(Number(n), Number(m), 'the keyless table has exactly as many rows downstream');
  assert.equal(syncKills, 5);
});
