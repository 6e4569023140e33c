/**
 * Invariant protected (src/shard/rename.ts, as DM's syncer/ddl.go preFilter and its shard-merge docs): in optimistic
 * mode a shard's RENAME TABLE pauses with DM's 36068 text and a RENAME COLUMN/INDEX with DM's strict-mode 36062 text;
 * in pessimistic mode a rename within the shard group changes nothing downstream (DM: `RENAME TABLE t TO t`, "exists"
 * ignored), and several renames in one statement (36022) or a rename into/out of the group pause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errors } from '../../src/errors/catalog.ts';
import { dmTerror } from '../../src/errors/dm-terror.ts';
import { isDmError } from '../../src/errors/index.ts';
import { shardRename, type RenameRules } from '../../src/shard/rename.ts';
import { renamedTables } from '../../src/sql/ddl.ts';

/** d.t* merge into m.t; d.x* route to m.x; d.tmp* are filtered out. */
const rules: RenameRules = {
  allowTable: (_s, t) => !t.startsWith('tmp'),
  route: (_s, t) => ({ schema: 'm', table: t.startsWith('x') ? 'x' : 't' }),
};
const ev = { task: 'task', sql: 'the event', position: 'b.000001:100' };
const run = (sql: string, mode: 'pessimistic' | 'optimistic' = 'pessimistic') =>
  shardRename([sql], 'd', mode, rules, ev);
const fails = (sql: string, mode: 'pessimistic' | 'optimistic', code: string, text: RegExp) =>
  assert.throws(
    () => run(sql, mode),
    (e) => isDmError(e) && e.code === code && text.test(e.message) && e.context.position === ev.position,
    sql,
  );

test('renamedTables: each RENAME item and ALTER ... RENAME TO, names resolved to the current schema', () => {
  assert.deepEqual(renamedTables('RENAME TABLE t1 TO t3, `e`.t2 TO e.t4', 'd'), [
    { from: { schema: 'd', table: 't1' }, to: { schema: 'd', table: 't3' } },
    { from: { schema: 'e', table: 't2' }, to: { schema: 'e', table: 't4' } },
  ]);
  assert.deepEqual(renamedTables('ALTER TABLE t1 RENAME TO t3', 'd'), [
    { from: { schema: 'd', table: 't1' }, to: { schema: 'd', table: 't3' } },
  ]);
  assert.deepEqual(renamedTables('ALTER TABLE t1 RENAME COLUMN a TO b', 'd'), []);
  assert.deepEqual(renamedTables('CREATE TABLE t1 (id INT)', 'd'), []);
});

test('pessimistic: a rename within the shard group is a no-op for the merged table', () => {
  assert.deepEqual(run('RENAME TABLE `d`.`t1` TO `d`.`t3`'), {
    kind: 'noop',
    renames: [{ from: { schema: 'd', table: 't1' }, to: { schema: 'd', table: 't3' } }],
    target: { schema: 'm', table: 't' },
  });
  assert.equal(run('ALTER TABLE t2 RENAME TO t4').kind, 'noop');
  // The renames of a `dmctl binlog replace` decision, one per statement (what the 36022 suggestion says to do).
  assert.equal(
    shardRename(['RENAME TABLE t1 TO t3', 'RENAME TABLE t2 TO t4'], 'd', 'pessimistic', rules, ev).kind,
    'noop',
  );
  // Other DDL, column renames (coordinated as any pessimistic shard DDL) and renames of filtered tables: not here.
  assert.deepEqual(run('ALTER TABLE t1 ADD COLUMN c INT'), { kind: 'none' });
  assert.deepEqual(run('ALTER TABLE t1 RENAME COLUMN a TO c'), { kind: 'none' });
  assert.deepEqual(run('RENAME TABLE tmp1 TO tmp2'), { kind: 'none' });
});

test('pessimistic: several renames in one statement, a rename out of or into the group, a rename with other clauses pause', () => {
  fails('RENAME TABLE t1 TO t3, t2 TO t4', 'pessimistic', 'TSDM-50010', /^ddl on multiple table: .* not supported/);
  const e = (() => {
    try {
      run('RENAME TABLE t1 TO t3, t2 TO t4');
    } catch (err) {
      return err;
    }
  })();
  assert.ok(
    isDmError(e) && e.suggestion.includes('RENAME TABLE `d`.`t1` TO `d`.`t3`; RENAME TABLE `d`.`t2` TO `d`.`t4`'),
  );
  fails(
    'RENAME TABLE t1 TO x1',
    'pessimistic',
    'TSDM-50006',
    /moves a table between shard groups \(`m`.`t` → `m`.`x`\)/,
  );
  fails('RENAME TABLE t1 TO tmp1', 'pessimistic', 'TSDM-50006', /→ no target \(filtered out\)/);
  fails('RENAME TABLE tmp1 TO t9', 'pessimistic', 'TSDM-50006', /no target \(filtered out\) → `m`.`t`/);
  fails('ALTER TABLE t1 RENAME TO t3, ADD COLUMN c INT', 'pessimistic', 'TSDM-50006', /statement of its own/);
});

test("optimistic: RENAME TABLE is DM's 36068, RENAME COLUMN/INDEX DM's strict-mode 36062", () => {
  fails(
    'RENAME TABLE t1 TO t3',
    'optimistic',
    'TSDM-50006',
    /^`RENAME TABLE` statement not supported in optimistic mode/,
  );
  fails('ALTER TABLE t1 RENAME TO t3', 'optimistic', 'TSDM-50006', /not supported in optimistic mode/);
  const conflict = /^fail to handle shard ddl \[.*\] in optimistic mode, because schema conflict detected/;
  fails('ALTER TABLE t1 RENAME COLUMN a TO c', 'optimistic', 'TSDM-50008', conflict);
  fails('ALTER TABLE t1 CHANGE a c INT', 'optimistic', 'TSDM-50008', conflict);
  fails('ALTER TABLE t1 ADD COLUMN d INT, CHANGE COLUMN a c INT', 'optimistic', 'TSDM-50008', conflict);
  fails('ALTER TABLE t1 RENAME INDEX i TO j', 'optimistic', 'TSDM-50008', conflict);
  assert.deepEqual(run('ALTER TABLE t1 CHANGE a a BIGINT', 'optimistic'), { kind: 'none' });
  assert.deepEqual(run('ALTER TABLE t1 ADD COLUMN d INT', 'optimistic'), { kind: 'none' });
  assert.deepEqual(run('RENAME TABLE tmp1 TO tmp2', 'optimistic'), { kind: 'none' });
});

test("the refusals carry DM's codes in query-status --format dm", () => {
  assert.equal(dmTerror(Errors.ShardDdlUnsupported.code)?.code, 36068);
  assert.equal(dmTerror(Errors.ShardDdlMultipleTables.code)?.code, 36022);
  assert.equal(dmTerror(Errors.ShardDdlConflict.code)?.code, 36062);
});
