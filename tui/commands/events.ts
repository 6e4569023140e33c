import { followEvents, lastEventSeq, readEvents, type EventQuery } from '../../src/coord/index.ts';
import { DmError, Errors } from '../../src/errors/index.ts';
import { formatEventLine, parseSince } from '../../src/events/format.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';

/**
 * `dmctl events`: the event log of the cluster (the `<cluster>_events` stream the agents write: errors, pauses,
 * resumes, failovers, bindings, shard-DDL locks, binlog skips and replaces, validation failures), oldest first.
 */
export const events: Command = {
  name: 'events',
  summary: 'show the event log (errors, pauses, failovers, shard locks, skips…); --follow streams new ones',
  usage: `
  Usage
    $ dmctl events [--task TASK] [--source SOURCE-ID] [--since DURATION|TIME] [--limit N] [--follow] [--json]

  Prints what the agents recorded for a human in the event stream (dm_events; bounded: the oldest go first), oldest
  first, one line each: time, severity (INFO, WARN, ERROR), kind, what it is about, message, [agent]. A command
  that caused an event is named as "(by user@host)".

  Kinds: task.error task.retry task.paused task.resumed task.stopped task.finished source.bound source.unbound
  source.transferred failover leader.changed shard.lock.created shard.lock.resolved binlog.skip binlog.replace
  binlog.inject binlog.schema validation.failed validation.stopped relay.error

  Flags
    --task TASK          only events of this task
    --source SOURCE-ID   only events of this source
    --since DURATION     only events since then: a duration back from now (90s, 15m, 1h30m, 2d) or a time
                         (2026-12-03T17:00:00Z)
    --limit N            the newest N events that match (default 100; 0 = all)
    --follow, -f         after the history, print new events as they come, until Ctrl-C (exit 0)
    --json               a JSON array of the events; with --follow, JSON lines (one event object per line)
`,
  flags: {
    task: { type: 'string' },
    source: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'number' },
    follow: { type: 'boolean', shortFlag: 'f' },
  },
  async run(ctx, args, flags) {
    if (args.length > 0) throw usageError(`events takes no arguments (got ${args.join(' ')}); see dmctl events --help`);
    const q: EventQuery = { limit: flags.limit === undefined ? 100 : Number(flags.limit) };
    if (!Number.isInteger(q.limit) || q.limit < 0) throw usageError(`--limit must be a whole number >= 0`);
    if (typeof flags.task === 'string') q.task = flags.task;
    if (typeof flags.source === 'string') q.source = flags.source;
    if (typeof flags.since === 'string') {
      const since = parseSince(flags.since);
      if (!since) throw usageError(`--since must be a duration (15m, 1h30m, 2d) or a time (got ${flags.since})`);
      q.since = since;
    }
    const coord = await ctx.coord();
    const follow = flags.follow === true;
    let history: DmEvent[] = [];
    let before = 0;
    try {
      before = follow ? await lastEventSeq(coord.nc, coord.cluster) : 0;
      history = await readEvents(coord.nc, coord.cluster, q);
    } catch (err) {
      if (!(err instanceof DmError) || err.code !== Errors.EventsStreamMissing.code) throw err;
      ctx.err.write(`${err.message}; ${err.suggestion}\n`);
      if (!follow) {
        if (ctx.flags.json) ctx.print('[]');
        return Exit.ok;
      }
      ctx.err.write('waiting for it…\n');
    }
    if (!follow) {
      if (ctx.flags.json) ctx.print(JSON.stringify(history, null, 2));
      else if (history.length === 0) ctx.err.write('no events match\n');
      else for (const e of history) ctx.print(formatEventLine(e));
      return Exit.ok;
    }
    const print = (e: DmEvent) => ctx.print(ctx.flags.json ? JSON.stringify(e) : formatEventLine(e));
    for (const e of history) print(e);
    const after = Math.max(before, ...history.map((e) => e.seq ?? 0));
    return followUntilInterrupted(ctx, q, after, print);
  },
};

/** Streams new events until SIGINT or SIGTERM; exit 0 (a follow ends when the user says so). */
async function followUntilInterrupted(
  ctx: CommandContext,
  q: EventQuery,
  after: number,
  print: (e: DmEvent) => void,
): Promise<number> {
  const coord = await ctx.coord();
  let trouble = '';
  const stop = followEvents(
    coord.nc,
    coord.cluster,
    { ...(q.task !== undefined ? { task: q.task } : {}), ...(q.source !== undefined ? { source: q.source } : {}) },
    after,
    print,
    (err) => {
      const text = String(err);
      if (text !== trouble) ctx.err.write(`events: ${text}; retrying\n`);
      trouble = text;
    },
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stop();
  return Exit.ok;
}
