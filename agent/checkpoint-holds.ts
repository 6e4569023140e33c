import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../src/binlog/position.ts';
import { query } from './db/mysql.ts';
import { deleteRows, META_TABLES, rowPos } from './checkpoint-tables.ts';

/**
 * The rows of `<task>_shard_hold (source, table)`: shard tables whose events are held by a shard-DDL lock
 * (agent/shard/pessimist.ts). `holdT` is that table, quoted (metaTable); CheckpointStore fences the writes that
 * need it.
 */

/**
 * A shard table whose events the writer checkpoints do not cover (shard-mode tasks). While `blocked`, the table's
 * events after `start` (its DDL) are not applied; once its lock is released they are replayed from `start` and
 * `applied` records how far (moved by writer 0 in the same transaction as the rows). Invariant: the table's events
 * with end <= applied are applied downstream, those after it are not, whatever the writer checkpoints say.
 */
export interface ShardHold {
  schema: string;
  table: string;
  targetSchema: string;
  targetTable: string;
  /** End of the DDL event the table stopped at; the stream replays from here. */
  start: BinlogPosition;
  applied: BinlogPosition;
  blocked: boolean;
  /** The routed DDL statements of the lock this table reached. */
  ddls: string[];
  /** Upstream schema right after the DDL (the replay starts reading with it). */
  tracker: unknown;
  /** In memory only: released, but the stream has not been rewound to `start` yet (its events must wait). */
  awaitingReplay?: boolean;
}

export async function readHolds(conn: Connection, holdT: string, source: string): Promise<ShardHold[]> {
  const rows = await query<Record<string, string | number | null>[]>(
    conn,
    'downstream',
    `SELECT * FROM ${holdT} WHERE source = ? ORDER BY schema_name, table_name`,
    [source],
  );
  return rows.map((r) => ({
    schema: String(r.schema_name),
    table: String(r.table_name),
    targetSchema: String(r.target_schema),
    targetTable: String(r.target_table),
    start: rowPos(r.start_name, r.start_pos, r.start_gtid),
    applied: rowPos(r.applied_name, r.applied_pos, r.applied_gtid),
    blocked: Number(r.blocked) === 1,
    ddls: JSON.parse(String(r.ddls)) as string[],
    tracker: JSON.parse(String(r.tracker)) as unknown,
  }));
}

/** A table reaches a shard DDL: written in the barrier transaction that moves the writers past that DDL. */
export function holdSql(holdT: string, source: string, h: ShardHold): { sql: string; params: unknown[] } {
  return {
    sql: `INSERT INTO ${holdT} (source, schema_name, table_name, target_schema, target_table, start_name, start_pos, start_gtid,
            applied_name, applied_pos, applied_gtid, blocked, ddls, tracker) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON DUPLICATE KEY UPDATE target_schema = VALUES(target_schema), target_table = VALUES(target_table), start_name = VALUES(start_name),
            start_pos = VALUES(start_pos), start_gtid = VALUES(start_gtid), applied_name = VALUES(applied_name), applied_pos = VALUES(applied_pos),
            applied_gtid = VALUES(applied_gtid), blocked = VALUES(blocked), ddls = VALUES(ddls), tracker = VALUES(tracker)`,
    params: [
      source,
      h.schema,
      h.table,
      h.targetSchema,
      h.targetTable,
      h.start.name,
      h.start.pos,
      h.start.gtid ?? null,
      h.applied.name,
      h.applied.pos,
      h.applied.gtid ?? null,
      h.blocked ? 1 : 0,
      JSON.stringify(h.ddls),
      JSON.stringify(h.tracker),
    ],
  };
}

/** A released hold's events are applied up to `p`: inside writer 0's transaction (or a barrier's). */
export function holdAppliedSql(
  holdT: string,
  source: string,
  schema: string,
  table: string,
  p: BinlogPosition,
): { sql: string; params: unknown[] } {
  return {
    sql: `UPDATE ${holdT} SET applied_name = ?, applied_pos = ?, applied_gtid = ? WHERE source = ? AND schema_name = ? AND table_name = ? AND blocked = 0`,
    params: [p.name, p.pos, p.gtid ?? null, source, schema, table],
  };
}

/** The hold's lock is released (the caller checks the fence first). */
export async function unblockHold(
  conn: Connection,
  holdT: string,
  source: string,
  schema: string,
  table: string,
): Promise<void> {
  await query(
    conn,
    'downstream',
    `UPDATE ${holdT} SET blocked = 0 WHERE source = ? AND schema_name = ? AND table_name = ?`,
    [source, schema, table],
  );
}

export async function deleteHold(
  conn: Connection,
  holdT: string,
  source: string,
  schema: string,
  table: string,
): Promise<void> {
  await deleteRows(
    conn,
    holdT,
    META_TABLES.shard_hold.key,
    'source = ? AND schema_name = ? AND table_name = ? AND blocked = 0',
    [source, schema, table],
  );
}
