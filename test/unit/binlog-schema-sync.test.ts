/**
 * `dmctl binlog-schema update --sync` in shard-mode optimistic (agent/schema-op.ts withShardSchema, DM's --sync): the
 * table's shard-DDL lock takes the updated structure as that shard's, so the next DDL of any shard is joined against
 * it; nothing changes for a pessimistic lock or a shard the lock does not know.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withShardSchema } from '../../agent/schema-op.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { tableFromCreate } from '../../src/schema/show-create.ts';
import type { ShardLockRecord } from '../../src/shard/lock.ts';
import { newOptimisticLock, type OptimisticLockRecord } from '../../src/shard/optimistic.ts';
import { SHARD_FORMAT } from '../../src/shard/schema-join.ts';

const NOW = '2026-01-01T00:00:00.000Z';
const tracker = new SchemaTracker({ serverCharset: 'latin1', serverCollation: 'latin1_swedish_ci' });
tracker.setSchema({ name: 'd', charset: 'latin1', collation: 'latin1_swedish_ci' });
const t = tableFromCreate(tracker, 'd', 't', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, c VARCHAR(10))');

test('the optimistic lock records the new structure as the shard’s; others are left alone', () => {
  const rec = newOptimisticLock('task', { schema: 'd', table: 't' }, NOW);
  const old = { columns: [{ name: 'id', type: 'int(11)', nullable: false }], indexes: [] };
  rec.shards['s1/d.t'] = { source: 's1', table: 'd.t', schema: old };
  rec.shards['s2/d.t'] = { source: 's2', table: 'd.t', schema: old };
  const cur = rec as unknown as ShardLockRecord;
  const next = withShardSchema(cur, 's1/d.t', t, 'later') as unknown as OptimisticLockRecord;
  assert.deepEqual(
    next.shards['s1/d.t']!.schema.columns.map((c) => [c.name, c.type]),
    [
      ['id', 'int(11)'],
      ['a', 'int(11)'],
      ['c', 'varchar(10)'],
    ],
  );
  assert.equal(next.shards['s1/d.t']!.v, SHARD_FORMAT);
  assert.deepEqual(next.shards['s2/d.t'], rec.shards['s2/d.t']);
  assert.equal(next.updatedAt, 'later');
  assert.equal(withShardSchema(cur, 's3/d.t', t, NOW), undefined, 'a shard the lock does not know');
  assert.equal(withShardSchema(undefined, 's1/d.t', t, NOW), undefined, 'no lock');
  const pessimistic = { ...rec, mode: 'pessimistic' } as unknown as ShardLockRecord;
  assert.equal(withShardSchema(pessimistic, 's1/d.t', t, NOW), undefined, 'a pessimistic lock');
});
