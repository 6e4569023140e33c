import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Value } from '../db/mysql.ts';
import type { RowImage } from './events.ts';
import { latin1Exact, zongjiIconv } from './text-decode.ts';
import { fixNegativeTime2 } from './time-fix.ts';
import type { ZColumn, ZColumnSchema, ZParser, ZRowsTableMap } from './zongji-types.ts';

/**
 * A faster decode of binlog row images for zongji, giving tsdm's normal form (row-events.ts) directly.
 *
 * zongji decodes each value into a JavaScript value (a BigInt per signed BIGINT, a Buffer view plus a string per text
 * column, a `COLUMN_TYPE.substr` per value) in an object per row image, which tsdm then turned into its normal form
 * (text, Buffer or null) in a second pass. In a catch-up of 100-row transactions that decode and its garbage were the
 * agent's largest cost (issue #14). Here the row image of the columns that dominate real tables, integers and
 * CHAR/VARCHAR text in UTF-8 or latin1, is read straight from the packet into the normal form; every other column goes
 * through zongji's own `readMysqlValue` and is normalised as before, so those types decode exactly as they always did.
 * The integer and text readers reproduce zongji's results (test/unit/row-decode.test.ts compares both on the same bytes).
 *
 * zongji's rows event classes are not exported; the module holding them is loaded by its file URL, which is the URL
 * zongji itself imports it by, so the same classes are patched: `_fetchOneRow`, the method each event calls per row.
 */

export type ReadMysqlValue = (
  parser: ZParser,
  column: ZColumn,
  columnSchema: ZColumnSchema,
  tableMap: ZRowsTableMap,
  zongji: unknown,
) => unknown;

/** MySQL column type codes (zongji lib/common.js MysqlTypes). */
const T = { TINY: 1, SHORT: 2, LONG: 3, LONGLONG: 8, INT24: 9, VARCHAR: 15, TIME2: 19, STRING: 254 } as const;

/** Bytes of each integer type in a row image. */
const INT_WIDTH: Readonly<Record<number, number>> = {
  [T.TINY]: 1,
  [T.SHORT]: 2,
  [T.INT24]: 3,
  [T.LONG]: 4,
  [T.LONGLONG]: 8,
};

const enum Kind {
  Other,
  Int,
  UInt,
  Int64,
  UInt64,
  Utf8,
  Latin1,
}

interface ColumnPlan {
  name: string;
  kind: Kind;
  /** Integer width in bytes, or the length prefix's width of a text value. */
  size: number;
  time2: boolean;
  /** The schema's UNSIGNED when planned (the binlog's signedness, if it has one). */
  binlogUnsigned: boolean | undefined;
}

/** zongji's charset names for iconv-lite (lib/common.js ICONV_CHARSET_OVERRIDES), reduced to the two read here. */
function textKind(charset: string | null | undefined): Kind {
  if (!charset || charset === 'utf8' || charset === 'utf8mb3' || charset === 'utf8mb4') return Kind.Utf8;
  if (charset === 'latin1') return Kind.Latin1;
  return Kind.Other;
}

/** How each column of a table map is read. zongji rebuilds `columns` at every table map, so plans are per array. */
export function planColumns(columns: ZColumn[], schemas: ZColumnSchema[]): ColumnPlan[] {
  return columns.map((c, i) => {
    const s = schemas[i];
    const plan: ColumnPlan = {
      name: c.name,
      kind: Kind.Other,
      size: 0,
      time2: c.type === T.TIME2,
      binlogUnsigned: s?.UNSIGNED,
    };
    if (!s) return plan;
    const width = INT_WIDTH[c.type] ?? 0;
    if (width) {
      // zongji's rule: the binlog's signedness when it has it, else the column type's text.
      const unsigned = s.UNSIGNED !== undefined ? s.UNSIGNED : s.COLUMN_TYPE.includes('unsigned');
      plan.kind = width === 8 ? (unsigned ? Kind.UInt64 : Kind.Int64) : unsigned ? Kind.UInt : Kind.Int;
      plan.size = width;
      return plan;
    }
    if (c.type === T.VARCHAR || c.type === T.STRING) {
      const def = s.COLUMN_TYPE;
      // zongji reads these as bytes or formats them (MariaDB's logical types on a binary charset).
      if (def === 'uuid' || def === 'inet4' || def === 'inet6' || /^(vector|binary|varbin)/.test(def)) return plan;
      const maxLength = c.metadata?.max_length;
      if (typeof maxLength !== 'number') return plan;
      plan.kind = textKind(c.charset);
      plan.size = maxLength > 255 ? 2 : 1;
    }
    return plan;
  });
}

/** A normalised value as row-events.ts gave it: text, bytes or null (-0 kept apart from 0). */
export function normaliseValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return v;
  // -0 is a distinct DOUBLE value upstream; String(-0) would print 0.
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  // JSON columns decode to objects; MariaDB stores JSON as text, so its text form is what we write.
  return JSON.stringify(v);
}

const TWO32 = 4294967296;

function int64Text(low: number, high: number, unsigned: boolean): string {
  if (unsigned) {
    if (high < 0x200000) return String(high * TWO32 + low);
  } else if (high < 0x200000) {
    return String(high * TWO32 + low);
  } else if (high >= 0xffe00000) {
    // -2^53 .. -1: exact in a double.
    return String((high - TWO32) * TWO32 + low);
  }
  const v = (BigInt(high) << 32n) | BigInt(low);
  return String(unsigned ? v : BigInt.asIntN(64, v));
}

/** Reads one row image at the parser's offset (zongji's readRow, in tsdm's normal form). */
export function readRowImage(
  parser: ZParser,
  tableMap: ZRowsTableMap,
  plans: ColumnPlan[],
  present: Buffer,
  readValue: ReadMysqlValue,
  zongji: unknown,
): RowImage {
  const n = plans.length;
  let presentCount = 0;
  for (let i = 0; i < n; i++) if (present[i >> 3]! & (1 << (i & 7))) presentCount++;
  const buf = parser._buffer;
  let off = parser._offset;
  const nullAt = off;
  off += (presentCount + 7) >> 3;
  const row: RowImage = {};
  for (let i = 0, nullBit = 0; i < n; i++) {
    const p = plans[i]!;
    if ((present[i >> 3]! & (1 << (i & 7))) === 0) {
      row[p.name] = null;
      continue;
    }
    const isNull = (buf[nullAt + (nullBit >> 3)]! & (1 << (nullBit & 7))) !== 0;
    nullBit++;
    if (isNull) {
      row[p.name] = null;
      continue;
    }
    switch (p.kind) {
      case Kind.Int:
        row[p.name] = String(buf.readIntLE(off, p.size));
        off += p.size;
        break;
      case Kind.UInt:
        row[p.name] = String(buf.readUIntLE(off, p.size));
        off += p.size;
        break;
      case Kind.Int64:
      case Kind.UInt64:
        row[p.name] = int64Text(buf.readUInt32LE(off), buf.readUInt32LE(off + 4), p.kind === Kind.UInt64);
        off += 8;
        break;
      case Kind.Utf8:
      case Kind.Latin1: {
        const len = p.size === 1 ? buf[off]! : buf.readUInt16LE(off);
        const start = off + p.size;
        off = start + len;
        if (p.kind === Kind.Utf8) row[p.name] = buf.toString('utf8', start, off);
        else {
          const bytes = buf.subarray(start, off);
          // MySQL's latin1 is cp1252: exact as ISO-8859-1 only without bytes 0x80-0x9F (text-decode.ts).
          row[p.name] = latin1Exact(bytes) ? buf.toString('latin1', start, off) : fallbackLatin1(bytes);
        }
        break;
      }
      default: {
        parser._offset = off;
        const v = normaliseValue(readValue(parser, tableMap.columns[i]!, tableMap.columnSchemas[i]!, tableMap, zongji));
        off = parser._offset;
        row[p.name] = p.time2 && typeof v === 'string' && v.startsWith('-') ? fixNegativeTime2(v) : v;
      }
    }
  }
  parser._offset = off;
  return row;
}

/** cp1252 text with bytes in 0x80-0x9F: iconv-lite, as zongji decodes it (through text-decode.ts's fast path). */
function fallbackLatin1(bytes: Buffer): string {
  return zongjiIconv().decode(bytes, 'cp1252', { stripBOM: false });
}

interface RowsEventThis {
  tableMap: Record<number, ZRowsTableMap>;
  tableId: number;
  columns_present_bitmap: Buffer;
  columns_present_bitmap2: Buffer;
  _zongji: unknown;
}

/**
 * Plans per table structure. zongji rebuilds `columns` at every table map (each transaction) from the same
 * `columnSchemas` (set once per table map id by zongji-reader.ts): the plan is kept per `columnSchemas` and reused
 * while the rebuilt columns read the same way, which a 1-row transaction stream checks far more cheaply than it plans.
 */
const plansOf = new WeakMap<ZColumnSchema[], { columns: ZColumn[]; plans: ColumnPlan[] }>();
function plansFor(tm: ZRowsTableMap): ColumnPlan[] {
  const cached = plansOf.get(tm.columnSchemas);
  if (
    cached &&
    (cached.columns === tm.columns || sameReading(cached.columns, tm.columns, tm.columnSchemas, cached.plans))
  ) {
    cached.columns = tm.columns;
    return cached.plans;
  }
  const plans = planColumns(tm.columns, tm.columnSchemas);
  plansOf.set(tm.columnSchemas, { columns: tm.columns, plans });
  return plans;
}

/** True when two column lists of one structure are read alike (same names, types, lengths, charsets). */
function sameReading(a: ZColumn[], b: ZColumn[], schemas: ZColumnSchema[], plans: ColumnPlan[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.type !== y.type || x.charset !== y.charset) return false;
    if (x.metadata?.max_length !== y.metadata?.max_length) return false;
    // The binlog's signedness is written into the schemas at each table map (MySQL 8 optional metadata).
    if (schemas[i]?.UNSIGNED !== plans[i]!.binlogUnsigned) return false;
  }
  return true;
}

let installed: Promise<void> | undefined;

/** Whether rows events yield normalised row images (the patch is in): row-events.ts relies on it. */
export let rowImagesNormalised = false;

/** Installs the decoder into zongji's rows events, once per process. */
export function installFastRowDecode(): Promise<void> {
  installed ??= (async () => {
    const lib = join(dirname(createRequire(import.meta.url).resolve('@vlasky/zongji')), 'lib');
    const rows = (await import(pathToFileURL(join(lib, 'rows_event.js')).href)) as Record<
      string,
      { prototype: object }
    >;
    const common = (await import(pathToFileURL(join(lib, 'common.js')).href)) as { readMysqlValue: ReadMysqlValue };
    const { WriteRows, UpdateRows } = rows;
    const readValue = common.readMysqlValue;
    if (!WriteRows || !UpdateRows || typeof readValue !== 'function') {
      throw new Error('zongji no longer has lib/rows_event.js WriteRows/UpdateRows or lib/common.js readMysqlValue');
    }
    // WriteRows and DeleteRows use RowsEvent's method; UpdateRows has its own (a before and an after image).
    const base = Object.getPrototypeOf(WriteRows.prototype) as Record<string, unknown>;
    base._fetchOneRow = function (this: RowsEventThis, parser: ZParser): RowImage {
      const tm = this.tableMap[this.tableId]!;
      return readRowImage(parser, tm, plansFor(tm), this.columns_present_bitmap, readValue, this._zongji);
    };
    (UpdateRows.prototype as Record<string, unknown>)._fetchOneRow = function (
      this: RowsEventThis,
      parser: ZParser,
    ): { before: RowImage; after: RowImage } {
      const tm = this.tableMap[this.tableId]!;
      const plans = plansFor(tm);
      const before = readRowImage(parser, tm, plans, this.columns_present_bitmap, readValue, this._zongji);
      return { before, after: readRowImage(parser, tm, plans, this.columns_present_bitmap2, readValue, this._zongji) };
    };
    rowImagesNormalised = true;
  })();
  return installed;
}
