import { parseTaskConfig, recordLoadOptions } from '../../src/config/index.ts';
import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type BoundRecord,
  type Coord,
  type RowCounts,
  type SubtaskStatus,
  type TaskRecord,
  type ValidationDesired,
  type ValidationErrorOpRequest,
  type ValidationErrorOpResult,
  type ValidationErrorRow,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { opRequest } from './shared.ts';

/**
 * `dmctl validation start|stop|status|show-error|ignore-error|resolve-error|clear-error` (DM's continuous data
 * validation). start/stop are desired state in the task record (`validation`), applied by every agent running a source
 * of the task; status reads the subtasks' dm_status records; the error verbs are a request to the agent the task's
 * first source is bound to, which reads and changes the error rows in the task's downstream meta schema.
 */

const VERBS = ['start', 'stop', 'status', 'show-error', 'ignore-error', 'resolve-error', 'clear-error'] as const;
type Verb = (typeof VERBS)[number];

export const validation: Command = {
  name: 'validation',
  summary: 'continuous data validation: start, stop, status, and its error rows',
  usage: `
  Usage
    $ dmctl validation start [--mode full|fast] TASK
    $ dmctl validation stop TASK
    $ dmctl validation status [--table-stage running|stopped] TASK
    $ dmctl validation show-error [--error all|unprocessed|ignored|resolved] TASK
    $ dmctl validation ignore-error TASK ERROR-ID|--all
    $ dmctl validation resolve-error TASK ERROR-ID|--all
    $ dmctl validation clear-error TASK ERROR-ID|--all

  Rows sync applies are read back downstream and compared (full: every column; fast: the row exists, or is gone
  after a delete). A row still differing row-error-delay after sync applied it becomes an error row, kept in the
  downstream meta schema (<meta-schema>.<task>_validator_error_change). start runs validation on every source of
  the task (--mode: the mode of a validation started before, else the task file's, else full); stop ends it (pending
  rows are dropped, error rows stay). ignore-error marks error rows ignored, resolve-error marks them resolved (you
  fixed them), clear-error deletes them. See docs/verify.md.

  Flags
    --mode full|fast             start: what is compared
    --table-stage STAGE          status: only tables whose validation is running or stopped
    --error STATE                show-error: which rows (default unprocessed: neither ignored nor resolved)
    --all                        ignore-error, resolve-error, clear-error: every error row of the task
`,
  flags: {
    mode: { type: 'string' },
    tableStage: { type: 'string' },
    error: { type: 'string' },
    all: { type: 'boolean' },
  },
  async run(ctx, args, flags) {
    const [verb, task, id] = args;
    if (!verb || !(VERBS as readonly string[]).includes(verb))
      throw usageError(`validation needs one of ${VERBS.join(', ')} (got ${verb ?? 'nothing'})`);
    if (!task) throw usageError(`validation ${verb} needs a task name`);
    const coord = await ctx.coord();
    switch (verb as Verb) {
      case 'start':
      case 'stop':
        return startStop(ctx, coord, verb as 'start' | 'stop', task, flags.mode as string | undefined);
      case 'status':
        return status(ctx, coord, task, flags.tableStage as string | undefined);
      case 'show-error':
        return showError(ctx, coord, task, (flags.error as string | undefined) ?? 'unprocessed');
      default: {
        const all = flags.all === true;
        if (all === (id !== undefined)) throw usageError(`validation ${verb} needs an ERROR-ID or --all (one of them)`);
        if (id !== undefined && !/^\d+$/.test(id)) throw usageError(`ERROR-ID must be a number (got ${id})`);
        const action = verb.replace('-error', '') as 'ignore' | 'resolve' | 'clear';
        return operate(ctx, coord, task, action, id === undefined ? undefined : Number(id));
      }
    }
  },
};

async function taskRecord(coord: Coord, task: string) {
  const e = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task));
  if (!e) throw new DmError('TaskNotFound', `task ${task} does not exist`);
  return e;
}

async function startStop(
  ctx: CommandContext,
  coord: Coord,
  verb: 'start' | 'stop',
  task: string,
  modeFlag: string | undefined,
): Promise<number> {
  if (modeFlag !== undefined && modeFlag !== 'full' && modeFlag !== 'fast')
    throw usageError(`--mode must be full or fast (got ${modeFlag})`);
  if (verb === 'stop' && modeFlag !== undefined) throw usageError('--mode goes with validation start');
  for (let i = 0; i < 5; i++) {
    const e = await taskRecord(coord, task);
    const prev = e.value.validation;
    let fileMode: 'fast' | 'full' | undefined;
    try {
      const m = parseTaskConfig(e.value.yaml, e.value.file, recordLoadOptions(e.value)).subtasks.find(
        (s) => s.validator.mode !== 'none',
      );
      if (m) fileMode = m.validator.mode as 'fast' | 'full';
    } catch {
      // The stored file parsed when the task started; a later tsdm that refuses it still lets validation start.
    }
    const mode = (modeFlag as 'fast' | 'full' | undefined) ?? prev?.mode ?? fileMode ?? 'full';
    const v: ValidationDesired = {
      stage: verb === 'start' ? 'Running' : 'Stopped',
      mode,
      updatedAt: new Date().toISOString(),
    };
    // updatedAt of the task record stays: agents take a changed one as resume-task (a retry of a paused subtask).
    const rec: TaskRecord = { ...e.value, validation: v };
    if ((await coord.update(Bucket.tasks, Keys.task(task), rec, e.revision)) !== undefined) {
      if (ctx.flags.json) ctx.json({ result: true, task, validation: v });
      else ctx.print(`validation of ${task}: ${v.stage === 'Running' ? `started (mode ${mode})` : 'stopped'}`);
      return Exit.ok;
    }
  }
  throw new DmError('Timeout', `task ${task} kept changing concurrently; retry`);
}

const counts = (c: RowCounts) => `insert/update/delete: ${c.insert}/${c.update}/${c.delete}`;

async function status(ctx: CommandContext, coord: Coord, task: string, stage: string | undefined): Promise<number> {
  if (stage !== undefined && stage !== 'running' && stage !== 'stopped')
    throw usageError(`--table-stage must be running or stopped (got ${stage})`);
  const rec = await taskRecord(coord, task);
  const statuses: SubtaskStatus[] = [];
  for (const s of rec.value.sources) {
    const e = await coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus(task, s));
    if (e) statuses.push(e.value);
  }
  const validators = statuses.flatMap((s) =>
    s.validation
      ? [
          {
            task,
            source: s.source,
            mode: s.validation.mode,
            stage: s.validation.stage,
            result: s.validation.result ?? null,
            processedRowsStatus: counts(s.validation.processed),
            pendingRowsStatus: counts(s.validation.pending),
            errorRowsStatus: `new/ignored/resolved: ${s.validation.errors.new}/${s.validation.errors.ignored}/${s.validation.errors.resolved}`,
          },
        ]
      : [],
  );
  const want = stage === undefined ? undefined : stage === 'running' ? 'Running' : 'Stopped';
  const tableStatuses = statuses.flatMap((s) =>
    (s.validation?.tables ?? [])
      .filter((t) => !want || t.stage === want)
      .map((t) => ({ source: s.source, ...t, message: t.message ?? '' })),
  );
  if (ctx.flags.json) {
    ctx.json({ result: true, msg: '', validators, tableStatuses });
    return Exit.ok;
  }
  if (validators.length === 0) ctx.print(`task ${task}: no source has run validation (dmctl validation start ${task})`);
  for (const v of validators) {
    ctx.print(`${v.task} ${v.source}: ${v.stage} (mode ${v.mode})${v.result ? `: ${v.result}` : ''}`);
    ctx.print(`  processed ${v.processedRowsStatus}`);
    ctx.print(`  pending   ${v.pendingRowsStatus}`);
    ctx.print(`  errors    ${v.errorRowsStatus}`);
  }
  for (const t of tableStatuses)
    ctx.print(`  ${t.source} ${t.srcTable} -> ${t.dstTable}: ${t.stage}${t.message ? ` (${t.message})` : ''}`);
  return Exit.ok;
}

/** The agent the task's first source (with a bound agent) is bound to, and that source. */
async function agentFor(coord: Coord, task: string): Promise<{ source: string; agent: string }> {
  const rec = await taskRecord(coord, task);
  for (const source of rec.value.sources) {
    const b = await coord.get<BoundRecord>(Bucket.bounds, Keys.bound(source));
    if (b) return { source, agent: b.value.agent };
  }
  throw new DmError('NoAgent', `no source of task ${task} is bound to an agent`);
}

async function ask(ctx: CommandContext, coord: Coord, req: Omit<ValidationErrorOpRequest, 'source'>) {
  const { source, agent } = await agentFor(coord, req.task);
  return opRequest<ValidationErrorOpResult>(
    coord,
    Subjects.agentOp(ctx.flags.cluster, agent, Op.validationError),
    { ...req, source },
    ctx.flags.timeout,
  );
}

async function showError(ctx: CommandContext, coord: Coord, task: string, filter: string): Promise<number> {
  if (!['all', 'unprocessed', 'ignored', 'resolved'].includes(filter))
    throw usageError(`--error must be all, unprocessed, ignored or resolved (got ${filter})`);
  const r = await ask(ctx, coord, { task, action: 'show', filter: filter as ValidationErrorOpRequest['filter'] });
  const errors = r.errors ?? [];
  if (ctx.flags.json) {
    ctx.json({ result: true, msg: '', error: errors });
    return Exit.ok;
  }
  if (errors.length === 0) ctx.print(`task ${task}: no ${filter === 'all' ? '' : `${filter} `}validation error rows`);
  for (const e of errors) for (const line of describeError(e)) ctx.print(line);
  return Exit.ok;
}

export function describeError(e: ValidationErrorRow): string[] {
  const kv = (o: Record<string, string | null> | null) =>
    o === null
      ? '(no row)'
      : Object.entries(o)
          .map(([k, v]) => `${k}=${v === null ? 'NULL' : JSON.stringify(v)}`)
          .join(' ');
  return [
    `#${e.id} ${e.status} ${e.time} ${e.source} ${e.srcTable} -> ${e.dstTable} key ${kv(e.key)}: ${e.errorType}`,
    `  expected ${kv(e.srcData)}`,
    `  actual   ${kv(e.dstData)}`,
  ];
}

async function operate(
  ctx: CommandContext,
  coord: Coord,
  task: string,
  action: 'ignore' | 'resolve' | 'clear',
  id: number | undefined,
): Promise<number> {
  const r = await ask(ctx, coord, { task, action, ...(id !== undefined ? { id } : {}) });
  const affected = r.affected ?? 0;
  const done = action === 'clear' ? 'cleared' : action === 'ignore' ? 'ignored' : 'resolved';
  if (ctx.flags.json) ctx.json({ result: true, msg: '', task, action, affected });
  else ctx.print(`${task}: ${affected} error row${affected === 1 ? '' : 's'} ${done}`);
  return Exit.ok;
}
