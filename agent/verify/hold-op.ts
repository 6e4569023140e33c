import { Op, type SyncHoldRequest, type SyncHoldResult } from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { OpHandler } from '../op-registry.ts';
import type { HoldRequest } from '../sync/hold.ts';

/** What the op needs of a subtask (agent/subtask.ts Subtask: its status and its sync unit while that runs). */
export interface HoldableSubtask {
  readonly status: { stage: string; unit: string; error?: { code: string } };
  readonly syncUnit:
    | {
        hold(r: HoldRequest): Promise<BinlogPosition>;
        release(holdId: string): SyncHoldResult;
      }
    | undefined;
}

/**
 * Agent op `sync-hold` (src/coord/ops.ts SyncHoldRequest), served by the agent the source is bound to: holds or
 * releases the running sync unit of one (task, source) subtask (agent/sync/hold.ts). `find` looks the subtask up
 * among those this agent runs. A release is idempotent: nothing to release (the subtask moved, restarted or stopped,
 * its hold ended with it) answers `{}`.
 */
export function syncHoldOp(
  agent: string,
  find: (task: string, source: string) => HoldableSubtask | undefined,
): OpHandler {
  return {
    op: Op.syncHold,
    to: 'agent',
    async handle(p: unknown): Promise<SyncHoldResult> {
      const req = p as SyncHoldRequest;
      if (!req || typeof req.task !== 'string' || typeof req.source !== 'string' || typeof req.holdId !== 'string')
        throw new DmError('Internal', 'sync-hold needs task, source and holdId');
      if (req.until && (!req.until.name || !Number.isInteger(req.until.pos)))
        throw new DmError('Internal', `sync-hold until needs a binlog file and position: ${JSON.stringify(req.until)}`);
      const st = find(req.task, req.source);
      const unit = st?.syncUnit;
      if (req.action === 'release') return unit ? unit.release(req.holdId) : {};
      const where = { task: req.task, source: req.source };
      if (!st)
        throw new DmError('SyncHoldNotHere', `task ${req.task} does not run source ${req.source} on agent ${agent}`, {
          context: where,
        });
      if (st.status.stage !== 'Running' || !unit)
        throw new DmError(
          'SyncNotRunning',
          `task ${req.task} source ${req.source} is ${st.status.stage} in unit ${st.status.unit}${st.status.error ? ` (error ${st.status.error.code})` : ''}: its sync cannot be held`,
          { context: where },
        );
      const hold = {
        holdId: req.holdId,
        ...(req.until ? { until: req.until } : {}),
        ...(req.ttlMs ? { ttlMs: req.ttlMs } : {}),
      };
      return { position: await unit.hold(hold) };
    },
  };
}
