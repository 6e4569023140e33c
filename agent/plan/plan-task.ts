import type { Connection } from 'mysql2/promise';
import { withSourceRules } from '../../src/config/task-instance.ts';
import { parseSourceConfig, parseTaskConfig } from '../../src/config/index.ts';
import type { SourceConfig, SubtaskSpec, TaskConfig } from '../../src/config/types.ts';
import type {
  CheckTaskRequest,
  PlanSkipped,
  PlanStatement,
  PlanTable,
  PlanTableRef,
  TaskPlanResult,
} from '../../src/coord/index.ts';
import { asDmError, DmError } from '../../src/errors/index.ts';
import { DML_EVENTS } from '../../src/filter/event-filter.ts';
import { connect, query } from '../db/mysql.ts';
import { listTables, loadTableInfo, rowKey } from '../db/schema.ts';
import {
  allowedSchemas,
  chunkColumn,
  databaseStatements,
  migratedTable,
  readCreateTable,
  strictDefaults,
  tableStatement,
} from '../load/dump.ts';
import { buildRules, compileRules, type CompiledRules } from '../rules.ts';
import type { SubtaskRules } from '../unit.ts';
import { assemble, type Found } from './plan-assemble.ts';

/**
 * `dmctl plan` (op plan-task, any agent): what a task would do, from its sources and downstream as they are now,
 * with nothing written anywhere (SELECT and SHOW only, on sessions set read-only where the server allows it).
 * Every decision is asked of the code the task runs: the rules of agent/rules.ts (block-allow list, routes, event
 * and expression filters, extended columns), the dump's table selection and CREATE statements (load/dump.ts), the
 * row key of db/schema.ts. The dump reads its tables under a snapshot lock; the plan reads them as they are.
 */
export async function planTask(req: CheckTaskRequest): Promise<TaskPlanResult> {
  const task = parseTaskConfig(req.yaml, req.file);
  const sources: Record<string, SourceConfig> = {};
  for (const spec of task.subtasks) {
    const s = req.sources[spec.sourceId];
    if (!s) throw new DmError('SourceNotFound', `task ${task.name} uses source ${spec.sourceId}, which does not exist`);
    sources[spec.sourceId] = parseSourceConfig(s.yaml, s.file);
  }
  const found: Found = { tables: [], skipped: [], statements: [], notes: [] };
  for (const spec of task.subtasks) {
    const up = await readOnly(await connect(sources[spec.sourceId]!.from, 'upstream'));
    try {
      await planSource(task, withSourceRules(spec, sources[spec.sourceId], task.caseSensitive), up, found);
    } finally {
      up.destroy();
    }
  }
  const down = await readOnly(await connect(task.targetDatabase, 'downstream'));
  let existing: { schemas: Set<string>; tables: Set<string> };
  try {
    existing = await downstreamNames(down, task.caseSensitive);
  } finally {
    down.destroy();
  }
  return assemble(task, found, existing);
}

/** Only reads: a session that refuses writes where the server has the setting (a defence; nothing here writes). */
async function readOnly(c: Connection): Promise<Connection> {
  await c.query('SET SESSION TRANSACTION READ ONLY').catch(() => undefined);
  return c;
}

async function planSource(task: TaskConfig, spec: SubtaskSpec, up: Connection, found: Found): Promise<void> {
  const source = spec.sourceId;
  const compiled = compileRules(task, spec);
  const rules = buildRules(task, spec, undefined, compiled);
  const dumps = task.taskMode !== 'incremental';
  const strict = dumps ? await strictDefaults(task, up) : undefined;
  const nextDb = databaseStatements(up, strict);
  const estimates = await rowEstimates(up);
  const statement = (s: Omit<PlanStatement, 'source'>) => found.statements.push({ source, ...s });
  for (const t of await listTables(up, 'upstream')) {
    const ref: PlanTableRef = { source, schema: t.schema, table: t.table };
    if (!migratedTable(rules, t.schema, t.table)) {
      found.skipped.push({ ...ref, reason: skipReason(compiled, rules, t.schema, t.table) });
      continue;
    }
    let target: { schema: string; table: string };
    try {
      target = rules.route(t.schema, t.table);
    } catch (err) {
      found.skipped.push({ ...ref, reason: `the task pauses on it: ${asDmError(err).message}` });
      continue;
    }
    const info = await loadTableInfo(up, 'upstream', t.schema, t.table);
    if (!info) continue; // dropped while we read
    const key = rowKey(info);
    const ext = rules.extendColumns(t.schema, t.table);
    const route = compiled.router.ruleFor(t.schema, t.table);
    const allowedBy = compiled.bal.decide(t.schema, compiled.online?.realName(t.table) ?? t.table).reason;
    const dml = Object.fromEntries(
      DML_EVENTS.map((ev) => {
        const d = rules.eventAction(t.schema, t.table, ev);
        return [ev, { action: d.action, ...(d.rule ? { rule: d.rule } : {}) }];
      }),
    ) as PlanTable['dml'];
    const planned: PlanTable = {
      ...ref,
      target,
      ...(route ? { route } : {}),
      mergedWith: [],
      ...(allowedBy ? { allowedBy } : {}),
      eventFilters: compiled.filter.rulesOn(t.schema, t.table).map((r) => ({
        rule: r.name,
        action: r.action,
        events: r.events,
        sqlPattern: r.sqlPattern,
      })),
      dml,
      expressionFilters: compiled.exprs.describe(t.schema, t.table),
      ...(ext ? { extendedColumns: Object.fromEntries(ext.columns.map((c, i) => [c, ext.values[i] ?? ''])) } : {}),
      key: {
        kind: key.length === 0 ? 'none' : key === info.primaryKey ? 'primary' : 'unique',
        columns: key,
      },
      chunkColumn: chunkColumn(info),
      rowEstimate: estimates.get(`${t.schema}\0${t.table}`) ?? 0,
    };
    found.tables.push(planned);
    if (!dumps) continue;
    const db = await nextDb(t.schema, target.schema);
    if (db) statement({ kind: 'database', upstream: { schema: t.schema }, target: { schema: target.schema }, sql: db });
    statement({
      kind: 'table',
      upstream: { schema: t.schema, table: t.table },
      target,
      sql: tableStatement(await readCreateTable(up, t), target, strict),
    });
  }
  if (!dumps) return;
  for (const name of await allowedSchemas(up, spec, rules)) {
    const target = rules.routeSchema(name);
    const db = await nextDb(name, target);
    if (db) statement({ kind: 'database', upstream: { schema: name }, target: { schema: target }, sql: db });
  }
  if (spec.dump.where) found.notes.push(`${source}: the dump copies only rows where ${spec.dump.where}`);
}

/** Why the dump leaves a table out: an online-DDL tool's table, or the block-allow list's rule. */
function skipReason(compiled: CompiledRules, rules: SubtaskRules, schema: string, table: string): string {
  const type = rules.onlineTableType(table);
  if (type !== 'real')
    return `online-ddl ${type === 'ghost' ? 'shadow' : 'trash'} table of ${compiled.online?.realName(table) ?? table}: its rows are never migrated`;
  const d = compiled.bal.decide(schema, compiled.online?.realName(table) ?? table);
  return `block-allow-list: ${d.reason ?? 'blocked'}`;
}

async function rowEstimates(up: Connection): Promise<Map<string, number>> {
  const rows = await query<Record<string, string | number | null>[]>(
    up,
    'upstream',
    `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'
       AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')`,
  );
  return new Map(rows.map((r) => [`${r.TABLE_SCHEMA}\0${r.TABLE_NAME}`, Number(r.TABLE_ROWS ?? 0)]));
}

async function downstreamNames(
  down: Connection,
  caseSensitive: boolean,
): Promise<{ schemas: Set<string>; tables: Set<string> }> {
  const fold = (s: string) => (caseSensitive ? s : s.toLowerCase());
  const schemas = await query<Record<string, string>[]>(
    down,
    'downstream',
    'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA',
  );
  const tables = await query<Record<string, string>[]>(
    down,
    'downstream',
    "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
  );
  return {
    schemas: new Set(schemas.map((r) => fold(String(r.SCHEMA_NAME)))),
    tables: new Set(tables.map((r) => fold(`${r.TABLE_SCHEMA}\0${r.TABLE_NAME}`))),
  };
}

export type { PlanSkipped };
