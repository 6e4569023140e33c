import { quoteIdent, type TableName } from '../../src/sql/table-name.ts';
import type { Value } from '../db/mysql.ts';
import { qualified } from '../sync/sqlgen.ts';
import { keysWhere, literal } from './compare-sql.ts';
import type { RowDiff } from './row-diff.ts';
import type { TableShape } from './table-shape.ts';

/**
 * The statements that make the downstream equal for a set of differing rows, split so that a caller can put every
 * delete first (a key deleted and re-inserted, e.g. 'A' replaced by 'a' under a _ci collation, must not be upserted
 * onto the row it replaces).
 *
 * Keyed tables: DELETE by key for extra rows; INSERT … ON DUPLICATE KEY UPDATE of the compared columns for missing and
 * changed rows, so downstream-only columns (extra columns with defaults) keep their values. `c = VALUES(c)` is the one
 * upsert form that MariaDB, MySQL (deprecated since 8.0.20, still accepted) and TiDB all take.
 * Tables without a key: one DELETE … LIMIT 1 per extra row (NULL-safe equality on every column), plain INSERTs.
 * Values are literals read back as the same bytes (agent/db/mysql.ts escapeValue; bytes as X'..'; TIMESTAMPs as
 * FROM_UNIXTIME of the instant, right in any session time zone).
 */
export interface FixSql {
  deletes: string[];
  upserts: string[];
}

const BATCH_ROWS = 500;
/** Statement size: well under max_allowed_packet, and small enough that the job stores fix statements in KV values
 * of about 512 KB (NATS's payload limit is 1 MB); a single larger row still goes alone. */
const MAX_BYTES = 256 << 10;

export function fixStatements(t: TableName, shape: TableShape, diffs: RowDiff[]): FixSql {
  const extra = diffs.filter((d) => d.kind === 'extra').map((d) => d.down!);
  const rows = diffs.filter((d) => d.kind !== 'extra').map((d) => d.up!);
  if (shape.key.length === 0) {
    return {
      deletes: extra.map(
        (r) =>
          `DELETE FROM ${qualified(t)} WHERE ${shape.columns.map((c, i) => `${quoteIdent(c.name)} <=> ${literal(c, r[i] ?? null)}`).join(' AND ')} LIMIT 1`,
      ),
      upserts: insertStatements(t, shape, rows, ''),
    };
  }
  const deletes: string[] = [];
  for (let i = 0; i < extra.length; i += BATCH_ROWS) {
    const keys = extra.slice(i, i + BATCH_ROWS).map((r) => shape.key.map((k) => r[k] ?? null));
    deletes.push(`DELETE FROM ${qualified(t)}${keysWhere(shape, -1, keys)}`);
  }
  const keySet = new Set(shape.key);
  const nonKey = shape.columns.filter((_c, i) => !keySet.has(i));
  // Every column in the key: nothing to update, but the statement must still not fail on the existing row.
  const upd = (nonKey.length ? nonKey : [shape.columns[shape.key[0]!]!])
    .map((c) => `${quoteIdent(c.name)} = VALUES(${quoteIdent(c.name)})`)
    .join(', ');
  return { deletes, upserts: insertStatements(t, shape, rows, ` ON DUPLICATE KEY UPDATE ${upd}`) };
}

/** Multi-row INSERTs of at most BATCH_ROWS rows and about MAX_BYTES each. */
function insertStatements(t: TableName, shape: TableShape, rows: Value[][], tail: string): string[] {
  const head = `INSERT INTO ${qualified(t)} (${shape.columns.map((c) => quoteIdent(c.name)).join(',')}) VALUES `;
  const out: string[] = [];
  let cur: string[] = [];
  let size = 0;
  for (const r of rows) {
    const s = `(${shape.columns.map((c, i) => literal(c, r[i] ?? null)).join(',')})`;
    if (cur.length && (cur.length >= BATCH_ROWS || size + Buffer.byteLength(s) > MAX_BYTES)) {
      out.push(head + cur.join(',') + tail);
      cur = [];
      size = 0;
    }
    cur.push(s);
    size += Buffer.byteLength(s) + 1;
  }
  if (cur.length) out.push(head + cur.join(',') + tail);
  return out;
}
