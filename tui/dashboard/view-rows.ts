import { Keys } from '../../src/coord/index.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import type { DashboardState } from './read-model.ts';
import { agentRows, errorRows, eventRows, lockRows, taskRows } from './selectors.ts';
import type { KeyContext, ViewName } from './ui-state.ts';

/** The current view's rows as the keys see them: a stable key, and the task or lock an action would act on. */
export function keyRows(view: ViewName, s: DashboardState, filter: string): KeyContext['rows'] {
  switch (view) {
    case 'tasks':
      return taskRows(s, filter).map((r) => ({ key: r.key, task: r.task, source: r.source, ...failedEvent(r.error) }));
    case 'errors':
      return errorRows(s, filter).map((e) => ({
        key: e.id,
        task: e.task,
        source: e.source,
        ...(e.pausing ? failedEvent(e.record) : {}),
      }));
    case 'locks':
      return lockRows(s, filter).map((l) => ({ key: l.key, task: l.task, lock: l.key }));
    case 'topology':
      return agentRows(s, filter).map((a) => ({ key: a.key }));
    case 'events':
      return eventRows(s, filter).map((e) => ({ key: e.id }));
  }
}

/** The binlog event a subtask is paused on, as `dmctl binlog skip` finds it: the error's position (and statement). */
function failedEvent(err: ErrorRecord | undefined): { position?: string; statement?: string } {
  const c = err?.context;
  if (!c?.position) return {};
  return { position: c.position, ...(c.sql ? { statement: c.sql } : {}) };
}

export function taskExists(s: DashboardState, task: string): boolean {
  return s.tasks[Keys.task(task)] !== undefined;
}
