import type { SourceConfig, SubtaskSpec, TaskConfig } from '../../src/config/types.ts';
import type { CheckItem } from '../../src/coord/index.ts';
import { asDmError, DmError, Errors } from '../../src/errors/index.ts';
import { checkStartPosition } from '../binlog/start-position.ts';
import { CheckpointStore } from '../checkpoint.ts';
import { connect } from '../db/mysql.ts';
import { ignored } from '../../src/config/checking-items.ts';
import { formatPos, posKey } from '../../src/binlog/position.ts';
import { startingPosition } from '../db/binlog-status.ts';
import { findPositionByTime } from '../binlog/time-finder.ts';
import { binlogServerId } from '../binlog/zongji-reader.ts';

/** The server's errno for a table (or its schema) that does not exist: the task has no checkpoint yet. */
const NO_TABLE = new Set([1146, 1049]);

/**
 * Precheck `meta_position` (DM's "meta position check"): an incremental task starts from `meta`, so its binlog file
 * must exist upstream and its position be the start of an event (agent/binlog/start-position.ts); a wrong one is
 * BinlogPositionInvalid here, at start-task, instead of a BinlogPurged pause later. Only where meta will be used: task-mode
 * incremental, meta with a binlog-name, and no checkpoint of the task for the source yet (a restarted task resumes
 * from its checkpoint and ignores meta; after `start-task --remove-meta` the sync unit checks meta again before it
 * starts, agent/sync/resume.ts). undefined when there is nothing to check.
 */
export async function checkMetaPosition(
  task: TaskConfig,
  spec: SubtaskSpec,
  src: SourceConfig,
  removeMeta = false,
): Promise<CheckItem | undefined> {
  const meta = spec.meta;
  if (task.taskMode === 'incremental' && !meta?.binlogName && !meta?.binlogGtid)
    return currentStart(task, spec, src, removeMeta);
  if (task.taskMode !== 'incremental' || !meta?.binlogName || ignored(task, 'meta_position')) return undefined;
  const item = { name: 'meta position', source: spec.sourceId };
  try {
    if (await hasCheckpoint(task, spec)) return undefined;
    const up = await connect(src.from, 'upstream');
    let err: DmError | undefined;
    try {
      err = await checkStartPosition(
        up,
        { name: meta.binlogName, pos: meta.binlogPos },
        `meta of source ${spec.sourceId} (binlog-name/binlog-pos)`,
      );
    } finally {
      up.destroy();
    }
    // With enable-relay the relay may still hold a file the upstream purged (DM skips this check for relay sources):
    // sync then reads it from there, or its stream reports the purge.
    if (err?.code === Errors.BinlogPurged.code && src.enableRelay) err = undefined;
    if (err) err.context.source = spec.sourceId;
    return err ? { ...item, ok: false, error: err.toRecord() } : { ...item, ok: true };
  } catch (err) {
    return { ...item, ok: false, error: asDmError(err).toRecord() };
  }
}

/**
 * Task-mode incremental without meta and without a checkpoint: the task starts from the source's current position,
 * read here, at start-task, as DM's start-task reads it (dm/master/server.go GetLatestMeta), so that what is written
 * upstream once start-task has returned is migrated (`removeMeta`: start-task --remove-meta, whose checkpoints do not
 * count). start-task records it (TaskRecord.startPosition); the sync unit starts there (agent/sync/resume.ts).
 * undefined when the task resumes from a checkpoint.
 */
async function currentStart(
  task: TaskConfig,
  spec: SubtaskSpec,
  src: SourceConfig,
  removeMeta: boolean,
): Promise<CheckItem | undefined> {
  const item = { name: 'start position', source: spec.sourceId };
  try {
    // start-task --remove-meta: the checkpoints there now are removed before the task starts.
    if (!removeMeta && (await hasCheckpoint(task, spec))) return undefined;
    const pos = await startingPosition(src.from, spec.sourceId);
    return {
      ...item,
      ok: true,
      detail: `no meta: from the source's current position ${formatPos(pos)}`,
      startFrom: pos,
    };
  } catch (err) {
    return { ...item, ok: false, error: asDmError(err).toRecord() };
  }
}

/**
 * start-task/check-task --start-time: the source has a binlog position for the time (agent/binlog/time-finder.ts), or
 * the check fails with StartTimeTooEarly / StartTimeTooLate. The sync unit looks the position up again when it starts.
 * With the source's relay on (`relay`), the sync unit searches the relay first (agent/sync/start-time.ts), which this
 * check cannot read (it runs on any agent; the relay is on the bound one): a time the upstream has purged passes with
 * a warning, and the sync unit reports StartTimeTooEarly if the relay does not reach back either.
 */
export async function checkStartTime(
  task: TaskConfig,
  spec: SubtaskSpec,
  src: SourceConfig,
  time: string,
  relay = false,
): Promise<CheckItem> {
  const item = { name: 'start time', source: spec.sourceId };
  try {
    const serverId = binlogServerId(0, `${task.name}/${spec.sourceId}/start-time`);
    const m = await findPositionByTime(src.from, time, serverId);
    return { ...item, ok: true, detail: `${time}: from ${posKey(m.position)}` };
  } catch (err) {
    const e = asDmError(err);
    e.context.source = spec.sourceId;
    if (relay && e.code === Errors.StartTimeTooEarly.code)
      return {
        ...item,
        ok: true,
        warning: `${e.message}; the task reads the relay of ${spec.sourceId}, which is searched for the time when the task starts`,
      };
    return { ...item, ok: false, error: e.toRecord() };
  }
}

async function hasCheckpoint(task: TaskConfig, spec: SubtaskSpec): Promise<boolean> {
  const down = await connect(task.targetDatabase, 'downstream');
  try {
    const ck = new CheckpointStore(task.metaSchema, task.name, spec.sourceId);
    if ((await ck.readWriters(down)).length > 0) return true;
    return (await ck.readState(down))?.syncStart !== undefined;
  } catch (err) {
    if (err instanceof DmError && NO_TABLE.has(err.context.errno ?? 0)) return false;
    throw err;
  } finally {
    down.destroy();
  }
}
