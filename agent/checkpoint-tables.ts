import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../src/binlog/position.ts';
import { query, type Row } from './db/mysql.ts';
import { quoteIdent } from '../src/sql/table-name.ts';
import { hash } from './hash.ts';

/**
 * The meta-schema tables of a task (checkpoint.ts describes what each holds), created in one place.
 *
 * Every source of a task starts at the same moment and needs the same tables. Creating them is serialised: within the
 * agent by a promise chain, across agents by a named server lock (GET_LOCK), and skipped when every table exists
 * already. Concurrent CREATE TABLE IF NOT EXISTS of one table from several sessions, interleaved with the other
 * sources' first checkpoint transactions, is what this avoids.
 *
 * Lock discipline of the statements on these tables (no two sources' meta writes may deadlock, issue #12): rows are
 * keyed by source first; every UPDATE, DELETE and locking read names one existing row by its full primary key (found
 * first with a plain, non-locking read), never a range, so InnoDB takes record locks only and no gap locks; upserts are
 * `INSERT … ON DUPLICATE KEY UPDATE` (a record lock on a duplicate primary key), never REPLACE (a next-key lock) or
 * DELETE + INSERT; the one-row-per-source tables get their row once, outside any transaction.
 */

export type MetaTable =
  | 'syncer_checkpoint'
  | 'loader_checkpoint'
  | 'source_state'
  | 'ddl_pending'
  | 'schema_tracker'
  | 'shard_hold'
  | 'table_reload'
  | 'source_owner'
  | 'owner_conn'
  | 'onlineddl'
  | 'start_time'
  | 'remove_meta'
  | 'safe_window'
  | 'write_audit';

const UPDATED = 'updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)';

/** Column definitions and primary key of each table (the key columns are what deleteRows names rows by). */
export const META_TABLES: Record<MetaTable, { columns: string; key: string[] }> = {
  syncer_checkpoint: {
    columns: `source VARCHAR(128) NOT NULL, writer INT NOT NULL, binlog_name VARCHAR(255) NOT NULL, binlog_pos BIGINT UNSIGNED NOT NULL,
      binlog_gtid TEXT NULL, workers INT NOT NULL, ${UPDATED}`,
    key: ['source', 'writer'],
  },
  loader_checkpoint: {
    columns: `source VARCHAR(128) NOT NULL, chunk_id VARCHAR(600) NOT NULL, schema_name VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL,
      target_schema VARCHAR(128) NOT NULL, target_table VARCHAR(128) NOT NULL, key_column VARCHAR(128) NULL,
      lo TEXT NULL, hi TEXT NULL, est_rows BIGINT NOT NULL DEFAULT 0, done TINYINT NOT NULL DEFAULT 0, rows_loaded BIGINT NOT NULL DEFAULT 0,
      snapshot_name VARCHAR(255) NULL, snapshot_pos BIGINT UNSIGNED NULL, snapshot_gtid TEXT NULL, ${UPDATED}`,
    key: ['source', 'chunk_id'],
  },
  source_state: {
    columns: `source VARCHAR(128) NOT NULL, phase VARCHAR(16) NOT NULL,
      start_name VARCHAR(255) NULL, start_pos BIGINT UNSIGNED NULL, start_gtid TEXT NULL,
      safe_name VARCHAR(255) NULL, safe_pos BIGINT UNSIGNED NULL, ${UPDATED}`,
    key: ['source'],
  },
  // position '' = no DDL in flight (the row stays: clearing it never deletes).
  ddl_pending: { columns: 'source VARCHAR(128) NOT NULL, position VARCHAR(300) NOT NULL', key: ['source'] },
  schema_tracker: { columns: `source VARCHAR(128) NOT NULL, tracker LONGTEXT NOT NULL, ${UPDATED}`, key: ['source'] },
  shard_hold: {
    columns: `source VARCHAR(128) NOT NULL, schema_name VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL,
      target_schema VARCHAR(128) NOT NULL, target_table VARCHAR(128) NOT NULL,
      start_name VARCHAR(255) NOT NULL, start_pos BIGINT UNSIGNED NOT NULL, start_gtid TEXT NULL,
      applied_name VARCHAR(255) NOT NULL, applied_pos BIGINT UNSIGNED NOT NULL, applied_gtid TEXT NULL,
      blocked TINYINT NOT NULL, ddls LONGTEXT NOT NULL, tracker LONGTEXT NOT NULL, ${UPDATED}`,
    key: ['source', 'schema_name', 'table_name'],
  },
  table_reload: {
    columns: `source VARCHAR(128) NOT NULL, schema_name VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL,
      binlog_name VARCHAR(255) NOT NULL, binlog_pos BIGINT UNSIGNED NOT NULL, binlog_gtid TEXT NULL, ${UPDATED}`,
    key: ['source', 'schema_name', 'table_name'],
  },
  source_owner: {
    columns: `source VARCHAR(128) NOT NULL, term BIGINT NOT NULL, agent VARCHAR(128) NOT NULL, ${UPDATED}`,
    key: ['source'],
  },
  owner_conn: {
    columns:
      'source VARCHAR(128) NOT NULL, conn_id BIGINT UNSIGNED NOT NULL, agent VARCHAR(128) NOT NULL, term BIGINT NOT NULL',
    key: ['source', 'conn_id'],
  },
  onlineddl: {
    columns: `source VARCHAR(255) NOT NULL, ghost_schema VARCHAR(255) NOT NULL, ghost_table VARCHAR(255) NOT NULL,
      origin VARCHAR(300) NOT NULL, ddls LONGTEXT NOT NULL`,
    key: ['source', 'ghost_schema', 'ghost_table'],
  },
  // The `start-task --start-time` request (generation, time and when it was asked for) the writers were last set by: applied once, so a
  // restart of the subtask resumes from its checkpoint instead of going back to the time again.
  start_time: { columns: `source VARCHAR(128) NOT NULL, request VARCHAR(300) NOT NULL, ${UPDATED}`, key: ['source'] },
  // The `start-task --remove-meta` request (RemoveMetaRequest.id) whose removal of the source's rows above committed,
  // in the same transaction: carried out once, so a later restart of the subtask does not start over again.
  remove_meta: { columns: `source VARCHAR(128) NOT NULL, request VARCHAR(300) NOT NULL, ${UPDATED}`, key: ['source'] },
  // The first start's safe-mode-duration window (agent/sync/resume.ts): open = 1 from the sync unit's first start until
  // the window has run out with every change of it committed; a start that finds it still open opens it again.
  safe_window: { columns: `source VARCHAR(128) NOT NULL, open TINYINT NOT NULL, ${UPDATED}`, key: ['source'] },
  // Test hook (TSDM_FAULT_WRITE_AUDIT=1): every fenced commit also appends a row (checkpoint-fence.ts check).
  write_audit: {
    columns: `id BIGINT NOT NULL AUTO_INCREMENT, source VARCHAR(128) NOT NULL, agent VARCHAR(128) NOT NULL, term BIGINT NOT NULL,
      what VARCHAR(300) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)`,
    key: ['id'],
  },
};

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

/** `meta`.`<task>_<suffix>`, quoted. */
export function metaTable(metaSchema: string, task: string, t: MetaTable): string {
  return `${quoteIdent(metaSchema)}.${quoteIdent(metaTableName(task, t))}`;
}

/** Continuous validation's error rows (agent/verify/validator-errors.ts), created once validation finds one. */
export const VALIDATOR_ERRORS = 'validator_error_change';
export function validatorErrorTable(metaSchema: string, task: string): string {
  return `${quoteIdent(metaSchema)}.${quoteIdent(metaTableName(task, VALIDATOR_ERRORS))}`;
}

let chain: Promise<unknown> = Promise.resolve();

/** Creates the meta schema and the task's tables that do not exist yet, one caller at a time (see above). */
export function ensureMetaTables(conn: Connection, metaSchema: string, task: string, audit: boolean): Promise<void> {
  const run = chain.then(() => createMissing(conn, metaSchema, task, audit));
  chain = run.catch(() => undefined);
  return run;
}

async function createMissing(conn: Connection, metaSchema: string, task: string, audit: boolean): Promise<void> {
  const wanted = (Object.keys(META_TABLES) as MetaTable[]).filter((t) => audit || t !== 'write_audit');
  const names = wanted.map((t) => metaTableName(task, t));
  const existing = async () =>
    new Set(
      (
        await query<Row[]>(
          conn,
          'downstream',
          `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${names.map(() => '?').join(',')})`,
          [metaSchema, ...names],
        )
      ).map((r) => String(r.t)),
    );
  if ((await existing()).size === names.length) return;
  // Other agents (sources of this task bound elsewhere) create the same tables: one at a time on the server too. A
  // server without GET_LOCK only loses that serialisation (CREATE … IF NOT EXISTS stays correct).
  const lock = `tsdm_meta_${hash(`${metaSchema}\0${task}`).toString(16)}`;
  const locked = await query<Row[]>(conn, 'downstream', 'SELECT GET_LOCK(?, 30) AS l', [lock]).then(
    (r) => Number(r[0]?.l) === 1,
    () => false,
  );
  try {
    await query(conn, 'downstream', `CREATE DATABASE IF NOT EXISTS ${quoteIdent(metaSchema)}`);
    const have = await existing();
    for (const t of wanted) {
      if (have.has(metaTableName(task, t))) continue;
      const def = META_TABLES[t];
      const key = t === 'write_audit' ? 'PRIMARY KEY (id)' : `PRIMARY KEY (${def.key.join(', ')})`;
      await query(
        conn,
        'downstream',
        `CREATE TABLE IF NOT EXISTS ${metaTable(metaSchema, task, t)} (${def.columns}, ${key}) DEFAULT CHARSET=utf8mb4`,
      );
    }
  } finally {
    if (locked) await query(conn, 'downstream', 'SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}

/**
 * Deletes the rows `where` selects by their full primary keys, one row per statement: the rows are found with a
 * plain read (no locks), and each DELETE locks just its row (a range DELETE would lock the gaps around the range,
 * where another source's rows are inserted: the deadlock of issue #12). Rows of one source are only written by that
 * source's owner, so none appears or goes between the read and the deletes.
 */
export async function deleteRows(
  conn: Connection,
  table: string,
  key: readonly string[],
  where: string,
  params: unknown[],
): Promise<number> {
  const rows = await query<Row[]>(
    conn,
    'downstream',
    `SELECT ${key.map(quoteIdent).join(', ')} FROM ${table} WHERE ${where}`,
    params,
  );
  const sql = `DELETE FROM ${table} WHERE ${key.map((k) => `${quoteIdent(k)} = ?`).join(' AND ')}`;
  for (const r of rows)
    await query(
      conn,
      'downstream',
      sql,
      key.map((k) => r[k]),
    );
  return rows.length;
}

/** A position stored in a meta row's three columns (name, pos, gtid; an empty or NULL gtid is none). */
export function rowPos(name: unknown, p: unknown, gtid: unknown): BinlogPosition {
  const out: BinlogPosition = { name: String(name), pos: Number(p) };
  if (gtid !== null && gtid !== undefined && String(gtid) !== '') out.gtid = String(gtid);
  return out;
}
