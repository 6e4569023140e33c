import type { SourceConfig, TaskConfig } from '../../src/config/types.ts';
import type { CheckItem } from '../../src/coord/index.ts';
import { describeCollision, type RoutedTable, routeCollisions } from '../../src/route/collisions.ts';
import { listTables } from '../db/schema.ts';
import { forEachUpstream } from '../each-upstream.ts';

/**
 * Precheck of a task without shard-mode: every upstream table it migrates (each source's block-allow list, online-DDL
 * ghost tables left out), routed, and one WARN item per downstream table that two or more of them are routed to
 * (src/route/collisions.ts). A warning, not a failure: DM runs such tasks, and they are right when the tables' keys
 * never overlap and they take no DDL; check-task says what can go wrong and how to fix it.
 */
export async function checkRouteCollisions(
  task: TaskConfig,
  sources: Record<string, SourceConfig>,
): Promise<CheckItem[]> {
  if (task.shardMode) return [];
  const routed: RoutedTable[] = [];
  await forEachUpstream(task, sources, async (spec, rules, up) => {
    for (const t of await listTables(up, 'upstream')) {
      if (!rules.allowTable(t.schema, t.table) || rules.onlineTableType(t.table) !== 'real') continue;
      routed.push({ source: spec.sourceId, table: t, target: rules.route(t.schema, t.table) });
    }
  });
  const multiSource = task.subtasks.length > 1;
  return routeCollisions(routed, !task.caseSensitive).map((c) => ({
    name: 'tables routed to one target',
    ...(multiSource ? {} : { source: c.tables[0]!.source }),
    ok: true,
    warning: describeCollision(c, multiSource),
  }));
}
