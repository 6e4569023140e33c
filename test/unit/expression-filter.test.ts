import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpr, ExprSyntaxError } from '../../src/filter/expr-ast.ts';
import { evaluate, isTrue, columnValue, type EvalEnv } from '../../src/filter/expr-eval.ts';
import { ExpressionFilter } from '../../src/filter/expression-filter.ts';
import type { ColumnInfo, TableInfo } from '../../src/schema/engine-shapes.ts';
import type { Val } from '../../src/filter/expr-values.ts';
import { parseTaskConfig } from '../../src/config/index.ts';
import { DmError } from '../../src/errors/index.ts';

const ENV: EvalEnv = { zoneMinutes: 0, now: () => Date.UTC(2026, 0, 15, 12, 0, 0) };

function col(name: string, columnType: string, binary = false): ColumnInfo {
  const dataType = /^[a-z]+/.exec(columnType)![0];
  return {
    name,
    dataType,
    columnType,
    nullable: true,
    generated: false,
    charset: null,
    collation: null,
    comment: '',
    binary,
  };
}

function table(cols: ColumnInfo[], t = 't'): TableInfo {
  return { schema: 's', table: t, columns: cols, primaryKey: [], uniqueKeys: [] };
}

/** Evaluates `expr` on one row of `cols`; returns the SQL result as text ('NULL' for NULL). */
function ev(
  expr: string,
  cols: ColumnInfo[] = [],
  row: Record<string, string | Buffer | null> = {},
  env = ENV,
): string {
  const byName = new Map(cols.map((c) => [c.name.toLowerCase(), c]));
  const v: Val = evaluate(
    compileExpr(expr),
    (n) => columnValue(row[byName.get(n.toLowerCase())!.name], byName.get(n.toLowerCase())!, env),
    env,
  );
  if (v === null) return 'NULL';
  if (v.k === 'bytes') return `0x${v.v.toString('hex')}`;
  if (v.k === 'json') return JSON.stringify(v.v);
  return String(v.v);
}

test('comparison, arithmetic and logic follow MySQL', () => {
  assert.equal(ev('1 + 2 * 3 = 7'), '1');
  assert.equal(ev('7 DIV 2'), '3');
  assert.equal(ev('7 % 2'), '1');
  assert.equal(ev('7 / 2'), '3.5');
  assert.equal(ev('1 / 0'), 'NULL');
  assert.equal(ev('0.1 + 0.2 = 0.3'), '1', 'DECIMAL literals are exact');
  assert.equal(ev("'10' = 10"), '1', 'string vs number compares as numbers');
  assert.equal(ev("'abc' = 'abc  '"), '1', 'PAD SPACE');
  assert.equal(ev("'abc' = 'ABC'"), '0', 'binary collation, as DM evaluates');
  assert.equal(ev('NULL = NULL'), 'NULL');
  assert.equal(ev('NULL AND 0'), '0');
  assert.equal(ev('NULL OR 1'), '1');
  assert.equal(ev('NOT NULL'), 'NULL');
  assert.equal(ev('1 XOR 1'), '0');
  assert.equal(ev('3 IN (1, 2, 3)'), '1');
  assert.equal(ev('4 IN (1, NULL)'), 'NULL');
  assert.equal(ev('4 NOT IN (1, 2)'), '1');
  assert.equal(ev('5 BETWEEN 1 AND 5'), '1');
  assert.equal(ev("'abc' LIKE 'a%'"), '1');
  assert.equal(ev("'a_c' LIKE 'a\\_c'"), '1');
  assert.equal(ev("'abc' LIKE 'a\\_c'"), '0');
  assert.equal(ev("'abc' REGEXP '^a.c$'"), '1');
  assert.equal(ev('NULL IS NULL'), '1');
  assert.equal(ev('0 IS FALSE'), '1');
  assert.equal(ev('CASE WHEN 1 = 2 THEN 10 WHEN 2 = 2 THEN 20 END'), '20');
  assert.equal(ev("CASE 'b' WHEN 'a' THEN 1 ELSE 2 END"), '2');
  assert.equal(ev('IF(NULL, 1, 2)'), '2');
  assert.equal(ev('COALESCE(NULL, NULL, 3)'), '3');
  assert.equal(ev('12345678901234567890 = 12345678901234567890'), '1', 'BIGINT UNSIGNED literals are exact');
  assert.equal(ev('5 & 3'), '1');
});

test('column values are typed by the tracked column type', () => {
  const cols = [
    col('i', 'int(11)'),
    col('u', 'bigint(20) unsigned'),
    col('d', 'decimal(7,2)'),
    col('f', 'float'),
    col('dt', 'datetime(3)'),
    col('ts', 'timestamp(4)'),
    col('tm', 'time(5)'),
    col('y', 'year'),
    col('b', 'bit(8)', true),
    col('bin', 'binary(1)', true),
    col('bl', 'blob', true),
    col('e', "enum('a','b','c')"),
    col('st', "set('a','b','c')"),
    col('j', 'json'),
    col('s', 'varchar(20)'),
    col('dd', 'date'),
  ];
  const row = {
    i: '28',
    u: '18446744073709551615',
    d: '30.02',
    f: '31.32399940490723',
    dt: '2021-01-01 12:34:56.789',
    ts: '2021-01-01 04:34:56.5678',
    tm: '-838:58:50.12345',
    y: '2021',
    b: Buffer.from([0x0f]),
    bin: Buffer.from('b'),
    bl: Buffer.from('asdf'),
    e: 'b',
    st: 'b,c',
    j: '{"id": 2, "a": {"b": [1, 2, 3]}}',
    s: 'Müller…',
    dd: '2021-06-22',
  };
  const yes = (e: string) => assert.equal(ev(e, cols, row), '1', e);
  yes('i >= 25');
  yes('u = 18446744073709551615');
  yes('d >= 25');
  yes('d = 30.02');
  yes('f >= 25');
  yes("dt = '2021-01-01 12:34:56.789'");
  yes("ts = '2021-01-01 12:34:56.5678+08:00'");
  yes("ts = '2021-01-01 04:34:56.5678'");
  yes("tm = '-838:58:50.12345'");
  yes("y = '2021'");
  yes("b = b'1111'");
  yes('b = 15');
  yes("bin = 'b'");
  yes("bl = 'asdf'");
  yes("e = 'b'");
  yes("st = 'b,c'");
  yes('j->"$.id" = 2');
  yes("j->>'$.id' = '2'");
  yes("JSON_EXTRACT(j, '$.a.b[1]') = 2");
  yes("JSON_CONTAINS(j, '2', '$.id')");
  yes("JSON_CONTAINS(j, '[1,3]', '$.a.b')");
  yes("JSON_CONTAINS_PATH(j, 'one', '$.x', '$.a')");
  yes("JSON_LENGTH(j, '$.a.b') = 3");
  yes("JSON_TYPE(j) = 'OBJECT'");
  yes("s != 'Muller'");
  yes("dd = '2021-06-22'");
  yes("dd < '2021-06-22 00:00:01'");
  yes('YEAR(dt) = 2021 AND MONTH(dt) = 1');
  yes("DATE_ADD(dd, INTERVAL 1 MONTH) = '2021-07-22'");
  yes("dd + INTERVAL 1 DAY = '2021-06-23'");
  yes("DATEDIFF('2021-06-23', dd) = 1");
  yes("UPPER(s) = 'MÜLLER…'");
  yes('CHAR_LENGTH(s) = 7 AND LENGTH(s) = 10');
  yes("CONCAT(e, '-', i) = 'b-28'");
  yes("SUBSTRING(s, 2, 3) = 'üll'");
  // The same row seen in another time zone: TIMESTAMP values move with the zone, DATETIME values do not.
  assert.equal(ev("ts = '2021-01-01 12:34:56.5678'", cols, row, { ...ENV, zoneMinutes: 480 }), '1');
  assert.equal(ev("dt = '2021-01-01 12:34:56.789'", cols, row, { ...ENV, zoneMinutes: 480 }), '1');
});

test('NULL column values never make an expression true', () => {
  const cols = [col('c', 'int'), col('s', 'varchar(10)')];
  for (const e of ['c >= 25', 'c != 1', 'NOT c = 1', "s LIKE '%'", 'c IN (1, 2)', 'c + 1 > 0']) {
    assert.equal(
      isTrue(evaluate(compileExpr(e), (n) => columnValue(null, cols.find((c) => c.name === n)!, ENV), ENV)),
      false,
      e,
    );
  }
  assert.equal(ev('c IS NULL', cols, { c: null }), '1');
});

test('NOW() and CURDATE() use the filter time zone', () => {
  assert.equal(ev("NOW() = '2026-01-15 12:00:00'"), '1');
  assert.equal(ev("NOW() = '2026-01-15 20:00:00'", [], {}, { ...ENV, zoneMinutes: 480 }), '1');
  assert.equal(ev("CURDATE() = '2026-01-15'"), '1');
  const cols = [col('ts', 'datetime')];
  assert.equal(ev('ts > NOW()', cols, { ts: '2040-01-01 00:00:00' }), '1');
  assert.equal(ev('ts > NOW()', cols, { ts: '1999-01-01 00:00:00' }), '0');
});

test('what tsdm cannot evaluate is refused when the expression is compiled', () => {
  const bad: [string, RegExp][] = [
    ['c = (SELECT 1)', /sub-quer/],
    ['@x = 1', /variables/],
    ['FOO(c) = 1', /function FOO\(\) is not supported/],
    ['ABS(c, 2) = 1', /takes 1 argument/],
    ["JSON_EXTRACT(j, '$**.a') = 1", /JSON path/],
    ['CAST(c AS SIGNED) = 1', /CAST/],
    ['c = ', /can parse/],
    ['', /empty/],
    ['s.t.c = 1', /without its schema/],
  ];
  for (const [e, re] of bad)
    assert.throws(
      () => compileExpr(e),
      (err: unknown) => err instanceof ExprSyntaxError && re.test(err.message),
      e,
    );
});

test('DM semantics: insert/delete rules, update pairs with AND, unknown columns are FALSE', () => {
  const t5 = table([col('id', 'int'), col('should_skip', 'int'), col('c', 'int')], 't5');
  const warnings: string[] = [];
  const f = new ExpressionFilter(
    [
      { name: 'update_old_lt_100', schema: 's', table: 't5', updateOldValueExpr: 'c > 100' },
      { name: 'update_new_lt_100', schema: 's', table: 't5', updateNewValueExpr: 'c > 100' },
      {
        name: 'update_old_and_new',
        schema: 's',
        table: 't5',
        updateOldValueExpr: 'c = 1',
        updateNewValueExpr: 'c = 2',
      },
      { name: 'even', schema: 'S', table: 'T5', insertValueExpr: 'c % 2 = 0' },
      { name: 'del', schema: 's', table: 't5', deleteValueExpr: 'id = 30' },
      { name: 'gone', schema: 's', table: 't5', insertValueExpr: 'nope = 1' },
    ],
    false,
    ENV,
    (m) => warnings.push(m),
  );
  const r = (id: number, c: number) => ({ id: String(id), should_skip: '0', c: String(c) });
  assert.equal(f.skip('update', t5, r(1, 99), r(1, 110)), true, 'new > 100');
  assert.equal(f.skip('update', t5, r(2, 101), r(2, 20)), true, 'old > 100');
  assert.equal(f.skip('update', t5, r(3, 1), r(3, 2)), true, 'old = 1 AND new = 2');
  assert.equal(f.skip('update', t5, r(4, 1), r(4, 3)), false, 'old = 1 but new = 3');
  assert.equal(f.skip('insert', t5, undefined, r(5, 4)), true, 'case-insensitive table match');
  assert.equal(f.skip('insert', t5, undefined, r(5, 5)), false);
  assert.equal(f.skip('delete', t5, r(30, 0), undefined), true);
  assert.equal(f.skip('delete', t5, r(31, 0), undefined), false);
  assert.equal(warnings.length, 1, 'one warning per table structure for the unknown column');
  // Another table with no rules: untouched.
  assert.equal(f.skip('insert', table([col('c', 'int')], 'other'), undefined, { c: '2' }), false);
  // A table whose structure lost the column: FALSE; a new structure with it again binds again.
  const noC = table([col('id', 'int'), col('should_skip', 'int')], 't5');
  assert.equal(f.skip('insert', noC, undefined, { id: '5', should_skip: '0' }), false);
  assert.equal(
    f.skip('insert', table([...noC.columns, col('c', 'int')], 't5'), undefined, { id: '7', should_skip: '1', c: '8' }),
    true,
  );
});

test('an evaluation error is a coded error, never a silent pass', () => {
  const t = table([col('j', 'text')]);
  const f = new ExpressionFilter(
    [{ name: 'js', schema: 's', table: 't', insertValueExpr: "JSON_EXTRACT(j, '$.a') = 1" }],
    false,
    ENV,
  );
  assert.throws(
    () => f.skip('insert', t, undefined, { j: 'not json' }),
    (e: unknown) => e instanceof DmError && e.code === 'TSDM-60004',
  );
});

const TASK = (rules: string) => `
name: t
task-mode: all
target-database: { host: 127.0.0.1, port: 4000, user: root, password: "" }
mysql-instances:
  - source-id: s1
    expression-filters: ["r1"]
expression-filter:
${rules}
`;

test('task files: expression-filter rules are checked at load with file, line and key', () => {
  const ok = parseTaskConfig(TASK('  r1: { schema: db, table: t1, insert-value-expr: "c % 2 = 0" }'), 'task.yaml');
  assert.deepEqual(ok.subtasks[0]!.exprFilters, [
    { name: 'r1', schema: 'db', table: 't1', insertValueExpr: 'c % 2 = 0' },
  ]);
  const err = (rules: string) => {
    try {
      parseTaskConfig(TASK(rules), 'task.yaml');
    } catch (e) {
      return e as DmError;
    }
    assert.fail('accepted');
  };
  const e1 = err('  r1:\n    schema: db\n    table: t1\n    insert-value-expr: "FOO(c) = 1"');
  assert.equal(e1.code, 'TSDM-10016');
  assert.equal(e1.context.line, 12);
  assert.match(e1.message, /FOO/);
  const e2 = err('  r1: { schema: db, table: t1, insert-value-expr: "c = 1", delete-value-expr: "c = 2" }');
  assert.match(e2.message, /one kind per rule/);
  const e3 = err('  r1: { table: t1, insert-value-expr: "c = 1" }');
  assert.match(e3.message, /needs schema/);
  const e4 = (() => {
    try {
      parseTaskConfig(TASK('  r2: { schema: db, table: t1, insert-value-expr: "c = 1" }'), 'task.yaml');
    } catch (e) {
      return e as DmError;
    }
    assert.fail('accepted');
  })();
  assert.equal(e4.code, 'TSDM-10006');
});
