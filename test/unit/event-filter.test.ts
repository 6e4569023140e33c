import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventFilter,
  classifyEvent,
  normalizeEventName,
  DM_EVENT_TYPES,
  VALID_EVENT_NAMES,
  type DmEventType,
} from '../../src/filter/event-filter.ts';
import type { EventFilterRule, FilterAction } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { ddlEvents } from '../../src/filter/ddl-events.ts';

function rule(
  name: string,
  schemaPattern: string,
  tablePattern: string,
  events: string[],
  sqlPattern: string[],
  action: FilterAction,
): EventFilterRule {
  return { name, schemaPattern, tablePattern, events, sqlPattern, action };
}

type Case = [schema: string, table: string, event: DmEventType | null, sql: string, want: FilterAction];

function check(f: EventFilter, cases: Case[]): void {
  for (const [s, t, e, sql, want] of cases) {
    assert.equal(f.check(s, t, e, sql), want, `${s}.${t} ${String(e)} ${JSON.stringify(sql)}`);
  }
}

const PROC = ['^DROP\\s+PROCEDURE', '^CREATE\\s+PROCEDURE'];

// DM's TestFilter (tiflow pkg/binlog-filter filter_test.go), phase by phase. DM's fourth rule (an unknown
// event, and a duplicate pattern) is dropped by DM with a log line; tsdm rejects it (tested below).
test('DM TestFilter: initial rules (case-insensitive)', () => {
  const f = new EventFilter(
    [
      rule('r0', 'Test_1_*', 'abc*', ['delete', 'insert', 'create index', 'drop index', 'drop view'], PROC, 'Ignore'),
      rule('r1', 'xxx_*', 'abc_*', ['all dml', 'none ddl'], [], 'Ignore'),
      rule('r2', 'yyy_*', 'abc_*', ['ALL DML'], [], 'Do'),
      rule('r4', 'cdc', 't1', ['rebase auto id'], [], 'Ignore'),
    ],
    false,
  );
  check(f, [
    ['test_1_a', 'abc1', 'delete', '', 'Ignore'],
    ['test_1_a', 'abc1', 'insert', '', 'Ignore'],
    ['test_1_a', 'abc1', 'update', '', 'Do'],
    ['test_1_a', 'abc1', 'create index', '', 'Ignore'],
    ['test_1_a', 'abc1', 'rename table', '', 'Do'],
    ['test_1_a', 'abc1', null, 'drop procedure abc', 'Ignore'],
    ['test_1_a', 'abc1', null, 'create procedure abc', 'Ignore'],
    ['test_1_a', 'abc1', null, 'create function abc', 'Do'],
    ['xxx_1', 'abc_1', null, 'create function abc', 'Do'],
    ['xxx_1', 'abc_1', 'insert', '', 'Ignore'],
    ['xxx_1', 'abc_1', 'create index', '', 'Do'],
    ['yyy_1', 'abc_1', 'insert', '', 'Do'],
    ['yyy_1', 'abc_1', 'create index', '', 'Ignore'],
    ['test_1_a', 'abc1', 'drop view', '', 'Ignore'],
    ['cdc', 't1', 'rebase auto id', '', 'Ignore'],
    ['xxx_a', '', 'insert', '', 'Do'], // "mismatched": a table-level rule does not apply to the schema
  ]);
});

const updated = (): EventFilterRule[] => [
  rule('r0', 'Test_1_*', 'abc*', [], PROC, 'Ignore'),
  rule('r1', 'xxx_*', 'abc_*', ['all dml', 'none ddl'], [], 'Do'),
  rule('r2', 'yyy_*', 'abc_*', ['ALL DDL'], [], 'Do'),
  rule('r4', 'cdc', 't1', ['rebase auto id'], [], 'Ignore'),
];

test('DM TestFilter: updated rules (Do rules are allow-lists)', () => {
  check(new EventFilter(updated(), false), [
    ['test_1_a', 'abc1', 'delete', '', 'Do'],
    ['test_1_a', 'abc1', 'insert', '', 'Do'],
    ['test_1_a', 'abc1', 'update', '', 'Do'],
    ['test_1_a', 'abc1', 'create index', '', 'Do'],
    ['test_1_a', 'abc1', 'rename table', '', 'Do'],
    ['test_1_a', 'abc1', null, 'drop procedure abc', 'Ignore'],
    ['test_1_a', 'abc1', null, 'create function abc', 'Do'],
    ['xxx_1', 'abc_1', null, 'create function abc', 'Do'],
    ['xxx_1', 'abc_1', 'insert', '', 'Do'],
    ['xxx_1', 'abc_1', 'create index', '', 'Ignore'],
    ['yyy_1', 'abc_1', 'insert', '', 'Ignore'],
    ['yyy_1', 'abc_1', 'create index', '', 'Do'],
    ['test_1_a', 'abc1', 'drop view', '', 'Do'],
  ]);
});

test('DM TestFilter: several rules on one table, then one removed', () => {
  const r5 = rule('r5', 'test_*', 'ab*', ['insert', 'all ddl'], ['^DROP\\s+PROCEDURE'], 'Do');
  check(new EventFilter([...updated(), r5], false), [
    ['test_1_a', 'abc1', 'delete', '', 'Ignore'],
    ['test_1_a', 'abc1', 'insert', '', 'Do'],
    ['test_1_a', 'abc1', 'update', '', 'Ignore'],
    ['test_1_a', 'abc1', 'create index', '', 'Do'],
    ['test_1_a', 'abc1', 'rename table', '', 'Do'],
    ['test_1_a', 'abc1', null, 'drop procedure abc', 'Ignore'],
    ['test_1_a', 'abc1', null, 'create procedure abc', 'Ignore'],
    ['test_1_a', 'abc1', null, 'create function abc', 'Ignore'],
    ['test_1_a', 'abc1', 'drop view', '', 'Do'],
  ]);
  check(new EventFilter([...updated().slice(1), r5], false), [
    ['test_1_a', 'abc1', 'create index', '', 'Do'],
    ['test_1_a', 'abc1', null, 'drop procedure abc', 'Do'],
    ['test_1_a', 'abc1', null, 'create procedure abc', 'Ignore'],
  ]);
});

test('DM TestCaseSensitive: Test_1_* does not match test_1_a', () => {
  const f = new EventFilter(
    [
      rule('r0', 'Test_1_*', 'abc*', ['delete', 'insert', 'create index', 'drop index'], PROC, 'Ignore'),
      rule('r1', 'xxx_*', 'abc_*', ['all dml', 'none ddl'], [], 'Ignore'),
    ],
    true,
  );
  check(f, [
    ['test_1_a', 'abc1', 'delete', '', 'Do'],
    ['test_1_a', 'abc1', 'insert', '', 'Do'],
    ['test_1_a', 'abc1', 'create index', '', 'Do'],
    ['test_1_a', 'abc1', null, 'drop procedure abc', 'Do'],
    ['xxx_1', 'abc_1', 'insert', '', 'Ignore'],
    ['xxx_1', 'abc_1', 'create index', '', 'Do'],
  ]);
});

test('DM TestGlobalFilter: schema-level and */* rules apply to schema, table and empty names', () => {
  for (const tablePattern of ['', '*']) {
    const f = new EventFilter([rule('g', '*', tablePattern, [], ['^FLUSH'], 'Ignore')], false);
    for (const [s, t] of [
      ['db', 'tbl'],
      ['db', ''],
      ['', 'tbl'],
      ['', ''],
    ] as const) {
      assert.equal(f.check(s, t, null, 'FLUSH ENGINE LOGS'), 'Ignore', `${tablePattern} ${s}.${t}`);
    }
  }
});

test('a schema-level rule applies to every table of the schema and to the schema itself', () => {
  const f = new EventFilter([rule('no-drop', 'app', '', ['drop table', 'drop database'], [], 'Ignore')], false);
  assert.equal(f.check('app', 'orders', 'drop table'), 'Ignore');
  assert.equal(f.check('app', '', 'drop database'), 'Ignore');
  assert.equal(f.check('app', 'orders', 'insert'), 'Do');
  assert.equal(f.check('other', 'orders', 'drop table'), 'Do');
  // a table-level rule other than `*` does not see schema-level events
  const t = new EventFilter([rule('t', 'app', 'o*', ['drop database'], [], 'Ignore')], false);
  assert.equal(t.check('app', '', 'drop database'), 'Do');
});

test('ignore deletes on one table only', () => {
  const f = new EventFilter([rule('keep-history', 'shop', 'orders', ['delete'], [], 'Ignore')], false);
  assert.equal(f.check('shop', 'orders', 'delete'), 'Ignore');
  assert.equal(f.check('shop', 'orders', 'insert'), 'Do');
  assert.equal(f.check('shop', 'orders', 'update'), 'Do');
  assert.equal(f.check('shop', 'items', 'delete'), 'Do');
  assert.equal(f.check('SHOP', 'ORDERS', 'delete'), 'Ignore');
  assert.equal(
    new EventFilter([rule('k', 'shop', 'orders', ['delete'], [], 'Ignore')], true).check('SHOP', 'ORDERS', 'delete'),
    'Do',
  );
});

test('sql-pattern ^ALTER TABLE .* ADD COLUMN (case-insensitive, against the query text)', () => {
  const f = new EventFilter([rule('no-add', 'app', '*', [], ['^ALTER TABLE .* ADD COLUMN'], 'Ignore')], true);
  const add = 'alter table `app`.`t` add column c int';
  assert.equal(f.check('app', 't', ddlEvents(add, undefined).clauses![0]!.event, add), 'Ignore');
  assert.equal(f.check('app', 't', 'alter table', 'ALTER TABLE t DROP COLUMN c'), 'Do');
  assert.equal(f.check('app', 't', 'insert'), 'Do', 'row events carry no query text');
  // a Do rule with events AND sql-patterns needs both
  const d = new EventFilter([rule('only', 'app', '*', ['alter table'], ['ADD COLUMN'], 'Do')], false);
  assert.equal(d.check('app', 't', 'alter table', 'ALTER TABLE t ADD COLUMN c int'), 'Do');
  assert.equal(d.check('app', 't', 'alter table', 'ALTER TABLE t DROP COLUMN c'), 'Ignore');
  assert.equal(d.check('app', 't', 'create table', 'CREATE TABLE t2 (a int)'), 'Ignore');
});

test('action Error, and precedence of Ignore/Error over Do', () => {
  const f = new EventFilter(
    [
      rule('guard', 'app', '', ['truncate table', 'drop database'], [], 'Error'),
      rule('allow', 'app', '*', ['all'], [], 'Do'),
    ],
    false,
  );
  assert.equal(f.check('app', 't', 'truncate table'), 'Error');
  assert.equal(f.check('app', '', 'drop database'), 'Error');
  assert.equal(f.check('app', 't', 'insert'), 'Do');
  const g = new EventFilter(
    [rule('allow', 'app', '', ['all'], [], 'Do'), rule('deny', 'app', 't', ['delete'], [], 'Ignore')],
    false,
  );
  assert.equal(g.check('app', 't', 'delete'), 'Ignore');
  assert.equal(g.check('app', 't', 'insert'), 'Do');
});

test('event groups: all, none, all/none dml/ddl, incompatible ddl changes, first decisive entry wins', () => {
  const one = (events: string[], e: DmEventType): FilterAction =>
    new EventFilter([rule('x', 'd', 't', events, [], 'Ignore')], false).check('d', 't', e);
  assert.equal(one(['all'], 'insert'), 'Ignore');
  assert.equal(one(['all'], 'create table'), 'Ignore');
  assert.equal(one(['none', 'insert'], 'insert'), 'Do', '`none` stops the scan');
  assert.equal(one(['insert', 'none'], 'insert'), 'Ignore');
  assert.equal(one(['all ddl'], 'drop table'), 'Ignore');
  assert.equal(one(['all ddl'], 'delete'), 'Do');
  assert.equal(one(['all dml'], 'delete'), 'Ignore');
  assert.equal(one(['none dml', 'delete'], 'delete'), 'Do');
  assert.equal(one(['none ddl', 'delete'], 'delete'), 'Ignore', '`none ddl` says nothing about DML');
  assert.equal(one(['incompatible ddl changes'], 'drop column'), 'Ignore');
  assert.equal(one(['incompatible ddl changes'], 'create table'), 'Do');
  assert.equal(one(['incompatible ddl changes'], 'truncate table'), 'Ignore');
  assert.equal(one(['create schema'], 'create database'), 'Ignore', 'alias');
});

test('ALTER TABLE: each clause is checked with its own DM event (as DM splits it), never the whole list at once', () => {
  const sql = 'ALTER TABLE t ADD COLUMN a INT, DROP COLUMN b';
  const events = ddlEvents(sql, undefined).clauses!.map((c) => c.event);
  assert.deepEqual(events, ['alter table', 'drop column']);
  const dropCol = new EventFilter([rule('x', 'app', '*', ['drop column'], [], 'Ignore')], false);
  assert.deepEqual(
    events.map((e) => dropCol.check('app', 't', e)),
    ['Do', 'Ignore'],
  );
  // DM: a rule on `alter table` does not match DROP COLUMN, and `add column` is never produced (ADD COLUMN is `alter table`)
  const alter = new EventFilter([rule('x', 'app', '*', ['alter table'], [], 'Ignore')], false);
  assert.deepEqual(
    events.map((e) => alter.check('app', 't', e)),
    ['Ignore', 'Do'],
  );
  const allowAdd = new EventFilter([rule('x', 'app', '*', ['add column'], [], 'Do')], false);
  assert.deepEqual(
    events.map((e) => allowAdd.check('app', 't', e)),
    ['Ignore', 'Ignore'],
  );
  const guard = new EventFilter([rule('guard', 'app', '*', ['incompatible ddl changes'], [], 'Error')], false);
  assert.deepEqual(
    events.map((e) => guard.decide('app', 't', e)),
    [{ action: 'Do' }, { action: 'Error', rule: 'guard' }],
  );
});

test('~regex patterns are accepted (tsdm extension)', () => {
  const f = new EventFilter([rule('x', '~^shard_[0-9]+$', '', ['delete'], [], 'Ignore')], false);
  assert.equal(f.check('shard_12', 't', 'delete'), 'Ignore');
  assert.equal(f.check('shard_x', 't', 'delete'), 'Do');
});

test('event names: DM TestToEventType / TestClassifyEvent', () => {
  assert.equal(normalizeEventName(''), null);
  assert.equal(normalizeEventName('Insert'), 'insert');
  assert.equal(normalizeEventName('UPDATE'), 'update');
  assert.equal(normalizeEventName('create SCHEMA'), 'create database');
  assert.equal(normalizeEventName('drop Schema'), 'drop database');
  assert.equal(normalizeEventName('alter schema'), 'alter database');
  assert.equal(normalizeEventName('drop taBle partition'), 'drop table partition');
  assert.equal(normalizeEventName('truncate tablE parTition'), 'truncate table partition');
  assert.equal(normalizeEventName('rebase auto id'), 'rebase auto id');
  for (const bad of ['create', 'xxx', "I don't know"]) assert.throws(() => normalizeEventName(bad), DmError);
  assert.equal(classifyEvent('insert'), 'dml');
  assert.equal(classifyEvent('create database'), 'ddl');
  assert.equal(classifyEvent('drop database'), 'incompatible ddl');
  assert.equal(classifyEvent('drop view'), 'ddl');
  assert.equal(classifyEvent('truncate table'), 'incompatible ddl');
  assert.equal(classifyEvent('add table partition'), 'ddl');
  assert.equal(classifyEvent('truncate table partition'), 'incompatible ddl');
  assert.ok(DM_EVENT_TYPES.includes('alter table'));
  assert.ok(VALID_EVENT_NAMES.includes('all dml') && VALID_EVENT_NAMES.includes('create schema'));
});

test('invalid rules are configuration errors (DM would silently drop them)', () => {
  const code =
    (c: string) =>
    (e: unknown): boolean =>
      e instanceof DmError && e.code === c;
  assert.throws(
    () => new EventFilter([rule('t', 'db', '*', ['truncate'], [], 'Ignore')], false),
    (e: unknown) => e instanceof DmError && /did you mean `truncate table`/.test(e.message),
  );
  assert.throws(
    () => new EventFilter([rule('w', 'db', '*', ['wrong event'], [], 'Ignore')], false),
    code('TSDM-10003'),
  );
  assert.throws(
    () => new EventFilter([rule('a', 'Db', 'T*', [], [], 'Ignore'), rule('b', 'db', 't*', [], [], 'Do')], false),
    code('TSDM-10003'),
  );
  new EventFilter([rule('a', 'Db', 'T*', [], [], 'Ignore'), rule('b', 'db', 't*', [], [], 'Do')], true); // distinct when case-sensitive
  assert.throws(() => new EventFilter([rule('s', 'db', '*', [], ['(?=x)'], 'Ignore')], false), code('TSDM-10008'));
  assert.throws(() => new EventFilter([rule('p', 'db*x', '*', [], [], 'Ignore')], false), code('TSDM-10008'));
  assert.throws(() => new EventFilter([rule('e', '', '*', [], [], 'Ignore')], false), code('TSDM-10008'));
  assert.throws(
    () => new EventFilter([rule('c', 'db', '*', [], [], 'ignore' as FilterAction)], false),
    code('TSDM-10003'),
  );
});
