import type { Connection } from 'mysql2/promise';
import { query } from './db/mysql.ts';
import {
  deleteRows,
  META_TABLES,
  type MetaTable,
  metaTable,
  metaTableName,
  VALIDATOR_ERRORS,
  validatorErrorTable,
} from './checkpoint-tables.ts';

/**
 * The tables whose rows of the source are removed. `<task>_onlineddl` (agent/sync/online-ddl.ts) too: its shadow-table
 * statements belong to the old positions. Not `<task>_source_owner` / `<task>_owner_conn` (fencing: the term only
 * grows) nor `<task>_ddl_pending` (its row stays, cleared by the caller).
 */
const REMOVED: MetaTable[] = [
  'syncer_checkpoint',
  'loader_checkpoint',
  'start_time',
  'safe_window',
  'source_state',
  'schema_tracker',
  'shard_hold',
  'table_reload',
  'onlineddl',
];

/**
 * `start-task --remove-meta` in the downstream, carried out once per request and source (RemoveMetaRequest in
 * src/coord/records.ts), as DM's master removes the meta once, at start-task: the first subtask of the source after
 * the request deletes the source's checkpoint rows and records the request's id in `<task>_remove_meta (source)`; every
 * later subtask (a restart, resume-task, an agent restart, a failover) finds the id and resumes from the checkpoints
 * written since.
 *
 * Crash safety: the deletes and the id are one transaction, fenced like every checkpoint move (`beforeCommit`, after
 * the subtask's claim). A crash before its COMMIT leaves the old checkpoints and no id: the next subtask removes them,
 * before anything of the new migration was written. After it, the id: no subtask removes again, so nothing written
 * since is ever lost to a second removal. A stale owner's transaction rolls back at the fence.
 *
 * Continuous validation's error rows of the source (`<task>_validator_error_change`, agent/verify/validator-errors.ts)
 * go in the same transaction, as DM's start-task --remove-meta drops its validator tables: they describe rows of the
 * old migration.
 *
 * Returns false when `request` was carried out already.
 */
export async function removeOnce(
  conn: Connection,
  metaSchema: string,
  task: string,
  source: string,
  request: string,
  beforeCommit: () => Promise<void>,
): Promise<boolean> {
  const marker = metaTable(metaSchema, task, 'remove_meta');
  const [done] = await query<Record<string, string>[]>(
    conn,
    'downstream',
    `SELECT request FROM ${marker} WHERE source = ?`,
    [source],
  );
  if (done?.request === request) return false;
  // The source's one row, outside the transaction (checkpoint-tables.ts' lock discipline): it is updated by key.
  if (!done) await query(conn, 'downstream', `INSERT IGNORE INTO ${marker} (source, request) VALUES (?, '')`, [source]);
  // The error table exists only once validation found a difference (ensureErrorTable).
  const [hasErrors] = await query<Record<string, string>[]>(
    conn,
    'downstream',
    'SELECT 1 AS found FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [metaSchema, metaTableName(task, VALIDATOR_ERRORS)],
  );
  await query(conn, 'downstream', 'BEGIN');
  try {
    for (const t of REMOVED)
      await deleteRows(conn, metaTable(metaSchema, task, t), META_TABLES[t].key, 'source = ?', [source]);
    if (hasErrors) await deleteRows(conn, validatorErrorTable(metaSchema, task), ['id'], 'source = ?', [source]);
    await query(conn, 'downstream', `UPDATE ${marker} SET request = ? WHERE source = ?`, [request, source]);
    await beforeCommit();
    await query(conn, 'downstream', 'COMMIT');
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return true;
}
