/**
 * DDL sequences for the schema tracker, shared by the unit test (test/unit/schema-tracker.test.ts: applyDdl's model
 * must equal the golden file) and the oracle test (test/integration/schema-tracker-oracle.test.ts: the statements
 * run on a real MariaDB 10.11, whose information_schema must equal applyDdl's model after EVERY statement, and
 * which writes the golden file with UPDATE_GOLDEN=1). So every expectation in the golden file is the server's.
 *
 * Each case starts from a server (and a tracker) holding only database `db` (server default charset latin1) and
 * runs its statements in order on one connection with `db` as the current database.
 */
import { tableKey } from '../../src/sql/table-name.ts';
import {
  normalizeExpr,
  type SchemaTracker,
  type SchemaTrackerOptions,
  type TrackedTable,
} from '../../src/schema/model.ts';
import { compareNames } from '../../src/schema/names.ts';

export interface TrackerCase {
  name: string;
  sql: string[];
  /** Indexes of statements applyDdl must refuse (ok: false); the oracle then reloads their tables from the server. */
  refused?: number[];
  /** Tracker options the case needs (the session sets the server to match). */
  tracker?: SchemaTrackerOptions;
}

export const SERVER_DEFAULT = { serverCharset: 'latin1', serverCollation: 'latin1_swedish_ci' };

/** The whole tracker as text: schemas, then each table with its columns and indexes (by name). Diffable. */
export function renderTracker(t: SchemaTracker): string[] {
  const out: string[] = [];
  for (const s of t.schemas()) out.push(`schema ${s.name} ${s.collation}`);
  for (const tbl of t.tables()) out.push(...renderTable(tbl));
  return out;
}

export function renderTable(t: TrackedTable): string[] {
  const out = [`table ${tableKey(t)} ${t.collation}`];
  for (const c of t.columns) {
    let line = `  ${c.name} ${c.columnType}`;
    if (c.dataType !== c.columnType.split(/[ (]/)[0]) line += ` [${c.dataType}]`;
    if (c.collation !== null) line += ` ${c.collation}`;
    if (c.charset !== null && !c.collation?.startsWith(c.charset)) line += ` charset=${c.charset}`;
    line += c.nullable ? ' NULL' : ' NOT NULL';
    if (c.generated)
      line += c.generation
        ? ` GENERATED ${c.generation.stored ? 'STORED' : 'VIRTUAL'} AS (${normalizeExpr(c.generation.expr)})`
        : ' GENERATED';
    else if (c.hasDefault === false) line += ' NO DEFAULT';
    if (c.comment !== '') line += ` COMMENT ${JSON.stringify(c.comment)}`;
    out.push(line);
  }
  for (const i of [...t.indexes].sort((a, b) => compareNames(a.name, b.name))) {
    out.push(`  ${i.kind} ${i.name} (${i.columns.join(',')})`);
  }
  return out;
}

/** test/unit/golden/schema-tracker.txt: `## case name` then the rendered model the server had after the case. */
export const GOLDEN_URL = new URL('./golden/schema-tracker.txt', import.meta.url);

export function parseGolden(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) out.set(line.slice(3), (cur = []));
    else if (line !== '' && cur) cur.push(line);
  }
  return out;
}

export function formatGolden(m: Map<string, string[]>): string {
  return CORPUS.filter((c) => m.has(c.name))
    .map((c) => `## ${c.name}\n${m.get(c.name)!.join('\n')}\n`)
    .join('\n');
}

const S = String.raw;

export const CORPUS: TrackerCase[] = [
  // ---- every column type
  {
    name: 'integer types, display widths, signedness, zerofill',
    sql: [
      `CREATE TABLE t (a tinyint, b tinyint unsigned, c smallint, d smallint unsigned, e mediumint, f mediumint unsigned,
      g int, h int unsigned, i bigint, j bigint unsigned, k int(3), l int(0), m integer, n int1, o int2, p int3, q int4, r int8,
      s middleint, u tinyint(1) unsigned, v int zerofill, w bigint zerofill, x smallint(3) unsigned zerofill, y int signed,
      z mediumint(4) zerofill, aa int(255))`,
    ],
  },
  {
    name: 'bool, boolean, serial, SERIAL DEFAULT VALUE',
    sql: [
      'CREATE TABLE t (a bool, b boolean, c serial, e boolean not null)',
      'CREATE TABLE t2 (a int, d int serial default value)',
      'CREATE TABLE t3 (s serial primary key, b bool)',
    ],
  },
  {
    name: 'decimal and floating point types',
    sql: [
      `CREATE TABLE t (a decimal, b decimal(5), c decimal(7,2), d numeric, e dec(4,1), f fixed(3,1), g decimal(65,30),
      h decimal(10,2) unsigned zerofill, i float, j float(7,3), k float(10), l float(24), m float(25), n float(53), o double,
      p double precision, q real, r double(10,2), s real(5,1), t float4, u float8, v float unsigned, w double zerofill,
      x double precision(5,2), y decimal(65), z float(7,0), aa double(53,30), ab decimal(5,2) unsigned)`,
    ],
  },
  {
    name: 'bit and temporal types with fractional seconds',
    sql: [
      `CREATE TABLE t (a bit, b bit(5), c bit(64), d year, e year(4), f date, g time, h time(0), i time(6), j datetime,
      k datetime(3), l timestamp(3) null, m timestamp(6) not null default current_timestamp(6) on update current_timestamp(6),
      n timestamp null default null, o datetime(6) default '2000-01-01 00:00:00.000000', p timestamp, q timestamp not null,
      r time(1), s datetime(2) not null default now(2), u year(2))`,
    ],
  },
  {
    name: 'character types in a latin1 database, national variants',
    sql: [
      `CREATE TABLE t (a char, b char(10), c varchar(64), d tinytext, e text, f mediumtext, g longtext, h text(100),
      i text(300), j text(70000), k long, l long varchar, m char(0), n varchar(0), o national char(3), p nchar(4),
      q nvarchar(5), r national varchar(6), s nchar varchar(7), t national character varying(8), u character(2),
      v character varying(9), w char varying(3), x char(255), y nchar varying(2), z national char(2) collate utf8mb3_bin)`,
    ],
  },
  {
    name: 'binary strings and BLOBs have no charset',
    sql: [
      `CREATE TABLE t (a binary, b binary(16), c varbinary(64), d tinyblob, e blob, f mediumblob, g longblob, h blob(100),
      i blob(1000), j blob(70000), k long varbinary, l char(3) byte, m char byte, n text charset binary,
      o varchar(4) character set binary, p binary(0), q tinytext character set binary)`,
    ],
  },
  {
    name: 'ENUM and SET members: commas, quotes, backslashes, trailing spaces, charsets',
    sql: [
      S`CREATE TABLE t (a enum('a','b'), b set('x','y','z'), c enum('x,y','it''s','back\\slash','q\"','nl\nx') not null,
      d enum('trailing  ','b'), e set('a') charset utf8mb4 collate utf8mb4_bin, f enum('é','ü') charset utf8mb4,
      g enum('a','') default '', h enum('A','b') binary, i set('x','y') character set latin1 not null default 'x,y')`,
    ],
  },
  {
    name: 'json, uuid, inet, geometry types and a spatial index',
    sql: [
      `CREATE TABLE t (j json, k json not null, u uuid, i4 inet4, i6 inet6, g geometry, p point not null, l linestring,
      po polygon, mp multipoint, ml multilinestring, mpo multipolygon, gc geometrycollection, SPATIAL INDEX(p))`,
      'CREATE TABLE t2 (j json) charset binary',
      'CREATE TABLE t3 (j json) charset utf8mb4 collate utf8mb4_unicode_ci',
    ],
  },
  {
    name: 'column attributes: defaults, comments, checks, invisible, compressed, references',
    sql: [
      'CREATE TABLE p (id int primary key)',
      S`CREATE TABLE t (id int not null auto_increment primary key comment 'the id', a varchar(10) not null default 'x' collate latin1_bin comment 'a''s',
      b int default (1+1) check (b > 0), c int invisible, d datetime default current_timestamp on update current_timestamp,
      e varchar(5) default _utf8mb4'é', f bit(8) default b'101', g binary(2) default x'0102', h int references p(id),
      i int check (i < 10), j double default -1.5e3, k int unsigned default null, l text compressed,
      m varchar(10) compressed=zlib, n int constraint fkn references p (id) on delete cascade, o int default 1 not null unique key)`,
      'CREATE TABLE t2 (q int auto_increment unique)',
      'CREATE TABLE t3 (r int auto_increment null, key (r))',
    ],
  },
  {
    name: 'generated columns, virtual, stored, persistent, indexed',
    sql: [
      `CREATE TABLE t (a int, b int as (a*2), c int generated always as (a+1) virtual, d int as (a+2) stored,
      e int as (a+3) persistent, f varchar(10) as (concat('x', a)) virtual comment 'gen', g int as (a) unique,
      h int generated always as (a) stored, index (h))`,
      'ALTER TABLE t ADD COLUMN i int AS (a + 10) VIRTUAL AFTER a, MODIFY b bigint AS (a*3) VIRTUAL',
    ],
  },
  {
    name: 'column defaults: explicit, implicit NULL, none; ALTER COLUMN SET/DROP DEFAULT; a primary key takes the implicit one',
    sql: [
      'CREATE TABLE t (a int, b int not null, c int not null default 3, d int default null, e text not null, f int auto_increment key, g int as (c+1) virtual)',
      'ALTER TABLE t ALTER COLUMN b SET DEFAULT 7, ALTER c DROP DEFAULT, ALTER COLUMN a DROP DEFAULT',
      'CREATE TABLE t2 (x int, y int default 4, primary key (x, y))',
      "ALTER TABLE t ADD COLUMN h int not null, ADD i varchar(3) not null default '', MODIFY d int not null",
    ],
  },
  {
    name: 'a SHOW CREATE TABLE text as mysqldump writes it',
    sql: [
      `CREATE TABLE \`t1\` (
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
  \`gen_s\` int(11) GENERATED ALWAYS AS (\`i\` * 2) STORED,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uk_vc\` (\`vc\`(20)),
  KEY \`idx_i\` (\`i\`) USING BTREE COMMENT 'an index',
  FULLTEXT KEY \`ft\` (\`tx\`)
) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DYNAMIC COMMENT='t1 comment'`,
    ],
  },
  {
    name: 'keyword-like column names and odd identifiers',
    sql: [
      `CREATE TABLE \`T-1\` (\`Col A\` int, \`select\` varchar(3), status int, date date, text text, comment varchar(3) comment 'comment',
      timestamp timestamp null, \`primary\` int, PRIMARY KEY (\`Col A\`), key (status), unique (\`primary\`))`,
      `ALTER TABLE \`T-1\` CHANGE \`col a\` \`Col B\` bigint, ADD UNIQUE KEY \`Key\`(\`SELECT\`)`,
    ],
  },
  {
    name: 'comments, executable comments, trailing semicolon',
    sql: [
      `CREATE TABLE t (a int /* inline */, b int -- line comment
      , c int # hash comment
      ) /*!50100 PARTITION BY HASH (a) PARTITIONS 2 */;`,
      'ALTER TABLE t /*!100301 ALGORITHM=INPLACE, */ ADD d int /* last */',
    ],
  },

  // ---- charsets: column, table, database inheritance
  {
    name: 'table DEFAULT CHARSET utf8mb4: columns inherit, explicit ones do not',
    sql: [
      `CREATE TABLE t (a varchar(10), b text, c enum('x'), d char(3) charset latin1, e varchar(3) collate utf8mb4_bin,
      f varchar(3) binary, g tinytext, h varchar(3) character set utf8mb4) DEFAULT CHARSET=utf8mb4`,
    ],
  },
  {
    name: 'table COLLATE only implies the charset; a column charset takes its own default collation',
    sql: [
      'CREATE TABLE t (a varchar(3), b varchar(3) charset utf8mb4, c text binary, d varchar(3) charset utf8mb4 binary) COLLATE=utf8mb4_unicode_ci',
      'CREATE TABLE t2 (a varchar(3)) CHARACTER SET = latin1 COLLATE = latin1_general_cs ENGINE=InnoDB',
      'CREATE TABLE t3 (a varchar(3), b varchar(3) binary) DEFAULT COLLATE utf8mb3_bin',
    ],
  },
  {
    name: 'database default charsets are inherited by tables and their columns',
    sql: [
      'CREATE DATABASE db2 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
      'CREATE TABLE db2.t (a varchar(3), b text, c varchar(3) charset latin1)',
      'CREATE DATABASE db3 COLLATE utf8mb3_bin',
      'CREATE TABLE db3.t (a char(2), b varchar(2) charset utf8mb3)',
      'CREATE SCHEMA db4 CHARSET utf8',
      'CREATE TABLE db4.t (a char(2)) CHARSET latin2',
      'CREATE DATABASE IF NOT EXISTS db2 CHARSET latin1',
    ],
  },
  {
    name: 'ALTER DATABASE changes only what is created afterwards',
    sql: [
      'CREATE TABLE t0 (a varchar(3))',
      'ALTER DATABASE db CHARACTER SET utf8mb4',
      'CREATE TABLE t (a varchar(3))',
      'ALTER DATABASE CHARACTER SET latin2',
      'CREATE TABLE t2 (a text)',
      'ALTER DATABASE db COLLATE utf8mb4_bin',
      'CREATE TABLE t3 (a varchar(3))',
      'ALTER SCHEMA db DEFAULT CHARACTER SET = latin1 DEFAULT COLLATE = latin1_bin',
      'CREATE TABLE t4 (a char(1))',
      'ALTER TABLE t0 ADD b varchar(3)',
    ],
  },
  {
    name: 'CHARSET binary table turns character columns into binary ones',
    sql: [
      "CREATE TABLE t (a char(3), b varchar(4), c text, d enum('a'), e tinytext, f set('x'), g varchar(3) charset latin1) CHARSET binary",
    ],
  },
  {
    name: 'utf8 means utf8mb3; other charsets and their maximum lengths',
    sql: [
      `CREATE TABLE t (a varchar(3) charset utf8, b varchar(3) collate utf8_unicode_ci, c varchar(3) charset utf8mb3 binary,
      d char(3) ascii, e char(3) unicode, f varchar(3) charset ucs2, g varchar(3) charset utf16, h varchar(3) charset utf32,
      i text charset cp1251, j varchar(3) charset big5, k text(1000) charset utf8mb4, l text(20000) charset utf16,
      m varchar(3) charset 'latin2' collate 'latin2_bin') charset utf8`,
    ],
  },
  {
    name: 'outside strict mode a VARCHAR too long becomes TEXT',
    sql: [
      "SET SESSION sql_mode=''",
      'CREATE TABLE t (a varchar(30000) charset utf8mb4, b varchar(70000), c varbinary(70000))',
      'CREATE TABLE t2 (d varchar(16383) charset utf8mb4)',
      'CREATE TABLE t3 (d varchar(16384) charset utf8mb4)',
    ],
  },

  // ---- CONVERT TO / DEFAULT CHARACTER SET
  {
    name: 'CONVERT TO utf8mb4 converts every character column; TEXT grows',
    sql: [
      `CREATE TABLE t (a char(3), b varchar(100), c tinytext, d text, e mediumtext, f longtext, g enum('a','b'), h set('x'),
      i varbinary(3), j blob, k json, l varchar(3) charset utf8mb4 collate utf8mb4_bin, m text(255), n char(3) charset ascii,
      o int, p text compressed) CHARSET latin1`,
      'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4',
    ],
  },
  {
    name: 'CONVERT TO back to latin1 does not shrink TEXT types',
    sql: [
      'CREATE TABLE t (a tinytext, b text, c mediumtext, d longtext, e varchar(10)) charset utf8mb4',
      'ALTER TABLE t CONVERT TO CHARACTER SET latin1',
      'ALTER TABLE t CONVERT TO CHARSET utf8mb3 COLLATE utf8mb3_unicode_ci',
      'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
    ],
  },
  {
    name: 'CONVERT TO binary turns character columns into binary strings and BLOBs',
    sql: [
      "CREATE TABLE t (a char(3), b varchar(3), c text, d enum('a'), j json, e tinytext) charset latin1",
      'ALTER TABLE t CONVERT TO CHARACTER SET binary',
    ],
  },
  {
    name: 'CONVERT TO CHARACTER SET DEFAULT takes the database default',
    sql: [
      'CREATE DATABASE d8 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
      'CREATE TABLE d8.t (a varchar(3) charset latin1, b text charset latin1) CHARSET latin1',
      'ALTER TABLE d8.t CONVERT TO CHARACTER SET DEFAULT',
      'CREATE TABLE t (a char(3)) charset utf8mb4',
      'ALTER TABLE t CONVERT TO CHARACTER SET DEFAULT',
    ],
  },
  {
    name: 'CONVERT TO outside strict mode turns a VARCHAR that grows too long into TEXT',
    sql: [
      "SET SESSION sql_mode=''",
      'CREATE TABLE t (a varchar(20000), b varchar(10000), c char(200)) charset latin1',
      'ALTER TABLE t CONVERT TO CHARSET utf8mb4',
    ],
  },
  {
    name: 'DEFAULT CHARACTER SET and COLLATE change the table default only; new columns follow it',
    sql: [
      'CREATE TABLE t (a varchar(3)) charset latin1',
      'ALTER TABLE t DEFAULT CHARACTER SET utf8mb4',
      'ALTER TABLE t ADD b varchar(3), MODIFY a varchar(4)',
      'ALTER TABLE t COLLATE utf8mb4_unicode_ci, ADD c text',
      'ALTER TABLE t CHARACTER SET = latin2, ADD d char(2)',
      "ALTER TABLE t DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin, ADD e enum('x')",
      'ALTER TABLE t MODIFY a varchar(10) COLLATE latin1_bin',
    ],
  },
  {
    name: 'CONVERT TO together with MODIFY/ADD of explicit charsets in one statement',
    sql: [
      'CREATE TABLE t (a varchar(3), b int, c text) charset latin1',
      'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, MODIFY a text charset latin1, ADD z varchar(3) collate latin1_bin, ADD y blob, CHANGE c c text',
    ],
  },

  // ---- ALTER TABLE: columns
  {
    name: 'ADD with FIRST/AFTER resolves positions in statement order',
    sql: [
      'CREATE TABLE t (a int, b int)',
      'ALTER TABLE t ADD c int AFTER a, ADD d int AFTER c, ADD e int FIRST, MODIFY a bigint AFTER d',
      'ALTER TABLE t ADD f int, ADD g int FIRST, ADD h int AFTER f',
    ],
  },
  {
    name: 'CHANGE/MODIFY with FIRST/AFTER, RENAME COLUMN, DROP PRIMARY KEY in one statement',
    sql: [
      'CREATE TABLE t (a int, b int, c int, d int, primary key (a, b), unique (c), unique (c), key (d))',
      'ALTER TABLE t DROP PRIMARY KEY, RENAME COLUMN c TO cc, ADD COLUMN e int FIRST, MODIFY d bigint AFTER e, CHANGE b bb int unsigned not null AFTER cc, ADD UNIQUE (e), RENAME INDEX c_2 TO zz',
    ],
  },
  {
    name: 'ADD a parenthesised column list, with an index in it',
    sql: [
      'CREATE TABLE t (a int)',
      'ALTER TABLE t ADD (x int, y varchar(3) not null, INDEX (x))',
      'ALTER TABLE t ADD COLUMN (z int unique)',
    ],
  },
  {
    name: 'IF EXISTS / IF NOT EXISTS skip what exists or not',
    sql: [
      'CREATE TABLE t (a int, b int)',
      'ALTER TABLE t ADD COLUMN IF NOT EXISTS a bigint, ADD COLUMN IF NOT EXISTS c int, DROP COLUMN IF EXISTS nope, MODIFY COLUMN IF EXISTS nope2 int, CHANGE COLUMN IF EXISTS nope3 x int, ADD INDEX IF NOT EXISTS ia (a), ADD INDEX IF NOT EXISTS ia (b), DROP INDEX IF EXISTS nope4',
      'ALTER TABLE t ADD COLUMN x int, ADD COLUMN IF NOT EXISTS x bigint',
      'ALTER TABLE t ADD COLUMN IF NOT EXISTS b int unique, ADD UNIQUE IF NOT EXISTS (a), ADD KEY IF NOT EXISTS (c)',
      'ALTER TABLE t DROP COLUMN IF EXISTS x, DROP COLUMN IF EXISTS x2, ADD KEY IF NOT EXISTS b (c)',
    ],
  },
  {
    name: 'RENAME COLUMN and CHANGE follow into keys',
    sql: [
      'CREATE TABLE t (a int primary key, b int, c int, unique key u (b, c), key k (c))',
      'ALTER TABLE t RENAME COLUMN b TO bb, RENAME COLUMN a TO aa',
      'ALTER TABLE t CHANGE c cc bigint not null',
      'ALTER TABLE t CHANGE cc CC bigint',
    ],
  },
  {
    name: 'dropping columns drops them from keys, and keys left empty',
    sql: [
      'CREATE TABLE t (a int, b int, c int, d int, e int, unique key u1 (a), unique key u2 (b, c), key k (c, d), primary key (d), key k2 (e, a))',
      'ALTER TABLE t DROP COLUMN a',
      'ALTER TABLE t DROP COLUMN b, DROP COLUMN c',
      'ALTER TABLE t DROP d',
      'ALTER TABLE t DROP e, ADD f int',
    ],
  },
  {
    name: 'primary key columns are NOT NULL, and stay so after DROP PRIMARY KEY',
    sql: [
      'CREATE TABLE t (a int, b int, c int null)',
      'ALTER TABLE t ADD PRIMARY KEY (a, b)',
      'ALTER TABLE t DROP PRIMARY KEY',
      'ALTER TABLE t MODIFY a int',
      'ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (c), MODIFY b bigint',
      'CREATE TABLE t2 (id int primary key, v int)',
      'ALTER TABLE t2 MODIFY id bigint unsigned',
    ],
  },
  {
    name: 'no-op clauses: defaults, table options, algorithm, lock, force, order by',
    sql: [
      'CREATE TABLE t (a int, b int default 1, c varchar(3))',
      "ALTER TABLE t ALTER COLUMN a SET DEFAULT 5, ALTER b DROP DEFAULT, ENGINE=InnoDB, COMMENT='x', AUTO_INCREMENT=100, ROW_FORMAT=DYNAMIC, ALGORITHM=COPY, LOCK=SHARED",
      'ALTER TABLE t FORCE',
      'ALTER TABLE t ENGINE=InnoDB ROW_FORMAT=COMPACT',
      'ALTER TABLE t ORDER BY a',
      'ALTER TABLE t',
      "ALTER TABLE t COMMENT 'CHARSET utf8mb4', STATS_PERSISTENT=0, PAGE_CHECKSUM=1",
      "ALTER TABLE t ALTER COLUMN c SET DEFAULT (concat('a', 'b'))",
    ],
  },
  {
    name: 'ADD then MODIFY of the same new column in one statement',
    sql: [
      'CREATE TABLE t (a int)',
      'ALTER TABLE t ADD x int, MODIFY x bigint not null',
      'ALTER TABLE t ADD y int, ADD z int AFTER y, MODIFY y varchar(3) FIRST',
      'ALTER TABLE t ADD w int, MODIFY w bigint AFTER a',
    ],
  },
  {
    name: 'CHANGE swaps two column names',
    sql: [
      'CREATE TABLE t (a int, b varchar(3), unique (a), key (b))',
      'ALTER TABLE t CHANGE a b varchar(3), CHANGE b a int',
    ],
  },
  {
    name: 'DROP COLUMN with RESTRICT/CASCADE, ADD with inline PRIMARY KEY FIRST',
    sql: [
      'CREATE TABLE t (a int, b int, c int)',
      'ALTER TABLE t DROP a, DROP COLUMN b CASCADE',
      'ALTER TABLE t ADD id int auto_increment primary key FIRST',
    ],
  },
  {
    name: 'a multi-clause ALTER touching everything, then RENAME',
    sql: [
      'CREATE TABLE t (id int, a varchar(10), b int, c text, d int, key kd (d))',
      'ALTER TABLE t ADD PRIMARY KEY (id), DROP COLUMN b, MODIFY a varchar(20) charset utf8mb4 not null first, ADD COLUMN e json AFTER id, CHANGE c cc mediumtext, DROP INDEX kd, ADD UNIQUE INDEX ua (a), RENAME TO t2, DEFAULT CHARSET utf8mb4',
      'ALTER TABLE t2 ADD f text',
    ],
  },
  {
    name: 'MariaDB statement prefixes: SET STATEMENT, ONLINE, IGNORE, WAIT/NOWAIT',
    sql: [
      'SET STATEMENT max_statement_time=100 FOR CREATE TABLE t (a int)',
      'ALTER ONLINE TABLE t ADD b int',
      'ALTER IGNORE TABLE t ADD UNIQUE (b)',
      'ALTER TABLE t WAIT 10 ADD c int',
      'ALTER TABLE t NOWAIT ADD d int',
      'ALTER TABLE IF EXISTS t ADD e int',
    ],
  },

  // ---- indexes
  {
    name: 'index naming: first column, _2, _3 suffixes, PRIMARY never, CONSTRAINT names',
    sql: [
      'CREATE TABLE t (a int, b int, c varchar(20), d text, e int)',
      "ALTER TABLE t ADD INDEX (a), ADD UNIQUE (a), ADD UNIQUE KEY (a, b), ADD KEY named (b) USING BTREE, ADD FULLTEXT (d), ADD UNIQUE INDEX uc (c(5)) COMMENT 'x', ADD CONSTRAINT cu UNIQUE (b), ADD UNIQUE KEY USING HASH (e)",
      'ALTER TABLE t DROP INDEX a, RENAME INDEX a_2 TO ua, RENAME KEY named TO nb',
      'ALTER TABLE t DROP KEY cu, ADD UNIQUE (b)',
      'CREATE TABLE t2 (`primary` int, `PRIMARY_2` int, unique (`primary`), key (`PRIMARY_2`), unique (`primary`))',
    ],
  },
  {
    name: 'index names are case-insensitive',
    sql: [
      'CREATE TABLE t (idx int, b int)',
      'ALTER TABLE t ADD UNIQUE INDEX IDX (b)',
      'ALTER TABLE t ADD UNIQUE (Idx)',
      'ALTER TABLE t DROP INDEX idx',
      'ALTER TABLE t RENAME INDEX IDX_2 TO Other',
      'ALTER TABLE t CHANGE IDX Idx int',
    ],
  },
  {
    name: 'CREATE INDEX / DROP INDEX statements',
    sql: [
      'CREATE TABLE t (a int, b int, c text, primary key (a))',
      'CREATE UNIQUE INDEX ux ON t (a, b)',
      'CREATE INDEX ix USING HASH ON t (b)',
      'CREATE INDEX IF NOT EXISTS ix ON t (a)',
      'DROP INDEX ix ON t',
      'CREATE OR REPLACE UNIQUE INDEX ux ON t (b)',
      'DROP INDEX IF EXISTS nope ON t',
      'CREATE FULLTEXT INDEX ft ON t (c)',
      'DROP INDEX `PRIMARY` ON t',
      'CREATE UNIQUE INDEX u2 ON db.t (b DESC) ALGORITHM=INPLACE LOCK=NONE',
    ],
  },
  {
    name: 'DROP CONSTRAINT drops a UNIQUE key (MariaDB 10.11) or a CHECK',
    sql: [
      'CREATE TABLE t (a int, b int, unique (b), unique key ua (a))',
      'ALTER TABLE t DROP CONSTRAINT b',
      'ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)',
      'ALTER TABLE t DROP CONSTRAINT ck',
      'ALTER TABLE t DROP CONSTRAINT IF EXISTS nope, ADD CONSTRAINT CHECK (b < 5)',
    ],
  },
  {
    name: 'long unique keys, prefix keys and hash keys',
    sql: [
      'CREATE TABLE t (a text, b blob, c varchar(100), d int, unique (a), unique (b(10)), key (c(5)), unique key uc (c) using hash, index (d) using btree)',
    ],
  },
  {
    name: 'foreign keys add an implicit index unless one covers them; a covering index later replaces it',
    sql: [
      'CREATE TABLE p (id int primary key, id2 int, key(id, id2))',
      'CREATE TABLE c (f int, g int, h int, foreign key (f) references p(id))',
      'CREATE TABLE c2 LIKE c',
      'ALTER TABLE c ADD INDEX (f, g)',
      'CREATE TABLE d (f int, g int, h int, constraint zz foreign key (f) references p(id), unique key (g))',
      'ALTER TABLE d ADD CONSTRAINT zz2 FOREIGN KEY (g) REFERENCES p(id), ADD FOREIGN KEY ff (h) REFERENCES p(id)',
      'ALTER TABLE d DROP FOREIGN KEY zz',
      'CREATE TABLE e (a int, b int)',
      'ALTER TABLE e ADD INDEX (a), ADD FOREIGN KEY (a, b) REFERENCES p(id, id2)',
      'CREATE TABLE q (a int, b int, foreign key (a) references p(id))',
      'ALTER TABLE q ADD UNIQUE (a, b)',
      'ALTER TABLE c2 ADD UNIQUE (f, g)',
      'CREATE TABLE r (x serial, a int unique, b int, c int, d int, e text, f int, g int, key(b), unique(b), unique key (c,d), unique(a), constraint cc unique (d), index (c), fulltext(e), foreign key (d) references p(id), constraint fk2 foreign key (c) references p(id), constraint fk3 foreign key (f, g) references p(id,id2), foreign key fkname (g) references p(id), foreign key (f) references p(id))',
    ],
  },

  // ---- tables: create, like, rename, drop
  {
    name: 'CREATE TABLE IF NOT EXISTS keeps the table; CREATE OR REPLACE replaces it',
    sql: [
      'CREATE TABLE t (a int)',
      'CREATE TABLE IF NOT EXISTS t (b int)',
      'CREATE OR REPLACE TABLE t (c int, d varchar(3))',
    ],
  },
  {
    name: 'CREATE TABLE LIKE copies columns, keys and charsets, across schemas',
    sql: [
      'CREATE DATABASE other',
      'CREATE TABLE src (id int auto_increment primary key, a varchar(3) charset utf8mb4, b text, unique key (a)) charset latin2',
      'CREATE TABLE dst LIKE src',
      'CREATE TABLE other.dst2 (LIKE src)',
      'CREATE TABLE IF NOT EXISTS dst LIKE other.dst2',
      'ALTER TABLE dst ADD c varchar(3)',
      'CREATE TABLE other.dst3 LIKE db.dst',
    ],
  },
  {
    name: 'RENAME TABLE across schemas, chains and swaps',
    sql: [
      'CREATE DATABASE other CHARSET utf8mb4',
      'CREATE TABLE t (a int)',
      'RENAME TABLE t TO other.t2, other.t2 TO other.t3',
      'CREATE TABLE t (b text)',
      'RENAME TABLE t TO tmp, other.t3 TO t, tmp TO other.t3',
      'ALTER TABLE t ADD c varchar(3)',
      'RENAME TABLES other.t3 TO other.t4',
      'RENAME TABLE IF EXISTS nope TO nope2, t TO t5',
    ],
  },
  {
    name: 'ALTER TABLE RENAME: an unqualified new name is in the current database',
    sql: [
      'CREATE DATABASE other',
      'CREATE TABLE t (a int)',
      'ALTER TABLE t RENAME TO t2',
      'ALTER TABLE t2 RENAME AS other.t3',
      'ALTER TABLE other.t3 RENAME t4',
      'ALTER TABLE t4 ADD c int, RENAME TO other.t5',
      'ALTER TABLE other.t5 RENAME TO other.t6, ADD d int',
    ],
  },
  {
    name: 'DROP TABLE lists, IF EXISTS, TRUNCATE',
    sql: [
      'CREATE TABLE a (x int)',
      'CREATE TABLE b (x int)',
      'CREATE TABLE c (x int)',
      'CREATE TABLE d (x int)',
      'DROP TABLE a, b',
      'DROP TABLE IF EXISTS c, nope',
      'DROP TABLE IF EXISTS nope2',
      'TRUNCATE TABLE d',
      'TRUNCATE d',
      'DROP TABLE db.d RESTRICT',
    ],
  },
  {
    name: 'DROP DATABASE drops its tables; CREATE SCHEMA IF NOT EXISTS',
    sql: [
      'CREATE DATABASE d2',
      'CREATE TABLE d2.t (a int)',
      'CREATE TABLE d2.u (a int)',
      'DROP DATABASE d2',
      'CREATE DATABASE IF NOT EXISTS db',
      'CREATE SCHEMA IF NOT EXISTS d3 DEFAULT CHARACTER SET = utf8mb4',
      'DROP SCHEMA IF EXISTS d4',
      'CREATE DATABASE d2 COLLATE latin1_general_ci',
      'CREATE TABLE d2.t (a varchar(2))',
      'CREATE OR REPLACE DATABASE d2',
      "CREATE DATABASE d5 COMMENT 'c' CHARACTER SET utf8mb4",
    ],
  },
  {
    name: 'partitioned tables: partition clauses and maintenance change no column',
    sql: [
      'CREATE TABLE t (a int, b int, primary key (a)) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)',
      'ALTER TABLE t ADD c int',
      'ALTER TABLE t REORGANIZE PARTITION p1 INTO (PARTITION p1 VALUES LESS THAN (20), PARTITION p2 VALUES LESS THAN MAXVALUE)',
      'ALTER TABLE t TRUNCATE PARTITION p0',
      'ALTER TABLE t ANALYZE PARTITION p1',
      'ALTER TABLE t DROP PARTITION p0',
      'ALTER TABLE t REMOVE PARTITIONING',
      'ALTER TABLE t ADD d int PARTITION BY HASH(a) PARTITIONS 3',
      'ALTER TABLE t COALESCE PARTITION 1',
      'ALTER TABLE t PARTITION BY KEY(a) PARTITIONS 2',
    ],
  },
  {
    name: 'CONVERT PARTITION TO TABLE and CONVERT TABLE TO PARTITION',
    sql: [
      'CREATE DATABASE other',
      'CREATE TABLE t (a int, b varchar(3), primary key (a)) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (100))',
      'ALTER TABLE t ADD PARTITION (PARTITION p9 VALUES LESS THAN (300))',
      'ALTER TABLE t CONVERT PARTITION p0 TO TABLE t_p0',
      'ALTER TABLE t CONVERT TABLE t_p0 TO PARTITION p10 VALUES LESS THAN (400)',
      'ALTER TABLE t ADD c int',
      'ALTER TABLE t CONVERT PARTITION p1 TO TABLE other.t_p1',
    ],
  },
  {
    name: 'statements that change no table: views, temporary tables, DML, SET, transactions',
    sql: [
      'CREATE TABLE t (a int)',
      'CREATE VIEW v AS SELECT a FROM t',
      'CREATE TEMPORARY TABLE tmp (x int)',
      'DROP TEMPORARY TABLE tmp',
      'INSERT INTO t VALUES (1)',
      'BEGIN',
      'UPDATE t SET a = 2',
      'COMMIT',
      "SET @x = 'ALTER TABLE t ADD b int'",
      'DROP VIEW v',
      'ANALYZE TABLE t',
      'OPTIMIZE TABLE t',
    ],
  },

  {
    name: 'replacing keys within one statement; column-level KEY; PRIMARY KEY wins over UNIQUE',
    sql: [
      'CREATE TABLE t (a int, b int, c int unique, d int unique)',
      'CREATE TABLE k (a int key, b int)',
      'CREATE TABLE k2 (a int primary key unique, b int)',
      'ALTER TABLE t DROP INDEX c, ADD INDEX c (b), ADD PRIMARY KEY (a)',
      'ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (b, a)',
      'ALTER TABLE t CHANGE a aa int, ADD UNIQUE (AA), ADD UNIQUE (Aa)',
      'ALTER TABLE t RENAME COLUMN b TO bb, ADD COLUMN b int AFTER bb',
      'ALTER TABLE t CHANGE d d bigint not null, ADD KEY (d DESC, c)',
    ],
  },
  {
    name: 'foreign keys added by ALTER reuse an index added in the same statement',
    sql: [
      'CREATE TABLE p (id int primary key)',
      'CREATE TABLE t (x int, y int unique, z int)',
      'ALTER TABLE t ADD INDEX idx_x (x), ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES p(id)',
      'ALTER TABLE t ADD FOREIGN KEY (y) REFERENCES p(id), ADD FOREIGN KEY fz (z) REFERENCES p(id)',
      'ALTER TABLE t ADD COLUMN w int REFERENCES p(id), ADD COLUMN v int UNIQUE CONSTRAINT cv REFERENCES p(id)',
    ],
  },
  {
    name: 'identifiers: unicode, dots, mixed-case schemas, comments with quotes and newlines',
    sql: [
      'CREATE DATABASE `Other`',
      "CREATE TABLE `Other`.`a.b` (`naïve` int, `日本` varchar(3) charset utf8mb4 COMMENT 'line1\\nline2 \"q\" ''s', `x``y` int, UNIQUE (`NAÏVE`))",
      // not in one ALTER: MariaDB 10.11.19 then keeps the old `a.b` too (a server bug with dotted names)
      'ALTER TABLE `Other`.`a.b` CHANGE `x``y` `x``z` bigint',
      'ALTER TABLE `Other`.`a.b` RENAME TO `Other`.`c.d`',
      'RENAME TABLE `Other`.`c.d` TO `e.f`',
    ],
  },
  {
    name: 'an application migration history',
    sql: [
      'CREATE TABLE users (id int unsigned NOT NULL AUTO_INCREMENT, email varchar(191) NOT NULL, name varchar(100) DEFAULT NULL, created_at timestamp NULL DEFAULT NULL, PRIMARY KEY (id), UNIQUE KEY users_email_unique (email)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
      'ALTER TABLE users ADD remember_token varchar(100) NULL AFTER name',
      "ALTER TABLE users ADD role enum('admin','user') NOT NULL DEFAULT 'user', ADD INDEX users_role_index (role)",
      'ALTER TABLE users MODIFY name varchar(255) NOT NULL',
      "ALTER TABLE users MODIFY role enum('admin','user','guest') NOT NULL DEFAULT 'user'",
      'ALTER TABLE users RENAME COLUMN name TO full_name',
      'CREATE TABLE posts (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id int unsigned NOT NULL, body longtext, CONSTRAINT posts_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
      'ALTER TABLE posts ADD published tinyint(1) NOT NULL DEFAULT 0, ADD INDEX posts_user_id_published_index (user_id, published)',
      'ALTER TABLE users DROP INDEX users_email_unique, ADD UNIQUE users_email_role_unique (email, role)',
      'RENAME TABLE posts TO articles',
      'ALTER TABLE articles CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    ],
  },
  {
    name: 'table options with commas, CHARACTER SET DEFAULT, and table-level charset changes with CONVERT',
    sql: [
      'CREATE DATABASE d6 CHARSET utf8mb4',
      'CREATE TABLE d6.t (a varchar(3)) ENGINE=InnoDB, CHARSET=latin1, COLLATE=latin1_bin',
      'CREATE TABLE d6.u (a varchar(3)) CHARACTER SET DEFAULT',
      'ALTER TABLE d6.t CHARACTER SET DEFAULT, ADD b varchar(3)',
      "ALTER TABLE d6.u ENGINE=InnoDB, CONVERT TO CHARACTER SET latin1 COLLATE latin1_general_ci, COMMENT='x'",
    ],
  },
  {
    name: 'DEFAULT values of every literal form',
    sql: [
      'CREATE SEQUENCE s',
      `CREATE TABLE t (a int DEFAULT -1, b int DEFAULT +1, c decimal(5,2) DEFAULT 1.5, d varchar(3) DEFAULT NULL, e varchar(3) DEFAULT '',
      f datetime DEFAULT CURRENT_TIMESTAMP(), g char(36) DEFAULT uuid(), h char(36) DEFAULT (uuid()), i int DEFAULT nextval(s),
      j bigint DEFAULT NEXT VALUE FOR s, k varchar(6) DEFAULT 'a' 'b', l varchar(3) DEFAULT _latin1 'x', m varbinary(2) DEFAULT X'0A',
      n int DEFAULT 0x0A, o bit(2) DEFAULT b'1', p tinyint(1) DEFAULT TRUE, q date DEFAULT DATE '2020-01-01', r varchar(3) DEFAULT N'x',
      s2 time DEFAULT TIME '10:00:00', t2 timestamp NULL DEFAULT TIMESTAMP '2020-01-01 00:00:00', u double DEFAULT -1.5e-3,
      v varchar(10) DEFAULT 'x' COLLATE latin1_bin NOT NULL)`,
    ],
    refused: [0],
  },
  {
    name: 'online schema change tools: pt-online-schema-change and gh-ost statement flows',
    sql: [
      'CREATE TABLE t (id int PRIMARY KEY, a varchar(10))',
      'CREATE TABLE `db`.`_t_new` LIKE `db`.`t`',
      'ALTER TABLE `db`.`_t_new` ADD COLUMN b int NOT NULL DEFAULT 0',
      'RENAME TABLE `db`.`t` TO `db`.`_t_old`, `db`.`_t_new` TO `db`.`t`',
      'DROP TABLE IF EXISTS `db`.`_t_old` /* generated by server */',
      'create /* gh-ost */ table `db`.`_t_ghc` (id bigint auto_increment, last_update timestamp not null DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, hint varchar(64) charset ascii not null, value varchar(4096) charset ascii not null, primary key(id), unique key hint_uidx(hint)) auto_increment=256',
      'create /* gh-ost */ table `db`.`_t_gho` like `db`.`t`',
      'alter /* gh-ost */ table `db`.`_t_gho` add column c varchar(3) charset utf8mb4 after a',
      'rename /* gh-ost */ table `db`.`t` to `db`.`_t_del`, `db`.`_t_gho` to `db`.`t`',
      'drop /* gh-ost */ table if exists `db`.`_t_ghc`',
      'drop /* gh-ost */ table if exists `db`.`_t_del`',
    ],
  },
  {
    name: 'explicit_defaults_for_timestamp OFF (the default before MariaDB 10.10): TIMESTAMP is NOT NULL unless NULL',
    tracker: { explicitDefaultsForTimestamp: false },
    sql: [
      'SET SESSION explicit_defaults_for_timestamp = 0',
      "CREATE TABLE t (ts timestamp, ts2 timestamp, ts3 timestamp null, ts4 timestamp not null, ts5 timestamp(3) default '2020-01-01', ts6 timestamp as (ts) virtual, dt datetime)",
      'ALTER TABLE t ADD ts7 timestamp, MODIFY ts3 timestamp',
    ],
  },
  // ---- statements the model refuses: the oracle reloads the tables from the server
  {
    name: 'CREATE TABLE ... SELECT is refused (columns come from a query)',
    sql: [
      'CREATE TABLE t (a int)',
      "CREATE TABLE t2 SELECT a, 'xy' AS b FROM t",
      'CREATE TABLE t3 (id int primary key) SELECT 1 AS id, 2 AS c',
      'CREATE TABLE t4 AS SELECT * FROM t',
      'CREATE TABLE t5 (SELECT 1 AS z)',
      'ALTER TABLE t2 ADD c int',
    ],
    refused: [1, 2, 3, 4],
  },
  {
    name: 'system versioning and sequences are refused',
    sql: [
      'CREATE TABLE t (a int)',
      'ALTER TABLE t ADD SYSTEM VERSIONING',
      'CREATE TABLE v (a int) WITH SYSTEM VERSIONING',
      'CREATE SEQUENCE s',
      'CREATE TABLE w (a int)',
    ],
    refused: [1, 2, 3],
  },
];
