/**
 * Invariant protected (agent/sync/sqlgen.ts): every downstream write is SQL text in which identifiers are
 * backquoted (backquotes doubled, dots and any other character kept inside the name) and every value is a literal
 * that the server reads back as the same bytes: strings quoted with backslash escapes (the session never has
 * NO_BACKSLASH_ESCAPES or ANSI_QUOTES), Buffers (binary, BLOB, BIT) as X'..' hex, NULL as NULL, an integer column's
 * digits (where the caller says which columns are integers) as an integer literal; no value ever passes through a JS
 * number. Matching one row uses NULL-safe equality (`<=>`). Multi-row statements stay under their size
 * limit. There is no ON DUPLICATE KEY UPDATE form here: the three verbs are INSERT, INSERT IGNORE and REPLACE (load's
 * on-duplicate-logical error/ignore/replace); ODKU appears only in checkpoint writes (agent/checkpoint.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createDatabaseFor,
  createTableFor,
  deleteByKeyStatements,
  deleteOneRow,
  fullRowWhere,
  insertStatements,
  qualified,
  updateByKey,
  updateCaseStatement,
  updateOneRow,
} from '../../agent/sync/sqlgen.ts';

const T = { schema: 'db', table: 't' };

test('identifiers: backquoted, backquotes doubled, dots and odd characters kept inside one name', () => {
  assert.equal(qualified(T), '`db`.`t`');
  assert.equal(qualified({ schema: 'my.db', table: 'a`b' }), '`my.db`.`a``b`');
  assert.equal(qualified({ schema: 'sp ace', table: 'ünï-cödé 表' }), '`sp ace`.`ünï-cödé 表`');
  assert.equal(
    qualified({ schema: 'select', table: '``' }),
    '`select`.``````',
    'reserved words and backquote-only names',
  );
  assert.equal(
    insertStatements('INSERT', T, ['a b', 'c`d', 'e.f'], [['1', '2', '3']])[0],
    "INSERT INTO `db`.`t` (`a b`,`c``d`,`e.f`) VALUES ('1','2','3')",
  );
});

test('INSERT, INSERT IGNORE and REPLACE: one statement for many rows, nothing for none', () => {
  const rows = [
    ['1', 'a'],
    ['2', null],
  ];
  assert.deepEqual(insertStatements('INSERT', T, ['id', 'v'], rows), [
    "INSERT INTO `db`.`t` (`id`,`v`) VALUES ('1','a'),('2',NULL)",
  ]);
  assert.deepEqual(insertStatements('INSERT IGNORE', T, ['id', 'v'], rows), [
    "INSERT IGNORE INTO `db`.`t` (`id`,`v`) VALUES ('1','a'),('2',NULL)",
  ]);
  assert.deepEqual(insertStatements('REPLACE', T, ['id', 'v'], rows), [
    "REPLACE INTO `db`.`t` (`id`,`v`) VALUES ('1','a'),('2',NULL)",
  ]);
  assert.deepEqual(insertStatements('REPLACE', T, ['id'], []), []);
});

test('values: strings escaped, NULL, binary/BLOB/BIT as hex, JSON, dates, unsigned and decimals as exact text', () => {
  const one = (v: string | Buffer | null) =>
    insertStatements('INSERT', T, ['c'], [[v]])[0]!.slice('INSERT INTO `db`.`t` (`c`) VALUES '.length);
  assert.equal(one(null), '(NULL)');
  assert.equal(one('NULL'), "('NULL')", 'the string NULL is a string');
  assert.equal(one(''), "('')");
  assert.equal(one("it's"), "('it\\'s')");
  assert.equal(one('a\\b'), "('a\\\\b')");
  assert.equal(one('l1\nl2\r\t"\0\x1a'), "('l1\\nl2\\r\\t\\\"\\0\\Z')");
  // Binary strings, BLOBs and BIT arrive as Buffers (zongji, snapshot reads): hex, never decoded as text.
  assert.equal(one(Buffer.from([0x00, 0x27, 0x5c, 0xff])), "(X'00275cff')");
  assert.equal(one(Buffer.alloc(0)), "(X'')");
  assert.equal(one(Buffer.from([0b101])), "(X'05')", "BIT(3) b'101'");
  // JSON: the reader writes its text form; quotes and backslashes inside it survive.
  assert.equal(one('{"a":"x\\"y","b":[1,null]}'), '(\'{\\"a\\":\\"x\\\\\\"y\\",\\"b\\":[1,null]}\')');
  // Numbers are text: BIGINT UNSIGNED beyond 2^53, DECIMAL digits, -0 of a DOUBLE.
  assert.equal(one('18446744073709551615'), "('18446744073709551615')");
  assert.equal(one('12345678901234567890.123456789'), "('12345678901234567890.123456789')");
  assert.equal(one('-0'), "('-0')");
  // Temporal values as the reader formats them (zero dates included).
  assert.equal(one('2026-12-03 05:00:00.123456'), "('2026-12-03 05:00:00.123456')");
  assert.equal(one('0000-00-00'), "('0000-00-00')");
  assert.equal(one('-838:59:59'), "('-838:59:59')");
  // Non-BMP characters pass through unescaped (utf8mb4 connection).
  assert.equal(one('😀'), "('😀')");
});

test('multi-row statements split before maxBytes; a row larger than the limit goes alone', () => {
  const rows = Array.from({ length: 10 }, (_, i) => [String(i), 'x'.repeat(20)]);
  const out = insertStatements('REPLACE', T, ['id', 'v'], rows, 120);
  assert.ok(out.length > 1);
  for (const s of out) assert.ok(s.length < 120, `${s.length}: ${s}`);
  // Nothing lost or reordered across the split.
  const values = out.map((s) => s.slice(s.indexOf('VALUES ') + 7)).join(',');
  assert.equal(values, rows.map((r) => `('${r[0]}','${r[1]}')`).join(','));
  const huge = insertStatements('INSERT', T, ['v'], [['y'.repeat(500)], ['z']], 100);
  assert.deepEqual(
    huge.map((s) => s.length > 100),
    [true, false],
  );
});

// The limit counts UTF-8 bytes, as the server's max_allowed_packet does: with String.length a statement of non-ASCII
// text could reach 3 times `maxBytes` (12 MiB with the default 4 MiB, above a MySQL 5.7 downstream's default).
test('multi-row statements stay under maxBytes in UTF-8 bytes for non-ASCII text', () => {
  const rows = Array.from({ length: 10 }, () => ['é'.repeat(20)]);
  const out = insertStatements('INSERT', T, ['v'], rows, 120);
  for (const s of out) assert.ok(Buffer.byteLength(s) < 120, `${Buffer.byteLength(s)} bytes`);
  assert.equal(
    out.map((s) => s.slice(s.indexOf('VALUES ') + 7)).join(','),
    rows.map((r) => `('${r[0]}')`).join(','),
    'nothing lost',
  );
  // 3- and 4-byte characters (CJK, emoji) too.
  for (const ch of ['中', '😀']) {
    for (const s of insertStatements(
      'INSERT',
      T,
      ['v'],
      Array.from({ length: 10 }, () => [ch.repeat(10)]),
      120,
    ))
      assert.ok(Buffer.byteLength(s) < 120, `${ch}: ${Buffer.byteLength(s)} bytes`);
  }
});

test('DELETE by key: one column or a tuple, at most maxRows keys per statement', () => {
  assert.deepEqual(deleteByKeyStatements(T, ['id'], [['1'], ['2']]), ["DELETE FROM `db`.`t` WHERE `id` IN ('1','2')"]);
  assert.deepEqual(
    deleteByKeyStatements(
      T,
      ['a', 'b`'],
      [
        ['1', 'x'],
        ['2', null],
      ],
    ),
    ["DELETE FROM `db`.`t` WHERE (`a`,`b```) IN (('1','x'),('2',NULL))"],
  );
  assert.deepEqual(deleteByKeyStatements(T, ['k'], [[Buffer.from('ab')]]), [
    "DELETE FROM `db`.`t` WHERE `k` IN (X'6162')",
  ]);
  assert.deepEqual(deleteByKeyStatements(T, ['id'], [['1'], ['2'], ['3']], 2), [
    "DELETE FROM `db`.`t` WHERE `id` IN ('1','2')",
    "DELETE FROM `db`.`t` WHERE `id` IN ('3')",
  ]);
  assert.deepEqual(deleteByKeyStatements(T, ['id'], []), []);
});

test('one-row UPDATE and DELETE: NULL-safe match on the given columns (default every column), LIMIT 1', () => {
  const before = { a: '1', b: null, c: Buffer.from([1]) };
  const after = { a: '2', b: 'x', c: Buffer.from([2]) };
  assert.equal(fullRowWhere(['a', 'b', 'c'], before), "`a` <=> '1' AND `b` <=> NULL AND `c` <=> X'01'");
  assert.equal(fullRowWhere(['missing'], before), '`missing` <=> NULL', 'an absent value is NULL');
  assert.equal(
    updateOneRow(T, ['a', 'b', 'c'], before, after),
    "UPDATE `db`.`t` SET `a` = '2', `b` = 'x', `c` = X'02' WHERE `a` <=> '1' AND `b` <=> NULL AND `c` <=> X'01' LIMIT 1",
  );
  assert.equal(
    updateOneRow(T, ['a', 'b'], before, { a: '2', b: null }, ['a']),
    "UPDATE `db`.`t` SET `a` = '2', `b` = NULL WHERE `a` <=> '1' LIMIT 1",
  );
  assert.equal(deleteOneRow(T, ['a', 'b'], before), "DELETE FROM `db`.`t` WHERE `a` <=> '1' AND `b` <=> NULL LIMIT 1");
  assert.equal(deleteOneRow(T, ['a', 'b'], before, ['a']), "DELETE FROM `db`.`t` WHERE `a` <=> '1' LIMIT 1");
  // Keyed UPDATE (the key may change): matched on the old key, no LIMIT.
  assert.equal(
    updateByKey(T, ['id', 'v'], ['id'], { id: '1', v: 'a' }, { id: '2', v: 'a' }),
    "UPDATE `db`.`t` SET `id` = '2', `v` = 'a' WHERE `id` <=> '1'",
  );
});

test('CREATE TABLE / DATABASE from SHOW CREATE: routed, qualified and IF NOT EXISTS; the body is untouched', () => {
  const body = ' (\n  `id` int(11) NOT NULL,\n  `CREATE TABLE` text,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB';
  assert.equal(
    createTableFor('CREATE TABLE `t_01`' + body, { schema: 'merged', table: 't' }),
    'CREATE TABLE IF NOT EXISTS `merged`.`t`' + body,
  );
  assert.equal(
    createTableFor('create table `a``b`' + body, { schema: 'd.x', table: 'y`z' }),
    'CREATE TABLE IF NOT EXISTS `d.x`.`y``z`' + body,
  );
  assert.equal(
    createDatabaseFor('CREATE DATABASE `up_1` /*!40100 DEFAULT CHARACTER SET utf8mb4 */', 'down'),
    'CREATE DATABASE IF NOT EXISTS `down` /*!40100 DEFAULT CHARACTER SET utf8mb4 */',
  );
  assert.equal(
    createDatabaseFor('CREATE DATABASE /*!32312 IF NOT EXISTS*/ `up` /*!40100 DEFAULT CHARACTER SET latin1 */', 'a`b'),
    'CREATE DATABASE IF NOT EXISTS `a``b` /*!40100 DEFAULT CHARACTER SET latin1 */',
  );
});

test('integer columns: canonical digits as integer literals (as DM binds them), anything else quoted as before', () => {
  const ints = [true, true, false];
  assert.deepEqual(
    insertStatements(
      'REPLACE',
      T,
      ['id', 'n', 's'],
      [
        ['18446744073709551615', '-128', '7'],
        ['-9223372036854775808', null, 'x'],
        // Not an integer's canonical digits (a structure that is not the binlog's): quoted, as without `ints`.
        ['1e3', 'abc', '0'],
        ['007', '-0', '8'],
        ['123456789012345678901', '0', '9'],
      ],
      undefined,
      ints,
    ),
    [
      "REPLACE INTO `db`.`t` (`id`,`n`,`s`) VALUES (18446744073709551615,-128,'7'),(-9223372036854775808,NULL,'x'),('1e3','abc','0'),('007','-0','8'),('123456789012345678901',0,'9')",
    ],
  );
  assert.deepEqual(deleteByKeyStatements(T, ['id'], [['1'], ['2']], 1000, [true]), [
    'DELETE FROM `db`.`t` WHERE `id` IN (1,2)',
  ]);
  assert.deepEqual(deleteByKeyStatements(T, ['id', 's'], [['1', '2']], 1000, [true, false]), [
    "DELETE FROM `db`.`t` WHERE (`id`,`s`) IN ((1,'2'))",
  ]);
  assert.equal(
    updateCaseStatement(
      T,
      'id',
      ['n', 's'],
      ['1', '2'],
      [
        ['5', '6'],
        [null, 'y'],
      ],
      [true, false],
    ),
    "UPDATE `db`.`t` SET `n` = CASE `id` WHEN 1 THEN 5 WHEN 2 THEN NULL END, `s` = CASE `id` WHEN 1 THEN '6' WHEN 2 THEN 'y' END WHERE `id` IN (1,2)",
  );
  // Without `ints`, every value is quoted as before.
  assert.deepEqual(insertStatements('INSERT', T, ['id'], [['1']]), ["INSERT INTO `db`.`t` (`id`) VALUES ('1')"]);
});
