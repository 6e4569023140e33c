import { parseTaskConfig } from '../../src/config/index.ts';
import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type CheckResult,
  type CheckTaskRequest,
  type Coord,
  type DesiredStage,
  type SourceRecord,
  type TaskRecord,
  type TaskPlanResult,
} from '../../src/coord/index.ts';
import { DmError, formatRecord } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { opRequest, readConfigFile } from './shared.ts';
import { encryptYamlPasswords, TASK_PASSWORD_PATHS } from '../../src/config/secret.ts';
import { whoAmI } from '../../src/events/record.ts';

async function precheck(ctx: CommandContext, coord: Coord, yaml: string, file: string): Promise<CheckResult> {
  const task = parseTaskConfig(yaml, file);
  const sources: CheckTaskRequest['sources'] = {};
  for (const s of task.subtasks) {
    const e = await coord.get<SourceRecord>(Bucket.sources, Keys.source(s.sourceId));
    if (!e)
      throw new DmError('SourceNotFound', `task ${task.name} uses source ${s.sourceId}, which does not exist`, {
        context: { file },
      });
    sources[s.sourceId] = { yaml: e.value.yaml, file: e.value.file };
  }
  return opRequest<CheckResult>(
    coord,
    Subjects.anyOp(ctx.flags.cluster, Op.checkTask),
    { yaml, file, sources } satisfies CheckTaskRequest,
    ctx.flags.timeout,
  );
}

function printCheck(ctx: CommandContext, res: CheckResult, stream: NodeJS.WritableStream = ctx.out): void {
  for (const i of res.items)
    stream.write(
      `${i.ok ? (i.warning ? 'WARN' : 'ok  ') : 'FAIL'} ${i.name}${i.source ? ` (${i.source})` : ''}${i.error ? `\n     ${formatRecord(i.error).split('\n').join('\n     ')}` : ''}${i.warning ? `\n     ${i.warning}` : ''}\n`,
    );
}

/** The warnings of passed checks, for `--json` (`warnings`: one string each, as the WARN lines say them). */
function warningsOf(res: CheckResult): string[] {
  return res.items
    .filter((i) => i.ok && i.warning)
    .map((i) => `${i.name}${i.source ? ` (${i.source})` : ''}: ${i.warning}`);
}

export const checkTask: Command = {
  name: 'check-task',
  summary: 'run the prechecks of a task file without starting it',
  usage: `
  Usage
    $ dmctl check-task TASK.yaml [--plan]

  Validates the file, then an agent checks every source (connection, binlog_format=ROW, binlog_row_image=FULL,
  server_id, privileges, an incremental task's meta position), the downstream, the connections the task opens
  against each server's max_connections, and shard tables or tables routed to one target. WARN lines do not fail.
  Exit code 0 when every check passes, 1 otherwise.

  Flags
    --plan   also print what the task would do (dmctl plan; with --json, in the document's \`plan\`)
`,
  flags: { plan: { type: 'boolean' } },
  async run(ctx, args, flags) {
    const [file] = args;
    if (!file) throw usageError('check-task needs a task file');
    const yaml = encryptYamlPasswords(readConfigFile(file), TASK_PASSWORD_PATHS, ctx.secretKey());
    const res = await precheck(ctx, await ctx.coord(), yaml, file);
    const plan = flags.plan ? await withPlan(ctx, yaml, file) : undefined;
    if (ctx.flags.json)
      ctx.json({ result: res.ok, checks: res.items, warnings: warningsOf(res), ...(plan ? { plan } : {}) });
    else {
      printCheck(ctx, res, res.ok ? ctx.out : ctx.err);
      if (plan) ctx.print(`\n${(await import('./plan.ts')).renderPlan(plan)}`);
    }
    return res.ok ? Exit.ok : Exit.failed;
  },
};

/** check-task --plan: dmctl plan's document (plan.ts, loaded only with the flag). */
async function withPlan(ctx: CommandContext, yaml: string, file: string): Promise<TaskPlanResult> {
  return (await import('./plan.ts')).requestPlan(ctx, await ctx.coord(), yaml, file);
}

export const startTask: Command = {
  name: 'start-task',
  summary: 'start a task (full dump+load and/or incremental sync, by task-mode)',
  usage: `
  Usage
    $ dmctl start-task TASK.yaml [--remove-meta]

  Validates the file, runs the prechecks, then records the task as Running; the agents bound to its sources start
  it. A task stopped before resumes from its checkpoints unless --remove-meta is given.

  Flags
    --remove-meta   drop the task's checkpoints and shard-DDL locks first (the migration starts over)
`,
  flags: { removeMeta: { type: 'boolean' } },
  async run(ctx, args, flags) {
    const [file] = args;
    if (!file) throw usageError('start-task needs a task file');
    // NATS holds only the encrypted form of the password (the agents decrypt it with the same key file).
    const yaml = encryptYamlPasswords(readConfigFile(file), TASK_PASSWORD_PATHS, ctx.secretKey());
    const task = parseTaskConfig(yaml, file);
    const coord = await ctx.coord();
    const existing = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task.name));
    if (existing && existing.value.stage !== 'Stopped')
      throw new DmError('TaskExists', `task ${task.name} already exists (stage ${existing.value.stage})`);
    const res = await precheck(ctx, coord, yaml, file);
    if (!res.ok) {
      if (ctx.flags.json)
        ctx.json({
          result: false,
          checks: res.items,
          warnings: warningsOf(res),
          error: res.items.find((i) => !i.ok)?.error,
        });
      else {
        ctx.err.write('precheck failed, task not started:\n');
        printCheck(ctx, res, ctx.err);
      }
      return Exit.failed;
    }
    if (flags.removeMeta) {
      // The task starts over: its shard-DDL locks describe checkpoints (holds) that are being dropped too. The task is
      // new or stopped here, so no agent is using them.
      for (const e of await coord.list<{ task?: string }>(Bucket.locks))
        if (e.value?.task === task.name) await coord.delete(Bucket.locks, e.key);
    }
    const rec: TaskRecord = {
      name: task.name,
      yaml,
      file,
      stage: 'Running',
      sources: task.subtasks.map((s) => s.sourceId),
      generation: (existing?.value.generation ?? 0) + 1,
      updatedAt: new Date().toISOString(),
      by: whoAmI(),
      ...(flags.removeMeta ? { removeMeta: true } : {}),
    };
    const ok = existing
      ? await coord.update(Bucket.tasks, Keys.task(task.name), rec, existing.revision)
      : await coord.create(Bucket.tasks, Keys.task(task.name), rec);
    if (ok === undefined) throw new DmError('TaskExists', `task ${task.name} was changed concurrently; retry`);
    if (ctx.flags.json) ctx.json({ result: true, task: task.name, sources: rec.sources, warnings: warningsOf(res) });
    else {
      // The checks passed; what they warned about (a session value tsdm replaces, say) is still worth a line.
      printCheck(ctx, { ok: true, items: res.items.filter((i) => i.warning) }, ctx.err);
      ctx.print(`task ${task.name} started on ${rec.sources.join(', ')}`);
    }
    return Exit.ok;
  },
};

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
    delete rec.removeMeta;
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
    $ dmctl ${name} TASK-NAME [-s SOURCE-ID ...]

  Flags
    -s, --source SOURCE-ID   only these sources of the task (repeatable)
`,
    flags: { source: { type: 'string', shortFlag: 's', isMultiple: true } },
    async run(ctx, args, flags) {
      const [taskName] = args;
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
