/**
 * DM's binlog-filter events of DDL (filter/ddl-events.ts, filter/column-change.ts), checked against DM's own
 * integration case dm/tests/incompatible_ddl_changes (tiflow): its table, its statements in its order, the event its
 * run.sh expects in the error of each (or no error), with both of its task files' filters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alterWithClauses, ddlEvents, tablesBefore } from '../../src/filter/ddl-events.ts';
import { EventFilter, classifyEvent, type DmEventType } from '../../src/filter/event-filter.ts';
import { typeChangeEvent } from '../../src/filter/column-change.ts';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import { DmError } from '../../src/errors/index.ts';
import { filterDdl } from '../../agent/sync/ddl-filter.ts';
import { SchemaTracker, type TrackedColumn } from '../../src/schema/model.ts';

const DB = 'incompatible_ddl_changes';

/** dm/tests/incompatible_ddl_changes/data/db1.prepare.sql */
const PREPARE = [
  `create database \`${DB}\``,
  `create table t1 (
    id int NOT NULL AUTO_INCREMENT, should_skip int, c_null int,
    c_bit bit(8), c_tinyint tinyint(5) unsigned, c_smallint smallint(6), c_mediumint mediumint(7), c_int int(8),
    c_bigint bigint(9) unsigned, c_decimal decimal(7,2), c_float float(10), c_double double,
    c_date date, c_datetime datetime(3), c_timestamp timestamp(4), c_time time(5), c_year year,
    c_char char(4), c_varchar national varchar(255), c_binary binary(1), c_varbinary varbinary(4), c_tinyblob tinyblob,
    c_tinytext tinytext, c_blob blob(20), c_text text(10), c_mediumblob mediumblob, c_mediumtext mediumtext,
    c_longblob longblob, c_longtext longtext, c_enum enum('a', 'b', 'c'), c_set set('a', 'b', 'c'), c_json json,
    PRIMARY KEY (id))`,
];

/**
 * run.sh, in order: each statement and the event its `query-status` must show (the task pauses on it and is
 * resumed with `binlog skip`), or null where the script expects no error. The last of db1.increment.sql is first.
 */
const STEPS: [sql: string, event: DmEventType | null][] = [
  ['alter table t1 add column dummy int', null],
  ['alter table incompatible_ddl_changes.t1 modify column c_mediumint smallint(6);', 'value range decrease'],
  ['alter table incompatible_ddl_changes.t1 modify column c_mediumint mediumint(7);', null],
  ['alter table incompatible_ddl_changes.t1 modify column c_decimal decimal(7,1);', 'precision decrease'],
  ['alter table incompatible_ddl_changes.t1 modify column c_decimal decimal(7,2);', 'precision decrease'],
  ['alter table incompatible_ddl_changes.t1 modify column c_mediumint varchar(10);', 'modify column'],
  ['alter table incompatible_ddl_changes.t1 modify column c_mediumint mediumint(7);', 'modify column'],
  ['alter table incompatible_ddl_changes.t1 change c_mediumint c_mediumint_new mediumint(7);', 'rename column'],
  ['alter table incompatible_ddl_changes.t1 change c_mediumint_new c_mediumint mediumint(7);', 'rename column'],
  ['alter table incompatible_ddl_changes.t1 drop column c_json;', 'drop column'],
  ['alter table incompatible_ddl_changes.t1 add column c_json json;', null],
  ['alter table incompatible_ddl_changes.t1 change id id int(11)', 'remove auto increment'],
  ['alter table incompatible_ddl_changes.t1 drop primary key', 'drop primary key'],
  ['alter table incompatible_ddl_changes.t1 change c_int c_int int default 1', 'modify default value'],
  ['alter table incompatible_ddl_changes.t1 add constraint c_int_unique unique(c_int)', 'modify constraint'],
  ['alter table incompatible_ddl_changes.t1 change c_int c_int int', 'drop unique key'],
  ['alter table incompatible_ddl_changes.t1 drop index c_int_unique', 'drop index'],
  [
    'alter table incompatible_ddl_changes.t1 change c_smallint c_smallint smallint(6) after c_json',
    'modify columns order',
  ],
  ['alter table incompatible_ddl_changes.t1 modify c_char char(4) CHARACTER SET latin1;', 'modify charset'],
  ['alter table incompatible_ddl_changes.t1 modify c_text text COLLATE utf8mb4_unicode_ci;', 'modify collation'],
  ['alter table incompatible_ddl_changes.t1 engine = MyISAM;', 'modify storage engine'],
  ['alter table incompatible_ddl_changes.t1 partition by range(id) (partition p0 values less than (100000))', null],
  [
    'alter table incompatible_ddl_changes.t1 reorganize partition p0 into ( partition n0 values less than (5), partition n1 values less than (100000));',
    'reorganize table partition',
  ],
  ['alter table incompatible_ddl_changes.t1 truncate partition n0', 'truncate table partition'],
  ['alter table incompatible_ddl_changes.t1 rebuild partition n0,n1;', 'rebuild table partition'],
  [
    'create table incompatible_ddl_changes.tb1(id int) partition by range(id)(partition p0 values less than (100000), partition p1 values less than(1000000));',
    null,
  ],
  ['create table incompatible_ddl_changes.tb2(id int);', null],
  [
    'alter table incompatible_ddl_changes.tb1 exchange partition p0 with table incompatible_ddl_changes.tb2',
    'exchange table partition',
  ],
  ['create table incompatible_ddl_changes.tb3(id int) partition by hash(id) partitions 6;', null],
  ['alter table incompatible_ddl_changes.tb3 coalesce partition 2;', 'coalesce table partition'],
  ['alter table incompatible_ddl_changes.tb3 add index idx(id);', 'modify constraint'],
  ['alter table incompatible_ddl_changes.tb3 rename index idx to idx1;', 'rename index'],
  ['alter table incompatible_ddl_changes.tb1 drop partition p0;', 'drop table partition'],
  ['rename table incompatible_ddl_changes.tb3 to incompatible_ddl_changes.tb4;', 'rename table'],
  ['truncate table incompatible_ddl_changes.tb4;', 'truncate table'],
  ['drop table incompatible_ddl_changes.tb4;', 'drop table'],
  ['drop database incompatible_ddl_changes;', 'drop database'],
];

/** conf/dm-task1.yaml's explicit list (dm-task.yaml says `incompatible ddl changes`). */
const TASK1_EVENTS = [
  'drop database',
  'drop table',
  'drop index',
  'rename table',
  'truncate table',
  'drop table partition',
  'truncate table partition',
  'value range decrease',
  'precision decrease',
  'modify column',
  'rename column',
  'rename index',
  'drop column',
  'truncate table partition',
  'drop primary key',
  'drop unique key',
  'modify default value',
  'modify constraint',
  'modify columns order',
  'modify charset',
  'modify collation',
  'remove auto increment',
  'modify storage engine',
  'reorganize table partition',
  'coalesce table partition',
  'split table partition',
  'exchange table partition',
  'rebuild table partition',
];

function tracker(): SchemaTracker {
  const t = new SchemaTracker({ serverCharset: 'utf8mb4', serverCollation: 'utf8mb4_general_ci' });
  for (const sql of PREPARE) assert.ok(applyDdl(t, sql, DB).ok, sql);
  return t;
}

/** One statement as the reader and the sync unit see it: its event(s) against the table before, then tracked. */
function eventsOf(t: SchemaTracker, sql: string): DmEventType[] {
  const before = tablesBefore(t, sql, DB);
  const ev = ddlEvents(sql, before[0]);
  applyDdl(t, sql, DB); // DM tracks a skipped statement too; so does tsdm's reader, whatever the filter says
  if (ev.clauses && ev.clauses.length > 0)
    return ev.clauses.map((c) => c.event).filter((e): e is DmEventType => e !== null);
  return ev.event === null ? [] : [ev.event];
}

for (const [name, events] of [
  ['dm-task.yaml', ['incompatible ddl changes']],
  ['dm-task1.yaml', TASK1_EVENTS],
] as const) {
  test(`DM's incompatible_ddl_changes case, ${name}: the same statements stop the task, with the same event`, () => {
    const t = tracker();
    const filter = new EventFilter(
      [
        {
          name: 'filter-01',
          schemaPattern: '*',
          tablePattern: '*',
          events: [...events],
          sqlPattern: [],
          action: 'Error',
        },
      ],
      false,
    );
    for (const [sql, want] of STEPS) {
      const got = eventsOf(t, sql);
      const stopped = got.find((e) => filter.check(DB, 't', e, sql) === 'Error');
      assert.equal(stopped ?? null, want, sql);
    }
  });
}

test('each step has exactly the event DM gives it (compatible ones included)', () => {
  const t = tracker();
  const got = STEPS.map(([sql]) => eventsOf(t, sql));
  STEPS.forEach(([sql, want], i) => {
    if (want !== null) assert.deepEqual(got[i], [want], sql);
    else
      assert.ok(
        got[i]!.length === 1 && classifyEvent(got[i]![0]!) === 'ddl',
        `${sql}: ${got[i]!.join(', ')} should be one compatible event`,
      );
  });
  assert.deepEqual(got[0], ['alter table'], 'ADD COLUMN is the compatible `alter table` (issue #12)');
  assert.deepEqual(got[21], ['alter table'], 'PARTITION BY is `alter table`');
  assert.deepEqual(got[25], ['create table']);
});

function col(name: string, columnType: string, extra: Partial<TrackedColumn> = {}): TrackedColumn {
  const dataType = /^\w+/.exec(columnType)![0];
  return {
    name,
    columnType,
    dataType,
    nullable: true,
    generated: false,
    charset: null,
    collation: null,
    comment: '',
    ...extra,
  };
}

test("type changes, as DM's needChangeColumnData", () => {
  const cases: [string, string, DmEventType][] = [
    ['int(11)', 'bigint(20)', 'alter table'],
    ['bigint(20)', 'int(11)', 'value range decrease'],
    ['int(11)', 'int(10) unsigned', 'precision decrease'],
    ['int(11)', 'bigint(20) unsigned', 'value range decrease'],
    ['int(5)', 'int(11)', 'alter table'],
    ['decimal(10,2)', 'decimal(12,2)', 'precision decrease'],
    ['decimal(10,2)', 'decimal(10,2)', 'alter table'],
    ['varchar(20)', 'varchar(10)', 'value range decrease'],
    ['varchar(10)', 'varchar(20)', 'alter table'],
    ['varchar(10)', 'char(10)', 'modify column'],
    ['char(10)', 'char(2)', 'alter table'],
    ['binary(4)', 'binary(8)', 'precision decrease'],
    ['varchar(10)', 'text', 'alter table'],
    ['text', 'varchar(10)', 'modify column'],
    ['mediumtext', 'tinytext', 'modify column'],
    ["enum('a','b')", "enum('a','b','c')", 'alter table'],
    ["enum('a','b','c')", "enum('a','c')", 'value range decrease'],
    ["set('a','b')", "set('b','a')", 'value range decrease'],
    ['datetime(6)', 'datetime(3)', 'value range decrease'],
    ['datetime', 'datetime(3)', 'alter table'],
    ['time(5)', 'time', 'value range decrease'],
    ['bit(8)', 'bit(4)', 'value range decrease'],
    ['float(7,2)', 'float(6,2)', 'value range decrease'],
    ['int(11)', 'varchar(20)', 'modify column'],
    ['date', 'datetime', 'modify column'],
    ['float', 'double', 'modify column'],
  ];
  for (const [from, to, want] of cases)
    assert.equal(typeChangeEvent(col('c', from), col('c', to)), want, `${from} -> ${to}`);
});

function oneTable(ddl: string): SchemaTracker {
  const t = new SchemaTracker({ serverCharset: 'utf8mb4', serverCollation: 'utf8mb4_general_ci' });
  assert.ok(applyDdl(t, 'CREATE DATABASE d', '').ok);
  assert.ok(applyDdl(t, ddl, 'd').ok, ddl);
  return t;
}

test('every ALTER clause kind, multi-clause ALTERs clause by clause, all against the table before the statement', () => {
  const t = oneTable(
    'CREATE TABLE t (id int PRIMARY KEY, a int DEFAULT 0, b varchar(20) NOT NULL, c int, k int, UNIQUE KEY uk(k), KEY ia(a), u int, v int, UNIQUE KEY uv(u, v))',
  );
  const cases: [string, (DmEventType | null)[]][] = [
    [
      'ALTER TABLE t ADD COLUMN x int, ADD y int FIRST, ADD (z int, w int)',
      ['alter table', 'alter table', 'alter table'],
    ],
    [
      'ALTER TABLE t ADD INDEX ix (c), ADD UNIQUE (c), ADD PRIMARY KEY (c), ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES p (id), ADD FULLTEXT (b), ADD CHECK (c > 0), ADD KEY (c)',
      [
        'modify constraint',
        'modify constraint',
        'modify constraint',
        'modify constraint',
        'modify constraint',
        'modify constraint',
        'modify constraint',
      ],
    ],
    [
      'ALTER TABLE t DROP COLUMN c, DROP a, DROP INDEX ia, DROP KEY uk, DROP PRIMARY KEY, DROP FOREIGN KEY f, DROP CONSTRAINT ck, DROP CHECK ck2',
      [
        'drop column',
        'drop column',
        'drop index',
        'drop index',
        'drop primary key',
        'alter table',
        'alter table',
        'alter table',
      ],
    ],
    [
      "ALTER TABLE t MODIFY c bigint, MODIFY c int NOT NULL, MODIFY c int COMMENT 'x', MODIFY c int DEFAULT 5, MODIFY c int FIRST, CHANGE c c2 int, MODIFY c tinyint",
      [
        'alter table',
        'alter table',
        'alter table',
        'modify default value',
        'modify columns order',
        'rename column',
        'value range decrease',
      ],
    ],
    ['ALTER TABLE t MODIFY a int', ['modify default value']],
    ["ALTER TABLE t MODIFY a int DEFAULT 0, MODIFY a int DEFAULT '0'", ['alter table', 'alter table']],
    ['ALTER TABLE t MODIFY id bigint', ['drop primary key']],
    ['ALTER TABLE t MODIFY k int', ['drop unique key']],
    ['ALTER TABLE t MODIFY u int', ['alter table']],
    [
      'ALTER TABLE t MODIFY b varchar(20) CHARACTER SET latin1 NOT NULL, MODIFY b varchar(20) COLLATE utf8mb4_bin NOT NULL',
      ['modify charset', 'modify collation'],
    ],
    ['ALTER TABLE t MODIFY c int UNIQUE, MODIFY nosuch int', ['alter table', 'alter table']],
    [
      'ALTER TABLE t RENAME COLUMN a TO a2, RENAME INDEX ia TO ib, RENAME KEY uk TO uk2, RENAME TO t2, RENAME AS t3',
      ['rename column', 'rename index', 'rename index', 'rename table', 'rename table'],
    ],
    [
      'ALTER TABLE t ALTER COLUMN a SET DEFAULT 3, ALTER a DROP DEFAULT, ALTER INDEX ia INVISIBLE, ALTER c SET INVISIBLE',
      ['modify default value', 'modify default value', 'alter table', 'alter table'],
    ],
    [
      "ALTER TABLE t ENGINE=InnoDB, COMMENT='x', AUTO_INCREMENT=10, DEFAULT CHARSET=utf8mb4, COLLATE utf8mb4_bin, CONVERT TO CHARACTER SET latin1, ROW_FORMAT=DYNAMIC",
      [
        'modify storage engine',
        'alter table',
        'alter table',
        'modify charset',
        'modify collation',
        'modify charset',
        'alter table',
      ],
    ],
    ['ALTER TABLE t DEFAULT CHARSET=latin1 ENGINE=MyISAM', ['modify charset']],
    [
      'ALTER TABLE t ADD PARTITION (PARTITION p3 VALUES LESS THAN (30)), DROP PARTITION p0, p1, TRUNCATE PARTITION p2, REMOVE PARTITIONING',
      ['alter table', 'drop table partition', 'truncate table partition', 'alter table'],
    ],
    ['ALTER TABLE t ADD COLUMN q int, ALGORITHM=INPLACE, LOCK=NONE', ['alter table', null, null]],
    ['ALTER TABLE t FORCE', ['alter table']],
  ];
  for (const [sql, want] of cases) {
    const ev = ddlEvents(sql, tablesBefore(t, sql, 'd')[0]);
    assert.equal(ev.event, 'alter table', sql);
    assert.deepEqual(
      ev.clauses!.map((c) => c.event),
      want,
      sql,
    );
  }
  assert.deepEqual(
    ddlEvents('CREATE INDEX i ON t (c)', undefined),
    { event: 'create index' },
    'CREATE INDEX is the compatible `create index`',
  );
  assert.equal(classifyEvent('create index'), 'ddl');
  assert.equal(classifyEvent('modify constraint'), 'incompatible ddl');
  assert.deepEqual(ddlEvents('DROP INDEX i ON t', undefined), { event: 'drop index' });
  assert.deepEqual(ddlEvents('CREATE TABLE x (a int)', undefined), { event: 'create table' });
  assert.deepEqual(ddlEvents('ALTER DATABASE d CHARACTER SET utf8mb4', undefined), { event: 'alter database' });
  assert.deepEqual(
    ddlEvents('ALTER TABLE t MODIFY c tinyint', undefined).clauses!.map((c) => c.event),
    ['alter table'],
    'no table info: DM says alter table',
  );
});

test('an ALTER without the dropped clauses keeps the rest of its text byte for byte', () => {
  const sql = 'ALTER TABLE `d`.`t` ADD COLUMN x int /* note */, DROP COLUMN c,  ADD INDEX ix (x), ALGORITHM=INPLACE;';
  const { clauses } = ddlEvents(sql, undefined);
  const all = clauses!;
  assert.deepEqual(
    all.map((c) => c.event),
    ['alter table', 'drop column', 'modify constraint', null],
  );
  assert.equal(alterWithClauses(sql, all, all), sql);
  assert.equal(
    alterWithClauses(sql, all, [all[0]!, all[2]!, all[3]!]),
    'ALTER TABLE `d`.`t` ADD COLUMN x int /* note */, ADD INDEX ix (x), ALGORITHM=INPLACE;',
  );
  assert.equal(alterWithClauses(sql, all, [all[3]!]), null, 'only ALGORITHM= left: nothing to run');
  const parts = 'ALTER TABLE t DROP PARTITION p0, p1, ADD COLUMN z int';
  const pc = ddlEvents(parts, undefined).clauses!;
  assert.equal(alterWithClauses(parts, pc, [pc[1]!]), 'ALTER TABLE t ADD COLUMN z int');
  assert.equal(alterWithClauses(parts, pc, [pc[0]!]), 'ALTER TABLE t DROP PARTITION p0, p1');
});

test("the sync unit's DDL filter: Ignore drops a clause, Error stops the whole statement naming rule and event", () => {
  const t = oneTable('CREATE TABLE t (id int PRIMARY KEY, a int, b int)');
  const filter = new EventFilter(
    [
      {
        name: 'keep-defaults',
        schemaPattern: 'd',
        tablePattern: 't',
        events: ['modify default value'],
        sqlPattern: [],
        action: 'Ignore',
      },
      {
        name: 'guard',
        schemaPattern: 'd',
        tablePattern: '*',
        events: ['incompatible ddl changes'],
        sqlPattern: [],
        action: 'Error',
      },
    ],
    false,
  );
  const dropped: string[] = [];
  const run = (sql: string, f = filter) =>
    filterDdl({
      sql,
      originalSql: sql,
      tables: [{ schema: 'd', table: 't' }],
      tablesBefore: tablesBefore(t, sql, 'd'),
      taskName: 'tk',
      position: 'binlog.000001:4',
      decide: (s, tb, e, q) => f.decide(s, tb, e, q),
      dropped: (d) => dropped.push(`${d.event} by ${d.rule}`),
    });
  assert.equal(run('ALTER TABLE t ADD c int'), 'ALTER TABLE t ADD c int');
  assert.equal(run('ALTER TABLE t ADD c int, ALTER a SET DEFAULT 1'), 'ALTER TABLE t ADD c int');
  assert.deepEqual(dropped, ['modify default value by keep-defaults']);
  assert.equal(run('ALTER TABLE t ALTER a SET DEFAULT 1'), null, 'every clause dropped: nothing runs');
  assert.throws(
    () => run('ALTER TABLE t ADD c int, DROP COLUMN b'),
    (e: DmError) =>
      e.code === 'TSDM-60003' &&
      /`drop column`.*rule guard.*ALTER TABLE t ADD c int, DROP COLUMN b.*clause: ALTER TABLE t DROP COLUMN b/.test(
        e.message,
      ) &&
      /dmctl binlog skip tk/.test(e.suggestion),
  );
  assert.throws(() => run('ALTER TABLE t MODIFY a tinyint'), /`value range decrease`/);
  assert.equal(run('ALTER TABLE t MODIFY a bigint'), 'ALTER TABLE t MODIFY a bigint');
  assert.equal(run('CREATE INDEX i ON t (a)'), 'CREATE INDEX i ON t (a)');
  assert.throws(() => run('DROP TABLE t'), /`drop table`.*rule guard/);
  // sql-patterns see the whole statement for every clause, as DM's originSQL
  const bySql = new EventFilter(
    [
      {
        name: 'no-idx',
        schemaPattern: 'd',
        tablePattern: '*',
        events: [],
        sqlPattern: ['ADD INDEX'],
        action: 'Ignore',
      },
    ],
    false,
  );
  assert.equal(run('ALTER TABLE t ADD INDEX ia (a), ADD c int', bySql), null);
});

test("online DDL: the tool's ALTER run in place of its cut-over RENAME is classified against the real table as it was", () => {
  const t = oneTable('CREATE TABLE t (id int PRIMARY KEY, a int)');
  assert.ok(applyDdl(t, 'CREATE TABLE _t_gho LIKE t', 'd').ok);
  assert.ok(applyDdl(t, 'ALTER TABLE _t_gho MODIFY a tinyint', 'd').ok);
  const rename = 'RENAME TABLE `d`.`t` TO `d`.`_t_del`, `d`.`_t_gho` TO `d`.`t`';
  const before = tablesBefore(t, rename, 'd');
  assert.deepEqual(
    before.map((x) => `${x.table}: ${x.columns[1]!.columnType}`),
    ['t: int(11)', '_t_gho: tinyint(4)'],
  );
  const guard = new EventFilter(
    [
      {
        name: 'guard',
        schemaPattern: 'd',
        tablePattern: '*',
        events: ['incompatible ddl changes'],
        sqlPattern: [],
        action: 'Error',
      },
    ],
    false,
  );
  const sql = 'ALTER /* gh-ost */ TABLE `d`.`t` MODIFY a tinyint';
  assert.throws(
    () =>
      filterDdl({
        sql,
        originalSql: sql,
        tables: [{ schema: 'd', table: 't' }],
        tablesBefore: before,
        taskName: 'tk',
        position: 'binlog.000001:4',
        decide: (s, tb, e, q) => guard.decide(s, tb, e, q),
        dropped: () => undefined,
      }),
    /`value range decrease`/,
  );
});
