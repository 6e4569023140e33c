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
  headers: ['task', 'source', 'stage'],
  subtasks: [
    { key: 'task.a.s1', task: 'a', source: 's1' },
    { key: 'task.b.s1', task: 'b', source: 's1', position: 'binlog.000001:400', statement: 'ALTER TABLE t ADD c INT' },
    { key: 'task.c.s1', task: 'c', source: 's1' },
    { key: 'task.c.s2', task: 'c', source: 's2' },
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

test('Tab, Shift-Tab and 1-6 switch views and close a detail', () => {
  assert.equal(keys(initialUi(), ['6']).ui.view, 'relays');
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

test('vim keys and arrows mean the same in lists and details: l/→ open, h/← back, j/k g/G move or scroll', () => {
  let { ui } = keys(initialUi(), ['j', 'l']);
  assert.equal(ui.detail, 'task.b.s1');
  ui = keys(ui, ['j', 'j']).ui;
  assert.equal(ui.detailScroll, 2);
  ui = keys(ui, ['k']).ui;
  assert.equal(ui.detailScroll, 1);
  assert.equal(keys(ui, ['G']).ui.detailScroll, 20);
  assert.equal(keys(ui, ['G', 'g']).ui.detailScroll, 0);
  assert.equal(keys(ui, ['h']).ui.detail, undefined);
  assert.equal(keys(ui, [{ leftArrow: true }]).ui.detail, undefined);
  assert.equal(keys(initialUi(), [{ rightArrow: true }]).ui.detail, 'task.a.s1');
  // k never skips, in a list or a detail.
  assert.equal(keys(ui, ['k']).ui.confirm, undefined);
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
  assert.equal(no.ui.message?.text, 'cancelled: task a stays as it is');
});

test('p/r/s explain themselves where they do not apply', () => {
  assert.match(keys(initialUi('topology'), ['p']).ui.message!.text, /select one in the Tasks or Errors view/);
  assert.match(keys(initialUi(), ['p'], ctx({ rows: [] })).ui.message!.text, /select a task first/);
  assert.match(keys(initialUi(), ['p'], ctx({ taskExists: () => false })).ui.message!.text, /no longer exists/);
});

test('x skips the event a subtask is paused on, naming its position, after y; n leaves it', () => {
  const open = keys(initialUi(), ['j', { return: true }]).ui;
  const asked = keys(open, ['x']);
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
  const no = keys(asked.ui, ['n']);
  assert.equal(no.effect, undefined);
  assert.equal(no.ui.message!.text, 'cancelled: the event at s1 binlog.000001:400 is not skipped');
  // From the list too, on the selected row.
  assert.match(keys(initialUi(), ['j', 'x']).ui.confirm!.prompt, /binlog\.000001:400/);
  const notPaused = keys(keys(initialUi(), [{ return: true }]).ui, ['x']);
  assert.match(notPaused.ui.message!.text, /not paused on a binlog event; nothing to skip/);
  assert.match(
    keys(open, ['x'], ctx({ can: { skipDdl: false, unlock: false } })).ui.message!.text,
    /needs `dmctl binlog skip`/,
  );
  assert.match(keys(initialUi('topology'), ['x']).ui.message!.text, /select it in the Tasks or Errors view/);
});

test('u asks before unlocking the selected lock; elsewhere it says where it applies', () => {
  const locks = ctx({ rows: [{ key: 'l', lock: 'l', task: 't' }], can: { skipDdl: true, unlock: true } });
  assert.match(keys(initialUi('locks'), ['u'], locks).ui.confirm!.prompt, /Unlock shard-DDL lock l\?/);
  assert.match(keys(initialUi('tasks'), ['u']).ui.message!.text, /select one in the Shard locks view/);
});

test('< > walk the sort column and back to unsorted; S reverses', () => {
  let { ui } = keys(initialUi(), ['>']);
  assert.deepEqual(ui.sorts.tasks, { column: 0, desc: false });
  ui = keys(ui, ['>', 'S']).ui;
  assert.deepEqual(ui.sorts.tasks, { column: 1, desc: true });
  ui = keys(ui, ['>', '>']).ui;
  assert.equal(ui.sorts.tasks, undefined, 'past the last column: unsorted');
  assert.deepEqual(keys(initialUi(), ['<']).ui.sorts.tasks, { column: 2, desc: false });
  assert.deepEqual(keys(initialUi(), ['S']).ui.sorts.tasks, { column: 0, desc: true });
  // Each view keeps its own sort.
  assert.equal(keys(ui, ['>', '1']).ui.sorts.topology, undefined);
});

test(": runs the keys' actions by name, sorts, filters, opens views; Tab completes; unknown is an error", () => {
  const typed = (line: string, c = ctx()) => keys(initialUi(), [':', ...Array.from(line), { return: true }], c);
  assert.deepEqual(typed('pause c').effect, { kind: 'run', action: { kind: 'stage', task: 'c', stage: 'Paused' } });
  assert.deepEqual(typed('resume').effect, { kind: 'run', action: { kind: 'stage', task: 'a', stage: 'Running' } });
  assert.match(typed('stop b').ui.confirm!.prompt, /Stop task b/);
  assert.match(typed('skip b').ui.confirm!.prompt, /b is paused on at s1 binlog\.000001:400/);
  assert.match(typed('skip c').ui.message!.text, /not paused on a binlog event/);
  assert.match(typed('unlock x').ui.message!.text, /does not offer/);
  assert.deepEqual(typed('sort stage desc').ui.sorts.tasks, { column: 2, desc: true });
  assert.match(typed('sort nope').ui.message!.text, /Tasks has no column nope \(columns: task, source, stage\)/);
  assert.equal(typed('filter crm').ui.filters.tasks, 'crm');
  assert.equal(typed('relays').ui.view, 'relays');
  assert.deepEqual(typed('q').effect, { kind: 'quit' });
  assert.equal(typed('help').ui.help, true);
  const bad = typed('frobnicate');
  assert.equal(bad.ui.message!.tone, 'error');
  assert.match(bad.ui.message!.text, /unknown command :frobnicate \(commands: pause resume stop skip/);
  // Tab: a unique completion, then the candidates of an ambiguous one.
  assert.equal(keys(initialUi(), [':', 'p', 'a', { tab: true }]).ui.command, 'pause ');
  assert.equal(keys(initialUi(), [':', 'r', 'e', { tab: true }]).ui.command, 're');
  assert.match(keys(initialUi(), [':', 'r', 'e', { tab: true }]).ui.message!.text, /relays resume/);
  assert.equal(keys(initialUi(), [':', 'p', 'a', 'u', 's', 'e', ' ', { tab: true }]).ui.command, 'pause ');
  assert.equal(keys(initialUi(), [':', 's', 'k', 'i', 'p', ' ', 'b', { tab: true }]).ui.command, 'skip b ');
  // Esc leaves the line without running it; the keys are text meanwhile.
  const esc = keys(initialUi(), [':', 'q', { escape: true }]);
  assert.deepEqual([esc.ui.command, esc.effect], [undefined, undefined]);
});

test('/ edits the filter; Enter keeps it, Esc clears it; keys are text meanwhile', () => {
  let { ui } = keys(initialUi(), ['/', 'q', 'p', { backspace: true }, 'x']);
  assert.equal(ui.confirm, undefined);
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
