/**
 * Issue #17: dm-agent's metrics endpoint without a cluster: the address rules, /metrics, /healthz and /readyz of
 * MetricsServer, a taken port as a coded error, the lag rules (src/metrics/lag.ts), the per-subtask series, the
 * config key, and the test harness's parser against prom-client's own output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { loadAgentConfig } from '../../src/config/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { parseAddr } from '../../src/metrics/addr.ts';
import { DM_STAGE } from '../../src/metrics/catalog.ts';
import { binlogFileIndex, LagClock } from '../../src/metrics/lag.ts';
import { AgentMetrics } from '../../src/metrics/registry.ts';
import { MetricsServer } from '../../src/metrics/server.ts';
import { SubtaskMetrics } from '../../src/metrics/subtask-metrics.ts';
import type { SubtaskStatus } from '../../src/coord/records.ts';
import { parseMetrics, probe, scrapeMetrics } from '../harness/metrics.ts';

test('metrics address: HOST:PORT, :PORT and [v6]:PORT; nothing else', () => {
  assert.deepEqual(parseAddr(':8262'), { host: undefined, port: 8262 });
  assert.deepEqual(parseAddr('127.0.0.1:9'), { host: '127.0.0.1', port: 9 });
  assert.deepEqual(parseAddr('[::1]:8262'), { host: '::1', port: 8262 });
  assert.deepEqual(parseAddr('metrics.local:80'), { host: 'metrics.local', port: 80 });
  for (const bad of ['8262', 'host', 'host:', 'host:70000', '::1:8262', 'a b:1'])
    assert.equal(parseAddr(bad), undefined, bad);
});

test('config: --metrics-addr, TSDM_METRICS_ADDR and agent.yaml metrics-addr; off by default; checked', () => {
  assert.equal(loadAgentConfig({}, {}).metricsAddr, undefined);
  assert.equal(loadAgentConfig({}, { TSDM_METRICS_ADDR: ':8262' }).metricsAddr, ':8262');
  assert.equal(
    loadAgentConfig({ metricsAddr: '127.0.0.1:9100' }, { TSDM_METRICS_ADDR: ':8262' }).metricsAddr,
    '127.0.0.1:9100',
  );
  assert.equal(
    loadAgentConfig({ metricsAddr: '' }, { TSDM_METRICS_ADDR: ':8262' }).metricsAddr,
    undefined,
    'an empty flag turns it off',
  );
  assert.throws(
    () => loadAgentConfig({ metricsAddr: '8262' }, {}),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-10014',
  );
  assert.throws(() => loadAgentConfig({}, { TSDM_METRICS_ADDR: 'x' }), /TSDM_METRICS_ADDR/);
});

test('lag: commits set it, caught up is 0, a pause grows it only once the upstream moved on', () => {
  const l = new LagClock();
  assert.equal(l.applyLag(1_000_000), 0, 'nothing known yet');
  l.committed(990);
  assert.equal(l.applyLag(1_000_000), 10);
  l.readTo(995);
  assert.equal(l.readLag(1_000_000), 5);
  l.state(true, 1_000_000);
  assert.equal(l.applyLag(1_000_000), 0);
  l.stopped(); // paused at t=1000 s, caught up
  assert.equal(l.applyLag(1_004_000), 4, 'nothing seen yet: staleness since the last known complete point');
  l.state(true, 1_004_000); // a look: the upstream head is still the synced position
  assert.equal(l.applyLag(1_004_000), 0);
  l.state(false, 1_006_000); // the head moved on: from the last idle look the lag grows
  assert.equal(l.applyLag(1_010_000), 6);
  assert.equal(l.remainingSeconds(1_010_000), -1, 'one sample: no pace yet');
  l.committed(1_017); // resumed, catching up: lag 6 -> 3 in 10 s, 0.3 s per s: 10 s to go
  assert.equal(l.remainingSeconds(1_020_000), 10);
  l.committed(1_018);
  assert.equal(l.remainingSeconds(1_025_000), 10, 'the estimate moves once per window');
});

test('binlog file index as DM reports it', () => {
  assert.equal(binlogFileIndex('mysql-bin.000042'), 42);
  assert.equal(binlogFileIndex('relay'), 0);
});

test('MetricsServer: /metrics in the text format, /healthz, /readyz with the reason, 404; a taken port is TSDM-10045', async () => {
  const metrics = new AgentMetrics('w1');
  let ready: { ok: true } | { ok: false; why: string } = { ok: false, why: 'agent starting' };
  const server = new MetricsServer({ metrics, ready: () => ready });
  const a = await server.listen('127.0.0.1:0');
  const addr = `127.0.0.1:${a.port}`;
  try {
    const status: SubtaskStatus = {
      task: 't1',
      source: 's1',
      agent: 'w1',
      stage: 'Paused',
      unit: 'sync',
      generation: 1,
      updatedAt: '',
      load: { totalChunks: 2, doneChunks: 2, totalRows: 50, doneRows: 50, tables: 1 },
      sync: {
        lagSeconds: 0,
        rowsPerSecond: 0,
        totalRows: 0,
        totalEvents: 0,
        caughtUp: false,
        safeMode: false,
        master: { name: 'bin.000003', pos: 900 },
        synced: { name: 'bin.000002', pos: 400 },
      },
    };
    const sm = new SubtaskMetrics(metrics, 't1', 's1', {
      status,
      sharded: false,
      shardHeld: () => false,
      locks: () => [],
      readTs: () => 0,
    });
    const target = { schema: 'd', table: 'x' };
    const other = { schema: 'd', table: 'y' };
    sm.batch([[{ target }, { target }, { target: other }], [{ target }]], 4, 2, 0.01, Date.now() / 1000 - 3);
    // A large transaction streamed in parts: counted per table at its commit.
    sm.tables(new Map([[target, 5]]), 5, 0.5, Date.now() / 1000 - 3);
    const s = await scrapeMetrics(addr);
    const l = { task: 't1', source_id: 's1' };
    assert.equal(s.value('dm_worker_task_state', { ...l, worker: 'w1' }), DM_STAGE.Paused);
    assert.equal(s.value('tsdm_sync_rows_applied_total', { ...l, schema: 'd', table: 'x' }), 8);
    assert.equal(s.value('tsdm_sync_rows_applied_total', l), 9);
    assert.equal(s.value('dm_syncer_finished_transaction_total', l), 3);
    assert.equal(s.value('dm_syncer_binlog_file', { ...l, node: 'master' }), 3);
    assert.equal(s.value('dm_syncer_binlog_pos', { ...l, node: 'syncer' }), 400);
    assert.equal(s.value('dm_loader_progress', l), 100);
    assert.ok((s.value('dm_syncer_replication_lag_gauge', l) ?? 0) >= 3);
    assert.equal(s.types.get('dm_syncer_replication_lag'), 'histogram');
    assert.ok(s.has('process_resident_memory_bytes') && s.has('nodejs_eventloop_lag_seconds'));
    sm.close();
    const gone = await scrapeMetrics(addr);
    assert.equal(gone.value('dm_worker_task_state', l), undefined, 'a closed subtask leaves no state series');

    assert.equal((await probe(addr, '/healthz')).status, 200);
    const r = await probe(addr, '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { ok: false, why: 'agent starting' });
    ready = { ok: true };
    assert.equal((await probe(addr, '/readyz')).status, 200);
    assert.equal((await fetch(`http://${addr}/nope`)).status, 404);

    const again = new MetricsServer({ metrics, ready: () => ready });
    await assert.rejects(
      again.listen(addr),
      (e: unknown) => e instanceof DmError && e.code === 'TSDM-10045' && /in use/.test(e.message),
    );
  } finally {
    await server.close();
  }
});

test('the harness parser reads labels with escapes, +Inf and sums across series', () => {
  const s = parseMetrics(
    '# HELP a x\n# TYPE a gauge\na{k="v\\"q",n="1"} 2\na{k="w",n="1"} 3\nb_bucket{le="+Inf"} +Inf\nc 1e3\n',
  );
  assert.equal(s.value('a', { n: '1' }), 5);
  assert.equal(s.value('a', { k: 'v"q' }), 2);
  assert.equal(s.value('b_bucket'), Infinity);
  assert.equal(s.value('c'), 1000);
  assert.ok(s.has('a') && !s.has('d'));
});

test('a port in use: nothing else listens on it', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const m = new MetricsServer({ metrics: new AgentMetrics('w2'), ready: () => ({ ok: true }) });
  await assert.rejects(m.listen(`127.0.0.1:${port}`), /TSDM-10045|in use/);
  await new Promise<void>((r) => srv.close(() => r()));
});
