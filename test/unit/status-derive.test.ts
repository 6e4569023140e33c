/**
 * Issue #12 item 7: status that cannot contradict itself. One derivation of "synced / lag / rate" (paused, errored,
 * running, agent gone, master read older than synced) and one percentage helper, used by query-status text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSync, percentText, type SubtaskStatus, type SyncProgress } from '../../src/coord/index.ts';
import { renderStatus } from '../../tui/commands/status.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';

const SYNC: SyncProgress = {
  master: { name: 'binlog.000003', pos: 5000 },
  synced: { name: 'binlog.000003', pos: 5000 },
  lagSeconds: 0,
  rowsPerSecond: 812,
  totalRows: 10_000,
  totalEvents: 900,
  caughtUp: true,
  safeMode: false,
};
const ERR: ErrorRecord = {
  code: 'TSDM-30007',
  class: 'downstream',
  retryable: false,
  message: 'DDL failed downstream',
  suggestion: 'fix it',
};

function st(over: Partial<SubtaskStatus>): SubtaskStatus {
  return {
    task: 't',
    source: 's1',
    agent: 'a1',
    stage: 'Running',
    unit: 'sync',
    generation: 1,
    updatedAt: '2026-01-01T00:00:00Z',
    sync: SYNC,
    ...over,
  };
}

test('a running sync unit at the head is in sync, with its lag and rate', () => {
  const v = deriveSync(st({}))!;
  assert.equal(v.state, 'synced');
  assert.equal(v.caughtUp, true);
  assert.equal(v.lagSeconds, 0);
  assert.equal(v.rowsPerSecond, 812);
  assert.equal(v.masterRaised, false);
  const behind = deriveSync(
    st({ sync: { ...SYNC, caughtUp: false, lagSeconds: 7, synced: { name: 'binlog.000003', pos: 100 } } }),
  )!;
  assert.equal(behind.state, 'catching-up');
  assert.equal(behind.lagSeconds, 7);
});

test('paused, paused by an error, stopped, finished, retrying, another unit, agent gone: never in sync, no lag, no rate', () => {
  const cases: [string, SubtaskStatus, boolean, string][] = [
    ['paused', st({ stage: 'Paused' }), true, 'Paused'],
    ['paused by an error', st({ stage: 'Paused', error: ERR }), true, 'Paused'],
    ['stopped', st({ stage: 'Stopped' }), true, 'Stopped'],
    ['finished', st({ stage: 'Finished' }), true, 'Finished'],
    ['running, waiting to retry an error', st({ error: { ...ERR, retryable: true } }), true, 'retrying an error'],
    ['running the check unit after a resume', st({ unit: 'check' }), true, 'unit check'],
    ['agent gone', st({}), false, 'agent offline'],
  ];
  for (const [what, s, alive, reason] of cases) {
    const v = deriveSync(s, alive)!;
    assert.equal(v.state, 'stale', what);
    assert.equal(v.staleReason, reason, what);
    assert.equal(v.caughtUp, false, what);
    assert.equal(v.lagSeconds, null, `${what}: lag unknown, not 0`);
    assert.equal(v.rowsPerSecond, null, `${what}: no rate`);
    // What it last reported stays visible.
    assert.deepEqual(v.synced, SYNC.synced, what);
    assert.equal(v.totalRows, 10_000, what);
  }
  assert.equal(deriveSync(st({ sync: undefined })), undefined);
});

test('a master read older than the synced position is raised to it, and says so', () => {
  const v = deriveSync(
    st({
      sync: { ...SYNC, master: { name: 'binlog.000003', pos: 4000 }, synced: { name: 'binlog.000003', pos: 5000 } },
    }),
  )!;
  assert.deepEqual(v.master, { name: 'binlog.000003', pos: 5000 });
  assert.equal(v.masterRaised, true);
  // Across files: binlog.000010 is after binlog.000009 (file sequence, not text order).
  const files = deriveSync(
    st({
      sync: { ...SYNC, master: { name: 'binlog.000009', pos: 90_000 }, synced: { name: 'binlog.000010', pos: 4 } },
    }),
  )!;
  assert.deepEqual(files.master, { name: 'binlog.000010', pos: 4 });
  const ahead = deriveSync(
    st({
      sync: { ...SYNC, master: { name: 'binlog.000010', pos: 4 }, synced: { name: 'binlog.000009', pos: 90_000 } },
    }),
  )!;
  assert.deepEqual(ahead.master, { name: 'binlog.000010', pos: 4 });
  assert.equal(ahead.masterRaised, false);
});

test('percentages are floored: 125130/125132 is 99.9 %, 100 % only when done', () => {
  assert.equal(percentText(125_130, 125_132), '99.9%');
  assert.equal(percentText(996, 1000), '99.6%');
  assert.equal(percentText(125_132, 125_132), '100.0%');
  assert.equal(percentText(450_000, 1_000_000), '45.0%');
  assert.equal(percentText(1, 3), '33.3%');
  assert.equal(percentText(2, 3), '66.6%');
  assert.equal(percentText(0, 10), '0.0%');
  assert.equal(percentText(0, 0), '-');
  assert.equal(percentText(11, 10), '100.0%');
});

test('query-status text: a paused subtask shows no [synced], no lag 0s, no rate; a running one does', () => {
  const view = (s: SubtaskStatus) => [
    { name: 't', desiredStage: 'Running', locks: [], sources: [{ ...s, agentAlive: true, sync: deriveSync(s)! }] },
  ];
  const paused = renderStatus(view(st({ stage: 'Paused', error: ERR })));
  assert.doesNotMatch(paused, /\[synced\]|lag 0s|rows\/s|synced binlog/);
  assert.match(
    paused,
    /sync \(not running: Paused; last report\): applied binlog\.000003:5000 {2}master binlog\.000003:5000 {2}lag unknown/,
  );
  const running = renderStatus(view(st({})));
  assert.match(
    running,
    /sync: synced binlog\.000003:5000 {2}master binlog\.000003:5000 {2}lag 0s {2}812 rows\/s {2}total 10000 rows {2}\[synced\]/,
  );
  const raised = renderStatus(view(st({ sync: { ...SYNC, master: { name: 'binlog.000003', pos: 10 } } })));
  assert.match(raised, /master binlog\.000003:5000 \(at least: the last upstream read is older than synced\)/);
  const load = renderStatus(
    view(
      st({
        unit: 'load',
        sync: undefined,
        load: { totalChunks: 2, doneChunks: 1, totalRows: 125_132, doneRows: 125_130, tables: 1 },
      }),
    ),
  );
  assert.match(load, /rows 125130\/125132 \(99\.9%\)/);
});

test('query-status --more: a warning in recent errors says warning, a retried error says recent', () => {
  const warn: ErrorRecord = {
    code: 'TSDM-10023',
    class: 'config',
    retryable: false,
    message: 'starts from the current position',
    suggestion: 's',
    warning: true,
  };
  const s = st({ recentErrors: [warn, { ...ERR, retryable: true }] });
  const text = renderStatus(
    [{ name: 't', desiredStage: 'Running', locks: [], sources: [{ ...s, agentAlive: true, sync: deriveSync(s)! }] }],
    true,
  );
  assert.match(text, /warning: \[TSDM-10023\] .*starts from the current position/);
  assert.match(text, /recent: \[TSDM-30007\]/);
});
