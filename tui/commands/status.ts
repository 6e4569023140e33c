import {
  Bucket,
  percentText,
  readRelays,
  readStatus,
  type BoundRecord,
  checkLine,
  validationLine,
  type RelayStatus,
  type SyncView,
  type TaskView,
} from '../../src/coord/index.ts';
import { DmError, formatRecord, type ErrorRecord } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { showPos as pos } from '../../src/binlog/position.ts';
import { lockLines } from '../../src/shard/lock-view.ts';
import { dmStatusList, dmTaskList } from '../../src/coord/dm-status.ts';
import { taskNameArg } from './shared.ts';

/** The sync line: live figures only while the sync unit runs; otherwise its last positions, marked as such. */
function syncLine(y: SyncView): string {
  const master = `master ${pos(y.master)}${y.masterRaised ? ' (at least: the last upstream read is older than synced)' : ''}`;
  const tags = `${y.safeMode ? '  [safe mode]' : ''}`;
  if (y.state === 'stale')
    return `    sync (not running: ${y.staleReason}; last report): applied ${pos(y.synced)}  ${master}  lag unknown  total ${y.totalRows} rows${tags}`;
  return `    sync: synced ${pos(y.synced)}  ${master}  lag ${y.lagSeconds}s  ${y.rowsPerSecond} rows/s  total ${y.totalRows} rows${y.caughtUp ? '  [synced]' : '  [catching up]'}${tags}`;
}

export function renderStatus(views: TaskView[], more = false, bounds: Map<string, BoundRecord> = new Map()): string {
  if (views.length === 0) return 'no tasks';
  const lines: string[] = [];
  for (const v of views) {
    lines.push(`task ${v.name}  (desired ${v.desiredStage})`);
    for (const s of v.sources) {
      lines.push(
        `  source ${s.source}  stage ${s.stage}  unit ${s.unit}  agent ${s.agent || '-'}${s.agent && !s.agentAlive ? ' (offline)' : ''}`,
      );
      if (s.load)
        lines.push(
          `    load: chunks ${s.load.doneChunks}/${s.load.totalChunks}  rows ${s.load.doneRows}/${s.load.totalRows} (${percentText(s.load.doneRows, s.load.totalRows)})  tables ${s.load.tables}`,
        );
      if (s.sync) lines.push(syncLine(s.sync));
      if (s.validation) lines.push(`    ${validationLine(s.validation)}`);
      if (s.error) lines.push('    error: ' + formatRecord(s.error).split('\n').join('\n    '));
      if (!more) continue;
      const b = bounds.get(s.source);
      lines.push(
        `    binding: ${b ? `${b.agent} term ${b.term} since ${b.boundAt}${b.previous ? ` (was ${b.previous})` : ''}` : 'none'}  generation ${s.generation}  updated ${s.updatedAt}`,
      );
      for (const t of s.load?.perTable ?? [])
        if (t.doneChunks < t.totalChunks)
          lines.push(`    load ${t.table}: chunks ${t.doneChunks}/${t.totalChunks}  rows ${t.doneRows}/${t.totalRows}`);
      for (const e of s.recentErrors ?? [])
        lines.push((e.warning ? '    warning: ' : '    recent: ') + formatRecord(e).split('\n')[0]);
    }
    if (v.check) lines.push(`  ${checkLine(v.check)}`);
    for (const l of v.locks ?? []) {
      const [head = '', ...rest] = lockLines(l, Date.now());
      lines.push(`  shard-DDL lock ${head}`, ...rest.map((x) => `  ${x}`));
    }
  }
  return lines.join('\n');
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** One block per relay: stage, upstream head vs relay position, lag, store size and reusable space, errors. */
export function renderRelays(relays: RelayStatus[]): string {
  const lines: string[] = [];
  for (const r of relays) {
    lines.push(
      `relay ${r.source}  stage ${r.stage}  agent ${r.agent}  readers ${r.readers}${r.upstreamPaused ? '  [upstream paused: backpressure]' : ''}`,
    );
    lines.push(
      `    relay ${pos(r.relayPos)}  master ${pos(r.master)}  lag ${r.lagSeconds}s  ${r.eventsPerSecond} events/s  segment ${r.segment ?? '-'} (${r.serverUuid ?? '-'})`,
    );
    lines.push(
      `    store: records #${r.firstSeq}..#${r.lastSeq} (${r.size.records})  file ${mb(r.size.fileBytes)}  used ${mb(r.size.usedBytes)}  reusable ${mb(r.size.reusableBytes)}${r.neededSeq !== undefined ? `  needed from #${r.neededSeq}${r.neededBy ? ` by ${r.neededBy}` : ''}` : ''}`,
    );
    if (r.lastPurge)
      lines.push(`    last purge: ${r.lastPurge.records} records at ${r.lastPurge.at} (${r.lastPurge.reason})`);
    if (r.error) lines.push('    error: ' + formatRecord(r.error).split('\n').join('\n    '));
  }
  return lines.join('\n');
}

/** Stages --wait-for accepts, besides `synced` (every source in sync, caught up with the upstream). */
const WAIT_STAGES = ['New', 'Running', 'Paused', 'Stopped', 'Finished'];
/** How often the sync unit reads the upstream head (SHOW MASTER STATUS) and reports it, plus a margin. */
const SYNC_HEAD_REFRESH_MS = 1100;

/** Whether every source of the task is at the awaited state, or the error that keeps one from ever getting there. */
export function reached(
  v: TaskView,
  want: string,
): { done: boolean; blocker?: { source: string; error: ErrorRecord } } {
  for (const s of v.sources) {
    if (s.stage === 'Paused' && s.error && want !== 'Paused')
      return { done: false, blocker: { source: s.source, error: s.error } };
  }
  // The derived view is caught up only while the sync unit runs (Running, no error, agent alive).
  if (want === 'synced') return { done: v.sources.every((s) => s.sync?.state === 'synced') };
  return { done: v.sources.every((s) => s.stage === want) };
}

export const queryStatus: Command = {
  name: 'query-status',
  summary: 'show tasks: stage, unit, progress, positions, lag, errors',
  usage: `
  Usage
    $ dmctl query-status [TASK-NAME] [--more] [--format text|json|dm]
    $ dmctl query-status TASK-NAME --wait-for STAGE|synced [--timeout SEC]

  Reads only from the cluster's KV buckets. With --json (--format json) prints one document:
  {"result":true,"tasks":[...],"relays":[...]}. --format dm prints DM's query-status JSON instead, for scripts
  written for DM: without TASK-NAME (and without --more) DM's task list {"result","msg","tasks":[{"taskName",
  "taskStatus","sources"}]}, otherwise {"result","msg","sources":[{"result","msg","sourceStatus","subTaskStatus"}]}
  (fields tsdm has no figure for carry DM's zero value; docs/commands.md maps each field).
  Relays (enable-relay) are listed per source: those of the task's sources, or all without TASK-NAME.
  --more adds each source's binding (agent, term), unfinished tables of the load and recent retried errors and warnings.
  --wait-for polls until every source of the task is at STAGE (New, Running, Paused, Stopped, Finished) or, with
  synced, running the sync unit caught up with the upstream; exit 0 then. Exit 4 when --timeout (default 10 s)
  passes first, exit 1 at once when a source is paused by an error (the reason is printed).

  Flags
    --more              more detail per source
    --wait-for STATE    wait for a stage or for synced
    --format FORMAT     text (default), json (same as --json) or dm (DM's query-status JSON)
`,
  flags: { more: { type: 'boolean' }, waitFor: { type: 'string' }, format: { type: 'string' } },
  async run(ctx, args, flags) {
    const format = outputFormat(flags.format as string | undefined, ctx.flags.json);
    // --format json is --json everywhere, errors included.
    if (format === 'json') ctx.flags.json = true;
    if (format !== 'dm') return run(ctx, args, flags);
    try {
      return await run(ctx, args, flags, true);
    } catch (e) {
      // DM answers a failed query with result false and the reason in msg; the coded error follows on stderr.
      printDm(ctx, { result: false, msg: e instanceof Error ? e.message : String(e), sources: [] });
      return ctx.fail(e);
    }
  },
};

/** --format and --json: one of text, json, dm (--json is --format json; anything else with it is a usage error). */
function outputFormat(format: string | undefined, json: boolean): 'text' | 'json' | 'dm' {
  if (format === undefined) return json ? 'json' : 'text';
  if (format !== 'text' && format !== 'json' && format !== 'dm')
    throw usageError(`--format takes text, json or dm (got ${format})`);
  if (json && format !== 'json') throw usageError(`--json is --format json; it cannot go with --format ${format}`);
  return format;
}

/** DM's dmctl prints its documents with jsonpb's four-space indent. */
function printDm(ctx: CommandContext, doc: unknown): void {
  ctx.out.write(JSON.stringify(doc, null, 4) + '\n');
}

async function run(ctx: CommandContext, given: string[], flags: Record<string, unknown>, dm = false): Promise<number> {
  const args = given.length ? [taskNameArg(given[0]!), ...given.slice(1)] : given;
  const coord = await ctx.coord();
  const want = flags.waitFor as string | undefined;
  if (want !== undefined) {
    const task = args[0];
    if (!task) throw usageError('--wait-for needs a TASK-NAME');
    if (want !== 'synced' && !WAIT_STAGES.includes(want))
      throw usageError(`--wait-for takes ${WAIT_STAGES.join(', ')} or synced (got ${want})`);
    const waitStart = Date.now();
    const deadline = waitStart + ctx.flags.timeout * 1000;
    let last: TaskView | undefined;
    for (;;) {
      [last] = await readStatus(coord, task);
      const r = last ? reached(last, want) : { done: false };
      // Synced means at the upstream head as of this command: the sync unit reads the head every second and
      // publishes it with its status, so only a status published more than that after the wait began counts (an
      // older one may say caught up with a head from before the last write).
      const fresh =
        want !== 'synced' ||
        (last?.sources.every((s) => Date.parse(s.updatedAt ?? '') > waitStart + SYNC_HEAD_REFRESH_MS) ?? false);
      if (r.done && fresh) break;
      if (r.blocker) {
        // Paused by an error: a definite "no" (exit 1) with the error, rather than waiting for the timeout.
        if (dm) printDm(ctx, dmStatusList([last!], await readRelays(coord, sourcesOf([last!]))));
        else if (!ctx.flags.json)
          ctx.err.write(`task ${task} source ${r.blocker.source} is paused by an error and will not become ${want}:\n`);
        return ctx.failRecord(r.blocker.error, Exit.failed);
      }
      if (Date.now() > deadline) {
        throw new DmError(
          'WaitTimeout',
          `task ${task} did not become ${want} within ${ctx.flags.timeout}s (now: ${last?.sources.map((s) => `${s.source} ${s.stage}/${s.unit}`).join(', ')})`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (dm) printDm(ctx, dmStatusList([last!], await readRelays(coord, sourcesOf([last!]))));
    else if (ctx.flags.json) ctx.json({ result: true, task, reached: want, tasks: [last] });
    else ctx.print(`task ${task} is ${want}`);
    return Exit.ok;
  }
  const views = await readStatus(coord, args[0]);
  const more = flags.more === true;
  if (dm) {
    // As DM's dmctl: the task list without a task name or --more, unless a source cannot answer for itself.
    const list = dmStatusList(views, await readRelays(coord, args[0] ? sourcesOf(views) : undefined));
    const brief = args[0] === undefined && !more ? dmTaskList(list) : undefined;
    printDm(ctx, brief && !brief.full ? brief.doc : list);
    return Exit.ok;
  }
  const bounds = more
    ? new Map((await coord.list<BoundRecord>(Bucket.bounds)).map((e) => [e.value.sourceId, e.value]))
    : new Map<string, BoundRecord>();
  const relays = await readRelays(coord, args[0] ? sourcesOf(views) : undefined);
  if (ctx.flags.json)
    ctx.json({
      result: true,
      tasks: more
        ? views.map((v) => ({
            ...v,
            sources: v.sources.map((s) => ({ ...s, binding: bounds.get(s.source) ?? null })),
          }))
        : views,
      relays,
    });
  else ctx.print([renderStatus(views, more, bounds), renderRelays(relays)].filter(Boolean).join('\n'));
  return Exit.ok;
}

const sourcesOf = (views: TaskView[]): string[] => views.flatMap((v) => v.sources.map((s) => s.source));
