import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../src/sql/table-name.ts';
import type { Value } from '../db/mysql.ts';
import { type KeyValues, rangeWhere, rowsSql, type Side } from './compare-sql.ts';
import { binaryAliases, readRows } from './row-diff.ts';
import type { TableShape } from './table-shape.ts';
import type { TablePlan, View } from './types.ts';

/** The two sides of a View for one plan: side -1 is the downstream target, side i the plan's i-th shard. */

/** The table's name on a side: the target downstream, the shard's table upstream. */
export const tableOn = (plan: TablePlan, side: Side): TableName =>
  side < 0 ? plan.target : { schema: plan.shards[side]!.schema, table: plan.shards[side]!.table };
export const connOn = (plan: TablePlan, view: View, side: Side): Connection =>
  side < 0 ? view.downstream : view.upstream.get(plan.shards[side]!.source)!;
export const sideName = (side: Side) => (side < 0 ? 'downstream' : 'upstream');

/** Rows read by `sql(side)` on each of `sides`, in parallel (each side on its own connection), one array per side. */
export function readOnSides(
  plan: TablePlan,
  view: View,
  shape: TableShape,
  sides: Side[],
  sql: (side: Side) => string,
): Promise<Value[][][]> {
  const bin = binaryAliases(shape);
  return Promise.all(sides.map((s) => readRows(connOn(plan, view, s), sideName(s), sql(s), bin)));
}

/** Every compared row of a range, on a side (all shards for the upstream). */
export async function rangeRows(
  plan: TablePlan,
  view: View,
  shape: TableShape,
  up: boolean,
  lo?: KeyValues,
  hi?: KeyValues,
): Promise<Value[][]> {
  const sides = up ? plan.shards.map((_s, i) => i) : [-1];
  const parts = await readOnSides(plan, view, shape, sides, (s) =>
    rowsSql(tableOn(plan, s), shape, s, rangeWhere(shape, s, lo, hi)),
  );
  return parts.flat();
}
