import { DmError } from '../../src/errors/index.ts';
import type { Value } from '../db/mysql.ts';
import type { TableInfo } from '../db/schema.ts';
import type { RowChange, RowImage } from './events.ts';
import { fixNegativeTime2, time2Columns } from './time-fix.ts';
import type { ZEvent, ZTableMap } from './zongji-types.ts';

/** The rows events of zongji as row changes (zongji-reader.ts): the row image check and the values' normal form. */

export type RowOp = RowChange['op'];

/** True when the row image bitmap marks every one of the table's `n` columns present. */
function allPresent(bitmap: Buffer | undefined, n: number): boolean {
  if (!bitmap) return false;
  for (let i = 0; i < n; i++) if (((bitmap[i >> 3] ?? 0) & (1 << (i & 7))) === 0) return false;
  return true;
}

/**
 * zongji fills columns missing from a MINIMAL/NOBLOB row image with NULL: applying that would silently lose data, so
 * an incomplete image stops the task (a session can override binlog_row_image). `file` is the binlog file read.
 */
export function checkRowImage(e: ZEvent, tm: ZTableMap, op: RowOp, file: string): void {
  const n = tm.columns?.length ?? 0;
  if (!allPresent(e.columns_present_bitmap, n) || (op === 'update' && !allPresent(e.columns_present_bitmap2, n))) {
    throw new DmError(
      'UpstreamBinlogRowImage',
      `the upstream did not log every column of ${tm.parentSchema}.${tm.tableName} (${op} at ${file}, before ${e.nextPosition}): the session that wrote it did not use binlog_row_image=FULL`,
      {
        context: { table: `${tm.parentSchema}.${tm.tableName}`, position: `${file}:${e.nextPosition}` },
        suggestion:
          'Set binlog_row_image=FULL globally and in every application session; then skip nothing: re-migrate the table (start-task --remove-meta) or repair it by hand, because the row change itself is incomplete.',
      },
    );
  }
}

function normaliseValue(v: unknown): Value {
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

/**
 * The row image in our normal form. zongji builds a fresh object per row image and nothing else holds it, so its
 * values are normalised in place (a copy per image was ~5 % of a 100-row catch-up's CPU, most of it garbage).
 */
function normaliseRow(r: unknown, time2: string[]): RowImage {
  const row = r as Record<string, unknown>;
  for (const k in row) {
    const v = row[k];
    if (typeof v !== 'string') row[k] = normaliseValue(v);
  }
  for (const c of time2) {
    const v = row[c];
    if (typeof v === 'string' && v.startsWith('-')) row[c] = fixNegativeTime2(v);
  }
  return row as RowImage;
}

/** TIME2 column names per zongji column list (one list per table map). */
const time2Memo = new WeakMap<object, string[]>();
function time2Of(columns: ZTableMap['columns']): string[] {
  if (!columns) return [];
  let t2 = time2Memo.get(columns);
  if (!t2) time2Memo.set(columns, (t2 = time2Columns(columns)));
  return t2;
}

/** Appends the rows of a rows event (checked by checkRowImage) to `txn`, each with the table's structure `info`. */
export function pushRowChanges(txn: RowChange[], e: ZEvent, tm: ZTableMap, op: RowOp, info: TableInfo): void {
  const t2 = time2Of(tm.columns);
  // The upstream session ran without foreign-key checks: its change cascaded nothing there (foreign-keys.ts).
  const noFk = ((e.flags ?? 0) & 0x0002) !== 0;
  const schema = tm.parentSchema;
  const table = tm.tableName;
  for (const r of e.rows ?? []) {
    let c: RowChange;
    if (op === 'update') {
      const u = r as { before: unknown; after: unknown };
      c = { op, schema, table, before: normaliseRow(u.before, t2), after: normaliseRow(u.after, t2), info };
    } else if (op === 'insert') c = { op, schema, table, after: normaliseRow(r, t2), info };
    else c = { op, schema, table, before: normaliseRow(r, t2), info };
    if (noFk) c.noFkChecks = true;
    txn.push(c);
  }
}
