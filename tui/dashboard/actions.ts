import type { Coord } from '../../src/coord/index.ts';
import { formatRecord, isDmError } from '../../src/errors/index.ts';
import type { GlobalFlags } from '../context.ts';
import { binlog } from '../commands/binlog.ts';
import { shardDdlLock } from '../commands/shard.ts';
import { changeTaskStage, describeStageChange } from '../commands/task.ts';
import type { PendingAction } from './ui-state.ts';
import { runVerb } from './verb.ts';

/**
 * What the dashboard's keys do to the cluster. Every action is the same code as the scripted verb: p / r / s call
 * `changeTaskStage` (what `dmctl pause-task|resume-task|stop-task` run), k runs `dmctl binlog skip TASK -s SOURCE`
 * itself, u runs `dmctl shard-ddl-lock unlock LOCK` (action exec). The dashboard only writes desired state; the outcome arrives through the watches like any other change.
 */
export interface DashboardActions {
  /** Carries out the action; resolves with the line for the status bar, rejects with an error to show. */
  run(action: PendingAction): Promise<string>;
  /** Which actions this cluster connection offers. */
  can: { skipDdl: boolean; unlock: boolean };
}

export function coordActions(coord: Coord, flags: GlobalFlags): DashboardActions {
  return {
    can: { skipDdl: true, unlock: true },
    async run(action) {
      switch (action.kind) {
        case 'stage':
          return describeStageChange(await changeTaskStage(coord, action.task, action.stage));
        case 'skip-ddl':
          return runVerb(binlog, coord, flags, ['skip', action.task], { source: action.source });
        case 'unlock':
          return runVerb(shardDdlLock, coord, flags, ['unlock', action.lock]);
      }
    },
  };
}

/** An error as one status-bar line: `[code] message` without the multi-line suggestion block. */
export function errorLine(err: unknown): string {
  if (isDmError(err)) return formatRecord(err.toRecord()).split('\n')[0]!;
  return err instanceof Error ? err.message : String(err);
}
