import { encryptYamlPasswords, TASK_PASSWORD_PATHS } from '../../src/config/secret.ts';
import {
  Op,
  Subjects,
  type CheckTaskRequest,
  type Coord,
  type PlanStatement,
  type PlanTable,
  type PlanTableRef,
  type TaskPlanResult,
} from '../../src/coord/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { opRequest, readConfigFile } from './shared.ts';
import { taskSourceFiles } from './task-precheck.ts';

/**
 * The plan of a task file, made by an agent (op plan-task: agents are the ones that reach the databases; dmctl never
 * opens a database connection). The request carries the task file and its sources' stored files, as check-task's.
 */
export async function requestPlan(
  ctx: CommandContext,
  coord: Coord,
  yaml: string,
  file: string,
): Promise<TaskPlanResult> {
  const sources = await taskSourceFiles(coord, yaml, file);
  return opRequest<TaskPlanResult>(
    coord,
    Subjects.anyOp(ctx.flags.cluster, Op.planTask),
    { yaml, file, sources } satisfies CheckTaskRequest,
    ctx.flags.timeout,
  );
}

const name = (r: PlanTableRef) => `${r.source}:${r.schema}.${r.table}`;
const target = (t: { schema: string; table?: string }) => (t.table === undefined ? t.schema : `${t.schema}.${t.table}`);

function describeTable(t: PlanTable): string[] {
  const out = [`${name(t)} -> ${target(t.target)}${t.route ? `  (route ${t.route})` : '  (no route: name kept)'}`];
  if (t.mergedWith.length) out.push(`  merged with: ${t.mergedWith.map(name).join(', ')}`);
  if (t.allowedBy) out.push(`  block-allow-list: ${t.allowedBy}`);
  if (t.eventFilters.length) {
    const rules = t.eventFilters.map(
      (f) =>
        `${f.rule} (${f.action}${f.events.length ? ` ${f.events.join(', ')}` : ''}${f.sqlPattern.length ? `; sql ${f.sqlPattern.join(' | ')}` : ''})`,
    );
    out.push(`  event filters: ${rules.join('; ')}`);
  }
  const dml = (['insert', 'update', 'delete'] as const)
    .filter((e) => t.dml[e].action !== 'Do')
    .map((e) => `${e} ${t.dml[e].action}${t.dml[e].rule ? ` by ${t.dml[e].rule}` : ''}`);
  if (dml.length) out.push(`  binlog rows: ${dml.join(', ')} (other row changes replicate)`);
  for (const x of t.expressionFilters) out.push(`  expression filter ${x.rule}: ${x.key}: ${x.expr}`);
  if (t.extendedColumns)
    out.push(
      `  extended columns: ${Object.entries(t.extendedColumns)
        .map(([c, v]) => `${c}='${v}'`)
        .join(', ')}`,
    );
  out.push(
    `  key: ${t.key.kind === 'none' ? 'none' : `${t.key.kind} (${t.key.columns.join(', ')})`}; ${t.chunkColumn ? `dump chunks on ${t.chunkColumn}` : 'dumped as one chunk'}; ~${t.rowEstimate} rows`,
  );
  if (t.keyNote) out.push(`  ${t.keyNote}`);
  return out;
}

function describeStatement(s: PlanStatement): string[] {
  if (s.noop) return [`-- [${s.source}] ${target(s.target)}: does nothing (${s.noop})`];
  return [`-- [${s.source}] ${s.kind} ${target(s.target)} from ${target(s.upstream)}`, `${s.sql};`];
}

/** The plan as text: tables, skipped tables, the statements the dump runs first, notes. */
export function renderPlan(p: TaskPlanResult): string {
  const out: string[] = [
    `task ${p.task}: task-mode ${p.taskMode}${p.shardMode ? `, shard-mode ${p.shardMode}` : ''}; ${p.tables.length} table(s) to ${p.targets.length} target(s), ${p.skipped.length} skipped`,
    '',
    'Tables',
  ];
  for (const t of p.tables) out.push(...describeTable(t).map((l) => `  ${l}`));
  if (p.tables.length === 0) out.push('  (none: nothing passes the rules)');
  out.push('', 'Targets');
  for (const g of p.targets)
    out.push(
      `  ${target(g)}: ${g.exists ? 'exists downstream' : g.createdBy ? `created from ${name({ source: g.createdBy.source, schema: g.createdBy.upstream.schema, table: g.createdBy.upstream.table ?? '' })}` : 'not created by the task'}; from ${g.from.map(name).join(', ')}`,
    );
  if (p.skipped.length) {
    out.push('', 'Skipped');
    for (const s of p.skipped) out.push(`  ${name(s)}: ${s.reason}`);
  }
  if (p.statements.length) {
    out.push('', 'Run downstream first (by the dump, in this order per source; sources run in parallel)');
    for (const s of p.statements) out.push(...describeStatement(s));
  }
  if (p.notes.length) {
    out.push('', 'Notes');
    for (const n of p.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}

export const plan: Command = {
  name: 'plan',
  summary: 'show what a task file would do (routes, rules, keys, the DDL run first) without starting it',
  usage: `
  Usage
    $ dmctl plan TASK.yaml

  Prints, for every upstream table of the task's sources: its target table (and the shards merged into it), the
  route, block-allow list entry, binlog event filters, expression filters and extended columns that apply, its row
  key (primary key, else a unique key over NOT NULL columns; what tsdm does without one) and row estimate
  (information_schema); the tables left out and why; and the CREATE DATABASE / CREATE TABLE statements the dump
  runs downstream before loading, as it would issue them (a statement that would do nothing says why).

  An agent makes the plan (any agent; dmctl itself never connects to a database): it connects to the sources and
  the downstream from the host it runs on, as check-task does, and only reads (SELECT and SHOW, on read-only
  sessions). Nothing is written to the databases or to the cluster. The plan shows the tables as they are now;
  the task works from its snapshot when it starts. Also: dmctl check-task TASK.yaml --plan. The agent reads each
  table's columns and keys, so a source with thousands of tables may need a longer --timeout (e.g. 60).
  Exit code 0 with a plan, 1 when it cannot be made (a source or the downstream unreachable), 3 when no agent
  answers within --timeout.

  With --json: { result, plan } where plan is { task, taskMode, shardMode, tables[], skipped[], targets[],
  statements[], notes[] } (docs/commands.md describes each field).
`,
  async run(ctx, args) {
    const [file] = args;
    if (!file) throw usageError('plan needs a task file');
    const yaml = encryptYamlPasswords(readConfigFile(file), TASK_PASSWORD_PATHS, ctx.secretKey());
    const p = await requestPlan(ctx, await ctx.coord(), yaml, file);
    if (ctx.flags.json) ctx.json({ result: true, plan: p });
    else ctx.print(renderPlan(p));
    return Exit.ok;
  },
};
