/**
 * Issue #18, dashboard conventions, at 80×24 through the rendered frame: the `?` overlay lists every key of the view,
 * `/` matches any cell, `<` `>` `S` sort, `:` runs commands, `x` asks (naming the position) before skipping, the
 * Relays view and its detail, per-table figures and the load phase in a task's detail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { footerKeys } from '../../tui/dashboard/App.tsx';
import { initialUi, VIEWS } from '../../tui/dashboard/ui-state.ts';
import { fakeActions, renderAt, smallCluster, tick } from './dashboard-fixtures.ts';

const fits = (lines: string[]) => {
  assert.ok(lines.length <= 23, `${lines.length} lines`);
  for (const l of lines) assert.ok([...l].length <= 80, `too wide: ${l}`);
};

test('? lists every key of the view and the global ones, whole, at 80x24', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  await r.press('?');
  const t = r.text();
  fits(r.lines());
  for (const k of [
    /j k {2}↑ ↓/,
    /Enter {2}l {2}→/,
    /< > {2}S/,
    /^ {2}\/ /m,
    /p {2}r/,
    /^ {2}s /m,
    /^ {2}x /m,
    /Tab {2}1-6/,
  ])
    assert.match(t, k);
  assert.match(t, /:pause\|:resume\|:stop \[TASK\]/);
  assert.match(t, /Any key closes this help/);
  assert.doesNotMatch(t, /…/, 'no help line is cut at 80 columns');
  await r.press('q');
  assert.doesNotMatch(r.text(), /Keys in Tasks/);
  // In a detail the help lists the detail's keys.
  await r.press('enter', '?');
  assert.match(r.text(), /Keys in Tasks \(a detail\)/);
  assert.match(r.text(), /Esc h ← Backspace/);
  r.unmount();
});

test('the footer keeps filter, sort and the command line at 80 columns in every list view', async () => {
  for (const view of VIEWS) {
    const r = await renderAt(smallCluster(), 80, 24, { initial: { view } });
    const foot = r.lines().at(-1)!;
    assert.match(foot, /\/ filter {2}<>S sort {2}: cmd {2}\? help {2}q quit$/, `${view}: ${foot}`);
    r.unmount();
  }
  assert.ok(footerKeys({ ...initialUi(), command: '' }).some(([k]) => k === 'Tab'));
});

test('/ keeps rows whose cells contain the text (any column); the caption says so; Esc clears', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  await r.press('/', 'l', 'o', 'a', 'd', 'enter');
  assert.match(r.text(), /filter "load" \(Esc clears\)/);
  assert.match(r.text(), /│ > shop +│ mysql-02/);
  assert.doesNotMatch(r.text(), /audit|crm/);
  await r.press('escape');
  assert.match(r.text(), /audit/);
  r.unmount();
});

test('< > pick the sort column, S reverses; the caption and the heading show it', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  const order = () =>
    r.lines().flatMap((l) => (/^│ (?:> | {2})(\S+) +│ (\S+)/.exec(l) ?? []).slice(1, 3).join('/') || []);
  assert.deepEqual(order(), ['audit/mysql-03', 'crm/mysql-01', 'shop/mysql-01', 'shop/mysql-02']);
  await r.press('>', '>');
  assert.match(r.text(), /sorted by source↑/);
  assert.match(r.text(), /│ source↑ +│/);
  assert.deepEqual(order(), ['crm/mysql-01', 'shop/mysql-01', 'shop/mysql-02', 'audit/mysql-03']);
  await r.press('S');
  assert.match(r.text(), /sorted by source↓/);
  assert.deepEqual(order(), ['audit/mysql-03', 'shop/mysql-02', 'crm/mysql-01', 'shop/mysql-01']);
  // j moves over the sorted rows: the second row is selected.
  await r.press('j');
  assert.match(r.text(), /│ > shop +│ mysql-02/);
  r.unmount();
});

test(': runs a command; the line shows while typed; Tab completes; an unknown command is an error', async () => {
  const actions = fakeActions(async (a) => (a.kind === 'stage' ? `task ${a.task}: ${a.stage}` : ''));
  const r = await renderAt(smallCluster(), 80, 24, { actions });
  await r.press(':', 'p', 'a', 'u', 'tab');
  assert.match(r.text(), /^:pause _/m);
  await r.press('c', 'r', 'm', 'enter');
  await tick();
  assert.deepEqual(actions.calls, [{ kind: 'stage', task: 'crm', stage: 'Paused' }]);
  assert.match(r.text(), /^task crm: Paused/m);
  await r.press(':', 'z', 'a', 'p', 'enter');
  assert.match(r.text(), /Error: unknown command :zap/);
  await r.press(':', 'r', 'e', 'l', 'enter');
  assert.match(r.lines()[1]!, /\[6 Relays 2\]/);
  r.unmount();
});

test('x asks which event is skipped (position), runs only after y; n says it is not skipped', async () => {
  const actions = fakeActions();
  const r = await renderAt(smallCluster(), 80, 24, { actions });
  await r.press('x');
  assert.match(r.text(), /Skip the event audit is paused on at mysql-03 binlog\.000003:4512/);
  await r.press('n');
  assert.equal(actions.calls.length, 0);
  assert.match(r.text(), /cancelled: the event at mysql-03 binlog\.000003:4512 is not skipped/);
  await r.press('enter', 'x', 'y');
  assert.deepEqual(actions.calls[0], {
    kind: 'skip-ddl',
    task: 'audit',
    source: 'mysql-03',
    position: 'binlog.000003:4512',
    statement: 'ALTER TABLE shop.orders ADD COLUMN note TEXT',
  });
  r.unmount();
});

test('the Relays view: stage, relay position, how far behind the head, size, agent; Enter shows the store', async () => {
  const r = await renderAt(smallCluster(), 80, 24, { initial: { view: 'relays' } });
  const t = r.text();
  fits(r.lines());
  assert.match(t, /2 relay log\(s\)/);
  assert.match(t, /│ > mysql-01 +│ Running +│ binlog\.000003:90000 +│ +8\.6K +│ +12\.0M +│ agent-1 +│/);
  assert.match(t, /│ +mysql-03 +│ Paused +│ binlog\.000002:1200 +│ +1 file\(s\)/);
  assert.match(t, /agent-1/);
  await r.press('enter');
  assert.match(r.text(), /Relay mysql-01/);
  assert.match(r.text(), /upstream +binlog\.000003:98765/);
  assert.match(r.text(), /readers +1; needed from #4000 by shop/);
  r.unmount();
});

test('the load phase shows in the Tasks caption at 80 columns (rate and ETA columns do not fit there)', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  assert.match(r.lines()[2]!, /· load 45\.0%, 25\.0k\/s, ETA 22s$/);
  r.unmount();
});

test('a task detail: the load phase while it runs, load per table, sync per table', async () => {
  const r = await renderAt(smallCluster(), 80, 40, { initial: { detail: 'task.shop.mysql-02' } });
  const t = r.text();
  assert.match(t, /Load \(running\)/);
  assert.match(t, /rows +450,000 of 1,000,000 \(45\.0%\)/);
  assert.match(t, /tables +12/);
  assert.match(t, /rate +25\.0k rows\/s/);
  assert.match(t, /ETA +22s/);
  assert.match(t, /load {2}shop\.orders {2}chunks 10\/30/);
  r.unmount();
  const s = await renderAt(smallCluster(), 80, 40, { initial: { detail: 'task.shop.mysql-01' } });
  assert.match(s.text(), /Sync per table \(2, last applied first/);
  assert.match(s.text(), /shop\.orders +rows +41\.0k +lag +2s +\d+s ago/);
  s.unmount();
});
