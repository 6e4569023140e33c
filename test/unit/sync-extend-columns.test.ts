/**
 * Invariant protected (agent/sync/extend-columns.ts with src/route/router.ts): a row of an upstream table whose route
 * has extract-table/extract-schema/extract-source carries each extracted value in its target column, in both row
 * images, and every key of the row (primary and unique) includes those columns, so that rows of several upstream
 * tables merged into one downstream table are told apart by UPDATE/DELETE, by compaction and by causality. The
 * values are DM's: the concatenated capture groups of the first match (unanchored), '' when nothing matched; the
 * deciding rule is the first table-level rule, else the first schema-level one. The original change is not mutated.
 * (DM's own cases TestFetchExtendColumn and extend_column are in extend-columns.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extendRouted, withExtendedColumns } from '../../agent/sync/extend-columns.ts';
import { causalityKeys, type RoutedChange } from '../../agent/sync/dispatcher.ts';
import { writerStatements } from '../../agent/sync/writer-sql.ts';
import { Router } from '../../src/route/router.ts';
import type { RouteRule } from '../../src/config/types.ts';
import { col, del, ins, table, upd } from './sync-fixtures.ts';

const rule = (r: Partial<RouteRule> & Pick<RouteRule, 'schemaPattern' | 'targetSchema'>): RouteRule => ({
  name: '',
  tablePattern: '',
  targetTable: '',
  ...r,
});

const EXT = { columns: ['c_table', 'c_source'], values: ['01', 'replica1'] };
const T = table('t_01', [col('id', { nullable: false }), col('u', { nullable: false }), col('v')], ['id'], [['u']]);

test('extract rules: capture groups concatenated, unanchored, no match or no group gives an empty value', () => {
  const r = new Router(
    [
      rule({
        schemaPattern: 'shard_*',
        tablePattern: 't_*',
        targetSchema: 'm',
        targetTable: 't',
        extractTable: { regexp: 't_(\\d+)(?:_(x))?', targetColumn: 'c_table' },
        extractSchema: { regexp: 'shard', targetColumn: 'c_schema' },
        extractSource: { regexp: '-(\\w+)-(\\d+)$', targetColumn: 'c_source' },
      }),
      rule({
        schemaPattern: 'shard_*',
        targetSchema: 'm',
        extractSchema: { regexp: 'shard_(.*)', targetColumn: 'c_schema' },
      }),
    ],
    false,
  );
  // Table rule decides: table and source extracted, the schema regexp has no group, so ''.
  assert.deepEqual(r.extendColumns('shard_a', 't_07', 'mysql-replica-12'), {
    columns: ['c_table', 'c_schema', 'c_source'],
    values: ['07', '', 'replica12'],
  });
  // An optional group that took part adds its text; unanchored: the match may start inside the name.
  assert.deepEqual(r.extendColumns('shard_a', 't_07_x', 'src')?.values, ['07x', '', '']);
  // No table rule matches (table 'other'): the schema rule decides, with only its own extractor.
  assert.deepEqual(r.extendColumns('shard_b', 'other', 'src'), { columns: ['c_schema'], values: ['b'] });
  // A table rule without extractors decides too: no extended column, even though a schema rule has one.
  const plain = new Router(
    [
      rule({ schemaPattern: 's', tablePattern: 't', targetSchema: 'm' }),
      rule({ schemaPattern: 's', targetSchema: 'm', extractSchema: { regexp: '(.*)', targetColumn: 'c_schema' } }),
    ],
    false,
  );
  assert.equal(plain.extendColumns('s', 't', 'src'), undefined);
  assert.deepEqual(plain.extendColumns('s', 'u', 'src')?.values, ['s']);
});

test('values are appended to both row images; the change itself is left as it was', () => {
  const change = upd(T, { id: '1', u: '1', v: 'a' }, { id: '1', u: '1', v: 'b' }).change;
  const copy = structuredClone({ before: change.before, after: change.after });
  const out = withExtendedColumns(change, EXT);
  assert.deepEqual(out.before, { id: '1', u: '1', v: 'a', c_table: '01', c_source: 'replica1' });
  assert.deepEqual(out.after, { id: '1', u: '1', v: 'b', c_table: '01', c_source: 'replica1' });
  assert.deepEqual({ before: change.before, after: change.after }, copy);
  assert.equal(change.info, T);
  // Inserts have no before image, deletes no after image: none is invented.
  const i = withExtendedColumns(ins(T, { id: '1', u: '1', v: null }).change, EXT);
  assert.equal('before' in i, false);
  const d = withExtendedColumns(del(T, { id: '1', u: '1', v: null }).change, EXT);
  assert.equal('after' in d, false);
});

test('the structure gains the columns (unless the table has them) and every key includes them', () => {
  const info = withExtendedColumns(ins(T, { id: '1', u: '1', v: null }).change, EXT).info;
  assert.deepEqual(
    info.columns.map((c) => c.name),
    ['id', 'u', 'v', 'c_table', 'c_source'],
  );
  assert.deepEqual(info.primaryKey, ['id', 'c_table', 'c_source']);
  assert.deepEqual(info.uniqueKeys, [['u', 'c_table', 'c_source']]);
  assert.equal(T.columns.length, 3, 'the upstream structure is not changed');
  // One structure object per (table structure, extended columns): multi-row statements group by it.
  assert.equal(withExtendedColumns(ins(T, { id: '2', u: '2', v: null }).change, EXT).info, info);
  assert.notEqual(
    withExtendedColumns(ins(T, { id: '2', u: '2', v: null }).change, { columns: ['c_x'], values: ['1'] }).info,
    info,
  );
  // A column the table already has (any case) is not added twice, and is not added to a key twice.
  const has = table('t', [col('id', { nullable: false }), col('C_TABLE')], ['id', 'C_TABLE']);
  const hi = withExtendedColumns(ins(has, { id: '1', C_TABLE: 'x' }).change, EXT);
  assert.deepEqual(
    hi.info.columns.map((c) => c.name),
    ['id', 'C_TABLE', 'c_source'],
  );
  assert.deepEqual(hi.info.primaryKey, ['id', 'C_TABLE', 'c_source']);
  // A table without a primary key keeps none.
  const nopk = table('t', [col('a')], [], [['a']]);
  assert.deepEqual(withExtendedColumns(ins(nopk, { a: '1' }).change, EXT).info.primaryKey, []);
});

/** A routed change as SyncUnit.route builds it before extending: no identity yet (it is resolved after, from the
 * extended structure). */
const bare = (rc: RoutedChange): RoutedChange => {
  const { identity: _, ...rest } = rc;
  return rest;
};

test('merged shards with the same key are different rows: writes and causality keys carry the extracted values', () => {
  const a = extendRouted(bare(ins(T, { id: '4', u: '4', v: 'a' })), { columns: ['c_table'], values: ['1'] });
  const b = extendRouted(bare(ins(T, { id: '4', u: '4', v: 'b' })), { columns: ['c_table'], values: ['2'] });
  assert.deepEqual(a.key, ['id', 'c_table']);
  assert.notDeepEqual(causalityKeys(a), causalityKeys(b));
  assert.deepEqual(causalityKeys(a), ['db.t|pk|"4","1"', 'db.t|uk:u,c_table|"4","1"']);
  // Both rows survive compaction; a delete of one matches only its own shard's row.
  assert.deepEqual(writerStatements([a, b]), [
    "REPLACE INTO `db`.`t` (`id`,`u`,`v`,`c_table`) VALUES ('4','4','a','1'),('4','4','b','2')",
  ]);
  const gone = extendRouted(bare(del(T, { id: '4', u: '4', v: 'a' })), { columns: ['c_table'], values: ['1'] });
  assert.deepEqual(writerStatements([gone]), ["DELETE FROM `db`.`t` WHERE (`id`,`c_table`) IN (('4','1'))"]);
  // No extended columns: the routed change is returned as it is.
  const plain = ins(T, { id: '1', u: '1', v: null });
  assert.equal(extendRouted(plain, undefined), plain);
});

test('a table keyed by a unique NOT NULL index: the extended key is nullable, so the upstream stand-in has no key', () => {
  // Documented behaviour as found: the added columns are typed nullable, so rowKey() refuses [u, c_table]. The sync
  // unit replaces `key` with the downstream table's identity (the precheck requires that table), so this matters
  // only while no downstream table is known.
  const UK = table('t', [col('u', { nullable: false }), col('v')], [], [['u']]);
  assert.deepEqual(extendRouted(ins(UK, { u: '1', v: null }), { columns: ['c_table'], values: ['1'] }).key, []);
});
