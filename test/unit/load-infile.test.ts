import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clean, field, fileOf, loadDataSql } from '../../agent/load/infile.ts';

test('LOAD DATA fields: NULL, empty, escapes, bytes as hex', () => {
  assert.equal(field(null), '\\N');
  assert.equal(field(''), '');
  assert.equal(field('\\N'), '\\\\N', 'a literal backslash-N is not NULL');
  assert.equal(field('a\tb\nc\rd\0e\\f'), 'a\\tb\\nc\\rd\\0e\\\\f');
  assert.equal(field('ünï 😀'), 'ünï 😀');
  assert.equal(field(Buffer.from([0, 9, 10, 255])), '00090aff');
});

test('the LOAD DATA file: lines of tab-separated fields, binary columns as hex, in pieces', async () => {
  async function* rows() {
    yield ['1', null, Buffer.from('ab'), ''];
    yield ['2', 'ü\t', null, 'x'.repeat(300_000)];
    yield ['3', '', Buffer.alloc(0), 'z'];
  }
  const pieces: Buffer[] = [];
  for await (const p of fileOf(rows(), [false, false, true, false])) pieces.push(p);
  assert.ok(pieces.length >= 2, 'a long value starts a new piece (the server reads the pieces as one file)');
  assert.equal(Buffer.concat(pieces).toString(), `1\t\\N\t6162\t\n2\tü\\t\t\\N\t${'x'.repeat(300_000)}\n3\t\t\tz\n`);
});

test('LOAD DATA statement: binary columns through UNHEX, names quoted', () => {
  assert.equal(
    loadDataSql({ schema: 'd', table: 't`x' }, ['id', 'b'], [false, true]),
    "LOAD DATA LOCAL INFILE 'tsdm-chunk' INTO TABLE `d`.`t``x` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`id`,@v1) SET `b` = UNHEX(@v1)",
  );
});

test('a chunk is clean only when every row went in without a warning', () => {
  assert.equal(clean({ sent: 3, inserted: 3, warnings: 0 }), true);
  assert.equal(clean({ sent: 3, inserted: 2, warnings: 0 }), false);
  assert.equal(clean({ sent: 3, inserted: 3, warnings: 1 }), false);
});
