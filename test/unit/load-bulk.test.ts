import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planItems } from '../../agent/load/bulk.ts';
import type { ChunkRow } from '../../agent/checkpoint-load.ts';

const chunk = (table: string, i: number, o: Partial<ChunkRow> = {}): ChunkRow => ({
  chunkId: `db.${table}#${i}`,
  schema: 'db',
  table,
  targetSchema: 'db',
  targetTable: table,
  keyColumn: 'id',
  lo: null,
  hi: null,
  estRows: 100,
  done: false,
  rows: 0,
  ...o,
});
const shape = (items: { chunks: ChunkRow[]; bulk: boolean }[]) =>
  items.map((i) => `${i.bulk ? 'table' : 'chunk'} ${i.chunks.map((c) => c.chunkId).join(',')}`);

test('load items: untouched indexed tables whole (largest first), the rest chunk by chunk in plan order', () => {
  const plan = [
    chunk('a', 0),
    chunk('a', 1),
    chunk('big', 0),
    chunk('big', 1),
    chunk('big', 2),
    chunk('nokeys', 0),
    chunk('started', 0, { done: true, rows: 100 }),
    chunk('started', 1),
    // Two upstream tables merged into one target: never loaded whole.
    chunk('s1', 0, { targetTable: 'merged' }),
    chunk('s2', 0, { targetTable: 'merged' }),
  ];
  const pending = plan.filter((c) => !c.done);
  const indexed = new Set(['db.a', 'db.big', 'db.started', 'db.merged']);
  assert.deepEqual(shape(planItems(plan, pending, true, false, indexed)), [
    'table db.big#0,db.big#1,db.big#2',
    'table db.a#0,db.a#1',
    'chunk db.nokeys#0',
    'chunk db.started#1',
    'chunk db.s1#0',
    'chunk db.s2#0',
  ]);
  // Off (LOAD DATA refused or TSDM_LOAD_BULK=0), or a shard merge: every chunk on its own.
  for (const [enabled, shard] of [
    [false, false],
    [true, true],
  ] as const)
    assert.deepEqual(
      shape(planItems(plan, pending, enabled, shard, indexed)),
      pending.map((c) => `chunk ${c.chunkId}`),
    );
});
