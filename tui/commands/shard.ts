import { Bucket, type Coord, type Entry } from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { lockId, unlockLock, waitingShards } from '../../src/shard/lock.ts';
import { asLockRecord, type DmLockRecord, lockLines, lockView } from '../../src/shard/lock-view.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';

/**
 * `dmctl shard-ddl-lock [TASK]` and `dmctl shard-ddl-lock unlock LOCK-ID` (DM's verbs): show the shard-DDL locks in
 * dm_locks, and resolve a stuck one by hand. Unlock only edits the lock record (compare-and-set); the agents act on
 * it, so no checkpoint is lost: held shards are replayed from their holds, exactly as after a normal resolution.
 */
export const shardDdlLock: Command = {
  name: 'shard-ddl-lock',
  summary: 'show shard-DDL locks of shard-merge tasks; unlock a stuck one',
  usage: `
  Usage
    $ dmctl shard-ddl-lock [TASK]
    $ dmctl shard-ddl-lock unlock LOCK-ID [--action exec|skip] [--owner SOURCE] [--force-remove [-s SOURCE]…]

  A lock exists while shards of one target table have reached a DDL that others have not: shards that reached it
  wait (their changes are held, not lost) until every shard reached it; then its owner runs the DDL once downstream.
  LOCK-ID is as shown by the first form (TASK-\`schema\`.\`table\`).

  unlock
    --action exec      the owner runs the DDL now, without waiting for the missing shards (default)
    --action skip      nobody runs the DDL; every shard that reached it goes on (apply it downstream yourself)
    --owner SOURCE     the source that runs the DDL (one whose shards reached it); default the lock's owner
    --force-remove     drop shards that will never reach the DDL (e.g. removed from the task): those of the
                       sources given with -s, or every shard still waiting
    -s, --source ID    with --force-remove: the source(s) to drop (repeatable)
`,
  flags: {
    action: { type: 'string' },
    owner: { type: 'string' },
    forceRemove: { type: 'boolean' },
    source: { type: 'string', shortFlag: 's', isMultiple: true },
  },
  async run(ctx, args, flags) {
    const coord = await ctx.coord();
    if (args[0] === 'unlock') {
      const id = args[1];
      if (!id) throw usageError('shard-ddl-lock unlock needs a LOCK-ID (see `dmctl shard-ddl-lock`)');
      const action = (flags.action as string | undefined) ?? 'exec';
      if (action !== 'exec' && action !== 'skip') throw usageError(`--action must be exec or skip (got ${action})`);
      const sources = (flags.source as string[] | undefined) ?? [];
      if (sources.length && !flags.forceRemove) throw usageError('-s is used with --force-remove');
      const rec = await unlockShardLock(coord, {
        id,
        action,
        ...(flags.owner ? { owner: flags.owner as string } : {}),
        ...(flags.forceRemove ? { forceRemove: sources } : {}),
      });
      if (ctx.flags.json) ctx.json({ result: true, lock: lockId(rec), action, owner: rec.owner, stage: rec.stage });
      else ctx.print(describeUnlock(rec, action));
      return Exit.ok;
    }
    if (args.length > 1) throw usageError(`unexpected arguments: ${args.slice(1).join(' ')}`);
    return show(ctx, coord, args[0]);
  },
};

async function locksOf(coord: Coord, task?: string): Promise<Entry<DmLockRecord>[]> {
  const out: Entry<DmLockRecord>[] = [];
  for (const e of await coord.list<unknown>(Bucket.locks)) {
    const value = asLockRecord(e.value);
    if (value && (!task || value.task === task)) out.push({ ...e, value });
  }
  return out;
}

async function show(ctx: CommandContext, coord: Coord, task?: string): Promise<number> {
  const locks = await locksOf(coord, task);
  if (ctx.flags.json) {
    ctx.json({
      result: true,
      locks: locks.map((e) => ({
        id: lockId(e.value),
        ...e.value,
        waiting: e.value.mode === 'pessimistic' ? waitingShards(e.value) : [],
      })),
    });
    return Exit.ok;
  }
  if (locks.length === 0) {
    ctx.print(task ? `no shard-DDL lock for task ${task}` : 'no shard-DDL lock');
    return Exit.ok;
  }
  const now = Date.now();
  for (const { value: l } of locks) for (const line of lockLines(lockView(l), now)) ctx.print(line);
  return Exit.ok;
}

export function describeUnlock(rec: DmLockRecord, action: 'exec' | 'skip'): string {
  if (rec.mode === 'optimistic')
    return `lock ${lockId(rec)}: conflict resolved with ${action}; run \`dmctl resume-task ${rec.task}\` to go on`;
  return `lock ${lockId(rec)}: ${action === 'skip' ? 'released without running the DDL' : `owner ${rec.owner} runs the DDL now`}`;
}

/**
 * `dmctl shard-ddl-lock unlock`, as a function (the dashboard's u calls it too). `forceRemove` present (even empty:
 * every waiting shard) drops shards that will never reach the DDL.
 */
export async function unlockShardLock(
  coord: Coord,
  req: { id: string; action: 'exec' | 'skip'; owner?: string; forceRemove?: string[] },
): Promise<DmLockRecord> {
  const { id, action, owner, forceRemove } = req;
  for (let attempt = 0; attempt < 10; attempt++) {
    const e = (await locksOf(coord)).find((x) => lockId(x.value) === id || x.key === id);
    if (!e) throw new DmError('ShardLockNotFound', `no shard-DDL lock ${id}`);
    if (owner && !Object.values(e.value.shards).some((s) => s.source === owner && s.reached)) {
      throw usageError(`--owner ${owner}: no shard of that source reached the lock's DDL`);
    }
    if (e.value.mode === 'optimistic') {
      const o = e.value;
      if (!o.conflict)
        throw new DmError('ShardLockNotFound', `optimistic lock ${id} has no conflict to resolve`, {
          suggestion: 'Optimistic locks need an unlock only when `dmctl shard-ddl-lock` shows CONFLICT.',
        });
      const next = { ...o, resolution: action, updatedAt: new Date().toISOString() };
      const rev = await coord.update(Bucket.locks, e.key, next, e.revision);
      if (rev !== undefined) return next;
      continue;
    }
    const remove =
      forceRemove === undefined
        ? []
        : forceRemove.length
          ? forceRemove
          : waitingShards(e.value).map((w) => w.replace(/\/\(not joined yet\)$/, ''));
    const next = unlockLock(
      e.value,
      { action, ...(owner ? { owner } : {}), forceRemove: remove },
      new Date().toISOString(),
    );
    const rev = await coord.update(Bucket.locks, e.key, next, e.revision);
    if (rev !== undefined) return next;
  }
  throw new DmError('Timeout', `lock ${id} kept changing; try again`);
}
