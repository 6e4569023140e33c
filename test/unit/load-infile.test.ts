import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asStored, clean, field, loadDataSql } from '../../agent/load/infile.ts';
import { FileWriter, releasePiece } from '../../agent/load/transcode.ts';
import { col } from './sync-fixtures.ts';

/** Rows as the text protocol's row packets carry them (length-encoded strings, 0xfb for NULL), each behind a few bytes
 * of something else, as mysql2's packets sit in its read buffer. */
function packets(rows: (Buffer | null)[][]): { src: Buffer; start: number; end: number; columns: number }[] {
  return rows.map((vals) => {
    const parts: Buffer[] = [Buffer.from([1, 2, 3, 4])];
    for (const v of vals) {
      if (v === null) parts.push(Buffer.from([0xfb]));
      else if (v.length < 0xfb) parts.push(Buffer.from([v.length]), v);
      else if (v.length < 1 << 16) parts.push(Buffer.from([0xfc, v.length & 255, v.length >> 8]), v);
      else if (v.length < 1 << 24)
        parts.push(Buffer.from([0xfd, v.length & 255, (v.length >> 8) & 255, v.length >> 16]), v);
      else {
        const n = Buffer.alloc(9);
        n[0] = 0xfe;
        n.writeBigUInt64LE(BigInt(v.length), 1);
        parts.push(n, v);
      }
    }
    const body = Buffer.concat(parts);
    const src = Buffer.concat([body, Buffer.from([9, 9])]);
    return { src, start: 4, end: body.length, columns: vals.length };
  });
}

/** The file FileWriter writes for these rows, and its pieces. */
function file(w: FileWriter, rows: (Buffer | null)[][]): { text: string; pieces: number } {
  const pieces: Buffer[] = [];
  for (const p of packets(rows)) {
    const piece = w.packet(p.src, p.start, p.end, p.columns);
    if (piece) pieces.push(piece);
  }
  const last = w.take();
  if (last) pieces.push(last);
  return { text: Buffer.concat(pieces).toString(), pieces: pieces.length };
}

test('LOAD DATA fields: NULL, empty, escapes, bytes as hex', () => {
  assert.equal(field(null), '\\N');
  assert.equal(field(''), '');
  assert.equal(field('\\N'), '\\\\N', 'a literal backslash-N is not NULL');
  assert.equal(field('a\tb\nc\rd\0e\\f'), 'a\\tb\\nc\\rd\\0e\\\\f');
  assert.equal(field('ünï 😀'), 'ünï 😀');
  assert.equal(field(Buffer.from([0, 9, 10, 255])), '00090aff');
});

test('the LOAD DATA file from row packets: escapes, NULL, binary columns as hex, long values, in pieces', () => {
  const b = (s: string) => Buffer.from(s);
  const rows: (Buffer | null)[][] = [
    [b('1'), null, b('ab'), b('')],
    [b('2'), b('ü\t'), null, b('x'.repeat(300_000))],
    [b('3'), b(''), Buffer.alloc(0), b('z'.repeat(300))],
    [b('4'), b('a\tb\nc\rd\0e\\f😀'), Buffer.from([0, 9, 10, 255]), b('\\N')],
    [b('5'), b('y'.repeat(70_000)), null, b('w'.repeat(251))],
  ];
  const w = new FileWriter({ hex: [false, false, true, false], shift: [], offsetMinutes: 0, extra: [] });
  const { text, pieces } = file(w, rows);
  assert.ok(pieces >= 2, 'a long value starts a new piece (the server reads the pieces as one file)');
  assert.equal(
    text,
    `1\t\\N\t6162\t\n2\tü\\t\t\\N\t${'x'.repeat(300_000)}\n3\t\t\t${'z'.repeat(300)}\n` +
      '4\ta\\tb\\nc\\rd\\0e\\\\f😀\t00090aff\t\\\\N\n' +
      `5\t${'y'.repeat(70_000)}\t\\N\t${'w'.repeat(251)}\n`,
  );
  // Each text field is what field() writes for the same value read as a string.
  for (const v of ['a\tb\nc\rd\0e\\f😀', '\\N', 'ü\t', '']) {
    const one = new FileWriter({ hex: [false], shift: [], offsetMinutes: 0, extra: [] });
    assert.equal(file(one, [[b(v)]]).text, `${field(v)}\n`);
  }
  // A packet whose lengths run past its end is refused, not read beyond it.
  const [bad] = packets([[b('abc')]]);
  assert.throws(() => w.packet(bad!.src, bad!.start, bad!.end - 1, 1), /shorter than its values/);
});

test('the LOAD DATA file: TIMESTAMPs moved to the task zone, extended columns appended', () => {
  const w = new FileWriter({ hex: [false, false], shift: [false, true], offsetMinutes: 480, extra: ['s\t1', 'x'] });
  const { text } = file(w, [
    [Buffer.from('1'), Buffer.from('2024-01-01 20:00:00.123')],
    [Buffer.from('2'), null],
  ]);
  assert.equal(text, '1\t2024-01-02 04:00:00.123\ts\\t1\tx\n2\t\\N\ts\\t1\tx\n');
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

test('LOAD DATA statement: the file declared binary when its text goes as stored', () => {
  assert.match(loadDataSql({ schema: 'd', table: 't' }, ['id'], [false], 'binary'), / CHARACTER SET binary FIELDS /);
});

test('text goes as stored only into columns of the same charset, never wide or JSON ones', () => {
  const up = [
    col('id'),
    col('Name', { dataType: 'varchar', charset: 'latin1' }),
    col('g', { dataType: 'varchar', charset: 'gbk' }),
    col('b', { dataType: 'varbinary', binary: true }),
  ];
  const loaded = ['id', 'Name', 'g', 'b'];
  const down = (over: Record<string, { charset: string | null; dataType: string }> = {}) =>
    new Map(
      Object.entries({
        id: { charset: null, dataType: 'int' },
        name: { charset: 'latin1', dataType: 'varchar' },
        g: { charset: 'gbk', dataType: 'varchar' },
        b: { charset: null, dataType: 'varbinary' },
        ...over,
      }),
    );
  assert.equal(asStored(up, loaded, down(), undefined), true, 'same charsets (names matched case-insensitively)');
  assert.equal(asStored(up, loaded, undefined, undefined), false, 'target not found');
  assert.equal(asStored(up, loaded, down({ name: { charset: 'utf8mb4', dataType: 'varchar' } }), undefined), false);
  assert.equal(asStored(up, loaded, down({ name: { charset: null, dataType: 'blob' } }), undefined), false);
  assert.equal(asStored(up, loaded, down({ id: { charset: 'utf8mb4', dataType: 'varchar' } }), undefined), true);
  const missing = down();
  missing.delete('g');
  assert.equal(asStored(up, loaded, missing, undefined), false, 'a column missing downstream');
  const wide = [...up, col('w', { dataType: 'varchar', charset: 'ucs2' })];
  assert.equal(
    asStored(wide, [...loaded, 'w'], down({ w: { charset: 'ucs2', dataType: 'varchar' } }), undefined),
    false,
  );
  const json = [...up, col('j', { dataType: 'json' })];
  assert.equal(
    asStored(json, [...loaded, 'j'], down({ j: { charset: 'utf8mb4', dataType: 'longtext' } }), undefined),
    false,
  );
  assert.equal(asStored(up, loaded, down({ j: { charset: null, dataType: 'json' } }), undefined), true, 'not loaded');
  assert.equal(
    asStored(up, loaded, down({ id: { charset: 'ucs2', dataType: 'varchar' } }), undefined),
    false,
    'int -> ucs2',
  );
  assert.equal(
    asStored(up, loaded, down({ b: { charset: 'utf32', dataType: 'text' } }), undefined),
    false,
    'bytes -> utf32',
  );
  const u8 = [col('id'), col('t', { dataType: 'varchar', charset: 'utf8' })];
  const d8 = (cs: string) =>
    new Map([
      ['id', { charset: null, dataType: 'int' }],
      ['t', { charset: cs, dataType: 'varchar' }],
    ]);
  assert.equal(asStored(u8, ['id', 't'], d8('utf8mb3'), undefined), true, 'utf8 and utf8mb3 are one charset');
  assert.equal(asStored(u8, ['id', 't'], d8('gb18030'), undefined), false, 'a charset this version does not know');
  const ext = (values: string[]) => ({ columns: ['src'], values });
  assert.equal(asStored(up, loaded, down({ src: { charset: 'utf8mb4', dataType: 'varchar' } }), ext(['s1'])), true);
  assert.equal(asStored(up, loaded, down({ src: { charset: 'utf8mb4', dataType: 'varchar' } }), ext(['日本'])), false);
  assert.equal(asStored(up, loaded, down({ src: { charset: 'utf16', dataType: 'varchar' } }), ext(['s1'])), false);
  assert.equal(asStored(up, loaded, down(), ext(['s1'])), false, 'the extended column missing downstream');
});

test('the LOAD DATA file escapes every byte the same way in short and long values', () => {
  const ref = (v: Buffer) => {
    const out: number[] = [];
    const esc: Record<number, number> = { 0: 0x30, 9: 0x74, 10: 0x6e, 13: 0x72, 92: 0x5c };
    for (const b of v) out.push(...(esc[b] === undefined ? [b] : [0x5c, esc[b]!]));
    return Buffer.from(out);
  };
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const values: Buffer[] = [Buffer.from(Array.from({ length: 256 }, (_, i) => i))];
  for (let len = 0; len <= 80; len++) {
    // Mostly plain bytes, about one in six special, so escapes fall at the start, the middle and the end.
    values.push(Buffer.from(Array.from({ length: len }, () => [0, 9, 10, 13, 92, 0x41, 0xe9, 0x80][rnd() % 8]!)));
    values.push(Buffer.from(Array.from({ length: len }, () => 0x61 + (rnd() % 26))));
  }
  for (const v of values) {
    const w = new FileWriter({ hex: [false, false], shift: [false, false], offsetMinutes: 0, extra: [] });
    const pieces: Buffer[] = [];
    for (const p of packets([[Buffer.from('1'), v]])) {
      const piece = w.packet(p.src, p.start, p.end, p.columns);
      if (piece) pieces.push(piece);
    }
    pieces.push(w.take()!);
    assert.deepEqual(
      Buffer.concat(pieces),
      Buffer.concat([Buffer.from('1\t'), ref(v), Buffer.from('\n')]),
      `${v.length} bytes`,
    );
  }
});

test('a piece the connection has copied is reused for a later piece, never while it is still out', () => {
  const w = new FileWriter({ hex: [false], shift: [false], offsetMinutes: 0, extra: [] });
  const write = (n: number, tag: string): Buffer[] => {
    const out: Buffer[] = [];
    for (const p of packets(Array.from({ length: n }, () => [Buffer.from(tag.repeat(1000))]))) {
      const piece = w.packet(p.src, p.start, p.end, p.columns);
      if (piece) out.push(piece);
    }
    return out;
  };
  const first = write(60, 'a');
  assert.ok(first.length >= 1);
  const held = first[0]!;
  const second = write(60, 'b');
  assert.ok(
    second.every((p) => p.buffer !== held.buffer),
    'a piece not released is never written again',
  );
  releasePiece(held);
  const third = write(120, 'c');
  third.push(w.take()!);
  // The writer's buffer in use ends first; the released one holds the piece after it.
  const reused = third.filter((p) => p.buffer === held.buffer);
  assert.equal(reused.length, 1, 'the released buffer holds a later piece');
  assert.ok(/^c{1000}\n(c{1000}\n)+$/.test(reused[0]!.toString()), "with that piece's rows only");
  // Only whole piece buffers go back: a view into something else is left alone.
  releasePiece(Buffer.from('x'));
  releasePiece(Buffer.alloc(200_000).subarray(10));
});
