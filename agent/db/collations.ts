import type { Connection } from 'mysql2/promise';
import { collationDefaults, type UpstreamCollations } from '../../src/sql/strict-collation.ts';
import { query } from './mysql.ts';

/**
 * What `collation_compatible: strict` needs from an upstream, read once per unit run (as DM's syncer reads
 * `GetCharsetAndCollationInfo` at init): each charset's default collation, collation ids (a binlog event names the
 * session's collation_server by id) and the global collation_server (for a statement whose event does not say).
 */
export interface UpstreamCollationInfo {
  defaults: Map<string, string>;
  byId: Map<number, string>;
  server: string;
}

export async function readUpstreamCollations(conn: Connection): Promise<UpstreamCollationInfo> {
  const rows = await query<Record<string, string | number | null>[]>(
    conn,
    'upstream',
    'SELECT COLLATION_NAME, CHARACTER_SET_NAME, ID, IS_DEFAULT FROM information_schema.COLLATIONS',
  );
  // SHOW VARIABLES ... IN: a variable the server lacks (MariaDB has no default_collation_for_utf8mb4) is just absent.
  const varRows = await query<Record<string, string>[]>(
    conn,
    'upstream',
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('collation_server', 'default_collation_for_utf8mb4', 'character_set_collations')",
  );
  const vars: Record<string, string> = {};
  for (const r of varRows) vars[String(r.Variable_name).toLowerCase()] = String(r.Value ?? '');
  const list = rows.map((r) => ({
    collation: String(r.COLLATION_NAME),
    charset: String(r.CHARACTER_SET_NAME),
    id: r.ID === null ? null : Number(r.ID),
    isDefault: String(r.IS_DEFAULT ?? '').toLowerCase() === 'yes',
  }));
  const byId = new Map<number, string>();
  for (const r of list) if (r.id !== null) byId.set(r.id, r.collation.toLowerCase());
  return { defaults: collationDefaults(list, vars), byId, server: (vars['collation_server'] ?? '').toLowerCase() };
}

/** The defaults for one statement: `serverId` is the collation_server id its binlog event carries (undefined: the
 * event did not say, the global collation_server stands in). */
export function forStatement(info: UpstreamCollationInfo, serverId?: number): UpstreamCollations {
  const server = (serverId !== undefined ? info.byId.get(serverId) : undefined) ?? (info.server || undefined);
  return server ? { defaults: info.defaults, server } : { defaults: info.defaults };
}
