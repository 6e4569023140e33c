/**
 * A DM case's sync-diff-inspector config (`conf/diff_config*.toml`) read into what must be compared: the
 * upstream instances with their routes, the downstream, the tables to check, and per-table ignored columns and
 * row ranges. Hosts and ports in the file are DM's CI values; `resolve` maps them onto the sandbox's servers.
 *
 * Two forms exist in DM's cases:
 *  - `[data-sources.*]` + `[task] source-instances / target-instance` (+ `[routes.*]`, `[table-configs.*]`);
 *  - `dm-addr` + `dm-task`: sync-diff asks DM for the task's subtasks and uses their sources and routes (with the
 *    task's case-sensitive setting). Here the task file itself provides them (`dmTask`).
 */
import { parse as parseToml } from 'smol-toml';
import type { DbEndpoint } from '../harness/index.ts';
import { makeRouter, parseTableFilter, type RouteRule, type Router, type TableFilter } from './sync-diff-rules.ts';

export interface DiffSource {
  name: string;
  endpoint: DbEndpoint;
  router: Router;
}
export interface DiffTableConfig {
  name: string;
  filter: TableFilter;
  ignoreColumns: string[];
  indexFields: string[];
  range?: string;
}
export interface DiffSpec {
  file: string;
  sources: DiffSource[];
  target: DbEndpoint;
  check: TableFilter;
  configs: DiffTableConfig[];
}

/** What the task file says about its sources, for the dm-addr form. */
export interface DmTaskView {
  caseSensitive: boolean;
  instances: { sourceId: string; endpoint: DbEndpoint; routes: RouteRule[] }[];
  target: DbEndpoint;
}

export interface DiffEnv {
  /** The sandbox server behind a DM CI address (3306 -> upstream 1, 3307 -> upstream 2, 4000 -> downstream). */
  resolve(name: string, host: string, port: number): DbEndpoint | undefined;
  dmTask?: DmTaskView;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

function routeRule(name: string, v: unknown): RouteRule {
  const r = obj(v);
  const rule: RouteRule = {
    name,
    schemaPattern: String(r['schema-pattern'] ?? ''),
    targetSchema: String(r['target-schema'] ?? ''),
  };
  if (r['table-pattern']) rule.tablePattern = String(r['table-pattern']);
  if (r['target-table']) rule.targetTable = String(r['target-table']);
  return rule;
}

export function parseDiffConfig(text: string, file: string, env: DiffEnv): DiffSpec {
  const doc = parseToml(text) as Obj;
  const task = obj(doc['task']);
  const configsByName = obj(doc['table-configs']);
  const wanted = strs(task['target-configs']);
  const configs: DiffTableConfig[] = wanted.map((n) => {
    const c = obj(configsByName[n]);
    if (!configsByName[n]) throw new Error(`${file}: target-configs names ${n}, which [table-configs] does not define`);
    const out: DiffTableConfig = {
      name: n,
      filter: parseTableFilter(strs(c['target-tables'])),
      ignoreColumns: strs(c['ignore-columns']),
      indexFields: strs(c['index-fields']),
    };
    if (typeof c['range'] === 'string' && c['range'].trim() !== '') out.range = c['range'];
    return out;
  });
  const check = parseTableFilter(strs(task['target-check-tables']));

  if (doc['dm-addr'] !== undefined) {
    const dm = env.dmTask;
    if (!dm) throw new Error(`${file}: dm-addr form needs the task's sources and routes`);
    return {
      file,
      check,
      configs,
      target: dm.target,
      sources: dm.instances.map((i) => ({
        name: i.sourceId,
        endpoint: i.endpoint,
        router: makeRouter(i.routes, dm.caseSensitive),
      })),
    };
  }

  const dataSources = obj(doc['data-sources']);
  const routes = obj(doc['routes']);
  const endpointOf = (name: string): { ep: DbEndpoint; ds: Obj } => {
    const ds = obj(dataSources[name]);
    if (!dataSources[name]) throw new Error(`${file}: data source ${name} is not defined`);
    const ep = env.resolve(name, String(ds['host'] ?? ''), Number(ds['port'] ?? 0));
    if (!ep)
      throw new Error(`${file}: data source ${name} (${ds['host']}:${ds['port']}) matches no server of the sandbox`);
    return { ep, ds };
  };
  const sources = strs(task['source-instances']).map((name) => {
    const { ep, ds } = endpointOf(name);
    const rules = strs(ds['route-rules']).map((r) => {
      if (!routes[r]) throw new Error(`${file}: data source ${name} uses route ${r}, which [routes] does not define`);
      return routeRule(r, routes[r]);
    });
    // sync-diff builds these routers with case-sensitive = false.
    return { name, endpoint: ep, router: makeRouter(rules, false) };
  });
  const targetName = String(task['target-instance'] ?? '');
  return { file, sources, target: endpointOf(targetName).ep, check, configs };
}

export { DM_CI_PORTS } from './case-files.ts';

export { routeRule as parseRouteRule };
