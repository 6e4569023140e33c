import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { connect, query } from './mysql.ts';

/** Where the upstream's binlog is now: read by the dump's snapshot, the sync unit's start and the relay. */

/** The upstream's GTID state: MariaDB `gtid_binlog_pos`, MySQL `gtid_executed`. */
export async function readGtid(conn: Connection): Promise<string | undefined> {
  try {
    const [r] = await query<Record<string, string>[]>(conn, 'upstream', 'SELECT @@GLOBAL.gtid_binlog_pos AS g');
    return r?.g || undefined;
  } catch {
    try {
      const [r] = await query<Record<string, string>[]>(conn, 'upstream', 'SELECT @@GLOBAL.gtid_executed AS g');
      return r?.g?.replace(/\s/g, '') || undefined;
    } catch {
      return undefined;
    }
  }
}

export async function masterStatus(conn: Connection): Promise<BinlogPosition | undefined> {
  const [ms] = await query<Record<string, string | number>[]>(conn, 'upstream', 'SHOW MASTER STATUS');
  if (!ms) return undefined;
  const p: BinlogPosition = { name: String(ms.File), pos: Number(ms.Position) };
  const g = await readGtid(conn);
  if (g) p.gtid = g;
  return p;
}

/**
 * Where an incremental task without meta and without a checkpoint starts: the upstream's position now, on a
 * connection of its own (read by start-task's precheck, agent/check/check-meta.ts, and by a sync unit whose task
 * record does not carry it, agent/sync/resume.ts). UpstreamBinlogDisabled when the server reports none.
 */
export async function startingPosition(db: DbConfig, source: string): Promise<BinlogPosition> {
  const up = await connect(db, 'upstream');
  try {
    const pos = await masterStatus(up);
    if (!pos)
      throw new DmError(
        'UpstreamBinlogDisabled',
        `source ${source}: SHOW MASTER STATUS returned nothing, so an incremental task without meta or checkpoint has no position to start from`,
      );
    return pos;
  } finally {
    up.destroy();
  }
}
