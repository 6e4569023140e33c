import type { Connection } from 'mysql2/promise';
import { type BinlogPosition, comparePos, posKey } from '../../src/binlog/position.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError, Errors } from '../../src/errors/index.ts';
import type { Logger } from '../log.ts';
import type { View } from './types.ts';
import { openUpstreamSnapshot } from './upstream-snapshot.ts';

export { NatsHoldClient, natsHoldClient, type NatsHoldOptions } from './hold-client.ts';

/** What openViews needs to hold a source's sync (hold-client.ts: over NATS, agent op `sync-hold`). */
export interface HoldClient {
  /** Holds the source's sync now (no `until`) or at `until`; resolves with the position it then stands at: the
   * downstream reflects exactly the upstream events ending at or before it. */
  hold(source: string, until?: BinlogPosition): Promise<BinlogPosition>;
  release(source: string): Promise<void>;
}

export interface ViewSource {
  id: string;
  db: DbConfig;
  /** The upstream tables compared (MySQL locks them for a moment: upstream-snapshot.ts). */
  tables: [string, string][];
  /** Its sync unit runs (false: a finished full task; nothing moves the downstream, nothing is held). */
  syncing: boolean;
}

/** How long one view kept sync from moving, in ms (logged, and given to `onTimings`). */
export interface ViewTimings {
  view: number;
  /** Opening every source's upstream snapshot (sync stands still at the previous point meanwhile). */
  snapshotMs: number;
  /** Sync applying from there up to the snapshot positions (it moves). */
  catchUpMs: number;
  /** Sync standing at the snapshot positions while the downstream snapshot opened and the holds were confirmed. */
  standMs: number;
  /** snapshotMs + standMs: how long this view kept sync still. */
  heldMs: number;
  attempts: number;
}

export interface OpenViewsOptions {
  sources: ViewSource[];
  /** A downstream connection with the task's session settings (its time zone): openViews starts the snapshot. */
  downstream: () => Promise<Connection>;
  count: number;
  holds: HoldClient;
  log?: Logger;
  onTimings?: (t: ViewTimings) => void;
  /** Take the MySQL path (LOCK TABLES) even where binlog_snapshot_* exists: tests run it on MariaDB. */
  lockTables?: boolean;
  /** Step 1 with several sources: how long to wait for all of them to stand before letting them all go and trying
   * again (default 5 s; see holdAllNow). */
  holdAllTimeoutMs?: number;
}

/** A view whose hold ended under it (the hold expired or passed, the subtask restarted) is opened again this often. */
const MAX_ATTEMPTS = 3;
/** Step 1 is tried this often (holdAllNow). */
const HOLD_ALL_ATTEMPTS = 6;

/**
 * Opens `count` Views (types.ts): upstream and downstream snapshots at one logical point each, without stopping
 * upstream writes. Sync is the only writer of the downstream, so holding it at the upstream snapshot's position P
 * makes the downstream equal, at that moment, to what the upstream snapshot sees (as the task maps it).
 *
 * Steps, and what a crash at each leaves (nothing here writes anything; holds end by themselves after their TTL):
 *  1. Hold every syncing source now (in parallel). Sync stops at H (all writers committed). Needed so that sync cannot
 *     run past the snapshot position P of step 2 before step 3 holds it there. A source whose shard tables wait for a
 *     shard-DDL lock stops only once the lock is resolved, which may need another source to go on: when not all
 *     stand within `holdAllTimeoutMs`, all are released and step 1 starts again (holdAllNow). Crash: the holds expire.
 *  For each view:
 *  2. Open one upstream snapshot per source (upstream-snapshot.ts), position P >= H; per source the views' P never
 *     decrease (each snapshot is taken later). Crash: the server rolls the read-only transactions back.
 *  3. Hold each syncing source at its P (in parallel): sync applies H..P and stands at exactly P. A hold that ended
 *     meanwhile (TTL, subtask restarted) and let sync run past P fails with SyncHoldPassed: the view is opened again
 *     from step 1's hold. Crash: the holds expire.
 *  4. Open the downstream connection and START TRANSACTION WITH CONSISTENT SNAPSHOT (REPEATABLE READ). Crash: as 2.
 *  5. Confirm every hold at P again: the downstream only ever moves forward, so sync still at P (or a restarted unit not
 *     yet past P) now proves it was exactly at P when the snapshot of step 4 was taken. A failed confirmation opens
 *     the view again (from step 1's hold).
 *  After the last view (and on any error: finally):
 *  6. Release every hold (sync resumes; errors are logged, a lost release expires by its TTL).
 */
export async function openViews(o: OpenViewsOptions): Promise<View[]> {
  const syncing = o.sources.filter((s) => s.syncing);
  const views: View[] = [];
  const last = new Map<string, BinlogPosition>();
  const holdAllNow = () => holdAll(o, syncing);
  try {
    await holdAllNow(); // step 1
    for (let v = 0; v < o.count; v++) views.push(await openView(o, v, syncing, last, holdAllNow));
    return views;
  } catch (err) {
    for (const view of views) closeView(view);
    throw err;
  } finally {
    const released = await Promise.allSettled(syncing.map((s) => o.holds.release(s.id))); // step 6
    for (const [i, r] of released.entries())
      if (r.status === 'rejected')
        o.log?.warn(
          { source: syncing[i]!.id, err: String(r.reason) },
          'releasing the sync hold failed (it expires by itself)',
        );
  }
}

/**
 * Step 1: every syncing source held at once. With one source this is one hold. With several, a source may be unable
 * to stop while another stands (pessimistic shard DDL: its tables wait for the other source to reach the same DDL),
 * so after `holdAllTimeoutMs` every hold is released (the one still pending is refused by its release) and, after a
 * pause that lets the lock resolve, step 1 runs again.
 */
async function holdAll(o: OpenViewsOptions, syncing: ViewSource[]): Promise<void> {
  if (syncing.length <= 1) {
    await Promise.all(syncing.map((s) => o.holds.hold(s.id)));
    return;
  }
  const ms = o.holdAllTimeoutMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    const all = Promise.allSettled(syncing.map((s) => o.holds.hold(s.id)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
    });
    const r = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (r !== 'timeout') {
      const failed = r.find((x) => x.status === 'rejected');
      if (!failed) return;
      throw failed.reason;
    }
    await Promise.allSettled(syncing.map((s) => o.holds.release(s.id)));
    const settled = await all;
    // Refused for another reason than the release above (not syncing, another check's hold …): that is the answer.
    const other = settled.find((x) => x.status === 'rejected' && !holdEnded(x.reason));
    if (other?.status === 'rejected') throw other.reason;
    const waiting = syncing.filter((_, i) => settled[i]!.status === 'rejected').map((s) => s.id);
    o.log?.info(
      { attempt, waiting },
      'not every source could stand at once (a shard-DDL lock?): released, trying again',
    );
    if (attempt >= HOLD_ALL_ATTEMPTS)
      throw new DmError(
        'SyncHoldAborted',
        `sources ${waiting.join(', ')} did not stop within ${ms} ms while the others were held (${attempt} attempts): a shard-DDL lock waiting for a source is the usual reason`,
      );
    await new Promise((res) => setTimeout(res, Math.min(ms, 1000 * attempt)));
  }
}

/** Ends a View's transactions (the connections are closed: their snapshots go with them). */
export function closeView(v: View): void {
  for (const c of v.upstream.values()) c.destroy();
  v.downstream.destroy();
}

async function openView(
  o: OpenViewsOptions,
  v: number,
  syncing: ViewSource[],
  last: Map<string, BinlogPosition>,
  holdAllNow: () => Promise<unknown>,
): Promise<View> {
  for (let attempt = 1; ; attempt++) {
    const upstream = new Map<string, Connection>();
    const positions = new Map<string, BinlogPosition>();
    let downstream: Connection | undefined;
    try {
      const t0 = Date.now();
      for (const s of o.sources) {
        const snap = await openUpstreamSnapshot(s.db, s.tables, o.lockTables ? { lockTables: true } : {});
        upstream.set(s.id, snap.conn);
        positions.set(s.id, snap.position);
        if (s.syncing && !snap.position.name)
          throw new DmError(
            'VerifySnapshotFailed',
            `source ${s.id} reports no binlog position for its snapshot, yet its sync runs`,
            { context: { source: s.id } },
          );
        const prev = last.get(s.id);
        if (prev && comparePos(snap.position, prev) < 0)
          throw new DmError(
            'Internal',
            `source ${s.id}: snapshot position ${posKey(snap.position)} is before the previous view's ${posKey(prev)}`,
          );
      }
      const t1 = Date.now();
      const holdAtSnapshots = () =>
        Promise.all(
          syncing.map(async (s) => {
            const p = positions.get(s.id)!;
            const at = await o.holds.hold(s.id, p);
            if (comparePos(at, p) !== 0)
              throw new DmError('SyncHoldAborted', `source ${s.id}: held at ${posKey(at)}, asked ${posKey(p)}`);
          }),
        );
      await holdAtSnapshots(); // step 3
      const t2 = Date.now();
      downstream = await o.downstream(); // step 4
      await downstream.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await downstream.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      await holdAtSnapshots(); // step 5
      const t3 = Date.now();
      const t: ViewTimings = {
        view: v,
        snapshotMs: t1 - t0,
        catchUpMs: t2 - t1,
        standMs: t3 - t2,
        heldMs: t1 - t0 + (t3 - t2),
        attempts: attempt,
      };
      o.log?.info(
        { ...t, positions: Object.fromEntries([...positions].map(([k, p]) => [k, posKey(p)])) },
        'check-data view opened',
      );
      o.onTimings?.(t);
      for (const [k, p] of positions) last.set(k, p);
      return { upstream, downstream, positions };
    } catch (err) {
      for (const c of upstream.values()) c.destroy();
      downstream?.destroy();
      if (attempt >= MAX_ATTEMPTS || !holdEnded(err)) throw err;
      o.log?.info({ view: v, attempt, err: String(err) }, 'a sync hold ended under the view: opening it again');
      await holdAllNow();
    }
  }
}

/** The hold ended or moved under the view (retried: a new snapshot and a new hold). */
function holdEnded(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === Errors.SyncHoldPassed.code || code === Errors.SyncHoldAborted.code;
}
