import { comparePos } from '../binlog/position.ts';
import type { SubtaskStatus } from './records.ts';
import type { BinlogPosition } from '../binlog/position.ts';

/**
 * What a subtask's status means, derived once for every reader (query-status text and --json, --wait-for, the
 * dashboard's table and detail). A status record is what its agent last reported; these rules keep a reader from
 * showing a stopped subtask as live:
 *
 * - Only a subtask that is Running its sync unit, without a current error and with its agent alive, is "in sync" or
 *   "catching up", has a rate and a lag. Anything else (Paused, Stopped, Finished, New, another unit, waiting to
 *   retry an error, agent gone) is `stale`: positions and totals are its last report, lag and rate are unknown (null),
 *   never 0.
 * - The master position is read (SHOW MASTER STATUS) at most once a second, the synced position after every batch, so
 *   a record can carry a master older than its synced position. The upstream head is at least where the task has
 *   applied to, so the master shown is raised to the synced position, and `masterRaised` says it was.
 * - A percentage is floored: an unfinished load never shows 100 %, and every place shows the same figure.
 */

export type SyncState = 'synced' | 'catching-up' | 'stale';

export interface SyncView {
  /** synced: the sync unit runs and has applied everything the upstream had at its last look; catching-up: it runs
   * and is behind; stale: it does not run (see `staleReason`), the rest is its last report. */
  state: SyncState;
  /** Why the view is stale, in words (`Paused`, `retrying an error`, `agent offline`, `unit load`, …). */
  staleReason?: string;
  /** state === 'synced'. */
  caughtUp: boolean;
  /** Seconds behind the upstream; null when unknown (not running). */
  lagSeconds: number | null;
  /** Rows applied per second; null when not running. */
  rowsPerSecond: number | null;
  synced?: BinlogPosition;
  master?: BinlogPosition;
  /** The reported master was behind `synced` (read before it): `master` shows `synced`, the least the head can be. */
  masterRaised: boolean;
  totalRows: number;
  totalEvents: number;
  safeMode: boolean;
}

/** Why a subtask's sync figures are not live, or undefined when they are. */
function staleReason(st: Pick<SubtaskStatus, 'stage' | 'unit' | 'error'>, agentAlive: boolean): string | undefined {
  if (st.stage !== 'Running') return st.stage;
  if (st.unit !== 'sync') return `unit ${st.unit}`;
  if (st.error) return 'retrying an error';
  if (!agentAlive) return 'agent offline';
  return undefined;
}

/**
 * The one derivation of "synced / lag / rate" from a status record (stage, unit, error, sync record) and whether its
 * agent is alive. Undefined when the record has no sync part.
 */
export function deriveSync(
  st: Pick<SubtaskStatus, 'stage' | 'unit' | 'error' | 'sync'>,
  agentAlive = true,
): SyncView | undefined {
  const y = st.sync;
  if (!y) return undefined;
  const why = staleReason(st, agentAlive);
  const raised = !!(y.synced && y.master && comparePos(y.synced, y.master) > 0);
  const view: SyncView = {
    state: why !== undefined ? 'stale' : y.caughtUp ? 'synced' : 'catching-up',
    caughtUp: why === undefined && y.caughtUp,
    lagSeconds: why === undefined ? y.lagSeconds : null,
    rowsPerSecond: why === undefined ? y.rowsPerSecond : null,
    masterRaised: raised,
    totalRows: y.totalRows,
    totalEvents: y.totalEvents,
    safeMode: y.safeMode,
  };
  if (why !== undefined) view.staleReason = why;
  if (y.synced) view.synced = y.synced;
  const master = raised ? y.synced : y.master;
  if (master) view.master = master;
  return view;
}

/**
 * `done` of `total` as a percentage with one decimal, floored: "99.9%" until the last row is done, "100.0%" only then.
 * "-" when there is no total.
 */
export function percentText(done: number, total: number): string {
  if (!(total > 0)) return '-';
  if (done >= total) return '100.0%';
  const tenths = Math.max(0, Math.min(999, Math.floor((1000 * done) / total)));
  return `${(tenths / 10).toFixed(1)}%`;
}
