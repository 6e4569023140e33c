import { Keys, type BoundRecord, type SourceRecord, type TaskRecord } from '../../src/coord/index.ts';
import type { Logger } from '../log.ts';

/**
 * The agent's own lines about its bindings (the leader logs every binding it writes: cluster/scheduler.ts): one line
 * when a source becomes bound here, moves away or is unbound, and why a subtask stops running here.
 */
export function logBindingChange(
  log: Logger,
  me: string,
  before: BoundRecord | undefined,
  after: BoundRecord | undefined,
): void {
  const was = before?.agent === me;
  const is = after?.agent === me;
  if (is && (!was || before?.term !== after?.term))
    log.info({ source: after!.sourceId, from: before?.agent, term: after!.term }, 'source bound here');
  else if (was && !is && after)
    log.info({ source: after.sourceId, to: after.agent, term: after.term }, 'source moved away');
  else if (was && !after) log.info({ source: before!.sourceId }, 'source unbound here');
}

/** What the agent knows when it stops a subtask that no longer belongs here. */
export interface AgentView {
  fenced: boolean;
  tasks: ReadonlyMap<string, TaskRecord>;
  sources: ReadonlyMap<string, SourceRecord>;
  bounds: ReadonlyMap<string, BoundRecord>;
}

/** Why a running subtask is replaced by a new one: its task was updated, or its source bound again (a new term). */
export function restartCause(cur: { generation: number; term: number }, generation: number, term: number): string {
  return cur.generation !== generation
    ? `task updated (generation ${cur.generation} -> ${generation}): restarting`
    : `source bound again (term ${cur.term} -> ${term}): restarting`;
}

/** Why the subtask of (task, source) no longer runs here, for its "subtask stopped" line. */
export function whyNotHere(me: string, task: string, source: string, v: AgentView): string {
  if (v.fenced) return 'fenced: the member lease is not renewed';
  if (!v.tasks.has(Keys.task(task))) return 'task removed';
  if (!v.sources.has(Keys.source(source))) return 'source removed';
  const b = v.bounds.get(Keys.bound(source));
  if (!b) return 'source unbound';
  if (b.agent !== me) return `source moved to ${b.agent}`;
  return 'no longer in the task';
}
