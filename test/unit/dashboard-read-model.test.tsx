/** The dashboard's read model: the pure reducer, the selectors, and the store's throttle. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bucket, Keys, type Entry } from '../../src/coord/index.ts';
import { initialState, liveness, MAX_ERRORS, reduce, type DashboardState } from '../../tui/dashboard/read-model.ts';
import { ReadModelStore, WATCHED, type ReadSource } from '../../tui/dashboard/read-model-store.ts';
import {
  agentRows,
  counts,
  errorRows,
  lockRows,
  lockRow,
  taskRows,
  unboundSources,
} from '../../tui/dashboard/selectors.ts';
import {
  err,
  loading,
  member,
  NOW,
  replay,
  status,
  syncing,
  task,
  bound,
  leader,
  smallCluster,
} from './dashboard-fixtures.ts';

const entry = (key: string, value: unknown, revision = 1): Entry<unknown> => ({
  key,
  value,
  revision,
  deleted: value === undefined,
});

test('members: a new revision is a heartbeat; the same revision again (a re-opened watch) is not', () => {
  let s = initialState('dm', '', NOW);
  const m = member('a1').value;
  s = reduce(s, { type: 'entry', bucket: Bucket.members, entry: entry('a1', m, 5), at: NOW });
  s = reduce(s, { type: 'entry', bucket: Bucket.members, entry: entry('a1', m, 5), at: NOW + 8000 });
  assert.equal(s.members.a1!.lastSeenAt, NOW);
  s = reduce(s, { type: 'entry', bucket: Bucket.members, entry: entry('a1', m, 6), at: NOW + 9000 });
  assert.equal(s.members.a1!.lastSeenAt, NOW + 9000);
});

test('liveness: alive, late after two missed heartbeats, gone after the lease, left on delete', () => {
  let s = reduce(initialState('dm', '', NOW), {
    type: 'entry',
    bucket: Bucket.members,
    entry: entry('a1', member('a1').value),
    at: NOW,
  });
  assert.equal(liveness(s.members.a1, NOW + 2000), 'alive');
  assert.equal(liveness(s.members.a1, NOW + 6000), 'late');
  assert.equal(liveness(s.members.a1, NOW + 10_000), 'gone');
  s = reduce(s, {
    type: 'entry',
    bucket: Bucket.members,
    entry: { key: 'a1', value: undefined, revision: 2, deleted: true },
    at: NOW + 1000,
  });
  assert.equal(liveness(s.members.a1, NOW + 1000), 'left');
  assert.equal(liveness(undefined, NOW), 'gone');
});

test('tasks: the file text (which may hold passwords) is not kept', () => {
  const s = replay([task('t1', ['s1'])]);
  assert.equal((s.tasks.t1 as Record<string, unknown>).yaml, undefined);
  assert.deepEqual(s.tasks.t1!.sources, ['s1']);
  const gone = reduce(s, {
    type: 'entry',
    bucket: Bucket.tasks,
    entry: { key: 't1', value: undefined, revision: 9, deleted: true },
    at: NOW,
  });
  assert.deepEqual(gone.tasks, {});
});

test('errors: current and recent errors enter the log once, newest first; cleared ones stay, marked', () => {
  const e1 = err('TSDM-1', 'first', { time: new Date(NOW - 9000).toISOString(), retryable: true });
  const e2 = err('TSDM-2', 'second', { time: new Date(NOW - 1000).toISOString() });
  let s = replay([
    task('t', ['s']),
    status('t', 's', 'a', { recentErrors: [e1] }, 5000),
    status('t', 's', 'a', { recentErrors: [e1], error: e2, stage: 'Paused' }, 1000),
  ]);
  let rows = errorRows(s);
  assert.deepEqual(
    rows.map((r) => [r.record.code, r.pausing, r.active]),
    [
      ['TSDM-2', true, true],
      ['TSDM-1', false, true],
    ],
  );
  // The agent clears the error (resume): the log keeps it as cleared.
  s = reduce(s, {
    type: 'entry',
    bucket: Bucket.status,
    entry: entry(Keys.subtaskStatus('t', 's'), status('t', 's', 'a', syncing()).value, 99),
    at: NOW,
  });
  rows = errorRows(s);
  assert.deepEqual(
    rows.map((r) => [r.record.code, r.pausing, r.active]),
    [
      ['TSDM-2', false, false],
      ['TSDM-1', false, false],
    ],
  );
  assert.equal(counts(s).errorsActive, 0);
  assert.equal(counts(s).errors, 2);
});

test('errors: the log is bounded, oldest dropped', () => {
  let s = initialState('dm', '', NOW);
  for (let i = 0; i < MAX_ERRORS + 20; i++) {
    const e = err('TSDM-9', `e${i}`, { time: new Date(NOW - 100_000 + i).toISOString() });
    s = reduce(s, {
      type: 'entry',
      bucket: Bucket.status,
      entry: entry(Keys.subtaskStatus('t', 's'), status('t', 's', 'a', { recentErrors: [e] }).value, i + 1),
      at: NOW,
    });
  }
  const rows = errorRows(s);
  assert.equal(rows.length, MAX_ERRORS);
  assert.equal(rows[0]!.record.message, `e${MAX_ERRORS + 19}`);
  assert.ok(!rows.some((r) => r.record.message === 'e0'));
});

test('load rate and ETA come from successive reports', () => {
  const s = replay([
    member('a'),
    task('t', ['s']),
    status('t', 's', 'a', loading(100_000), 4000),
    status('t', 's', 'a', loading(300_000), 2000),
  ]);
  const [r] = taskRows(s);
  assert.equal(Math.round(r!.rowsPerSecond!), 100_000);
  assert.equal(Math.round(r!.etaSeconds!), 7);
  // One report only: no rate, no ETA (not a misleading 0).
  const [once] = taskRows(replay([member('a'), task('t', ['s']), status('t', 's', 'a', loading(100_000))]));
  assert.equal(once!.rowsPerSecond, undefined);
  assert.equal(once!.etaSeconds, undefined);
});

test('task rows: a source without a status yet is New; per-source desired stages; filter by task, source or agent', () => {
  const s = replay([
    task('t', ['s1', 's2'], 'Running', { sourceStages: { s2: 'Paused' } }),
    bound('s2', 'a2'),
    status('t', 's1', 'a1', syncing()),
  ]);
  const rows = taskRows(s);
  assert.deepEqual(
    rows.map((r) => [r.source, r.stage, r.desired, r.agent]),
    [
      ['s1', 'Running', 'Running', 'a1'],
      ['s2', 'New', 'Paused', 'a2'],
    ],
  );
  assert.equal(taskRows(s, 'A2').length, 1);
  assert.equal(taskRows(s, 'zzz').length, 0);
  assert.deepEqual(unboundSources(s), ['s1']);
});

test('agents: bound sources, leader, agents known only from a binding show as gone', () => {
  const s = replay([member('a1'), leader('a1'), bound('s1', 'a1'), bound('s2', 'ghost')]);
  const rows = agentRows(s);
  assert.deepEqual(
    rows.map((a) => [a.name, a.leader, a.state, a.sources.join(',')]),
    [
      ['a1', true, 'alive', 's1'],
      ['ghost', false, 'gone', 's2'],
    ],
  );
});

test('locks: read from the key and whatever fields the record has', () => {
  const l = lockRow(Keys.lock('my task', 'db', 'tbl'), {
    owner: 'src-1',
    ddls: ['ALTER TABLE x ADD c INT'],
    shards: { a: true, b: { reached: false }, c: { synced: true } },
    createdAt: new Date(NOW).toISOString(),
  });
  assert.equal(l.task, 'my task');
  assert.equal(l.target, 'db.tbl');
  assert.deepEqual([l.reached, l.waiting], [['a', 'c'], ['b']]);
  assert.equal(l.createdAt, NOW);
  const bare = lockRow('t.s.x', null);
  assert.deepEqual([bare.task, bare.target, bare.ddls, bare.owner], ['t', 's.x', [], '']);
  const s = reduce(initialState('dm'), {
    type: 'entry',
    bucket: Bucket.locks,
    entry: entry('t.s.x', { ddls: [] }),
    at: NOW,
  });
  assert.equal(lockRows(s).length, 1);
  assert.equal(
    lockRows(
      reduce(s, {
        type: 'entry',
        bucket: Bucket.locks,
        entry: { key: 't.s.x', value: undefined, revision: 2, deleted: true },
        at: NOW,
      }),
    ).length,
    0,
  );
});

test('counts for the header', () => {
  const c = counts(smallCluster());
  assert.deepEqual(
    [c.agents, c.agentsAlive, c.tasks, c.subtasks, c.byStage.Paused, c.byStage.Running, c.errorsActive],
    [2, 1, 3, 4, 2, 2, 2],
  );
});

/** A source whose watches the test drives by hand. */
function handSource(): ReadSource & { push(b: Bucket, e: Entry<unknown>): void; watched: Bucket[]; stopped: number } {
  const cbs = new Map<Bucket, (e: Entry<unknown>) => void>();
  const src = {
    watched: [] as Bucket[],
    stopped: 0,
    watch<T>(b: Bucket, cb: (e: Entry<T>) => void) {
      src.watched.push(b);
      cbs.set(b, cb as (e: Entry<unknown>) => void);
      return () => {
        src.stopped++;
      };
    },
    push(b: Bucket, e: Entry<unknown>) {
      cbs.get(b)!(e);
    },
  };
  return src;
}

test('store: watches every bucket, publishes at most once per throttle window, and stops its watches', async () => {
  const store = new ReadModelStore('dm', { throttleMs: 200, tickMs: 60_000 });
  const src = handSource();
  const stop = store.connect(src);
  assert.deepEqual(src.watched, WATCHED);
  const seen: DashboardState[] = [];
  store.subscribe(() => seen.push(store.getSnapshot()));
  await new Promise((r) => setTimeout(r, 250));
  seen.length = 0;
  const t0 = Date.now();
  for (let i = 0; i < 300; i++)
    src.push(
      Bucket.status,
      entry(Keys.subtaskStatus(`t${i % 30}`, 's'), status(`t${i % 30}`, 's', 'a', syncing()).value, i + 1),
    );
  await new Promise((r) => setTimeout(r, 450));
  assert.ok(
    seen.length >= 1 && seen.length <= 3,
    `300 updates in one burst give ${seen.length} renders (at most one per 200 ms)`,
  );
  assert.equal(Object.keys(store.getSnapshot().statuses).length, 30, 'the last snapshot holds every update');
  assert.ok(Date.now() - t0 < 1000);
  stop();
  assert.equal(src.stopped, WATCHED.length);
});

test('store: the snapshot does not change between publishes (React sees a stable value)', () => {
  const store = new ReadModelStore('dm', { throttleMs: 10_000 });
  const before = store.getSnapshot();
  store.dispatch({ type: 'tick', at: NOW });
  store.dispatch({ type: 'tick', at: NOW + 1 });
  assert.equal(store.getSnapshot(), before);
});

test('store: once every bucket has delivered its current values, ready resolves and that state is published at once', async () => {
  const store = new ReadModelStore('dm', { throttleMs: 60_000, tickMs: 60_000 });
  const inits: Array<() => void> = [];
  const cbs = new Map<Bucket, (e: Entry<unknown>) => void>();
  const stop = store.connect({
    watch<T>(b: Bucket, cb: (e: Entry<T>) => void, onInitialized?: () => void) {
      cbs.set(b, cb as (e: Entry<unknown>) => void);
      if (onInitialized) inits.push(onInitialized);
      return () => undefined;
    },
  });
  assert.equal(inits.length, WATCHED.length);
  let ready = false;
  void store.ready.then(() => {
    ready = true;
  });
  // The first dispatch published the empty state; the throttle (60 s) holds every later update back...
  await new Promise((r) => setTimeout(r, 20));
  cbs.get(Bucket.status)!(entry(Keys.subtaskStatus('t1', 's'), status('t1', 's', 'a', syncing()).value, 1));
  for (const init of inits.slice(0, -1)) init();
  inits[0]!(); // a re-opened watch initializing again does not count twice
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ready, false, 'one bucket still unread');
  assert.equal(Object.keys(store.getSnapshot().statuses).length, 0);
  // ... until the last bucket is read: then the whole cluster is published without waiting for the throttle.
  inits.at(-1)!();
  await store.ready;
  assert.equal(Object.keys(store.getSnapshot().statuses).length, 1);
  stop();
});
