/**
 * One mysql-instance of a task.yaml resolved into its SubtaskSpec (task-config.ts calls this once per instance):
 * rule names looked up in the task's sections (block-allow-list, routes, filters, expression-filter, unit configs,
 * validators), each problem recorded as an issue at the instance's key, so that every problem shows at once.
 */
import type {
  BinlogMeta,
  BlockAllowRule,
  EventFilterRule,
  ExpressionFilterRule,
  RouteRule,
  SubtaskSpec,
} from './types.ts';
import { isBinlogFilename, isGtidSet } from './dm-values.ts';
import { routeExtractors } from './route-extractors.ts';
import { closest } from './suggest.ts';
import type { RawBaRule, RawInstance, RawTask } from './task-schema.ts';
import { dumpConfig, loadConfig, syncConfig, validatorConfig } from './task-units.ts';
import type { ConfigIssue } from './yaml-schema.ts';
import { configNote, type ConfigNote, type ConfigPath, type YamlSource } from './yaml-source.ts';

/** What resolving one instance shares with the task: the rules resolved once, and where problems go. */
export interface InstanceCtx {
  src: YamlSource;
  issues: ConfigIssue[];
  notes: ConfigNote[];
  baLists: { rules: Record<string, RawBaRule>; key: 'block-allow-list' | 'black-white-list' };
  filters: Map<string, EventFilterRule | undefined>;
  exprFilters: Map<string, ExpressionFilterRule | undefined>;
  used: Set<string>;
  /** start-task/check-task --start-time: meta is not used (TaskLoadOptions.startTime). */
  startTime: boolean;
}

export function resolveInstance(t: RawTask, inst: RawInstance, i: number, ctx: InstanceCtx): SubtaskSpec {
  const at: ConfigPath = ['mysql-instances', i];
  const { issues } = ctx;
  const unknown = (key: string, path: ConfigPath, name: string, section: string, defined: string[]) => {
    const hint = closest(name, defined);
    const issue: ConfigIssue = {
      name: 'ConfigUnknownRule',
      path,
      message:
        `mysql-instances[${i}].${key} names "${name}", which is not defined under ${section}` +
        (hint
          ? `; did you mean "${hint}"?`
          : defined.length
            ? ` (defined: ${defined.join(', ')})`
            : ` (${section} is empty)`),
    };
    issues.push(issue);
  };
  const dupes = (key: string, list: string[]) => {
    const d = list.filter((n, j) => list.indexOf(n) !== j);
    if (d.length)
      issues.push({
        name: 'ConfigInvalid',
        path: [...at, key],
        message: `${key} lists ${[...new Set(d)].map((n) => `"${n}"`).join(', ')} more than once`,
      });
  };

  // ---- block-allow-list (or the deprecated black-white-list)
  let blockAllowList: BlockAllowRule | undefined;
  if (inst['block-allow-list'] && inst['black-white-list']) {
    issues.push({
      name: 'ConfigDeprecatedConflict',
      path: [...at, 'black-white-list'],
      message: 'both block-allow-list and its deprecated alias black-white-list are set; keep only block-allow-list',
    });
  }
  const baKey = inst['block-allow-list'] ? 'block-allow-list' : 'black-white-list';
  const baName = inst[baKey];
  if (baName) {
    if (baKey === 'black-white-list')
      ctx.notes.push(
        configNote(ctx.src, 'deprecated', [...at, baKey], 'deprecated DM alias, read as block-allow-list'),
      );
    const rule = own(ctx.baLists.rules, baName);
    if (rule) blockAllowList = toBaRule(rule);
    else unknown(baKey, [...at, baKey], baName, ctx.baLists.key, Object.keys(ctx.baLists.rules));
  }

  // ---- routes and filters
  dupes('route-rules', inst['route-rules']);
  dupes('filter-rules', inst['filter-rules']);
  const routes: RouteRule[] = [];
  inst['route-rules'].forEach((name, j) => {
    const r = own(t.routes, name);
    if (!r) return unknown('route-rules', [...at, 'route-rules', j], name, 'routes', Object.keys(t.routes));
    ctx.used.add(`routes\0${name}`);
    routes.push({
      name,
      schemaPattern: r['schema-pattern'],
      tablePattern: r['table-pattern'],
      targetSchema: r['target-schema'],
      targetTable: r['target-table'],
      ...routeExtractors(name, r, issues),
    });
  });
  const filters: EventFilterRule[] = [];
  inst['filter-rules'].forEach((name, j) => {
    if (!ctx.filters.has(name))
      return unknown('filter-rules', [...at, 'filter-rules', j], name, 'filters', Object.keys(t.filters));
    ctx.used.add(`filters\0${name}`);
    const f = ctx.filters.get(name);
    if (f) filters.push(f);
  });

  dupes('expression-filters', inst['expression-filters']);
  const exprFilters: ExpressionFilterRule[] = [];
  inst['expression-filters'].forEach((name, j) => {
    if (!ctx.exprFilters.has(name))
      return unknown(
        'expression-filters',
        [...at, 'expression-filters', j],
        name,
        'expression-filter',
        Object.keys(t['expression-filter']),
      );
    ctx.used.add(`expression-filter\0${name}`);
    const f = ctx.exprFilters.get(name);
    if (f) exprFilters.push(f);
  });

  // Two rules of one kind on the same (schema, table) pattern pair: DM's router fails the task; DM's
  // binlog filter drops the second rule with a log line, which tsdm's filter refuses (it would silently
  // replicate what the user meant to filter). Both are config errors here, at the second name.
  const samePatterns = (
    key: 'route-rules' | 'filter-rules',
    rules: { name: string; schemaPattern: string; tablePattern: string }[],
  ) => {
    const seenPair = new Map<string, string>();
    for (const r of rules) {
      const k = patternPairKey(r, !!t['case-sensitive']);
      const first = seenPair.get(k);
      if (first !== undefined) {
        issues.push({
          name: 'ConfigInvalid',
          path: [...at, key, inst[key].indexOf(r.name)],
          message: `rules "${first}" and "${r.name}" have the same schema-pattern/table-pattern ("${r.schemaPattern}", "${r.tablePattern}"); merge them into one rule`,
        });
      } else seenPair.set(k, r.name);
    }
  };
  samePatterns('route-rules', routes);
  samePatterns('filter-rules', filters);

  // ---- unit configs: named or inline, never both (DM: ErrConfig{Mydumper,Loader,Syncer}CfgConflict)
  const unit = <K extends 'mydumpers' | 'loaders' | 'syncers'>(
    section: K,
    nameKey: 'mydumper-config-name' | 'loader-config-name' | 'syncer-config-name',
    inlineKey: 'mydumper' | 'loader' | 'syncer',
  ) => {
    const name = inst[nameKey];
    const inline = inst[inlineKey];
    if (name && inline) {
      issues.push({
        name: 'ConfigInvalid',
        path: [...at, inlineKey],
        message: `${nameKey} and an inline ${inlineKey} block are both set; use one of them`,
      });
    }
    if (name) {
      const named = own(t[section] as Record<string, unknown>, name);
      if (named) {
        ctx.used.add(`${section}\0${name}`);
        return { value: named as NonNullable<RawTask[K][string]>, path: [section, name] };
      }
      unknown(nameKey, [...at, nameKey], name, section, Object.keys(t[section]));
    }
    return { value: (inline ?? {}) as NonNullable<RawTask[K][string]>, path: [...at, inlineKey] };
  };
  const dump = dumpConfig(inst, unit('mydumpers', 'mydumper-config-name', 'mydumper'));
  const load = loadConfig(inst, unit('loaders', 'loader-config-name', 'loader'), issues);
  const sync = syncConfig(inst, unit('syncers', 'syncer-config-name', 'syncer'), issues);

  const v = inst['validator-config-name'];
  let rawValidator: RawTask['validators'][string] | undefined;
  if (v) {
    rawValidator = own(t.validators, v);
    if (rawValidator) ctx.used.add(`validators\0${v}`);
    else unknown('validator-config-name', [...at, 'validator-config-name'], v, 'validators', Object.keys(t.validators));
  }
  const validator = validatorConfig(rawValidator, issues, ['validators', v]);

  const spec: SubtaskSpec = { sourceId: inst['source-id'], routes, filters, exprFilters, dump, load, sync, validator };
  if (blockAllowList) spec.blockAllowList = blockAllowList;
  const meta = resolveMeta(t, inst, at, ctx);
  if (meta) spec.meta = meta;
  return spec;
}

/**
 * The start position of an incremental task. DM requires binlog-name or binlog-gtid when meta is present
 * (which one is used depends on the source's enable-gtid, known only when the subtask is bound). For full
 * and all tasks the snapshot position is used and meta is ignored, as in DM.
 */
function resolveMeta(t: RawTask, inst: RawInstance, at: ConfigPath, ctx: InstanceCtx): BinlogMeta | undefined {
  const m = inst.meta;
  if (!m) return undefined;
  if (!m['binlog-name'] && !m['binlog-gtid']) {
    // With --start-time DM puts a placeholder in every meta and starts from the time: nothing to say here.
    if (ctx.startTime) return undefined;
    ctx.issues.push({
      name: 'MetaRequired',
      path: [...at, 'meta'],
      message:
        'must specify `binlog-name` without GTID enabled for the source or specify `binlog-gtid` with GTID enabled for the source (meta has neither)',
    });
    return undefined;
  }
  if (t['task-mode'] !== 'incremental') {
    ctx.notes.push(
      configNote(
        ctx.src,
        'no-effect',
        [...at, 'meta'],
        `accepted, no effect: task-mode ${t['task-mode']} starts incremental sync from its snapshot position (DM ignores meta too)`,
      ),
    );
    return undefined;
  }
  // Checked only here, where meta is used: DM's task files leave placeholders in meta for the modes that ignore it.
  const bad = (key: 'binlog-name' | 'binlog-gtid', message: string) =>
    ctx.issues.push({ name: 'ConfigInvalid', path: [...at, 'meta', key], message });
  if (m['binlog-name'] && !isBinlogFilename(m['binlog-name']))
    bad('binlog-name', `"${m['binlog-name']}" is not a binlog file name (expected base.NNNNNN, e.g. mysql-bin.000001)`);
  if (m['binlog-gtid'] && !isGtidSet(m['binlog-gtid']))
    bad('binlog-gtid', `"${m['binlog-gtid']}" is not a MySQL or MariaDB GTID set`);
  // Position 4 is the first event of a binlog file; DM's zero value means "from the start" as well.
  return { binlogName: m['binlog-name'] ?? '', binlogPos: m['binlog-pos'] || 4, binlogGtid: m['binlog-gtid'] ?? '' };
}

/** A rule by name; only the file's own entries (a rule named "constructor" must not find Object's). */
function own<T>(rules: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(rules, name) ? rules[name] : undefined;
}

function toBaRule(r: RawBaRule): BlockAllowRule {
  const table = (x: { 'db-name': string; 'tbl-name': string }) => ({ dbName: x['db-name'], tblName: x['tbl-name'] });
  return {
    doDbs: r['do-dbs'],
    ignoreDbs: r['ignore-dbs'],
    doTables: r['do-tables'].map(table),
    ignoreTables: r['ignore-tables'].map(table),
  };
}

/** The (schema, table) pattern pair a route or filter rule is keyed by, as DM's router and binlog filter key them. */
export function patternPairKey(r: { schemaPattern: string; tablePattern: string }, caseSensitive: boolean): string {
  const pair = `${r.schemaPattern}\0${r.tablePattern}`;
  return caseSensitive ? pair : pair.toLowerCase();
}

/**
 * The subtask's spec with its source's `filters` (source.yaml) added after the task's own rules, as DM's worker does
 * (source_worker.go copyConfigFromSource): a source rule whose schema and table patterns equal a task rule's is left
 * out (the task's wins; DM logs "filter config already exist in source config, overwrite it"). Patterns compare
 * case-insensitively unless the task is case-sensitive, as DM's filter keys them.
 */
export function withSourceRules(
  spec: SubtaskSpec,
  source: { filters?: EventFilterRule[] } | undefined,
  caseSensitive: boolean,
  /** Told of each source rule left out for a task rule on the same patterns (DM logs it as a warning). */
  leftOut?: (rule: EventFilterRule) => void,
): SubtaskSpec {
  const extra = source?.filters;
  if (!extra || extra.length === 0) return spec;
  // The source's own rules never share a pair (source-config.ts refuses that), so only the task's are looked up.
  const taken = new Set(spec.filters.map((r) => patternPairKey(r, caseSensitive)));
  const filters = [...spec.filters];
  for (const r of extra) {
    if (taken.has(patternPairKey(r, caseSensitive))) leftOut?.(r);
    else filters.push(r);
  }
  return { ...spec, filters };
}
