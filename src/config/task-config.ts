/**
 * task.yaml (DM's task definition) -> TaskConfig with one SubtaskSpec per mysql-instance.
 *
 * Order matters for the messages users see:
 *   1. YAML syntax (ConfigYamlSyntax)
 *   2. keys tsdm does not support yet (ConfigUnsupportedKey), before anything else about their block
 *   3. shapes and single values (zod: ConfigUnknownKey, ConfigInvalid, ConfigBadPattern)
 *   4. cross-references and aliases, every problem at once (ConfigUnknownRule, ConfigDeprecatedConflict, …)
 * The result holds no rule names: every instance carries its resolved rules (task-instance.ts resolves them), so no
 * other module reads YAML.
 */
import type { EventFilterRule, FilterAction, TaskConfig } from './types.ts';
import { resolveExpressionFilters } from './expression-filters.ts';
import { checkOnlineDdlRules, resolveOnlineDdl } from './online-ddl.ts';
import { DM_EVENT_NAMES, normaliseEventType } from './dm-values.ts';
import { toDbConfig } from './schema-parts.ts';
import { sessionVarName } from '../sql/session-vars.ts';
import { closest } from './suggest.ts';
import { resolveInstance, type InstanceCtx } from './task-instance.ts';
import { taskSchema, type RawFilter, type RawTask } from './task-schema.ts';
import { applyKeyPolicy } from './unsupported.ts';
import { issuesError, validate, type ConfigIssue } from './yaml-schema.ts';
import { configNote, formatPath, parseYaml, scalarSource, type ConfigNote, type YamlSource } from './yaml-source.ts';
import { toPlain } from './yaml-values.ts';

export interface TaskLoadOptions {
  /**
   * Turn DM-compatibility notes into errors: a filter rule with an event type DM does not know is dropped
   * by DM (and so by tsdm) with only a log line; `strict` makes it a ConfigInvalid instead. check-task uses it.
   */
  strict?: boolean;
  /**
   * The task runs from `start-task --start-time` (check-task's too): no instance's `meta` is used, so one with neither
   * binlog-name nor binlog-gtid is accepted, as DM accepts it then (dmctl_basic's check_task_no_source_meta_but_start_time).
   */
  startTime?: boolean;
}

/** How a stored task record's file is read: as the start-task that stored it read it (with its --start-time or not). */
export function recordLoadOptions(rec: { startTime?: Record<string, string> }): TaskLoadOptions {
  return rec.startTime && Object.keys(rec.startTime).length > 0 ? { startTime: true } : {};
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
    return resolveInstance(t, inst, i, {
      src,
      issues,
      notes,
      baLists,
      filters,
      exprFilters,
      used,
      startTime: !!opts.startTime,
    });
  });
  checkUnused(t, used, issues);
  checkShardingAlias(t, src, issues);
  if (issues.length > 0) throw issuesError(src, issues);

  const config: TaskConfig = {
    name: t.name,
    taskMode: t['task-mode'] as TaskConfig['taskMode'],
    // DM: is-sharding alone means pessimistic; a shard-mode implies is-sharding.
    shardMode: t['shard-mode'] || (t['is-sharding'] ? 'pessimistic' : ''),
    strictOptimistic: t['strict-optimistic-shard-mode'] === true,
    metaSchema: t['meta-schema'] || 'dm_meta',
    timezone: t.timezone,
    caseSensitive: t['case-sensitive'],
    // DM: empty means loose.
    collationCompatible: t.collation_compatible || 'loose',
    targetDatabase: toDbConfig(t['target-database'], { file, key: 'target-database' }),
    subtasks,
  };
  if (t['ignore-checking-items'].length > 0) config.ignoreCheckingItems = t['ignore-checking-items'];
  const onlineDdl = resolveOnlineDdl(t, src, notes);
  if (onlineDdl) config.onlineDdl = onlineDdl;
  // YAML 1.1 reads `off` as false; DM passes session values as written, so take the source text.
  for (const k of Object.keys(t['target-database'].session)) {
    const text = scalarSource(src, ['target-database', 'session', k]);
    if (text !== undefined) config.targetDatabase.session[sessionVarName(k) ?? k.toLowerCase()] = text;
  }
  return { config, notes };
}

/**
 * is-sharding is DM's deprecated form of shard-mode. When a file writes both and they disagree (is-sharding: false
 * with a shard-mode, or is-sharding: true with shard-mode ""), DM's dmctl refuses it (start-task, check-task) rather
 * than guess which one is meant; so does tsdm, with DM's words.
 */
function checkShardingAlias(t: RawTask, src: YamlSource, issues: ConfigIssue[]): void {
  if (scalarSource(src, ['is-sharding']) === undefined || scalarSource(src, ['shard-mode']) === undefined) return;
  if (t['is-sharding'] === Boolean(t['shard-mode'])) return;
  issues.push({
    name: 'ConfigDeprecatedConflict',
    path: ['is-sharding'],
    message: `is-sharding: ${t['is-sharding']} and shard-mode: "${t['shard-mode']}" disagree. The behaviour of \`is-sharding\` and \`shard-mode\` is conflicting. \`is-sharding\` is deprecated, please use \`shard-mode\` only.`,
  });
}

/** The top-level block-allow-list, or its deprecated alias black-white-list (DM uses it when the new one is empty). */
function resolveBaLists(
  t: RawTask,
  issues: ConfigIssue[],
  notes: ConfigNote[],
  src: YamlSource,
): InstanceCtx['baLists'] {
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
  for (const [name, f] of Object.entries(t.filters))
    out.set(name, resolveFilterRule(name, f, ['filters', name], { src, notes, issues, strict }));
  return out;
}

/**
 * One binlog event filter rule, from a task's `filters.<name>` or a source's `filters[i]` (source-config.ts). An
 * event type DM does not know: a note and undefined (DM drops the rule), or with `strict` an issue.
 */
export function resolveFilterRule(
  name: string,
  f: RawFilter,
  path: (string | number)[],
  ctx: { src: YamlSource; notes: ConfigNote[]; issues: ConfigIssue[]; strict: boolean },
): EventFilterRule | undefined {
  const { src, notes, issues, strict } = ctx;
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
        [...path, 'action'],
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
          path: [...path, 'events', j],
          message,
          suggestion: `Use DM event names: ${DM_EVENT_NAMES.slice(0, 12).join(', ')}, … (docs/configuration.md).`,
        });
      else notes.push(configNote(src, 'dm-compat', [...path, 'events', j], message));
    }
    return undefined;
  }
  return {
    name,
    schemaPattern: f['schema-pattern'],
    tablePattern: f['table-pattern'],
    events,
    sqlPattern: f['sql-pattern'],
    action,
  };
}

function normaliseAction(f: RawFilter): FilterAction {
  const a = f.action.toLowerCase();
  return a === 'do' ? 'Do' : a === 'error' ? 'Error' : 'Ignore';
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
