/** The per-table figures sync publishes in its status (sync.perTable): counted per run of a table, bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYNC_TABLES_LISTED, TableFigures } from '../../agent/sync/table-figures.ts';
import type { TableName } from '../../src/sql/table-name.ts';

const t = (schema: string, table: string) => ({ schema, table }) as TableName;

test('rows per target table across writers and batches; the lag of the last commit; newest first', () => {
  const f = new TableFigures();
  const a = t('app', 'a');
  const b = t('app', 'b');
  const now = Date.now() / 1000;
  f.batch([[{ target: a }, { target: a }, { target: b }], [{ target: a }]], now - 5);
  f.tables(new Map([[t('app', 'b'), 10]]), now - 1);
  const list = f.list();
  assert.deepEqual(
    list.map(({ table, rows, lagSeconds }) => ({ table, rows, lagSeconds })),
    [
      { table: 'app.b', rows: 11, lagSeconds: 1 },
      { table: 'app.a', rows: 3, lagSeconds: 5 },
    ],
  );
  assert.ok(!Number.isNaN(Date.parse(list[0]!.lastAppliedAt)));
  // No upstream time (a checkpoint-only batch): lag 0, never negative.
  f.batch([[{ target: a }]], 0);
  assert.equal(f.list().find((x) => x.table === 'app.a')!.lagSeconds, 0);
});

test('at most SYNC_TABLES_LISTED in the status, and a bounded memory', () => {
  const f = new TableFigures();
  for (let i = 0; i < 500; i++) f.batch([[{ target: t('s', `t${i}`) }]], 0);
  assert.equal(f.list().length, SYNC_TABLES_LISTED);
  assert.ok((f as unknown as { byName: Map<string, unknown> }).byName.size <= 200);
});
