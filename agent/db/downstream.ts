import type { Connection } from 'mysql2/promise';
import type { TaskConfig } from '../../src/config/types.ts';
import { connect } from './mysql.ts';
import { taskZone } from './timezone.ts';

/**
 * A downstream connection that writes a task's rows (load worker, sync writer, and the same again after the server
 * closed one): its session is prepared by connect() like every other (no foreign-key checks, tsdm's sql_mode, the
 * user's target-database.session; see src/sql/session-vars.ts), in the task's time zone, and registered as this
 * owner's connection so that a later owner can end it (fencing, checkpoint.ts claim).
 */
/** What openDataConnection needs of its owner: the checkpoint store (agent/checkpoint.ts) registers for fencing. */
export interface ConnectionRegistry {
  register(conn: Connection): Promise<void>;
}

export async function openDataConnection(
  task: TaskConfig,
  ckpt: ConnectionRegistry,
  opts: { multipleStatements?: boolean } = {},
): Promise<Connection> {
  const c = await connect(task.targetDatabase, 'downstream', { timeZone: taskZone(task).session, ...opts });
  try {
    await ckpt.register(c);
  } catch (err) {
    c.destroy();
    throw err;
  }
  return c;
}
