import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/route/router.ts';
import type { RouteRule } from '../../src/config/types.ts';
import { parseTaskConfig } from '../../src/config/index.ts';
import type { DmError } from '../../src/errors/index.ts';

const rule = (r: Partial<RouteRule> & Pick<RouteRule, 'schemaPattern' | 'targetSchema'>): RouteRule => ({
  name: '',
  tablePattern: '',
  targetTable: '',
  ...r,
});

// DM's TestFetchExtendColumn (tidb util/regexpr-router): table rules first, captures concatenated, no match = ''.
test('DM TestFetchExtendColumn', () => {
  const router = new Router(
    [
      rule({
        schemaPattern: 'schema*',
        tablePattern: 't*',
        targetSchema: 'test',
        targetTable: 't',
        extractTable: { targetColumn: 'table_name', regexp: 'table_(.*)' },
        extractSchema: { targetColumn: 'schema_name', regexp: 'schema_(.*)' },
        extractSource: { targetColumn: 'source_name', regexp: 'source_(.*)_(.*)' },
      }),
      rule({
        schemaPattern: 'schema*',
        targetSchema: 'test',
        targetTable: 't2',
        extractSchema: { targetColumn: 'schema_name', regexp: '(.*)' },
        extractSource: { targetColumn: 'source_name', regexp: '(.*)' },
      }),
    ],
    false,
  );
  assert.deepEqual(router.extendColumns('schema_s1', 'table_t1', 'source_s1_s1'), {
    columns: ['table_name', 'schema_name', 'source_name'],
    values: ['t1', 's1', 's1s1'],
  });
  assert.deepEqual(router.extendColumns('schema_s2', 'a_table_t2', 'source_s2'), {
    columns: ['schema_name', 'source_name'],
    values: ['schema_s2', 'source_s2'],
  });
  // "t*" matches "tx" but table_(.*) does not: the column is still there, with ''.
  assert.deepEqual(router.extendColumns('schema_s3', 'tx', 'mysql-replica-01'), {
    columns: ['table_name', 'schema_name', 'source_name'],
    values: ['', 's3', ''],
  });
  assert.equal(router.extendColumns('other', 'table_t1', 's'), undefined, 'no matching rule');
  assert.equal(
    new Router([rule({ schemaPattern: 'a', targetSchema: 'b' })], false).extendColumns('a', 't', 's'),
    undefined,
    'a rule without extractors',
  );
});

test('DM extend_column case: source-regexp with two groups concatenates them', () => {
  const router = new Router(
    [
      rule({
        schemaPattern: 'extend_column*',
        tablePattern: 't*',
        targetSchema: 'extend_column',
        targetTable: 't',
        extractTable: { regexp: 't(.*)', targetColumn: 'c_table' },
        extractSchema: { regexp: '(.*)', targetColumn: 'c_schema' },
        extractSource: { regexp: 'mysql-(.*)-([0-9]+)', targetColumn: 'c_source' },
      }),
    ],
    false,
  );
  assert.deepEqual(router.extendColumns('extend_column1', 't1', 'mysql-replica-01')?.values, [
    '1',
    'extend_column1',
    'replica01',
  ]);
  assert.deepEqual(router.route('extend_column1', 't1'), { schema: 'extend_column', table: 't' });
});

const TASK = (route: string) => `
name: t
task-mode: all
target-database: { host: 127.0.0.1, port: 4000, user: root, password: "" }
mysql-instances:
  - source-id: s1
    route-rules: [r]
routes:
  r:
    schema-pattern: "db*"
    target-schema: db
${route}
`;

test('task files: extract-* are read, checked (target-column, Go regexp) at their line', () => {
  const ok = parseTaskConfig(
    TASK('    extract-table: { table-regexp: "t_(.*)", target-column: c_table }'),
    'task.yaml',
  );
  assert.deepEqual(ok.subtasks[0]!.routes[0]!.extractTable, { regexp: 't_(.*)', targetColumn: 'c_table' });
  const err = (route: string) => {
    try {
      parseTaskConfig(TASK(route), 'task.yaml');
    } catch (e) {
      return e as DmError;
    }
    assert.fail('accepted');
  };
  assert.match(err('    extract-schema: { schema-regexp: "(.*)" }').message, /needs target-column/);
  const bad = err('    extract-source:\n      source-regexp: "(?=x)"\n      target-column: c');
  assert.equal(bad.code, 'TSDM-10008');
  assert.equal(bad.context.line, 13);
});
