import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../src/binlog/position.ts';
import { DmError } from '../src/errors/index.ts';
import { formatSql, query } from './db/mysql.ts';
import { deleteRows, ensureMetaTables, META_TABLES, metaTable, metaTableName, rowPos } from './checkpoint-tables.ts';
import { type Owner, SourceFence, WRITE_AUDIT } from './checkpoint-fence.ts';
import * as holds from './checkpoint-holds.ts';
import type { ShardHold } from './checkpoint-holds.ts';
import * as load from './checkpoint-load.ts';
import { removeOnce } from './checkpoint-remove.ts';
import type { ChunkRow, TableReload } from './checkpoint-load.ts';

/**
 * Checkpoints live in the downstream, schema `meta-schema` (DM's layout idea, tsdm's tables):
 *
 *   <task>_syncer_checkpoint (source, writer) -> position covered by that writer
 *   <task>_loader_checkpoint (source, chunk)  -> chunk plan and whether the chunk is loaded (checkpoint-load.ts)
 *   <task>_source_state      (source)         -> phase (load|sync|finished), sync start and safe-mode end
 *   <task>_shard_hold        (source, table)  -> shard tables whose events are held by a shard-DDL lock (see
 *                                                ShardHold, checkpoint-holds.ts; agent/shard/pessimist.ts)
 *   <task>_table_reload      (source, table)  -> tables a resumed load reloaded whole from a later snapshot, and the
 *                                                position of that snapshot: sync skips their events up to it
 *                                                (agent/load/load-reconcile.ts); table '' = a schema's own DDL
 *   <task>_remove_meta       (source)         -> the `start-task --remove-meta` request last carried out (removeOnce)
 *
 * The tables are created, and their statements written, as checkpoint-tables.ts says: rows named by full primary key,
 * upserts, no range deletes, so that the checkpoint writes of a task's sources never deadlock with each other.
 *
 * Invariants:
 *  - a writer's row is updated in the same downstream transaction as the rows it covers, so after any crash the
 *    downstream holds exactly the changes up to that writer's position (exactly-once per writer);
 *  - the resume position of a source is the lowest writer position; on replay each writer skips transactions its
 *    own position covers;
 *  - a chunk is marked done in the same transaction that loads its rows, so a restart reloads only pending chunks.
 *
 * Fencing (docs/architecture.md, protocol steps 5-7; checkpoint-fence.ts): `<task>_source_owner (source)` holds the
 * term and agent of the binding that owns the source. A subtask claims it (`claim`) before it reads any checkpoint,
 * and every transaction that moves a checkpoint calls `checkFence` just before COMMIT: a stale owner's transaction
 * then rolls back, and two agents never apply one source at once.
 */

export interface SourceState {
  phase: 'load' | 'sync' | 'finished';
  /** Where sync starts when no writer checkpoint exists yet (lowest snapshot position, or meta). */
  syncStart?: BinlogPosition;
  /** Highest snapshot position: safe mode stays on until sync passes it. */
  safeUntil?: BinlogPosition;
}

export { metaTableName };

export class CheckpointStore {
  private readonly fence: SourceFence;
  private readonly syncT: string;
  private readonly loadT: string;
  private readonly stateT: string;
  private readonly ddlT: string;
  private readonly schemaT: string;
  private readonly holdT: string;
  private readonly reloadT: string;
  /** `<task>_onlineddl`, written by agent/sync/online-ddl.ts. */
  readonly onlineDdlT: string;
  /** `<task>_start_time`, read and written by agent/sync/start-time.ts. */
  readonly startTimeT: string;
  /** `<task>_safe_window`, read and written by agent/sync/safe-window.ts. */
  readonly safeWindowT: string;

  constructor(
    private readonly metaSchema: string,
    private readonly task: string,
    private readonly source: string,
    owner?: Owner,
  ) {
    const t = (name: Parameters<typeof metaTable>[2]) => metaTable(metaSchema, task, name);
    this.fence = new SourceFence(metaSchema, task, source, owner);
    this.syncT = t('syncer_checkpoint');
    this.loadT = t('loader_checkpoint');
    this.stateT = t('source_state');
    this.ddlT = t('ddl_pending');
    this.schemaT = t('schema_tracker');
    this.holdT = t('shard_hold');
    this.reloadT = t('table_reload');
    this.onlineDdlT = t('onlineddl');
    this.startTimeT = t('start_time');
    this.safeWindowT = t('safe_window');
  }

  /** The task's meta tables (created once, serialised: checkpoint-tables.ts) and this source's one-row entries. */
  async init(conn: Connection): Promise<void> {
    await ensureMetaTables(conn, this.metaSchema, this.task, WRITE_AUDIT);
    // The DDL marker row exists from here on: marking and clearing update it by key, never insert or delete it.
    await query(conn, 'downstream', `INSERT IGNORE INTO ${this.ddlT} (source, position) VALUES (?, '')`, [this.source]);
  }

  // ---- shard holds (checkpoint-holds.ts)
  readHolds(conn: Connection): Promise<ShardHold[]> {
    return holds.readHolds(conn, this.holdT, this.source);
  }

  /** A table reaches a shard DDL: written in the barrier transaction that moves the writers past that DDL. */
  holdSql(h: ShardHold): { sql: string; params: unknown[] } {
    return holds.holdSql(this.holdT, this.source, h);
  }

  /** A released hold's events are applied up to `p`: inside writer 0's transaction (or a barrier's). */
  holdAppliedSql(schema: string, table: string, p: BinlogPosition): { sql: string; params: unknown[] } {
    return holds.holdAppliedSql(this.holdT, this.source, schema, table, p);
  }

  async releaseHold(conn: Connection, schema: string, table: string): Promise<void> {
    await this.checkFence(conn, `release hold ${schema}.${table}`);
    await holds.unblockHold(conn, this.holdT, this.source, schema, table);
  }

  async deleteHold(conn: Connection, schema: string, table: string): Promise<void> {
    await holds.deleteHold(conn, this.holdT, this.source, schema, table);
  }

  // ---- fencing (checkpoint-fence.ts)
  /** Takes ownership of the source for this subtask's binding term, before any checkpoint is read. */
  claim(conn: Connection): Promise<void> {
    return this.fence.claim(conn);
  }

  /** Records a downstream connection of this owner, so that the next owner can end it (see claim). Autocommit. */
  register(conn: Connection): Promise<void> {
    return this.fence.register(conn);
  }

  /**
   * Inside a transaction, right before COMMIT: re-reads the owner row with a shared lock and throws Fenced when
   * another binding claimed the source (the caller rolls back). Outside a transaction it is a plain check.
   */
  checkFence(conn: Connection, what: string): Promise<void> {
    return this.fence.check(conn, what);
  }

  /** checkFence in two halves (checkpoint-fence.ts): the locking read to send with other statements, then its rows. */
  fenceStatement(): string | undefined {
    return this.fence.checkStatement();
  }
  fenceChecked(conn: Connection, rows: Record<string, unknown>[], what: string): Promise<void> {
    return this.fence.checked(conn, rows, what);
  }

  // ---- schema tracker and DDL marker
  /** The upstream schema as of the checkpoint (see SchemaTracker); written in the transactions that move it. */
  async readTracker(conn: Connection): Promise<unknown | undefined> {
    const [r] = await query<Record<string, string>[]>(
      conn,
      'downstream',
      `SELECT tracker FROM ${this.schemaT} WHERE source = ?`,
      [this.source],
    );
    if (!r) return undefined;
    try {
      return JSON.parse(String(r.tracker)) as unknown;
    } catch (err) {
      throw new DmError(
        'CheckpointCorrupt',
        `schema tracker of ${this.task}/${this.source} in ${this.metaSchema} is not valid JSON`,
        { cause: err },
      );
    }
  }

  private async writeTracker(conn: Connection, tracker: unknown): Promise<void> {
    await query(
      conn,
      'downstream',
      `INSERT INTO ${this.schemaT} (source, tracker) VALUES (?, ?) ON DUPLICATE KEY UPDATE tracker = VALUES(tracker)`,
      [this.source, JSON.stringify(tracker)],
    );
  }

  /** `dmctl binlog-schema update|delete` on a paused subtask (agent/schema-op.ts): the tracked schema replaced, fenced. */
  async replaceTracker(conn: Connection, tracker: unknown): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      await this.writeTracker(conn, tracker);
      await this.checkFence(conn, 'binlog-schema');
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Written (autocommit) right before a DDL runs downstream; cleared with the checkpoint that moves past it. */
  async markDdlPending(conn: Connection, position: string): Promise<void> {
    // A DDL autocommits and cannot be fenced in a transaction: check right before it (a narrow window, see docs).
    await this.checkFence(conn, `ddl ${position}`);
    await query(
      conn,
      'downstream',
      `INSERT INTO ${this.ddlT} (source, position) VALUES (?, ?) ON DUPLICATE KEY UPDATE position = VALUES(position)`,
      [this.source, position],
    );
  }

  /** A DDL that failed did not take effect: forget the marker, so a plain resume does not take it as applied. */
  async clearDdlPending(conn: Connection): Promise<void> {
    await query(conn, 'downstream', `UPDATE ${this.ddlT} SET position = '' WHERE source = ?`, [this.source]);
  }

  async readDdlPending(conn: Connection): Promise<string | undefined> {
    const [r] = await query<Record<string, string>[]>(
      conn,
      'downstream',
      `SELECT position FROM ${this.ddlT} WHERE source = ?`,
      [this.source],
    );
    return r?.position || undefined;
  }

  /**
   * `start-task --remove-meta`: forget everything of this (task, source), once per request (checkpoint-remove.ts).
   * Returns false when `request` was carried out already.
   */
  removeOnce(conn: Connection, request: string): Promise<boolean> {
    return removeOnce(conn, this.metaSchema, this.task, this.source, request, async () => {
      await this.clearDdlPending(conn);
      await this.checkFence(conn, 'remove-meta');
    });
  }

  /** The source state row as one statement (also for writeAllWriters' transaction). */
  stateSql(st: SourceState): { sql: string; params: unknown[] } {
    return {
      sql: `INSERT INTO ${this.stateT} (source, phase, start_name, start_pos, start_gtid, safe_name, safe_pos) VALUES (?,?,?,?,?,?,?)
      ON DUPLICATE KEY UPDATE phase = VALUES(phase), start_name = VALUES(start_name), start_pos = VALUES(start_pos), start_gtid = VALUES(start_gtid),
      safe_name = VALUES(safe_name), safe_pos = VALUES(safe_pos)`,
      params: [
        this.source,
        st.phase,
        st.syncStart?.name ?? null,
        st.syncStart?.pos ?? null,
        st.syncStart?.gtid ?? null,
        st.safeUntil?.name ?? null,
        st.safeUntil?.pos ?? null,
      ],
    };
  }

  // ---- source state
  async readState(conn: Connection): Promise<SourceState | undefined> {
    const rows = await query<Record<string, string | number | null>[]>(
      conn,
      'downstream',
      `SELECT * FROM ${this.stateT} WHERE source = ?`,
      [this.source],
    );
    const r = rows[0];
    if (!r) return undefined;
    const st: SourceState = { phase: String(r.phase) as SourceState['phase'] };
    if (r.start_name) st.syncStart = rowPos(r.start_name, r.start_pos, r.start_gtid);
    if (r.safe_name) st.safeUntil = rowPos(r.safe_name, r.safe_pos, null);
    return st;
  }

  async writeState(conn: Connection, st: SourceState): Promise<void> {
    await this.checkFence(conn, `state ${st.phase}`);
    const q = this.stateSql(st);
    await query(conn, 'downstream', q.sql, q.params);
  }

  // ---- load (checkpoint-load.ts)
  /** The chunk plan, or with `chunkId` just that chunk. */
  readChunks(conn: Connection, chunkId?: string): Promise<ChunkRow[]> {
    return load.readChunks(conn, this.loadT, this.source, chunkId);
  }

  /** Writes the chunk plan and the load phase in one transaction: either the whole plan exists or none of it. */
  async writePlan(conn: Connection, chunks: ChunkRow[], st: SourceState, tracker?: unknown): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      await deleteRows(conn, this.loadT, META_TABLES.loader_checkpoint.key, 'source = ?', [this.source]);
      await deleteRows(conn, this.reloadT, META_TABLES.table_reload.key, 'source = ?', [this.source]);
      await load.insertChunks(conn, this.loadT, this.source, chunks);
      await this.writeState(conn, st);
      if (tracker !== undefined) await this.writeTracker(conn, tracker);
      await this.checkFence(conn, 'plan');
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Tables (and schemas, table '') reloaded whole by a resumed load, with the snapshot position they were loaded at. */
  readReloads(conn: Connection): Promise<TableReload[]> {
    return load.readReloads(conn, this.reloadT, this.source);
  }

  /**
   * A resumed load's reconciliation (agent/load/load-reconcile.ts), in one transaction: the chunks of `tables` are
   * replaced by `chunks` (their new plan at the snapshot), and each of `reloads` records the snapshot position.
   * The caller has already dropped and re-created the downstream tables: a crash before this commit finds the old
   * plan, and the same tables are chosen again.
   */
  async replan(
    conn: Connection,
    tables: { schema: string; table: string }[],
    chunks: ChunkRow[],
    reloads: TableReload[],
    st: SourceState,
  ): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      for (const t of tables) {
        await deleteRows(
          conn,
          this.loadT,
          META_TABLES.loader_checkpoint.key,
          'source = ? AND schema_name = ? AND table_name = ?',
          [this.source, t.schema, t.table],
        );
      }
      await load.insertChunks(conn, this.loadT, this.source, chunks);
      for (const r of reloads) await load.writeReload(conn, this.reloadT, this.source, r);
      await this.writeState(conn, st);
      await this.checkFence(conn, 'replan');
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Call inside the chunk's load transaction. */
  async markChunkDone(conn: Connection, chunkId: string, rows: number, snapshot: BinlogPosition): Promise<void> {
    await load.setChunkDone(conn, this.loadT, this.source, chunkId, rows, snapshot);
    await this.checkFence(conn, `chunk ${chunkId}`);
  }

  // ---- sync writers
  async readWriters(conn: Connection): Promise<{ writer: number; pos: BinlogPosition; writerCount: number }[]> {
    const rows = await query<Record<string, string | number | null>[]>(
      conn,
      'downstream',
      `SELECT * FROM ${this.syncT} WHERE source = ? ORDER BY writer`,
      [this.source],
    );
    return rows.map((r) => ({
      writer: Number(r.writer),
      pos: rowPos(r.binlog_name, r.binlog_pos, r.binlog_gtid),
      writerCount: Number(r.workers), // the column keeps its first name: meta tables are not migrated
    }));
  }

  /** Call inside the writer's transaction (the SQL is returned so a writer can append it to its batch). */
  writerSql(writer: number, p: BinlogPosition, writerCount: number): { sql: string; params: unknown[] } {
    return {
      sql: `INSERT INTO ${this.syncT} (source, writer, binlog_name, binlog_pos, binlog_gtid, workers) VALUES (?,?,?,?,?,?)
            ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos), binlog_gtid = VALUES(binlog_gtid), workers = VALUES(workers)`,
      params: [this.source, writer, p.name, p.pos, p.gtid ?? null, writerCount],
    };
  }

  /** writerSql as one statement with its values in the text (sent with the writer's rows in one round trip). */
  writerStatement(writer: number, p: BinlogPosition, writerCount: number): string {
    const ck = this.writerSql(writer, p, writerCount);
    return formatSql(ck.sql, ck.params);
  }

  /** Sets every writer to one position (after a DDL barrier, or to start), with the schema as of that position.
   * Also drops rows of writers >= writerCount. */
  async writeAllWriters(
    conn: Connection,
    p: BinlogPosition,
    writerCount: number,
    tracker?: unknown,
    extra: { sql: string; params: unknown[] }[] = [],
  ): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      await deleteRows(conn, this.syncT, META_TABLES.syncer_checkpoint.key, 'source = ? AND writer >= ?', [
        this.source,
        writerCount,
      ]);
      await this.clearDdlPending(conn);
      if (tracker !== undefined) await this.writeTracker(conn, tracker);
      for (let w = 0; w < writerCount; w++) {
        const s = this.writerSql(w, p, writerCount);
        await query(conn, 'downstream', s.sql, s.params);
      }
      for (const x of extra) await query(conn, 'downstream', x.sql, x.params);
      await this.checkFence(conn, `all writers ${p.name}:${p.pos}`);
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
