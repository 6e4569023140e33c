/** Keybindings as a pure function: UI state in, UI state and at most one effect out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initialUi,
  onKey,
  splitKeys,
  type KeyContext,
  type KeyInput,
  type UiState,
} from '../../tui/dashboard/ui-state.ts';

const ctx = (over: Partial<KeyContext> = {}): KeyContext => ({
  rows: [
    { key: 'task.a.s1', task: 'a', source: 's1' },
    { key: 'task.b.s1', task: 'b', source: 's1', position: 'binlog.000001:400', statement: 'ALTER TABLE t ADD c INT' },
    { key: 'task.c.s1', task: 'c', source: 's1' },
  ],
  pageSize: 2,
  detailLines: 30,
  detailHeight: 10,
  taskExists: () => true,
  can: { skipDdl: true, unlock: false },
  ...over,
});

function keys(ui: UiState, seq: (string | KeyInput)[], c = ctx()) {
  let effect;
  for (const k of seq) ({ ui, effect } = onKey(ui, typeof k === 'string' ? k : '', typeof k === 'string' ? {} : k, c));
  return { ui, effect };
}

test('j/k and arrows move, clamped; PgDn pages; G and g jump', () => {
  assert.equal(keys(initialUi(), ['j', 'j', 'j']).ui.selected.tasks.key, 'task.c.s1');
  assert.equal(keys(initialUi(), ['j', 'k', 'k']).ui.selected.tasks.key, 'task.a.s1');
  assert.equal(keys(initialUi(), [{ downArrow: true }]).ui.selected.tasks.key, 'task.b.s1');
  assert.equal(keys(initialUi(), [{ pageDown: true }]).ui.selected.tasks.key, 'task.c.s1');
  assert.equal(keys(initialUi(), ['G', 'g']).ui.selected.tasks.key, 'task.a.s1');
});

test('the selection follows its row when rows move', () => {
  const { ui } = keys(initialUi(), ['j']);
  const moved = ctx({ rows: [{ key: 'task.0.s', task: '0' }, ...ctx().rows] });
  assert.equal(keys(ui, ['j'], moved).ui.selected.tasks.key, 'task.c.s1');
});

test('Tab, Shift-Tab and 1-4 switch views and close a detail', () => {
  assert.equal(keys(initialUi(), [{ tab: true }]).ui.view, 'errors');
  assert.equal(keys(initialUi(), [{ tab: true, shift: true }]).ui.view, 'topology');
  assert.equal(keys(initialUi(), ['4']).ui.view, 'locks');
  const r = keys(initialUi(), [{ return: true }, { tab: true }]);
  assert.equal(r.ui.detail, undefined);
});

test('Enter opens the detail, arrows scroll it within bounds, Esc goes back', () => {
  let { ui } = keys(initialUi(), ['j', { return: true }]);
  assert.equal(ui.detail, 'task.b.s1');
  ui = keys(ui, [{ downArrow: true }, { pageDown: true }, { pageDown: true }, { pageDown: true }]).ui;
  assert.equal(ui.detailScroll, 20, 'at most lines - height');
  ui = keys(ui, [{ escape: true }]).ui;
  assert.equal(ui.detail, undefined);
  assert.equal(ui.selected.tasks.key, 'task.b.s1');
});

test('p and r act at once on the selected task; s asks first and y confirms', () => {
  assert.deepEqual(keys(initialUi(), ['p']).effect, {
    kind: 'run',
    action: { kind: 'stage', task: 'a', stage: 'Paused' },
  });
  assert.deepEqual(keys(initialUi(), ['j', 'r']).effect, {
    kind: 'run',
    action: { kind: 'stage', task: 'b', stage: 'Running' },
  });
  const asked = keys(initialUi(), ['s']);
  assert.equal(asked.effect, undefined);
  assert.match(asked.ui.confirm!.prompt, /Stop task a \(all its sources\)\?/);
  assert.deepEqual(keys(asked.ui, ['y']).effect, {
    kind: 'run',
    action: { kind: 'stage', task: 'a', stage: 'Stopped' },
  });
  const no = keys(asked.ui, ['n']);
  assert.equal(no.effect, undefined);
  assert.equal(no.ui.message?.text, 'cancelled');
});

test('p/r/s explain themselves where they do not apply', () => {
  assert.match(keys(initialUi('topology'), ['p']).ui.message!.text, /select one in the Tasks or Errors view/);
  assert.match(keys(initialUi(), ['p'], ctx({ rows: [] })).ui.message!.text, /select a task first/);
  assert.match(keys(initialUi(), ['p'], ctx({ taskExists: () => false })).ui.message!.text, /no longer exists/);
});

test('k in a task detail skips the event it is paused on, after showing the statement and a y', () => {
  const open = keys(initialUi(), ['j', { return: true }]).ui;
  const asked = keys(open, ['k']);
  assert.match(
    asked.ui.confirm!.prompt,
    /Skip the event b is paused on at s1 binlog\.000001:400: ALTER TABLE t ADD c INT\?/,
  );
  assert.deepEqual(keys(asked.ui, ['y']).effect, {
    kind: 'run',
    action: {
      kind: 'skip-ddl',
      task: 'b',
      source: 's1',
      position: 'binlog.000001:400',
      statement: 'ALTER TABLE t ADD c INT',
    },
  });
  const notPaused = keys(keys(initialUi(), [{ return: true }]).ui, ['k']);
  assert.match(notPaused.ui.message!.text, /not paused on a binlog event; nothing to skip/);
  assert.match(
    keys(open, ['k'], ctx({ can: { skipDdl: false, unlock: false } })).ui.message!.text,
    /needs `dmctl binlog skip`/,
  );
  // In a list k moves up, it never skips anything.
  assert.equal(keys(initialUi(), ['j', 'k']).ui.confirm, undefined);
});

test('u says it is not available yet', () => {
  assert.match(
    keys(initialUi('locks'), ['u'], ctx({ rows: [{ key: 'l', lock: 'l', task: 't' }] })).ui.message!.text,
    /not available yet/,
  );
  assert.match(keys(initialUi('tasks'), ['u']).ui.message!.text, /select one in the Shard locks view/);
});

test('/ edits the filter; Enter keeps it, Esc clears it; keys are text meanwhile', () => {
  let { ui } = keys(initialUi(), ['/', 'q', 'p', { backspace: true }, 'x']);
  assert.equal(ui.filters.tasks, 'qx');
  assert.equal(ui.editingFilter, true);
  ui = keys(ui, [{ return: true }]).ui;
  assert.deepEqual([ui.filters.tasks, ui.editingFilter], ['qx', false]);
  assert.equal(keys(ui, [{ escape: true }]).ui.filters.tasks, '');
  assert.equal(keys(ui, ['/', { escape: true }]).ui.filters.tasks, '');
  // Each view has its own filter: a task filter does not hide the agents.
  const topo = keys(ui, ['1']).ui;
  assert.deepEqual([topo.filters.topology, topo.filters.tasks], ['', 'qx']);
});

test('? opens help, any key closes it; q and Ctrl-C quit', () => {
  const { ui } = keys(initialUi(), ['?']);
  assert.equal(ui.help, true);
  const closed = keys(ui, ['q']);
  assert.deepEqual([closed.ui.help, closed.effect], [false, undefined]);
  assert.deepEqual(keys(initialUi(), ['q']).effect, { kind: 'quit' });
  assert.deepEqual(onKey(initialUi(), 'c', { ctrl: true }, ctx()).effect, { kind: 'quit' });
});

test('typeahead arriving as one chunk is split into keys (Ink only splits escape sequences)', () => {
  assert.deepEqual(splitKeys('j\r', {}), [
    ['j', {}],
    ['', { return: true }],
  ]);
  assert.deepEqual(splitKeys('ab\t\x7f', {}), [
    ['a', {}],
    ['b', {}],
    ['', { tab: true }],
    ['', { backspace: true }],
  ]);
  assert.deepEqual(splitKeys('q', {}), [['q', {}]]);
  assert.deepEqual(splitKeys('', { upArrow: true }), [['', { upArrow: true }]]);
});
