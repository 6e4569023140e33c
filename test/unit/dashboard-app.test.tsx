/** The dashboard as a user drives it: keys in through stdin, the frame out, actions through the fake action port. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, makeEvent, type EventInput } from '../../src/events/record.ts';
import { DmError } from '../../src/errors/index.ts';
import { ReadModelStore } from '../../tui/dashboard/read-model-store.ts';
import { Bucket, Keys } from '../../src/coord/index.ts';
import { CommandContext } from '../../tui/context.ts';
import { runDashboard, whyNotInteractive } from '../../tui/dashboard/run.ts';
import { main } from '../../tui/main.ts';
import { fakeActions, member, NOW, renderAt, smallCluster, status, syncing, task, tick } from './dashboard-fixtures.ts';
import { sink } from './sink.ts';

test('p pauses the selected task through the action port and shows the result', async () => {
  const actions = fakeActions(async (a) => (a.kind === 'stage' ? `task ${a.task}: ${a.stage}` : ''));
  const r = await renderAt(smallCluster(), 80, 24, { actions });
  await r.press('j', 'p');
  assert.deepEqual(actions.calls, [{ kind: 'stage', task: 'crm', stage: 'Paused' }]);
  await tick();
  assert.match(r.text(), /^task crm: Paused$/m);
  r.unmount();
});

test('an action that fails shows its coded error in the status line', async () => {
  const actions = fakeActions(async () => {
    throw new DmError('TaskNotFound', 'task shop does not exist');
  });
  const r = await renderAt(smallCluster(), 80, 24, { actions });
  await r.press('G', 'r');
  await tick();
  assert.match(r.text(), /Error: \[TSDM-\d+\] task shop does not exist/);
  r.unmount();
});

test('s asks before stopping; only y stops', async () => {
  const actions = fakeActions();
  const r = await renderAt(smallCluster(), 80, 24, { actions });
  await r.press('s');
  assert.match(r.text(), /Stop task audit \(all its sources\)\? y = yes, any other key = no/);
  assert.match(r.lines().at(-1)!, /^y confirm {2}n\/other key cancel/);
  await r.press('n');
  assert.equal(actions.calls.length, 0);
  assert.match(r.text(), /cancelled/);
  await r.press('s', 'y');
  assert.deepEqual(actions.calls, [{ kind: 'stage', task: 'audit', stage: 'Stopped' }]);
  r.unmount();
});

test('x in a task detail shows the failed event and skips only after y', async () => {
  const actions = fakeActions(
    async () => 'skip recorded for audit source mysql-03 at binlog.000003:4512; the subtask retries now',
  );
  const r = await renderAt(smallCluster(), 160, 48, { actions });
  await r.press('enter', 'x');
  assert.match(
    r.text(),
    /Skip the event audit is paused on at mysql-03 binlog\.000003:4512: ALTER TABLE shop\.orders ADD COLUMN note TEXT\?/,
  );
  await r.press('y');
  await tick();
  assert.equal(actions.calls[0]?.kind, 'skip-ddl');
  assert.match(r.text(), /skip recorded for audit source mysql-03 at binlog\.000003:4512/);
  r.unmount();
});

test('/ filters every view by name; Esc clears', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  await r.press('/', 'c', 'r', 'm', 'enter');
  assert.match(r.text(), /filter "crm"/);
  assert.doesNotMatch(r.text(), /audit/);
  await r.press('escape');
  assert.match(r.text(), /audit/);
  r.unmount();
});

test('Tab walks the views; ? shows help; the footer lists the keys that apply', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  assert.match(r.lines().at(-1)!, /p pause {2}r resume {2}s stop/);
  await r.press('tab');
  assert.match(r.lines()[1]!, /\[3 Errors 2\]/);
  await r.press('tab');
  assert.match(r.lines()[1]!, /\[4 Locks 0\]/);
  assert.match(r.lines().at(-1)!, /u unlock/);
  await r.press('tab');
  assert.match(r.lines()[1]!, /\[5 Events 0\]/);
  assert.match(r.text(), /No events in dm_events yet/);
  await r.press('tab');
  assert.match(r.lines()[1]!, /\[6 Relays 2\]/);
  await r.press('tab');
  assert.match(r.lines()[1]!, /\[1 Topo 1\/2 up\]/);
  assert.doesNotMatch(r.lines().at(-1)!, /pause/);
  await r.press('?');
  assert.match(r.text(), /Keys in Topology/);
  await r.press('x');
  assert.doesNotMatch(r.text(), /Any key closes this help/);
  r.unmount();
});

test('a live store: a new error shows up in the Errors view after one throttle window', async () => {
  const store = new ReadModelStore('dm', { throttleMs: 100, tickMs: 60_000 });
  const r = await renderAt(store, 80, 24, { initial: { view: 'errors' } });
  const push = (rec: ReturnType<typeof status>) =>
    store.dispatch({
      type: 'entry',
      bucket: rec.bucket,
      entry: { key: rec.key, value: rec.value, revision: 1, deleted: false },
      at: Date.now(),
    });
  push(member('agent-1'));
  push(task('t1', ['s1']));
  push(status('t1', 's1', 'agent-1', syncing()));
  await tick(200);
  assert.match(r.text(), /No errors reported/);
  const e = {
    code: 'TSDM-30099',
    class: 'downstream' as const,
    retryable: false,
    message: 'injected for the test',
    suggestion: 'none',
    time: new Date().toISOString(),
  };
  push(status('t1', 's1', 'agent-1', { ...syncing(), stage: 'Paused', error: e }));
  await tick(200);
  assert.match(r.text(), /TSDM-30099 │ paused on │ injected for the test/);
  assert.ok(NOW > 0 && Keys.subtaskStatus('t1', 's1') && Bucket.status);
  r.unmount();
});

test('not on a terminal: dmctl says so and prints query-status instead (here: NATS unreachable, exit 3)', async () => {
  const io = { stdin: { isTTY: false } as NodeJS.ReadStream, stdout: { isTTY: true } as NodeJS.WriteStream };
  assert.match(whyNotInteractive(io)!, /stdin is not a terminal/);
  assert.match(
    whyNotInteractive({
      stdin: { isTTY: true, setRawMode: () => undefined } as unknown as NodeJS.ReadStream,
      stdout: { isTTY: false } as NodeJS.WriteStream,
    })!,
    /stdout is not a terminal/,
  );
  const out = sink();
  const err = sink();
  const ctx = new CommandContext(
    { nats: 'nats://127.0.0.1:1', cluster: 'dm', json: false, timeout: 1 },
    out.stream,
    err.stream,
  );
  const code = await runDashboard(ctx, io).catch((e: unknown) => ctx.fail(e));
  await ctx.close();
  assert.match(
    err.text(),
    /stdin is not a terminal \(raw mode is not supported\), so the interactive dashboard cannot run; printing query-status instead/,
  );
  assert.equal(code, 3);
});

test('dmctl dashboard --help, and dmctl --help still prints the help', async () => {
  const out = sink();
  assert.equal(await main(['dashboard', '--help'], out.stream, sink().stream), 0);
  assert.match(out.text(), /\$ dmctl \[dashboard\]/);
  const help = sink();
  assert.equal(await main(['--help'], help.stream, sink().stream), 0);
  assert.match(help.text(), /Usage\n {4}\$ dmctl \[global flags\] \[COMMAND \[args\]\]/);
});

test('keys typed together in one chunk all count', async () => {
  const r = await renderAt(smallCluster(), 80, 24);
  r.stdin.write('jj\r');
  // Ink may handle the chunk later than one tick on a busy machine: wait (bounded, 3 s) for the detail view.
  for (let waited = 0; !/Task shop · source mysql-01/.test(r.text()) && waited < 3000; waited += 20) await tick(20);
  assert.match(r.text(), /Task shop · source mysql-01/);
  r.unmount();
});

test('the Events view: newest first, the severity word first, Enter shows the whole event', async () => {
  const store = new ReadModelStore('dm', { throttleMs: 50, tickMs: 60_000 });
  const r = await renderAt(store, 100, 24, { initial: { view: 'events' } });
  const ev = (kind: EventKind, message: string, extra: Partial<EventInput> = {}) =>
    store.dispatch({ type: 'event', event: makeEvent({ kind, message, ...extra }, 'agent-1'), at: Date.now() });
  ev(EventKind.taskPaused, 'paused', { task: 't1', source: 's1', by: 'ann@box' });
  ev(EventKind.taskError, 'paused by an error in sync', {
    task: 't1',
    source: 's1',
    error: { code: 'TSDM-30003', message: 'DDL failed', suggestion: 'dmctl binlog skip t1' },
  });
  await tick(150);
  const rows = r.lines().filter((l) => /task\.(paused|error)/.test(l));
  assert.equal(rows.length, 2, r.text());
  assert.match(rows[0]!, /error[ │]+\S+[ │]+task\.error[ │]+task=t1 source=s1[ │]+\[TSDM-30003\]/);
  assert.match(rows[1]!, /warn[ │]+\S+[ │]+task\.paused[ │]+.*paused \(by ann@box\)/);
  assert.match(r.lines()[1]!, /\[5 Events 2\]/);
  await r.press('enter');
  assert.match(r.text(), /suggestion +dmctl binlog skip t1/);
  assert.match(r.text(), /agent +agent-1/);
  r.unmount();
});
