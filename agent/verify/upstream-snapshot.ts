import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { quoteIdent } from '../../src/sql/table-name.ts';
import { masterStatus } from '../db/binlog-status.ts';
import { connect, query } from '../db/mysql.ts';

/**
 * check-data's upstream side of a View (types.ts): one connection in a REPEATABLE READ transaction WITH CONSISTENT
 * SNAPSHOT, and the binlog position that snapshot is exactly at, without stopping writes and never with
 * FLUSH TABLES WITH READ LOCK.
 *
 * - MariaDB reports the snapshot's own position: `binlog_snapshot_file` / `binlog_snapshot_position` (session status,
 *   set by START TRANSACTION WITH CONSISTENT SNAPSHOT): the end of the last transaction the snapshot sees. Nothing is
 *   locked. It compares with sync positions as they are (both are upstream (file, end offset) pairs, whether sync
 *   reads the relay or the binlog: the relay stores upstream positions).
 * - MySQL has no such status: a second connection takes `LOCK TABLES <compared tables> READ` (it waits for writes in
 *   progress on them and holds new ones back; other tables keep being written), the snapshot starts, SHOW MASTER
 *   STATUS is read, UNLOCK TABLES. Between the snapshot and that position only other tables can have changed, and
 *   those are not compared. The lock is held for a few milliseconds; the user needs the LOCK TABLES privilege (and
 *   SELECT) on those tables. It must be another session: START TRANSACTION releases the table locks of its own.
 *
 * A server without a binary log answers position ('', 0): usable only for a source whose sync is not running.
 */
export interface UpstreamSnapshot {
  conn: Connection;
  position: BinlogPosition;
}

/** How long the MySQL path waits for LOCK TABLES before giving up (a long transaction on a compared table). */
const LOCK_WAIT_S = 10;

export async function openUpstreamSnapshot(
  db: DbConfig,
  tables: [string, string][],
  opts: { lockTables?: boolean } = {},
): Promise<UpstreamSnapshot> {
  const conn = await connect(db, 'upstream');
  try {
    // connect() already sets '+00:00' upstream unless the source's session block says otherwise; the View contract
    // needs UTC whatever it says (TIMESTAMP values must read the same on both sides).
    await query(conn, 'upstream', "SET SESSION time_zone = '+00:00'");
    await query(conn, 'upstream', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    if (!opts.lockTables) {
      await query(conn, 'upstream', 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const position = await snapshotStatus(conn);
      if (position) return { conn, position };
      await query(conn, 'upstream', 'ROLLBACK');
    }
    return { conn, position: await underTableLocks(db, conn, tables) };
  } catch (err) {
    conn.destroy();
    if (err instanceof DmError) throw err;
    throw new DmError('VerifySnapshotFailed', `cannot open the upstream snapshot: ${String(err)}`, { cause: err });
  }
}

/** MariaDB: the snapshot's position; undefined when the server has no such status (MySQL). */
async function snapshotStatus(conn: Connection): Promise<BinlogPosition | undefined> {
  const rows = await query<{ Variable_name: string; Value: string }[]>(
    conn,
    'upstream',
    "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'",
  );
  const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const file = v.get('binlog_snapshot_file');
  const pos = v.get('binlog_snapshot_position');
  if (file === undefined || pos === undefined) return undefined;
  return { name: file, pos: file ? Number(pos) : 0 };
}

async function underTableLocks(db: DbConfig, conn: Connection, tables: [string, string][]): Promise<BinlogPosition> {
  const lock = await connect(db, 'upstream');
  try {
    if (tables.length > 0) {
      await query(lock, 'upstream', `SET SESSION lock_wait_timeout = ${LOCK_WAIT_S}`);
      const list = tables.map(([s, t]) => `${quoteIdent(s)}.${quoteIdent(t)} READ`).join(', ');
      try {
        await lock.query(`LOCK TABLES ${list}`);
      } catch (err) {
        throw new DmError(
          'VerifySnapshotFailed',
          `LOCK TABLES ... READ on the ${tables.length} compared table(s) failed (the upstream has no binlog_snapshot_file status, so the snapshot's position is read under this lock): ${String(err)}`,
          { cause: err },
        );
      }
    }
    await query(conn, 'upstream', 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const position = await masterStatus(lock);
    if (tables.length > 0) await query(lock, 'upstream', 'UNLOCK TABLES');
    return position ?? { name: '', pos: 0 };
  } finally {
    lock.destroy();
  }
}
