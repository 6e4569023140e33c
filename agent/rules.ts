import type { SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import { BlockAllowList } from '../src/filter/block-allow-list.ts';
import { EventFilter, type DmEventType } from '../src/filter/event-filter.ts';
import { Router } from '../src/route/router.ts';
import type { SubtaskRules } from './units/context.ts';

/** One place builds the rules, so dump, load and sync apply exactly the same ones (issue #2). */
export function buildRules(task: TaskConfig, spec: SubtaskSpec): SubtaskRules {
  const bal = new BlockAllowList(spec.blockAllowList, task.caseSensitive, { metaSchema: task.metaSchema });
  const router = new Router(spec.routes, task.caseSensitive);
  const filter = new EventFilter(spec.filters, task.caseSensitive);
  return {
    allowTable: (s, t) => bal.allowTable(s, t),
    allowSchema: (s) => bal.allowSchema(s),
    route: (s, t) => router.route(s, t),
    routeSchema: (s) => router.routeSchema(s),
    eventAction: (s, t, ev, sql) => filter.check(s, t, ev as DmEventType | readonly DmEventType[], sql),
  };
}
