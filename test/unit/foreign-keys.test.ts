import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderedStatements } from '../../agent/sync/foreign-keys.ts';
import type { RoutedChange } from '../../agent/sync/dispatcher.ts';
import type { Value } from '../../agent/db/mysql.ts';
import type { TableInfo } from '../../agent/db/schema.ts';

const col = (name: string) => ({
  name,
  dataType: 'int',
  columnType: 'int',
  nullable: true,
  generated: false,
  charset: null,
  collation: null,
  comment: '',
  binary: false,
});
const info = (table: string, key: string[]): TableInfo => ({
  schema: 'd',
  table,
  columns: [col('id'), col('v')],
  primaryKey: key,
  uniqueKeys: [],
});
const rc = (
  table: string,
  op: 'insert' | 'update' | 'delete',
  before?: Record<string, Value>,
  after?: Record<string, Value>,
  key = ['id'],
): RoutedChange => ({
  change: {
    op,
    schema: 'd',
    table,
    info: info(table, key),
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
  },
  target: { schema: 'd', table },
  info: info(table, key),
  key,
  txnEnd: { name: 'b.1', pos: 1 },
});

test('a barrier transaction runs in binlog order; only the cascading statements run with checks on', () => {
  const changes = [
    rc('child', 'insert', undefined, { id: '1', v: '5' }),
    rc('parent', 'delete', { id: '5', v: 'x' }),
    rc('parent', 'update', { id: '6', v: 'a' }, { id: '7', v: 'a' }),
    rc('other', 'update', { id: '1', v: 'a' }, { id: '2', v: 'b' }),
  ];
  const out = orderedStatements(changes, (c) => c.target.table === 'parent');
  assert.deepEqual(
    out.map((s) => [s.sql.split(' ').slice(0, 3).join(' '), s.checks]),
    [
      ['REPLACE INTO `d`.`child`', false],
      ['DELETE FROM `d`.`parent`', true],
      // The cascading key change: a row already at the new key (a replay over rows of two load snapshots) goes first,
      // without cascading; then a real UPDATE by the old key, then the new row is made sure of (checks off).
      ['DELETE FROM `d`.`parent`', false],
      ['UPDATE `d`.`parent` SET', true],
      ['REPLACE INTO `d`.`parent`', false],
      // A key change that cascades nothing: delete the old key, replace the new row, checks off.
      ['DELETE FROM `d`.`other`', false],
      ['REPLACE INTO `d`.`other`', false],
    ],
  );
  assert.match(out[2]!.sql, /WHERE `id` IN \('7'\)$/);
  assert.match(out[3]!.sql, /SET `id` = '7', `v` = 'a' WHERE `id` <=> '6'$/);
});

test('keyless tables: insert, full-row update and delete, in order', () => {
  const out = orderedStatements(
    [rc('n', 'insert', undefined, { id: '1', v: '1' }, []), rc('n', 'delete', { id: '1', v: '1' }, undefined, [])],
    () => true,
  );
  assert.deepEqual(
    out.map((s) => [s.sql.split(' ')[0], s.checks]),
    [
      ['INSERT', false],
      ['DELETE', true],
    ],
  );
  assert.match(out[1]!.sql, /LIMIT 1$/);
});

test('a change from an upstream session without foreign-key checks never cascades', async () => {
  const { CascadeRules } = await import('../../agent/sync/foreign-keys.ts');
  const del = rc('parent', 'delete', { id: '5', v: 'x' });
  assert.equal(CascadeRules.none.cascades(del), false);
  const rules = CascadeRules.fromRows([
    { s: 'd', n: 'fk', u: 'RESTRICT', d: 'CASCADE', ps: 'd', pt: 'parent', pc: 'id' },
  ]);
  assert.equal(rules.cascades(del), true);
  assert.equal(rules.cascades({ ...del, change: { ...del.change, noFkChecks: true } }), false);
});

test('a row with BIND_BYTES of binary values: its barrier statements carry the values as arguments', async () => {
  const { BIND_BYTES } = await import('../../agent/sync/sqlgen.ts');
  const big = Buffer.alloc(BIND_BYTES, 7);
  const out = orderedStatements(
    [
      rc('parent', 'update', { id: '6', v: big }, { id: '7', v: big }),
      rc('n', 'insert', undefined, { id: '1', v: big }, []),
    ],
    (c) => c.target.table === 'parent',
  );
  assert.deepEqual(
    out.map((s) => [s.sql, s.params?.length ?? 0, s.checks]),
    [
      ["DELETE FROM `d`.`parent` WHERE `id` IN ('7')", 0, false],
      ['UPDATE `d`.`parent` SET `id` = ?, `v` = ? WHERE `id` <=> ?', 3, true],
      ['REPLACE INTO `d`.`parent` (`id`,`v`) VALUES (?,?)', 2, false],
      ['INSERT INTO `d`.`n` (`id`,`v`) VALUES (?,?)', 2, false],
    ],
  );
  assert.deepEqual(out[1]!.params, ['7', big, '6']);
});
