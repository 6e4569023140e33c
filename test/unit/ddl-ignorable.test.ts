import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execIgnoringApplied, isIgnorableDdlErrno, type IgnoredDdl } from '../../agent/sync/ddl-ignorable.ts';

const fail = (errno: number) => Object.assign(new Error(`error ${errno}`), { errno });

test("DM's ignorable DDL errors: exists already / gone already; other errors are not", () => {
  for (const n of [1007, 1008, 1050, 1051, 1054, 1060, 1061, 1068, 1091, 1176, 1507, 1517])
    assert.ok(isIgnorableDdlErrno(n), String(n));
  // table missing for an ALTER, duplicate row for ADD UNIQUE, key on a TEXT without length: the task must pause.
  for (const n of [1146, 1062, 1170, 1265, 1064, undefined]) assert.ok(!isIgnorableDdlErrno(n), String(n));
});

test('an ignorable error is ignored; a multi-clause ALTER is run again clause by clause', async () => {
  const ran: string[] = [];
  const ignored: IgnoredDdl[] = [];
  // The downstream has column c already: the whole ALTER fails, then c's clause alone fails, d's runs.
  const exec = async (sql: string) => {
    ran.push(sql);
    if (/ADD COLUMN c\b/.test(sql)) throw fail(1060);
  };
  await execIgnoringApplied('ALTER TABLE `s`.`t` ADD COLUMN c INT, ADD COLUMN d INT', exec, (i) => ignored.push(i));
  assert.deepEqual(ran, [
    'ALTER TABLE `s`.`t` ADD COLUMN c INT, ADD COLUMN d INT',
    'ALTER TABLE `s`.`t` ADD COLUMN c INT',
    'ALTER TABLE `s`.`t` ADD COLUMN d INT',
  ]);
  assert.deepEqual(ignored, [{ sql: 'ALTER TABLE `s`.`t` ADD COLUMN c INT', errno: 1060 }]);

  ran.length = 0;
  ignored.length = 0;
  await execIgnoringApplied(
    'CREATE TABLE `s`.`t` (id INT)',
    async () => Promise.reject(fail(1050)),
    (i) => ignored.push(i),
  );
  assert.deepEqual(ignored, [{ sql: 'CREATE TABLE `s`.`t` (id INT)', errno: 1050 }]);

  // Any other error, of the statement or of a clause, is thrown.
  await assert.rejects(
    execIgnoringApplied(
      'ALTER TABLE t ADD UNIQUE (v)',
      async () => Promise.reject(fail(1062)),
      () => undefined,
    ),
    /1062/,
  );
  await assert.rejects(
    execIgnoringApplied(
      'ALTER TABLE t ADD COLUMN c INT, ADD INDEX iv (v)',
      async (sql) => {
        if (sql.includes('ADD COLUMN c')) throw fail(1060);
        if (sql.includes('iv')) throw fail(1170);
      },
      () => undefined,
    ),
    /1170/,
  );
});
