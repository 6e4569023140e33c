/**
 * `dmctl binlog-schema list` prints a tracked table as CREATE TABLE and `binlog-schema update` reads one back
 * (src/schema/show-create.ts): for every table the schema-tracker corpus builds, printing then reading gives the same
 * table, so a listed schema can be edited and fed back as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import { SchemaTracker, type TrackedTable } from '../../src/schema/model.ts';
import { showCreateTable, tableFromCreate } from '../../src/schema/show-create.ts';
import { CORPUS, renderTable, SERVER_DEFAULT } from './schema-tracker-corpus.ts';

/** The table without what a CREATE TABLE cannot say: indexes MariaDB made for a FOREIGN KEY are plain ones. */
function comparable(t: TrackedTable): string[] {
  return [
    ...renderTable({ ...t, indexes: t.indexes.map(({ generated: _g, ...i }) => i) }),
    ...t.columns.map((c) => `  ${c.name} default=${JSON.stringify(c.default)} auto=${c.autoIncrement === true}`),
    `  charset ${t.charset}`,
  ];
}

test('every table of the schema-tracker corpus reads back from its CREATE TABLE unchanged', () => {
  let tables = 0;
  const failures: string[] = [];
  for (const c of CORPUS) {
    const tracker = new SchemaTracker({ ...SERVER_DEFAULT, ...c.tracker });
    tracker.setSchema({ name: 'db', charset: 'latin1', collation: 'latin1_swedish_ci' });
    for (const sql of c.sql) applyDdl(tracker, sql, 'db');
    for (const t of tracker.tables()) {
      tables++;
      const sql = showCreateTable(t);
      let back: TrackedTable;
      try {
        back = tableFromCreate(tracker, t.schema, t.table, sql);
      } catch (err) {
        failures.push(`${c.name} ${t.table}: ${(err as Error).message}\n${sql}`);
        continue;
      }
      const a = comparable(t).join('\n');
      const b = comparable(back).join('\n');
      if (a !== b) failures.push(`${c.name} ${t.table}:\n${sql}\n--- tracked\n${a}\n--- read back\n${b}`);
    }
  }
  assert.ok(tables > 20, `the corpus builds tables (${tables})`);
  assert.deepEqual(failures, []);
});

test('the statement may name any table, and must be one CREATE TABLE with columns', () => {
  const tracker = new SchemaTracker(SERVER_DEFAULT);
  tracker.setSchema({ name: 'shop', charset: 'utf8mb4', collation: 'utf8mb4_general_ci' });
  const t = tableFromCreate(
    tracker,
    'shop',
    'orders',
    "CREATE TABLE IF NOT EXISTS `other`.`x` (id INT PRIMARY KEY, note VARCHAR(20) DEFAULT 'it''s');",
  );
  assert.equal(t.schema, 'shop');
  assert.equal(t.table, 'orders');
  assert.deepEqual(
    t.columns.map((c) => [c.name, c.columnType, c.collation, c.default]),
    [
      ['id', 'int(11)', null, undefined],
      ['note', 'varchar(20)', 'utf8mb4_general_ci', "it's"],
    ],
  );
  assert.match(showCreateTable(t), /^CREATE TABLE `orders` \(\n {2}`id` int\(11\) NOT NULL,\n/);
  for (const bad of [
    'CREATE TABLE t LIKE u',
    'ALTER TABLE t ADD c INT',
    'CREATE TABLE t (id INT); DROP TABLE t',
    'CREATE TABLE t SELECT 1',
  ])
    assert.throws(() => tableFromCreate(tracker, 'shop', 'orders', bad), { code: 'TSDM-10061' }, bad);
});
