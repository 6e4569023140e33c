import { qualify, type TableName } from '../sql/table-name.ts';

/** An upstream table the task migrates, with the source it comes from and the downstream table routing gives it. */
export interface RoutedTable {
  source: string;
  table: TableName;
  target: TableName;
}

/** Two or more upstream tables that routing sends to one downstream table. */
export interface RouteCollision {
  target: TableName;
  tables: { source: string; table: TableName }[];
}

/**
 * The downstream tables that more than one upstream table is routed to, across every source of the task. Without
 * shard-mode nothing coordinates them: rows with equal keys overwrite each other and each table's DDL is applied as
 * if it were the only one. DM accepts such routes without a word (its dm_syncer case routes three tables into one);
 * tsdm's check-task warns about them (issue #16). Names compare as written unless `caseInsensitive` (task
 * case-sensitive: false compares routed names case-insensitively, as DM's sameTableNameDetection does). Sorted by
 * target for a stable output.
 */
export function routeCollisions(tables: RoutedTable[], caseInsensitive = false): RouteCollision[] {
  const norm = (s: string) => (caseInsensitive ? s.toLowerCase() : s);
  const groups = new Map<string, RouteCollision>();
  for (const t of tables) {
    const key = JSON.stringify([norm(t.target.schema), norm(t.target.table)]);
    const g = groups.get(key) ?? { target: t.target, tables: [] };
    g.tables.push({ source: t.source, table: t.table });
    groups.set(key, g);
  }
  return [...groups.values()]
    .filter((g) => g.tables.length > 1)
    .sort((a, b) => (qualify(a.target) < qualify(b.target) ? -1 : 1));
}

/** The warning for one collision: the upstream tables (the first few, then a count), the target and the two fixes. */
export function describeCollision(c: RouteCollision, multiSource: boolean, show = 4): string {
  const name = (t: { source: string; table: TableName }) => `${qualify(t.table)}${multiSource ? ` (${t.source})` : ''}`;
  const listed = c.tables.slice(0, show).map(name);
  const more = c.tables.length > show ? ` and ${c.tables.length - show} more` : '';
  return (
    `upstream tables ${listed.join(', ')}${more} are all routed to ${qualify(c.target)} without shard-mode: ` +
    'rows with the same key overwrite each other and their DDL is applied uncoordinated; set shard-mode ' +
    '(pessimistic or optimistic) to merge them, or fix the routes so that each table has a target of its own'
  );
}
