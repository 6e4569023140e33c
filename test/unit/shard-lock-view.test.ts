/**
 * One view of a shard-DDL lock (src/shard/lock-view.ts) for query-status, shard-ddl-lock and the dashboard: a dm_locks
 * value is read as a lock record only when it has what the views rely on, and both modes render the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newLock } from '../../src/shard/lock.ts';
import { asLockRecord, lockLines, lockView } from '../../src/shard/lock-view.ts';

const T0 = '2026-01-01T00:00:00.000Z';

test('a pessimistic lock: reached and waiting shards, sources not joined yet, age', () => {
  const rec = {
    ...newLock('t', { schema: 'm', table: 'orders' }, ['s1', 's2'], T0),
    joined: ['s1'],
    owner: 's1',
    ddls: ['ALTER TABLE `m`.`orders` ADD c INT'],
    shards: {
      's1/d.o1': { source: 's1', table: 'd.o1', reached: true },
      's1/d.o2': { source: 's1', table: 'd.o2', reached: false },
    },
  };
  const v = lockView(asLockRecord(rec)!);
  assert.deepEqual(
    [v.id, v.target, v.mode, v.reached, v.waiting],
    ['t-`m`.`orders`', 'm.orders', 'pessimistic', ['s1/d.o1'], ['s1/d.o2', 's2/(not joined yet)']],
  );
  assert.deepEqual(lockLines(v, Date.parse(T0) + 90_000), [
    't-`m`.`orders`  pessimistic  stage waiting  owner s1  age 90s',
    '  DDL      ALTER TABLE `m`.`orders` ADD c INT',
    '  reached  s1/d.o1',
    '  waiting  s1/d.o2, s2/(not joined yet)',
  ]);
});

test('an optimistic lock with a conflict and its unlock', () => {
  const rec = {
    task: 't',
    targetSchema: 'm',
    targetTable: 'x',
    mode: 'optimistic',
    shards: { 's2/d.b': { source: 's2' }, 's1/d.a': { source: 's1' } },
    overrides: {},
    conflict: {
      shard: 's1/d.a',
      ddls: ['A'],
      position: 'p',
      column: 'c',
      withShard: 's2/d.b',
      withDdls: ['B'],
      reason: 'c: INT vs TEXT',
    },
    resolution: 'skip',
    ddls: [],
    owner: '',
    stage: 'waiting',
    createdAt: T0,
    updatedAt: T0,
  };
  const v = lockView(asLockRecord(rec)!);
  assert.deepEqual([v.reached, v.waiting], [['s1/d.a', 's2/d.b'], []]);
  assert.match(lockLines(v, Date.parse(T0))[0]!, /^t-`m`\.`x`\s+optimistic\s+shards 2\s+CONFLICT \(unlock skip\)/);
  assert.deepEqual(lockLines(v, Date.parse(T0)).slice(1), ['  conflict c: INT vs TEXT', '  s1/d.a: A', '  s2/d.b: B']);
});

test('values that are not lock records are not read as one', () => {
  for (const v of [null, 'x', {}, { task: 't', targetSchema: 'm', targetTable: 'x', mode: 'merge', shards: {} }]) {
    assert.equal(asLockRecord(v), undefined);
  }
  const noSources = { ...newLock('t', { schema: 'm', table: 'x' }, [], T0), sources: undefined };
  assert.equal(asLockRecord(noSources), undefined);
  const boolShards = { ...newLock('t', { schema: 'm', table: 'x' }, [], T0), shards: { a: true } };
  assert.equal(asLockRecord(boolShards), undefined);
});
