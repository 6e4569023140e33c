import { tableKey } from '../../src/sql/table-name.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planReload,
  type PlanTable,
  type ReconcileInput,
  type TouchingStatement,
} from '../../agent/load/load-reconcile.ts';
import { parseInfo } from '../../agent/db/binlog-ddl.ts';

const P = (pos: number) => ({ name: 'binlog.000001', pos });
const T = (table: string, schema = 'db') => ({ schema, table });
const plan = (table: string, done: boolean, loadedAt?: number): PlanTable => ({
  ...T(table),
  done,
  ...(loadedAt ? { loadedAt: P(loadedAt) } : {}),
});
const ddl = (end: number, ...tables: string[]): TouchingStatement => ({
  end: P(end),
  tables: tables.map((t) => (t.startsWith('schema:') ? T('', t.slice(7)) : T(t))),
});
const names = (r: { reload: { schema: string; table: string }[] }) => r.reload.map((t) => `${tableKey(t)}`);
const run = (o: Partial<ReconcileInput>) =>
  planReload({ base: P(100), at: P(1000), plan: [], snapshot: [], ddl: [], changed: () => false, ...o });

test('no DDL since the first snapshot: nothing is reloaded, the remaining chunks load from the new one', () => {
  const r = run({ plan: [plan('a', true), plan('b', false)], snapshot: [T('a'), T('b')] });
  assert.deepEqual(r, { reload: [], schemas: [] });
});

test('ALTER on a table still loading reloads it; on a loaded table it is replayed by sync', () => {
  const r = run({
    plan: [plan('a', true), plan('b', false)],
    snapshot: [T('a'), T('b')],
    ddl: [ddl(200, 'a'), ddl(300, 'b')],
  });
  assert.deepEqual(names(r), ['db.b']);
});

test('DDL before the first snapshot or after the new one does not count', () => {
  const r = run({ plan: [plan('b', false)], snapshot: [T('b')], ddl: [ddl(100, 'b'), ddl(1001, 'b')] });
  assert.deepEqual(names(r), []);
});

test('a table reloaded at a later snapshot is hit only by DDL after it', () => {
  const r = run({ plan: [plan('b', false, 500)], snapshot: [T('b')], ddl: [ddl(300, 'b')] });
  assert.deepEqual(names(r), []);
  const r2 = run({ plan: [plan('b', false, 500)], snapshot: [T('b')], ddl: [ddl(300, 'b'), ddl(600, 'b')] });
  assert.deepEqual(names(r2), ['db.b']);
});

test('RENAME of a loading table reloads both names (and what a later rename brings in), whole', () => {
  // RENAME b TO b2 (b still loading), then RENAME c TO b (c loaded): b, b2 and c are one history.
  const r = run({
    plan: [plan('b', false), plan('c', true)],
    snapshot: [T('b'), T('b2')],
    ddl: [ddl(200, 'b', 'b2'), ddl(300, 'c', 'b')],
  });
  assert.deepEqual(names(r), ['db.b', 'db.b2', 'db.c']);
});

test('RENAME of a loaded table is left to sync, and so is a new table', () => {
  const r = run({
    plan: [plan('a', true), plan('b', false)],
    snapshot: [T('a2'), T('b'), T('n')],
    ddl: [ddl(200, 'a', 'a2'), ddl(300, 'n')],
  });
  assert.deepEqual(names(r), []);
});

test('DROP TABLE of a loading table reloads it (it is dropped downstream and not loaded again)', () => {
  const r = run({ plan: [plan('a', true), plan('d', false)], snapshot: [T('a')], ddl: [ddl(200, 'd')] });
  assert.deepEqual(names(r), ['db.d']);
});

test('DROP DATABASE hits every table of the schema and marks the schema', () => {
  const r = run({
    plan: [plan('a', false), plan('x', true, undefined)],
    snapshot: [T('a')],
    ddl: [ddl(200, 'schema:db'), ddl(250, 'a')],
  });
  assert.deepEqual(names(r), ['db.a', 'db.x']);
  assert.deepEqual(r.schemas, ['db']);
});

test('a structure that differs downstream reloads the table even without a DDL seen', () => {
  const r = run({
    plan: [plan('a', false), plan('b', true)],
    snapshot: [T('a'), T('b')],
    changed: (t) => t.table !== 'zzz',
  });
  assert.deepEqual(names(r), ['db.a']);
});

test('the binlog range cannot be read: every table is reloaded and every schema marked', () => {
  const r = planReload({
    base: P(100),
    at: P(1000),
    plan: [plan('a', true), plan('b', false)],
    snapshot: [T('a'), T('c', 'o')],
    changed: () => false,
  });
  assert.deepEqual(names(r), ['db.a', 'db.b', 'o.c']);
  assert.deepEqual(r.schemas, ['db', 'o']);
});

test('task-mode full (no binlog): loading tables gone or changed are reloaded, new ones loaded', () => {
  const r = planReload({
    plan: [plan('a', true), plan('b', false), plan('c', false), plan('d', false)],
    snapshot: [T('a'), T('b'), T('c'), T('n')],
    changed: (t) => t.table === 'c',
  });
  assert.deepEqual(names(r), ['db.c', 'db.d', 'db.n']);
});

test('SHOW BINLOG EVENTS Info: default schema and statement', () => {
  assert.deepEqual(parseInfo('use `shop`; ALTER TABLE t ADD c INT'), {
    schema: 'shop',
    sql: 'ALTER TABLE t ADD c INT',
  });
  assert.deepEqual(parseInfo('use `we``ird`; DROP TABLE x'), { schema: 'we`ird', sql: 'DROP TABLE x' });
  assert.deepEqual(parseInfo('CREATE DATABASE a'), { schema: '', sql: 'CREATE DATABASE a' });
});
