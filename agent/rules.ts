import type { SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import { BlockAllowList } from '../src/filter/block-allow-list.ts';
import { EventFilter } from '../src/filter/event-filter.ts';
import { ExpressionFilter } from '../src/filter/expression-filter.ts';
import { OnlineDdlTables } from '../src/filter/online-ddl-tables.ts';
import { Router } from '../src/route/router.ts';
import { taskZone } from './db/timezone.ts';
import type { SubtaskRules } from './unit.ts';

/** The compiled rules of one subtask: what buildRules() decides with, and what `dmctl plan` asks for reasons. */
export interface CompiledRules {
  bal: BlockAllowList;
  router: Router;
  filter: EventFilter;
  exprs: ExpressionFilter;
  online: OnlineDdlTables | undefined;
}

export function compileRules(
  task: TaskConfig,
  spec: SubtaskSpec,
  warn?: (msg: string, detail: Record<string, unknown>) => void,
): CompiledRules {
  return {
    bal: new BlockAllowList(spec.blockAllowList, task.caseSensitive, { metaSchema: task.metaSchema }),
    router: new Router(spec.routes, task.caseSensitive),
    filter: new EventFilter(spec.filters, task.caseSensitive),
    // Expression filters see TIMESTAMP columns and NOW() in the task's time zone (UTC unless `timezone` is set).
    exprs: new ExpressionFilter(
      spec.exprFilters,
      task.caseSensitive,
      { zoneMinutes: taskZone(task).offsetMinutes, now: Date.now },
      warn,
    ),
    // online-ddl: gh-ost/pt shadow and trash tables follow the block-allow list of their real table (so their DDL is
    // seen and tracked); their rows are never migrated and the dump skips them (DM ignores them too).
    online: task.onlineDdl ? new OnlineDdlTables(task.onlineDdl) : undefined,
  };
}

/** One place builds the rules, so dump, load and sync apply exactly the same ones (issue #2). `compiled`: rules
 * compiled already (dmctl plan explains with the same objects). */
export function buildRules(
  task: TaskConfig,
  spec: SubtaskSpec,
  warn?: (msg: string, detail: Record<string, unknown>) => void,
  compiled: CompiledRules = compileRules(task, spec, warn),
): SubtaskRules {
  const { bal, router, filter, exprs, online } = compiled;
  return {
    allowTable: (s, t) => bal.allowTable(s, online ? online.realName(t) : t),
    onlineTableType: (t) => online?.type(t) ?? 'real',
    allowSchema: (s) => bal.allowSchema(s),
    route: (s, t) => router.route(s, t),
    routeSchema: (s) => router.routeSchema(s),
    eventAction: (s, t, ev, sql) => filter.decide(s, t, ev, sql),
    skipRow: (c) =>
      (online !== undefined && online.type(c.table) !== 'real') ||
      (!exprs.empty && exprs.skip(c.op, c.info, c.before, c.after)),
    extendColumns: (s, t) => router.extendColumns(s, t, spec.sourceId),
  };
}
