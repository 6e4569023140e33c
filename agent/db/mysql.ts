import mysql from 'mysql2/promise';
import type { Connection, ConnectionOptions, FieldPacket } from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError, type ErrorName } from '../../src/errors/index.ts';
import { loadSecretKey, plainPassword } from '../../src/config/secret.ts';

/** Key for passwords encrypted with `dmctl encrypt` (set once at agent start from --secret-key-path). */
let secretKey = loadSecretKey(undefined);
export function setSecretKey(key: Buffer): void { secretKey = key; }

/**
 * The mysql2 adapter: every upstream/downstream connection of the agent is opened here, and every mysql2 error is
 * turned into a DmError here, by errno/code (never by message text).
 */

export type Side = 'upstream' | 'downstream';
/** A column value as tsdm carries it: exact text for everything textual or numeric, bytes for binary columns. */
export type Value = string | Buffer | null;
export type Row = Record<string, Value>;

export interface ConnectOpts {
  /** Session time zone; dump/load/sync always use UTC on both sides so TIMESTAMP values move unchanged. */
  timeZone?: string;
  multipleStatements?: boolean;
  /** Columns whose values must be read as bytes (binary strings, BIT, BLOB, geometry). */
  connectTimeoutMs?: number;
}

function tlsOptions(cfg: DbConfig): ConnectionOptions['ssl'] | undefined {
  const s = cfg.security;
  if (!s || (!s.sslCa && !s.sslCert && !s.sslKey)) return undefined;
  return {
    ...(s.sslCa ? { ca: readFileSync(s.sslCa) } : {}),
    ...(s.sslCert ? { cert: readFileSync(s.sslCert) } : {}),
    ...(s.sslKey ? { key: readFileSync(s.sslKey) } : {}),
  };
}

export function connectionOptions(cfg: DbConfig, opts: ConnectOpts = {}): ConnectionOptions {
  const ssl = tlsOptions(cfg);
  return {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: plainPassword(cfg.password, secretKey),
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    multipleStatements: opts.multipleStatements ?? false,
    ...(ssl ? { ssl } : {}),
  };
}

export async function connect(cfg: DbConfig, side: Side, opts: ConnectOpts = {}): Promise<Connection> {
  let conn: Connection;
  try {
    conn = await mysql.createConnection(connectionOptions(cfg, opts));
  } catch (err) {
    throw classifyMysqlError(err, side, { connect: `${cfg.host}:${cfg.port}` });
  }
  // A connection error after connect (server restart) must not crash the agent: the next query rejects.
  conn.on('error', () => undefined);
  try {
    await conn.query(`SET SESSION time_zone = ?`, [opts.timeZone ?? '+00:00']);
    // tsdm only reads upstream: a neutral sql_mode keeps SHOW CREATE output backquoted (not ANSI_QUOTES) and lets
    // mysql2's escaping work (NO_BACKSLASH_ESCAPES would break it), whatever the server's global sql_mode is.
    if (side === 'upstream') await conn.query(`SET SESSION sql_mode = ''`);
    for (const [k, v] of Object.entries(cfg.session)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new DmError('ConfigInvalid', `invalid session variable name ${k}`, { context: { key: `session.${k}` } });
      await conn.query(`SET SESSION ${k} = ?`, [v]);
    }
  } catch (err) {
    conn.destroy();
    throw classifyMysqlError(err, side);
  }
  return conn;
}

interface MysqlErrorLike { errno?: number; code?: string; sqlMessage?: string; message?: string; fatal?: boolean }

const TRANSIENT_ERRNOS = new Set([1205, 1213, 1040, 1053, 2006, 2013, 1927, 1205, 3024]);
const CONN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR']);

/** True for errors after which retrying the same work (with backoff) is the right response. */
export function isTransient(err: unknown): boolean {
  if (err instanceof DmError) return err.retryable;
  const e = err as MysqlErrorLike;
  return (e.errno !== undefined && TRANSIENT_ERRNOS.has(e.errno)) || (e.code !== undefined && CONN_CODES.has(e.code)) || e.fatal === true;
}

export function classifyMysqlError(err: unknown, side: Side, extra: { sql?: string; connect?: string; table?: string } = {}): DmError {
  if (err instanceof DmError) return err;
  const e = err as MysqlErrorLike;
  const text = e.sqlMessage ?? e.message ?? String(err);
  let name: ErrorName;
  if (e.errno === 1045 || e.errno === 1044 || e.errno === 1698) name = side === 'upstream' ? 'UpstreamAuth' : 'DownstreamAuth';
  else if ((e.code && CONN_CODES.has(e.code)) || e.errno === 2006 || e.errno === 2013 || e.errno === 1040 || e.errno === 1053 || e.errno === 1927 || e.fatal) name = side === 'upstream' ? 'UpstreamConnect' : 'DownstreamConnect';
  else if (side === 'downstream' && e.errno !== undefined && TRANSIENT_ERRNOS.has(e.errno)) name = 'DownstreamTransient';
  else if (side === 'upstream' && (e.errno === 1227 || e.errno === 1142 || e.errno === 1143)) name = 'UpstreamPrivileges';
  else if (side === 'upstream' && e.errno === 1236) name = 'BinlogPurged';
  else name = side === 'upstream' ? 'UpstreamQuery' : 'DownstreamExec';
  const where = extra.connect ? ` (${extra.connect})` : '';
  const context: Record<string, unknown> = {};
  if (extra.sql) context.sql = extra.sql;
  if (extra.table) context.table = extra.table;
  if (e.errno !== undefined) context.errno = e.errno;
  return new DmError(name, `${side} ${e.errno ? `error ${e.errno}` : e.code ?? 'error'}${where}: ${text}`, { cause: err, context });
}

/** Runs a query, turning a failure into a DmError that carries the SQL. */
export async function query<T = Row[]>(conn: Connection, side: Side, sql: string, params?: unknown[]): Promise<T> {
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T;
  } catch (err) {
    throw classifyMysqlError(err, side, { sql });
  }
}

/**
 * Reads rows with exact values: text for everything but the binary columns named in `binaryCols`, which come back
 * as Buffers. mysql2's default casts (numbers, Dates) would round DECIMAL/BIGINT and shift DATETIME.
 */
export async function queryExact(conn: Connection, sql: string, binaryCols: ReadonlySet<string>, params?: unknown[]): Promise<{ rows: Row[]; fields: FieldPacket[] }> {
  try {
    const [rows, fields] = await conn.query({
      sql,
      values: params,
      typeCast: (field, next) => {
        if (binaryCols.has(field.name)) return field.buffer();
        if (field.type === 'GEOMETRY') return field.buffer();
        void next;
        return field.string('utf8');
      },
    });
    return { rows: rows as Row[], fields: fields as FieldPacket[] };
  } catch (err) {
    throw classifyMysqlError(err, 'upstream', { sql });
  }
}

export const escapeValue = (v: Value | number | boolean): string => mysql.escape(v);
export const escapeId = (v: string): string => mysql.escapeId(v, true);
