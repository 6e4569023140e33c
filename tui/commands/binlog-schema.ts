import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type BinlogSchemaRequest,
  type BinlogSchemaResult,
  type BoundRecord,
  type Coord,
  type TaskRecord,
} from '../../src/coord/index.ts';
import { asDmError, DmError, type ErrorRecord } from '../../src/errors/index.ts';
import { whoAmI } from '../../src/events/record.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { opRequest, readConfigFile, taskNameArg } from './shared.ts';

/**
 * `dmctl binlog-schema list|update|delete` (DM's binlog-schema, formerly operate-schema): show or change the schema
 * the task's schema tracker holds for one upstream table, the structure sync decodes that table's binlog rows with.
 * A request per source to the agent it is bound to (agent/schema-op.ts), which reads and writes the tracker stored
 * with the checkpoint in the downstream meta schema: a change survives agent restarts and is what the subtask
 * resumes from.
 */
export const binlogSchema: Command = {
  name: 'binlog-schema',
  summary: "show, replace or delete a table's schema in the task's schema tracker (the task paused)",
  usage: `
  Usage
    $ dmctl binlog-schema list TASK DATABASE TABLE [-s SOURCE]
    $ dmctl binlog-schema update TASK DATABASE TABLE [SCHEMA-FILE] [--from-source | --from-target] [--flush] [--sync] [-s SOURCE]
    $ dmctl binlog-schema delete TASK DATABASE TABLE [-s SOURCE]

  DATABASE and TABLE name the upstream table, as the binlog does. list prints the CREATE TABLE the tracker holds for it
  at the subtask's checkpoint. update replaces it with the CREATE TABLE in SCHEMA-FILE (whatever table name that
  statement gives), with the upstream's table as it is now (--from-source), or with the downstream table it is
  routed to (--from-target); delete removes it, so its next event takes the upstream's structure at that time.
  list, update and delete need the subtask paused (\`dmctl pause-task TASK\`, or paused by an error), as in DM:
  \`dmctl resume-task TASK\` then decodes the table's events with the new schema. Keep the output of list before
  changing a schema.

  Flags
    -s, --source SOURCE-ID   the source (repeatable; needed when the task has several sources)
    --from-source            update: take the upstream's current table
    --from-target            update: take the downstream table the upstream table is routed to
    --flush                  update: store the schema with the checkpoint at once (always so, as in DM: --no-flush
                             is accepted and has no effect)
    --sync                   update, shard-mode optimistic: the table's shard-DDL lock takes the new structure as
                             this shard's (default; --no-sync leaves the lock as it is)
`,
  flags: {
    source: { type: 'string', shortFlag: 's', isMultiple: true },
    fromSource: { type: 'boolean' },
    fromTarget: { type: 'boolean' },
    // DM's defaults: both on (--no-flush, --no-sync turn them off).
    flush: { type: 'boolean', default: true },
    sync: { type: 'boolean', default: true },
  },
  async run(ctx, args, flags) {
    const [op, taskArg, database, table, file, ...extra] = args;
    const task = taskArg === undefined ? undefined : taskNameArg(taskArg);
    if (!op || !['list', 'update', 'delete'].includes(op))
      throw usageError(`binlog-schema needs list, update or delete (got ${op ?? 'nothing'})`);
    if (!task || !database || !table) throw usageError(`binlog-schema ${op} needs TASK DATABASE TABLE`);
    if (extra.length > 0 || (file !== undefined && op !== 'update'))
      throw usageError(`binlog-schema ${op} takes TASK DATABASE TABLE${op === 'update' ? ' [SCHEMA-FILE]' : ''} only`);
    const fromSource = flags.fromSource === true;
    const fromTarget = flags.fromTarget === true;
    const req: Omit<BinlogSchemaRequest, 'source'> = {
      task,
      action: op as BinlogSchemaRequest['action'],
      database,
      table,
    };
    if (op === 'update') {
      if ([file !== undefined, fromSource, fromTarget].filter(Boolean).length !== 1)
        throw usageError('binlog-schema update takes exactly one of SCHEMA-FILE, --from-source and --from-target');
      // DM logs "overwrite --flush to true for operate-schema" and stores it anyway.
      if (flags.flush === false)
        ctx.err.write(
          'note: --no-flush has no effect: the schema is stored with the checkpoint at once (DM overrides --flush to true too)\n',
        );
      if (file !== undefined) req.sql = readConfigFile(file);
      else req.from = fromSource ? 'source' : 'target';
      req.sync = flags.sync !== false;
      req.by = whoAmI();
    } else if (fromSource || fromTarget)
      throw usageError('--from-source and --from-target go with binlog-schema update only');
    else if (op === 'delete') req.by = whoAmI();
    const coord = await ctx.coord();
    const sources = await sourcesOf(coord, task, (flags.source as string[] | undefined) ?? []);
    const results = await Promise.all(sources.map((s) => ask(ctx, coord, { ...req, source: s })));
    const ok = results.every((r) => !r.error);
    if (ctx.flags.json) {
      ctx.json({ result: ok, task, sources: results });
      return ok ? Exit.ok : Exit.failed;
    }
    for (const r of results) {
      if (r.error) {
        ctx.err.write(`Error: source ${r.source}: [${r.error.code}] ${r.error.message}\n  ${r.error.suggestion}\n`);
        continue;
      }
      if (op === 'list') {
        if (results.length > 1) ctx.print(`-- source ${r.source}`);
        ctx.print(`${r.schema};`);
      } else if (op === 'update') {
        ctx.print(`schema of ${database}.${table} updated for task ${task} source ${r.source}:`);
        ctx.print(`${r.schema};`);
        if (r.syncedLock) ctx.print(`shard-DDL lock of ${r.syncedLock} records it as this shard's structure`);
      } else ctx.print(`schema of ${database}.${table} deleted for task ${task} source ${r.source}`);
    }
    if (ok && op !== 'list') ctx.print(`\`dmctl resume-task ${task}\` continues with it`);
    return ok ? Exit.ok : Exit.failed;
  },
};

interface SourceResult {
  source: string;
  agent?: string;
  schema?: string;
  syncedLock?: string;
  error?: ErrorRecord;
}

/** The sources to ask: those named (each must be the task's), else the task's only one. */
async function sourcesOf(coord: Coord, task: string, named: string[]): Promise<string[]> {
  const e = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task));
  if (!e) throw new DmError('TaskNotFound', `task ${task} does not exist`);
  const all = e.value.sources;
  for (const s of named) if (!all.includes(s)) throw new DmError('SourceNotFound', `task ${task} has no source ${s}`);
  if (named.length > 0) return [...new Set(named)];
  if (all.length !== 1) throw usageError(`task ${task} has several sources (${all.join(', ')}): name one with -s`);
  return all;
}

/** One source's request to the agent it is bound to; its failure is that source's result, not the command's end. */
async function ask(ctx: CommandContext, coord: Coord, req: BinlogSchemaRequest): Promise<SourceResult> {
  try {
    const b = await coord.get<BoundRecord>(Bucket.bounds, Keys.bound(req.source));
    if (!b) throw new DmError('NoAgent', `source ${req.source} is not bound to an agent`);
    const agent = b.value.agent;
    const r = await opRequest<BinlogSchemaResult>(
      coord,
      Subjects.agentOp(ctx.flags.cluster, agent, Op.binlogSchema),
      req,
      ctx.flags.timeout,
    );
    return {
      source: req.source,
      agent,
      ...(r.schema ? { schema: r.schema } : {}),
      ...(r.syncedLock ? { syncedLock: r.syncedLock } : {}),
    };
  } catch (err) {
    return { source: req.source, error: asDmError(err).toRecord() };
  }
}
