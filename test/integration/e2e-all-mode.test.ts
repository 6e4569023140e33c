/**
 * Acceptance 1 (issue #2): a task in mode `all` over 3 schemas and 20 tables (every common column type, ~200k rows)
 * migrates while an upstream writer inserts, updates and deletes; after the writer stops, the downstream equals the
 * upstream row for row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorkload } from '../harness/workload.ts';
import { ALL_TABLES, seed, WORKLOAD } from './fixtures.ts';
import {
  assertSame,
  startCluster,
  startTask,
  status,
  taskYaml,
  waitStage,
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

test('mode all: 200k rows over 20 tables migrate under a concurrent writer and end equal', {
  timeout: 300_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await seed(up);
  const [{ n }] = await up.query(
    `SELECT SUM(TABLE_ROWS) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('shop','crm','logs')`,
  );
  assert.ok(Number(n) > 150_000, `seeded ${n} rows`);
  const writer = startWorkload(up, WORKLOAD, { pauseMs: 5 });
  await startTask(
    c,
    taskYaml(
      'all-mode',
      c.sb.downstream,
      `mysql-instances:
  - source-id: source1
    block-allow-list: only-app
    mydumper-thread: 4
    loader-thread: 4
    syncer-thread: 8
block-allow-list:
  only-app:
    do-dbs: ["shop", "crm", "logs"]
`,
    ),
  );
  const v = await waitStage(c, 'all-mode', (s) => s.sources.every((x) => x.unit === 'sync'), 'load finished', 240_000);
  assert.equal(v.sources[0]!.load?.doneChunks, v.sources[0]!.load?.totalChunks);
  await new Promise((r) => setTimeout(r, 3000));
  const w = await writer.stop();
  assert.ok(w.txns > 50, `writer committed ${w.txns} transactions`);
  await waitSynced(c, 'all-mode');
  await assertSame(
    up,
    c.sb.downstream,
    ALL_TABLES.map((t) => ({ up: t })),
  );
  const s = (await status(c, 'all-mode')).sources[0]!;
  assert.ok((s.sync?.totalRows ?? 0) > 0, 'sync applied row changes');
});
