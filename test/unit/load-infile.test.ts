import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clean, field, loadDataSql } from '../../agent/load/infile.ts';
import { FileWriter } from '../../agent/load/transcode.ts';

test('LOAD DATA fields: NULL, empty, escapes, bytes as hex', () => {
  assert.equal(field(null), '\\N');
  assert.equal(field(''), '');
  assert.equal(field('\\N'), '\\\\N', 'a literal backslash-N is not NULL');
  assert.equal(field('a\tb\nc\rd\0e\\f'), 'a\\tb\\nc\\rd\\0e\\\\f');
  assert.equal(field('ünï 😀'), 'ünï 😀');
  assert.equal(field(Buffer.from([0, 9, 10, 255])), '00090aff');
});

test('the LOAD DATA file from raw row bytes: escapes, NULL, binary columns as hex, in pieces', () => {
  const b = (s: string) => Buffer.from(s);
  const rows: (Buffer | null)[][] = [
    [b('1'), null, b('ab'), b('')],
    [b('2'), b('ü\t'), null, b('x'.repeat(300_000))],
    [b('3'), b(''), Buffer.alloc(0), b('z')],
    [b('4'), b('a\tb\nc\rd\0e\\f😀'), Buffer.from([0, 9, 10, 255]), b('\\N')],
  ];
  const w = new FileWriter({ hex: [false, false, true, false], shift: [], offsetMinutes: 0, extra: [] });
  const pieces: Buffer[] = [];
  for (const r of rows) {
    const p = w.row(r);
    if (p) pieces.push(p);
  }
  const last = w.take();
  if (last) pieces.push(last);
  assert.ok(pieces.length >= 2, 'a long value starts a new piece (the server reads the pieces as one file)');
  assert.equal(
    Buffer.concat(pieces).toString(),
    `1\t\\N\t6162\t\n2\tü\\t\t\\N\t${'x'.repeat(300_000)}\n3\t\t\tz\n` +
      '4\ta\\tb\\nc\\rd\\0e\\\\f😀\t00090aff\t\\\\N\n',
  );
  // Each text field is what field() writes for the same value read as a string.
  for (const v of ['a\tb\nc\rd\0e\\f😀', '\\N', 'ü\t', '']) {
    const one = new FileWriter({ hex: [false], shift: [], offsetMinutes: 0, extra: [] });
    assert.equal(one.row([b(v)]) ?? '', '');
    assert.equal(one.take()!.toString(), `${field(v)}\n`);
  }
});

test('the LOAD DATA file: TIMESTAMPs moved to the task zone, extended columns appended', () => {
  const w = new FileWriter({ hex: [false, false], shift: [false, true], offsetMinutes: 480, extra: ['s\t1', 'x'] });
  w.row([Buffer.from('1'), Buffer.from('2024-01-01 20:00:00.123')]);
  w.row([Buffer.from('2'), null]);
  assert.equal(w.take()!.toString(), '1\t2024-01-02 04:00:00.123\ts\\t1\tx\n2\t\\N\ts\\t1\tx\n');
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
