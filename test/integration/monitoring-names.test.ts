/**
 * Issue #17 acceptance 2: every metric the shipped alert rules (deploy/prometheus/tsdm.rules.yml) and Grafana
 * dashboard (deploy/grafana/tsdm.json) read is on a live agent's /metrics, scraped while the agent runs a task through
 * its load and into sync. A metric with no observation yet (an error counter, a relay gauge without a relay) counts
 * by its `# TYPE` line, which the agent's registry prints for every metric of the catalogue; histograms serve their
 * `_bucket`/`_sum`/`_count` series. `up` is Prometheus's own. The data is compared at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { DM_STAGE, METRICS } from '../../src/metrics/catalog.ts';
import { freePort, waitFor } from '../harness/index.ts';
import { scrapeMetrics, type Scrape } from '../harness/metrics.ts';
import {
  dashboardExpressions,
  isServed,
  metricNamesOf,
  metricNamesOfVariableQuery,
  ruleExpressions,
} from '../harness/promql-names.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const rules = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'tsdm.rules.yml'), 'utf8')) as unknown;
const board = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'tsdm.json'), 'utf8')) as unknown;
/** Made by Prometheus for each target, not served by it. */
const SYNTHETIC = new Set(['up']);

let c: Cluster;
let addr: string;

before(async () => {
  addr = `127.0.0.1:${await freePort()}`;
  c = await startCluster({ agentArgs: ['--metrics-addr', addr] });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE mon');
  await up.query('CREATE TABLE mon.t (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
  await up.query(`INSERT INTO mon.t VALUES ${Array.from({ length: 500 }, (_, i) => `(${i + 1}, 'v${i}')`).join(',')}`);
});
after(async () => {
  await c?.stop();
});

/** Every metric name a rule or a panel or a dashboard variable reads, with the first place that reads it. */
function referencedNames(): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of ruleExpressions(rules))
    for (const n of metricNamesOf(r.expr)) if (!out.has(n)) out.set(n, `rule ${r.where}`);
  for (const d of dashboardExpressions(board)) {
    const names = d.variable ? metricNamesOfVariableQuery(d.expr) : metricNamesOf(d.expr);
    for (const n of names) if (!out.has(n)) out.set(n, `dashboard ${d.where}`);
  }
  return out;
}

test('every metric the alert rules and the dashboard read is on a live agent /metrics', {
  timeout: 90_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await startTask(
    c,
    taskYaml(
      'mon',
      c.sb.downstream,
      `mysql-instances:
  - source-id: source1
    block-allow-list: only-mon
block-allow-list:
  only-mon:
    do-dbs: ["mon"]
`,
    ),
  );
  await waitSynced(c, 'mon');
  // Sync work after the load: two upstream transactions.
  await up.query(`INSERT INTO mon.t VALUES (1001, 'a'), (1002, 'b')`);
  await up.query(`UPDATE mon.t SET v = 'c' WHERE id <= 10`);
  await waitSynced(c, 'mon');

  const task = { task: 'mon', source_id: 'source1' };
  let s!: Scrape;
  await waitFor(
    async () => {
      s = await scrapeMetrics(addr);
      return (
        s.value('dm_worker_task_state', task) === DM_STAGE.Running &&
        (s.value('dm_syncer_finished_transaction_total', task) ?? 0) >= 2
      );
    },
    30_000,
    () =>
      `task mon Running with 2 transactions applied on /metrics (state ${s?.value('dm_worker_task_state', task)}, transactions ${s?.value('dm_syncer_finished_transaction_total', task)})`,
  );

  const names = referencedNames();
  assert.ok(names.size >= 30, `${names.size} names referenced`);
  const missing = [...names].filter(([n]) => !SYNTHETIC.has(n) && !isServed(n, s.types)).map(([n, w]) => `${n} (${w})`);
  assert.deepEqual(missing, [], `metric names the rules or the dashboard read that ${addr}/metrics does not serve`);

  // The catalogue in full, with its types: a metric nothing has touched yet is still declared.
  const undeclared = Object.values(METRICS)
    .filter((m) => s.types.get(m.name) !== m.type)
    .map((m) => `${m.name} (${m.type}; scrape says ${s.types.get(m.name) ?? 'nothing'})`);
  assert.deepEqual(undeclared, [], 'catalogue metrics not declared as such on /metrics');

  await assertSame(up, c.sb.downstream, [{ up: ['mon', 't'] }]);
});
