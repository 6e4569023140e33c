import { DmError } from '../errors/index.ts';
import { Bucket, parseSubtaskStatusKey } from './buckets.ts';
import type { Coord } from './client.ts';
import type { MemberRecord, SubtaskStatus, TaskRecord } from './records.ts';

export interface TaskView {
  name: string;
  desiredStage: string;
  sources: (SubtaskStatus & { agentAlive: boolean })[];
}

/** The read model query-status renders (also what the dashboard will render). Read only from the buckets. */
export async function readStatus(coord: Coord, only?: string): Promise<TaskView[]> {
  const tasks = (await coord.list<TaskRecord>(Bucket.tasks)).map((e) => e.value).filter((t) => !only || t.name === only);
  if (only && tasks.length === 0) throw new DmError('TaskNotFound', `task ${only} does not exist`);
  const members = new Set((await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value.name));
  const statuses = await coord.list<SubtaskStatus>(Bucket.status, 'task.>');
  return tasks.map((t) => {
    const mine = statuses.filter((s) => parseSubtaskStatusKey(s.key)?.task === t.name).map((s) => ({ ...s.value, agentAlive: members.has(s.value.agent) }));
    for (const src of t.sources) {
      if (!mine.some((m) => m.source === src)) mine.push({ task: t.name, source: src, agent: '', stage: 'New', unit: 'check', generation: t.generation, updatedAt: t.updatedAt, agentAlive: false });
    }
    return { name: t.name, desiredStage: t.stage, sources: mine.sort((a, b) => a.source.localeCompare(b.source)) };
  });
}

