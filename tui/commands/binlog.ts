import { Bucket, Keys, readStatus, type BinlogOperator, type Coord, type TaskRecord } from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { splitStatements } from '../../src/sql/split.ts';
import { whoAmI } from '../../src/events/record.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { taskNameArg } from './shared.ts';
import { sourceList } from '../dm-aliases.ts';

/**
 * `dmctl binlog skip|replace|inject|list|revert` (DM's handle-error): decide what happens to the binlog event a subtask
 * is paused on (a DDL the downstream rejected, a statement tsdm cannot parse). The decision is stored with the task in
 * dm_tasks; the bound agent applies it when it reaches that position, and retries the paused subtask at once.
 */
export const binlog: Command = {
  name: 'binlog',
  summary: 'skip, replace or inject SQL before the binlog event a task is paused on; list or revert such decisions',
  usage: `
  Usage
    $ dmctl binlog skip TASK [-s SOURCE] [--binlog-pos FILE:POS]
    $ dmctl binlog replace TASK [-s SOURCE] [--binlog-pos FILE:POS] "SQL;[SQL;…]"
    $ dmctl binlog inject TASK [-s SOURCE] [--binlog-pos FILE:POS] "SQL;[SQL;…]"
    $ dmctl binlog list TASK
    $ dmctl binlog revert TASK [-s SOURCE] [--binlog-pos FILE:POS]

  Without --binlog-pos the decision applies to the event the source is paused on now (its error shows the position).
  replace runs the given statements instead of the event, inject runs them before it and then the event itself;
  both go through the task's filters and routing (write them as for the upstream). Statements tsdm skips never reach
  the downstream; nothing is skipped without a decision.

  Flags
    -s, --source SOURCE-ID      the source (needed when the task has several paused sources)
    -b, --binlog-pos FILE:POS   the event's position, as shown in the error (binlog.000001:4512); DM's relay form
                                (mysql-bin|000001.000003:3270) names the same event (mysql-bin.000003:3270)
`,
  flags: { source: { type: 'string', shortFlag: 's' }, binlogPos: { type: 'string', shortFlag: 'b' } },
  async run(ctx, args, flags) {
    const [op, taskArg, ...rest] = args;
    const task = taskArg === undefined ? undefined : taskNameArg(taskArg);
    if (!op || !['skip', 'replace', 'inject', 'list', 'revert'].includes(op))
      throw usageError(`binlog needs skip, replace, inject, list or revert (got ${op ?? 'nothing'})`);
    if (!task) throw usageError(`binlog ${op} needs a task name`);
    const coord = await ctx.coord();
    if (op === 'list') return list(ctx, coord, task);
    let sqls: string[] | undefined;
    if (op === 'replace' || op === 'inject') {
      sqls = splitStatements(rest.join(' '));
      if (sqls.length === 0)
        throw usageError(
          `binlog ${op} needs the SQL to run ${op === 'replace' ? 'instead' : 'first'}, e.g. "ALTER TABLE t ADD COLUMN c INT;"`,
        );
    } else if (rest.length > 0) throw usageError(`binlog ${op} takes no SQL (got ${rest.join(' ')})`);
    const targets = await recordBinlogOp(coord, {
      task,
      op: op as BinlogOpVerb,
      ...(flags.source ? { source: flags.source as string } : {}),
      ...(flags.binlogPos ? { position: flags.binlogPos as string } : {}),
      ...(sqls ? { sqls } : {}),
    });
    if (ctx.flags.json) ctx.json({ result: true, task, op, targets });
    else for (const line of describeBinlogOp(task, op as BinlogOpVerb, targets)) ctx.print(line);
    return Exit.ok;
  },
};

export type BinlogOpVerb = 'skip' | 'replace' | 'inject' | 'revert';

/**
 * `dmctl binlog skip|replace|inject|revert`, as a function (the dashboard's k calls it too): records the decision for the
 * event each named source is paused on (or at `position`) in the task record; the subtask acts on it.
 */
export async function recordBinlogOp(
  coord: Coord,
  req: { task: string; op: BinlogOpVerb; source?: string; position?: string; sqls?: string[] },
): Promise<{ source: string; position: string }[]> {
  const targets = await resolveTargets(coord, req.task, req.source, req.position);
  await updateOps(coord, req.task, (ops) => {
    const keep = ops.filter((o) => !targets.some((t) => t.source === o.source && t.position === o.position));
    if (req.op === 'revert') return keep;
    return [
      ...keep,
      ...targets.map((t) => ({
        ...t,
        op: req.op as Exclude<BinlogOpVerb, 'revert'>,
        ...(req.sqls ? { sqls: req.sqls } : {}),
        createdAt: new Date().toISOString(),
        by: whoAmI(),
      })),
    ];
  });
  return targets;
}

export function describeBinlogOp(
  task: string,
  op: BinlogOpVerb,
  targets: { source: string; position: string }[],
): string[] {
  return targets.map(
    (t) =>
      `${op} recorded for ${task} source ${t.source} at ${t.position}${op === 'revert' ? '' : '; the subtask retries now'}`,
  );
}

async function list(ctx: CommandContext, coord: Coord, task: string): Promise<number> {
  const e = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task));
  if (!e) throw new DmError('TaskNotFound', `task ${task} does not exist`);
  const ops = e.value.binlogOps ?? [];
  if (ctx.flags.json) {
    ctx.json({ result: true, task, operators: ops });
    return Exit.ok;
  }
  if (ops.length === 0) ctx.print(`no binlog decisions for ${task}`);
  for (const o of ops)
    ctx.print(`${o.source}  ${o.position}  ${o.op}${o.sqls ? `  ${o.sqls.join('; ')}` : ''}  (${o.createdAt})`);
  return Exit.ok;
}

/** DM's relay form of a position, `mysql-bin|000001.000003:3270` (relay sub-directory suffix), as the binlog names it. */
export function relayPosition(pos: string): string {
  const m = /^(.+)\|\d+\.(\d+):(\d+)$/.exec(pos);
  return m ? `${m[1]}.${m[2]}:${m[3]}` : pos;
}

async function resolveTargets(
  coord: Coord,
  task: string,
  source: string | undefined,
  pos: string | undefined,
): Promise<{ source: string; position: string }[]> {
  const [view] = await readStatus(coord, task);
  if (!view) throw new DmError('TaskNotFound', `task ${task} does not exist`);
  const wanted = source === undefined ? undefined : sourceList([source]);
  const sources = view.sources.filter((s) => !wanted?.length || wanted.includes(s.source));
  if (source && sources.length === 0) throw new DmError('SourceNotFound', `task ${task} has no source ${source}`);
  if (pos) {
    if (!/^.+:\d+$/.test(pos)) throw usageError(`--binlog-pos must be FILE:POS (got ${pos})`);
    pos = relayPosition(pos);
    if (sources.length !== 1) throw usageError(`task ${task} has several sources: name one with -s`);
    return [{ source: sources[0]!.source, position: pos }];
  }
  const paused = sources.filter((s) => s.error?.context?.position);
  if (paused.length === 0)
    throw new DmError(
      'BinlogPositionInvalid',
      `no source of task ${task}${source ? ` (${source})` : ''} is paused on a binlog event`,
      { suggestion: 'Give the event with --binlog-pos FILE:POS, or check `dmctl query-status`.' },
    );
  return paused.map((s) => ({ source: s.source, position: s.error!.context!.position! }));
}

async function updateOps(coord: Coord, task: string, f: (ops: BinlogOperator[]) => BinlogOperator[]): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const e = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task));
    if (!e) throw new DmError('TaskNotFound', `task ${task} does not exist`);
    const rec: TaskRecord = {
      ...e.value,
      binlogOps: f(e.value.binlogOps ?? []),
      updatedAt: new Date().toISOString(),
      by: whoAmI(),
    };
    if ((await coord.update(Bucket.tasks, Keys.task(task), rec, e.revision)) !== undefined) return;
  }
  throw new DmError('Timeout', `task ${task} kept changing concurrently; retry`);
}
