/**
 * Invariant protected (agent/sync/writer-sql.ts): one writer's share of a batch becomes statements that leave the
 * downstream in the upstream's end-of-batch state.
 *  - Keyed tables are compacted per key to their net effect: absent (DELETE by key) or row R (REPLACE R); every
 *    DELETE runs before every REPLACE; the statements are idempotent (what safe mode needs; outside safe mode rows
 *    that existed may be updated in place instead: sync-writer-update.test.ts).
 *  - Keyless tables keep binlog order: INSERT runs merged, UPDATE/DELETE one row each with LIMIT 1.
 *  - Keyed or keyless, and by which columns, is per change: a target's changes are compacted per run of the same key
 *    columns, runs in binlog order, so rows of one target with different identities are all written, in order.
 *  - A row is written with its own structure's columns minus generated ones; only rows with the same column list of
 *    one target share a multi-row statement; INSERT/REPLACE statements stay under the size limit, DELETE lists under
 *    1000 keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIND_BYTES } from '../../agent/sync/sqlgen.ts';
import { writerStatements } from '../../agent/sync/writer-sql.ts';
import { identityFor } from '../../agent/sync/row-identity.ts';
import { col, del, downstream, ins, table, text, upd } from './sync-fixtures.ts';

const T = table('t', [col('id', { nullable: false }), col('v', { collation: 'utf8mb4_bin' })], ['id']);
const r = (id: string, v: string | null = 'x') => ({ id, v });

test('one key inserted, updated and deleted within a batch compacts to its net effect', () => {
  // insert → REPLACE
  assert.deepEqual(writerStatements([ins(T, r('1', 'a'))]), ["REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','a')"]);
  // insert + update → one REPLACE of the last image
  assert.deepEqual(
    writerStatements([ins(T, r('1', 'a')), upd(T, r('1', 'a'), r('1', 'b')), upd(T, r('1', 'b'), r('1', 'c'))]),
    ["REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','c')"],
  );
  // insert + update + delete → DELETE by key (the row may exist downstream from before: the net effect is absence)
  assert.deepEqual(writerStatements([ins(T, r('1', 'a')), upd(T, r('1', 'a'), r('1', 'b')), del(T, r('1', 'b'))]), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('1')",
  ]);
  // delete + insert → REPLACE only (REPLACE removes the old row itself)
  assert.deepEqual(writerStatements([del(T, r('1', 'a')), ins(T, r('1', 'b'))]), [
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','b')",
  ]);
  // update alone → REPLACE of the full after image (no UPDATE statement)
  assert.deepEqual(writerStatements([upd(T, r('1', 'a'), r('1', 'b'))]), [
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','b')",
  ]);
});

test('an UPDATE that changes the key deletes the old key and replaces the new one', () => {
  assert.deepEqual(writerStatements([upd(T, r('1', 'a'), r('2', 'a'))]), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('1')",
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('2','a')",
  ]);
  // 1 → 2 then 2 → 1: the row ends at 1; 2 is absent.
  assert.deepEqual(writerStatements([upd(T, r('1', 'a'), r('2', 'a')), upd(T, r('2', 'a'), r('1', 'b'))]), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('2')",
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','b')",
  ]);
  // Swap two rows' keys through a third: both end present, the temporary key absent.
  assert.deepEqual(
    writerStatements([
      upd(T, r('1', 'a'), r('9', 'a')),
      upd(T, r('2', 'b'), r('1', 'b')),
      upd(T, r('9', 'a'), r('2', 'a')),
    ]),
    ["DELETE FROM `db`.`t` WHERE `id` IN ('9')", "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','b'),('2','a')"],
  );
});

test('every DELETE runs before every REPLACE, whatever the binlog order', () => {
  // A case-insensitive key: 'A' deleted, then 'a' inserted. They are two keys to the compaction (exact values) but
  // one row to the downstream index: a DELETE of 'A' after the REPLACE of 'a' would delete the new row.
  const CI = table('t', [col('k', { nullable: false, collation: 'utf8mb4_general_ci' }), col('v')], ['k']);
  assert.deepEqual(
    writerStatements([ins(CI, { k: 'b', v: '1' }), del(CI, { k: 'A', v: '0' }), ins(CI, { k: 'a', v: '2' })]),
    ["DELETE FROM `db`.`t` WHERE `k` IN ('A')", "REPLACE INTO `db`.`t` (`k`,`v`) VALUES ('b','1'),('a','2')"],
  );
  // Row 1 moves to 2 and a new row takes 1: no DELETE of 1 at all (its net effect is a row).
  assert.deepEqual(writerStatements([upd(T, r('1', 'a'), r('2', 'a')), ins(T, r('1', 'new')), del(T, r('7'))]), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('7')",
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('2','a'),('1','new')",
  ]);
});

test('keyed statements in safe mode (the default of writerStatements): DELETE by key and REPLACE only, both idempotent', () => {
  // The same text every time; every statement is a DELETE by key or a REPLACE.
  const batch = [ins(T, r('1')), upd(T, r('2'), r('2', 'y')), del(T, r('3')), upd(T, r('4'), r('5'))];
  const out = writerStatements(batch);
  assert.deepEqual(out, writerStatements(batch));
  for (const s of out) assert.match(text(s), /^(DELETE FROM .* WHERE .* IN \(|REPLACE INTO )/);
});

test('rows of a table share one multi-row statement; deletes share one IN list; tables are written apart', () => {
  const U = table('u', [col('a', { nullable: false }), col('b', { nullable: false }), col('c')], ['a', 'b']);
  const tu = { target: { schema: 'db', table: 'u' } };
  assert.deepEqual(
    writerStatements([
      ins(T, r('1')),
      ins(U, { a: '1', b: '2', c: null }, tu),
      ins(T, r('2')),
      del(U, { a: '3', b: '4', c: '0' }, tu),
      del(U, { a: '5', b: '6', c: '0' }, tu),
      del(T, r('3')),
    ]),
    [
      "DELETE FROM `db`.`t` WHERE `id` IN ('3')",
      "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','x'),('2','x')",
      "DELETE FROM `db`.`u` WHERE (`a`,`b`) IN (('3','4'),('5','6'))",
      "REPLACE INTO `db`.`u` (`a`,`b`,`c`) VALUES ('1','2',NULL)",
    ],
  );
});

test('generated columns are never written; rows with different column lists never share a VALUES list', () => {
  const G = table('t', [col('id', { nullable: false }), col('v'), col('g', { generated: true })], ['id']);
  assert.deepEqual(writerStatements([ins(G, { id: '1', v: '2', g: '4' })]), [
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','2')",
  ]);
  // Two shards of one target (optimistic merge): one lacks column v.
  const S2 = table('t2', [col('id', { nullable: false })], ['id']);
  assert.deepEqual(writerStatements([ins(T, r('1')), ins(S2, { id: '2' }), ins(T, r('3'))]), [
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','x'),('3','x')",
    "REPLACE INTO `db`.`t` (`id`) VALUES ('2')",
  ]);
  // Keyless: a change of column list ends the run of merged inserts.
  const K1 = table('k1', [col('a'), col('b')]);
  const K2 = table('k2', [col('a')]);
  assert.deepEqual(
    writerStatements([
      ins(K1, { a: '1', b: '1' }),
      ins(K1, { a: '2', b: '2' }),
      ins(K2, { a: '3' }),
      ins(K1, { a: '4', b: '4' }),
    ]),
    [
      "INSERT INTO `db`.`t` (`a`,`b`) VALUES ('1','1'),('2','2')",
      "INSERT INTO `db`.`t` (`a`) VALUES ('3')",
      "INSERT INTO `db`.`t` (`a`,`b`) VALUES ('4','4')",
    ],
  );
});

test('keyless tables: binlog order, inserts merged, UPDATE/DELETE of one row matched on every column, LIMIT 1', () => {
  const K = table('k', [col('a'), col('b')]);
  assert.deepEqual(
    writerStatements([
      ins(K, { a: '1', b: null }),
      ins(K, { a: '1', b: null }),
      upd(K, { a: '1', b: null }, { a: '2', b: null }),
      ins(K, { a: '3', b: '3' }),
      del(K, { a: '1', b: null }),
      del(K, { a: '3', b: '3' }),
    ]),
    [
      "INSERT INTO `db`.`t` (`a`,`b`) VALUES ('1',NULL),('1',NULL)",
      "UPDATE `db`.`t` SET `a` = '2', `b` = NULL WHERE `a` <=> '1' AND `b` <=> NULL LIMIT 1",
      "INSERT INTO `db`.`t` (`a`,`b`) VALUES ('3','3')",
      "DELETE FROM `db`.`t` WHERE `a` <=> '1' AND `b` <=> NULL LIMIT 1",
      "DELETE FROM `db`.`t` WHERE `a` <=> '3' AND `b` <=> '3' LIMIT 1",
    ],
  );
  // A nullable unique index downstream: matched on it when the row's values are non-NULL, else on every column.
  const id = identityFor(
    K,
    downstream(
      [
        ['a', true, null],
        ['b', true, null],
      ],
      [['ub', 'b', null]],
    ),
  );
  assert.deepEqual(
    writerStatements([del(K, { a: '1', b: '5' }, { identity: id }), del(K, { a: '1', b: null }, { identity: id })]),
    [
      "DELETE FROM `db`.`t` WHERE `b` <=> '5' LIMIT 1",
      "DELETE FROM `db`.`t` WHERE `a` <=> '1' AND `b` <=> NULL LIMIT 1",
    ],
  );
  // A unique index over a generated column is never used to match (its value is the downstream's to compute).
  const KG = table('k', [col('a'), col('g', { generated: true })]);
  const gid = identityFor(
    KG,
    downstream(
      [
        ['a', true, null],
        ['g', true, null],
      ],
      [['ug', 'g', null]],
    ),
  );
  assert.deepEqual(writerStatements([del(KG, { a: '1', g: '2' }, { identity: gid })]), [
    "DELETE FROM `db`.`t` WHERE `a` <=> '1' LIMIT 1",
  ]);
});

test('statement size limits: REPLACE/INSERT split near 4 MiB of text, DELETE lists at 1000 keys', () => {
  const big = 'x'.repeat(1_500_000);
  const out = writerStatements([1, 2, 3, 4, 5].map((i) => ins(T, r(String(i), big))));
  assert.deepEqual(
    out.map((s) => (text(s).match(/\),\(/g) ?? []).length + 1),
    [2, 2, 1],
    'two 1.5 MB rows per statement',
  );
  for (const s of out) assert.ok(text(s).length <= 4 << 20);
  const dels = writerStatements(Array.from({ length: 2500 }, (_, i) => del(T, r(String(i)))));
  assert.equal(dels.length, 3);
  assert.deepEqual(
    dels.map((s) => text(s).split(',').length),
    [1000, 1000, 500],
  );
  // A single row larger than the limit still goes out, alone.
  assert.equal(writerStatements([ins(T, r('1', 'y'.repeat(5 << 20)))]).length, 1);
});

// Rows of one target can carry different identities within one writer's batch: shards of one target with different
// structures (optimistic merge, or a route merging tables without shard mode), or a downstream key that changed
// mid-batch. Keyed or keyless, and by which columns, is decided per change; a target's changes are compacted per run
// of consecutive changes with the same key columns, runs in binlog order (writer-sql.ts). Before, the first change
// decided for the whole table and the compaction map was keyed by values only: keyless rows collapsed into one, a
// keyless DELETE became `WHERE () IN (...)`, and id=5 / u='5' overwrote each other.
test('rows of one target whose identities differ (keyed and keyless) in one writer batch are all written', () => {
  const dn = downstream(
    [
      ['id', true, null],
      ['u', false, null],
      ['v', true, null],
    ],
    [['PRIMARY', 'u', null]],
  );
  const A = table('a', [col('id'), col('u', { nullable: false }), col('v')], ['u']);
  const B = table('b', [col('id'), col('v')]); // lacks u: no downstream key its rows carry
  const ia = identityFor(A, dn);
  const ib = identityFor(B, dn);
  assert.deepEqual([ia.key, ib.key], [['u'], []]);
  const out = writerStatements([
    ins(A, { id: '1', u: '1', v: 'a' }, { identity: ia }),
    ins(B, { id: '2', v: 'b1' }, { identity: ib }),
    ins(B, { id: '3', v: 'b2' }, { identity: ib }),
  ]);
  assert.deepEqual(out, [
    "REPLACE INTO `db`.`t` (`id`,`u`,`v`) VALUES (1,1,'a')",
    "INSERT INTO `db`.`t` (`id`,`v`) VALUES (2,'b1'),(3,'b2')",
  ]);
  // Keyless updates and deletes after a keyed change stay one-row statements in binlog order (never `WHERE () IN`).
  assert.deepEqual(
    writerStatements([
      ins(A, { id: '1', u: '1', v: 'a' }, { identity: ia }),
      upd(B, { id: '2', v: 'b1' }, { id: '2', v: 'b9' }, { identity: ib }),
      del(B, { id: '3', v: 'b2' }, { identity: ib }),
      del(A, { id: '1', u: '1', v: 'a' }, { identity: ia }),
    ]),
    [
      "REPLACE INTO `db`.`t` (`id`,`u`,`v`) VALUES (1,1,'a')",
      "UPDATE `db`.`t` SET `id` = '2', `v` = 'b9' WHERE `id` <=> '2' AND `v` <=> 'b1' LIMIT 1",
      "DELETE FROM `db`.`t` WHERE `id` <=> '3' AND `v` <=> 'b2' LIMIT 1",
      'DELETE FROM `db`.`t` WHERE `u` IN (1)',
    ],
  );
  // The keyless rows first: they are not compacted with the keyed ones either.
  assert.deepEqual(
    writerStatements([
      ins(B, { id: '2', v: 'b1' }, { identity: ib }),
      ins(B, { id: '2', v: 'b1' }, { identity: ib }),
      ins(A, { id: '1', u: '1', v: 'a' }, { identity: ia }),
    ]),
    [
      "INSERT INTO `db`.`t` (`id`,`v`) VALUES (2,'b1'),(2,'b1')",
      "REPLACE INTO `db`.`t` (`id`,`u`,`v`) VALUES (1,1,'a')",
    ],
  );
});

test('rows of one target keyed by different columns with equal values in one writer batch are all written', () => {
  const dn = downstream(
    [
      ['id', false, null],
      ['u', false, null],
    ],
    [
      ['PRIMARY', 'id', null],
      ['uu', 'u', null],
    ],
  );
  const C = table('c', [col('id', { nullable: false }), col('u', { nullable: false })], ['id']);
  const D = table('d', [col('u', { nullable: false })], ['u']); // lacks id (AUTO_INCREMENT downstream): keyed by u
  const ic = identityFor(C, dn);
  const id = identityFor(D, dn);
  assert.deepEqual([ic.key, id.key], [['id'], ['u']]);
  const out = writerStatements([ins(C, { id: '5', u: '9' }, { identity: ic }), ins(D, { u: '5' }, { identity: id })]);
  assert.deepEqual(out, ['REPLACE INTO `db`.`t` (`id`,`u`) VALUES (5,9)', 'REPLACE INTO `db`.`t` (`u`) VALUES (5)']);
  // Deletes keyed by each identity's own columns.
  assert.deepEqual(
    writerStatements([del(C, { id: '5', u: '9' }, { identity: ic }), del(D, { u: '5' }, { identity: id })]),
    ['DELETE FROM `db`.`t` WHERE `id` IN (5)', 'DELETE FROM `db`.`t` WHERE `u` IN (5)'],
  );
});

test('changes of one target under different key columns keep binlog order between runs: a later change is never undone', () => {
  // One row (id=1, u=7) of a target keyed by id, then by u (the identity changed mid-batch), then by id again.
  const dn = downstream(
    [
      ['id', false, null],
      ['u', false, null],
    ],
    [
      ['PRIMARY', 'id', null],
      ['uu', 'u', null],
    ],
  );
  const C = table('c', [col('id', { nullable: false }), col('u', { nullable: false })], ['id']);
  const ic = identityFor(C, dn);
  const iu = identityFor(
    C,
    downstream(
      [
        ['id', false, null],
        ['u', false, null],
      ],
      [['PRIMARY', 'u', null]],
    ),
  );
  const row = { id: '1', u: '7' };
  // Inserted, deleted, inserted again: the row ends present. Compacted per key column set (all deletes first, or
  // one group after the other) the DELETE by u would run after the REPLACE and lose it.
  const out = writerStatements([
    ins(C, row, { identity: ic }),
    del(C, row, { identity: iu }),
    ins(C, row, { identity: ic }),
  ]);
  assert.deepEqual(out, [
    'REPLACE INTO `db`.`t` (`id`,`u`) VALUES (1,7)',
    'DELETE FROM `db`.`t` WHERE `u` IN (7)',
    'REPLACE INTO `db`.`t` (`id`,`u`) VALUES (1,7)',
  ]);
  // Deleted, then inserted again under the other key: the DELETE runs first.
  assert.deepEqual(writerStatements([del(C, row, { identity: iu }), ins(C, row, { identity: ic })]), [
    'DELETE FROM `db`.`t` WHERE `u` IN (7)',
    'REPLACE INTO `db`.`t` (`id`,`u`) VALUES (1,7)',
  ]);
  // Inserted keyless, deleted keyed (a unique index appeared downstream mid-batch): INSERT, then DELETE.
  const K = table('k', [col('u', { nullable: false }), col('v')]);
  const kBefore = identityFor(
    K,
    downstream(
      [
        ['u', false, null],
        ['v', true, null],
      ],
      [],
    ),
  );
  const kAfter = identityFor(
    K,
    downstream(
      [
        ['u', false, null],
        ['v', true, null],
      ],
      [['uu', 'u', null]],
    ),
  );
  assert.deepEqual(
    writerStatements([
      ins(K, { u: '3', v: '0' }, { identity: kBefore }),
      del(K, { u: '3', v: '0' }, { identity: kAfter }),
    ]),
    ['INSERT INTO `db`.`t` (`u`,`v`) VALUES (3,0)', 'DELETE FROM `db`.`t` WHERE `u` IN (3)'],
  );
  // Rows of one target sharing their key columns stay one run, whatever their structures (compaction as before).
  const S2 = table('t2', [col('id', { nullable: false })], ['id']);
  assert.deepEqual(writerStatements([del(T, r('1')), ins(S2, { id: '2' }), del(T, r('3')), ins(T, r('1'))]), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('3')",
    "REPLACE INTO `db`.`t` (`id`) VALUES ('2')",
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','x')",
  ]);
});

test('rows with BIND_BYTES of binary values go as bound statements: keyed a REPLACE after the text ones, keyless in binlog order', () => {
  const big = Buffer.alloc(BIND_BYTES, 0xab);
  const small = Buffer.from('ab', 'hex');
  // keyed, safe mode: the small rows in one text REPLACE, the big row alone with its values as arguments
  const keyed = writerStatements([ins(T, { id: '1', v: big }), ins(T, r('2', 'a')), del(T, r('3'))]);
  assert.deepEqual(keyed, [
    "DELETE FROM `db`.`t` WHERE `id` IN ('3')",
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('2','a')",
    { sql: 'REPLACE INTO `db`.`t` (`id`,`v`) VALUES (?,?)', params: ['1', big] },
  ]);
  // one byte under the threshold: text, as before
  const under = writerStatements([ins(T, { id: '1', v: big.subarray(1) })]);
  assert.equal(typeof under[0], 'string');
  // keyless: the inserts around the big one stay merged apart, the UPDATE binds SET then WHERE values in order
  const K = table('k', [col('a'), col('b', { collation: 'binary' })]);
  const out = writerStatements([
    ins(K, { a: '1', b: small }),
    ins(K, { a: '2', b: big }),
    ins(K, { a: '3', b: null }),
    upd(K, { a: '2', b: big }, { a: '4', b: big }),
    del(K, { a: '4', b: big }),
  ]);
  assert.deepEqual(out, [
    "INSERT INTO `db`.`t` (`a`,`b`) VALUES ('1',X'ab')",
    { sql: 'INSERT INTO `db`.`t` (`a`,`b`) VALUES (?,?)', params: ['2', big] },
    "INSERT INTO `db`.`t` (`a`,`b`) VALUES ('3',NULL)",
    {
      sql: 'UPDATE `db`.`t` SET `a` = ?, `b` = ? WHERE `a` <=> ? AND `b` <=> ? LIMIT 1',
      params: ['4', big, '2', big],
    },
    { sql: 'DELETE FROM `db`.`t` WHERE `a` <=> ? AND `b` <=> ? LIMIT 1', params: ['4', big] },
  ]);
});

test('integer literals only for columns that are integers upstream and downstream; rows differing in that never share a statement', () => {
  // Two shards of one target: `a` has (id INT, n INT), `b` has (id INT, n VARCHAR) upstream.
  const a = table('a', [col('id', { nullable: false }), col('n')], ['id']);
  const b = table('b', [col('id', { nullable: false }), col('n', { collation: 'utf8mb4_bin' })], ['id']);
  const intDown = downstream(
    [
      ['id', false, null],
      ['n', true, null],
    ],
    [['PRIMARY', 'id', null]],
  );
  // The downstream key is text: an unquoted 5 would be compared as a number there (matching '05' and ' 5').
  const textDown = downstream(
    [
      ['id', false, 'utf8mb4_bin'],
      ['n', true, null],
    ],
    [['PRIMARY', 'id', null]],
  );
  assert.deepEqual([...(identityFor(a, intDown).integers ?? [])], ['id', 'n']);
  assert.deepEqual([...(identityFor(b, intDown).integers ?? [])], ['id']);
  assert.deepEqual([...(identityFor(a, textDown).integers ?? [])], ['n']);
  assert.deepEqual([...(identityFor(a, undefined).integers ?? [])], []);

  const onText = { identity: identityFor(a, textDown) };
  assert.deepEqual(writerStatements([del(a, { id: '5', n: '1' }, onText), ins(a, { id: '6', n: '2' }, onText)]), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('5')",
    "REPLACE INTO `db`.`t` (`id`,`n`) VALUES ('6',2)",
  ]);

  // Rows of both shards in either order: each statement quotes by its own rows' columns.
  const ia = { identity: identityFor(a, intDown) };
  const ib = { identity: identityFor(b, intDown) };
  const rows = [ins(a, { id: '1', n: '7' }, ia), ins(b, { id: '2', n: '8' }, ib), ins(a, { id: '3', n: '9' }, ia)];
  assert.deepEqual(writerStatements(rows), [
    'REPLACE INTO `db`.`t` (`id`,`n`) VALUES (1,7),(3,9)',
    "REPLACE INTO `db`.`t` (`id`,`n`) VALUES (2,'8')",
  ]);
  assert.deepEqual(writerStatements([rows[1]!, rows[0]!, rows[2]!]), [
    "REPLACE INTO `db`.`t` (`id`,`n`) VALUES (2,'8')",
    'REPLACE INTO `db`.`t` (`id`,`n`) VALUES (1,7),(3,9)',
  ]);
  // Updated in place outside safe mode: the same rule for the CASE values.
  const upds = [
    upd(a, { id: '1', n: '7' }, { id: '1', n: '70' }, ia),
    upd(b, { id: '2', n: '8' }, { id: '2', n: '80' }, ib),
  ];
  assert.deepEqual(writerStatements(upds, false), [
    'UPDATE `db`.`t` SET `n` = CASE `id` WHEN 1 THEN 70 END WHERE `id` IN (1)',
    "UPDATE `db`.`t` SET `n` = CASE `id` WHEN 2 THEN '80' END WHERE `id` IN (2)",
  ]);
});
