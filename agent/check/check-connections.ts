import type { Connection } from 'mysql2/promise';
import type { SourceConfig, TaskConfig } from '../../src/config/types.ts';
import type { CheckItem } from '../../src/coord/index.ts';
import { asDmError } from '../../src/errors/index.ts';
import { connect, query, type Side } from '../db/mysql.ts';
import { ignored } from '../../src/config/checking-items.ts';
import { type ConnNeed, connectionPlan, judgeConnections, type ServerConns } from './connections-plan.ts';

/**
 * Precheck `conn_number` (DM's dumper/loader conn_number checkers, plus sync and validators, which DM leaves as a
 * TODO): what the task will open on the downstream and on each upstream against the server's max_connections and
 * what is in use now (connections-plan.ts). A failure when it can never fit, a warning when it does not fit now.
 */
export async function checkConnections(task: TaskConfig, sources: Record<string, SourceConfig>): Promise<CheckItem[]> {
  if (ignored(task, 'conn_number')) return [];
  const plan = connectionPlan(task, sources);
  return Promise.all([checkOne('downstream', plan.downstream), ...plan.upstreams.map((u) => checkOne('upstream', u))]);
}

async function checkOne(side: Side, need: ConnNeed): Promise<CheckItem> {
  const item = { name: `${side} max_connections`, ...(side === 'upstream' ? { source: need.sources.join(', ') } : {}) };
  let srv: ServerConns;
  try {
    const c = await connect(need.db, side);
    try {
      srv = await serverConns(c, side);
    } finally {
      c.destroy();
    }
  } catch (err) {
    // The connection check of that server reports why it cannot be reached; this one only says it was not made.
    return { ...item, ok: true, warning: `not checked: ${asDmError(err).message}` };
  }
  const v = judgeConnections(side, need, srv);
  if (v.error) return { ...item, ok: false, error: v.error.toRecord() };
  return { ...item, ok: true, ...(v.warning ? { warning: v.warning } : {}) };
}

/**
 * max_connections (0 = unlimited, as TiDB reports it), the connections open now (Threads_connected, which needs no
 * privilege, unlike DM's SHOW PROCESSLIST), and the user's own limit (the session value of max_user_connections is
 * the account's MAX_USER_CONNECTIONS when it has one) with the user's connections now (PROCESSLIST shows at least the
 * user's own threads without the PROCESS privilege). This check's own connection is not counted.
 */
async function serverConns(c: Connection, side: Side): Promise<ServerConns> {
  const [v] = await query<Record<string, string | number | null>[]>(
    c,
    side,
    'SELECT @@GLOBAL.max_connections AS max_conn, @@max_user_connections AS user_max, CURRENT_USER() AS who',
  );
  const status = await query<Record<string, string>[]>(c, side, "SHOW GLOBAL STATUS LIKE 'Threads_connected'");
  const used = Number(Object.values(status[0] ?? {})[1] ?? 0);
  const user = String(v?.who ?? '').replace(/@[^@]*$/, '');
  const [u] = await query<Record<string, number | string>[]>(
    c,
    side,
    'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?',
    [user],
  );
  return {
    max: Number(v?.max_conn ?? 0),
    used: Math.max(0, used - 1),
    userMax: Number(v?.user_max ?? 0),
    userUsed: Math.max(0, Number(u?.n ?? 1) - 1),
  };
}
