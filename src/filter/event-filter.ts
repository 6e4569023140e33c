import type { EventFilterRule, FilterAction } from '../config/types.ts';
import { DmError } from '../errors/index.ts';
import { compilePattern, type NameMatcher } from './pattern.ts';
import { compileRe2 } from './re2.ts';

/**
 * DM's binlog event filter (tiflow `pkg/binlog-filter`, `BinlogEvent.Filter`), reproduced rule for rule.
 *
 * Which rules apply: a rule whose table-pattern is empty is schema-level and applies to every event of a
 * matching schema, tables and the schema itself; a table-level rule applies to events of matching tables,
 * and to schema-level events (table '') only if its table-pattern matches '' (i.e. `*`), as DM's trie does.
 * Schema-level rules are evaluated before table-level ones, each group in configuration order.
 *
 * How they decide (order matters, the first decisive rule wins, then `Do`):
 *   - event part (skipped when there is no event type, DM's NullEvent): if the rule's events match the event,
 *     Ignore -> Ignore, Error -> Error (a matching Do rule lets evaluation continue); if they do not match and
 *     the rule is Do -> Ignore (a Do rule is an allow-list).
 *   - sql part (only when a query text is given and the rule has sql-patterns): the same, with "some
 *     sql-pattern matches the query" instead of "events match". Patterns are Go regexes, case-insensitive,
 *     unanchored (DM: `regexp.Compile("(?i)" + join(patterns, "|"))`).
 *   So Ignore/Error beat Do, and a Do rule with events and sql-patterns needs both to match.
 * Event matching walks the rule's list in order: `all` -> match, `none` -> no match (immediately, whatever
 * follows), `all ddl`/`none ddl` for DDL, `all dml`/`none dml` for DML, `incompatible ddl changes` for DM's
 * incompatible DDL group, or the event's own name. Names are case-insensitive; `create schema`,
 * `drop schema`, `alter schema` are aliases; DM has no bare `truncate` (it is `truncate table`), tsdm rejects
 * it with a hint rather than ignore the rule.
 *
 * Differences from DM, on purpose:
 *   - DM logs and DROPS a rule it cannot load (unknown event, duplicate schema/table pattern pair); we throw
 *     DmError('ConfigInvalid'), since a silently ignored filter replicates what the user meant to filter.
 *   - DM splits an ALTER TABLE into one statement per clause and filters each; tsdm runs it as one statement (a
 *     MySQL/MariaDB downstream applies it atomically) but filters it clause by clause the same way, each clause
 *     with DM's event for it (filter/ddl-events.ts): an Ignore drops that clause, an Error stops the statement.
 *     sql-patterns see the whole statement as logged, for each clause (as DM, which passes its originSQL).
 *   - Patterns may be `~regex` (DM's binlog filter only knows wildcards).
 */

export const DML_EVENTS = ['insert', 'update', 'delete'] as const;

/** DDL events DM classifies as compatible (matched by `all ddl`). */
export const DDL_EVENTS = [
  'create database',
  'alter database',
  'create table',
  'create index',
  'create view',
  'drop view',
  'alter table',
  'add table partition',
] as const;

/** DDL events DM classifies as incompatible (matched by `all ddl` and `incompatible ddl changes`). */
export const INCOMPATIBLE_DDL_EVENTS = [
  'drop database',
  'drop table',
  'drop index',
  'rename table',
  'truncate table',
  'drop table partition',
  'truncate table partition',
  'value range decrease',
  'precision decrease',
  'modify column',
  'rename column',
  'rename index',
  'drop column',
  'drop primary key',
  'drop unique key',
  'modify default value',
  'modify constraint',
  'modify columns order',
  'modify charset',
  'modify collation',
  'remove auto increment',
  'modify storage engine',
  'reorganize table partition',
  'rebuild table partition',
  'coalesce table partition',
  'split table partition',
  'exchange table partition',
  'add foreign key',
  'drop foreign key',
  'modify schema charset and collate',
  'modify table charset and collate',
  'modify table comment',
  'recover table',
  'alter table partitioning',
  'remove table partitioning',
  'add column',
  'set default value',
  'rebase auto id',
  'add primary key',
  'alter index visibility',
  'alter ttl info',
  'alter ttl remove',
  'multi schema change',
] as const;

/** Rule-only keywords that name groups of events. */
export const EVENT_GROUPS = [
  'all',
  'all dml',
  'all ddl',
  'none',
  'none dml',
  'none ddl',
  'incompatible ddl changes',
] as const;

export const EVENT_ALIASES: Readonly<Record<string, DmEventType>> = {
  'create schema': 'create database',
  'drop schema': 'drop database',
  'alter schema': 'alter database',
};

/** The type of one binlog event or DDL statement. */
export type DmEventType =
  | (typeof DML_EVENTS)[number]
  | (typeof DDL_EVENTS)[number]
  | (typeof INCOMPATIBLE_DDL_EVENTS)[number];
/** What a rule's `events` list may contain (after lower-casing and alias resolution). */
export type DmEventName = DmEventType | (typeof EVENT_GROUPS)[number];

export const DM_EVENT_TYPES: readonly DmEventType[] = [...DML_EVENTS, ...DDL_EVENTS, ...INCOMPATIBLE_DDL_EVENTS];
/** Every name accepted in a rule's `events` (aliases included). */
export const VALID_EVENT_NAMES: readonly string[] = [...DM_EVENT_TYPES, ...EVENT_GROUPS, ...Object.keys(EVENT_ALIASES)];

export type EventClass = 'dml' | 'ddl' | 'incompatible ddl';

const CLASS = new Map<string, EventClass>([
  ...DML_EVENTS.map((e) => [e, 'dml'] as const),
  ...DDL_EVENTS.map((e) => [e, 'ddl'] as const),
  ...INCOMPATIBLE_DDL_EVENTS.map((e) => [e, 'incompatible ddl'] as const),
]);
const GROUPS = new Set<string>(EVENT_GROUPS);

export function classifyEvent(e: DmEventType): EventClass {
  const c = CLASS.get(e);
  if (c === undefined) throw new DmError('Internal', `unknown binlog event type \`${e}\``);
  return c;
}

/** Lower-cases and resolves aliases; '' (DM's NullEvent) gives null; an unknown name throws ConfigInvalid. */
export function normalizeEventName(name: string, ruleName = ''): DmEventName | null {
  const n = name.trim().toLowerCase().replace(/\s+/g, ' ');
  if (n === '') return null;
  if (CLASS.has(n) || GROUPS.has(n)) return n as DmEventName;
  const alias = EVENT_ALIASES[n];
  if (alias) return alias;
  const hint = n === 'truncate' ? ' (did you mean `truncate table`?)' : '';
  throw new DmError('ConfigInvalid', `filter rule ${ruleName}: unknown event \`${name}\`${hint}`, {
    suggestion: `Use DM's event names: ${VALID_EVENT_NAMES.join(', ')}.`,
  });
}

export interface FilterDecision {
  action: FilterAction;
  /** The rule that decided; absent for the default Do. */
  rule?: string;
}

interface CompiledRule {
  rule: EventFilterRule;
  schema: NameMatcher;
  table?: NameMatcher;
  events: DmEventName[];
  sql: RegExp[];
}

export class EventFilter {
  private readonly schemaRules: CompiledRule[] = [];
  private readonly tableRules: CompiledRule[] = [];
  private readonly cache = new Map<string, CompiledRule[]>();

  constructor(rules: EventFilterRule[], caseSensitive: boolean) {
    const seen = new Map<string, string>();
    for (const rule of rules) {
      if (rule.schemaPattern === '') {
        throw new DmError('ConfigBadPattern', `filter rule ${rule.name}: schema-pattern cannot be empty`);
      }
      if (rule.action !== 'Do' && rule.action !== 'Ignore' && rule.action !== 'Error') {
        throw new DmError(
          'ConfigInvalid',
          `filter rule ${rule.name}: action must be Do, Ignore or Error, not \`${String(rule.action)}\``,
        );
      }
      const key = caseSensitive
        ? `${rule.schemaPattern}\0${rule.tablePattern}`
        : `${rule.schemaPattern}\0${rule.tablePattern}`.toLowerCase();
      const other = seen.get(key);
      if (other !== undefined) {
        throw new DmError(
          'ConfigInvalid',
          `filter rules ${other} and ${rule.name} have the same schema-pattern and table-pattern`,
          {
            suggestion: 'Merge them into one rule (DM would silently keep only the first one).',
          },
        );
      }
      seen.set(key, rule.name);
      const c: CompiledRule = {
        rule,
        schema: compilePattern(rule.schemaPattern, caseSensitive),
        events: rule.events.map((e) => normalizeEventName(e, rule.name)).filter((e): e is DmEventName => e !== null),
        sql: rule.sqlPattern.map((p) => compileRe2(p, true)),
      };
      if (rule.tablePattern === '') this.schemaRules.push(c);
      else {
        c.table = compilePattern(rule.tablePattern, caseSensitive);
        this.tableRules.push(c);
      }
    }
  }

  /**
   * Decides what to do with one event on `schema`.`table` (table '' for database statements).
   * `eventType` null = no event type (DM's NullEvent: only sql-patterns apply, e.g. for a statement that
   * could not be classified); an array = an ALTER TABLE with several kinds of change. `sql` = the query text
   * of a Query event (never given for row events).
   */
  check(
    schema: string,
    table: string,
    eventType: DmEventType | readonly DmEventType[] | null,
    sql?: string,
  ): FilterAction {
    return this.decide(schema, table, eventType, sql).action;
  }

  /** check(), also naming the rule that decided (none when no rule did: Do). */
  decide(
    schema: string,
    table: string,
    eventType: DmEventType | readonly DmEventType[] | null,
    sql?: string,
  ): FilterDecision {
    const events: readonly DmEventType[] =
      eventType === null ? [] : typeof eventType === 'string' ? [eventType] : eventType;
    const classes = events.map(classifyEvent);
    for (const r of this.rulesFor(schema, table)) {
      const rule = r.rule.name;
      if (events.length > 0) {
        const matched = events.some((e, i) => matchEvent(r.events, e, classes[i]!));
        if (matched && r.rule.action !== 'Do') return { action: r.rule.action, rule };
        if (!matched && r.rule.action === 'Do') return { action: 'Ignore', rule };
      }
      if (sql !== undefined && sql !== '' && r.sql.length > 0) {
        const matched = r.sql.some((re) => re.test(sql));
        if (matched && r.rule.action !== 'Do') return { action: r.rule.action, rule };
        if (!matched && r.rule.action === 'Do') return { action: 'Ignore', rule };
      }
    }
    return { action: 'Do' };
  }

  /** The rules that apply to events of this table (schema-level first, as decide() reads them), for `dmctl plan`. */
  rulesOn(schema: string, table: string): EventFilterRule[] {
    return this.rulesFor(schema, table).map((r) => r.rule);
  }

  private rulesFor(schema: string, table: string): CompiledRule[] {
    const key = `${schema}\0${table}`;
    let rules = this.cache.get(key);
    if (rules === undefined) {
      rules = [
        ...this.schemaRules.filter((r) => r.schema(schema)),
        ...this.tableRules.filter((r) => r.schema(schema) && r.table!(table)),
      ];
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(key, rules);
    }
    return rules;
  }
}

/** DM's `matchEvent`: the rule's list is read in order and the first decisive entry wins. */
function matchEvent(ruleEvents: readonly DmEventName[], event: DmEventType, cls: EventClass): boolean {
  const isDdl = cls !== 'dml';
  for (const r of ruleEvents) {
    if (r === 'all') return true;
    if (r === 'none') return false;
    if (isDdl && r === 'all ddl') return true;
    if (isDdl && r === 'none ddl') return false;
    if (cls === 'dml' && r === 'all dml') return true;
    if (cls === 'dml' && r === 'none dml') return false;
    if (cls === 'incompatible ddl' && r === 'incompatible ddl changes') return true;
    if (r === event) return true;
  }
  return false;
}
