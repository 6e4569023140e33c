/**
 * Shard merge over relay logs: both sources have enable-relay, so the sync units read the relay, and the replay of
 * released shards (which re-reads from an older position) reads it too. Same scenario and checks as the
 * pessimistic test.
 */
import { after, before, test } from 'node:test';
import { startCluster, type Cluster } from './helpers.ts';
import { createRelaySource, waitRelayRunning } from './relay-helpers.ts';
import { runShardScenario } from './shard-fixtures.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2, sources: false });
  for (const [i, up] of c.sb.upstreams.entries()) {
    await createRelaySource(c, `source${i + 1}`, up);
    await waitRelayRunning(c, `source${i + 1}`);
  }
});
after(async () => {
  await c?.stop();
});

test('pessimistic shard merge reading relay logs: union of rows downstream', { timeout: 300_000 }, async () => {
  await runShardScenario(c, 'relaymerge');
});
