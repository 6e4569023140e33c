import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../src/coord/records.ts';
import { DmError } from '../src/errors/index.ts';
import { escapeId, query } from './db/mysql.ts';
import { hash } from './sync/dispatcher.ts';

/**
 * Checkpoints live in the downstream, schema `meta-schema` (DM's layout idea, tsdm's tables):
 *
 *   <task>_syncer_checkpoint (source, writer) -> position covered by that writer
 *   <task>_loader_checkpoint (source, chunk)  -> chunk plan and whether the chunk is loaded
 *   <task>_source_state      (source)         -> phase (load|sync|finished), sync start and safe-mode end
 *
 * Invariants:
 *  - a writer's row is updated in the same downstream transaction as the rows it covers, so after any crash the
 *    downstream holds exactly the changes up to that writer's position (exactly-once per writer);
 *  - the resume position of a source is the lowest writer position; on replay each writer skips transactions its
 *    own position covers;
 *  - a chunk is marked done in the same transaction that loads its rows, so a restart reloads only pending chunks.
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

export interface SourceState {
  phase: 'load' | 'sync' | 'finished';
  /** Where sync starts when no writer checkpoint exists yet (lowest snapshot position, or meta). */
  syncStart?: BinlogPosition;
  /** Highest snapshot position: safe mode stays on until sync passes it. */
  safeUntil?: BinlogPosition;
}

/**
 * `<task>_<suffix>`, kept within MySQL's 64-character identifier limit: a long task name is cut and given a hash
 * of the whole name, so two long names never share tables.
 */
export function metaTableName(task: string, suffix: string): string {
  const full = `${task}_${suffix}`;
  if (full.length <= 64) return full;
  const tag = hash(task).toString(16).padStart(8, '0');
  return `${task.slice(0, 64 - suffix.length - tag.length - 2)}_${tag}_${suffix}`;
}

export class CheckpointStore {
  private readonly syncT: string;
  private readonly loadT: string;
  private readonly stateT: string;
  private readonly ddlT: string;
  private readonly schemaT: string;

  constructor(private readonly metaSchema: string, private readonly task: string, private readonly source: string) {
    this.syncT = `${escapeId(metaSchema)}.${escapeId(metaTableName(task, 'syncer_checkpoint'))}`;
    this.loadT = `${escapeId(metaSchema)}.${escapeId(metaTableName(task, 'loader_checkpoint'))}`;
    this.stateT = `${escapeId(metaSchema)}.${escapeId(metaTableName(task, 'source_state'))}`;
    this.ddlT = `${escapeId(metaSchema)}.${escapeId(metaTableName(task, 'ddl_pending'))}`;
    this.schemaT = `${escapeId(metaSchema)}.${escapeId(metaTableName(task, 'schema_tracker'))}`;
  }

  async init(conn: Connection): Promise<void> {
    await query(conn, 'downstream', `CREATE DATABASE IF NOT EXISTS ${escapeId(this.metaSchema)}`);
    await query(conn, 'downstream', `CREATE TABLE IF NOT EXISTS ${this.syncT} (
      source VARCHAR(128) NOT NULL, writer INT NOT NULL, binlog_name VARCHAR(255) NOT NULL, binlog_pos BIGINT UNSIGNED NOT NULL,
      binlog_gtid TEXT NULL, workers INT NOT NULL, updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      PRIMARY KEY (source, writer)) DEFAULT CHARSET=utf8mb4`);
    await query(conn, 'downstream', `CREATE TABLE IF NOT EXISTS ${this.loadT} (
      source VARCHAR(128) NOT NULL, chunk_id VARCHAR(600) NOT NULL, schema_name VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL,
      target_schema VARCHAR(128) NOT NULL, target_table VARCHAR(128) NOT NULL, key_column VARCHAR(128) NULL,
      lo TEXT NULL, hi TEXT NULL, est_rows BIGINT NOT NULL DEFAULT 0, done TINYINT NOT NULL DEFAULT 0, rows_loaded BIGINT NOT NULL DEFAULT 0,
      snapshot_name VARCHAR(255) NULL, snapshot_pos BIGINT UNSIGNED NULL, snapshot_gtid TEXT NULL,
      updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      PRIMARY KEY (source, chunk_id)) DEFAULT CHARSET=utf8mb4`);
    await query(conn, 'downstream', `CREATE TABLE IF NOT EXISTS ${this.stateT} (
      source VARCHAR(128) NOT NULL PRIMARY KEY, phase VARCHAR(16) NOT NULL,
      start_name VARCHAR(255) NULL, start_pos BIGINT UNSIGNED NULL, start_gtid TEXT NULL,
      safe_name VARCHAR(255) NULL, safe_pos BIGINT UNSIGNED NULL,
      updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)) DEFAULT CHARSET=utf8mb4`);
    await query(conn, 'downstream', `CREATE TABLE IF NOT EXISTS ${this.ddlT} (
      source VARCHAR(128) NOT NULL PRIMARY KEY, position VARCHAR(300) NOT NULL) DEFAULT CHARSET=utf8mb4`);
    await query(conn, 'downstream', `CREATE TABLE IF NOT EXISTS ${this.schemaT} (
      source VARCHAR(128) NOT NULL PRIMARY KEY, tracker LONGTEXT NOT NULL,
      updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)) DEFAULT CHARSET=utf8mb4`);
  }

  /** The upstream schema as of the checkpoint (see SchemaTracker); written in the transactions that move it. */
  async readTracker(conn: Connection): Promise<unknown | undefined> {
    const [r] = await query<Record<string, string>[]>(conn, 'downstream', `SELECT tracker FROM ${this.schemaT} WHERE source = ?`, [this.source]);
    if (!r) return undefined;
    try { return JSON.parse(String(r.tracker)) as unknown; }
    catch (err) { throw new DmError('CheckpointCorrupt', `schema tracker of ${this.task}/${this.source} in ${this.metaSchema} is not valid JSON`, { cause: err }); }
  }

  private async writeTracker(conn: Connection, tracker: unknown): Promise<void> {
    await query(conn, 'downstream', `REPLACE INTO ${this.schemaT} (source, tracker) VALUES (?, ?)`, [this.source, JSON.stringify(tracker)]);
  }

  /** Written (autocommit) right before a DDL runs downstream; cleared with the checkpoint that moves past it. */
  async markDdlPending(conn: Connection, position: string): Promise<void> {
    await query(conn, 'downstream', `REPLACE INTO ${this.ddlT} (source, position) VALUES (?, ?)`, [this.source, position]);
  }

  /** A DDL that failed did not take effect: forget the marker, so a plain resume does not take it as applied. */
  async clearDdlPending(conn: Connection): Promise<void> {
    await query(conn, 'downstream', `DELETE FROM ${this.ddlT} WHERE source = ?`, [this.source]);
  }

  async readDdlPending(conn: Connection): Promise<string | undefined> {
    const [r] = await query<Record<string, string>[]>(conn, 'downstream', `SELECT position FROM ${this.ddlT} WHERE source = ?`, [this.source]);
    return r?.position;
  }

  /** `start-task --remove-meta`: forget everything of this (task, source). */
  async remove(conn: Connection): Promise<void> {
    for (const t of [this.syncT, this.loadT, this.stateT, this.ddlT, this.schemaT]) {
      await query(conn, 'downstream', `DELETE FROM ${t} WHERE source = ?`, [this.source]).catch(() => undefined);
    }
  }

  async readState(conn: Connection): Promise<SourceState | undefined> {
    const rows = await query<Record<string, string | number | null>[]>(conn, 'downstream', `SELECT * FROM ${this.stateT} WHERE source = ?`, [this.source]);
    const r = rows[0];
    if (!r) return undefined;
    const st: SourceState = { phase: String(r.phase) as SourceState['phase'] };
    if (r.start_name) st.syncStart = pos(r.start_name, r.start_pos, r.start_gtid);
    if (r.safe_name) st.safeUntil = pos(r.safe_name, r.safe_pos, null);
    return st;
  }

  async writeState(conn: Connection, st: SourceState): Promise<void> {
    await query(conn, 'downstream', `REPLACE INTO ${this.stateT} (source, phase, start_name, start_pos, start_gtid, safe_name, safe_pos) VALUES (?,?,?,?,?,?,?)`,
      [this.source, st.phase, st.syncStart?.name ?? null, st.syncStart?.pos ?? null, st.syncStart?.gtid ?? null, st.safeUntil?.name ?? null, st.safeUntil?.pos ?? null]);
  }

  async readChunks(conn: Connection): Promise<ChunkRow[]> {
    const rows = await query<Record<string, string | number | null>[]>(conn, 'downstream', `SELECT * FROM ${this.loadT} WHERE source = ? ORDER BY chunk_id`, [this.source]);
    return rows.map((r) => {
      const c: ChunkRow = {
        chunkId: String(r.chunk_id), schema: String(r.schema_name), table: String(r.table_name),
        targetSchema: String(r.target_schema), targetTable: String(r.target_table),
        keyColumn: r.key_column === null ? null : String(r.key_column), lo: r.lo === null ? null : String(r.lo), hi: r.hi === null ? null : String(r.hi),
        estRows: Number(r.est_rows), done: Number(r.done) === 1, rows: Number(r.rows_loaded),
      };
      if (r.snapshot_name) c.snapshot = pos(r.snapshot_name, r.snapshot_pos, r.snapshot_gtid);
      return c;
    });
  }

  /** Writes the chunk plan and the load phase in one transaction: either the whole plan exists or none of it. */
  async writePlan(conn: Connection, chunks: ChunkRow[], st: SourceState, tracker?: unknown): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      await query(conn, 'downstream', `DELETE FROM ${this.loadT} WHERE source = ?`, [this.source]);
      for (let i = 0; i < chunks.length; i += 500) {
        const part = chunks.slice(i, i + 500);
        await query(conn, 'downstream', `INSERT INTO ${this.loadT} (source, chunk_id, schema_name, table_name, target_schema, target_table, key_column, lo, hi, est_rows) VALUES ?`,
          [part.map((c) => [this.source, c.chunkId, c.schema, c.table, c.targetSchema, c.targetTable, c.keyColumn, c.lo, c.hi, c.estRows])]);
      }
      await this.writeState(conn, st);
      if (tracker !== undefined) await this.writeTracker(conn, tracker);
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Call inside the chunk's load transaction. */
  async markChunkDone(conn: Connection, chunkId: string, rows: number, snapshot: BinlogPosition): Promise<void> {
    await query(conn, 'downstream', `UPDATE ${this.loadT} SET done = 1, rows_loaded = ?, snapshot_name = ?, snapshot_pos = ?, snapshot_gtid = ? WHERE source = ? AND chunk_id = ?`,
      [rows, snapshot.name, snapshot.pos, snapshot.gtid ?? null, this.source, chunkId]);
  }

  async readWriters(conn: Connection): Promise<{ writer: number; pos: BinlogPosition; workers: number }[]> {
    const rows = await query<Record<string, string | number | null>[]>(conn, 'downstream', `SELECT * FROM ${this.syncT} WHERE source = ? ORDER BY writer`, [this.source]);
    return rows.map((r) => ({ writer: Number(r.writer), pos: pos(r.binlog_name, r.binlog_pos, r.binlog_gtid), workers: Number(r.workers) }));
  }

  /** Call inside the writer's transaction (the SQL is returned so a writer can append it to its batch). */
  writerSql(writer: number, p: BinlogPosition, workers: number): { sql: string; params: unknown[] } {
    return {
      sql: `INSERT INTO ${this.syncT} (source, writer, binlog_name, binlog_pos, binlog_gtid, workers) VALUES (?,?,?,?,?,?)
            ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos), binlog_gtid = VALUES(binlog_gtid), workers = VALUES(workers)`,
      params: [this.source, writer, p.name, p.pos, p.gtid ?? null, workers],
    };
  }

  /** Sets every writer to one position (after a DDL barrier, or to start), with the schema as of that position.
   * Also drops rows of writers >= workers. */
  async writeAllWriters(conn: Connection, p: BinlogPosition, workers: number, tracker?: unknown): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      await query(conn, 'downstream', `DELETE FROM ${this.syncT} WHERE source = ? AND writer >= ?`, [this.source, workers]);
      await query(conn, 'downstream', `DELETE FROM ${this.ddlT} WHERE source = ?`, [this.source]);
      if (tracker !== undefined) await this.writeTracker(conn, tracker);
      for (let w = 0; w < workers; w++) {
        const s = this.writerSql(w, p, workers);
        await query(conn, 'downstream', s.sql, s.params);
      }
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}

function pos(name: unknown, p: unknown, gtid: unknown): BinlogPosition {
  const out: BinlogPosition = { name: String(name), pos: Number(p) };
  if (gtid !== null && gtid !== undefined && String(gtid) !== '') out.gtid = String(gtid);
  return out;
}
