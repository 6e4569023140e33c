import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metaTableName } from '../../agent/checkpoint.ts';

test('checkpoint table names stay within 64 characters and distinct for long task names', () => {
  assert.equal(metaTableName('shop', 'syncer_checkpoint'), 'shop_syncer_checkpoint');
  const a = metaTableName('a-very-long-task-name-that-migrates-the-whole-orders-database-now', 'syncer_checkpoint');
  const b = metaTableName('a-very-long-task-name-that-migrates-the-whole-orders-database-too', 'syncer_checkpoint');
  assert.ok(a.length <= 64 && b.length <= 64, `${a} ${b}`);
  assert.notEqual(a, b);
  assert.ok(a.endsWith('_syncer_checkpoint'));
});
