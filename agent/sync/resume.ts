import { type BinlogPosition, comparePos, formatPos, maxPos, minPos, posKey } from '../../src/binlog/position.ts';
import { DmError, Errors } from '../../src/errors/index.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { tableKey } from '../../src/sql/table-name.ts';
import { startingPosition } from '../db/binlog-status.ts';
import { checkStartPosition } from '../binlog/start-position.ts';
import { ignored } from '../../src/config/checking-items.ts';
import { connect } from '../db/mysql.ts';
import { snapshotTracker } from '../db/tracked.ts';
import type { SubtaskContext } from '../unit.ts';
import type { SyncState } from './state.ts';
import { startTimePosition } from './start-time.ts';
import { readSafeWindowOpen, writeSafeWindow } from './safe-window.ts';

/**
 * Where the sync unit starts: from `start-task --start-time` once (start-time.ts), else from the writer checkpoints (the lowest one; each writer then skips what it already
 * committed), else the load's end (`syncStart`), else the task's `meta`, else the source's current position. Fills
 * `st` with the tracked schema there, the writer count and positions, the safe-mode window and the tables whose
 * loaded rows already hold their events up to a position.
 */
export async function startPosition(st: SyncState): Promise<BinlogPosition> {
  const { ctx } = st;
  const rows = await ctx.ckpt.readWriters(st.down);
  const state = await ctx.ckpt.readState(st.down);
  const saved = await ctx.ckpt.readTracker(st.down);
  let fresh = false;
  if (saved !== undefined) st.tracker = SchemaTracker.fromJSON(saved);
  else {
    // No tracked schema yet (an incremental task's first start): the upstream's structure now is the best start
    // there is; DDL between the meta position and now would need a snapshot taken then (as DM documents).
    const up = await connect(ctx.source.from, 'upstream');
    try {
      st.tracker = await snapshotTracker(up, 'upstream');
    } finally {
      up.destroy();
    }
    fresh = true;
  }
  st.safeUntil = state?.safeUntil;
  const later = (m: Map<string, BinlogPosition>, k: string, p: BinlogPosition) => {
    const cur = m.get(k);
    if (!cur || comparePos(p, cur) > 0) m.set(k, p);
  };
  for (const c of await ctx.ckpt.readChunks(st.down)) {
    if (c.keyColumn === null && c.snapshot) later(st.loadedAt, `${tableKey(c)}`, c.snapshot);
  }
  for (const r of await ctx.ckpt.readReloads(st.down)) {
    if (r.table) later(st.loadedAt, `${tableKey(r)}`, r.at);
    else later(st.schemaLoadedAt, r.schema, r.at);
  }
  st.writerCount = Math.max(1, ctx.spec.sync.writerCount);
  const byTime = await startTimePosition(st, rows, state);
  if (byTime) return byTime;
  if (rows.length > 0) {
    // The first start's window had not run out (or its last changes were not all committed) when the sync unit last
    // stopped: on again for the whole duration, as DM's syncer opens it at every start. Rows the downstream had before
    // the task may still be met further on.
    const d = ctx.spec.sync.safeModeDuration;
    if (d > 0 && (await readSafeWindowOpen(st.down, ctx.ckpt, ctx.spec.sourceId))) {
      st.safeUntilMs = Date.now() + d * 1000;
      st.safeWindowOpen = true;
      ctx.log.info(
        { seconds: d },
        "safe mode on: the first start's safe-mode-duration had not run out when the sync unit last stopped",
      );
    }
    // Keep the writer count the checkpoints were made with until the writers agree again (after the next
    // barrier), so a replayed change reaches the writer whose checkpoint covers it.
    const stored = rows[0]!.writerCount;
    const allEqual = rows.every((r) => comparePos(r.pos, rows[0]!.pos) === 0);
    if (!allEqual) st.writerCount = stored;
    st.writerPos = Array.from(
      { length: st.writerCount },
      (_, i) => rows.find((r) => r.writer === i)?.pos ?? minPos(rows.map((r) => r.pos))!,
    );
    if (!allEqual) {
      st.replayTo = maxPos(st.writerPos);
      // Not in a shard merge: there a row another source wrote under the same key since the stop must not be deleted
      // or replaced by this source's change again.
      if (!ctx.task.shardMode) st.reapply = { from: minPos(st.writerPos)!, to: st.replayTo! };
    }
    if ((allEqual && stored !== st.writerCount) || fresh)
      await ctx.ckpt.writeAllWriters(st.down, rows[0]!.pos, st.writerCount, st.tracker.toJSON());
    return minPos(st.writerPos)!;
  }
  // The first start (no writer checkpoint yet): DM's safe-mode-duration window (default 60 s), wall clock, as DM's
  // syncer opens it. Rows the downstream got before the task (a dump not exactly at meta, a load) may be ahead of or
  // behind the stream: REPLACE and DELETE+REPLACE end equal where INSERT would fail on a duplicate and an in-place
  // UPDATE would miss a row that is not there. Later starts resume from exact checkpoints (each writer's in the
  // transaction of its rows) and need no window: unlike DM, tsdm opens it on the first start only, and again only at
  // a start that finds it recorded open (`<task>_safe_window`: a restart inside it).
  if (ctx.spec.sync.safeModeDuration > 0) {
    st.safeUntilMs = Date.now() + ctx.spec.sync.safeModeDuration * 1000;
    await writeSafeWindow(st.down, ctx.ckpt, ctx.spec.sourceId, true);
    st.safeWindowOpen = true;
  }
  let start = state?.syncStart;
  const meta = ctx.spec.meta;
  if (!start && meta && meta.binlogName) {
    start = { name: meta.binlogName, pos: meta.binlogPos || 4 };
    if (meta.binlogGtid) start.gtid = meta.binlogGtid;
    if (!ignored(ctx.task, 'meta_position')) await checkMeta(ctx, start);
  } else if (!start && meta?.binlogGtid) {
    // GTID only: the stream starts after that GTID set; the file and offset come with the first rotate event.
    start = { name: '', pos: 0, gtid: meta.binlogGtid };
  }
  if (!start) start = await currentPosition(ctx);
  await ctx.ckpt.writeAllWriters(st.down, start, st.writerCount, st.tracker.toJSON());
  st.writerPos = Array.from({ length: st.writerCount }, () => start!);
  return start;
}

/**
 * A meta position that does not exist upstream (no such file, past its end, inside an event) pauses the subtask with
 * BinlogPositionInvalid before it becomes the checkpoint, so fixing meta and starting the task again is enough; the
 * stream would otherwise fail with a 1236 that reads like a purge. check-task/start-task make the same check
 * (agent/check/check-meta.ts); this one covers `start-task --remove-meta` and a binlog purged since.
 */
async function checkMeta(ctx: SubtaskContext, start: BinlogPosition): Promise<void> {
  const up = await connect(ctx.source.from, 'upstream');
  let err: DmError | undefined;
  try {
    err = await checkStartPosition(up, start, `meta of source ${ctx.spec.sourceId} (binlog-name/binlog-pos)`);
  } finally {
    up.destroy();
  }
  // A file the upstream purged may still be in the relay (enable-relay), which the sync unit then reads.
  if (err && !(err.code === Errors.BinlogPurged.code && ctx.source.enableRelay)) {
    err.context.task = ctx.task.name;
    err.context.source = ctx.spec.sourceId;
    throw err;
  }
}

/**
 * DM (dm/master/server.go generateSubTask): an incremental task with no `meta` and no checkpoint starts from the
 * source's current position (SHOW MASTER STATUS and its GTID set), read at start-task (its precheck:
 * agent/check/check-meta.ts, recorded as TaskRecord.startPosition), so what is written once start-task returned is
 * migrated. A task record without it (written before tsdm recorded it) reads it now. It is then the checkpoint:
 * later starts resume from there. A warning says so.
 */
async function currentPosition(ctx: SubtaskContext): Promise<BinlogPosition> {
  const pos = ctx.startPosition ?? (await startingPosition(ctx.source.from, ctx.spec.sourceId));
  const at = formatPos(pos);
  const w = new DmError(
    'IncrementalFromCurrent',
    `task ${ctx.task.name} source ${ctx.spec.sourceId}: task-mode incremental without meta starts from the source's position at start-task ${at}; changes before it are not migrated`,
    { context: { task: ctx.task.name, source: ctx.spec.sourceId, position: posKey(pos) } },
  );
  ctx.log.warn({ code: w.code, position: at }, w.message);
  ctx.report({ warning: { ...w.toRecord(), warning: true } });
  return pos;
}

/**
 * False while a batch that some writers committed is being replayed and has not reached its end (`st.replayTo`): the
 * batch may then be cut only by a barrier, which the first run met at the same place. True from there on.
 */
export function mayCut(st: Pick<SyncState, 'replayTo'>, end: BinlogPosition | undefined): boolean {
  if (st.replayTo === undefined) return true;
  if (end === undefined || comparePos(end, st.replayTo) < 0) return false;
  st.replayTo = undefined;
  return true;
}

/**
 * Safe mode: the task says so, the stream is still inside the window a restarted load or --start-time left
 * (`safeUntil`), or the first start's safe-mode-duration has not run out (`safeUntilMs`).
 */
export function inSafeMode(st: SyncState): boolean {
  if (st.ctx.spec.sync.safeMode) return true;
  if (st.safeUntil !== undefined && comparePos(st.synced, st.safeUntil) < 0) return true;
  if (st.safeUntilMs === undefined) return false;
  if (Date.now() < st.safeUntilMs) return true;
  st.safeUntilMs = undefined;
  st.ctx.log.info("safe mode off: the first start's safe-mode-duration ran out");
  return false;
}

/**
 * Called about once a second by the sync loop with the reader's position: once the window has run out, where the
 * reader was then bounds every change written in safe mode; when every writer has committed up to there, the window
 * is recorded run out.
 */
export async function recordSafeWindow(st: SyncState, readPos: BinlogPosition | undefined): Promise<void> {
  if (!st.safeWindowOpen || inSafeMode(st) || !readPos) return;
  st.safeClosesAt ??= readPos;
  if (comparePos(st.synced, st.safeClosesAt) < 0) return;
  await writeSafeWindow(st.down, st.ctx.ckpt, st.ctx.spec.sourceId, false);
  st.safeWindowOpen = false;
  st.safeClosesAt = undefined;
}
