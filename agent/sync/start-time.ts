import { type BinlogPosition, comparePos, formatPos, maxPos } from '../../src/binlog/position.ts';
import { binlogServerId } from '../binlog/zongji-reader.ts';
import { findPositionByTime, iso, timeEpoch } from '../binlog/time-finder.ts';
import { DmError, Errors } from '../../src/errors/index.ts';
import type { RelayFeed } from '../relay/reader.ts';
import { findInRelay } from '../relay/time-search.ts';
import type { DbConfig } from '../../src/config/types.ts';
import type { SourceState } from '../checkpoint.ts';
import type { SyncState } from './state.ts';
import { query } from '../db/mysql.ts';

/**
 * `start-task --start-time` in the sync unit, as DM's syncer does it (setGlobalPointByTime): the time wins over the
 * checkpoint and over meta. The position of the first transaction at or after the time (agent/binlog/time-finder.ts)
 * becomes every writer's checkpoint. When the task had a checkpoint further on, safe mode stays on until the stream
 * passes it again (DM does the same), so the rows replayed between the two positions are upserts, not duplicates.
 *
 * Applied once per request: the request (start-task generation and time) is recorded in the transaction that moves
 * the writers, so a restart of the subtask (an error, an agent restart, a failover) resumes from its checkpoint
 * instead of going back to the time again. DM clears the time from its task arguments at the first checkpoint flush.
 * A crash before that commit leaves the old checkpoint and no record: the next start finds the same position again.
 *
 * Returns undefined when there is no request for this source or it was applied already.
 */
export async function startTimePosition(
  st: SyncState,
  writers: { pos: BinlogPosition }[],
  state: SourceState | undefined,
): Promise<BinlogPosition | undefined> {
  const { ctx } = st;
  const req = ctx.startTime;
  if (!req || (await applied(st)) === req.request) return undefined;
  // Its own server id: the sync stream's may be open already (two streams with one id end each other, errno 4052).
  const serverId = binlogServerId(0, `${ctx.task.name}/${ctx.spec.sourceId}/start-time`);
  const { position, from } = await positionForTime(ctx.source.from, ctx.relay, req.time, serverId);
  const old = maxPos(writers.map((w) => w.pos));
  // Recorded as applied in the transaction that moves the writers.
  const extra: { sql: string; params: unknown[] }[] = [
    {
      sql: `INSERT INTO ${ctx.ckpt.startTimeT} (source, request) VALUES (?, ?) ON DUPLICATE KEY UPDATE request = VALUES(request)`,
      params: [ctx.spec.sourceId, req.request],
    },
  ];
  const replays = old !== undefined && comparePos(position, old) < 0;
  if (replays) {
    st.safeUntil = old;
    extra.push(ctx.ckpt.stateSql({ ...(state ?? { phase: 'sync' }), safeUntil: old }));
  }
  await ctx.ckpt.writeAllWriters(st.down, position, st.writerCount, st.tracker.toJSON(), extra);
  st.writerPos = Array.from({ length: st.writerCount }, () => position);
  ctx.log.info(
    { startTime: req.time, position: formatPos(position), from, ...(replays ? { safeUntil: formatPos(old) } : {}) },
    'start-time: replicating from the first binlog event at or after the time; the checkpoint and meta are not used',
  );
  return position;
}

/**
 * The position for the time. With the relay (enable-relay or start-relay), the relay is searched first, as DM's syncer
 * does (agent/relay/time-search.ts). When the relay does not reach back to the time, or not yet up to it (it lags the
 * upstream), the upstream's binlog is searched: the task's reader bridges from the upstream to the relay
 * (agent/relay/bridge.ts), or waits for the relay to catch up. DM instead starts at the relay's first event with a
 * warning when the time is older than the relay, which skips the events between the time and the relay's start.
 * When neither reaches back, StartTimeTooEarly names both.
 */
export async function positionForTime(
  up: DbConfig,
  relay: RelayFeed | undefined,
  text: string,
  serverId: number,
): Promise<{ position: BinlogPosition; from: 'relay' | 'upstream' }> {
  if (!relay?.store.state())
    return { position: (await findPositionByTime(up, text, serverId)).position, from: 'upstream' };
  const epoch = await timeEpoch(up, text);
  const m = findInRelay(relay.store, relay.head(), epoch);
  if (m.kind === 'found') return { position: m.position, from: 'relay' };
  try {
    return { position: (await findPositionByTime(up, text, serverId, epoch)).position, from: 'upstream' };
  } catch (err) {
    if (m.kind === 'before' && err instanceof DmError && err.code === Errors.StartTimeTooEarly.code) {
      const at = m.origin ? `at ${formatPos(m.origin)}; ` : '';
      throw new DmError(
        'StartTimeTooEarly',
        `${err.message}; the relay of this source starts later too (${at}its first event is at ${iso(m.firstTs)})`,
        {
          context: { ...err.context },
          suggestion: `Give a time at or after ${iso(m.firstTs)} (the relay's first event) or the first event of the upstream's oldest binlog file, whichever is earlier; or migrate with task-mode all.`,
        },
      );
    }
    throw err;
  }
}

/** The request last applied to this source's writers (`<task>_start_time`), if any. */
async function applied(st: SyncState): Promise<string | undefined> {
  const sql = `SELECT request FROM ${st.ctx.ckpt.startTimeT} WHERE source = ?`;
  return (await query<Record<string, string>[]>(st.down, 'downstream', sql, [st.ctx.spec.sourceId]))[0]?.request;
}
