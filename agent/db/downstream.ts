import type { Connection } from 'mysql2/promise';
import { query } from './mysql.ts';

/**
 * Session settings for every downstream session that writes rows or creates tables: no foreign-key checks (a load
 * creates and fills tables in name order, a child before its parent, and parallel writers commit in any order, as
 * DM's loader and syncer do), and a neutral sql_mode. Statements whose effect downstream depends on the checks
 * (a DELETE or key UPDATE that cascades) switch them on for themselves (agent/sync/foreign-keys.ts).
 */
export async function prepareDownstream(down: Connection): Promise<void> {
  await query(down, 'downstream', "SET SESSION foreign_key_checks = 0, unique_checks = 1, sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
}
