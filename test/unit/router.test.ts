import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/route/router.ts';
import type { RouteRule } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';

let n = 0;
function r(schemaPattern: string, tablePattern: string, targetSchema: string, targetTable = ''): RouteRule {
  return { name: `r${++n}`, schemaPattern, tablePattern, targetSchema, targetTable };
}

const isAmbiguous = (e: unknown): boolean =>
  e instanceof DmError && e.code === 'TSDM-10003' && /more than one route rule/.test(e.message);

// DM's TestRoute / TestCaseSensitive (tidb-tools pkg/table-router router_test.go).
const dmRules = (): RouteRule[] => [
  r('Test_1_*', 'abc*', 't1', 'abc'),
  r('test_1_*', 'test*', 't2', 'test'),
  r('test_1_*', '', 'test'),
  r('test_2_*', 'abc*', 't1', 'abc'),
  r('test_2_*', 'test*', 't2', 'test'),
];

test('table-level rules win over schema-level rules; case-insensitive', () => {
  const router = new Router(dmRules(), false);
  assert.deepEqual(router.route('test_1_a', 'abc1'), { schema: 't1', table: 'abc' });
  assert.deepEqual(router.route('test_2_a', 'abc2'), { schema: 't1', table: 'abc' });
  assert.deepEqual(router.route('test_1_a', 'test1'), { schema: 't2', table: 'test' });
  assert.deepEqual(router.route('test_2_a', 'test2'), { schema: 't2', table: 'test' });
  assert.deepEqual(router.route('test_1_a', 'xyz'), { schema: 'test', table: 'xyz' });
  assert.deepEqual(router.route('test_3_a', ''), { schema: 'test_3_a', table: '' });
});

test('case-sensitive: Test_1_* does not match test_1_a', () => {
  const router = new Router(dmRules(), true);
  assert.deepEqual(router.route('test_1_a', 'abc1'), { schema: 'test', table: 'abc1' });
  assert.deepEqual(router.route('test_2_a', 'abc2'), { schema: 't1', table: 'abc' });
  assert.deepEqual(router.route('test_1_a', 'xyz'), { schema: 'test', table: 'xyz' });
});

test('several matching rules of the deciding level are an error', () => {
  const schemaLevel = new Router([...dmRules(), r('test_*', '', 'error')], false);
  assert.throws(() => schemaLevel.route('test_1_a', ''), isAmbiguous);
  assert.throws(() => schemaLevel.routeSchema('test_1_a'), isAmbiguous);
  // a table-level match still decides alone
  assert.deepEqual(schemaLevel.route('test_1_a', 'test1'), { schema: 't2', table: 'test' });
  const tableLevel = new Router([...dmRules(), r('test_1_*', 'tes*', 'error', 'error')], false);
  assert.throws(() => tableLevel.route('test_1_a', 'test'), isAmbiguous);
});

test('DM TestDupMatch: overlapping regex rules are reported', () => {
  const router = new Router(
    [
      r('~test[0-9]+.*', '~.*', 'dtest1'),
      r('~test2?[a|b]', '~tbl2', 'dtest2', 'dtable2'),
      r('mytest*', '', 'mytest'),
      r('~mytest(_meta)?_schema', '', 'test'),
    ],
    true,
  );
  assert.throws(() => router.route('test2a', 'tbl2'), isAmbiguous);
  assert.throws(() => router.route('mytest_meta_schema', ''), isAmbiguous);
});

test('DM TestSchemaRoute / TestTableRoute', () => {
  const s = new Router([r('test1', '', 'dtest1'), r('gtest*', '', 'dtest')], true);
  assert.deepEqual(s.route('test1', 'table1'), { schema: 'dtest1', table: 'table1' });
  assert.deepEqual(s.route('gtesttest', 'atable'), { schema: 'dtest', table: 'atable' });
  assert.deepEqual(s.route('ptest', 'atableg'), { schema: 'ptest', table: 'atableg' });
  const t = new Router(
    [
      r('test1', 'table1', 'dtest1', 'dtable1'),
      r('test*', 'table2', 'dtest2', 'dtable2'),
      r('test3', 'table*', 'dtest3', 'dtable3'),
    ],
    true,
  );
  for (const i of [1, 2, 3])
    assert.deepEqual(t.route(`test${i}`, `table${i}`), { schema: `dtest${i}`, table: `dtable${i}` });
});

test('DM TestRegExprRoute: ~regex schema and table patterns', () => {
  const router = new Router(
    [
      r('~test.[0-9]+', '', 'dtest1'),
      r('~test2?[animal|human]', '~tbl.*[cat|dog]+', 'dtest2', 'dtable2'),
      r('~test3_(schema)?.*', 'test3_*', 'dtest3', 'dtable3'),
      r('test4s_*', '~testtable_[donot_delete]?', 'dtest4', 'dtable4'),
    ],
    true,
  );
  assert.deepEqual(router.route('tests100', 'table1'), { schema: 'dtest1', table: 'table1' });
  assert.deepEqual(router.route('test2animal', 'tbl_animal_dogcat'), { schema: 'dtest2', table: 'dtable2' });
  assert.deepEqual(router.route('test3_schema_meta', 'test3_tail'), { schema: 'dtest3', table: 'dtable3' });
  assert.deepEqual(router.route('test4s_2022', 'testtable_donot_delete'), { schema: 'dtest4', table: 'dtable4' });
  assert.deepEqual(router.route('mytst5566', 'gtable'), { schema: 'mytst5566', table: 'gtable' });
});

test('many-to-one schema rename (shard merge of schemas)', () => {
  const router = new Router([r('shard_*', '', 'merged')], false);
  assert.deepEqual(router.route('shard_01', 'orders'), { schema: 'merged', table: 'orders' });
  assert.deepEqual(
    router.route('SHARD_02', 'Orders'),
    { schema: 'merged', table: 'Orders' },
    'unmatched parts keep their case',
  );
  assert.equal(router.routeSchema('shard_03'), 'merged');
  assert.equal(router.routeSchema('other'), 'other');
});

test('table rename and shard tables merged into one table', () => {
  const router = new Router(
    [
      r('shop', 'orders', 'shop', 'orders_v2'),
      r('shard_*', 'orders_*', 'merged', 'orders'),
      r('shard_*', '', 'merged'),
    ],
    false,
  );
  assert.deepEqual(router.route('shop', 'orders'), { schema: 'shop', table: 'orders_v2' });
  assert.deepEqual(router.route('shop', 'items'), { schema: 'shop', table: 'items' });
  assert.deepEqual(router.route('shard_1', 'orders_7'), { schema: 'merged', table: 'orders' });
  assert.deepEqual(router.route('shard_1', 'items'), { schema: 'merged', table: 'items' });
  // a table-level rule does not apply to the schema itself
  assert.equal(router.routeSchema('shard_1'), 'merged');
  assert.equal(router.routeSchema('shop'), 'shop');
});

test('schema-level rule with a target-table renames every table (as DM), but not the schema name', () => {
  const router = new Router([r('logs_*', '', 'logs', 'all_logs')], false);
  assert.deepEqual(router.route('logs_2024', 'jan'), { schema: 'logs', table: 'all_logs' });
  assert.deepEqual(router.route('logs_2024', ''), { schema: 'logs', table: '' });
});

test('case-sensitive vs insensitive targets are used as written', () => {
  const rules = [r('App', 'Users', 'Tgt', 'People')];
  assert.deepEqual(new Router(rules, false).route('app', 'USERS'), { schema: 'Tgt', table: 'People' });
  assert.deepEqual(new Router(rules, true).route('app', 'USERS'), { schema: 'app', table: 'USERS' });
  assert.deepEqual(new Router(rules, true).route('App', 'Users'), { schema: 'Tgt', table: 'People' });
});

test('invalid rules are configuration errors', () => {
  assert.throws(
    () => new Router([r('', 't', 'x')], false),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-10008',
  );
  assert.throws(
    () => new Router([r('db', 't', '')], false),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-10003',
  );
  assert.throws(
    () => new Router([r('db*x', '', 'y')], false),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-10008',
  );
});

test('results are not shared between calls (cache returns copies)', () => {
  const router = new Router([r('a', '', 'b')], false);
  const first = router.route('a', 't');
  first.schema = 'mutated';
  assert.deepEqual(router.route('a', 't'), { schema: 'b', table: 't' });
});
