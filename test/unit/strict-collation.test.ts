import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collationDefaults,
  defaultCollationFor,
  strictCollations,
  type UpstreamCollations,
} from '../../src/sql/strict-collation.ts';
import { serverCollationId } from '../../agent/binlog/status-vars.ts';

/** MariaDB 10.11's defaults for the charsets used here. */
const MARIADB: UpstreamCollations = {
  defaults: new Map([
    ['utf8mb3', 'utf8mb3_general_ci'],
    ['utf8mb4', 'utf8mb4_general_ci'],
    ['latin1', 'latin1_swedish_ci'],
    ['binary', 'binary'],
  ]),
  server: 'utf8mb3_general_ci',
};
const s = (sql: string, up: UpstreamCollations = MARIADB) => strictCollations(sql, up);

test('CREATE DATABASE: no charset → collation_server; charset alone → its default; COLLATE given → as written', () => {
  assert.equal(s('create database `d1`'), 'create database `d1` COLLATE utf8mb3_general_ci');
  assert.equal(
    s("CREATE DATABASE IF NOT EXISTS d1 COMMENT 'x'"),
    "CREATE DATABASE IF NOT EXISTS d1 COMMENT 'x' COLLATE utf8mb3_general_ci",
  );
  assert.equal(
    s('create database d2 character set utf8'),
    'create database d2 character set utf8 COLLATE utf8_general_ci',
  );
  assert.equal(
    s('CREATE SCHEMA d2 DEFAULT CHARSET = latin1'),
    'CREATE SCHEMA d2 DEFAULT CHARSET = latin1 COLLATE latin1_swedish_ci',
  );
  assert.equal(
    s('create database d3 character set utf8 collate utf8_bin'),
    'create database d3 character set utf8 collate utf8_bin',
  );
  assert.equal(s('create database d4 collate latin1_bin'), 'create database d4 collate latin1_bin');
  // Unknown server collation (the event did not say and no fallback): as written, as DM does.
  assert.equal(s('create database d5', { defaults: MARIADB.defaults }), 'create database d5');
  // SHOW CREATE DATABASE of MySQL 5.7 (the charset in an executable comment).
  assert.equal(
    s('CREATE DATABASE `d6` /*!40100 DEFAULT CHARACTER SET utf8mb4 */'),
    'CREATE DATABASE `d6` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */',
  );
  assert.equal(
    s('ALTER DATABASE d7 CHARACTER SET latin1'),
    'ALTER DATABASE d7 CHARACTER SET latin1 COLLATE latin1_swedish_ci',
  );
  assert.equal(
    s('ALTER DATABASE CHARACTER SET latin1'),
    'ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci',
  );
  assert.equal(
    s("ALTER DATABASE d7 COMMENT 'c'"),
    "ALTER DATABASE d7 COMMENT 'c'",
    'ALTER DATABASE without charset is not a CREATE',
  );
});

test('CREATE TABLE: table charset and column charsets without COLLATE get the default; the rest stays', () => {
  assert.equal(
    s('create table t2 (id int, name varchar(20) character set utf8, primary key(`id`)) character set latin1'),
    'create table t2 (id int, name varchar(20) character set utf8 COLLATE utf8_general_ci, primary key(`id`)) character set latin1 COLLATE latin1_swedish_ci',
  );
  assert.equal(
    s(
      'create table t2 (id int, name varchar(20) character set utf8 collate utf8_general_ci, primary key(`id`)) character set latin1 collate latin1_bin',
    ),
    'create table t2 (id int, name varchar(20) character set utf8 collate utf8_general_ci, primary key(`id`)) character set latin1 collate latin1_bin',
  );
  // No charset anywhere: the table takes its database's (made explicit when that was created).
  assert.equal(
    s('create table t1 (id int, name varchar(20), primary key(`id`))'),
    'create table t1 (id int, name varchar(20), primary key(`id`))',
  );
  // COLLATE after other attributes, BINARY, CHARSET DEFAULT, charsets in expressions: as written.
  const keep =
    'CREATE TABLE t (a varchar(5) CHARSET latin1 NOT NULL COLLATE latin1_bin, b char(2) CHARACTER SET latin1 BINARY, ' +
    "c text AS (CONVERT(a USING utf8mb4)) VIRTUAL, d enum('x','y') CHARSET utf8mb4, e varchar(3) CHARSET ucs2) DEFAULT CHARSET=DEFAULT";
  assert.equal(
    s(keep),
    keep.replace("enum('x','y') CHARSET utf8mb4", "enum('x','y') CHARSET utf8mb4 COLLATE utf8mb4_general_ci"),
    'd gets a collation; ucs2 is not in the map, so e stays',
  );
  // MySQL-style SHOW CREATE TABLE: the table default charset without COLLATE, ENGINE first.
  assert.equal(
    s(
      'CREATE TABLE `t3` (\n  `id` int NOT NULL,\n  `n` varchar(3) CHARACTER SET latin1 DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    ),
    'CREATE TABLE `t3` (\n  `id` int NOT NULL,\n  `n` varchar(3) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci',
  );
  assert.equal(s('CREATE TABLE t4 LIKE t3'), 'CREATE TABLE t4 LIKE t3');
  assert.equal(
    s('CREATE TABLE t5 (id int) CHARSET latin1 PARTITION BY HASH(id) PARTITIONS 2'),
    'CREATE TABLE t5 (id int) CHARSET latin1 COLLATE latin1_swedish_ci PARTITION BY HASH(id) PARTITIONS 2',
  );
  assert.equal(
    s('CREATE TABLE t6 CHARSET latin1 AS SELECT 1 AS a'),
    'CREATE TABLE t6 CHARSET latin1 COLLATE latin1_swedish_ci AS SELECT 1 AS a',
  );
});

test('ALTER TABLE: ADD/MODIFY/CHANGE column, CONVERT TO, DEFAULT CHARSET', () => {
  assert.equal(
    s('ALTER TABLE t ADD COLUMN c varchar(5) CHARACTER SET latin1 AFTER id'),
    'ALTER TABLE t ADD COLUMN c varchar(5) CHARACTER SET latin1 COLLATE latin1_swedish_ci AFTER id',
  );
  assert.equal(
    s('ALTER TABLE t ADD (c varchar(5) CHARSET utf8, d int), MODIFY e text CHARSET latin1'),
    'ALTER TABLE t ADD (c varchar(5) CHARSET utf8 COLLATE utf8_general_ci, d int), MODIFY e text CHARSET latin1 COLLATE latin1_swedish_ci',
  );
  assert.equal(
    s('alter table t change `charset` `b` varchar(5) charset utf8mb4'),
    'alter table t change `charset` `b` varchar(5) charset utf8mb4 COLLATE utf8mb4_general_ci',
  );
  assert.equal(
    s('ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4'),
    'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci',
  );
  assert.equal(
    s('ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'),
    'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
  );
  assert.equal(
    s('ALTER TABLE t ENGINE=InnoDB DEFAULT CHARSET=latin1'),
    'ALTER TABLE t ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE latin1_swedish_ci',
  );
  assert.equal(
    s('ALTER TABLE t ADD INDEX i (c), DROP COLUMN x, MODIFY y int'),
    'ALTER TABLE t ADD INDEX i (c), DROP COLUMN x, MODIFY y int',
  );
  assert.equal(
    s('ALTER TABLE t MODIFY c varchar(5) CHARSET latin1 COLLATE latin1_bin'),
    'ALTER TABLE t MODIFY c varchar(5) CHARSET latin1 COLLATE latin1_bin',
  );
});

test('other statements are never touched', () => {
  for (const sql of [
    'DROP DATABASE d',
    'INSERT INTO t VALUES (1)',
    'RENAME TABLE a TO b',
    'CREATE INDEX i ON t (c)',
    'BEGIN',
  ])
    assert.equal(s(sql), sql);
});

test('the upstream default map: IS_DEFAULT, then default_collation_for_utf8mb4 (MySQL 8), character_set_collations (MariaDB 11.2+)', () => {
  const rows = [
    { collation: 'utf8mb4_0900_ai_ci', charset: 'utf8mb4', id: 255, isDefault: true },
    { collation: 'utf8mb4_general_ci', charset: 'utf8mb4', id: 45, isDefault: false },
    { collation: 'utf8mb3_general_ci', charset: 'utf8mb3', id: 33, isDefault: true },
    { collation: 'latin1_swedish_ci', charset: 'latin1', id: 8, isDefault: true },
  ];
  assert.equal(collationDefaults(rows, {}).get('utf8mb4'), 'utf8mb4_0900_ai_ci');
  assert.equal(
    collationDefaults(rows, { default_collation_for_utf8mb4: 'utf8mb4_general_ci' }).get('utf8mb4'),
    'utf8mb4_general_ci',
  );
  const maria = collationDefaults(rows, {
    character_set_collations: 'utf8mb3=utf8mb3_uca1400_ai_ci, latin1=latin1_bin',
  });
  assert.equal(maria.get('utf8mb3'), 'utf8mb3_uca1400_ai_ci');
  assert.equal(maria.get('latin1'), 'latin1_bin');
  // `utf8` resolves through utf8mb3 and keeps the statement's spelling; MySQL 5.7 reports `utf8` itself.
  assert.equal(defaultCollationFor('UTF8', maria), 'utf8_uca1400_ai_ci');
  assert.equal(defaultCollationFor('utf8mb3', new Map([['utf8', 'utf8_general_ci']])), 'utf8_general_ci');
  assert.equal(defaultCollationFor('koi8r', maria), undefined);
});

test('collation_server id from Query event status variables, raw and as zongji decodes them', () => {
  // flags2, sql_mode, catalog_nz "std", charset (client 33, connection 33, server 8), time zone "SYSTEM", then Q_HRNOW.
  const raw = Buffer.concat([
    Buffer.from([0, 0, 0, 0, 0]),
    Buffer.from([1, 0, 0, 0x40, 0x68, 0, 0, 0, 0]),
    Buffer.from([6, 3]),
    Buffer.from('std'),
    Buffer.from([4, 33, 0, 33, 0, 8, 0]),
    Buffer.from([5, 6]),
    Buffer.from('SYSTEM'),
    Buffer.from([128, 0xff, 0xfe, 0x91]),
  ]);
  assert.equal(serverCollationId(raw), 8);
  // zongji's text: the invalid bytes after the charset became U+FFFD, the charset is still exact.
  assert.equal(serverCollationId(raw.toString('utf8')), 8);
  // collation id 224 (utf8mb4_unicode_ci) is not valid UTF-8 on its own: unknown, never a wrong id.
  const hi = Buffer.from(raw);
  hi[hi.indexOf(Buffer.from([4, 33, 0, 33, 0, 8, 0])) + 5] = 224;
  assert.equal(serverCollationId(hi), 224);
  assert.equal(serverCollationId(hi.toString('utf8')), undefined);
  // mysql2's connection collation (224) for client and connection, collation_server 33: the server id is still read.
  const client = Buffer.from(raw);
  client.set([224, 0, 224, 0, 33, 0], client.indexOf(Buffer.from([4, 33, 0, 33, 0, 8, 0])) + 1);
  assert.equal(serverCollationId(client.toString('utf8')), 33);
  // A byte that is not UTF-8 before the charset code (sql_mode here): offsets are unknown, so is the id.
  const mode = Buffer.from(raw);
  mode[8] = 0xc3;
  assert.equal(serverCollationId(mode.toString('utf8')), undefined);
  assert.equal(serverCollationId(mode), 8);
  assert.equal(serverCollationId(Buffer.from([0, 0, 0, 0, 0])), undefined, 'no charset code');
  assert.equal(serverCollationId(undefined), undefined);
});
