import { query } from '../db/mysql.ts';
import type { Connection } from 'mysql2/promise';
import type { CheckpointStore } from '../checkpoint.ts';

/**
 * The first start's safe-mode-duration window in `<task>_safe_window (source)`: recorded open by the sync unit's
 * first start, recorded run out once it has, with every change written in it committed; a start that finds it open
 * runs in safe mode for the whole duration again (all three in resume.ts).
 *
 * Not fenced: a stale owner can at worst record it open again (the next start then runs in safe mode once more,
 * which is always correct) or run out after its own window did, with its changes committed up to there.
 */
export async function readSafeWindowOpen(conn: Connection, ckpt: CheckpointStore, source: string): Promise<boolean> {
  const rows = await query<{ open: number }[]>(
    conn,
    'downstream',
    `SELECT open FROM ${ckpt.safeWindowT} WHERE source = ?`,
    [source],
  );
  return Number(rows[0]?.open ?? 0) === 1;
}

export async function writeSafeWindow(
  conn: Connection,
  ckpt: CheckpointStore,
  source: string,
  open: boolean,
): Promise<void> {
  await query(
    conn,
    'downstream',
    `INSERT INTO ${ckpt.safeWindowT} (source, open) VALUES (?, ?) ON DUPLICATE KEY UPDATE open = VALUES(open)`,
    [source, open ? 1 : 0],
  );
}
