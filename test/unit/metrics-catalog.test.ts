/**
 * Issue #17: the metric catalogue (src/metrics/catalog.ts) is the contract the alert rules, the dashboard and
 * docs/metrics.md are written against: its names must be valid, unique and follow Prometheus' and DM's conventions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { metricsMarkdown } from '../../src/metrics/gen-docs.ts';
import { DEFAULT_METRICS, exponentialBuckets, METRICS, type MetricSpec } from '../../src/metrics/catalog.ts';

const specs: MetricSpec[] = Object.values(METRICS);

test('metric names are unique and valid Prometheus names, in the dm_ or tsdm_ namespace', () => {
  const names = specs.map((s) => s.name);
  assert.equal(new Set(names).size, names.length, 'duplicate metric names');
  for (const s of specs) {
    assert.match(s.name, /^[a-z_][a-z0-9_]*$/, s.name);
    assert.ok(s.name.startsWith('dm_') || s.name.startsWith('tsdm_'), `${s.name}: dm_ (DM's own) or tsdm_`);
    assert.equal(s.dm === true, s.name.startsWith('dm_'), `${s.name}: dm: true exactly on DM's names`);
    assert.ok(s.help.length > 0, `${s.name}: help`);
    for (const d of DEFAULT_METRICS) assert.notEqual(s.name, d.name);
  }
});

test('labels are valid, bounded and never reserved', () => {
  const allowed = new Set([
    'task',
    'source_id',
    'worker',
    'schema',
    'table',
    'node',
    'type',
    'resumable_err',
    'op',
    'kind',
  ]);
  for (const s of specs) {
    assert.equal(new Set(s.labels).size, s.labels.length, `${s.name}: duplicate label`);
    for (const l of s.labels) {
      assert.match(l, /^[a-zA-Z_][a-zA-Z0-9_]*$/, `${s.name}: ${l}`);
      assert.ok(!l.startsWith('__') && l !== 'le' && l !== 'quantile', `${s.name}: reserved label ${l}`);
      assert.ok(allowed.has(l), `${s.name}: label ${l} is not one of the bounded label names`);
    }
    if (s.labels.includes('table')) assert.ok(s.labels.includes('schema') && s.labels.includes('task'), s.name);
  }
});

test('counters end in _total unless DM chose the name; histograms have ascending buckets, others none', () => {
  for (const s of specs) {
    if (s.type === 'counter' && !s.dm) assert.match(s.name, /_total$/, `${s.name}: a counter ends in _total`);
    if (s.type !== 'counter') assert.doesNotMatch(s.name, /_total$/, `${s.name}: only counters end in _total`);
    if (s.type === 'histogram') {
      const b = s.buckets ?? [];
      assert.ok(b.length > 0, `${s.name}: buckets`);
      for (let i = 1; i < b.length; i++) assert.ok(b[i]! > b[i - 1]!, `${s.name}: buckets ascend`);
    } else assert.equal(s.buckets, undefined, `${s.name}: buckets only on histograms`);
    if (!s.dm && (s.type === 'histogram' || s.name.includes('seconds')))
      assert.match(s.name, /_(seconds|rows|bytes)$/, `${s.name}: a unit suffix`);
  }
});

test("DM's names and encodings where DM has them", () => {
  assert.equal(METRICS.taskState.name, 'dm_worker_task_state');
  assert.deepEqual(METRICS.taskState.labels, ['task', 'source_id', 'worker']);
  assert.equal(METRICS.finishedTransactions.name, 'dm_syncer_finished_transaction_total');
  assert.deepEqual(METRICS.syncerBinlogFile.labels, ['node', 'task', 'source_id']);
  // DM: prometheus.ExponentialBuckets(0.5, 2, 12) for the lag, (0.000005, 2, 25) for a transaction.
  assert.deepEqual(METRICS.replicationLag.buckets, [0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
  assert.equal(METRICS.txnDuration.buckets.length, 25);
  assert.equal(exponentialBuckets(0.000005, 2, 25)[24], 83.88608);
});

test('docs/metrics.md is generated from the catalogue and up to date (npx tsx src/metrics/gen-docs.ts)', () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  assert.equal(doc, metricsMarkdown());
  for (const s of specs) assert.ok(doc.includes(`\`${s.name}\``), s.name);
});
