/**
 * Invariant protected (agent/verify/row-diff.ts): rows are matched by the canonical form of their key, so two
 * renderings of one key are one row ('1.50' = '1.5' for a DECIMAL key) while 'a' and 'A' are two; a changed row names
 * exactly the columns that differ; a table without a key is a multiset (a duplicate row counts); the upstream can be
 * matched in batches (the paged last chunk) with the same result as all at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnInfo, TableInfo } from '../../agent/db/schema.ts';
import { diffRows, KeyedMatch, toDifference } from '../../agent/verify/row-diff.ts';
import { shapeOf, type TableShape } from '../../agent/verify/table-shape.ts';

const col = (name: string, dataType: string, nullable = true): ColumnInfo => ({
  name,
  dataType,
  columnType: dataType,
  nullable,
  generated: false,
  charset: null,
  collation: null,
  comment: '',
  binary: dataType === 'varbinary',
});

function shape(cols: ColumnInfo[], pk: string[]): TableShape {
  const info: TableInfo = { schema: 'd', table: 't', columns: cols, primaryKey: pk, uniqueKeys: [] };
  const s = shapeOf({ target: info, shards: [{ source: 's', schema: 'd', table: 't', constants: {} }] }, info, [info]);
  if ('reason' in s) throw new Error(s.reason);
  return s;
}

const S = shape([col('k', 'decimal', false), col('v', 'varchar'), col('b', 'varbinary')], ['k']);

test('keyed: canonical keys, exact values, the differing columns only', () => {
  const up = [
    ['1.50', 'a', Buffer.from([0])],
    ['2', 'x', null],
    ['3', 'same', Buffer.alloc(0)],
  ];
  const down = [
    ['1.5', 'A', Buffer.from([0])],
    ['3.000', 'same', Buffer.alloc(0)],
    ['4', '', null],
  ];
  const d = diffRows(S, up, down);
  assert.deepEqual(
    d.map((x) => `${x.kind}:${x.columns.map((i) => S.columns[i]!.name).join(',')}`),
    ['changed:v', 'missing:k,v,b', 'extra:k,v,b'],
  );
  assert.deepEqual(toDifference(S, d[0]!), {
    key: { k: '1.5' },
    kind: 'changed',
    columns: [{ name: 'v', upstream: 'a', downstream: 'A' }],
  });
  assert.deepEqual(toDifference(S, d[2]!).key, { k: '4' });
});

test('the upstream matched in batches gives what one batch gives; a key seen twice is compared twice', () => {
  const up = Array.from({ length: 10 }, (_v, i) => [String(i), `v${i}`, null]);
  const down = up.filter((r) => r[0] !== '3').map((r) => (r[0] === '5' ? [r[0], 'changed', null] : r));
  down.push(['10', 'extra', null]);
  const m = new KeyedMatch(S);
  m.addDown(down);
  const batched = [...m.matchUp(up.slice(0, 4)), ...m.matchUp(up.slice(4)), ...m.rest()];
  assert.deepEqual(batched, diffRows(S, up, down));
  const twice = new KeyedMatch(S);
  twice.addDown([['1', 'a', null]]);
  assert.deepEqual(
    [...twice.matchUp([['1', 'a', null]]), ...twice.matchUp([['1', 'b', null]]), ...twice.rest()].map((x) => x.kind),
    ['changed'],
  );
});

test('without a key: multisets of whole rows', () => {
  const K = shape([col('a', 'int'), col('b', 'varchar')], []);
  const d = diffRows(
    K,
    [
      ['1', 'x'],
      ['1', 'x'],
      ['2', null],
    ],
    [
      ['1', 'x'],
      ['2', ''],
      ['2', ''],
    ],
  );
  assert.deepEqual(d.map((x) => `${x.kind}:${(x.up ?? x.down)!.join('/')}`).sort(), [
    'extra:2/',
    'extra:2/',
    'missing:1/x',
    'missing:2/',
  ]);
});

test('a FLOAT is read and checksummed as a DOUBLE (its exact value), a DOUBLE as itself', async () => {
  const { rowsSql, rowCrc } = await import('../../agent/verify/compare-sql.ts');
  const F = shape([col('k', 'int', false), col('f', 'float'), col('d', 'double')], ['k']);
  const t = { schema: 'd', table: 't' };
  // MariaDB prints a FLOAT rounded to 6 digits: 1.33333 for two different stored values would compare equal.
  assert.match(rowsSql(t, F, -1, ''), /\(`f` \+ 0e0\) AS c1,`d` AS c2 /);
  assert.match(rowsSql(t, F, 0, ''), /\(`f` \+ 0e0\) AS c1/);
  assert.match(rowCrc(F, -1), /\(`f` \+ 0e0\)/);
  assert.doesNotMatch(rowCrc(F, -1), /`d` \+ 0e0/);
});
