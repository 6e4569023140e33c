import { loadTaskConfig, parseTaskConfig, type TaskLoadOptions } from '../../src/config/index.ts';
import { parseStartTime } from '../../src/config/start-time.ts';
import { encryptYamlPasswords, TASK_PASSWORD_PATHS } from '../../src/config/secret.ts';
import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type CheckResult,
  type CheckTaskRequest,
  type Coord,
  type SourceRecord,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { usageError, type CommandContext } from '../context.ts';
import { opRequest, readConfigFile } from './shared.ts';
import { DEFAULT_LIMITS, type CheckReport, type ReportLimits } from './task-report.ts';

/** What check-task and start-task share: reading the task file, the prechecks on an agent, the report's limits. */

/** The stored files of the task's sources, which an agent needs to check or plan the task (a missing source: error). */
export async function taskSourceFiles(
  coord: Coord,
  yaml: string,
  file: string,
  opts: TaskLoadOptions = {},
): Promise<CheckTaskRequest['sources']> {
  const task = parseTaskConfig(yaml, file, opts);
  const sources: CheckTaskRequest['sources'] = {};
  for (const s of task.subtasks) {
    const e = await coord.get<SourceRecord>(Bucket.sources, Keys.source(s.sourceId));
    if (!e)
      throw new DmError('SourceNotFound', `task ${task.name} uses source ${s.sourceId}, which does not exist`, {
        context: { file },
      });
    const { yaml: y, file: f, relayStage } = e.value;
    sources[s.sourceId] = { yaml: y, file: f, ...(relayStage ? { relayStage } : {}) };
  }
  return sources;
}

export async function precheck(
  ctx: CommandContext,
  coord: Coord,
  yaml: string,
  file: string,
  startTime?: string,
  removeMeta = false,
): Promise<CheckResult> {
  const sources = await taskSourceFiles(coord, yaml, file, startTime ? { startTime: true } : {});
  return opRequest<CheckResult>(
    coord,
    Subjects.anyOp(ctx.flags.cluster, Op.checkTask),
    {
      yaml,
      file,
      sources,
      ...(startTime ? { startTime } : {}),
      ...(removeMeta ? { removeMeta } : {}),
    } satisfies CheckTaskRequest,
    ctx.flags.timeout,
  );
}

/** The task file as stored (passwords encrypted, lines kept) with its config notes and --start-time checked. */
export function readTask(ctx: CommandContext, file: string, startTime: unknown) {
  const yaml = encryptYamlPasswords(readConfigFile(file), TASK_PASSWORD_PATHS, ctx.secretKey());
  const time = typeof startTime === 'string' ? startTime : undefined;
  const { config: task, notes } = loadTaskConfig(yaml, file, time !== undefined ? { startTime: true } : {});
  if (time !== undefined) {
    parseStartTime(time);
    // DM documents --start-time for incremental tasks; full has no sync unit, and in all mode the time would cut
    // into the copy's snapshot position (rows skipped or replayed), so tsdm refuses both.
    if (task.taskMode !== 'incremental')
      throw new DmError(
        'StartTimeInvalid',
        `--start-time needs task-mode incremental; ${file} has task-mode ${task.taskMode}`,
        { context: { file, key: 'task-mode' } },
      );
  }
  return { yaml, task, notes, time };
}

export function limitsOf(flags: Record<string, unknown>): ReportLimits {
  const n = (v: unknown, d: number) => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw usageError(`--error and --warn take a count (0 or more), not ${String(v)}`);
    return v;
  };
  return { errors: n(flags.error, DEFAULT_LIMITS.errors), warnings: n(flags.warn, DEFAULT_LIMITS.warnings) };
}

export function reportJson(r: CheckReport): Record<string, unknown> {
  return {
    checks: r.items,
    warnings: r.warnings,
    ...(r.omitted.errors || r.omitted.warnings ? { omitted: r.omitted } : {}),
  };
}
