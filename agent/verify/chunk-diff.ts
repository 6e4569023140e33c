import type { Value } from '../db/mysql.ts';
import { type KeyValues, keyCrcSql, keysWhere, rangeWhere, rowsSql } from './compare-sql.ts';
import { canonical } from './normalize.ts';
import { diffRows, type RowDiff } from './row-diff.ts';
import type { TableShape } from './table-shape.ts';
import type { TablePlan, View } from './types.ts';
import { rangeRows, readOnSides, tableOn } from './view-sides.ts';

const KEYS_PER_READ = 500;
/** More differing keys than this (or than 1/8 of the rows): the whole range is read instead. */
const MAX_KEYS = 5_000;

/**
 * The rows of a chunk whose checksums differ, narrowed before they are read: each side returns every row's key and
 * CRC (the same expression as the chunk checksum, computed by the server), and only the keys whose CRC differs or
 * that one side lacks are read in full and compared in canonical form. A chunk with one changed row among 10,000
 * then moves 10,000 (key, CRC) pairs and 2 rows instead of 20,000 rows. When most keys differ anyway (types that
 * render differently, a JSON column written with another key order), the whole range is read at once instead.
 * Only for the checksum fast path (same column types on both sides).
 */
export async function diffChunk(
  plan: TablePlan,
  view: View,
  shape: TableShape,
  lo: KeyValues | undefined,
  hi: KeyValues,
): Promise<{ upRows: number; diffs: RowDiff[] }> {
  const sides = [...plan.shards.map((_s, i) => i), -1];
  const pairs = await readOnSides(plan, view, shape, sides, (s) =>
    keyCrcSql(tableOn(plan, s), shape, s, rangeWhere(shape, s, lo, hi)),
  );
  const down = pairs.pop()!;
  const up = pairs.flat();
  const nk = shape.key.length;
  const canonKey = (r: Value[]) =>
    JSON.stringify(shape.key.map((ci, j) => canonical(shape.columns[ci]!.kind, r[j] ?? null)));
  // Key -> CRC upstream; a key in two shards of a merge is always read in full (the compare shows what it holds).
  const upCrc = new Map<string, { crc: Value; key: KeyValues; twice: boolean }>();
  for (const r of up) {
    const k = canonKey(r);
    const e = upCrc.get(k);
    if (e) e.twice = true;
    else upCrc.set(k, { crc: r[nk] ?? null, key: r.slice(0, nk), twice: false });
  }
  const differing: KeyValues[] = [];
  for (const r of down) {
    const k = canonKey(r);
    const e = upCrc.get(k);
    if (!e || e.twice || e.crc !== (r[nk] ?? null)) differing.push(r.slice(0, nk));
    if (e) upCrc.delete(k);
  }
  for (const e of upCrc.values()) differing.push(e.key);
  if (differing.length === 0) return { upRows: up.length, diffs: [] };
  if (differing.length > Math.min(MAX_KEYS, (up.length + down.length) / 8)) {
    const [u, d] = await Promise.all([
      rangeRows(plan, view, shape, true, lo, hi),
      rangeRows(plan, view, shape, false, lo, hi),
    ]);
    return { upRows: u.length, diffs: diffRows(shape, u, d) };
  }
  // Full rows of the differing keys, on every side (a key missing on a side simply returns no row there), in
  // statements of KEYS_PER_READ keys within the chunk's range.
  const rows: Value[][][] = sides.map(() => []);
  for (let i = 0; i < differing.length; i += KEYS_PER_READ) {
    const part = differing.slice(i, i + KEYS_PER_READ);
    const got = await readOnSides(plan, view, shape, sides, (s) =>
      rowsSql(tableOn(plan, s), shape, s, keysWhere(shape, s, part, lo, hi)),
    );
    got.forEach((g, j) => rows[j]!.push(...g));
  }
  const d = rows.pop()!;
  return { upRows: up.length, diffs: diffRows(shape, rows.flat(), d) };
}
