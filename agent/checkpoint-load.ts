import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../src/binlog/position.ts';
import { query } from './db/mysql.ts';
import { rowPos } from './checkpoint-tables.ts';

/**
 * The load unit's rows: `<task>_loader_checkpoint (source, chunk)` (`loadT`, the chunk plan and which chunks are
 * loaded) and `<task>_table_reload (source, table)` (`reloadT`, tables a resumed load reloaded whole). The tables
 * are passed quoted (metaTable); CheckpointStore runs these statements inside its fenced transactions.
 */

export interface ChunkRow {
  chunkId: string;
  schema: string;
  table: string;
  targetSchema: string;
  targetTable: string;
  /** Key range [lo, hi) on `keyColumn`; null bound = unbounded. No key column = the whole table. */
  keyColumn: string | null;
  lo: string | null;
  hi: string | null;
  estRows: number;
  done: boolean;
  rows: number;
  snapshot?: BinlogPosition;
}

/** A table (or, with table '', a schema's own DDL) reloaded whole at snapshot position `at`. */
export interface TableReload {
  schema: string;
  table: string;
  at: BinlogPosition;
}

/** The chunk plan, or with `chunkId` just that chunk. */
export async function readChunks(
  conn: Connection,
  loadT: string,
  source: string,
  chunkId?: string,
): Promise<ChunkRow[]> {
  const rows = await query<Record<string, string | number | null>[]>(
    conn,
    'downstream',
    `SELECT * FROM ${loadT} WHERE source = ?${chunkId === undefined ? '' : ' AND chunk_id = ?'} ORDER BY chunk_id`,
    chunkId === undefined ? [source] : [source, chunkId],
  );
  return rows.map((r) => {
    const c: ChunkRow = {
      chunkId: String(r.chunk_id),
      schema: String(r.schema_name),
      table: String(r.table_name),
      targetSchema: String(r.target_schema),
      targetTable: String(r.target_table),
      keyColumn: r.key_column === null ? null : String(r.key_column),
      lo: r.lo === null ? null : String(r.lo),
      hi: r.hi === null ? null : String(r.hi),
      estRows: Number(r.est_rows),
      done: Number(r.done) === 1,
      rows: Number(r.rows_loaded),
    };
    if (r.snapshot_name) c.snapshot = rowPos(r.snapshot_name, r.snapshot_pos, r.snapshot_gtid);
    return c;
  });
}

export async function insertChunks(conn: Connection, loadT: string, source: string, chunks: ChunkRow[]): Promise<void> {
  for (let i = 0; i < chunks.length; i += 500) {
    const part = chunks.slice(i, i + 500);
    await query(
      conn,
      'downstream',
      `INSERT INTO ${loadT} (source, chunk_id, schema_name, table_name, target_schema, target_table, key_column, lo, hi, est_rows) VALUES ?`,
      [
        part.map((c) => [
          source,
          c.chunkId,
          c.schema,
          c.table,
          c.targetSchema,
          c.targetTable,
          c.keyColumn,
          c.lo,
          c.hi,
          c.estRows,
        ]),
      ],
    );
  }
}

/** Marks the chunk loaded: inside the chunk's load transaction (the caller checks the fence after it). */
export async function setChunkDone(
  conn: Connection,
  loadT: string,
  source: string,
  chunkId: string,
  rows: number,
  snapshot: BinlogPosition,
): Promise<void> {
  await query(
    conn,
    'downstream',
    `UPDATE ${loadT} SET done = 1, rows_loaded = ?, snapshot_name = ?, snapshot_pos = ?, snapshot_gtid = ? WHERE source = ? AND chunk_id = ?`,
    [rows, snapshot.name, snapshot.pos, snapshot.gtid ?? null, source, chunkId],
  );
}

/** Tables (and schemas, table '') reloaded whole by a resumed load, with the snapshot position they were loaded at. */
export async function readReloads(conn: Connection, reloadT: string, source: string): Promise<TableReload[]> {
  const rows = await query<Record<string, string | number | null>[]>(
    conn,
    'downstream',
    `SELECT * FROM ${reloadT} WHERE source = ?`,
    [source],
  );
  return rows.map((r) => ({
    schema: String(r.schema_name),
    table: String(r.table_name),
    at: rowPos(r.binlog_name, r.binlog_pos, r.binlog_gtid),
  }));
}

export async function writeReload(conn: Connection, reloadT: string, source: string, r: TableReload): Promise<void> {
  await query(
    conn,
    'downstream',
    `INSERT INTO ${reloadT} (source, schema_name, table_name, binlog_name, binlog_pos, binlog_gtid) VALUES (?,?,?,?,?,?)
          ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos), binlog_gtid = VALUES(binlog_gtid)`,
    [source, r.schema, r.table, r.at.name, r.at.pos, r.at.gtid ?? null],
  );
}
