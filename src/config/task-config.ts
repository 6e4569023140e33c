/**
 * task.yaml (DM's task definition) -> TaskConfig with one SubtaskSpec per mysql-instance.
 *
 * Order matters for the messages users see:
 *   1. YAML syntax (ConfigYamlSyntax)
 *   2. keys tsdm does not support yet (ConfigUnsupportedKey), before anything else about their block
 *   3. shapes and single values (zod: ConfigUnknownKey, ConfigInvalid, ConfigBadPattern)
 *   4. cross-references and aliases, every problem at once (ConfigUnknownRule, ConfigDeprecatedConflict, …)
 * The result holds no rule names: every instance carries its resolved rules, so no other module reads YAML.
 */
import type {
  BinlogMeta,
  BlockAllowRule,
  EventFilterRule,
  ExpressionFilterRule,
  FilterAction,
  RouteRule,
  SubtaskSpec,
  TaskConfig,
} from './types.ts';
import { resolveExpressionFilters } from './expression-filters.ts';
import { routeExtractors } from './route-extractors.ts';
import { checkOnlineDdlRules, resolveOnlineDdl } from './online-ddl.ts';
import { DM_EVENT_NAMES, normaliseEventType } from './dm-values.ts';
import { toDbConfig } from './schema-parts.ts';
import { sessionVarName } from '../sql/session-vars.ts';
import { closest } from './suggest.ts';
import { taskSchema, type RawBaRule, type RawFilter, type RawInstance, type RawTask } from './task-schema.ts';
import { dumpConfig, loadConfig, syncConfig } from './task-units.ts';
import { applyKeyPolicy } from './unsupported.ts';
import {
  configNote,
  formatPath,
  issuesError,
  parseYaml,
  scalarSource,
  toPlain,
  validate,
  type ConfigIssue,
  type ConfigNote,
  type ConfigPath,
  type YamlSource,
} from './yaml-schema.ts';

export interface TaskLoadOptions {
  /**
   * Turn DM-compatibility notes into errors: a filter rule with an event type DM does not know is dropped
   * by DM (and so by tsdm) with only a log line; `strict` makes it a ConfigInvalid instead. check-task uses it.
   */
  strict?: boolean;
}

export interface TaskLoadResult {
  config: TaskConfig;
  notes: ConfigNote[];
}

export function parseTaskConfig(text: string, file: string, opts: TaskLoadOptions = {}): TaskConfig {
  return loadTaskConfig(text, file, opts).config;
}

export function loadTaskConfig(text: string, file: string, opts: TaskLoadOptions = {}): TaskLoadResult {
  const src = parseYaml(text, file);
  const raw = toPlain(src, taskSchema);
  const notes = applyKeyPolicy(src, raw, 'task');
  const t = validate(src, raw, taskSchema);
  const issues: ConfigIssue[] = [];

  const baLists = resolveBaLists(t, issues, notes, src);
  const filters = resolveFilters(t, src, notes, issues, !!opts.strict);
  const exprFilters = resolveExpressionFilters(t, issues);
  checkOnlineDdlRules(t, issues);
  const used = new Set<string>();
  const seen = new Map<string, number>();
  const subtasks = t['mysql-instances'].map((inst, i) => {
    const at = ['mysql-instances', i] as const;
    const prev = seen.get(inst['source-id']);
    if (prev !== undefined) {
      issues.push({
        name: 'ConfigInvalid',
        path: [...at, 'source-id'],
        message: `source-id "${inst['source-id']}" is already used by mysql-instances[${prev}]; each source can appear once per task`,
      });
    }
    seen.set(inst['source-id'], i);
    return resolveInstance(t, inst, i, { src, issues, notes, baLists, filters, exprFilters, used });
  });
  checkUnused(t, used, issues);
  if (issues.length > 0) throw issuesError(src, issues);

  const config: TaskConfig = {
    name: t.name,
    taskMode: t['task-mode'] as TaskConfig['taskMode'],
    // DM: is-sharding alone means pessimistic; a shard-mode implies is-sharding.
    shardMode: t['shard-mode'] || (t['is-sharding'] ? 'pessimistic' : ''),
    metaSchema: t['meta-schema'] || 'dm_meta',
    timezone: t.timezone,
    caseSensitive: t['case-sensitive'],
    // DM: empty means loose.
    collationCompatible: t.collation_compatible || 'loose',
    targetDatabase: toDbConfig(t['target-database'], { file, key: 'target-database' }),
    subtasks,
  };
  const onlineDdl = resolveOnlineDdl(t, src, notes);
  if (onlineDdl) config.onlineDdl = onlineDdl;
  // YAML 1.1 reads `off` as false; DM passes session values as written, so take the source text.
  for (const k of Object.keys(t['target-database'].session)) {
    const text = scalarSource(src, ['target-database', 'session', k]);
    if (text !== undefined) config.targetDatabase.session[sessionVarName(k) ?? k.toLowerCase()] = text;
  }
  return { config, notes };
}

interface Ctx {
  src: YamlSource;
  issues: ConfigIssue[];
  notes: ConfigNote[];
  baLists: { rules: Record<string, RawBaRule>; key: 'block-allow-list' | 'black-white-list' };
  filters: Map<string, EventFilterRule | undefined>;
  exprFilters: Map<string, ExpressionFilterRule | undefined>;
  used: Set<string>;
}

/** The top-level block-allow-list, or its deprecated alias black-white-list (DM uses it when the new one is empty). */
function resolveBaLists(t: RawTask, issues: ConfigIssue[], notes: ConfigNote[], src: YamlSource): Ctx['baLists'] {
  const hasNew = Object.keys(t['block-allow-list']).length > 0;
  const hasOld = Object.keys(t['black-white-list']).length > 0;
  if (hasNew && hasOld) {
    issues.push({
      name: 'ConfigDeprecatedConflict',
      path: ['black-white-list'],
      message:
        'both block-allow-list and its deprecated alias black-white-list are set; move the rules under block-allow-list',
    });
  }
  if (hasOld && !hasNew) {
    notes.push(configNote(src, 'deprecated', ['black-white-list'], 'deprecated DM alias, read as block-allow-list'));
    return { rules: t['black-white-list'], key: 'black-white-list' };
  }
  return { rules: t['block-allow-list'], key: 'block-allow-list' };
}

/**
 * Filter rules by name. A rule with an event type DM does not know maps to undefined: DM's binlog filter
 * drops such a rule entirely when the task starts (it only logs "invalid binlog event rule"), so none of
 * its events are filtered. tsdm does the same for compatibility (DM's own all_mode case has
 * `events: ["truncate table", "drop table", "truncate"]`), and says so in a note.
 */
function resolveFilters(
  t: RawTask,
  src: YamlSource,
  notes: ConfigNote[],
  issues: ConfigIssue[],
  strict: boolean,
): Map<string, EventFilterRule | undefined> {
  const out = new Map<string, EventFilterRule | undefined>();
  for (const [name, f] of Object.entries(t.filters)) {
    const events: string[] = [];
    const bad: number[] = [];
    f.events.forEach((e, j) => {
      const n = normaliseEventType(e);
      if (n === undefined) bad.push(j);
      else if (n !== '') events.push(n);
    });
    const action = normaliseAction(f);
    if (f.action !== action) {
      notes.push(
        configNote(
          src,
          'dm-compat',
          ['filters', name, 'action'],
          `"${f.action}" read as "${action}"; DM itself only accepts Do, Ignore or Error exactly and would drop this rule`,
        ),
      );
    }
    if (bad.length > 0) {
      for (const j of bad) {
        const e = f.events[j]!;
        const hint = closest(e, DM_EVENT_NAMES);
        const message = `"${e}" is not a DM event type${hint ? ` (did you mean "${hint}"?)` : ''}; DM drops the whole rule "${name}" when the task starts, so this rule filters nothing`;
        if (strict)
          issues.push({
            name: 'ConfigInvalid',
            path: ['filters', name, 'events', j],
            message,
            suggestion: `Use DM event names: ${DM_EVENT_NAMES.slice(0, 12).join(', ')}, … (docs/configuration.md).`,
          });
        else notes.push(configNote(src, 'dm-compat', ['filters', name, 'events', j], message));
      }
      out.set(name, undefined);
      continue;
    }
    out.set(name, {
      name,
      schemaPattern: f['schema-pattern'],
      tablePattern: f['table-pattern'],
      events,
      sqlPattern: f['sql-pattern'],
      action,
    });
  }
  return out;
}

function normaliseAction(f: RawFilter): FilterAction {
  const a = f.action.toLowerCase();
  return a === 'do' ? 'Do' : a === 'error' ? 'Error' : 'Ignore';
}

function resolveInstance(t: RawTask, inst: RawInstance, i: number, ctx: Ctx): SubtaskSpec {
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
      const pair = `${r.schemaPattern}\0${r.tablePattern}`;
      const k = t['case-sensitive'] ? pair : pair.toLowerCase();
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
  if (v) {
    if (own(t.validators, v)) ctx.used.add(`validators\0${v}`);
    else unknown('validator-config-name', [...at, 'validator-config-name'], v, 'validators', Object.keys(t.validators));
  }

  const spec: SubtaskSpec = { sourceId: inst['source-id'], routes, filters, exprFilters, dump, load, sync };
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
function resolveMeta(t: RawTask, inst: RawInstance, at: ConfigPath, ctx: Ctx): BinlogMeta | undefined {
  const m = inst.meta;
  if (!m) return undefined;
  if (!m['binlog-name'] && !m['binlog-gtid']) {
    ctx.issues.push({
      name: 'MetaRequired',
      path: [...at, 'meta'],
      message:
        'meta needs binlog-name (with binlog-pos) for a source without GTID, or binlog-gtid for a source with enable-gtid',
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

/** DM rejects a task whose global routes/filters/unit configs/validators are not used by any instance. */
function checkUnused(t: RawTask, used: Set<string>, issues: ConfigIssue[]): void {
  for (const section of [
    'routes',
    'filters',
    'expression-filter',
    'mydumpers',
    'loaders',
    'syncers',
    'validators',
  ] as const) {
    for (const name of Object.keys(t[section])) {
      if (!used.has(`${section}\0${name}`)) {
        issues.push({
          name: 'ConfigInvalid',
          path: [section, name],
          message: `${formatPath([section, name])} is defined but no mysql-instance uses it (DM rejects this too); reference it from a mysql-instance or remove it`,
        });
      }
    }
  }
}
