/**
 * The flows of DM's own run.sh (pingcap/tiflow dm/tests/<case>/run.sh at the commit in dm-cases/SOURCE_COMMIT)
 * for the twelve cases in ../shared/dm-cases, reduced to their common core: the same data files in the same
 * order on the same server, the same sync-diff checks (with run.sh's own edits), and the row-count checks run.sh
 * makes where it has no diff config. Left out everywhere: failpoints, worker kills and restarts, relay
 * commands, metrics and log greps — those test DM's internals, not what reaches the downstream.
 */
import { caseFingerprint } from './case-files.ts';
import { defaultPlan } from './default-plan.ts';
import type { CasePlan, Mysql8Only, Scenario, Step } from './plan.ts';
import {
  caughtUp,
  diff,
  expectDown,
  file,
  increment12,
  prepare12,
  sources,
  sql,
  start,
  startThenIncrements,
  why,
} from './plan-steps.ts';
import { MORE_PLANS, MORE_WRITTEN_FOR } from './plans-more.ts';
import { shardddlPlan } from './shardddl-plan.ts';

// ------------------------------------------------------------------------------------------ all_mode

const ALL_MODE_GLOBALS: Step[] = [
  sql('ups', "SET @@GLOBAL.SQL_MODE='ANSI_QUOTES,NO_AUTO_VALUE_ON_ZERO'"),
  sql(1, "SET @@global.time_zone = '+01:00'"),
  sql(2, "SET @@global.time_zone = '+02:00'"),
];
const MULTI_VALUED_INDEX =
  'multi-valued index KEY j_index ((CAST(json_extract(j, ...) AS SIGNED ARRAY)), id) exists only in MySQL 8.0.17+';
const ALL_MODE_MYSQL8: Mysql8Only[] = [
  { file: 'db2.prepare.sql', match: /^CREATE TABLE t3 \(/i, reason: MULTI_VALUED_INDEX },
  { file: 'db2.prepare.sql', match: /^INSERT INTO t3 /i, reason: `table t3 needs the ${MULTI_VALUED_INDEX}` },
  { file: 'db2.increment0.sql', match: /^UPDATE all_mode\.t3 /i, reason: `table t3 needs the ${MULTI_VALUED_INDEX}` },
];
const NO_DIFF_DT_EQ_TS = ["SET time_zone = '+04:00'", 'SELECT count(*) FROM all_mode.no_diff WHERE dt = ts'];

const allMode: CasePlan = {
  name: 'all_mode',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      mysql8Only: ALL_MODE_MYSQL8,
      omitted: [
        'the task name with illegal characters (sed on name:)',
        'the TiDB-only start with charset greek rejected downstream',
        'TiDB kill/restart around db2.increment0.sql',
        'operate-schema, pause-relay/resume-relay and worker restarts',
      ],
      steps: [
        ...ALL_MODE_GLOBALS,
        why(
          sql(
            'down',
            'CREATE DATABASE all_mode',
            'CREATE TABLE all_mode.no_diff(id int NOT NULL PRIMARY KEY, dt datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, ts timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)',
          ),
          'run.sh creates the target table with two extra columns',
        ),
        ...prepare12,
        sql(
          1,
          'CREATE TABLE all_mode.no_diff2(id int primary key, name varchar(20)) charset=greek',
          "INSERT INTO all_mode.no_diff2 VALUES (1, 'αβγ')",
        ),
        why(
          sql('down', 'CREATE TABLE all_mode.no_diff2(id int primary key, name varchar(20)) charset=utf8mb4'),
          'run.sh creates it downstream (TiDB has no greek)',
        ),
        sources,
        start(),
        caughtUp,
        diff('diff_config.toml'),
        expectDown("SELECT count(1) FROM all_mode.no_diff2 WHERE name = 'αβγ'", 1),
        why(
          sql(1, 'CREATE VIEW all_mode.t1_v AS SELECT * FROM all_mode.t1 WHERE id=0'),
          'CREATE VIEW must not stop the task',
        ),
        caughtUp,
        expectDown(NO_DIFF_DT_EQ_TS, 3, 'extra downstream columns get their defaults in the task time zone +04:00'),
        file(2, 'db2.increment0.sql'),
        sql(1, 'FLUSH LOGS'),
        file(1, 'db1.increment0.sql'),
        caughtUp,
        diff('diff_config.toml'),
        expectDown(NO_DIFF_DT_EQ_TS, 4),
        ...increment12(),
        caughtUp,
        diff('diff_config.toml'),
        expectDown(
          "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ignore_db'",
          0,
          'block-allow-list ignore-dbs',
        ),
      ],
    },
    {
      task: 'dm-task.yaml',
      label: 'run.sh test_fail_job_between_event',
      mysql8Only: ALL_MODE_MYSQL8,
      omitted: ['the failpoints that fail the second job of an event'],
      steps: [
        ...ALL_MODE_GLOBALS,
        ...prepare12,
        sources,
        start(),
        ...increment12('3'),
        caughtUp,
        diff('diff_config.toml'),
      ],
    },
    {
      task: 'dm-task.yaml',
      label: 'run.sh test_session_config',
      mysql8Only: ALL_MODE_MYSQL8,
      omitted: ['the start with an invalid TiDB session variable (tidb_retry_limit)'],
      steps: [
        ...ALL_MODE_GLOBALS,
        ...prepare12,
        sources,
        start(),
        sql(
          1,
          'create table if not exists all_mode.t1 (c int)',
          "insert into all_mode.t1 (id, name) values (9, 'haha')",
        ),
        caughtUp,
        diff('diff_config.toml'),
        sql(1, "set session binlog_row_image = 'minimal'", "update all_mode.t1 set name = 'hoho' where id = 9"),
        {
          kind: 'expectPaused',
          why: 'a row event written with binlog_row_image=minimal lacks columns',
          dmMessage: "upstream didn't log enough columns in binlog",
        },
      ],
    },
    {
      task: 'dm-task-expression-filter.yaml',
      label: 'run.sh test_expression_filter',
      mysql8Only: ALL_MODE_MYSQL8,
      omitted: ['sed enable-gtid: false on source1'],
      steps: [
        ...ALL_MODE_GLOBALS,
        ...prepare12,
        sources,
        start(),
        ...increment12('3'),
        caughtUp,
        diff('diff_config.toml'),
        expectDown('SELECT count(*) FROM all_mode.t1', 6),
        sql(1, 'DELETE FROM all_mode.t1 WHERE id = 30'),
        caughtUp,
        { kind: 'diff', file: 'diff_config.toml', mustFail: true },
        expectDown('SELECT count(*) FROM all_mode.t1', 6, 'delete-value-expr "id = 30" filters the DELETE'),
      ],
    },
    {
      task: 'dm-task-expression-filter.yaml',
      label: 'run.sh test_json_expression',
      omitted: ['sed enable-gtid: false on source1'],
      steps: [
        ...ALL_MODE_GLOBALS,
        file(1, 'db3.prepare.sql'),
        sources,
        start(),
        file(1, 'db3.increment.sql'),
        caughtUp,
        diff('diff_config.toml'),
      ],
    },
    ...['regexpr-task.yaml', 'regexpr-task-lightning.yaml'].map((task) => ({
      task,
      label: 'run.sh test_regexpr_router',
      omitted: [
        'the start with an invalid TiDB session variable (tidb_retry_limit)',
        'the task name with illegal characters',
      ],
      steps: [
        ...ALL_MODE_GLOBALS,
        file(1, 'db1.regexpr.sql'),
        file(2, 'db2.regexpr.sql'),
        sql(
          'down',
          'CREATE DATABASE dtest2',
          'CREATE DATABASE dtest4',
          'CREATE TABLE IF NOT EXISTS dtest2.dtable2(a int, b int)',
          'CREATE TABLE IF NOT EXISTS dtest4.dtable4(a int, b int)',
        ),
        sources,
        start(),
        caughtUp,
        diff('regexpr_diff_config.toml'),
      ],
    })),
    {
      task: 'dm-task-no-gtid.yaml',
      label: 'run.sh test_source_and_target_with_empty_gtid',
      omitted: ['log greps for the skipped statements'],
      steps: [
        sql(1, 'CREATE DATABASE all_mode', 'CREATE TABLE all_mode.t1(i TINYINT, j INT UNIQUE KEY)', 'RESET MASTER'),
        sources,
        start(),
        sql(1, 'INSERT INTO all_mode.t1 VALUES (1,1001)'),
        caughtUp,
        diff('diff_config-1.toml'),
        why(
          sql(1, 'create table all_mode.t2(c int primary key)'),
          'checkpoint reaches the head when the last event is a DDL',
        ),
        caughtUp,
        expectDown(
          "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'all_mode' AND TABLE_NAME = 't2'",
          1,
        ),
        why(
          sql(1, "create FUNCTION all_mode.hello (s CHAR(20)) RETURNS CHAR(50) DETERMINISTIC RETURN 'a'"),
          'a DDL DM cannot parse is skipped',
        ),
        caughtUp,
        why(sql(1, 'analyze table all_mode.t1'), 'a statement DM parses but does not replicate'),
        caughtUp,
        why(sql(1, 'create database xxx'), 'a DDL the block-allow-list filters'),
        caughtUp,
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ case_sensitive

const caseSensitive: CasePlan = {
  name: 'case_sensitive',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh prepare_sensitive_task + run_with_prepared',
      omitted: [
        'the second pass with case-sensitive removed from the task (a sed on the task file)',
        'worker restarts',
      ],
      steps: [
        sql('ups', "SET @@GLOBAL.SQL_MODE='ANSI_QUOTES,NO_AUTO_VALUE_ON_ZERO'"),
        ...prepare12,
        sql('down', 'CREATE DATABASE IF NOT EXISTS `UPPER_DB_ROUTE`'),
        sources,
        start(),
        caughtUp,
        diff('diff_config.toml'),
        ...increment12(),
        caughtUp,
        diff('diff_config.toml'),
        expectDown(
          "SELECT count(*) FROM information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME IN ('Upper_DB1', 'lower_db', 'UPPER_DB_ROUTE')",
          3,
        ),
        expectDown('SELECT count(*) FROM UPPER_DB_ROUTE.do_table_route', 5),
        why(
          sql(1, 'truncate table Upper_DB.Do_Table', "INSERT INTO Upper_DB.Do_Table (id, name) values (103, 'new')"),
          'the filter ignores truncate table',
        ),
        caughtUp,
        expectDown('SELECT count(*) FROM UPPER_DB_ROUTE.do_table_route', 6),
        expectDown("SELECT count(*) FROM information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME = 'Upper_Db_IGNORE'", 0),
        expectDown(
          "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'UPPER_DB_ROUTE' AND BINARY TABLE_NAME = 'Do_table_ignore'",
          0,
        ),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ expression_filter

const expressionFilter: CasePlan = {
  name: 'expression_filter',
  scenarios: [
    {
      task: 'dm-task2.yaml',
      label: 'run.sh complex_behaviour',
      omitted: ['the start in a read-only work dir', 'log counts of filtered rows'],
      steps: [
        sources,
        file(1, 'db1.prepare2.sql'),
        start(false),
        caughtUp,
        file(1, 'db1.increment2.sql'),
        caughtUp,
        expectDown('select count(0) from expr_filter.t2', 6),
        expectDown('select count(1) from expr_filter.t2 where should_skip = 0', 6),
        expectDown('select count(2) from expr_filter.t2 where should_skip = 1', 0),
        expectDown('select count(3) from expr_filter.t3', 1),
        expectDown('select count(4) from expr_filter.t3 where should_skip = 1', 0),
        expectDown('select count(5) from expr_filter.t4', 1),
        expectDown('select count(6) from expr_filter.t4 where should_skip = 1', 0),
        expectDown('select count(7) from expr_filter.t5', 4),
        expectDown('select count(8) from expr_filter.t5 where should_skip = 1', 0),
        expectDown(
          "select count(9) from expr_filter.t6 where name = 'Müller…' and msg = 'Müller…' and name2 = 'Müller…'",
          2,
        ),
        expectDown("select count(10) from expr_filter.t6 where name != 'Müller…'", 0),
        expectDown("select count(11) from expr_filter.t7 where r = 'a' and s = 2", 1),
        expectDown("select count(12) from expr_filter.t7 where r = 'a' and s = 3", 0),
      ],
    },
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: ['log counts of filtered rows'],
      steps: [
        sources,
        file(1, 'db1.prepare.sql'),
        start(false),
        why(
          { kind: 'syncUnit' },
          "DM's dump of the empty table is done before run.sh writes the rows: expression filters apply to binlog rows only",
        ),
        file(1, 'db1.increment.sql'),
        caughtUp,
        { kind: 'expect', on: 1, sql: ['select count(9) from expr_filter.t1'], equals: '60' },
        expectDown('select count(10) from expr_filter.t1', 30),
        expectDown('select count(11) from expr_filter.t1 where should_skip = 1', 0),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ extend_column

const extendColumnSteps: Step[] = (() => {
  const y = (where: string, n: number) =>
    expectDown(`select count(1) from extend_column.y${where ? ` where ${where}` : ''}`, n);
  const t = (where: string, n: number) =>
    expectDown(`select count(1) from extend_column.t${where ? ` where ${where}` : ''}`, n);
  const s1 = "c_schema='extend_column1' and c_source='replica01'";
  const s2 = "c_schema='extend_column2' and c_source='replica02'";
  return [
    ...prepare12,
    sources,
    sql('down', 'create database extend_column', 'create table extend_column.t (c1 int primary key, c2 int, c3 int)'),
    why(
      {
        kind: 'startFails',
        removeMeta: true,
        expect: ['does not exist in downstream', 'must contain extended columns'],
      },
      "DM's precheck: table y is missing downstream, table t lacks the extended columns",
    ),
    why(file('down', 'tidb.prepare.sql'), 'run.sh creates the target tables with the extended columns'),
    start(),
    caughtUp,
    y('', 4),
    y("c_table='1'", 2),
    y("c_table='2'", 2),
    t('', 4),
    t(`c_table='1' and ${s1}`, 2),
    t(`c_table='2' and ${s2}`, 2),
    ...increment12(),
    caughtUp,
    y('', 6),
    t('', 6),
    y("c1=3 and c_table='1'", 1),
    y("c1=3 and c_table='2'", 1),
    t(`c1=3 and c_table='1' and ${s1}`, 1),
    t(`c1=3 and c_table='2' and ${s2}`, 1),
    file(1, 'db1.update.sql'),
    file(2, 'db2.update.sql'),
    caughtUp,
    y("c1=3 and c_table='1'", 1),
    y("c1=4 and c_table='1'", 0),
    y("c1=3 and c_table='2'", 0),
    y("c1=4 and c_table='2'", 1),
    t(`c1=3 and c_table='1' and ${s1}`, 1),
    t(`c1=4 and c_table='1' and ${s1}`, 0),
    t(`c1=3 and c_table='2' and ${s2}`, 0),
    t(`c1=4 and c_table='2' and ${s2}`, 1),
    file(1, 'db1.delete.sql'),
    file(2, 'db2.delete.sql'),
    caughtUp,
    y('', 5),
    y("c1=1 and c_table='1'", 1),
    y("c1=2 and c_table='1'", 1),
    y("c1=3 and c_table='1'", 1),
    y("c1=4 and c_table='1'", 0),
    y("c1=1 and c_table='2'", 1),
    y("c1=2 and c_table='2'", 1),
    y("c1=3 and c_table='2'", 0),
    y("c1=4 and c_table='2'", 0),
    t('', 4),
    t(`c1=1 and c_table='1' and ${s1}`, 1),
    t(`c1=2 and c_table='1' and ${s1}`, 1),
    t(`c1=3 and c_table='1' and ${s1}`, 1),
    t(`c1=4 and c_table='1' and ${s1}`, 0),
    t(`c1=1 and c_table='2' and ${s2}`, 1),
    t(`c1>1 and c_table='2' and ${s2}`, 0),
  ];
})();

const extendColumn: CasePlan = {
  name: 'extend_column',
  scenarios: ['sql', 'loader'].map((mode) => ({
    task: 'dm-task.yaml',
    label: `run.sh run_case ${mode} (import-mode: ${mode})`,
    placeholders: { 'import-mode-placeholder': mode },
    steps: extendColumnSteps,
  })),
};

// ------------------------------------------------------------------------------------------ full_mode

const fullMode: CasePlan = {
  name: 'full_mode',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      caseUsers: ['dm_full'],
      omitted: ['fail_acquire_global_lock, escape_schema and empty_data (failpoints, sed on the case files)'],
      steps: [
        sql('ups', "SET @@GLOBAL.SQL_MODE='NO_BACKSLASH_ESCAPES'"),
        sql(1, "SET @@global.time_zone = '+01:00'"),
        sql(2, "SET @@global.time_zone = '+02:00'"),
        ...prepare12,
        sql(
          1,
          'create table full_mode.`tb"1` (id int,name varchar(10), primary key(`id`))',
          "insert into full_mode.`tb\"1` values(1,'haha')",
          "insert into full_mode.`tb\"1` values(2,'hihi')",
        ),
        why(
          sql(
            'down',
            'create database if not exists full_mode',
            'create table full_mode.`tb"1` (id int,name varchar(10), primary key(`id`))',
            "insert into full_mode.`tb\"1` values(1,'hoho')",
          ),
          'a different downstream row: on-duplicate-logical: ignore keeps it',
        ),
        file(1, 'db1.prepare.user.sql'),
        file(2, 'db2.prepare.user.sql'),
        sources,
        start(),
        caughtUp,
        expectDown(
          'SELECT name FROM full_mode.`tb"1` WHERE id = 1',
          'hoho',
          'loaders.global.on-duplicate-logical: ignore',
        ),
        sql(1, "REPLACE INTO full_mode.`tb\"1` values(1,'hoho')"),
        diff('diff_config.toml'),
      ],
    },
    {
      task: 'dm-task-2.yaml',
      label: 'run.sh only_route_schema',
      caseUsers: ['dm_full'],
      steps: [
        why(file(1, 'db1.prepare.user.sql'), 'the source user, created by the earlier flows of run.sh'),
        file(2, 'db2.prepare.user.sql'),
        sql(1, 'drop database if exists full_mode', 'create database full_mode'),
        sources,
        start(),
        caughtUp,
        expectDown(
          "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'full_mode_test'",
          1,
          'route-rule-1 routes the schema',
        ),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ incremental_mode

const incrementalMode: CasePlan = {
  name: 'incremental_mode',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      sourceUser: { user: 'dm_incremental', password: '123456' },
      omitted: ['relay start/stop, worker kills, failpoints', 'the final check-task/purge-binlog meta position checks'],
      steps: [
        ...prepare12,
        why(
          file(1, 'db1.prepare.user.sql'),
          'run.sh then switches the sources to this user (sed s/root/dm_incremental/)',
        ),
        file(2, 'db2.prepare.user.sql'),
        sources,
        start(),
        ...increment12(),
        caughtUp,
        diff('diff_config.toml'),
        why(
          sql(1, 'flush logs', 'truncate table incremental_mode.t1'),
          'after rotate and DDL the synced position equals the master position',
        ),
        caughtUp,
        diff('diff_config.toml'),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ online_ddl

const onlineDdl: CasePlan = {
  name: 'online_ddl',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'gh-ost and pt-online-schema-change are not installed here: the increment files run as plain ALTER statements instead of through the tools, and the eight "add column c" tool runs are left out',
        'check-task.yaml (a precheck expectation, not a migration)',
        'worker kill and failover',
      ],
      steps: [
        file(1, 'gho.db1.prepare.sql'),
        file(2, 'gho.db2.prepare.sql'),
        file(1, 'pt.db1.prepare.sql'),
        file(2, 'pt.db2.prepare.sql'),
        why(
          sql(
            1,
            'create table online_ddl.gho_ignore (c int)',
            'create table online_ddl._gho_ignore_gho (c int)',
            'create table online_ddl.pt_ignore (c int)',
            'create table online_ddl._pt_ignore_new (c int)',
          ),
          'a task started while an online DDL tool runs',
        ),
        sources,
        start(),
        caughtUp,
        diff('diff_config.toml'),
        sql(
          1,
          'rename /* gh-ost */ table online_ddl.gho_ignore to online_ddl._gho_ignore_del, online_ddl._gho_ignore_gho to online_ddl.gho_ignore',
          'rename table online_ddl.pt_ignore to online_ddl._pt_ignore_old, online_ddl._pt_ignore_new to online_ddl.pt_ignore',
        ),
        file(1, 'gho.db1.increment.sql'),
        file(2, 'gho.db2.increment.sql'),
        file(1, 'pt.db1.increment.sql'),
        file(2, 'pt.db2.increment.sql'),
        caughtUp,
        why(
          sql(
            'down',
            'alter table online_ddl.gho_t_target add key name (name)',
            'alter table online_ddl.pt_t_target add key name (name)',
          ),
          'run.sh: the filter drops "add key name", so it adds the index downstream itself',
        ),
        diff('diff_config.toml'),
        file(1, 'gho.db1.increment2.sql'),
        file(2, 'gho.db2.increment2.sql'),
        file(1, 'pt.db1.increment2.sql'),
        file(2, 'pt.db2.increment2.sql'),
        caughtUp,
        diff('diff_config.toml'),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ only_dml

const onlyDml: CasePlan = {
  name: 'only_dml',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: ['purge-relay while the writer runs'],
      steps: [
        ...prepare12,
        sources,
        start(false),
        caughtUp,
        diff('diff_config.toml'),
        // run.sh insert_data: one row per source, twice, then FLUSH LOGS on both, every second until killed.
        ...Array.from({ length: 5 }, (_, k): Step[] => {
          const i = 1 + 2 * k;
          return [
            sql(1, `insert into only_dml.t1 values (${i * 2 + 1})`),
            sql(2, `insert into only_dml.t2 values (${i * 2 + 2})`),
            sql(1, `insert into only_dml.t1 values (${(i + 1) * 2 + 1})`),
            sql(2, `insert into only_dml.t2 values (${(i + 1) * 2 + 2})`),
            sql(1, 'flush logs'),
            sql(2, 'flush logs'),
          ];
        }).flat(),
        caughtUp,
        diff('diff_config.toml'),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ safe_mode

const safeMode: CasePlan = {
  name: 'safe_mode',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'worker exits during re-sync and while the shard group waits (failpoints)',
        'consistency_none and safe_mode_recover (sed on the task, failpoints)',
      ],
      steps: [...prepare12, sources, ...startThenIncrements('', '2')],
    },
    {
      task: 'dm-task-safe-mode-duration.yaml',
      label: 'run.sh safe_mode_duration',
      omitted: ['worker kills and the sed of safe-mode-duration between restarts'],
      steps: [...prepare12, sources, ...startThenIncrements('', '2')],
    },
  ],
};

// ------------------------------------------------------------------------------------------ sequence_sharding

const sequenceSharding: CasePlan = {
  name: 'sequence_sharding',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: ['the restart with ignore-checking-items appended to the task'],
      steps: [
        ...prepare12,
        sources,
        start(),
        caughtUp,
        diff('diff_config.toml'),
        ...increment12(),
        caughtUp,
        diff('diff_config.toml'),
        ...increment12('2'),
        {
          kind: 'expectPaused',
          why: 'the shards add different columns (new_col2 vs new_col3) in a different order',
          dmMessage: 'detect inconsistent DDL sequence',
        },
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ adjust_gtid

const adjustGtid: CasePlan = {
  name: 'adjust_gtid',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'the worker exits after adjusting the GTID (failpoint AdjustGTIDExit) and the checkpoint checks around them',
        'clean_gtid: the checkpoint rows edited in dm_meta between restarts (DM meta tables)',
      ],
      steps: [
        // The upstreams' modes and zones as run.sh sets them: the dump, the load and sync must all honour them.
        ...ALL_MODE_GLOBALS,
        ...prepare12,
        sources,
        ...startThenIncrements(''),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ sequence_safe_mode

const sequenceSafeMode: CasePlan = {
  name: 'sequence_safe_mode',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'the worker exits in re-sync and while the shard group is synced (failpoints), then their restarts in safe mode',
      ],
      steps: [
        ...prepare12,
        sources,
        why(
          sql(
            'down',
            'CREATE DATABASE IF NOT EXISTS sequence_safe_mode_target',
            'CREATE TABLE sequence_safe_mode_target.t_target (id bigint auto_increment, uid int, name varchar(80), c_table varchar(255), c_source varchar(255), primary key (id, c_table, c_source), unique key(uid)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
          ),
          'the merged table with the extended columns (c_table, c_source) is created downstream by the DBA',
        ),
        ...startThenIncrements('', '2'),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ tracker_ignored_ddl

const IGNORE_1_DOWN =
  "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'tracker_ignored_ddl' AND TABLE_NAME = 't1' AND COLUMN_NAME = 'ignore_1'";
const trackerIgnoredDdl: CasePlan = {
  name: 'tracker_ignored_ddl',
  scenarios: ['source1_gtid.yaml', 'source1_pos.yaml'].map(
    (src): Scenario => ({
      task: 'dm-task.yaml',
      label: `run.sh run ${src}`,
      sourceFiles: [src],
      omitted: ['stop-relay while the task runs (the source has no relay)'],
      steps: [
        file(1, 'db.prepare.sql'),
        sources,
        start(),
        caughtUp,
        diff('diff_config.toml'),
        file(1, 'db.increment1.sql'),
        caughtUp,
        why(expectDown(IGNORE_1_DOWN, 0), 'the task filters ALTER TABLE: ignore_1 is not added downstream'),
        sql(1, 'CREATE TABLE tracker_ignored_ddl.test (c int primary key)'),
        file(1, 'db.increment2.sql'),
        {
          kind: 'expectPaused',
          why: 'the upstream row has ignore_1, which the downstream table lacks: the write fails there',
          dmMessage: 'Error 1054 (42S22): Unknown column',
        },
        why(sql('down', 'ALTER TABLE tracker_ignored_ddl.t1 ADD COLUMN ignore_1 int'), 'the DBA adds the column'),
        { kind: 'resume' },
        caughtUp,
        expectDown('SELECT COUNT(*) FROM tracker_ignored_ddl.t1', 2),
        diff('diff_config.toml'),
      ],
    }),
  ),
};

// ------------------------------------------------------------------------------------------ sharding

const BOTH_SHARD_SCHEMAS: [string, string][] = [
  ['sharding1"#pattern1', 'sharding[1-2]"'],
  ['sharding1"#pattern2', 'sharding[1-2]"'],
];
const sharding: CasePlan = {
  name: 'sharding',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'FlushCheckpointStage failpoints and resumes',
        'the checksum of uid > 70000 rows before/after drop/truncate',
        'the conflicting DDL at the end',
        "SET @@GLOBAL.SQL_MODE='NO_ZERO_IN_DATE,NO_ZERO_DATE' on source 1: under it MariaDB rejects db1.increment.sql:28 (DEFAULT '0000-00-00 00:00:00', ER_INVALID_DEFAULT) where MySQL 5.7 only warns, so source 1 keeps MariaDB's default sql_mode",
      ],
      steps: [
        sql(2, "SET @@GLOBAL.SQL_MODE='ANSI_QUOTES'"),
        ...prepare12,
        sources,
        start(),
        caughtUp,
        sql(2, "SET @@GLOBAL.SQL_MODE=''"),
        diff('diff_config.toml'),
        ...increment12(),
        caughtUp,
        diff('diff_config.toml'),
        ...increment12('2'),
        caughtUp,
        diff('diff_config.toml', BOTH_SHARD_SCHEMAS),
        ...increment12('3'),
        caughtUp,
        diff('diff_config.toml', [BOTH_SHARD_SCHEMAS[0]!, ['\n# range-placeholder', '\nrange = "uid < 70000"']]),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ sql_mode

const sqlMode: CasePlan = {
  name: 'sql_mode',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        "the last check compares TiDB's SHOW CREATE TABLE text for a table with regexp_like()/regexp_instr() generated columns (TiDB output, MySQL 8 functions)",
      ],
      steps: [
        sources,
        sql(
          1,
          "SET @@GLOBAL.SQL_MODE='PIPES_AS_CONCAT,IGNORE_SPACE,ONLY_FULL_GROUP_BY,NO_UNSIGNED_SUBTRACTION,NO_DIR_IN_CREATE,NO_AUTO_VALUE_ON_ZERO,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ALLOW_INVALID_DATES,ERROR_FOR_DIVISION_BY_ZERO,HIGH_NOT_PRECEDENCE,NO_ENGINE_SUBSTITUTION,REAL_AS_FLOAT'",
        ),
        sql(2, "SET @@GLOBAL.SQL_MODE=''"),
        ...prepare12,
        start(false),
        caughtUp,
        diff('diff_config.toml'),
        file(1, 'db1.increment.sql'),
        caughtUp,
        diff('diff_config.toml'),
        file(2, 'db2.increment.sql'),
        caughtUp,
        diff('diff_config.toml'),
        file(1, 'timezone.Asia-Shanghai.sql'),
        caughtUp,
        diff('diff_config.toml'),
        file(1, 'timezone.America-Phoenix.sql'),
        caughtUp,
        diff('diff_config.toml'),
      ],
    },
  ],
};

export const PLANS: Readonly<Record<string, CasePlan>> = Object.fromEntries(
  [
    adjustGtid,
    allMode,
    caseSensitive,
    expressionFilter,
    extendColumn,
    fullMode,
    incrementalMode,
    onlineDdl,
    onlyDml,
    safeMode,
    sequenceSafeMode,
    sequenceSharding,
    sharding,
    sqlMode,
    trackerIgnoredDdl,
    ...MORE_PLANS,
  ].map((p) => [p.name, p]),
);

/**
 * The case folders these plans were written for, by content (caseFingerprint of ../shared/dm-cases/<case> at
 * tiflow c7b2588ef6): a plan encodes one run.sh for one set of files, so a folder of the same name with other
 * files — another commit of tiflow, an edited copy, someone's own case — gets the default plan, with a note.
 */
export const WRITTEN_FOR: Readonly<Record<string, string>> = {
  adjust_gtid: 'c31e761aa7d30818',
  all_mode: 'dc8f747e23919e57',
  case_sensitive: '2b52af8abd8c974c',
  expression_filter: '91fba20f1cb00056',
  extend_column: '1de7a66cfade12fe',
  full_mode: '97d3f7c59b4faef2',
  incremental_mode: 'd5fc530abdb2972b',
  online_ddl: '9d3208e90f15a222',
  only_dml: '3cd5021a7021ffd3',
  safe_mode: '673b246fbfcc234b',
  sequence_sharding: 'f6df4d11fdfd2450',
  sharding: '7784a838c4c2f65b',
  sql_mode: '3d60655f4dc1d823',
  // Not in ../shared/dm-cases: dm/tests/<case>/{conf,data} of the same tiflow commit, whose run.sh the default plan
  // cannot know (inline SQL on the downstream, a pause the DBA fixes, the upstreams' global modes).
  sequence_safe_mode: 'afde5d885280541c',
  tracker_ignored_ddl: '920361bf8a3737d9',
  ...MORE_WRITTEN_FOR,
};

export interface ChosenPlan {
  plan: CasePlan;
  /** Which plan and why, for the console and the report. */
  note: string;
}

/** The hand plan when the folder is the one it was written for, else the default plan (saying why). */
export function planFor(name: string, dir: string): ChosenPlan {
  const hand = PLANS[name];
  const derived = hand ? undefined : shardddlPlan(name, dir);
  if (derived) return { plan: derived, note: "plan read from the case's run.sh (shardddl-plan.ts)" };
  if (!hand) return { plan: defaultPlan(name, dir), note: 'default plan (no hand-written plan for this case)' };
  const have = caseFingerprint(dir);
  if (have === WRITTEN_FOR[name])
    return { plan: hand, note: `hand-written plan (plans.ts, folder fingerprint ${have})` };
  return {
    plan: defaultPlan(name, dir),
    note: `default plan: plans.ts has a plan for a case named ${name}, written for other files (fingerprint ${WRITTEN_FOR[name]}, this folder ${have}), so it is not used here`,
  };
}
