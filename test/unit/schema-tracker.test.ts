/**
 * The schema tracker without a server: the corpus (schema-tracker-corpus.ts) replayed through applyDdl must give
 * exactly the models MariaDB 10.11 gave (golden/schema-tracker.txt, written by the oracle test from the server's
 * information_schema), through a JSON round trip after every statement; plus the failure results, atomicity,
 * persistence format, and the conversions to zongji's and the engine's shapes.
 */
import { tableKey } from '../../src/sql/table-name.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyDdl, ApplyFailure, type ApplyResult } from '../../src/schema/apply-ddl.ts';
import type { TableInfo } from '../../src/schema/engine-shapes.ts';
import { SchemaTracker, tableOf, type SchemaTrackerOptions, type TrackedTable } from '../../src/schema/model.ts';
import { toColumnDefs, toTableInfo, trackedTableFromInfoSchema } from '../../src/schema/from-server.ts';
import { formatEnumType, parseEnumMembers, quoteEnumMember } from '../../src/schema/enum-members.ts';
import { DmError } from '../../src/errors/index.ts';
import {
  CORPUS,
  GOLDEN_URL,
  SERVER_DEFAULT,
  parseGolden,
  renderTable,
  renderTracker,
} from './schema-tracker-corpus.ts';

const golden = parseGolden(readFileSync(GOLDEN_URL, 'utf8'));

function fresh(opts: SchemaTrackerOptions = {}): SchemaTracker {
  const t = new SchemaTracker({ ...SERVER_DEFAULT, ...opts });
  assert.ok(applyDdl(t, 'CREATE DATABASE db', '').ok);
  return t;
}

function apply(t: SchemaTracker, ...sqls: string[]): void {
  for (const sql of sqls) {
    const r = applyDdl(t, sql, 'db');
    assert.ok(r.ok, `${sql}\n${r.ok ? '' : `${r.code}: ${r.reason}`}`);
  }
}

function failure(r: ApplyResult): Extract<ApplyResult, { ok: false }> {
  assert.equal(r.ok, false, 'expected the statement to be refused');
  return r as Extract<ApplyResult, { ok: false }>;
}

test('the corpus has at least 60 statements over sequences of DDL', () => {
  assert.ok(CORPUS.reduce((n, c) => n + c.sql.length, 0) >= 60);
  assert.ok(CORPUS.length >= 50);
  assert.equal(new Set(CORPUS.map((c) => c.name)).size, CORPUS.length, 'case names are unique');
});

for (const c of CORPUS) {
  test(`corpus: ${c.name}`, () => {
    let t = fresh(c.tracker);
    // After a refusal naming tables the oracle reloads them from the server, which a unit test cannot do: from
    // there on only the refusals are checked.
    let reloaded = false;
    for (const [i, sql] of c.sql.entries()) {
      const r = applyDdl(t, sql, 'db');
      if (c.refused?.includes(i)) {
        assert.equal(r.ok, false, `statement ${i} should be refused: ${sql}`);
        if (!r.ok && r.tables.length > 0) reloaded = true;
        continue;
      }
      if (reloaded) continue;
      assert.ok(r.ok, `statement ${i}: ${sql}\n${r.ok ? '' : `${r.code}: ${r.reason}`}`);
      // persisted with every checkpoint: the model must survive JSON unchanged
      const again = SchemaTracker.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
      assert.deepEqual(renderTracker(again), renderTracker(t));
      t = again;
    }
    if (!reloaded)
      assert.deepEqual(renderTracker(t), golden.get(c.name), 'model differs from what MariaDB 10.11 did (golden file)');
  });
}

test('a create → alter → alter sequence, model spelled out', () => {
  const t = fresh();
  apply(
    t,
    "CREATE TABLE orders (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, sku varchar(64) NOT NULL, note text, state enum('new','paid','x,y') DEFAULT 'new') DEFAULT CHARSET=utf8mb4",
    'ALTER TABLE orders ADD COLUMN amount decimal(12,2) NOT NULL AFTER sku, ADD UNIQUE KEY uk_sku (sku), DROP COLUMN note',
    'ALTER TABLE orders CHANGE sku code varchar(32) CHARACTER SET latin1 NOT NULL, ADD paid_at datetime(6) FIRST',
  );
  const o = t.get('db', 'orders')!;
  const expected: TrackedTable = tableOf({
    schema: 'db',
    table: 'orders',
    charset: 'utf8mb4',
    collation: 'utf8mb4_general_ci',
    columns: [
      {
        name: 'paid_at',
        columnType: 'datetime(6)',
        dataType: 'datetime',
        nullable: true,
        generated: false,
        charset: null,
        collation: null,
        comment: '',
        hasDefault: true,
      },
      {
        name: 'id',
        columnType: 'bigint(20) unsigned',
        dataType: 'bigint',
        nullable: false,
        generated: false,
        charset: null,
        collation: null,
        comment: '',
        hasDefault: false,
        autoIncrement: true,
      },
      {
        name: 'code',
        columnType: 'varchar(32)',
        dataType: 'varchar',
        nullable: false,
        generated: false,
        charset: 'latin1',
        collation: 'latin1_swedish_ci',
        comment: '',
        hasDefault: false,
      },
      {
        name: 'amount',
        columnType: 'decimal(12,2)',
        dataType: 'decimal',
        nullable: false,
        generated: false,
        charset: null,
        collation: null,
        comment: '',
        hasDefault: false,
      },
      {
        name: 'state',
        columnType: "enum('new','paid','x,y')",
        dataType: 'enum',
        nullable: true,
        generated: false,
        charset: 'utf8mb4',
        collation: 'utf8mb4_general_ci',
        comment: '',
        hasDefault: true,
        default: 'new',
      },
    ],
    indexes: [
      { name: 'PRIMARY', kind: 'primary', columns: ['id'] },
      { name: 'uk_sku', kind: 'unique', columns: ['code'] },
    ],
  });
  assert.deepEqual(o, expected);
  assert.deepEqual(o.primaryKey, ['id']);
  assert.deepEqual(o.uniqueKeys, [['code']]);
});

test('what applyDdl refuses, with a code and the tables involved', () => {
  const t = fresh();
  apply(t, 'CREATE TABLE t (a int)');
  const cases: [string, string, string[]][] = [
    ['CREATE TABLE s AS SELECT * FROM t', ApplyFailure.Unsupported, ['db.s']],
    ['CREATE TABLE s (a int) SELECT 1 AS b', ApplyFailure.Unsupported, ['db.s']],
    ['CREATE TABLE v (a int) WITH SYSTEM VERSIONING', ApplyFailure.Unsupported, ['db.v']],
    ['ALTER TABLE t ADD SYSTEM VERSIONING', ApplyFailure.Unsupported, ['db.t']],
    ['CREATE TABLE s (a int, b int AS ROW START)', ApplyFailure.Unsupported, ['db.s']],
    ['CREATE TABLE s (a int) SEQUENCE=1', ApplyFailure.Unsupported, ['db.s']],
    ['CREATE SEQUENCE s', ApplyFailure.Unsupported, []],
    ['CREATE INDEX i ON t ((a + 1))', ApplyFailure.Unsupported, ['db.t']],
    ['CREATE TABLE s (a vector(3))', ApplyFailure.Unsupported, ['db.s']],
    ['ALTER TABLE nope ADD b int', ApplyFailure.UnknownTable, ['db.nope']],
    ['ALTER TABLE t DROP COLUMN nope', ApplyFailure.UnknownTable, ['db.t']],
    ['ALTER TABLE t ADD b int AFTER nope', ApplyFailure.UnknownTable, ['db.t']],
    ['ALTER TABLE t DROP INDEX nope', ApplyFailure.UnknownTable, ['db.t']],
    ['CREATE TABLE s LIKE nope', ApplyFailure.UnknownTable, ['db.s', 'db.nope']],
    ['RENAME TABLE nope TO s', ApplyFailure.UnknownTable, ['db.nope', 'db.s']],
    ['CREATE TABLE elsewhere.s (a int)', ApplyFailure.UnknownSchema, ['elsewhere.s']],
    ['ALTER TABLE t ADD COLUMN', ApplyFailure.Unreadable, ['db.t']],
    ['CREATE TABLE s (a int wibble)', ApplyFailure.Unreadable, ['db.s']],
    ['CREATE TABLE s (a varchar(3) charset klingon)', ApplyFailure.Unreadable, ['db.s']],
    ['ALTER TABLE t FROBNICATE', ApplyFailure.Unsupported, ['db.t']],
  ];
  for (const [sql, code, tables] of cases) {
    const f = failure(applyDdl(t, sql, 'db'));
    assert.equal(f.code, code, `${sql}: ${f.reason}`);
    assert.deepEqual(
      f.tables.map((n) => `${tableKey(n)}`),
      tables,
      sql,
    );
    assert.ok(f.reason.length > 0);
  }
  assert.deepEqual(renderTracker(t), [
    'schema db latin1_swedish_ci',
    'table db.t latin1_swedish_ci',
    '  a int(11) NULL',
  ]);
});

test('statements that change no table structure are accepted and change nothing', () => {
  const t = fresh();
  apply(t, 'CREATE TABLE t (a int)');
  const before = JSON.stringify(t.toJSON());
  for (const sql of [
    'BEGIN',
    'COMMIT',
    'INSERT INTO t VALUES (1)',
    'CREATE VIEW v AS SELECT 1',
    'CREATE TEMPORARY TABLE x (a int)',
    'DROP TEMPORARY TABLE IF EXISTS x',
    'GRANT SELECT ON *.* TO u',
    '# Dummy event',
    'TRUNCATE TABLE t',
    'FLUSH TABLES',
    'SET @a = 1',
    'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1',
    'ALTER TABLE t ALTER INDEX i IGNORED',
  ]) {
    const r = applyDdl(t, sql, 'db');
    assert.ok(r.ok, sql);
  }
  assert.equal(JSON.stringify(t.toJSON()), before);
});

test('DEFAULT and AUTO_INCREMENT are kept (the binlog event filter classifies MODIFY against them) and survive JSON', () => {
  const t = fresh();
  apply(
    t,
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int DEFAULT '1', b varchar(9) DEFAULT 'it''s', c datetime DEFAULT CURRENT_TIMESTAMP, d int DEFAULT NULL, e decimal(5,2) DEFAULT 1.50)",
  );
  const col = (n: string) => t.get('db', 't')!.columns.find((c) => c.name === n)!;
  assert.deepEqual(
    [col('id').autoIncrement, col('a').default, col('b').default, col('c').default, col('d').default, col('e').default],
    [true, '1', "it's", '(current_timestamp())', undefined, '1.5'],
  );
  apply(t, 'ALTER TABLE t ALTER COLUMN a SET DEFAULT 2, ALTER b DROP DEFAULT, MODIFY id int');
  assert.deepEqual([col('a').default, col('b').default, col('id').autoIncrement], ['2', undefined, undefined]);
  const again = SchemaTracker.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(again.get('db', 't'), t.get('db', 't'));
});

test('a refused statement leaves the tracker exactly as it was (all or nothing)', () => {
  const t = fresh();
  apply(t, 'CREATE TABLE a (x int)', 'CREATE TABLE b (y int)');
  const before = JSON.stringify(t.toJSON());
  failure(applyDdl(t, 'ALTER TABLE a ADD z int, DROP COLUMN nope', 'db'));
  failure(applyDdl(t, 'RENAME TABLE a TO c, nope TO d', 'db'));
  failure(applyDdl(t, 'ALTER TABLE a ADD z int, ADD SYSTEM VERSIONING', 'db'));
  assert.equal(JSON.stringify(t.toJSON()), before);
});

test('names: unqualified names use the current schema; lower_case_table_names folds them', () => {
  const t = fresh();
  apply(t, 'CREATE DATABASE other', 'CREATE TABLE other.T (a int)');
  assert.ok(t.get('other', 'T'));
  assert.equal(t.get('other', 't'), undefined, 'table names are case-sensitive by default');
  assert.ok(applyDdl(t, 'ALTER TABLE T ADD b int', 'other').ok);
  assert.equal(t.get('other', 'T')!.columns.length, 2);
  assert.equal(failure(applyDdl(t, 'CREATE TABLE s (a int)', '')).code, ApplyFailure.Unreadable, 'no current schema');

  const l = new SchemaTracker({ ...SERVER_DEFAULT, lowerCaseTableNames: true });
  assert.ok(applyDdl(l, 'CREATE DATABASE Shop', '').ok);
  assert.ok(applyDdl(l, 'CREATE TABLE Orders (a int)', 'Shop').ok);
  assert.ok(applyDdl(l, 'ALTER TABLE SHOP.ORDERS ADD b int', '').ok);
  assert.deepEqual(
    l.tables().map((x) => `${tableKey(x)}`),
    ['shop.orders'],
  );
  assert.equal(SchemaTracker.fromJSON(l.toJSON()).lowerCaseTableNames, true);
});

test('the persisted form is compact, stable and versioned', () => {
  const t = fresh();
  apply(
    t,
    "CREATE TABLE t (id int PRIMARY KEY, s varchar(3) COMMENT 'c', e enum('a') CHARSET binary, g int AS (id) VIRTUAL, UNIQUE (s))",
    'CREATE DATABASE a CHARSET utf8mb4',
    'CREATE TABLE a.z (b blob)',
  );
  const json = t.toJSON();
  assert.deepEqual(json, {
    v: 1,
    server: ['latin1', 'latin1_swedish_ci'],
    schemas: [
      ['a', 'utf8mb4', 'utf8mb4_general_ci'],
      ['db', 'latin1', 'latin1_swedish_ci'],
    ],
    tables: [
      ['a', 'z', 'utf8mb4_general_ci', [['b', 'blob', 1]], []],
      [
        'db',
        't',
        'latin1_swedish_ci',
        [
          ['id', 'int(11)', 4],
          ['s', 'varchar(3)', 1, 'latin1_swedish_ci', 'c'],
          ['e', "enum('a')", 1, 'binary'],
          ['g', 'int(11)', 7, null, '', null, ['id', 0]],
        ],
        [
          ['PRIMARY', 'primary', ['id']],
          ['s', 'unique', ['s']],
        ],
      ],
    ],
  });
  const back = SchemaTracker.fromJSON(JSON.parse(JSON.stringify(json)));
  assert.deepEqual(back.toJSON(), json);
  assert.deepEqual(back.get('db', 't'), t.get('db', 't'));
  for (const bad of [null, {}, { v: 2 }, { v: 1, server: ['x'], schemas: [], tables: [[1]] }]) {
    assert.throws(
      () => SchemaTracker.fromJSON(bad),
      (e: unknown) => e instanceof DmError && e.spec.code === 'TSDM-30006',
    );
  }
});

test('trackedTableFromInfoSchema reads MariaDB and MySQL 8 rows', () => {
  const cols = [
    {
      column_name: 'b',
      ordinal_position: 2,
      column_type: 'varchar(10)',
      data_type: 'varchar',
      is_nullable: 'YES',
      extra: '',
      character_set_name: 'utf8mb4',
      collation_name: 'utf8mb4_0900_ai_ci',
      column_comment: 'x',
    },
    {
      COLUMN_NAME: 'a',
      ORDINAL_POSITION: '1',
      COLUMN_TYPE: 'int unsigned',
      DATA_TYPE: 'int',
      IS_NULLABLE: 'NO',
      EXTRA: 'auto_increment',
      CHARACTER_SET_NAME: null,
      COLLATION_NAME: null,
      COLUMN_COMMENT: '',
    },
    {
      COLUMN_NAME: 'ts',
      ORDINAL_POSITION: 3,
      COLUMN_TYPE: 'timestamp',
      DATA_TYPE: 'timestamp',
      IS_NULLABLE: 'YES',
      EXTRA: 'DEFAULT_GENERATED on update CURRENT_TIMESTAMP',
      CHARACTER_SET_NAME: null,
      COLLATION_NAME: null,
      COLUMN_COMMENT: '',
    },
    {
      COLUMN_NAME: 'g',
      ORDINAL_POSITION: 4,
      COLUMN_TYPE: 'int',
      DATA_TYPE: 'int',
      IS_NULLABLE: 'YES',
      EXTRA: 'STORED GENERATED',
      CHARACTER_SET_NAME: null,
      COLLATION_NAME: null,
      COLUMN_COMMENT: '',
    },
  ];
  const stats = [
    { INDEX_NAME: 'uk', NON_UNIQUE: 0, SEQ_IN_INDEX: 2, COLUMN_NAME: 'b', INDEX_TYPE: 'BTREE' },
    { INDEX_NAME: 'PRIMARY', NON_UNIQUE: '0', SEQ_IN_INDEX: 1, COLUMN_NAME: 'a', INDEX_TYPE: 'BTREE' },
    { INDEX_NAME: 'uk', NON_UNIQUE: 0, SEQ_IN_INDEX: 1, COLUMN_NAME: 'g', INDEX_TYPE: 'BTREE' },
    { INDEX_NAME: 'fx', NON_UNIQUE: 1, SEQ_IN_INDEX: 1, COLUMN_NAME: null, INDEX_TYPE: 'BTREE' },
    { INDEX_NAME: 'ft', NON_UNIQUE: 1, SEQ_IN_INDEX: 1, COLUMN_NAME: 'b', INDEX_TYPE: 'FULLTEXT' },
  ];
  const t = trackedTableFromInfoSchema(cols, stats, {
    TABLE_SCHEMA: 's',
    TABLE_NAME: 't',
    TABLE_COLLATION: 'utf8mb4_0900_ai_ci',
  });
  assert.deepEqual(renderTable(t), [
    'table s.t utf8mb4_0900_ai_ci',
    '  a int unsigned NOT NULL',
    '  b varchar(10) utf8mb4_0900_ai_ci NULL COMMENT "x"',
    '  ts timestamp NULL',
    '  g int NULL GENERATED',
    '  fulltext ft (b)',
    '  index fx ()',
    '  primary PRIMARY (a)',
    '  unique uk (g,b)',
  ]);
  assert.equal(t.charset, 'utf8mb4');
  assert.deepEqual(t.primaryKey, ['a']);
  assert.deepEqual(t.uniqueKeys, [['g', 'b']]);
});

test('toColumnDefs gives zongji exact ENUM/SET members; toTableInfo the engine shape', () => {
  const t = fresh();
  apply(
    t,
    String.raw`CREATE TABLE t (id int PRIMARY KEY, e enum('a','x,y','it''s','b\\c') NOT NULL, s set('p','q'),
    bn varbinary(4), bt bit(3), js json, ea enum('k') CHARSET binary, u int UNIQUE, g point NOT NULL)`,
  );
  const tt = t.get('db', 't')!;
  const defs = toColumnDefs(tt);
  assert.deepEqual(defs[1], {
    COLUMN_NAME: 'e',
    COLLATION_NAME: 'latin1_swedish_ci',
    CHARACTER_SET_NAME: 'latin1',
    COLUMN_COMMENT: '',
    COLUMN_TYPE: String.raw`enum('a','x,y','it''s','b\\c')`,
    ENUM_VALUES: ['a', 'x,y', "it's", 'b\\c'],
  });
  assert.deepEqual(defs[2]!.SET_VALUES, ['p', 'q']);
  assert.equal(defs[0]!.ENUM_VALUES, undefined);
  const info: TableInfo = toTableInfo(tt);
  assert.deepEqual(
    info.columns.filter((c) => c.binary).map((c) => c.name),
    ['bn', 'bt', 'ea', 'g'],
  );
  assert.deepEqual({ pk: info.primaryKey, uk: info.uniqueKeys }, { pk: ['id'], uk: [['u']] });
  assert.deepEqual(Object.keys(info.columns[0]!).sort(), [
    'binary',
    'charset',
    'collation',
    'columnType',
    'comment',
    'dataType',
    'generated',
    'name',
    'nullable',
  ]);
});

test('ENUM/SET members: MariaDB COLUMN_TYPE escaping both ways', () => {
  const members = ['a', 'x,y', "it's", 'back\\slash', 'nl\nx', 'cr\rx', 'nul\0x', 'tab\tx', ''];
  const type = formatEnumType('set', members);
  assert.equal(type, String.raw`set('a','x,y','it''s','back\\slash','nl\nx','cr\rx','nul\0x','tab	x','')`);
  assert.deepEqual(parseEnumMembers(type), members);
  assert.equal(quoteEnumMember("'"), "''''");
  assert.deepEqual(parseEnumMembers("enum('small','x,y','it''s')"), ['small', 'x,y', "it's"]);
  assert.equal(parseEnumMembers('int(11)'), undefined);
  assert.equal(parseEnumMembers, parseEnumMembers, 'the agent re-exports the same function');
});

test('MySQL-only syntax that MariaDB 10.11 lacks is read the same way', () => {
  const t = fresh();
  apply(
    t,
    'CREATE TABLE t (a int, b varchar(3), KEY ia (a)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci',
    'ALTER TABLE t ALTER INDEX ia INVISIBLE, ADD c int, ALGORITHM=INSTANT',
    'ALTER TABLE t ADD d int NOT NULL DEFAULT (a + 1) SRID 0, RENAME COLUMN b TO bb',
    'ALTER TABLE t ADD e int NOT NULL, ADD CONSTRAINT u UNIQUE (e), DROP CHECK nope_ck, ALTER CHECK c2 NOT ENFORCED',
    'ALTER TABLE t DROP CONSTRAINT u',
  );
  assert.deepEqual(renderTable(t.get('db', 't')!), [
    'table db.t utf8mb4_0900_ai_ci',
    '  a int(11) NULL',
    '  bb varchar(3) utf8mb4_0900_ai_ci NULL',
    '  c int(11) NULL',
    '  d int(11) NOT NULL',
    '  e int(11) NOT NULL NO DEFAULT',
    '  index ia (a)',
  ]);
});
