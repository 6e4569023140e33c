import type { Connection } from 'mysql2/promise';
import { withSourceRules } from '../src/config/task-instance.ts';
import type { SourceConfig, SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import { connect } from './db/mysql.ts';
import { buildRules } from './rules.ts';
import type { SubtaskRules } from './unit.ts';

/**
 * Runs a precheck step on each of a task's sources in turn: its subtask, the task's rules for it (block-allow list,
 * routes) and a connection to its upstream, closed afterwards whatever the step did. Sources the task names but
 * that are not given are skipped (their absence is reported by the source checks).
 */
export async function forEachUpstream(
  task: TaskConfig,
  sources: Record<string, SourceConfig>,
  step: (spec: SubtaskSpec, rules: SubtaskRules, up: Connection) => Promise<void>,
): Promise<void> {
  for (const spec of task.subtasks) {
    const src = sources[spec.sourceId];
    if (!src) continue;
    const up = await connect(src.from, 'upstream');
    try {
      await step(spec, buildRules(task, withSourceRules(spec, src, task.caseSensitive)), up);
    } finally {
      up.destroy();
    }
  }
}
