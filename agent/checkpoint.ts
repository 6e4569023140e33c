import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../src/binlog/position.ts';
import { DmError } from '../src/errors/index.ts';
import { query } from './db/mysql.ts';
import { deleteRows, ensureMetaTables, META_TABLES, metaTable, metaTableName } from './checkpoint-tables.ts';

/**
 * Checkpoints live in the downstream, schema `meta-schema` (DM's layout idea, tsdm's tables):
 *
 *   <task>_syncer_checkpoint (source, writer) -> position covered by that writer
 *   <task>_loader_checkpoint (source, chunk)  -> chunk plan and whether the chunk is loaded
 *   <task>_source_state      (source)         -> phase (load|sync|finished), sync start and safe-mode end
 *   <task>_shard_hold        (source, table)  -> shard tables whose events are held by a shard-DDL lock (see
 *                                                ShardHold; agent/shard/pessimist.ts)
 *   <task>_table_reload      (source, table)  -> tables a resumed load reloaded whole from a later snapshot, and the
 *                                                position of that snapshot: sync skips their events up to it
 *                                                (agent/load/load-reconcile.ts); table '' = a schema's own DDL
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
 * Fencing (docs/architecture.md, protocol steps 5-7): `<task>_source_owner (source)` holds the term
 * and agent of the binding that owns the source. A subtask claims it (`claim`, SELECT … FOR UPDATE, the row's term
 * only grows) before it reads any checkpoint, and every transaction that moves a checkpoint re-reads it with a
 * locking read (`checkFence`) just before COMMIT: a stale owner's transaction then rolls back. Because the claim
 * takes an exclusive lock and the check a shared one, a claim waits for in-flight writer transactions of the old
 * owner to end, and the new owner reads checkpoints only after that: two agents never apply one source at once.
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

/** A table (or, with table '', a schema's own DDL) reloaded whole at snapshot position `at`. */
export interface TableReload {
  schema: string;
  table: string;
  at: BinlogPosition;
}

export interface SourceState {
  phase: 'load' | 'sync' | 'finished';
  /** Where sync starts when no writer checkpoint exists yet (lowest snapshot position, or meta). */
  syncStart?: BinlogPosition;
  /** Highest snapshot position: safe mode stays on until sync passes it. */
  safeUntil?: BinlogPosition;
}

export { metaTableName };

/** The binding a subtask runs under: agent name and its dm_bounds term. */
export interface Owner {
  agent: string;
  term: number;
}

/** Test hook: with TSDM_FAULT_WRITE_AUDIT=1 every fenced commit also appends (agent, term, what) to `<task>_write_audit`. */
const WRITE_AUDIT = process.env.TSDM_FAULT_WRITE_AUDIT === '1';

export class CheckpointStore {
  private readonly ownerT: string;
  private readonly connT: string;
  private readonly auditT: string;
  private readonly syncT: string;
  private readonly loadT: string;
  private readonly stateT: string;
  private readonly ddlT: string;
  private readonly schemaT: string;
  private readonly holdT: string;
  private readonly reloadT: string;
  /** `<task>_onlineddl`, written by agent/sync/online-ddl.ts. */
  readonly onlineDdlT: string;

  constructor(
    private readonly metaSchema: string,
    private readonly task: string,
    private readonly source: string,
    private readonly owner?: Owner,
  ) {
    const t = (name: Parameters<typeof metaTable>[2]) => metaTable(metaSchema, task, name);
    this.ownerT = t('source_owner');
    this.auditT = t('write_audit');
    this.connT = t('owner_conn');
    this.syncT = t('syncer_checkpoint');
    this.loadT = t('loader_checkpoint');
    this.stateT = t('source_state');
    this.ddlT = t('ddl_pending');
    this.schemaT = t('schema_tracker');
    this.holdT = t('shard_hold');
    this.reloadT = t('table_reload');
    this.onlineDdlT = t('onlineddl');
  }

  /** The task's meta tables (created once, serialised: checkpoint-tables.ts) and this source's one-row entries. */
  async init(conn: Connection): Promise<void> {
    await ensureMetaTables(conn, this.metaSchema, this.task, WRITE_AUDIT);
    // The DDL marker row exists from here on: marking and clearing update it by key, never insert or delete it.
    await query(conn, 'downstream', `INSERT IGNORE INTO ${this.ddlT} (source, position) VALUES (?, '')`, [this.source]);
  }

  async readHolds(conn: Connection): Promise<ShardHold[]> {
    const rows = await query<Record<string, string | number | null>[]>(
      conn,
      'downstream',
      `SELECT * FROM ${this.holdT} WHERE source = ? ORDER BY schema_name, table_name`,
      [this.source],
    );
    return rows.map((r) => ({
      schema: String(r.schema_name),
      table: String(r.table_name),
      targetSchema: String(r.target_schema),
      targetTable: String(r.target_table),
      start: pos(r.start_name, r.start_pos, r.start_gtid),
      applied: pos(r.applied_name, r.applied_pos, r.applied_gtid),
      blocked: Number(r.blocked) === 1,
      ddls: JSON.parse(String(r.ddls)) as string[],
      tracker: JSON.parse(String(r.tracker)) as unknown,
    }));
  }

  /** A table reaches a shard DDL: written in the barrier transaction that moves the writers past that DDL. */
  holdSql(h: ShardHold): { sql: string; params: unknown[] } {
    return {
      sql: `INSERT INTO ${this.holdT} (source, schema_name, table_name, target_schema, target_table, start_name, start_pos, start_gtid,
            applied_name, applied_pos, applied_gtid, blocked, ddls, tracker) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON DUPLICATE KEY UPDATE target_schema = VALUES(target_schema), target_table = VALUES(target_table), start_name = VALUES(start_name),
            start_pos = VALUES(start_pos), start_gtid = VALUES(start_gtid), applied_name = VALUES(applied_name), applied_pos = VALUES(applied_pos),
            applied_gtid = VALUES(applied_gtid), blocked = VALUES(blocked), ddls = VALUES(ddls), tracker = VALUES(tracker)`,
      params: [
        this.source,
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
  holdAppliedSql(schema: string, table: string, p: BinlogPosition): { sql: string; params: unknown[] } {
    return {
      sql: `UPDATE ${this.holdT} SET applied_name = ?, applied_pos = ?, applied_gtid = ? WHERE source = ? AND schema_name = ? AND table_name = ? AND blocked = 0`,
      params: [p.name, p.pos, p.gtid ?? null, this.source, schema, table],
    };
  }

  async releaseHold(conn: Connection, schema: string, table: string): Promise<void> {
    await this.checkFence(conn, `release hold ${schema}.${table}`);
    await query(
      conn,
      'downstream',
      `UPDATE ${this.holdT} SET blocked = 0 WHERE source = ? AND schema_name = ? AND table_name = ?`,
      [this.source, schema, table],
    );
  }

  async deleteHold(conn: Connection, schema: string, table: string): Promise<void> {
    await deleteRows(
      conn,
      this.holdT,
      META_TABLES.shard_hold.key,
      'source = ? AND schema_name = ? AND table_name = ? AND blocked = 0',
      [this.source, schema, table],
    );
  }

  /**
   * Takes ownership of the source for this subtask's binding term (docs/architecture.md, protocol step 5):
   * make sure the row exists; (a) end a stale owner's connections; (b) lock the row (waits for in-flight commits of
   * a previous owner, which hold a shared lock until they end), a higher stored term means our binding is stale
   * (Fenced), else write our term and agent and commit. A crash between the steps leaves either the previous owner
   * (the claim did not happen; killed connections only rolled back uncommitted work) or ours.
   */
  async claim(conn: Connection): Promise<void> {
    if (!this.owner) return;
    await query(conn, 'downstream', `INSERT IGNORE INTO ${this.ownerT} (source, term, agent) VALUES (?, 0, '')`, [
      this.source,
    ]);
    // (a) Before locking anything: a previous owner that hangs (stopped process, lost network) may sit in an open
    // transaction holding the owner row (shared, between its fence check and COMMIT) or checkpoint rows, which
    // would block us until the server's wait_timeout. If our term is the newer one, that owner is stale: end its
    // registered connections. Thread ids are not reused while a connection lives; a gone id fails harmlessly.
    const [cur] = await query<Record<string, string | number>[]>(
      conn,
      'downstream',
      `SELECT term, agent FROM ${this.ownerT} WHERE source = ?`,
      [this.source],
    );
    if (Number(cur?.term ?? 0) > this.owner.term) throw this.fenced(Number(cur?.term), String(cur?.agent ?? ''));
    const others = await query<Record<string, string | number>[]>(
      conn,
      'downstream',
      `SELECT conn_id FROM ${this.connT} WHERE source = ? AND NOT (agent = ? AND term = ?)`,
      [this.source, this.owner.agent, this.owner.term],
    );
    for (const o of others) await conn.query(`KILL CONNECTION ${Number(o.conn_id)}`).catch(() => undefined);
    // (b) Lock, re-check (a newer owner may have claimed meanwhile), take over, commit.
    await query(conn, 'downstream', 'BEGIN');
    try {
      const [r] = await query<Record<string, string | number>[]>(
        conn,
        'downstream',
        `SELECT term, agent FROM ${this.ownerT} WHERE source = ? FOR UPDATE`,
        [this.source],
      );
      const term = Number(r?.term ?? 0);
      if (term > this.owner.term) throw this.fenced(term, String(r?.agent ?? ''));
      // The ended connections are forgotten row by row, by key (no range lock: checkpoint-tables.ts).
      for (const o of others)
        await query(conn, 'downstream', `DELETE FROM ${this.connT} WHERE source = ? AND conn_id = ?`, [
          this.source,
          o.conn_id,
        ]);
      await query(conn, 'downstream', `UPDATE ${this.ownerT} SET term = ?, agent = ? WHERE source = ?`, [
        this.owner.term,
        this.owner.agent,
        this.source,
      ]);
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await this.register(conn);
  }

  /** Records a downstream connection of this owner, so that the next owner can end it (see claim). Autocommit. */
  async register(conn: Connection): Promise<void> {
    if (!this.owner) return;
    await query(
      conn,
      'downstream',
      `INSERT INTO ${this.connT} (source, conn_id, agent, term) VALUES (?, CONNECTION_ID(), ?, ?)
      ON DUPLICATE KEY UPDATE agent = VALUES(agent), term = VALUES(term)`,
      [this.source, this.owner.agent, this.owner.term],
    );
  }

  /**
   * Inside a transaction, right before COMMIT: re-reads the owner row with a shared lock and throws Fenced when
   * another binding claimed the source (the caller rolls back). Outside a transaction it is a plain check.
   */
  async checkFence(conn: Connection, what: string): Promise<void> {
    if (!this.owner) return;
    const [r] = await query<Record<string, string | number>[]>(
      conn,
      'downstream',
      `SELECT term, agent FROM ${this.ownerT} WHERE source = ? LOCK IN SHARE MODE`,
      [this.source],
    );
    const term = Number(r?.term ?? 0);
    const agent = String(r?.agent ?? '');
    if (term !== this.owner.term || agent !== this.owner.agent) throw this.fenced(term, agent);
    if (WRITE_AUDIT)
      await query(conn, 'downstream', `INSERT INTO ${this.auditT} (source, agent, term, what) VALUES (?,?,?,?)`, [
        this.source,
        this.owner.agent,
        this.owner.term,
        what.slice(0, 300),
      ]);
  }

  private fenced(term: number, agent: string): DmError {
    return new DmError(
      'Fenced',
      `${this.task}/${this.source}: the source is owned by ${agent || '?'} with term ${term}; this agent (${this.owner?.agent}) holds term ${this.owner?.term}`,
      { context: { task: this.task, source: this.source } },
    );
  }

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

  /** `start-task --remove-meta`: forget everything of this (task, source). */
  async remove(conn: Connection): Promise<void> {
    // `<task>_onlineddl` (agent/sync/online-ddl.ts) too: its shadow-table statements belong to the old positions.
    const tables: [string, readonly string[]][] = [
      [this.syncT, META_TABLES.syncer_checkpoint.key],
      [this.loadT, META_TABLES.loader_checkpoint.key],
      [this.stateT, META_TABLES.source_state.key],
      [this.schemaT, META_TABLES.schema_tracker.key],
      [this.holdT, META_TABLES.shard_hold.key],
      [this.reloadT, META_TABLES.table_reload.key],
      [this.onlineDdlT, META_TABLES.onlineddl.key],
    ];
    for (const [t, key] of tables) await deleteRows(conn, t, key, 'source = ?', [this.source]);
    await this.clearDdlPending(conn);
  }

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
    if (r.start_name) st.syncStart = pos(r.start_name, r.start_pos, r.start_gtid);
    if (r.safe_name) st.safeUntil = pos(r.safe_name, r.safe_pos, null);
    return st;
  }

  async writeState(conn: Connection, st: SourceState): Promise<void> {
    await this.checkFence(conn, `state ${st.phase}`);
    await query(
      conn,
      'downstream',
      `INSERT INTO ${this.stateT} (source, phase, start_name, start_pos, start_gtid, safe_name, safe_pos) VALUES (?,?,?,?,?,?,?)
      ON DUPLICATE KEY UPDATE phase = VALUES(phase), start_name = VALUES(start_name), start_pos = VALUES(start_pos), start_gtid = VALUES(start_gtid),
      safe_name = VALUES(safe_name), safe_pos = VALUES(safe_pos)`,
      [
        this.source,
        st.phase,
        st.syncStart?.name ?? null,
        st.syncStart?.pos ?? null,
        st.syncStart?.gtid ?? null,
        st.safeUntil?.name ?? null,
        st.safeUntil?.pos ?? null,
      ],
    );
  }

  /** The chunk plan, or with `chunkId` just that chunk. */
  async readChunks(conn: Connection, chunkId?: string): Promise<ChunkRow[]> {
    const rows = await query<Record<string, string | number | null>[]>(
      conn,
      'downstream',
      `SELECT * FROM ${this.loadT} WHERE source = ?${chunkId === undefined ? '' : ' AND chunk_id = ?'} ORDER BY chunk_id`,
      chunkId === undefined ? [this.source] : [this.source, chunkId],
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
      if (r.snapshot_name) c.snapshot = pos(r.snapshot_name, r.snapshot_pos, r.snapshot_gtid);
      return c;
    });
  }

  /** Writes the chunk plan and the load phase in one transaction: either the whole plan exists or none of it. */
  async writePlan(conn: Connection, chunks: ChunkRow[], st: SourceState, tracker?: unknown): Promise<void> {
    await query(conn, 'downstream', 'BEGIN');
    try {
      await deleteRows(conn, this.loadT, META_TABLES.loader_checkpoint.key, 'source = ?', [this.source]);
      await deleteRows(conn, this.reloadT, META_TABLES.table_reload.key, 'source = ?', [this.source]);
      await this.insertChunks(conn, chunks);
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
  async readReloads(conn: Connection): Promise<TableReload[]> {
    const rows = await query<Record<string, string | number | null>[]>(
      conn,
      'downstream',
      `SELECT * FROM ${this.reloadT} WHERE source = ?`,
      [this.source],
    );
    return rows.map((r) => ({
      schema: String(r.schema_name),
      table: String(r.table_name),
      at: pos(r.binlog_name, r.binlog_pos, r.binlog_gtid),
    }));
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
      await this.insertChunks(conn, chunks);
      for (const r of reloads) {
        await query(
          conn,
          'downstream',
          `INSERT INTO ${this.reloadT} (source, schema_name, table_name, binlog_name, binlog_pos, binlog_gtid) VALUES (?,?,?,?,?,?)
          ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos), binlog_gtid = VALUES(binlog_gtid)`,
          [this.source, r.schema, r.table, r.at.name, r.at.pos, r.at.gtid ?? null],
        );
      }
      await this.writeState(conn, st);
      await this.checkFence(conn, 'replan');
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async insertChunks(conn: Connection, chunks: ChunkRow[]): Promise<void> {
    for (let i = 0; i < chunks.length; i += 500) {
      const part = chunks.slice(i, i + 500);
      await query(
        conn,
        'downstream',
        `INSERT INTO ${this.loadT} (source, chunk_id, schema_name, table_name, target_schema, target_table, key_column, lo, hi, est_rows) VALUES ?`,
        [
          part.map((c) => [
            this.source,
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

  /** Call inside the chunk's load transaction. */
  async markChunkDone(conn: Connection, chunkId: string, rows: number, snapshot: BinlogPosition): Promise<void> {
    await query(
      conn,
      'downstream',
      `UPDATE ${this.loadT} SET done = 1, rows_loaded = ?, snapshot_name = ?, snapshot_pos = ?, snapshot_gtid = ? WHERE source = ? AND chunk_id = ?`,
      [rows, snapshot.name, snapshot.pos, snapshot.gtid ?? null, this.source, chunkId],
    );
    await this.checkFence(conn, `chunk ${chunkId}`);
  }

  async readWriters(conn: Connection): Promise<{ writer: number; pos: BinlogPosition; writerCount: number }[]> {
    const rows = await query<Record<string, string | number | null>[]>(
      conn,
      'downstream',
      `SELECT * FROM ${this.syncT} WHERE source = ? ORDER BY writer`,
      [this.source],
    );
    return rows.map((r) => ({
      writer: Number(r.writer),
      pos: pos(r.binlog_name, r.binlog_pos, r.binlog_gtid),
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

function pos(name: unknown, p: unknown, gtid: unknown): BinlogPosition {
  const out: BinlogPosition = { name: String(name), pos: Number(p) };
  if (gtid !== null && gtid !== undefined && String(gtid) !== '') out.gtid = String(gtid);
  return out;
}
