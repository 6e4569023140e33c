/**
 * DESIGN.md §7: restarts of the downstream, the upstream and NATS while a task syncs under a writer. Transient
 * errors are retried with backoff (and visible in status while they last); the data converges exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorkload } from '../harness/workload.ts';
import { ALL_TABLES, seed, WORKLOAD } from './fixtures.ts';
import { assertSame, startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
  await seed(c.sb.upstreams[0]!, 0.2);
  await startTask(
    c,
    taskYaml(
      'res',
      c.sb.downstream,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["shop", "crm", "logs"]\n',
    ),
  );
  await waitSynced(c, 'res');
});
after(async () => {
  await c?.stop();
});

const compareAll = () =>
  assertSame(
    c.sb.upstreams[0]!,
    c.sb.downstream,
    ALL_TABLES.map((t) => ({ up: t })),
  );

test('kill -9 of the downstream mid-sync: retried, visible in status, converges', { timeout: 240_000 }, async () => {
  const writer = startWorkload(c.sb.upstreams[0]!, WORKLOAD, { pauseMs: 3, seed: 11 });
  await new Promise((r) => setTimeout(r, 1500));
  c.sb.downstream.kill();
  let sawRetry = false;
  for (let i = 0; i < 20 && !sawRetry; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const s = (await status(c, 'res')).sources[0]!;
    sawRetry =
      s.stage === 'Running' && (s.error?.retryable === true || (s.recentErrors ?? []).some((e) => e.retryable));
  }
  assert.ok(sawRetry, 'the retryable downstream error shows in status while the subtask keeps Running');
  await c.sb.downstream.restart();
  await new Promise((r) => setTimeout(r, 1500));
  await writer.stop();
  await waitSynced(c, 'res', 180_000);
  await compareAll();
});

test('restart of the upstream and of NATS mid-sync: converges', { timeout: 240_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  let writer = startWorkload(up, WORKLOAD, { pauseMs: 3, seed: 12 });
  await new Promise((r) => setTimeout(r, 1500));
  await writer.stop();
  await up.restart();
  writer = startWorkload(up, WORKLOAD, { pauseMs: 3, seed: 13 });
  await new Promise((r) => setTimeout(r, 1000));
  await c.sb.nats.restart();
  await new Promise((r) => setTimeout(r, 1500));
  await writer.stop();
  await waitSynced(c, 'res', 180_000);
  await compareAll();
});
