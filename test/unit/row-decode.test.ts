import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installFastRowDecode, normaliseValue } from '../../agent/binlog/row-decode.ts';
import type { ZColumn, ZColumnSchema, ZParser, ZRowsTableMap } from '../../agent/binlog/zongji-types.ts';
import { fixNegativeTime2 } from '../../agent/binlog/time-fix.ts';

/**
 * row-decode.ts against zongji's own row decode, on the same bytes: random row images of every column kind it reads
 * itself (integers of each width and sign, UTF-8 and latin1 CHAR/VARCHAR with 1- and 2-byte length prefixes) and of
 * kinds it hands to zongji (DOUBLE, VARBINARY, TIME2), with NULLs and absent columns. zongji's result is put in the
 * normal form as row-events.ts did before row-decode.ts existed.
 */

const lib = join(dirname(createRequire(import.meta.url).resolve('@vlasky/zongji')), 'lib');
type Fetch = (this: unknown, parser: ZParser) => unknown;
interface Proto {
  _fetchOneRow: Fetch;
}
const rows = (await import(pathToFileURL(join(lib, 'rows_event.js')).href)) as Record<string, { prototype: Proto }>;
const { Parser } = (await import(pathToFileURL(join(lib, 'reader.js')).href)) as {
  Parser: new () => ZParser & { append(b: Buffer): void };
};
const base = Object.getPrototypeOf(rows.WriteRows!.prototype) as Proto;
// zongji's methods, taken before the install replaces them.
const zongjiRow = base._fetchOneRow;
const zongjiUpdate = rows.UpdateRows!.prototype._fetchOneRow;
await installFastRowDecode();
const fastRow = base._fetchOneRow;
const fastUpdate = rows.UpdateRows!.prototype._fetchOneRow;
assert.notEqual(fastRow, zongjiRow);

/** Seeded PRNG (mulberry32): the same rows every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Col {
  column: ZColumn;
  schema: ZColumnSchema;
  /** Random bytes of one value in the row image. */
  value(r: () => number): Buffer;
}

const bytes = (r: () => number, n: number, lo = 0, hi = 255) =>
  Buffer.from(Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1))));
/** Integers: mostly random bytes, sometimes the edges (0, -1, 2^53 +- 1, min, max). */
function intCol(name: string, type: number, width: number, unsigned: boolean, binlogSigned?: boolean): Col {
  const edges = (w: number) => {
    const out = [Buffer.alloc(w, 0), Buffer.alloc(w, 0xff)];
    const hiBit = Buffer.alloc(w, 0);
    hiBit[w - 1] = 0x80;
    const max = Buffer.alloc(w, 0xff);
    max[w - 1] = 0x7f;
    out.push(hiBit, max);
    if (w === 8) {
      for (const v of [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, -(2n ** 53n) + 1n]) {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt.asUintN(64, v));
        out.push(b);
      }
    }
    return out;
  };
  const e = edges(width);
  return {
    column: { name, type, charset: null, metadata: {} },
    schema: {
      COLUMN_TYPE: `int${unsigned ? ' unsigned' : ''}`,
      ...(binlogSigned !== undefined ? { UNSIGNED: !binlogSigned } : {}),
    },
    value: (r) => (r() < 0.3 ? e[Math.floor(r() * e.length)]! : bytes(r, width)),
  };
}
function textCol(name: string, type: number, charset: string, maxLength: number): Col {
  const prefix = maxLength > 255 ? 2 : 1;
  const utf8 = ['a', 'Z', ' ', 'é', 'ß', '€', '中', '😀', "'", '\\', '\0'];
  return {
    column: { name, type, charset, metadata: { max_length: maxLength } },
    schema: { COLUMN_TYPE: `varchar(${maxLength})` },
    value: (r) => {
      const body =
        charset === 'latin1'
          ? bytes(r, Math.floor(r() * 40), r() < 0.5 ? 0x20 : 0x00, r() < 0.5 ? 0x7f : 0xff)
          : Buffer.from(
              Array.from({ length: Math.floor(r() * 30) }, () => utf8[Math.floor(r() * utf8.length)]).join(''),
            );
      const len = Buffer.alloc(prefix);
      len.writeUIntLE(body.length, 0, prefix);
      return Buffer.concat([len, body]);
    },
  };
}
const cols: Col[] = [
  intCol('ti', 1, 1, false),
  intCol('tu', 1, 1, true),
  intCol('si', 2, 2, false),
  intCol('su', 2, 2, true),
  intCol('mi', 9, 3, false),
  intCol('mu', 9, 3, true),
  intCol('i', 3, 4, false),
  intCol('iu', 3, 4, true),
  intCol('bi', 8, 8, false),
  intCol('bu', 8, 8, true),
  intCol('bmeta', 8, 8, false, false), // the binlog's optional metadata says unsigned: it wins over the type text
  textCol('vu', 15, 'utf8mb4', 200),
  textCol('cu', 254, 'utf8mb4', 480),
  textCol('c3', 254, 'utf8mb3', 90),
  textCol('vl', 15, 'latin1', 40),
  textCol('cl', 254, 'latin1', 300),
  textCol('vn', 15, null as unknown as string, 40),
  {
    column: { name: 'd', type: 5, charset: null, metadata: {} },
    schema: { COLUMN_TYPE: 'double' },
    value: (r) => {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(r() < 0.2 ? -0 : (r() - 0.5) * 1e6);
      return b;
    },
  },
  {
    column: { name: 'vb', type: 15, charset: 'binary', metadata: { max_length: 20 } },
    schema: { COLUMN_TYPE: 'varbinary(20)' },
    value: (r) => {
      const body = bytes(r, Math.floor(r() * 20));
      return Buffer.concat([Buffer.from([body.length]), body]);
    },
  },
  {
    column: { name: 't2', type: 19, charset: null, metadata: { decimals: 0 } },
    schema: { COLUMN_TYPE: 'time' },
    // TIME2: 3 bytes big-endian, 0x800000 = 00:00:00; around it, negative and positive times.
    value: (r) => {
      const b = Buffer.alloc(3);
      b.writeUIntBE(0x800000 + Math.floor((r() - 0.5) * 2 * (838 << 12)), 0, 3);
      return b;
    },
  },
];

function image(r: () => number, present: Buffer): Buffer {
  const parts: Buffer[] = [];
  const live = cols.filter((_, i) => present[i >> 3]! & (1 << (i & 7)));
  const nulls = Buffer.alloc((live.length + 7) >> 3);
  live.forEach((c, k) => {
    if (r() < 0.15) nulls[k >> 3]! |= 1 << (k & 7);
    else parts.push(c.value(r));
  });
  return Buffer.concat([nulls, ...parts]);
}

function reference(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of cols) {
    const v = normaliseValue(row[c.column.name]);
    out[c.column.name] = c.column.type === 19 && typeof v === 'string' && v.startsWith('-') ? fixNegativeTime2(v) : v;
  }
  return out;
}

test('row images decode as zongji decodes them, in the normal form', () => {
  const r = rng(20261204);
  const tableMap: ZRowsTableMap = {
    columns: cols.map((c) => c.column),
    columnSchemas: cols.map((c) => c.schema),
    parentSchema: 'db',
    tableName: 't',
  };
  // zongji reads dates through its connection's options; none of these columns needs them.
  const zongji = { connection: { config: { dateStrings: true, timezone: 'Z' } } };
  // A bitmap's bits past the last column are zero in a binlog (zongji counts them, row-decode.ts does not).
  const mask = (b: Buffer) => {
    for (let i = cols.length; i < b.length * 8; i++) b[i >> 3]! &= ~(1 << (i & 7));
    return b;
  };
  const full = mask(Buffer.alloc((cols.length + 7) >> 3, 0xff));
  for (let n = 0; n < 3000; n++) {
    const present = n % 3 === 0 ? mask(bytes(r, full.length)) : full;
    const update = n % 2 === 0;
    const buf = update ? Buffer.concat([image(r, present), image(r, full)]) : image(r, present);
    const event = {
      tableMap: { 7: tableMap },
      tableId: 7,
      columns_present_bitmap: present,
      columns_present_bitmap2: full,
      _zongji: zongji,
    };
    const read = (fn: Fetch) => {
      const p = new Parser();
      p.append(buf);
      const out = fn.call(event, p);
      assert.equal(p._offset, buf.length, 'the whole image was read');
      return out;
    };
    if (update) {
      const want = read(zongjiUpdate) as { before: Record<string, unknown>; after: Record<string, unknown> };
      assert.deepStrictEqual(read(fastUpdate), { before: reference(want.before), after: reference(want.after) });
    } else {
      assert.deepStrictEqual(read(fastRow), reference(read(zongjiRow) as Record<string, unknown>), `row ${n}`);
    }
  }
});

test('a table map rebuilt per transaction: the same reading reuses the plan, a changed one is planned again', () => {
  const schemas: ZColumnSchema[] = [{ COLUMN_TYPE: 'int' }, { COLUMN_TYPE: 'varchar(10)' }];
  const tm = (charset: string, unsigned?: boolean): ZRowsTableMap => {
    if (unsigned !== undefined) schemas[0]!.UNSIGNED = unsigned;
    return {
      columns: [
        { name: 'id', type: 3, charset: null, metadata: {} },
        { name: 'v', type: 15, charset, metadata: { max_length: 10 } },
      ],
      columnSchemas: schemas,
      parentSchema: 'db',
      tableName: 't',
    };
  };
  // id = -1 (0xffffffff), v = 0x80 0xe9: '€é' in cp1252, invalid UTF-8 (two U+FFFD) in utf8.
  const buf = Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x02, 0x80, 0xe9]);
  const read = (t: ZRowsTableMap) => {
    const p = new Parser();
    p.append(buf);
    return fastRow.call({ tableMap: { 1: t }, tableId: 1, columns_present_bitmap: Buffer.from([3]) }, p);
  };
  assert.deepStrictEqual(read(tm('latin1')), { id: '-1', v: '€é' });
  assert.deepStrictEqual(read(tm('latin1')), { id: '-1', v: '€é' });
  assert.deepStrictEqual(read(tm('utf8mb4')), { id: '-1', v: '\ufffd\ufffd' });
  assert.deepStrictEqual(read(tm('utf8mb4', true)), { id: '4294967295', v: '\ufffd\ufffd' });
});
