/**
 * Issue #5 acceptance 4: against a 3-node NATS cluster (buckets with 3 replicas), one NATS node is killed during
 * sync: replication continues (rows written after the kill arrive, downstream equals upstream) and dmctl still works.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import { bucketName, Bucket } from '../../src/coord/index.ts';
import { startWorkload } from '../harness/workload.ts';
import { ALL_TABLES, seed, WORKLOAD } from './fixtures.ts';
import { assertSame, startTask, status, taskYaml, waitSynced } from './helpers.ts';
import { startMultiCluster, type MultiCluster } from './cluster-helpers.ts';

let c: MultiCluster;
before(async () => {
  c = await startMultiCluster({ agents: 2, natsCluster: true });
  await seed(c.sb.upstreams[0]!, 0.1);
});
after(async () => {
  await c?.stop();
});

test('one of three NATS nodes killed during sync: replication continues, dmctl still works', {
  timeout: 600_000,
}, async () => {
  // Every bucket has 3 replicas.
  const nc = await connect({ servers: c.natsCluster!.urls });
  const jsm = await nc.jetstreamManager();
  for (const b of Object.values(Bucket)) {
    const info = await jsm.streams.info(`KV_${bucketName('dm', b)}`);
    assert.equal(info.config.num_replicas, 3, `${b} replicas`);
  }
  await nc.close();

  const up = c.sb.upstreams[0]!;
  const writer = startWorkload(up, WORKLOAD, { pauseMs: 5, seed: 5 });
  await startTask(
    c,
    taskYaml(
      'natsha',
      c.sb.downstream,
      `mysql-instances:
  - source-id: source1
    block-allow-list: b
block-allow-list:
  b:
    do-dbs: ["shop", "crm", "logs"]
`,
    ),
  );
  const t0 = Date.now();
  while ((await status(c, 'natsha')).sources[0]!.unit !== 'sync' && Date.now() - t0 < 180_000)
    await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000));
  // Kill the node that leads the most (the KV streams' leaders move to the survivors).
  const victim = c.natsCluster!.nodes[0]!;
  victim.kill();
  const killedAt = Date.now();
  // JetStream re-elects the leaders of the streams the dead node led (a few seconds): dmctl works again then.
  // Each bucket's stream elects its own leader: one command may answer a few seconds before another.
  const untilOk = async (args: string[]) => {
    let r = await c.ctl(args);
    while (r.code !== 0 && Date.now() - killedAt < 90_000) {
      await new Promise((res) => setTimeout(res, 1000));
      r = await c.ctl(args);
    }
    return r;
  };
  const first = await c.ctl(['query-status', 'natsha', '--json']);
  const firstError = first.code === 0 ? undefined : first.stdout + first.stderr;
  const q = first.code === 0 ? first : await untilOk(['query-status', 'natsha', '--json']);
  console.log(
    `dmctl query-status after the kill: ok ${Date.now() - killedAt} ms after it${firstError ? ` (first attempt: ${firstError.replace(/\s+/g, ' ').slice(0, 300)})` : ''}`,
  );
  assert.equal(q.code, 0, `query-status after the kill: ${q.stdout}${q.stderr}`);
  const lm = await untilOk(['list-member', '--json']);
  assert.equal(lm.code, 0, lm.stdout + lm.stderr);
  assert.equal(lm.json.members.length, 2, 'both agents are still members');
  await up.query('CREATE TABLE shop.after_kill (id INT PRIMARY KEY, v INT)');
  await up.query('INSERT INTO shop.after_kill SELECT seq, seq FROM mysql.seq_1_to_1000');
  const w = await writer.stop();
  assert.ok(w.txns > 100, `writer committed ${w.txns} transactions`);
  await waitSynced(c, 'natsha', 240_000);
  console.log(`NATS node ${victim.name} killed; task synced again ${Date.now() - killedAt} ms later`);
  await assertSame(
    up,
    c.sb.downstream,
    [...ALL_TABLES, ['shop', 'after_kill'] as [string, string]].map((t) => ({ up: t })),
  );
  const w2 = await c.ctl(['query-status', 'natsha', '--wait-for', 'synced', '--timeout', '60']);
  assert.equal(w2.code, 0, w2.stdout + w2.stderr);
});
