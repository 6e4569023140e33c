import type { SourceConfig, TaskConfig } from '../../src/config/types.ts';
import { DML_EVENTS } from '../../src/filter/event-filter.ts';
import { tableKey } from '../../src/sql/table-name.ts';
import { connect } from '../db/mysql.ts';
import { listTables } from '../db/schema.ts';
import { buildRules } from '../rules.ts';
import type { ShardSide, TablePlan } from './types.ts';

/** A target table to compare, or why its downstream is meant to differ from its upstream tables. */
export interface PlannedTable extends TablePlan {
  /** `schema.table` of the target. */
  name: string;
  /** The rule that makes the downstream differ on purpose (then the table is reported not comparable). */
  notComparable?: string;
}

/**
 * The tables check-data compares, as the task maps them (the same rules dump, load and sync apply: agent/rules.ts):
 * every upstream table the block/allow list lets through (not online-DDL shadow or trash tables), routed to its
 * target; several upstream tables routed to one target (a shard merge, across sources too) are one plan whose
 * upstream side is their union, each with its extended-column constants. A table whose copy is partial or altered
 * on purpose — an event filter that ignores a DML type, an expression filter, a dump `where` — is not comparable,
 * with the rule named.
 */
export async function planTables(
  task: TaskConfig,
  sources: Map<string, SourceConfig>,
  only?: string[],
): Promise<PlannedTable[]> {
  const byTarget = new Map<string, PlannedTable>();
  const fold = (s: string) => (task.caseSensitive ? s : s.toLowerCase());
  for (const spec of task.subtasks) {
    const source = sources.get(spec.sourceId);
    if (!source) throw new Error(`source ${spec.sourceId} of task ${task.name} is not known`);
    const rules = buildRules(task, spec);
    const conn = await connect(source.from, 'upstream');
    let tables: { schema: string; table: string }[];
    try {
      tables = await listTables(conn, 'upstream');
    } finally {
      conn.destroy();
    }
    for (const { schema, table } of tables) {
      if (!rules.allowTable(schema, table) || rules.onlineTableType(table) !== 'real') continue;
      const target = rules.route(schema, table);
      const name = `${tableKey(target)}`;
      if (only && !only.includes(name)) continue;
      const ext = rules.extendColumns(schema, table);
      const constants: Record<string, string> = {};
      if (ext) ext.columns.forEach((c, i) => (constants[c] = ext.values[i] ?? ''));
      const side: ShardSide = { source: spec.sourceId, schema, table, constants };
      const plan = byTarget.get(name) ?? { name, target, shards: [] };
      plan.shards.push(side);
      const why = notComparable(spec, rules, schema, table, fold);
      if (why && !plan.notComparable) plan.notComparable = why;
      byTarget.set(name, plan);
    }
  }
  return [...byTarget.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function notComparable(
  spec: TaskConfig['subtasks'][number],
  rules: ReturnType<typeof buildRules>,
  schema: string,
  table: string,
  fold: (s: string) => string,
): string | undefined {
  const where = `${spec.sourceId}:${schema}.${table}`;
  for (const ev of DML_EVENTS) {
    const d = rules.eventAction(schema, table, ev);
    if (d.action === 'Ignore')
      return `filter rule ${d.rule ?? '?'} ignores ${ev} events of ${where}: the downstream keeps rows the upstream changed`;
  }
  const expr = spec.exprFilters.find((r) => fold(r.schema) === fold(schema) && fold(r.table) === fold(table));
  if (expr) return `expression filter ${expr.name} skips rows of ${where}`;
  if (spec.dump.where) return `the dump's where (${spec.dump.where}) copies only part of ${where}`;
  return undefined;
}
