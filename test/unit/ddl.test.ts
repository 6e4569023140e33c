import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyQuery, rewriteDdl, splitDdl, type QueryInfo } from '../../src/sql/ddl.ts';
import { analyze } from '../../src/sql/ddl-parse.ts';
import { crossCheck } from '../../src/sql/ddl-crosscheck.ts';
import { lex } from '../../src/sql/lexer.ts';
import { qualify, quoteIdent } from '../../src/sql/table-name.ts';
import type { TableName } from '../../src/sql/table-name.ts';
import { DmError } from '../../src/errors/index.ts';

/** Test routing: schema db -> tgt, table t1 -> t1_new, shard_1.orders_1 -> merged.orders. */
function route(t: TableName): TableName {
  if (t.schema === 'shard_1') return { schema: 'merged', table: t.table === 'orders_1' ? 'orders' : t.table };
  return { schema: t.schema === 'db' ? 'tgt' : t.schema, table: t.table === 't1' ? 't1_new' : t.table };
}

interface DdlCase {
  sql: string;
  eventType: QueryInfo['eventType'];
  tables: [string, string][];
  /** expected rewriteDdl(sql, 'db', route); omitted = only the generic checks */
  rewrite?: string;
  clauseKinds?: QueryInfo['clauseKinds'];
}

const ALL_TYPES = `CREATE TABLE \`t1\` (
  \`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  \`ti\` tinyint(4) DEFAULT NULL, \`si\` smallint(6) DEFAULT -1, \`mi\` mediumint(9) unsigned zerofill, \`i\` int(11) NOT NULL DEFAULT '0',
  \`f\` float(7,3) DEFAULT NULL, \`d\` double DEFAULT 1.5e3, \`dec\` decimal(65,30) NOT NULL DEFAULT 0.000,
  \`b\` bit(8) DEFAULT b'101', \`bo\` tinyint(1) DEFAULT 1,
  \`dt\` datetime(6) NOT NULL DEFAULT current_timestamp(6) ON UPDATE current_timestamp(6), \`ts\` timestamp NULL DEFAULT NULL,
  \`da\` date DEFAULT '2000-01-01', \`tm\` time(3) DEFAULT NULL, \`y\` year(4) DEFAULT NULL,
  \`c\` char(10) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT NULL,
  \`vc\` varchar(255) COLLATE utf8mb4_unicode_ci DEFAULT 'it''s a \\'REFERENCES x\\' -- not a comment',
  \`bn\` binary(16) DEFAULT NULL, \`vb\` varbinary(64) DEFAULT NULL, \`tb\` tinyblob, \`bl\` blob, \`mb\` mediumblob, \`lb\` longblob,
  \`tt\` tinytext, \`tx\` text, \`mt\` mediumtext, \`lt\` longtext,
  \`e\` enum('a','b','c') DEFAULT 'a', \`s\` set('x','y') DEFAULT '',
  \`j\` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(\`j\`)),
  \`g\` geometry DEFAULT NULL, \`u\` uuid DEFAULT NULL, \`ip\` inet6 DEFAULT NULL,
  \`gen_v\` int(11) GENERATED ALWAYS AS (\`i\` + 1) VIRTUAL,
  \`gen_s\` varchar(20) AS (concat(\`vc\`,'-')) STORED,
  \`gen_p\` int(11) AS (\`i\` * 2) PERSISTENT,
  \`inv\` int(11) DEFAULT NULL INVISIBLE,
  PRIMARY KEY (\`id\`), UNIQUE KEY \`uk_c\` (\`c\`), KEY \`idx vc\` (\`vc\`(10)), FULLTEXT KEY \`ft\` (\`tx\`),
  CONSTRAINT \`fk_p\` FOREIGN KEY (\`i\`) REFERENCES \`parent\` (\`id\`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=1001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='all types; ''quoted'''`;

const DDL: DdlCase[] = [
  // ---- CREATE TABLE
  {
    sql: ALL_TYPES,
    eventType: 'create table',
    tables: [['db', 't1']],
    rewrite: ALL_TYPES.replace('CREATE TABLE `t1`', 'CREATE TABLE IF NOT EXISTS `tgt`.`t1_new`').replace(
      'REFERENCES `parent`',
      'REFERENCES `tgt`.`parent`',
    ),
  },
  {
    sql: 'CREATE TABLE db.sales (id int, d date) PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN (2020), PARTITION pmax VALUES LESS THAN MAXVALUE)',
    eventType: 'create table',
    tables: [['db', 'sales']],
    rewrite:
      'CREATE TABLE IF NOT EXISTS `tgt`.`sales` (id int, d date) PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN (2020), PARTITION pmax VALUES LESS THAN MAXVALUE)',
  },
  {
    sql: 'CREATE TABLE `h` (`a` int NOT NULL) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`a`)\nPARTITIONS 4 */',
    eventType: 'create table',
    tables: [['db', 'h']],
    rewrite:
      'CREATE TABLE IF NOT EXISTS `tgt`.`h` (`a` int NOT NULL) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`a`)\nPARTITIONS 4 */',
  },
  {
    sql: 'CREATE OR REPLACE TABLE t3 (a int)',
    eventType: 'create table',
    tables: [['db', 't3']],
    rewrite: 'CREATE OR REPLACE TABLE `tgt`.`t3` (a int)',
  },
  {
    sql: 'CREATE TABLE IF NOT EXISTS `my db`.`my table` (`a b` int)',
    eventType: 'create table',
    tables: [['my db', 'my table']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `my db`.`my table` (`a b` int)',
  },
  {
    sql: 'CREATE TABLE t4 LIKE t1',
    eventType: 'create table',
    tables: [
      ['db', 't4'],
      ['db', 't1'],
    ],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`t4` LIKE `tgt`.`t1_new`',
  },
  {
    sql: 'create table t5 (like shard_1.orders_1)',
    eventType: 'create table',
    tables: [
      ['db', 't5'],
      ['shard_1', 'orders_1'],
    ],
    rewrite: 'create table IF NOT EXISTS `tgt`.`t5` (like `merged`.`orders`)',
  },
  {
    sql: 'CREATE TABLE `Ünï cödé 表` (`名前` varchar(10))',
    eventType: 'create table',
    tables: [['db', 'Ünï cödé 表']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`Ünï cödé 表` (`名前` varchar(10))',
  },
  {
    sql: 'CREATE TABLE Таблица (a int)',
    eventType: 'create table',
    tables: [['db', 'Таблица']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`Таблица` (a int)',
  },
  {
    sql: 'CREATE TABLE `a``b` (x int)',
    eventType: 'create table',
    tables: [['db', 'a`b']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`a``b` (x int)',
  },
  {
    sql: '/* leading */ CREATE TABLE c1 (a int) -- trailing\n',
    eventType: 'create table',
    tables: [['db', 'c1']],
    rewrite: '/* leading */ CREATE TABLE IF NOT EXISTS `tgt`.`c1` (a int) -- trailing\n',
  },
  {
    sql: "CREATE TABLE c2 (a int COMMENT 'REFERENCES x; LIKE y', b int CHECK (b LIKE 'z%')) # hash comment",
    eventType: 'create table',
    tables: [['db', 'c2']],
    rewrite:
      "CREATE TABLE IF NOT EXISTS `tgt`.`c2` (a int COMMENT 'REFERENCES x; LIKE y', b int CHECK (b LIKE 'z%')) # hash comment",
  },
  {
    sql: 'CREATE TABLE t6 (id int) WITH SYSTEM VERSIONING',
    eventType: 'create table',
    tables: [['db', 't6']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`t6` (id int) WITH SYSTEM VERSIONING',
  },
  {
    sql: 'CREATE TABLE "ansi"."t" ("a" int)',
    eventType: 'create table',
    tables: [['ansi', 't']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `ansi`.`t` ("a" int)',
  },
  { sql: 'CREATE TABLE status (`select` int, `table` int)', eventType: 'create table', tables: [['db', 'status']] },
  {
    sql: 'CREATE TABLE db.1t (a int)',
    eventType: 'create table',
    tables: [['db', '1t']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`1t` (a int)',
  },
  {
    sql: 'CREATE TABLE `db` . `spaced` (a int)',
    eventType: 'create table',
    tables: [['db', 'spaced']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`spaced` (a int)',
  },
  {
    sql: 'CREATE TABLE kid (id int, pid int REFERENCES parent(id))',
    eventType: 'create table',
    tables: [['db', 'kid']],
    rewrite: 'CREATE TABLE IF NOT EXISTS `tgt`.`kid` (id int, pid int REFERENCES `tgt`.`parent`(id))',
  },
  // ---- ALTER TABLE
  {
    sql: 'ALTER TABLE t1 ADD COLUMN IF NOT EXISTS c INT AFTER id',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'add column'],
    rewrite: 'ALTER TABLE `tgt`.`t1_new` ADD COLUMN IF NOT EXISTS c INT AFTER id',
  },
  {
    sql: "ALTER TABLE t1 ADD COLUMN c2 INT NOT NULL DEFAULT 0 COMMENT 'x, y' FIRST, DROP COLUMN d, MODIFY name VARCHAR(30) NOT NULL, CHANGE e e2 INT, RENAME COLUMN s TO s2",
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'add column', 'drop column', 'modify column', 'rename column'],
  },
  {
    sql: 'ALTER TABLE t1 ADD INDEX idx_a (a), DROP INDEX idx_b, ADD UNIQUE KEY uk (b), ADD PRIMARY KEY (id)',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'modify constraint', 'drop index', 'add primary key'],
  },
  {
    sql: 'alter table t1 drop primary key, drop foreign key fk1',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'drop primary key'],
  },
  {
    sql: 'ALTER TABLE t1 RENAME TO t9',
    eventType: 'alter table',
    tables: [
      ['db', 't1'],
      ['db', 't9'],
    ],
    clauseKinds: ['alter table', 'rename table'],
    rewrite: 'ALTER TABLE `tgt`.`t1_new` RENAME TO `tgt`.`t9`',
  },
  {
    sql: 'ALTER TABLE shard_1.orders_1 RENAME AS db.t2',
    eventType: 'alter table',
    tables: [
      ['shard_1', 'orders_1'],
      ['db', 't2'],
    ],
    rewrite: 'ALTER TABLE `merged`.`orders` RENAME AS `tgt`.`t2`',
  },
  {
    sql: "ALTER TABLE t1 ENGINE=InnoDB, COMMENT='x'",
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'modify storage engine', 'modify table comment'],
  },
  {
    sql: 'ALTER TABLE t1 CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'modify charset'],
  },
  {
    sql: 'ALTER TABLE t1 ALTER COLUMN a SET DEFAULT 5',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'modify default value'],
  },
  {
    sql: 'ALTER TABLE t1 ADD CONSTRAINT fk2 FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE SET NULL',
    eventType: 'alter table',
    tables: [['db', 't1']],
    rewrite:
      'ALTER TABLE `tgt`.`t1_new` ADD CONSTRAINT fk2 FOREIGN KEY (pid) REFERENCES `tgt`.`parent` (id) ON DELETE SET NULL',
  },
  {
    sql: 'ALTER TABLE t1 ADD PARTITION (PARTITION p3 VALUES LESS THAN (30))',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'add table partition'],
  },
  {
    sql: 'ALTER TABLE t1 DROP PARTITION p0, p1',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'drop table partition'],
  },
  {
    sql: 'ALTER TABLE t1 TRUNCATE PARTITION p1',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'truncate table partition'],
  },
  {
    sql: 'ALTER TABLE t1 EXCHANGE PARTITION p0 WITH TABLE t1_arch',
    eventType: 'alter table',
    tables: [
      ['db', 't1'],
      ['db', 't1_arch'],
    ],
    clauseKinds: ['alter table', 'exchange table partition'],
    rewrite: 'ALTER TABLE `tgt`.`t1_new` EXCHANGE PARTITION p0 WITH TABLE `tgt`.`t1_arch`',
  },
  {
    sql: 'ALTER TABLE t1 PARTITION BY HASH (id) PARTITIONS 8',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'alter table partitioning'],
  },
  {
    sql: 'ALTER ONLINE IGNORE TABLE t1 ADD COLUMN x INT, ALGORITHM=INPLACE, LOCK=NONE',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'add column'],
  },
  {
    sql: 'ALTER TABLE IF EXISTS t1 DROP COLUMN IF EXISTS x',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'drop column'],
    rewrite: 'ALTER TABLE IF EXISTS `tgt`.`t1_new` DROP COLUMN IF EXISTS x',
  },
  {
    sql: 'ALTER TABLE t1 RENAME INDEX a TO b, RENAME KEY c TO d',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'rename index'],
  },
  {
    sql: 'ALTER TABLE t1 ADD exchange INT, ADD `references` INT',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'add column'],
    rewrite: 'ALTER TABLE `tgt`.`t1_new` ADD exchange INT, ADD `references` INT',
  },
  {
    sql: 'ALTER TABLE t1 CHANGE COLUMN a A BIGINT',
    eventType: 'alter table',
    tables: [['db', 't1']],
    clauseKinds: ['alter table', 'modify column'],
  },
  {
    sql: 'SET STATEMENT max_statement_time=60 FOR ALTER TABLE t1 ADD c int',
    eventType: 'alter table',
    tables: [['db', 't1']],
    rewrite: 'SET STATEMENT max_statement_time=60 FOR ALTER TABLE `tgt`.`t1_new` ADD c int',
  },
  // ---- RENAME / DROP / TRUNCATE
  {
    sql: 'RENAME TABLE a TO b, c TO d',
    eventType: 'rename table',
    tables: [
      ['db', 'a'],
      ['db', 'b'],
      ['db', 'c'],
      ['db', 'd'],
    ],
    rewrite: 'RENAME TABLE `tgt`.`a` TO `tgt`.`b`, `tgt`.`c` TO `tgt`.`d`',
  },
  {
    sql: 'RENAME TABLE shard_1.orders_1 TO db.orders_old',
    eventType: 'rename table',
    tables: [
      ['shard_1', 'orders_1'],
      ['db', 'orders_old'],
    ],
    rewrite: 'RENAME TABLE `merged`.`orders` TO `tgt`.`orders_old`',
  },
  {
    sql: 'DROP TABLE a, db.b',
    eventType: 'drop table',
    tables: [
      ['db', 'a'],
      ['db', 'b'],
    ],
    rewrite: 'DROP TABLE IF EXISTS `tgt`.`a`, `tgt`.`b`',
  },
  {
    sql: 'DROP TABLE `t1` /* generated by server */',
    eventType: 'drop table',
    tables: [['db', 't1']],
    rewrite: 'DROP TABLE IF EXISTS `tgt`.`t1_new` /* generated by server */',
  },
  {
    sql: 'DROP TABLE IF EXISTS a, b RESTRICT',
    eventType: 'drop table',
    tables: [
      ['db', 'a'],
      ['db', 'b'],
    ],
    rewrite: 'DROP TABLE IF EXISTS `tgt`.`a`, `tgt`.`b` RESTRICT',
  },
  {
    sql: 'TRUNCATE TABLE t1',
    eventType: 'truncate table',
    tables: [['db', 't1']],
    rewrite: 'TRUNCATE TABLE `tgt`.`t1_new`',
  },
  {
    sql: 'truncate shard_1.orders_1',
    eventType: 'truncate table',
    tables: [['shard_1', 'orders_1']],
    rewrite: 'truncate `merged`.`orders`',
  },
  // ---- databases
  {
    sql: 'CREATE DATABASE db DEFAULT CHARACTER SET utf8mb4',
    eventType: 'create database',
    tables: [['db', '']],
    rewrite: 'CREATE DATABASE IF NOT EXISTS `tgt` DEFAULT CHARACTER SET utf8mb4',
  },
  {
    sql: 'CREATE SCHEMA IF NOT EXISTS `db`',
    eventType: 'create database',
    tables: [['db', '']],
    rewrite: 'CREATE SCHEMA IF NOT EXISTS `tgt`',
  },
  {
    sql: 'CREATE OR REPLACE DATABASE shard_1',
    eventType: 'create database',
    tables: [['shard_1', '']],
    rewrite: 'CREATE OR REPLACE DATABASE `merged`',
  },
  {
    sql: 'DROP DATABASE db',
    eventType: 'drop database',
    tables: [['db', '']],
    rewrite: 'DROP DATABASE IF EXISTS `tgt`',
  },
  {
    sql: 'drop schema if exists `db`',
    eventType: 'drop database',
    tables: [['db', '']],
    rewrite: 'drop schema if exists `tgt`',
  },
  {
    sql: 'ALTER DATABASE db CHARACTER SET utf8',
    eventType: 'alter database',
    tables: [['db', '']],
    rewrite: 'ALTER DATABASE `tgt` CHARACTER SET utf8',
  },
  {
    sql: 'ALTER SCHEMA DEFAULT CHARSET = utf8mb4',
    eventType: 'alter database',
    tables: [['db', '']],
    rewrite: 'ALTER SCHEMA `tgt` DEFAULT CHARSET = utf8mb4',
  },
  // ---- indexes
  {
    sql: 'CREATE INDEX i1 ON t1 (a)',
    eventType: 'create index',
    tables: [['db', 't1']],
    rewrite: 'CREATE INDEX i1 ON `tgt`.`t1_new` (a)',
  },
  {
    sql: 'CREATE UNIQUE INDEX i1 USING BTREE ON db.t1 (a DESC, b(10))',
    eventType: 'create index',
    tables: [['db', 't1']],
    rewrite: 'CREATE UNIQUE INDEX i1 USING BTREE ON `tgt`.`t1_new` (a DESC, b(10))',
  },
  { sql: 'CREATE OR REPLACE INDEX IF NOT EXISTS i2 ON t1 (b)', eventType: 'create index', tables: [['db', 't1']] },
  {
    sql: 'DROP INDEX i1 ON t1',
    eventType: 'drop index',
    tables: [['db', 't1']],
    rewrite: 'DROP INDEX i1 ON `tgt`.`t1_new`',
  },
  {
    sql: 'DROP INDEX IF EXISTS `i1` ON `db`.`t1`',
    eventType: 'drop index',
    tables: [['db', 't1']],
    rewrite: 'DROP INDEX IF EXISTS `i1` ON `tgt`.`t1_new`',
  },
];

test(`DDL corpus: kind, event type and tables (${DDL.length} statements)`, () => {
  for (const c of DDL) {
    const q = classifyQuery(c.sql, 'db');
    assert.equal(q.kind, 'ddl', c.sql);
    assert.equal(q.eventType, c.eventType, c.sql);
    assert.deepEqual(
      q.tables.map((t) => [t.schema, t.table]),
      c.tables,
      c.sql,
    );
    if (c.clauseKinds) assert.deepEqual(q.clauseKinds, c.clauseKinds, c.sql);
  }
});

test('DDL corpus: expected rewrites', () => {
  for (const c of DDL.filter((x) => x.rewrite !== undefined))
    assert.equal(rewriteDdl(c.sql, 'db', route), c.rewrite, c.sql);
});

test('DDL corpus: a rewrite names exactly the routed tables and changes no other token', () => {
  for (const c of DDL) {
    const out = rewriteDdl(c.sql, 'db', route);
    const again = classifyQuery(out, 'some_other_schema');
    assert.equal(again.eventType, c.eventType, out);
    assert.deepEqual(again.tables, classifyQuery(c.sql, 'db').tables.map(route), out);
    assert.deepEqual(otherTokens(out), otherTokens(c.sql), out);
  }
});

test('DDL corpus: rewriting is idempotent (IF [NOT] EXISTS added once)', () => {
  for (const c of DDL) {
    const once = rewriteDdl(c.sql, 'db', route);
    assert.equal(
      rewriteDdl(once, 'zzz', (t) => t),
      once,
      c.sql,
    );
  }
});

/** The token texts that are not names or an IF [NOT] EXISTS clause: a rewrite must keep them all. */
function otherTokens(sql: string): string[] {
  const a = analyze(sql);
  const inName = (start: number): boolean => a.names.some((n) => start >= n.start && start < n.end);
  const toks = lex(sql).tokens.filter((t) => !inName(t.start));
  const out: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const w = toks[i]!.upper;
    if (w === 'IF' && toks[i + 1]?.upper === 'NOT' && toks[i + 2]?.upper === 'EXISTS') {
      i += 2;
      continue;
    }
    if (w === 'IF' && toks[i + 1]?.upper === 'EXISTS') {
      i += 1;
      continue;
    }
    out.push(toks[i]!.text);
  }
  return out;
}

test('splitDdl: one statement per table for DROP TABLE and RENAME TABLE, as DM', () => {
  assert.deepEqual(splitDdl('DROP TABLE a, db2.b', 'db'), ['DROP TABLE `db`.`a`', 'DROP TABLE `db2`.`b`']);
  assert.deepEqual(splitDdl('DROP TABLE IF EXISTS `a`, b RESTRICT /* generated by server */', 'db'), [
    'DROP TABLE IF EXISTS `db`.`a` RESTRICT /* generated by server */',
    'DROP TABLE IF EXISTS `db`.`b` RESTRICT /* generated by server */',
  ]);
  assert.deepEqual(splitDdl('RENAME TABLE a TO b, c TO d', 'db'), [
    'RENAME TABLE `db`.`a` TO `db`.`b`',
    'RENAME TABLE `db`.`c` TO `db`.`d`',
  ]);
  assert.deepEqual(splitDdl('RENAME TABLE a WAIT 5 TO b, x.c TO d', 'db'), [
    'RENAME TABLE `db`.`a` WAIT 5 TO `db`.`b`',
    'RENAME TABLE `x`.`c` TO `db`.`d`',
  ]);
  // a swap through a temporary name still works when applied in order
  assert.deepEqual(splitDdl('RENAME TABLE a TO tmp, b TO a, tmp TO b', 'db').length, 3);
  // everything else, including a multi-clause ALTER TABLE, stays one statement
  const alter = 'ALTER TABLE t CHANGE a b INT, CHANGE b a INT';
  assert.deepEqual(splitDdl(alter, 'db'), [alter]);
  assert.deepEqual(splitDdl('DROP TABLE a', 'db'), ['DROP TABLE a']);
  assert.deepEqual(splitDdl('BEGIN', 'db'), ['BEGIN']);
  // split then rewrite: each statement routed and idempotent
  assert.deepEqual(
    splitDdl('DROP TABLE t1, x', 'db').map((s) => rewriteDdl(s, 'ignored', route)),
    ['DROP TABLE IF EXISTS `tgt`.`t1_new`', 'DROP TABLE IF EXISTS `tgt`.`x`'],
  );
});

const SKIPPED: string[] = [
  'SAVEPOINT sp1',
  'RELEASE SAVEPOINT sp1',
  'ROLLBACK TO SAVEPOINT sp1',
  'FLUSH TABLES',
  'flush privileges',
  'OPTIMIZE TABLE t1',
  'ANALYZE TABLE t1',
  'REPAIR TABLE t1',
  'DROP /*!40005 TEMPORARY */ TABLE IF EXISTS `tmp`',
  'DROP TEMPORARY TABLE t',
  'CREATE TEMPORARY TABLE tmp (a int)',
  'CREATE DEFINER=`root`@`localhost` TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1',
  'DROP TRIGGER IF EXISTS trg',
  "CREATE DEFINER='app'@'%' PROCEDURE p() BEGIN SELECT 1; END",
  'DROP PROCEDURE p',
  "ALTER PROCEDURE p COMMENT 'x'",
  'CREATE FUNCTION f() RETURNS INT RETURN 1',
  'CREATE AGGREGATE FUNCTION agg(x INT) RETURNS INT BEGIN RETURN 1; END',
  'DROP FUNCTION f',
  'CREATE DEFINER=CURRENT_USER EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t',
  'ALTER EVENT e DISABLE',
  'DROP EVENT e',
  "GRANT SELECT ON db.* TO 'u'@'%'",
  "REVOKE ALL ON *.* FROM 'u'@'%'",
  "CREATE USER 'u'@'%' IDENTIFIED BY 'x'",
  "ALTER USER 'u'@'%' ACCOUNT LOCK",
  "DROP USER 'u'@'%'",
  "RENAME USER 'a'@'%' TO 'b'@'%'",
  "SET PASSWORD FOR 'u'@'%' = PASSWORD('x')",
  'CREATE ROLE r',
  "CREATE TABLESPACE ts ADD DATAFILE 'x.ibd'",
  'CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`a`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1',
  '# Dummy event replacing event type 160 that slave cannot handle.',
  '/* only a comment */',
  'LOCK TABLES t WRITE',
  'UNLOCK TABLES',
];

test(`statements DM never replicates are skipped with a reason (${SKIPPED.length})`, () => {
  for (const sql of SKIPPED) {
    const q = classifyQuery(sql, 'db');
    assert.equal(q.kind, 'skip', sql);
    assert.ok(q.skipReason && q.skipReason.length > 0, sql);
  }
  assert.equal(classifyQuery('CREATE VIEW v AS SELECT 1', 'db').eventType, 'create view');
  assert.equal(classifyQuery('DROP VIEW v', 'db').eventType, 'drop view');
  assert.throws(
    () => rewriteDdl('FLUSH TABLES', 'db', route),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-60002',
  );
});

test('transaction boundaries, DML and unsupported statements', () => {
  const kind = (sql: string): string => classifyQuery(sql, 'db').kind;
  assert.equal(kind('BEGIN'), 'begin');
  assert.equal(kind('START TRANSACTION'), 'begin');
  assert.equal(kind('COMMIT'), 'commit');
  assert.equal(kind('commit work'), 'commit');
  assert.equal(kind('ROLLBACK'), 'rollback');
  assert.equal(kind('INSERT INTO t VALUES (1)'), 'dml');
  assert.equal(kind('update t set a = 1'), 'dml');
  assert.equal(kind('DELETE FROM t'), 'dml');
  assert.equal(kind("XA START 'x'"), 'unknown');
  assert.equal(kind('CREATE SEQUENCE s'), 'unknown');
  assert.equal(kind('FROB the table'), 'unknown');
  assert.equal(kind('DROP TABLE'), 'unknown', 'missing name');
  assert.ok(classifyQuery('DROP TABLE', 'db').skipReason?.includes('expected a name'));
});

test('rewrite refuses what it cannot do safely', () => {
  const unsupported = (e: unknown): boolean => e instanceof DmError && e.code === 'TSDM-60002';
  assert.throws(() => rewriteDdl('CREATE TABLE t (a INT) SELECT 1 AS a', 'db', route), unsupported);
  assert.throws(
    () => rewriteDdl('CREATE TABLE t (a int)', '', route),
    unsupported,
    'no current schema for an unqualified name',
  );
  assert.equal(rewriteDdl('CREATE TABLE x.t (a int)', '', route), 'CREATE TABLE IF NOT EXISTS `x`.`t` (a int)');
  assert.throws(() => rewriteDdl('INSERT INTO t VALUES (1)', 'db', route), unsupported);
});

test('node-sql-parser cross-check: a disagreement is reported, not replicated', () => {
  const sql = 'DROP TABLE a, b';
  const a = analyze(sql);
  crossCheck(sql, a); // agrees
  a.names.pop();
  assert.throws(
    () => crossCheck(sql, a),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-60002' && /ambiguous/.test(e.message),
  );
  const c = analyze('CREATE TABLE `x``y`.`a``b` (i int)');
  crossCheck('CREATE TABLE `x``y`.`a``b` (i int)', c); // doubled backquotes are unescaped on both sides
});

test('keywords, comments and executable comments in odd places', () => {
  const q = classifyQuery('CREATE /*!32312 TEMPORARY */ TABLE t (a int)', 'db');
  assert.equal(q.kind, 'skip');
  assert.equal(
    rewriteDdl('CREATE TABLE /*!32312 IF NOT EXISTS*/ t1 (a int)', 'db', route),
    'CREATE TABLE /*!32312 IF NOT EXISTS*/ `tgt`.`t1_new` (a int)',
  );
  assert.equal(rewriteDdl('DROP TABLE -- why\n t1', 'db', route), 'DROP TABLE IF EXISTS -- why\n `tgt`.`t1_new`');
  assert.equal(
    rewriteDdl('cReAtE tAbLe T1 (A INT)', 'db', route),
    'cReAtE tAbLe IF NOT EXISTS `tgt`.`T1` (A INT)',
    'names keep their case',
  );
});

test('quote helpers', () => {
  assert.equal(quoteIdent('a`b'), '`a``b`');
  assert.equal(quoteIdent('名 前'), '`名 前`');
  assert.equal(qualify({ schema: 'd', table: 't' }), '`d`.`t`');
  assert.equal(qualify({ schema: 'd', table: '' }), '`d`');
});
