import type { Connection } from 'mysql2/promise';
import { DmError } from '../../src/errors/index.ts';
import { tableKey } from '../../src/sql/table-name.ts';
import { query, type Value } from '../db/mysql.ts';
import { keysWhere, type KeyValues, rowsSql } from './compare-sql.ts';
import { fixStatements } from './fix-sql.ts';
import { parseDisplayed } from './normalize.ts';
import { binaryAliases, canonRow, readRows, type RowDiff } from './row-diff.ts';
import { loadShape } from './table-shape.ts';
import type { TablePlan, View } from './types.ts';
import { connOn, tableOn } from './view-sides.ts';

const REPAIR_BATCH = 500;

/**
 * Re-reads the rows of `keys` from the view's upstream snapshots and writes them to `down` (a normal, non-snapshot
 * downstream connection): upsert of the compared columns when the row exists upstream, delete when it does not.
 * Returns the statements run (deletes first). `keys` are Difference.key records (values as reports show them).
 */
export async function repairKeys(
  plan: TablePlan,
  view: View,
  down: Connection,
  keys: Record<string, string | null>[],
): Promise<string[]> {
  const shape = await loadShape(plan, view);
  const target = tableKey(plan.target);
  if ('reason' in shape)
    throw new DmError('Internal', `check-data cannot repair ${target}: ${shape.reason}`, {
      context: { table: target },
    });
  if (shape.key.length === 0)
    throw new DmError('Internal', `check-data cannot repair ${target} by key: it has no key; apply its fix SQL`, {
      context: { table: target },
    });
  const keyCols = shape.key.map((i) => shape.columns[i]!);
  const canon = (k: Record<string, string | null>): KeyValues => {
    const byName = new Map(Object.entries(k).map(([n, v]) => [n.toLowerCase(), v]));
    return keyCols.map((c) => {
      if (!byName.has(c.name.toLowerCase())) throw new Error(`repair key of ${target} has no column ${c.name}`);
      return parseDisplayed(c.kind, c.binary, byName.get(c.name.toLowerCase()) ?? null);
    });
  };
  const bin = binaryAliases(shape);
  const statements: { deletes: string[]; upserts: string[] } = { deletes: [], upserts: [] };
  const all = keys.map(canon);
  for (let i = 0; i < all.length; i += REPAIR_BATCH) {
    const batch = all.slice(i, i + REPAIR_BATCH);
    const upRows = (
      await Promise.all(
        plan.shards.map((_s, s) =>
          readRows(
            connOn(plan, view, s),
            'upstream',
            rowsSql(tableOn(plan, s), shape, s, keysWhere(shape, s, batch)),
            bin,
          ),
        ),
      )
    ).flat();
    // Which requested keys exist upstream: compared in canonical form, as the compare matched them.
    const found = new Set(upRows.map((r) => canonRow(shape, r, shape.key)));
    const diffs: RowDiff[] = upRows.map((r) => ({ kind: 'missing', up: r, down: null, columns: [] }));
    for (const k of batch) {
      const row: Value[] = shape.columns.map(() => null);
      shape.key.forEach((ci, j) => {
        row[ci] = k[j] ?? null;
      });
      if (!found.has(canonRow(shape, row, shape.key))) diffs.push({ kind: 'extra', up: null, down: row, columns: [] });
    }
    const fix = fixStatements(plan.target, shape, diffs);
    statements.deletes.push(...fix.deletes);
    statements.upserts.push(...fix.upserts);
  }
  const run = [...statements.deletes, ...statements.upserts];
  for (const sql of run) await query(down, 'downstream', sql);
  return run;
}
