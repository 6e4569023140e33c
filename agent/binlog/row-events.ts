import { DmError } from '../../src/errors/index.ts';
import type { TableInfo } from '../db/schema.ts';
import type { RowChange, RowImage } from './events.ts';
import { rowImagesNormalised } from './row-decode.ts';
import type { ZEvent, ZTableMap } from './zongji-types.ts';

/** The rows events of zongji as row changes (zongji-reader.ts): the row image check; row-decode.ts gives the values' normal form. */

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

/** Appends the rows of a rows event (checked by checkRowImage) to `txn`, each with the table's structure `info`. */
export function pushRowChanges(txn: RowChange[], e: ZEvent, tm: ZTableMap, op: RowOp, info: TableInfo): void {
  // The upstream session ran without foreign-key checks: its change cascaded nothing there (foreign-keys.ts).
  const noFk = ((e.flags ?? 0) & 0x0002) !== 0;
  const schema = tm.parentSchema;
  const table = tm.tableName;
  // Row images come from row-decode.ts, already in the normal form (zongji-reader.ts installs it before reading).
  if (!rowImagesNormalised) throw new Error('internal: rows event read before row-decode.ts was installed');
  for (const r of e.rows ?? []) {
    let c: RowChange;
    if (op === 'update') {
      const u = r as { before: RowImage; after: RowImage };
      c = { op, schema, table, before: u.before, after: u.after, info };
    } else if (op === 'insert') c = { op, schema, table, after: r as RowImage, info };
    else c = { op, schema, table, before: r as RowImage, info };
    if (noFk) c.noFkChecks = true;
    txn.push(c);
  }
}
