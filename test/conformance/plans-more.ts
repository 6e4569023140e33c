/**
 * Hand plans for DM cases that are not in ../shared/dm-cases: dm/tests/<case>/{conf,data} of the same tiflow commit
 * (c7b2588ef6), for flows whose checks are run.sh's own SQL (downstream tables DM's runner creates first, counts it
 * checks), which the default plan cannot know. Keyed by folder fingerprint like plans.ts's.
 */
import type { CasePlan, Step } from './plan.ts';
import {
  caughtUp,
  diff,
  expectDown,
  file,
  prepare12,
  sources,
  sql,
  start,
  startThenIncrements,
  why,
} from './plan-steps.ts';

// ------------------------------------------------------------------------------------------ downstream_diff_index

const DDI = 'downstream_diff_index.t';
const downstreamDiffIndex: CasePlan = {
  name: 'downstream_diff_index',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'the log greps for the WHERE columns DM chose (failpoint DownstreamTrackerWhereCheck): the counts check what they chose',
      ],
      steps: [
        file(1, 'db1.prepare.sql'),
        file(2, 'db2.prepare.sql'),
        why(file('down', 'tidb.prepare.sql'), 'the merged table exists downstream without a key'),
        sources,
        start(),
        expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 < 100`, 6),
        why(sql('down', `ALTER TABLE ${DDI} ADD UNIQUE KEY(c2)`), 'the downstream gets a key of its own: c2'),
        file(1, 'db1.increment.sql'),
        why(
          expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 1 AND c3 = '111'`, 1),
          'the UPDATE of source 1 c1=1 finds its row by the downstream key c2, not by c1 (both shards have a c1=1)',
        ),
        why(expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 2`, 1), 'the DELETE of source 1 c1=2 removes one row'),
        why(sql('down', `ALTER TABLE ${DDI} ADD PRIMARY KEY(c3)`), 'then a primary key downstream: c3'),
        sql(1, 'ALTER TABLE downstream_diff_index1.t1 DROP COLUMN c2'),
        sql(2, 'ALTER TABLE downstream_diff_index2.t2 DROP COLUMN c2'),
        file(2, 'db2.increment.sql'),
        why(
          expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 3 AND c3 = '333'`, 1),
          'the shards dropped c2 (a pessimistic lock, both reach it); the UPDATE of source 2 finds its row by c3',
        ),
        expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 1`, 1),
        expectDown('SELECT count(1) FROM downstream_diff_index.varchar20000 WHERE c = 1', 1),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ downstream_more_column

const DMC = 'downstream_more_column.t';
const downstreamMoreColumn: CasePlan = {
  name: 'downstream_more_column',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run(), mode all',
      steps: [
        file(1, 'db1.prepare.sql'),
        why(
          file('down', 'tidb.prepare.sql'),
          'the merged table exists downstream with one more column, AUTO_INCREMENT a',
        ),
        sources,
        start(),
        expectDown(`SELECT count(1) FROM ${DMC} WHERE c1 < 100`, 3),
        file(1, 'db1.increment.sql'),
        expectDown(`SELECT count(1) FROM ${DMC} WHERE c1 > 100 AND c1 < 1000`, 3),
      ],
    },
    {
      task: 'dm-task-incremental.yaml',
      label: 'run.sh run(), mode incremental (on a fresh sandbox)',
      omitted: [
        "DM pauses on db1.increment2.sql (\"Column count doesn't match value count\") because its schema tracker took the downstream table (4 columns) for t1, then run.sh sets t1's schema with `operate-schema set` and resumes. tsdm's tracker takes the upstream table at the start position, so nothing pauses; the rows must arrive all the same.",
      ],
      steps: [
        file(1, 'db1.prepare.sql'),
        file('down', 'tidb.prepare.sql'),
        sources,
        start(),
        file(1, 'db1.increment2.sql'),
        expectDown(`SELECT count(1) FROM ${DMC} WHERE c1 > 1000 AND c1 < 10000`, 2),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ gbk

const colOf = (table: string, col: string, what: string) =>
  `SELECT ${what} FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'gbk' AND TABLE_NAME = '${table}' AND COLUMN_NAME = '${col}'`;
const ICT = 'gbk.invalid_conn_test1';
const gbk: CasePlan = {
  name: 'gbk',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'the worker restarts with failpoints that fake a lost connection while a DDL runs in TiDB (ADMIN SHOW DDL JOB QUERIES): the same DDLs run here, and their effect is checked',
      ],
      steps: [
        ...prepare12,
        sources,
        ...startThenIncrements(''),
        // test_from_tidb
        sql(1, 'use gbk', 'create table ddl1(b char(20))'),
        why(
          expectDown(
            "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'gbk' AND TABLE_NAME = 'ddl1'",
            'gbk_chinese_ci',
          ),
          'a table created in a gbk database is gbk downstream too',
        ),
        sql(
          1,
          'use gbk',
          'create table ddl2(a char(20) charset gbk, b char(20) charset utf8mb4)',
          'create table ddl2_copy like ddl2',
          "insert into ddl2_copy values('一二三', '一二三')",
        ),
        expectDown('select hex(a) from gbk.ddl2_copy', 'D2BBB6FEC8FD'),
        expectDown('select hex(b) from gbk.ddl2_copy', 'E4B880E4BA8CE4B889'),
        sql(1, 'use gbk', 'create table ddl3(id int, a char(20) charset gbk) partition by hash(id) partitions 4'),
        expectDown(
          "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'gbk' AND TABLE_NAME = 'ddl3'",
          4,
        ),
        sql(1, 'create database gbk3 charset utf8', 'alter database gbk3 charset gbk'),
        expectDown(
          "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'gbk3'",
          'gbk',
        ),
        why(
          {
            kind: 'sql',
            on: 1,
            sql: ["create table gbk.ddl4 (c int primary key comment '你好')"],
            charset: 'GBK_CHINESE_CI',
          },
          'run_sql … "gbk": the client sends the statement in gbk, so the binlog holds gbk bytes',
        ),
        expectDown(colOf('ddl4', 'c', 'COLUMN_COMMENT'), '你好'),
        // DDLs with a charset introducer, then rows
        sql(
          1,
          `CREATE TABLE IF NOT EXISTS ${ICT}(i TINYINT, j INT UNIQUE KEY, k TINYINT, m TINYINT, n TINYINT, h TINYINT)`,
          'CREATE TABLE IF NOT EXISTS gbk.invalid_conn_test2(i TINYINT, j INT UNIQUE KEY, k TINYINT, m TINYINT, n TINYINT, h TINYINT)',
        ),
        ...['j', 'm', 'n'].map(
          (col): Step => sql(1, `ALTER TABLE ${ICT} MODIFY COLUMN ${col} SMALLINT(4) NOT NULL DEFAULT _UTF8MB4'0'`),
        ),
        sql(
          1,
          `ALTER TABLE ${ICT} MODIFY COLUMN h SMALLINT(4) NOT NULL DEFAULT _UTF8MB4'0'`,
          `INSERT INTO ${ICT} VALUES (1,1,1,1,1,1)`,
          `INSERT INTO ${ICT} VALUES (2,2,2,2,2,2)`,
        ),
        expectDown(colOf('invalid_conn_test1', 'h', 'COLUMN_TYPE'), 'smallint(4)'),
        caughtUp,
        diff('diff_config.toml'),
        // adding UNIQUE on a column with duplicate data downstream
        sql(1, `INSERT INTO ${ICT} VALUES (3,3,3,3,3,3)`),
        why(sql('down', `INSERT INTO ${ICT} VALUES (3,4,4,4,4,4)`), 'a row only the downstream has, i=3 twice there'),
        sql(1, `ALTER TABLE ${ICT} ADD UNIQUE(i)`),
        {
          kind: 'expectPaused',
          why: 'the downstream cannot add the unique key: i=3 is there twice',
          dmMessage: 'DDL ALTER TABLE `gbk`.`invalid_conn_test1` ADD UNIQUE(`i`) executed in background and met error',
        },
        why(sql('down', `DELETE FROM ${ICT} WHERE j=4`), 'the DBA removes the extra row'),
        { kind: 'resume' },
        caughtUp,
        sql(
          1,
          `ALTER TABLE ${ICT} MODIFY COLUMN i INT(4) NOT NULL DEFAULT _UTF8MB4'0', MODIFY COLUMN j INT(4) NOT NULL DEFAULT _UTF8MB4'0'`,
          "ALTER TABLE gbk.invalid_conn_test2 MODIFY COLUMN i INT(4) NOT NULL DEFAULT _UTF8MB4'0', MODIFY COLUMN j INT(4) NOT NULL DEFAULT _UTF8MB4'0'",
        ),
        caughtUp,
        expectDown(colOf('invalid_conn_test1', 'j', 'COLUMN_TYPE'), 'int(4)'),
        diff('diff_config.toml'),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ incompatible_ddl_changes

const IDC = 'incompatible_ddl_changes';
/** run.sh's pairs: a statement, and the DM event of the `action: Error` filter it must pause on ('' = none). */
const IDC_STEPS: [string, string][] = [
  [`alter table ${IDC}.t1 modify column c_mediumint smallint(6)`, 'value range decrease'],
  [`alter table ${IDC}.t1 modify column c_mediumint mediumint(7)`, ''],
  [`alter table ${IDC}.t1 modify column c_decimal decimal(7,1)`, 'precision decrease'],
  [`alter table ${IDC}.t1 modify column c_decimal decimal(7,2)`, 'precision decrease'],
  [`alter table ${IDC}.t1 modify column c_mediumint varchar(10)`, 'modify column'],
  [`alter table ${IDC}.t1 modify column c_mediumint mediumint(7)`, 'modify column'],
  [`alter table ${IDC}.t1 change c_mediumint c_mediumint_new mediumint(7)`, 'rename column'],
  [`alter table ${IDC}.t1 change c_mediumint_new c_mediumint mediumint(7)`, 'rename column'],
  [`alter table ${IDC}.t1 drop column c_json`, 'drop column'],
  [`alter table ${IDC}.t1 add column c_json json`, ''],
  [`alter table ${IDC}.t1 change id id int(11)`, 'remove auto increment'],
  [`alter table ${IDC}.t1 drop primary key`, 'drop primary key'],
  [`alter table ${IDC}.t1 change c_int c_int int default 1`, 'modify default value'],
  [`alter table ${IDC}.t1 add constraint c_int_unique unique(c_int)`, 'modify constraint'],
  [`alter table ${IDC}.t1 change c_int c_int int`, 'drop unique key'],
  [`alter table ${IDC}.t1 drop index c_int_unique`, 'drop index'],
  [`alter table ${IDC}.t1 change c_smallint c_smallint smallint(6) after c_json`, 'modify columns order'],
  [`alter table ${IDC}.t1 modify c_char char(4) CHARACTER SET latin1`, 'modify charset'],
  [`alter table ${IDC}.t1 modify c_text text COLLATE utf8mb4_unicode_ci`, 'modify collation'],
  [`alter table ${IDC}.t1 engine = MyISAM`, 'modify storage engine'],
  [`alter table ${IDC}.t1 partition by range(id) (partition p0 values less than (100000))`, ''],
  [
    `alter table ${IDC}.t1 reorganize partition p0 into ( partition n0 values less than (5), partition n1 values less than (100000))`,
    'reorganize table partition',
  ],
  [`alter table ${IDC}.t1 truncate partition n0`, 'truncate table partition'],
  [`alter table ${IDC}.t1 rebuild partition n0,n1`, 'rebuild table partition'],
  [
    `create table ${IDC}.tb1(id int) partition by range(id)(partition p0 values less than (100000), partition p1 values less than(1000000))`,
    '',
  ],
  [`create table ${IDC}.tb2(id int)`, ''],
  [`alter table ${IDC}.tb1 exchange partition p0 with table ${IDC}.tb2`, 'exchange table partition'],
  [`create table ${IDC}.tb3(id int) partition by hash(id) partitions 6`, ''],
  [`alter table ${IDC}.tb3 coalesce partition 2`, 'coalesce table partition'],
  [`alter table ${IDC}.tb3 add index idx(id)`, 'modify constraint'],
  [`alter table ${IDC}.tb3 rename index idx to idx1`, 'rename index'],
  [`alter table ${IDC}.tb1 drop partition p0`, 'drop table partition'],
  [`rename table ${IDC}.tb3 to ${IDC}.tb4`, 'rename table'],
  [`truncate table ${IDC}.tb4`, 'truncate table'],
  [`drop table ${IDC}.tb4`, 'drop table'],
  [`drop database ${IDC}`, 'drop database'],
];
const incompatibleDdlChanges: CasePlan = {
  name: 'incompatible_ddl_changes',
  scenarios: ['dm-task.yaml', 'dm-task1.yaml'].map((task) => ({
    task,
    label: `run.sh incompatible_ddl ${task}`,
    steps: [
      why(
        sql(1, "SET GLOBAL character_set_server = 'utf8mb4'", "SET GLOBAL collation_server = 'utf8mb4_general_ci'"),
        "MySQL 8's default character set, which the case's database takes (MariaDB's is latin1, where `char(4) CHARACTER SET latin1` changes nothing)",
      ),
      file(1, 'db1.prepare.sql'),
      sources,
      start(false),
      file(1, 'db1.increment.sql'),
      caughtUp,
      ...IDC_STEPS.flatMap(([stmt, event]): Step[] =>
        event
          ? [
              sql(1, stmt),
              { kind: 'expectPaused', dmMessage: `event ${event}`, tsdmText: event },
              { kind: 'binlogSkip' },
            ]
          : [sql(1, stmt)],
      ),
    ],
  })),
};

export const MORE_PLANS: CasePlan[] = [downstreamDiffIndex, downstreamMoreColumn, gbk, incompatibleDdlChanges];

export const MORE_WRITTEN_FOR: Readonly<Record<string, string>> = {
  downstream_diff_index: 'a0fd403d12906a63',
  downstream_more_column: '881749d6d8937000',
  gbk: 'bfff6abfcc7b227d',
  incompatible_ddl_changes: 'da8712e3649a6698',
};
