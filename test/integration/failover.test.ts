/**
 * Issue #5 acceptance 2: three agents; SIGKILL of the agent bound to the source during sync and, separately, during
 * load. The leader rebinds the source to another live agent with a higher term; that agent resumes from the
 * checkpoints (sync from its position, load from its remaining chunks); downstream equals upstream row by row
 * (keyless tables as multisets, so a duplicate is an extra row).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LEASE_TTL_MS, HEARTBEAT_MS } from '../../src/coord/index.ts';
import { startWorkload } from '../harness/workload.ts';
import { ALL_TABLES, chunkedTaskBody, seed, WORKLOAD } from './fixtures.ts';
import { assertSame, startTask, status, taskYaml, waitSynced } from './helpers.ts';
import { bound, logLines, startMultiCluster, waitRebound, type MultiCluster } from './cluster-helpers.ts';

let c: MultiCluster;
before(async () => {
  // Slower chunks (test hook) so that the load lasts long enough to kill its agent in the middle.
  c = await startMultiCluster({ agents: 3, agentEnv: { TSDM_FAULT_CHUNK_DELAY_MS: '60' } });
  await seed(c.sb.upstreams[0]!, 0.3);
});
after(async () => {
  await c?.stop();
});

const TASK = (name: string) => taskYaml(name, c.sb.downstream, chunkedTaskBody(200));

test('SIGKILL of the bound agent during load, then during sync: rebound, resumed from checkpoints, no loss, no duplicate', {
  timeout: 600_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const writer = startWorkload(up, WORKLOAD, { pauseMs: 5, seed: 7 });
  await startTask(c, TASK('fo'));

  // --- during load
  let s = (await status(c, 'fo')).sources[0]!;
  const t0 = Date.now();
  while (!(s.unit === 'load' && s.stage === 'Running' && (s.load?.doneChunks ?? 0) >= 5) && Date.now() - t0 < 120_000) {
    await new Promise((r) => setTimeout(r, 100));
    s = (await status(c, 'fo')).sources[0]!;
  }
  assert.equal(s.unit, 'load', 'the load is running');
  const b1 = (await bound(c.coord, 'source1'))!;
  const doneBefore = s.load!.doneChunks;
  const total = s.load!.totalChunks;
  assert.ok(doneBefore < total, `load not finished yet (${doneBefore}/${total})`);
  await c.byName(b1.agent).kill();
  const killedAt = Date.now();
  const b2 = await waitRebound(c.coord, 'source1', b1);
  const reboundMs = Date.now() - killedAt;
  console.log(
    `load: ${b1.agent} killed at chunk ${doneBefore}/${total}; rebound to ${b2.agent} (term ${b1.term} -> ${b2.term}) after ${reboundMs} ms (lease ${LEASE_TTL_MS} ms + tick ${HEARTBEAT_MS} ms)`,
  );
  // The new agent resumed the load from its remaining chunks, not from scratch.
  await new Promise((r) => setTimeout(r, 1000));
  const resumed = await waitForLog(c.byName(b2.agent), 'resuming load with a new snapshot');
  assert.ok(
    Number(resumed.remaining) <= total - doneBefore,
    `resumed with ${String(resumed.remaining)} of ${total} chunks (${doneBefore} were done before the kill)`,
  );
  await c.byName(b1.agent).restart();
  await c.byName(b1.agent).ready();

  // --- during sync
  const t1 = Date.now();
  while ((await status(c, 'fo')).sources[0]!.unit !== 'sync' && Date.now() - t1 < 180_000)
    await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000));
  const b3 = (await bound(c.coord, 'source1'))!;
  const s3 = (await status(c, 'fo')).sources[0]!;
  assert.equal(s3.unit, 'sync');
  assert.equal(s3.agent, b3.agent, 'the bound agent reports the status');
  await c.byName(b3.agent).kill();
  const killed2 = Date.now();
  const b4 = await waitRebound(c.coord, 'source1', b3);
  const rebound2 = Date.now() - killed2;
  console.log(`sync: ${b3.agent} killed; rebound to ${b4.agent} (term ${b3.term} -> ${b4.term}) after ${rebound2} ms`);
  await new Promise((r) => setTimeout(r, 3000));
  const w = await writer.stop();
  assert.ok(w.txns > 100, `writer committed ${w.txns} transactions`);
  await waitSynced(c, 'fo', 240_000);
  const fin = (await status(c, 'fo')).sources[0]!;
  assert.equal(fin.agent, b4.agent, 'the new owner reports the status');
  await assertSame(
    up,
    c.sb.downstream,
    ALL_TABLES.map((t) => ({ up: t })),
  );
  const [{ n }] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM logs.events_nokey');
  const [{ m }] = await up.query('SELECT COUNT(*) AS m FROM logs.events_nokey');
  assert.equal(Number(n), Number(m), 'the keyless table has exactly as many rows downstream');
  // The downstream owner row carries the last binding's term and agent.
  const [own] = await c.sb.downstream.query('SELECT term, agent FROM dm_meta.fo_source_owner WHERE source = ?', [
    'source1',
  ]);
  assert.equal(String(own!.agent), b4.agent);
  assert.equal(Number(own!.term), b4.term);
});

async function waitForLog(
  a: MultiCluster['agents'][number],
  msg: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  for (;;) {
    const l = logLines(a, msg);
    if (l.length) return l[l.length - 1]!;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${a.name} never logged "${msg}"`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
