import { statfsSync } from 'node:fs';
import type { SourceConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { comparePos, formatPos, type BinlogPosition } from '../../src/binlog/position.ts';
import { completeSeq, neededAt, type RelayStore } from './store.ts';

/**
 * Relay purge (DM's `purge` settings and `purge-relay`), with one rule above all: never remove a record a task
 * still needs. A task needs every record after its checkpoint (`synced`); a task on the source whose position is
 * not known yet (check, dump, load) needs everything.
 */

/** A task of the source and where it will resume: its checkpoint, or undefined while it has none (blocks purge). */
export interface TaskNeed {
  task: string;
  synced: BinlogPosition | undefined;
}

/** First sequence whose record ends after `pos` (the first one a task at `pos` still needs). */
export function seqAfter(store: RelayStore, pos: BinlogPosition): number {
  return store.firstWhere(store.firstSeq(), completeSeq(store.state()) + 1, (r) => neededAt(r, pos, comparePos));
}

/** The lowest sequence any task needs (head + 1 when none needs anything), and which task that is. */
export function neededSeq(store: RelayStore, tasks: TaskNeed[]): { seq: number; task?: string; pos?: BinlogPosition } {
  let out: { seq: number; task?: string; pos?: BinlogPosition } = { seq: completeSeq(store.state()) + 1 };
  for (const t of tasks) {
    const s = t.synced ? seqAfter(store, t.synced) : store.firstSeq();
    if (s < out.seq) out = { seq: s, task: t.task, ...(t.synced ? { pos: t.synced } : {}) };
  }
  return out;
}

/** Last sequence whose record lies entirely in binlog files before `file` (purge-relay --filename). */
export function seqBeforeFile(store: RelayStore, file: string): number {
  return seqAfter(store, { name: file, pos: 0 });
}

/**
 * `dmctl purge-relay`: removes the records before `file` (every record no task needs when no file is given).
 * Refuses, removing nothing, when a task still needs one of them.
 */
export async function purgeRelay(
  store: RelayStore,
  tasks: TaskNeed[],
  file?: string,
): Promise<{ purged: number; upTo: number }> {
  const need = neededSeq(store, tasks);
  const upTo = file ? seqBeforeFile(store, file) : need.seq;
  if (upTo > need.seq) {
    throw new DmError(
      'RelayPurgeRefused',
      need.task
        ? `purge-relay up to ${file} would remove relay data task ${need.task} still needs (it resumes at ${formatPos(need.pos)})`
        : `purge-relay up to ${file} would remove relay data a task still needs`,
      { context: { ...(need.task ? { task: need.task } : {}), position: formatPos(need.pos) } },
    );
  }
  const purged = await store.purgeBelow(upTo);
  return { purged, upTo };
}

/**
 * Automatic purge, run every `purge.interval` seconds: records no task needs go when they are older than
 * `purge.expires` hours (0: no age limit), or all of them when the data dir's filesystem has less than
 * `purge.remain-space` GB free.
 */
export async function autoPurge(
  store: RelayStore,
  source: SourceConfig,
  tasks: TaskNeed[],
  dir: string,
  nowSec = Date.now() / 1000,
): Promise<{ purged: number; reason: string } | undefined> {
  const need = neededSeq(store, tasks).seq;
  const first = store.firstSeq();
  if (need <= first) return undefined;
  let upTo = first;
  let reason = '';
  const freeGb = freeSpaceGb(dir);
  if (freeGb !== undefined && freeGb < source.purge.remainSpace) {
    upTo = need;
    reason = `free space ${freeGb.toFixed(1)} GB < remain-space ${source.purge.remainSpace} GB`;
  } else if (source.purge.expires > 0) {
    const cutoff = nowSec - source.purge.expires * 3600;
    // Records are in time order: the first one young enough bounds the purge.
    upTo = store.firstWhere(first, need, (r) => r.ts >= cutoff);
    reason = `older than expires ${source.purge.expires} h`;
  }
  if (upTo <= first) return undefined;
  return { purged: await store.purgeBelow(upTo), reason };
}

function freeSpaceGb(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return (s.bavail * s.bsize) / 1024 ** 3;
  } catch {
    return undefined;
  }
}
