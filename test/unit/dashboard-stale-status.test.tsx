/**
 * Issue #12 item 7 in the dashboard: a subtask that does not run (paused, paused by an error) keeps its last sync
 * record, which said caught up at 1234 rows/s with lag 0; the dashboard must show it as stale, never "in sync",
 * "synced", a rate or a lag of 0s. A running one next to it still shows its live figures; an upstream position read
 * before the synced one is never shown behind it; a load two rows short is 99.9 %, not 100 %.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bound, err, leader, member, renderAt, replay, status, syncing, task } from './dashboard-fixtures.ts';

function state() {
  const ddl = err('TSDM-30007', 'the downstream rejected DDL', { context: { position: 'binlog.000003:4512' } });
  const aheadOfMaster = syncing(0, true);
  aheadOfMaster.sync!.master = { name: 'binlog.000003', pos: 90_000 }; // read before synced (98,765)
  return replay([
    member('agent-1', 1000),
    leader('agent-1'),
    bound('src-a', 'agent-1'),
    bound('src-b', 'agent-1'),
    bound('src-c', 'agent-1'),
    bound('src-d', 'agent-1'),
    task('halted', ['src-a']),
    task('broken', ['src-b']),
    task('live', ['src-c']),
    task('loadp', ['src-d'], 'Paused'),
    status('halted', 'src-a', 'agent-1', { ...syncing(0, true), stage: 'Paused' }),
    status('broken', 'src-b', 'agent-1', { ...syncing(0, true), stage: 'Paused', error: ddl }),
    status('live', 'src-c', 'agent-1', aheadOfMaster),
    // A load paused two rows short, reported twice (so a rate could be derived), then paused.
    status(
      'loadp',
      'src-d',
      'agent-1',
      { unit: 'load', load: { totalChunks: 4, doneChunks: 3, totalRows: 125_132, doneRows: 100_000, tables: 1 } },
      3000,
    ),
    status(
      'loadp',
      'src-d',
      'agent-1',
      {
        unit: 'load',
        stage: 'Paused',
        load: { totalChunks: 4, doneChunks: 3, totalRows: 125_132, doneRows: 125_130, tables: 1 },
      },
      1000,
    ),
  ]);
}

/** Rows are sorted by task: broken, halted, live, loadp. */
const ORDER = ['broken', 'halted', 'live', 'loadp'];

async function text(keys: string[] = [], select?: string): Promise<string> {
  const r = await renderAt(state(), 160, 48, { initial: { view: 'tasks' } });
  await r.press(...Array.from({ length: select ? ORDER.indexOf(select) : 0 }, () => 'j'), ...keys);
  const t = r.text();
  r.unmount();
  return t;
}

function row(t: string, taskName: string): string {
  const line = t.split('\n').find((l) => new RegExp(`│ (> )? *${taskName} +│`).test(l));
  assert.ok(line, `a row for ${taskName} in\n${t}`);
  return line;
}

test('the task list: paused subtasks are stale (no in sync, rate or lag), a running one is live', async () => {
  const t = await text();
  for (const name of ['halted', 'broken']) {
    const r = row(t, name);
    assert.doesNotMatch(r, /in sync|synced|catching up|1234|0s/, `${name}: ${r}`);
    assert.match(r, /│ sync +│ stale +│ +- │ +- │/, `${name}: ${r}`);
  }
  assert.match(row(t, 'live'), /│ Running +│ sync +│ in sync +│ +1234 │ +0s │/);
  // 125,130 of 125,132 rows: 99.9 %, and no rate for a paused load.
  assert.match(row(t, 'loadp'), /│ Paused +│ load +│ 99\.9% 3\/4ch +│ +- │ +- │ +- │/);
});

test('the task detail: a paused subtask shows its last positions, lag unknown and no rate', async () => {
  const t = await text(['enter'], 'halted');
  assert.match(t, /Task halted · source src-a/);
  assert.match(t, /Sync \(not running: Paused; last report\)/);
  assert.match(t, /applied {4}binlog\.000003:98765/);
  assert.match(t, /lag {8}unknown \(not running\)/);
  assert.match(t, /rate {7}-/);
  assert.doesNotMatch(t, /caught up|rows\/s|synced {5}/);
  const broken = await text(['enter'], 'broken');
  assert.match(broken, /Task broken · source src-b/);
  assert.match(broken, /Sync \(not running: Paused; last report\)/);
  assert.doesNotMatch(broken, /caught up|rows\/s/);
});

test('the task detail: an upstream position read before the synced one is shown at it, marked "at least"', async () => {
  const t = await text(['enter'], 'live');
  assert.match(t, /Task live · source src-c/);
  assert.match(t, /synced {5}binlog\.000003:98765/);
  assert.match(t, /upstream {3}binlog\.000003:98765 \(at least: the last upstream read is older than synced\)/);
  assert.match(t, /lag {8}0s, caught up/);
  assert.match(t, /rate {7}1234 rows\/s/);
});

test('the task detail of a paused load: 99.9 %, no rate', async () => {
  const t = await text(['enter'], 'loadp');
  assert.match(t, /Task loadp · source src-d/);
  assert.match(t, /rows {7}125,130 of 125,132 \(99\.9%\)/);
  assert.match(t, /rate {7}-/);
});
