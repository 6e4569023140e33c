/**
 * Invariant protected (agent/verify/fix-sql.ts, compare-sql.ts): check-data's fix statements are exact and keep what
 * is not compared. Deletes come apart from upserts (callers run them first); missing and changed rows are upserted with
 * INSERT … ON DUPLICATE KEY UPDATE of the compared columns only, so downstream-only columns keep their values; values
 * are literals read back as the same bytes (X'..' for bytes, FROM_UNIXTIME of the instant for TIMESTAMPs, the zero
 * TIMESTAMP as its text); tables without a key delete one row image at a time with NULL-safe equality. Key ranges
 * over composite keys expand to OR/AND comparisons (index-friendly), with extended columns as constants upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksumSql, literal, rangeWhere } from '../../agent/verify/compare-sql.ts';
import { fixStatements } from '../../agent/verify/fix-sql.ts';
import { shapeOf, type TableShape } from '../../agent/verify/table-shape.ts';
import type { ColumnInfo, TableInfo } from '../../agent/db/schema.ts';

const col = (name: string, dataType: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  dataType,
  columnType: dataType,
  nullable: true,
  generated: false,
  charset: ['varchar', 'char', 'text'].includes(dataType) ? 'utf8mb4' : null,
  collation: ['varchar', 'char', 'text'].includes(dataType) ? 'utf8mb4_general_ci' : null,
  comment: '',
  binary: ['varbinary', 'blob', 'bit'].includes(dataType),
  ...extra,
});
const T = { schema: 'db', table: 't' };
const info = (columns: ColumnInfo[], primaryKey: string[], table = 't'): TableInfo => ({
  schema: 'db',
  table,
  columns,
  primaryKey,
  uniqueKeys: [],
});

function shape(down: TableInfo, ups: TableInfo[], constants: Record<string, string>[] = ups.map(() => ({}))) {
  const s = shapeOf(
    {
      target: T,
      shards: ups.map((u, i) => ({ source: `s${i}`, schema: u.schema, table: u.table, constants: constants[i]! })),
    },
    down,
    ups,
  );
  if ('reason' in s) throw new Error(s.reason);
  return s;
}

const keyed = (): TableShape => {
  const cols = [
    col('id', 'int', { nullable: false }),
    col('v', 'varchar'),
    col('b', 'varbinary'),
    col('ts', 'timestamp'),
  ];
  return shape(info([...cols, col('extra', 'int')], ['id']), [info(cols, ['id'])]);
};

test('keyed: deletes apart, upserts of the compared columns only, exact literals', () => {
  const s = keyed();
  assert.deepEqual(
    s.columns.map((c) => c.name),
    ['id', 'v', 'b', 'ts'],
    'the downstream-only column is not compared',
  );
  const fix = fixStatements(T, s, [
    { kind: 'extra', up: null, down: ['7', 'x', null, null], columns: [] },
    { kind: 'missing', up: ['1', "it's", Buffer.from([0, 1]), '1700000000.123400'], down: null, columns: [] },
    { kind: 'changed', up: ['2', null, Buffer.alloc(0), '0'], down: ['2', '', null, null], columns: [1] },
  ]);
  assert.deepEqual(fix.deletes, ['DELETE FROM `db`.`t` WHERE `id` IN (7)']);
  assert.deepEqual(fix.upserts, [
    "INSERT INTO `db`.`t` (`id`,`v`,`b`,`ts`) VALUES (1,'it\\'s',X'0001',FROM_UNIXTIME(1700000000.123400)),(2,NULL,X'','0000-00-00 00:00:00') ON DUPLICATE KEY UPDATE `v` = VALUES(`v`), `b` = VALUES(`b`), `ts` = VALUES(`ts`)",
  ]);
  assert.throws(() => literal(s.columns[3]!, '2024-01-01 00:00:00'), /not a UNIX_TIMESTAMP/);
});

test('without a key: one row image per delete, NULL-safe; plain inserts', () => {
  const cols = [col('a', 'int'), col('b', 'varchar')];
  const s = shape(info(cols, []), [info(cols, [])]);
  const fix = fixStatements(T, s, [
    { kind: 'extra', up: null, down: ['1', null], columns: [] },
    { kind: 'missing', up: ['1', ''], down: null, columns: [] },
  ]);
  assert.deepEqual(fix.deletes, ['DELETE FROM `db`.`t` WHERE `a` <=> 1 AND `b` <=> NULL LIMIT 1']);
  assert.deepEqual(fix.upserts, ["INSERT INTO `db`.`t` (`a`,`b`) VALUES (1,'')"]);
});

test('merge: extended columns are constants upstream, in key ranges and checksums', () => {
  const up = [col('id', 'int', { nullable: false }), col('v', 'varchar')];
  const down = info([...up, col('c_src', 'varchar', { nullable: false })], ['id', 'c_src']);
  const s = shape(down, [info(up, ['id'], 'a'), info(up, ['id'], 'b')], [{ c_src: 's1' }, { C_SRC: 's2' }]);
  assert.equal(
    rangeWhere(s, 1, ['5', 's1'], ['9', 's2']),
    " WHERE (`id` > 5 OR (`id` = 5 AND CONVERT('s2' USING utf8mb4) COLLATE utf8mb4_general_ci > 's1')) AND (`id` < 9 OR (`id` = 9 AND CONVERT('s2' USING utf8mb4) COLLATE utf8mb4_general_ci <= 's2'))",
  );
  assert.equal(
    checksumSql({ schema: 'db', table: 'b' }, s, 1),
    "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('#',`id`,`v`,CONVERT('s2' USING utf8mb4) COLLATE utf8mb4_general_ci,LENGTH(`v`),LENGTH(CONVERT('s2' USING utf8mb4) COLLATE utf8mb4_general_ci),CONCAT(ISNULL(`v`))))),0) FROM `db`.`b`",
  );
  assert.equal(
    checksumSql(T, s, -1),
    "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('#',`id`,`v`,`c_src`,LENGTH(`v`),LENGTH(`c_src`),CONCAT(ISNULL(`v`))))),0) FROM `db`.`t`",
  );
});

test('not comparable: an upstream column missing downstream, a key column without a source', () => {
  const r1 = shapeOf(
    { target: T, shards: [{ source: 's', schema: 'db', table: 't', constants: {} }] },
    info([col('id', 'int')], ['id']),
    [info([col('id', 'int'), col('gone', 'int')], ['id'])],
  );
  assert.match((r1 as { reason: string }).reason, /upstream column gone of s:db.t does not exist downstream/);
  const r2 = shapeOf(
    { target: T, shards: [{ source: 's', schema: 'db', table: 't', constants: {} }] },
    info([col('id', 'int'), col('auto', 'int', { nullable: false })], ['auto']),
    [info([col('id', 'int')], ['id'])],
  );
  assert.match((r2 as { reason: string }).reason, /key column auto .* has no upstream source/);
});

test('an ENUM, SET or BIT key (numeric order, text bounds) makes the table compared whole', () => {
  const cols = [col('e', 'enum', { nullable: false }), col('v', 'int')];
  assert.deepEqual(shape(info(cols, ['e']), [info(cols, ['e'])]).key, []);
  const ints = [col('id', 'int', { nullable: false }), col('v', 'int')];
  assert.deepEqual(shape(info(ints, ['id']), [info(ints, ['id'])]).key, [0]);
});

test('the fast path survives integer display widths and a character set upgrade, not a real type change', () => {
  const id = (t: string) => col('id', 'int', { nullable: false, columnType: t });
  const v = (cs: string) => col('v', 'varchar', { columnType: 'varchar(20)', charset: cs, collation: `${cs}_bin` });
  const down = info([id('int'), v('utf8mb4')], ['id']);
  const s = shape(down, [info([id('int(11)'), v('utf8mb3')], ['id'])]);
  assert.equal(s.fast, true);
  assert.equal(s.columns[1]!.convert, true);
  assert.match(checksumSql(T, s, 0), /CONVERT\(`v` USING utf8mb4\)/);
  assert.equal(shape(down, [info([id('bigint(20)'), v('utf8mb4')], ['id'])]).fast, false);
  assert.equal(shape(down, [info([id('int(11) zerofill'), v('utf8mb4')], ['id'])]).fast, false);
});

test('upserts are split by rows and by size (KV parts of the job stay under NATS payloads)', () => {
  const s = keyed();
  const row = (i: number, v: string) => ({
    kind: 'missing' as const,
    up: [String(i), v, null, null],
    down: null,
    columns: [],
  });
  assert.equal(
    fixStatements(
      T,
      s,
      Array.from({ length: 1001 }, (_v, i) => row(i, 'x')),
    ).upserts.length,
    3,
  );
  const big = fixStatements(
    T,
    s,
    Array.from({ length: 10 }, (_v, i) => row(i, 'é'.repeat(60_000))),
  ).upserts;
  assert.equal(big.length, 5, '2 rows of 120 KB per statement');
  assert.ok(big.every((q) => Buffer.byteLength(q) < 300_000));
});
