import {
  Bucket,
  Keys,
  type Coord,
  type DesiredStage,
  type TaskPlanResult,
  type TaskRecord,
} from '../../src/coord/index.ts';
import { precheck, readTask, limitsOf, reportJson } from './task-precheck.ts';
export { startTask } from './task-start.ts';
import { DmError } from '../../src/errors/index.ts';
import { buildReport, printReport } from './task-report.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { whoAmI } from '../../src/events/record.ts';
import { taskNameArg } from './shared.ts';

export const checkTask: Command = {
  name: 'check-task',
  summary: 'run the prechecks of a task file without starting it',
  usage: `
  Usage
    $ dmctl check-task TASK.yaml [--plan] [--error N] [--warn N] [--start-time TIME]

  Validates the file, then an agent checks every source (connection, binlog_format=ROW, binlog_row_image=FULL,
  server_id, privileges, an incremental task's meta position), the downstream, the connections the task opens
  against each server's max_connections, and shard tables or tables routed to one target. WARN lines do not fail;
  they include the DM keys of the file that tsdm accepts without effect (file:line key: why).
  Exit code 0 when every check passes, 1 otherwise.

  Flags
    --plan               also print what the task would do (dmctl plan; with --json, in the document's \`plan\`)
    -e, --error N        show at most N failed checks (default 10); the rest are counted
    -w, --warn N         show at most N warnings (default 10); the rest are counted
    --start-time TIME    check that each source has binlog from TIME on (see start-task --help)
`,
  flags: {
    plan: { type: 'boolean' },
    error: { type: 'number', shortFlag: 'e' },
    warn: { type: 'number', shortFlag: 'w' },
    startTime: { type: 'string' },
  },
  async run(ctx, args, flags) {
    const [file] = args;
    if (!file) throw usageError('check-task needs a task file');
    const limits = limitsOf(flags);
    const { yaml, notes, time } = readTask(ctx, file, flags.startTime);
    const res = await precheck(ctx, await ctx.coord(), yaml, file, time);
    const report = buildReport(res, notes, limits);
    const plan = flags.plan ? await withPlan(ctx, yaml, file) : undefined;
    if (ctx.flags.json) ctx.json({ result: res.ok, ...reportJson(report), ...(plan ? { plan } : {}) });
    else {
      printReport(res.ok ? ctx.out : ctx.err, report, notes);
      if (plan) ctx.print(`\n${(await import('./plan.ts')).renderPlan(plan)}`);
    }
    return res.ok ? Exit.ok : Exit.failed;
  },
};

/** check-task --plan: dmctl plan's document (plan.ts, loaded only with the flag). */
async function withPlan(ctx: CommandContext, yaml: string, file: string): Promise<TaskPlanResult> {
  return (await import('./plan.ts')).requestPlan(ctx, await ctx.coord(), yaml, file);
}

export interface StageChange {
  task: string;
  stage: DesiredStage;
  sources: string[];
  only: boolean;
}

/**
 * The one place a task's desired stage changes: `pause-task`, `resume-task`, `stop-task` and the dashboard's
 * p / r / s all come through here. CAS on the task record (retried on a concurrent change); with `only`, just those
 * sources get the stage (a per-source override), otherwise the task's stage is set and overrides are dropped.
 */
export async function changeTaskStage(
  coord: Coord,
  taskName: string,
  stage: DesiredStage,
  only: string[] = [],
): Promise<StageChange> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const e = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(taskName));
    if (!e) throw new DmError('TaskNotFound', `task ${taskName} does not exist`);
    for (const s of only)
      if (!e.value.sources.includes(s)) throw new DmError('SourceNotFound', `task ${taskName} has no source ${s}`);
    if (stage !== 'Stopped' && e.value.stage === 'Stopped')
      throw new DmError('TaskNotFound', `task ${taskName} is stopped; start it with start-task`);
    const rec: TaskRecord = { ...e.value, updatedAt: new Date().toISOString(), by: whoAmI() };
    if (only.length > 0) {
      rec.sourceStages = { ...(rec.sourceStages ?? {}) };
      for (const s of only) rec.sourceStages[s] = stage;
    } else {
      rec.stage = stage;
      delete rec.sourceStages;
    }
    if ((await coord.update(Bucket.tasks, Keys.task(taskName), rec, e.revision)) !== undefined) {
      return { task: taskName, stage, sources: only.length ? only : e.value.sources, only: only.length > 0 };
    }
  }
  throw new DmError('Timeout', `task ${taskName} kept changing concurrently; retry`);
}

/** The text both the CLI and the dashboard's status line show for a stage change. */
export function describeStageChange(r: StageChange): string {
  return `task ${r.task}: ${r.stage}${r.only ? ` (${r.sources.join(', ')})` : ''}`;
}

function stageCommand(name: string, stage: DesiredStage, summary: string): Command {
  return {
    name,
    summary,
    usage: `
  Usage
    $ dmctl ${name} TASK-NAME [-s SOURCE-ID ...]      (TASK-NAME: the name, or the task's file)

  Flags
    -s, --source SOURCE-ID   only these sources of the task (repeatable)
`,
    flags: { source: { type: 'string', shortFlag: 's', isMultiple: true } },
    async run(ctx, args, flags) {
      const taskName = args[0] === undefined ? undefined : taskNameArg(args[0]);
      if (!taskName) throw usageError(`${name} needs a task name`);
      const res = await changeTaskStage(
        await ctx.coord(),
        taskName,
        stage,
        (flags.source as string[] | undefined) ?? [],
      );
      if (ctx.flags.json) ctx.json({ result: true, task: res.task, stage: res.stage, sources: res.sources });
      else ctx.print(describeStageChange(res));
      return Exit.ok;
    },
  };
}

export const pauseTask = stageCommand(
  'pause-task',
  'Paused',
  'pause a task (its checkpoints stay; resume-task continues)',
);
export const resumeTask = stageCommand(
  'resume-task',
  'Running',
  'resume a paused task (also retries a task paused by an error)',
);
export const stopTask = stageCommand(
  'stop-task',
  'Stopped',
  'stop a task (start-task resumes it from its checkpoints)',
);
