/**
 * Issue #4, acceptance 2: SIGKILL of the agent while the relay writes under load, 5 times. Afterwards the relay holds
 * every upstream transaction exactly once (MariaDB GTID sequence numbers of its records are consecutive, from the
 * relay's start to the upstream's gtid_binlog_pos: no gap, no duplicate), and the task converges row for row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { RelayStore } from '../../agent/relay/store.ts';
import { startWorkload, type WorkloadTable } from '../harness/workload.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';
import { createRelaySource, relayStatus, waitRelayAtHead, waitRelayRunning } from './relay-helpers.ts';
import { waitFor } from '../harness/index.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE load1');
  for (const t of ['t1', 't2', 't3']) {
    await up.query(
      `CREATE TABLE load1.${t} (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(64) NOT NULL, n INT, d DATETIME(6))`,
    );
    await up.query(
      `INSERT INTO load1.${t} SELECT seq, CONCAT('${t}-', seq), seq % 97, '2024-01-01 00:00:00.123456' FROM mysql.seq_1_to_2000`,
    );
  }
  await createRelaySource(c, 'source1', up);
  await waitRelayRunning(c, 'source1');
});
after(async () => {
  await c?.stop();
});

const TABLES: WorkloadTable[] = ['t1', 't2', 't3'].map((t) => ({
  schema: 'load1',
  table: t,
  idCol: 'id',
  insert: (id: number) => `(id, v, n, d) VALUES (${id}, 'w-${id}', ${id % 13}, NOW(6))`,
  update: "n = n + 1, v = CONCAT(LEFT(v, 50), '+')",
}));

function domainSeq(gtid: string | undefined): number | undefined {
  const part = (gtid ?? '').split(',').find((p) => p.startsWith('0-'));
  return part ? Number(part.split('-')[2]) : undefined;
}

test('5 SIGKILLs while the relay writes under load: every event exactly once, the task converges', {
  timeout: 600_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await startTask(
    c,
    taskYaml(
      'crash',
      down,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["load1"]\n',
    ),
  );
  await waitSynced(c, 'crash');
  // Several writers: many small transactions plus bigger multi-row ones.
  const writers = [1, 2, 3].map((s) => startWorkload(up, TABLES, { seed: s, idBase: s * 10_000_000, maxMs: 300_000 }));
  const bulk = (async () => {
    for (let i = 0; i < 40; i++) {
      await up.query(
        `INSERT INTO load1.t3 (id, v, n, d) SELECT ${90_000_000 + i * 1000} + seq, 'bulk', seq, NOW(6) FROM mysql.seq_1_to_1000`,
      );
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  for (let k = 0; k < 5; k++) {
    await new Promise((r) => setTimeout(r, 1500 + 700 * k));
    const before = (await relayStatus(c, 'source1'))?.lastSeq ?? 0;
    await c.agent.kill();
    await c.agent.restart();
    await c.agent.ready();
    // The new process is relaying again (its own appends, not the status the killed one left behind).
    await waitFor(
      async () => ((await relayStatus(c, 'source1'))?.lastSeq ?? 0) > before,
      60_000,
      'relay appending after the restart',
    );
    console.log(`kill ${k + 1}: relay had ${before} records before the kill`);
    // A DDL between crashes: the relay's tracker is persisted with the records and must survive the next kill.
    if (k === 1) await up.query('ALTER TABLE load1.t1 ADD COLUMN extra INT NOT NULL DEFAULT 1 AFTER v');
  }
  await bulk;
  const done = await Promise.all(writers.map((w) => w.stop()));
  console.log(`workload: ${done.reduce((a, d) => a + d.txns, 0)} transactions`);
  await waitRelayAtHead(c, 'source1', up, 180_000);
  await waitSynced(c, 'crash', 300_000);
  await assertSame(
    up,
    down,
    TABLES.map((t) => ({ up: [t.schema, t.table] as [string, string] })),
  );

  // The relay itself, read after a clean stop: consecutive GTIDs, one record each.
  const [g] = await up.query('SELECT @@gtid_binlog_pos AS g');
  const headSeq = domainSeq(String(g.g))!;
  await c.agent.stop();
  const store = RelayStore.open(dirname(c.agent.logFile), 'source1');
  try {
    let prev = domainSeq(store.origin()?.gtid);
    assert.ok(prev !== undefined, 'the relay origin has a GTID');
    let records = 0;
    let lastEnd = { name: '', pos: 0 };
    for (const { rec } of store.range(store.firstSeq(), store.state()!.seq)) {
      // Parts (large transactions) have no end; these transactions are small.
      if (rec.k === 'x') continue;
      assert.ok(
        rec.end.name > lastEnd.name || (rec.end.name === lastEnd.name && rec.end.pos > lastEnd.pos),
        `positions increase (${JSON.stringify(lastEnd)} then ${JSON.stringify(rec.end)})`,
      );
      lastEnd = rec.end;
      if (rec.k === 'p') continue;
      const s = domainSeq(rec.end.gtid)!;
      assert.equal(s, prev! + 1, `record after GTID seq ${prev} has seq ${s} at ${rec.end.name}:${rec.end.pos}`);
      prev = s;
      records++;
    }
    assert.equal(prev, headSeq, 'the relay ends at the upstream GTID position');
    console.log(
      `relay: ${records} transactions/statements, GTID seq ${domainSeq(store.origin()?.gtid)! + 1}..${prev}, each exactly once`,
    );
  } finally {
    await store.close();
    await c.agent.restart();
    await c.agent.ready();
  }
});
