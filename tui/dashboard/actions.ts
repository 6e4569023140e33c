import type { Coord } from '../../src/coord/index.ts';
import { formatRecord, isDmError } from '../../src/errors/index.ts';
import type { PendingAction } from './ui-state.ts';

/**
 * What the dashboard's keys do to the cluster. Every action calls the function the scripted verb calls (never its
 * printed text): p / r / s `changeTaskStage` (`dmctl pause-task|resume-task|stop-task`), k `recordBinlogOp`
 * (`dmctl binlog skip TASK -s SOURCE`), u `unlockShardLock` (`dmctl shard-ddl-lock unlock LOCK`, action exec). The dashboard only writes desired state; the outcome arrives through the watches like any other change.
 */
export interface DashboardActions {
  /** Carries out the action; resolves with the line for the status bar, rejects with an error to show. */
  run(action: PendingAction): Promise<string>;
  /** Which actions this cluster connection offers. */
  can: { skipDdl: boolean; unlock: boolean };
}

export function coordActions(coord: Coord): DashboardActions {
  return {
    can: { skipDdl: true, unlock: true },
    // The verbs' modules load on the first key press, not at start: task.ts brings the config schemas (yaml, zod)
    // that the first frame does not need.
    async run(action) {
      switch (action.kind) {
        case 'stage': {
          const { changeTaskStage, describeStageChange } = await import('../commands/task.ts');
          return describeStageChange(await changeTaskStage(coord, action.task, action.stage));
        }
        case 'skip-ddl': {
          const { describeBinlogOp, recordBinlogOp } = await import('../commands/binlog.ts');
          const targets = await recordBinlogOp(coord, { task: action.task, op: 'skip', source: action.source });
          return describeBinlogOp(action.task, 'skip', targets).join('; ');
        }
        case 'unlock': {
          const { describeUnlock, unlockShardLock } = await import('../commands/shard.ts');
          return describeUnlock(await unlockShardLock(coord, { id: action.lock, action: 'exec' }), 'exec');
        }
      }
    },
  };
}

/** An error as one status-bar line: `[code] message` without the multi-line suggestion block. */
export function errorLine(err: unknown): string {
  if (isDmError(err)) return formatRecord(err.toRecord()).split('\n')[0]!;
  return err instanceof Error ? err.message : String(err);
}
