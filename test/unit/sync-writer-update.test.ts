/**
 * Invariant protected (agent/sync/writer-update.ts): outside safe mode, a keyed row that existed before the batch and
 * exists after it is written as an UPDATE of its changed columns by a one-column integer key (CASE per column, keys as
 * integer literals), only where no other unique index and no folded key can make the order or the matching matter;
 * everything else, and everything in safe mode, keeps DELETE by key and REPLACE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIND_BYTES } from '../../agent/sync/sqlgen.ts';
import { writerStatements } from '../../agent/sync/writer-sql.ts';
import { identityFor } from '../../agent/sync/row-identity.ts';
import { col, del, downstream, ins, table, text, upd } from './sync-fixtures.ts';

const T = table('t', [col('id', { nullable: false }), col('k'), col('v', { collation: 'utf8mb4_bin' })], ['id']);
const ID = identityFor(
  T,
  downstream(
    [
      ['id', false, null],
      ['k', true, null],
      ['v', true, 'utf8mb4_bin'],
    ],
    [['PRIMARY', 'id', null]],
  ),
);
const o = { identity: ID };
const r = (id: string, k: string | null, v: string | null) => ({ id, k, v });

test('outside safe mode an updated row is an UPDATE of its changed columns, inserts and deletes as before', () => {
  const batch = [
    upd(T, r('1', '5', 'a'), r('1', '6', 'a'), o),
    upd(T, r('2', '7', 'b'), r('2', '8', 'b'), o),
    ins(T, r('3', '1', 'c'), o),
    del(T, r('4', '1', 'd'), o),
    upd(T, r('5', '1', 'e'), r('5', '1', 'f'), o),
  ];
  assert.deepEqual(writerStatements(batch, false), [
    'DELETE FROM `db`.`t` WHERE `id` IN (4)',
    'UPDATE `db`.`t` SET `k` = CASE `id` WHEN 1 THEN 6 WHEN 2 THEN 8 END WHERE `id` IN (1,2)',
    "UPDATE `db`.`t` SET `v` = CASE `id` WHEN 5 THEN 'f' END WHERE `id` IN (5)",
    "REPLACE INTO `db`.`t` (`id`,`k`,`v`) VALUES (3,1,'c')",
  ]);
  // Safe mode: REPLACE, as always.
  assert.deepEqual(writerStatements(batch, true), [
    'DELETE FROM `db`.`t` WHERE `id` IN (4)',
    "REPLACE INTO `db`.`t` (`id`,`k`,`v`) VALUES (1,6,'a'),(2,8,'b'),(3,1,'c'),(5,1,'f')",
  ]);
});

test("a row's state before the batch is its first change's before image; inserted rows stay REPLACE", () => {
  // updated twice: the changed columns are those against the first before image
  assert.deepEqual(
    writerStatements(
      [upd(T, r('1', '5', 'a'), r('1', '6', 'a'), o), upd(T, r('1', '6', 'a'), r('1', '5', 'b'), o)],
      false,
    ),
    ["UPDATE `db`.`t` SET `v` = CASE `id` WHEN 1 THEN 'b' END WHERE `id` IN (1)"],
  );
  // changed back: nothing to write
  assert.deepEqual(
    writerStatements(
      [upd(T, r('1', '5', 'a'), r('1', '6', 'a'), o), upd(T, r('1', '6', 'a'), r('1', '5', 'a'), o)],
      false,
    ),
    [],
  );
  // deleted then inserted again: it existed, so an update against the first image
  assert.deepEqual(writerStatements([del(T, r('1', '5', 'a'), o), ins(T, r('1', '5', 'z'), o)], false), [
    "UPDATE `db`.`t` SET `v` = CASE `id` WHEN 1 THEN 'z' END WHERE `id` IN (1)",
  ]);
  // inserted then updated: it did not exist before the batch
  assert.deepEqual(
    writerStatements([ins(T, r('1', '5', 'a'), o), upd(T, r('1', '5', 'a'), r('1', '6', 'a'), o)], false),
    ["REPLACE INTO `db`.`t` (`id`,`k`,`v`) VALUES (1,6,'a')"],
  );
  // the key moved: DELETE of the old key, REPLACE of the new one
  assert.deepEqual(writerStatements([upd(T, r('1', '5', 'a'), r('2', '5', 'a'), o)], false), [
    'DELETE FROM `db`.`t` WHERE `id` IN (1)',
    "REPLACE INTO `db`.`t` (`id`,`k`,`v`) VALUES (2,5,'a')",
  ]);
  // NULLs and bytes
  assert.deepEqual(writerStatements([upd(T, r('-3', '5', 'a'), r('-3', null, 'a'), o)], false), [
    'UPDATE `db`.`t` SET `k` = CASE `id` WHEN -3 THEN NULL END WHERE `id` IN (-3)',
  ]);
});

test('REPLACE where an update in place could differ: other unique keys, folded or text keys, upstream stand-ins, mixed text and bytes', () => {
  const u = [upd(T, r('1', '5', 'a'), r('1', '6', 'a'))]; // identity: the upstream's keys stand in
  assert.match(text(writerStatements(u, false)[0]), /^REPLACE/);
  const U = table(
    't',
    [col('id', { nullable: false }), col('k'), col('v', { collation: 'utf8mb4_bin' })],
    ['id'],
    [['k']],
  );
  const uid = identityFor(
    U,
    downstream(
      [
        ['id', false, null],
        ['k', false, null],
        ['v', true, 'utf8mb4_bin'],
      ],
      [
        ['PRIMARY', 'id', null],
        ['uk', 'k', null],
      ],
    ),
  );
  assert.match(
    text(writerStatements([upd(U, r('1', '5', 'a'), r('1', '6', 'a'), { identity: uid })], false)[0]),
    /^REPLACE/,
  );
  const S = table('t', [col('id', { nullable: false, collation: 'utf8mb4_bin' }), col('v')], ['id']);
  const sid = identityFor(
    S,
    downstream(
      [
        ['id', false, 'utf8mb4_bin'],
        ['v', true, null],
      ],
      [['PRIMARY', 'id', null]],
    ),
  );
  assert.match(
    text(writerStatements([upd(S, { id: 'a', v: '1' }, { id: 'a', v: '2' }, { identity: sid })], false)[0]),
    /^REPLACE/,
  );
  // one column with text in one row and bytes in another: REPLACE (a CASE over both would be typed as bytes)
  const mixed = writerStatements(
    [
      upd(T, r('1', '5', 'a'), r('1', '5', 'b'), o),
      upd(T, { id: '2', k: '5', v: 'a' }, { id: '2', k: '5', v: Buffer.from('b') }, o),
    ],
    false,
  );
  assert.equal(mixed.length, 1);
  assert.match(text(mixed[0]), /^REPLACE INTO .* VALUES \(1,5,'b'\),\(2,5,X'62'\)$/);
});

test('at most 50 rows per UPDATE', () => {
  const batch = Array.from({ length: 120 }, (_, i) => upd(T, r(String(i), '1', 'a'), r(String(i), '2', 'a'), o));
  const out = writerStatements(batch, false);
  assert.equal(out.length, 3);
  assert.equal(
    out[2],
    `UPDATE \`db\`.\`t\` SET \`k\` = CASE \`id\` ${Array.from({ length: 20 }, (_, i) => `WHEN ${100 + i} THEN 2`).join(' ')} END WHERE \`id\` IN (${Array.from({ length: 20 }, (_, i) => 100 + i).join(',')})`,
  );
});

test('a row with BIND_BYTES of binary values is a bound REPLACE, never an in-place UPDATE', () => {
  const big = Buffer.alloc(BIND_BYTES, 1);
  const out = writerStatements(
    [
      upd(T, r('1', '5', 'a'), r('1', '6', 'b'), o),
      upd(T, { id: '2', k: '5', v: big }, { id: '2', k: '6', v: big }, o),
    ],
    false,
  );
  assert.equal(out.length, 2);
  assert.match(text(out[0]), /^UPDATE .* WHERE `id` IN \(1\)$/);
  assert.deepEqual(out[1], { sql: 'REPLACE INTO `db`.`t` (`id`,`k`,`v`) VALUES (?,?,?)', params: ['2', '6', big] });
});
