import type { Connection } from 'mysql2/promise';
import type { ValidationErrorOpRequest, ValidationErrorRow } from '../../src/coord/ops.ts';
import { quoteIdent } from '../../src/sql/table-name.ts';
import { validatorErrorTable } from '../checkpoint-tables.ts';
import { query } from '../db/mysql.ts';

/**
 * Error rows of continuous validation, kept downstream in `<meta-schema>`.`<task>_validator_error_change` as DM
 * does: next to the checkpoints, in the database the task writes anyway, so they survive agent restarts and a source
 * moving to another agent, and need no KV space that grows with the number of differing rows. One table per task (ids
 * are unique across its sources). Status: 0 new, 1 ignored, 2 resolved (DM's NewErr, IgnoredErr, ResolvedErr);
 * clear-error deletes rows.
 */

export const ERROR_STATUS = ['NewErr', 'IgnoredErr', 'ResolvedErr'] as const;

export async function ensureErrorTable(conn: Connection, metaSchema: string, task: string): Promise<void> {
  await query(conn, 'downstream', `CREATE DATABASE IF NOT EXISTS ${quoteIdent(metaSchema)}`);
  await query(
    conn,
    'downstream',
    `CREATE TABLE IF NOT EXISTS ${validatorErrorTable(metaSchema, task)} (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      source VARCHAR(255) NOT NULL,
      src_table VARCHAR(600) NOT NULL,
      dst_table VARCHAR(600) NOT NULL,
      row_key LONGTEXT NOT NULL,
      error_type VARCHAR(64) NOT NULL,
      src_data LONGTEXT NULL,
      dst_data LONGTEXT NULL,
      status TINYINT NOT NULL DEFAULT 0,
      create_time DATETIME(3) NOT NULL,
      update_time DATETIME(3) NOT NULL,
      KEY (source, status)
    )`,
  );
}

export type NewErrorRow = Omit<ValidationErrorRow, 'id' | 'status' | 'time' | 'task'>;

const nowText = () => new Date().toISOString().slice(0, 23).replace('T', ' ');

export async function insertError(conn: Connection, table: string, e: NewErrorRow): Promise<number> {
  const r = await query<{ insertId: number }>(
    conn,
    'downstream',
    `INSERT INTO ${table} (source, src_table, dst_table, row_key, error_type, src_data, dst_data, status, create_time, update_time)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
    [
      e.source,
      e.srcTable,
      e.dstTable,
      JSON.stringify(e.key),
      e.errorType,
      e.srcData === null ? null : JSON.stringify(e.srcData),
      e.dstData === null ? null : JSON.stringify(e.dstData),
      nowText(),
      nowText(),
    ],
  );
  return Number(r.insertId);
}

export async function countErrors(
  conn: Connection,
  table: string,
  source: string,
): Promise<{ new: number; ignored: number; resolved: number }> {
  const rows = await query<{ status: number; n: number }[]>(
    conn,
    'downstream',
    `SELECT status, COUNT(*) AS n FROM ${table} WHERE source = ? GROUP BY status`,
    [source],
  );
  const by = (s: number) => Number(rows.find((r) => Number(r.status) === s)?.n ?? 0);
  return { new: by(0), ignored: by(1), resolved: by(2) };
}

type Filter = NonNullable<ValidationErrorOpRequest['filter']>;
const FILTER_SQL: Record<Filter, string> = {
  all: '1=1',
  unprocessed: 'status = 0',
  ignored: 'status = 1',
  resolved: 'status = 2',
};

/** show-error: the task's error rows (every source), oldest first. */
export async function listErrors(
  conn: Connection,
  table: string,
  task: string,
  filter: Filter,
): Promise<ValidationErrorRow[]> {
  const rows = await query<Record<string, unknown>[]>(
    conn,
    'downstream',
    `SELECT id, source, src_table, dst_table, row_key, error_type, src_data, dst_data, status,
       DATE_FORMAT(create_time, '%Y-%m-%d %H:%i:%s') AS t FROM ${table} WHERE ${FILTER_SQL[filter]} ORDER BY id`,
  );
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.parse(String(v)));
  return rows.map((r) => ({
    id: Number(r.id),
    task,
    source: String(r.source),
    srcTable: String(r.src_table),
    dstTable: String(r.dst_table),
    key: json(r.row_key) as ValidationErrorRow['key'],
    errorType: String(r.error_type),
    srcData: json(r.src_data) as ValidationErrorRow['srcData'],
    dstData: json(r.dst_data) as ValidationErrorRow['dstData'],
    status: ERROR_STATUS[Number(r.status)] ?? 'NewErr',
    time: `${String(r.t)} UTC`,
  }));
}

/** ignore-error / resolve-error (status) and clear-error (delete) of one id or every row. Returns rows changed. */
export async function operateErrors(
  conn: Connection,
  table: string,
  action: 'ignore' | 'resolve' | 'clear',
  id: number | undefined,
): Promise<number> {
  const where = id === undefined ? '' : ' WHERE id = ?';
  const params = id === undefined ? [] : [id];
  const sql =
    action === 'clear'
      ? `DELETE FROM ${table}${where}`
      : `UPDATE ${table} SET status = ${action === 'ignore' ? 1 : 2}, update_time = '${nowText()}'${where}`;
  const r = await query<{ affectedRows: number }>(conn, 'downstream', sql, params);
  return Number(r.affectedRows);
}
