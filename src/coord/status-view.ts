import { DmError } from '../errors/index.ts';
import { Bucket, parseSubtaskStatusKey } from './buckets.ts';
import type { Coord } from './client.ts';
import type { MemberRecord, SubtaskStatus, TaskRecord } from './records.ts';
import { isPendingLock, lockId, waitingShards, type ShardLockRecord } from '../shard/lock.ts';
import type { RelayStatus } from './relay-records.ts';
import { deriveSync, type SyncView } from './status-derive.ts';

/** A shard-DDL lock as query-status shows it. */
export interface LockView {
  id: string;
  target: string;
  stage: string;
  owner: string;
  ddls: string[];
  reached: string[];
  waiting: string[];
  createdAt: string;
}

/**
 * A subtask as query-status shows it: its status record with `sync` replaced by the derived view (status-derive.ts:
 * a subtask that is not running is never caught up and has no lag or rate; master never behind synced).
 */
export type SourceView = Omit<SubtaskStatus, 'sync'> & { agentAlive: boolean; sync?: SyncView };

export interface TaskView {
  name: string;
  desiredStage: string;
  sources: SourceView[];
  /** Pending shard-DDL locks (shard-merge tasks). */
  locks: LockView[];
}

/** The read model query-status renders (also what the dashboard will render). Read only from the buckets. */
export async function readStatus(coord: Coord, only?: string): Promise<TaskView[]> {
  const tasks = (await coord.list<TaskRecord>(Bucket.tasks))
    .map((e) => e.value)
    .filter((t) => !only || t.name === only);
  if (only && tasks.length === 0) throw new DmError('TaskNotFound', `task ${only} does not exist`);
  const members = new Set((await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value.name));
  const statuses = await coord.list<SubtaskStatus>(Bucket.status, 'task.>');
  const locks = (await coord.list<ShardLockRecord>(Bucket.locks))
    .map((e) => e.value)
    .filter((l) => l && typeof l === 'object' && typeof l.task === 'string');
  return tasks.map((t) => {
    const mine = statuses
      .filter((s) => parseSubtaskStatusKey(s.key)?.task === t.name)
      .map((s): SourceView => {
        const { sync, ...rest } = s.value;
        const agentAlive = members.has(s.value.agent);
        const view = sync ? deriveSync(s.value, agentAlive) : undefined;
        return view ? { ...rest, agentAlive, sync: view } : { ...rest, agentAlive };
      });
    for (const src of t.sources) {
      if (!mine.some((m) => m.source === src))
        mine.push({
          task: t.name,
          source: src,
          agent: '',
          stage: 'New',
          unit: 'check',
          generation: t.generation,
          updatedAt: t.updatedAt,
          agentAlive: false,
        });
    }
    const lockViews = locks
      .filter((l) => l.task === t.name && isPendingLock(l))
      .map(
        (l): LockView => ({
          id: lockId(l),
          target: `${l.targetSchema}.${l.targetTable}`,
          stage: l.stage,
          owner: l.owner,
          ddls: l.ddls,
          reached: Object.values(l.shards)
            .filter((s) => s.reached)
            .map((s) => `${s.source}/${s.table}`),
          waiting: waitingShards(l),
          createdAt: l.createdAt,
        }),
      );
    return {
      name: t.name,
      desiredStage: t.stage,
      sources: mine.sort((a, b) => a.source.localeCompare(b.source)),
      locks: lockViews,
    };
  });
}

/** Relay status per source (`relay.<source>` keys), optionally only the given sources. */
export async function readRelays(coord: Coord, sources?: string[]): Promise<RelayStatus[]> {
  const all = (await coord.list<RelayStatus>(Bucket.status, 'relay.>')).map((e) => e.value);
  return all.filter((r) => !sources || sources.includes(r.source)).sort((a, b) => a.source.localeCompare(b.source));
}
