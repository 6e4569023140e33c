/**
 * Issue #17 acceptance 1: a live agent with --metrics-addr runs a task (mode all) with load and sync under a writer.
 * /metrics has the values the data says (rows loaded, rows and transactions applied, DM's task state numbers, lag that
 * grows while the task is paused under writes and falls after resume); /healthz answers 200; /readyz answers 200,
 * then 503 while the harness's NATS is down, then 200 again. The data is compared at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, waitFor, type MariaDBInstance } from '../harness/index.ts';
import { probe, scrapeMetrics, type Scrape } from '../harness/metrics.ts';
import { DM_STAGE } from '../../src/metrics/catalog.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
let addr: string;
const SEEDED = 3000;
const task = { task: 'mt', source_id: 'source1' };

before(async () => {
  addr = `127.0.0.1:${await freePort()}`;
  c = await startCluster({ agentArgs: ['--metrics-addr', addr] });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE m');
  await up.query('CREATE TABLE m.t (id INT PRIMARY KEY, v INT NOT NULL)');
  await up.query('CREATE TABLE m.u (id INT PRIMARY KEY, v INT NOT NULL)');
  const values = Array.from({ length: SEEDED }, (_, i) => `(${i + 1}, ${i})`).join(',');
  await up.query(`INSERT INTO m.t VALUES ${values}`);
});
after(async () => {
  await c?.stop();
});

/** Inserts `txns` transactions of `rows` rows each into m.u, ids from `from`. */
async function write(up: MariaDBInstance, from: number, txns: number, rows: number): Promise<number> {
  const conn = await up.connect();
  try {
    let id = from;
    for (let i = 0; i < txns; i++) {
      const vs = Array.from({ length: rows }, () => `(${id++}, 1)`).join(',');
      await conn.query(`INSERT INTO m.u VALUES ${vs}`);
    }
    return id;
  } finally {
    await conn.end();
  }
}

/** A writer inserting one row into m.u every 20 ms until stopped. */
function steadyWriter(up: MariaDBInstance, from: number): { stop(): Promise<number> } {
  let running = true;
  let id = from;
  const loop = (async () => {
    const conn = await up.connect();
    try {
      while (running) {
        await conn.query(`INSERT INTO m.u VALUES (${id++}, 2)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await conn.end();
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return id;
    },
  };
}

async function until(what: string, pred: (s: Scrape) => boolean, timeoutMs = 30_000): Promise<Scrape> {
  let last: Scrape | undefined;
  await waitFor(
    async () => {
      last = await scrapeMetrics(addr);
      return pred(last);
    },
    timeoutMs,
    () =>
      `${what} (last: state ${last?.value('dm_worker_task_state', task)}, lag ${last?.value('dm_syncer_replication_lag_gauge', task)})`,
  );
  return last!;
}

test('metrics, health and readiness of a live agent under load, pause, resume and a NATS outage', {
  timeout: 150_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  assert.equal((await probe(addr, '/healthz')).status, 200);
  await waitFor(async () => (await probe(addr, '/readyz')).status === 200, 15_000, '/readyz 200 once the agent runs');

  const body = `mysql-instances:\n  - source-id: source1\n    block-allow-list: m\nblock-allow-list:\n  m:\n    do-dbs: ["m"]\n`;
  await startTask(c, taskYaml('mt', c.sb.downstream, body));
  await waitSynced(c, 'mt', 60_000);

  // Load: every seeded row, 100 %, the two tables.
  let s = await until('sync running', (x) => x.value('dm_worker_task_state', task) === DM_STAGE.Running);
  assert.equal(s.value('tsdm_load_rows_loaded', task), SEEDED);
  assert.equal(s.value('dm_loader_progress', task), 100);
  assert.equal(s.value('dm_loader_table_gauge', task), 2);
  assert.equal(s.value('dm_worker_task_state', { ...task, worker: 'agent-1' }), DM_STAGE.Running);
  assert.equal(s.value('tsdm_is_leader'), 1);
  assert.equal(s.value('tsdm_bindings'), 1);
  assert.equal(s.value('tsdm_nats_connected'), 1);
  assert.ok((s.value('tsdm_nats_kv_roundtrip_seconds_count', { op: 'put' }) ?? 0) > 0, 'KV round trips timed');
  for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'dm_syncer_binlog_file'])
    assert.ok(s.has(name), name);
  const rows0 = s.value('tsdm_sync_rows_applied_total', task) ?? 0;
  const txns0 = s.value('dm_syncer_finished_transaction_total', task) ?? 0;

  // Sync: 100 transactions of 7 rows, counted exactly, per table.
  let next = await write(up, 1, 100, 7);
  await waitSynced(c, 'mt', 30_000);
  s = await until('rows applied counted', (x) => (x.value('tsdm_sync_rows_applied_total', task) ?? 0) - rows0 >= 700);
  assert.equal((s.value('tsdm_sync_rows_applied_total', { ...task, schema: 'm', table: 'u' }) ?? 0) - rows0, 700);
  assert.equal((s.value('dm_syncer_finished_transaction_total', task) ?? 0) - txns0, 100);
  assert.ok((s.value('tsdm_sync_batch_rows_count', task) ?? 0) > 0);
  assert.ok((s.value('tsdm_sync_commit_seconds_count', task) ?? 0) > 0);
  assert.ok((s.value('dm_syncer_txn_duration_time_count', task) ?? 0) > 0);
  assert.equal(
    s.value('dm_syncer_binlog_file', { ...task, node: 'syncer' }),
    s.value('dm_syncer_binlog_file', { ...task, node: 'master' }),
  );
  await until('caught up: no lag', (x) => x.value('dm_syncer_replication_lag_gauge', task) === 0);

  // Pause under writes: state 3, and the lag grows.
  const writer = steadyWriter(up, next);
  let r = await c.ctl(['pause-task', 'mt']);
  assert.equal(r.code, 0, r.stderr);
  s = await until('paused', (x) => x.value('dm_worker_task_state', task) === DM_STAGE.Paused);
  const lag1 = await until('lag while paused', (x) => (x.value('dm_syncer_replication_lag_gauge', task) ?? 0) >= 2);
  const l1 = lag1.value('tsdm_sync_apply_lag_seconds', task)!;
  await until('lag grows while paused', (x) => (x.value('tsdm_sync_apply_lag_seconds', task) ?? 0) >= l1 + 2);

  // Resume: state 2, and once the writer stopped and sync caught up, the lag is back to 0.
  r = await c.ctl(['resume-task', 'mt']);
  assert.equal(r.code, 0, r.stderr);
  await until('running again', (x) => x.value('dm_worker_task_state', task) === DM_STAGE.Running);
  next = await writer.stop();
  await waitSynced(c, 'mt', 30_000);
  await until('lag falls after resume', (x) => x.value('dm_syncer_replication_lag_gauge', task) === 0);

  // Readiness follows NATS: 503 with the reason while it is down, 200 once it is back; liveness stays 200.
  c.sb.nats.kill();
  let down: { status: number; body: unknown } | undefined;
  await waitFor(
    async () => {
      down = await probe(addr, '/readyz');
      return down.status === 503;
    },
    20_000,
    '/readyz 503 while NATS is down',
  );
  assert.match(JSON.stringify(down!.body), /NATS|member key/);
  assert.equal((await probe(addr, '/healthz')).status, 200);
  await c.sb.nats.restart();
  await waitFor(async () => (await probe(addr, '/readyz')).status === 200, 30_000, '/readyz 200 after NATS is back');

  await write(up, next, 10, 3);
  await waitSynced(c, 'mt', 60_000);
  await assertSame(up, c.sb.downstream, [{ up: ['m', 't'] }, { up: ['m', 'u'] }]);
});
