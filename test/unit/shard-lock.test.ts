import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ackLock,
  joinLock,
  lockReady,
  lockReleased,
  newLock,
  reachLock,
  unlockLock,
  waitingShards,
} from '../../src/shard/lock.ts';
import { newOptimisticLock, optimisticDdl } from '../../src/shard/optimistic.ts';
import { joinSchemas, joinType, type ShardSchema } from '../../src/shard/schema-join.ts';
import { isDmError } from '../../src/errors/index.ts';

const NOW = '2026-11-24T00:00:00.000Z';
const T = { schema: 'm', table: 't' };

test('pessimistic lock: ready only when every source joined and every shard reached the same DDL', () => {
  let l = newLock('task', T, ['s1', 's2'], NOW);
  l = joinLock(l, 's1', ['d.t1', 'd.t2'], NOW);
  l = reachLock(l, 's1', 'd.t1', ['ALTER TABLE `m`.`t` ADD c INT'], 'b.1:100', NOW);
  assert.equal(l.owner, 's1');
  assert.equal(lockReady(l), false);
  assert.deepEqual(waitingShards(l), ['s1/d.t2', 's2/(not joined yet)']);
  l = reachLock(l, 's1', 'd.t2', ['ALTER  TABLE `m`.`t` add c INT'], 'b.1:200', NOW); // same DDL, other spacing/case
  l = joinLock(l, 's2', ['d.t3'], NOW);
  assert.equal(lockReady(l), false);
  assert.throws(
    () => reachLock(l, 's2', 'd.t3', ['ALTER TABLE `m`.`t` ADD c BIGINT'], 'b.9:1', NOW),
    (e: unknown) =>
      isDmError(e) && e.code === 'TSDM-50005' && /ADD c BIGINT/.test(e.message) && /ADD c INT/.test(e.message),
  );
  l = reachLock(l, 's2', 'd.t3', ['ALTER TABLE `m`.`t` ADD c INT'], 'b.9:1', NOW);
  assert.equal(lockReady(l), true);
  l = { ...l, stage: 'done' };
  l = ackLock(l, 's1', NOW);
  assert.equal(lockReleased(l), false);
  assert.equal(lockReleased(ackLock(l, 's2', NOW)), true);
});

test('pessimistic unlock: force-remove drops waiting shards and sources; skip releases without the DDL', () => {
  let l = joinLock(newLock('task', T, ['s1', 's2'], NOW), 's1', ['d.t1', 'd.t2'], NOW);
  l = reachLock(l, 's1', 'd.t1', ['X'], 'b.1:1', NOW);
  const forced = unlockLock(l, { action: 'exec', forceRemove: ['s1/d.t2', 's2'] }, NOW);
  assert.deepEqual(waitingShards(forced), []);
  assert.equal(lockReady(forced), true);
  assert.equal(forced.owner, 's1');
  const skipped = unlockLock(l, { action: 'skip' }, NOW);
  assert.equal(skipped.stage, 'done');
  // a table dropped upstream before it reached the DDL leaves the lock when its source joins again
  assert.deepEqual(Object.keys(joinLock(l, 's1', ['d.t1'], NOW).shards), ['s1/d.t1']);
});

test('optimistic join: widest type wins, incompatible types conflict', () => {
  assert.equal(joinType('int(11)', 'bigint(20)'), 'bigint');
  assert.equal(joinType('varchar(40)', 'varchar(100)'), 'varchar(100)');
  assert.equal(joinType('decimal(10,2)', 'decimal(12,4)'), 'decimal(12,4)');
  assert.equal(joinType('text', 'mediumtext'), 'mediumtext');
  assert.equal(joinType('int(11)', 'varchar(20)'), undefined);
  assert.equal(joinType('int(11) unsigned', 'int(11)'), undefined);
  assert.equal(joinType('varchar(10)', 'char(10)'), undefined);
});

const schema = (cols: [string, string][], indexes: string[] = []): ShardSchema => ({
  columns: cols.map(([name, type]) => ({ name, type, nullable: true })),
  indexes,
});

test('optimistic DDL: applied when the join changes (first add, last drop, wider modify), skipped otherwise', () => {
  const base = schema([
    ['id', 'bigint(20)'],
    ['name', 'varchar(40)'],
  ]);
  let rec = newOptimisticLock('task', T, NOW);
  rec.shards = {
    's1/d.t1': { source: 's1', table: 'd.t1', schema: base },
    's2/d.t1': { source: 's2', table: 'd.t1', schema: base },
  };
  const withC = schema([
    ['id', 'bigint(20)'],
    ['name', 'varchar(40)'],
    ['c', 'int(11)'],
  ]);
  let d = optimisticDdl(rec, 's1/d.t1', 's1', 'd.t1', withC, ['ADD c'], 'b.1:1', NOW);
  assert.ok(!('error' in d) && d.apply);
  rec = (d as { record: typeof rec }).record;
  d = optimisticDdl(rec, 's2/d.t1', 's2', 'd.t1', withC, ['ADD c'], 'b.2:1', NOW);
  assert.ok(!('error' in d) && !d.apply, 'second shard adding the same column changes nothing');
  rec = (d as { record: typeof rec }).record;
  // A DDL that leaves the shard's structure as it was (a partition, a table option) runs as it is (DM: prevTable ==
  // postTable), on the first shard that has it, and on each other: shardddl2 ADD/DROP PARTITION.
  d = optimisticDdl(
    rec,
    's1/d.t1',
    's1',
    'd.t1',
    withC,
    ['ADD PARTITION (PARTITION p1 VALUES LESS THAN (10))'],
    'b.1:9',
    NOW,
  );
  assert.ok(!('error' in d) && d.apply, 'a partition DDL runs downstream');
  rec = (d as { record: typeof rec }).record;
  d = optimisticDdl(rec, 's1/d.t1', 's1', 'd.t1', base, ['DROP c'], 'b.1:2', NOW);
  assert.ok(!('error' in d) && !d.apply, 'first drop keeps the column for the other shard');
  rec = (d as { record: typeof rec }).record;
  d = optimisticDdl(rec, 's2/d.t1', 's2', 'd.t1', base, ['DROP c'], 'b.2:2', NOW);
  assert.ok(!('error' in d) && d.apply, 'last drop applies');
  rec = (d as { record: typeof rec }).record;
  const bad = optimisticDdl(
    rec,
    's2/d.t1',
    's2',
    'd.t1',
    schema([
      ['id', 'bigint(20)'],
      ['name', 'int(11)'],
    ]),
    ['MODIFY name INT'],
    'b.2:3',
    NOW,
  );
  assert.ok('error' in bad && bad.error.code === 'TSDM-50008' && /name/.test(bad.error.message));
  assert.ok('conflictRecord' in bad);
  const resolved = optimisticDdl(
    { ...bad.conflictRecord, resolution: 'exec' },
    's2/d.t1',
    's2',
    'd.t1',
    schema([
      ['id', 'bigint(20)'],
      ['name', 'int(11)'],
    ]),
    ['MODIFY name INT'],
    'b.2:3',
    NOW,
  );
  assert.ok(
    !('error' in resolved) && resolved.apply && /MODIFY COLUMN `name` int\(11\) NULL/.test(resolved.statements![0]!),
  );
  const j = joinSchemas(resolved.record.shards, resolved.record.overrides);
  assert.ok('schema' in j && j.schema.columns.find((c) => c.name === 'name')?.type === 'int(11)');
});
