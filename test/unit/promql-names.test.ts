/** The rough PromQL reader that finds the metric names the alert rules and the dashboard use (test/harness/promql-names.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isServed, labelNamesOf, metricNamesOf, metricNamesOfVariableQuery } from '../harness/promql-names.ts';

const names = (e: string) => [...metricNamesOf(e)].sort();

test('names, not functions, keywords, labels, strings, ranges or Grafana variables', () => {
  assert.deepEqual(names('dm_worker_task_state == 3'), ['dm_worker_task_state']);
  assert.deepEqual(
    names(
      'increase(dm_syncer_exit_with_error_count{resumable_err="false"}[2m]) > 0 or on(instance, job, task) increase(x_total{a=~"b|c"}[2m]) > 3',
    ),
    ['dm_syncer_exit_with_error_count', 'x_total'],
  );
  assert.deepEqual(
    names(
      'histogram_quantile(0.99, sum by (le, task) (rate(tsdm_sync_commit_seconds_bucket{task=~"$task"}[$__rate_interval])))',
    ),
    ['tsdm_sync_commit_seconds_bucket'],
  );
  assert.deepEqual(names('a - on(instance, job) group_right b{node="relay"} > bool 1e9 unless c offset 5m'), [
    'a',
    'b',
    'c',
  ]);
  assert.deepEqual(names('dm_relay_space{type="available"} < 10*1024*1024*1024'), ['dm_relay_space']);
  assert.deepEqual(names('max without (instance) (rate(x[5m:30s])) / ignoring(op) y'), ['x', 'y']);
  assert.deepEqual(names('label_replace(up, "host", "$1", "instance", "(.*):.*")'), ['up']);
});

test('variable queries: label_values(expr, label) reads the expression, label_values(label) nothing', () => {
  assert.deepEqual(
    [...metricNamesOfVariableQuery('label_values(dm_worker_task_state{job=~"$job"}, task)')],
    ['dm_worker_task_state'],
  );
  assert.deepEqual([...metricNamesOfVariableQuery('label_values(task)')], []);
  assert.deepEqual([...metricNamesOfVariableQuery('query_result(topk(5, a))')], ['a']);
});

test('a histogram serves its _bucket, _sum and _count series', () => {
  const fam = new Map([
    ['h', 'histogram'],
    ['g', 'gauge'],
    ['s', 'summary'],
  ]);
  assert.ok(isServed('h_bucket', fam) && isServed('h_sum', fam) && isServed('h_count', fam) && isServed('h', fam));
  assert.ok(!isServed('g_bucket', fam));
  assert.ok(isServed('s_sum', fam) && !isServed('s_bucket', fam));
  assert.ok(!isServed('missing', fam));
});

test('labels matched or grouped by, not label values or variables', () => {
  assert.deepEqual(
    [
      ...labelNamesOf(
        'sum by (le, task) (rate(x{job=~"$job", node!="a,b=c"}[5m])) - on(instance) group_left(kind) y{type="z"}',
      ),
    ].sort(),
    ['instance', 'job', 'kind', 'le', 'node', 'task', 'type'],
  );
});
