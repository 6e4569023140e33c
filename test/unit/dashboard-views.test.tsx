/**
 * Acceptance 1 of issue #7: every view rendered from recorded read-model states (empty cluster, 100 tasks, long names,
 * a long error message, a pending lock) at 80×24 and 160×48, asserting on the text of the last frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_MESSAGE, LONG_TASK, STATES, renderAt } from './dashboard-fixtures.ts';
import { VIEWS, type ViewName } from '../../tui/dashboard/ui-state.ts';

const SIZES = [
  [80, 24],
  [160, 48],
] as const;

function assertFits(lines: string[], columns: number, rows: number, what: string): void {
  assert.ok(lines.length <= rows - 1, `${what}: ${lines.length} lines on a ${rows}-line terminal (one is left free)`);
  for (const l of lines)
    assert.ok([...l].length <= columns, `${what}: a line is ${[...l].length} wide on ${columns} columns:\n${l}`);
}

for (const [name, make] of Object.entries(STATES)) {
  for (const [columns, rows] of SIZES) {
    for (const view of VIEWS) {
      test(`${name}: ${view} at ${columns}x${rows} fits and has its header and footer`, async () => {
        const r = await renderAt(make(), columns, rows, { initial: { view } });
        const lines = r.lines();
        assertFits(lines, columns, rows, `${name}/${view}`);
        assert.match(lines[0]!, /^tsdm( dashboard)? │ cluster dm │ NATS connected/);
        // The current view is marked by brackets, not only by colour.
        assert.match(lines[1]!, new RegExp(`\\[${VIEWS.indexOf(view) + 1} `));
        assert.match(lines.at(-1)!, /\? help {2}q quit$/);
        r.unmount();
      });
    }
  }
}

async function viewText(
  state: keyof typeof STATES,
  view: ViewName,
  columns: number,
  rows: number,
  keys: string[] = [],
): Promise<string> {
  const r = await renderAt(STATES[state]!(), columns, rows, { initial: { view } });
  await r.press(...keys);
  const t = r.text();
  r.unmount();
  return t;
}

test('empty cluster: every view says what is missing and how to get it', async () => {
  assert.match(
    await viewText('emptyCluster', 'tasks', 80, 24),
    /No tasks\. Start one with: dmctl start-task task\.yaml/,
  );
  assert.match(
    await viewText('emptyCluster', 'topology', 80, 24),
    /No agents\. Start one with: dm-agent --name agent-1/,
  );
  assert.match(await viewText('emptyCluster', 'errors', 80, 24), /No errors reported/);
  assert.match(
    await viewText('emptyCluster', 'locks', 80, 24),
    /No shard-DDL locks pending \(a shard-merge task makes one at each shard DDL\)\./,
  );
});

test('small cluster: tasks show stage, progress, lag and the error in words', async () => {
  const t = await viewText('smallCluster', 'tasks', 160, 48);
  assert.match(t, /│ > audit +│ mysql-03 +│ Paused \(error, agent gone\)/);
  // Paused with a record that said caught up at 1234 rows/s: stale, no rate, no lag (issue #12 item 7).
  assert.match(t, /│ +crm +│ mysql-01 +│ Paused +│ sync +│ stale +│ +- │ +- │/);
  assert.match(t, /shop +│ mysql-02 +│ Running +│ load +│ 45\.0% 18\/40ch/);
  assert.match(t, /agent-2 \(gone\) │ \[TSDM-30007\] the downstream rejected DDL: Du… │/);
  // 50,000 rows in 2 s: 25k rows/s, 550,000 rows to go: 22 s.
  assert.match(t, /25\.0k │ +- │ +22s │ agent-1/);
  assert.match(t, /3 task\(s\), 4 subtask\(s\): 2 Paused, 2 Running/);
});

test('small cluster at 80 columns: low-priority columns go, names stay whole', async () => {
  const t = await viewText('smallCluster', 'tasks', 80, 24);
  assert.match(t, /│ task +│ source +│ stage +│ progress +│ last error +│/);
  assert.doesNotMatch(t, /│ rows\/s|│ ETA/, 'no rate or ETA column (the caption carries the load phase)');
  assert.match(t, /mysql-03/);
});

test('topology: leader, liveness in words, heartbeat age, bound sources', async () => {
  const t = await viewText('smallCluster', 'topology', 160, 48);
  assert.match(t, /> agent-1 +│ leader │ alive │ 1s ago +│ mysql-01,mysql-02 │ host-agent-1/);
  assert.match(t, /agent-2 +│ - +│ gone +│ 15s ago +│ mysql-03/);
  assert.match(t, /1 Topology 1\/2 up/);
  assert.match(t, /leader agent-1 \(term 3\)/);
});

test('100 tasks: a page of rows that fits, and where we are in the list', async () => {
  const small = await viewText('hundredTasks', 'tasks', 80, 24);
  assert.match(small, /rows 1-15 of 100 \(PgUp\/PgDn\)/);
  assert.match(small, /task-014/);
  assert.doesNotMatch(small, /task-015/);
  const big = await viewText('hundredTasks', 'tasks', 160, 48);
  assert.match(big, /rows 1-39 of 100/);
  assert.match(big, /│ task +│ source +│ stage +│ unit +│ progress +│ rows\/s +│ lag +│ ETA +│ agent +│ last error │/);
  const paged = await viewText('hundredTasks', 'tasks', 80, 24, ['pageDown', 'pageDown']);
  assert.match(paged, /rows 31-45 of 100/);
  assert.match(paged, /│ > task-030/);
  const last = await viewText('hundredTasks', 'tasks', 80, 24, ['G']);
  assert.match(last, /rows 91-100 of 100/);
  assert.match(last, /│ > task-099 │ src-b +│ Running →Paused/);
});

test('long names are cut with an ellipsis and shown whole in the detail', async () => {
  const t = await viewText('longNames', 'tasks', 80, 24);
  assert.match(t, /│ > migrate-the-… │ mysql-replica-… │ Running/);
  assert.doesNotMatch(t, new RegExp(LONG_TASK));
  const wide = await viewText('longNames', 'tasks', 160, 48);
  assert.match(wide, /│ > migrate-the-whole-legacy-order-manage… │ mysql-replica-eu-west-1… │ Running │/); // at most 40 columns
  const detail = await viewText('longNames', 'tasks', 80, 24, ['enter']);
  assert.match(detail, /Task migrate-the-whole-legacy/);
  const topo = await viewText('longNames', 'topology', 80, 24);
  assert.match(topo, /^tsdm │ cluster dm │ NATS connected │ leader dm-agent-on-a-host-with… │ 12:00:00$/m);
});

test('a long error message: one cut line in the list, wrapped and scrollable in the detail', async () => {
  const list = await viewText('longError', 'errors', 80, 24);
  assert.match(list, /│ > 5s +│ orders │ mysql-01 │ TSDM-30004 │ paused on │ the downstream rejecte… │/);
  const detail = await viewText('longError', 'errors', 80, 24, ['enter']);
  assert.match(detail, /Error TSDM-30004 · orders · mysql-01 · lines 1-18 of \d+/);
  assert.match(detail, / {2}message {4}the downstream rejected the statement after 5 attempts: Lock wait/);
  const end = await viewText('longError', 'errors', 80, 24, ['enter', 'pageDown', 'pageDown', 'pageDown']);
  assert.match(end, /END-OF-MESSAGE/);
  assert.match(end, /suggestion Fix the downstream, then dmctl resume-task\./);
  assert.match(end, /cause {6}ER_LOCK_WAIT_TIMEOUT \(errno 1205\)/);
  assert.ok(LONG_MESSAGE.length > 1500);
  const wide = await viewText('longError', 'errors', 160, 48, ['enter']);
  assert.match(wide, /statement  INSERT INTO shop\.orders VALUES/);
});

test('a pending shard lock: target, shards reached and waiting, owner, age, DDL', async () => {
  const t = await viewText('pendingLock', 'locks', 160, 48);
  assert.match(
    t,
    /> merged\.orders │ merge │ 2\/4 reached │ shard-2\/shop_2\.orders,shard-2\/shop_3\.or… │ shard-1 │ 1m30s │ ALTER TABLE `merged`\.`orders`/,
  );
  const small = await viewText('pendingLock', 'locks', 80, 24);
  assert.match(small, /2\/4 reached/);
  const detail = await viewText('pendingLock', 'locks', 80, 24, ['enter']);
  assert.match(detail, /reached {4}shard-1\/shop_0\.orders, shard-1\/shop_1\.orders/);
  assert.match(detail, /waiting {4}shard-2\/shop_2\.orders, shard-2\/shop_3\.orders/);
  assert.match(detail, /- ALTER TABLE `merged`\.`orders` ADD COLUMN `note` VARCHAR\(255\)/);
});

test('errors: newest first, with their state in words', async () => {
  const t = await viewText('smallCluster', 'errors', 160, 48);
  const i1 = t.indexOf('TSDM-30007');
  const i2 = t.indexOf('TSDM-30001');
  assert.ok(i1 > 0 && i2 > i1, 'the 5 s old error comes before the 20 s old one');
  assert.match(t, /TSDM-30007 │ paused on │/);
  assert.match(t, /TSDM-30001 │ retried +│/);
});

test('task detail: the error first, then progress and positions', async () => {
  const t = await viewText('smallCluster', 'tasks', 80, 24, ['enter']);
  assert.match(t, /Task audit · source mysql-03/);
  assert.match(t, /stage {6}Paused by the error below \(r retries it\)/);
  assert.match(t, /agent {6}agent-2 \(gone\)/);
  assert.match(t, /statement {2}ALTER TABLE shop\.orders ADD COLUMN note TEXT/);
  const load = await viewText('smallCluster', 'tasks', 160, 48, ['G', 'enter']);
  assert.match(load, /rows {7}450,000 of 1,000,000 \(45\.0%\)/);
  assert.match(load, /ETA {8}22s/);
  assert.match(load, /Load per table \(2 of 12, unfinished first\)/);
  assert.match(load, /load  shop\.orders  chunks 10\/30  rows 350,000\/900,000 \(38\.8%\)/);
  assert.match(load, /done  shop\.customers  chunks 10\/10/);
});

test('agent detail lists its subtasks', async () => {
  const t = await viewText('smallCluster', 'topology', 80, 24, ['enter']);
  assert.match(t, /Agent agent-1/);
  assert.match(t, /shop \/ mysql-01: Running sync/);
  assert.match(t, /heartbeat {2}1s ago \(gone after 10s without one\)/);
});

test('no password from a task file reaches the screen or the read model', async () => {
  const s = STATES.smallCluster!();
  assert.doesNotMatch(JSON.stringify(s), /s3cret/);
  for (const view of VIEWS) assert.doesNotMatch(await viewText('smallCluster', view, 160, 48, ['enter']), /s3cret/);
});
