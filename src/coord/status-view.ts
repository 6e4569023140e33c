import { DmError } from '../errors/index.ts';
import { Bucket, parseSubtaskStatusKey } from './buckets.ts';
import type { Coord } from './client.ts';
import type { MemberRecord, SubtaskStatus, TaskRecord } from './records.ts';
import { isPendingLock } from '../shard/lock.ts';
import { asLockRecord, type LockView, lockView } from '../shard/lock-view.ts';
import type { RelayStatus } from './relay-records.ts';
import type { CheckRecord } from './check-records.ts';
import { deriveSync, type SyncView } from './status-derive.ts';

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
  /** The task's last `dmctl check-data` (check-records.ts): state, progress, differences. */
  check?: CheckSummary;
}

/** What query-status and the dashboard show of a task's data check. */
export type CheckSummary = Pick<
  CheckRecord,
  | 'id'
  | 'state'
  | 'progress'
  | 'differences'
  | 'requestedAt'
  | 'startedAt'
  | 'finishedAt'
  | 'owner'
  | 'resumed'
  | 'error'
>;

function checkSummary(r: CheckRecord): CheckSummary {
  const { id, state, progress, differences, requestedAt, startedAt, finishedAt, owner, resumed, error } = r;
  return { id, state, progress, differences, requestedAt, startedAt, finishedAt, owner, resumed, error };
}

/** The read model query-status renders (also what the dashboard will render). Read only from the buckets. */
export async function readStatus(coord: Coord, only?: string): Promise<TaskView[]> {
  const tasks = (await coord.list<TaskRecord>(Bucket.tasks))
    .map((e) => e.value)
    .filter((t) => !only || t.name === only);
  if (only && tasks.length === 0) throw new DmError('TaskNotFound', `task ${only} does not exist`);
  const members = new Set((await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value.name));
  const statuses = await coord.list<SubtaskStatus>(Bucket.status, 'task.>');
  const checks = new Map(
    (await coord.list<CheckRecord>(Bucket.checks, 'check.*')).map((e) => [e.value.task, checkSummary(e.value)]),
  );
  const locks = (await coord.list<unknown>(Bucket.locks))
    .map((e) => asLockRecord(e.value))
    .filter((l) => l !== undefined);
  return tasks.map((t) => {
    const mine = statuses
      // Only the sources the task runs on: start-task -s leaves the others out (a status from an earlier run stays).
      .filter((s) => parseSubtaskStatusKey(s.key)?.task === t.name && t.sources.includes(s.value.source))
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
    const lockViews = locks.filter((l) => l.task === t.name && isPendingLock(l)).map(lockView);
    return {
      name: t.name,
      desiredStage: t.stage,
      sources: mine.sort((a, b) => a.source.localeCompare(b.source)),
      locks: lockViews,
      ...(checks.has(t.name) ? { check: checks.get(t.name)! } : {}),
    };
  });
}

/** Relay status per source (`relay.<source>` keys), optionally only the given sources. */
export async function readRelays(coord: Coord, sources?: string[]): Promise<RelayStatus[]> {
  const all = (await coord.list<RelayStatus>(Bucket.status, 'relay.>')).map((e) => e.value);
  return all.filter((r) => !sources || sources.includes(r.source)).sort((a, b) => a.source.localeCompare(b.source));
}
