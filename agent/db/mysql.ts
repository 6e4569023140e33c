import mysql from 'mysql2/promise';
import type { Connection, ConnectionOptions, FieldPacket } from 'mysql2/promise';
import { installTlsCheck, sslOptions, tlsDmError } from './tls.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError, type ErrorContext, type ErrorName } from '../../src/errors/index.ts';
import { planSession, setSessionSql, type SessionVar } from '../../src/sql/session-vars.ts';
import { loadSecretKey, plainPassword } from '../../src/config/secret.ts';

/** Key for passwords encrypted with `dmctl encrypt` (set once at agent start from --secret-key-path). */
let secretKey = loadSecretKey(undefined);
export function setSecretKey(key: Buffer): void {
  secretKey = key;
}

/**
 * The mysql2 adapter: every upstream/downstream connection of the agent is opened here, and every mysql2 error is
 * turned into a DmError here, by errno/code (never by message text).
 */

export type Side = 'upstream' | 'downstream';
/** A column value as tsdm carries it: exact text for everything textual or numeric, bytes for binary columns. */
export type Value = string | Buffer | null;
export type Row = Record<string, Value>;

export interface ConnectOpts {
  /** Session time zone: UTC upstream (TIMESTAMP values are read in UTC), the task's zone for data written downstream. */
  timeZone?: string;
  multipleStatements?: boolean;
  /** Columns whose values must be read as bytes (binary strings, BIT, BLOB, geometry). */
  connectTimeoutMs?: number;
  /** Which block the options come from (errors name from.security or target-database.security); default upstream. */
  side?: Side;
}

// Every TLS handshake of a connection built by connectionOptions checks the server's certificate (tls.ts).
installTlsCheck();

/**
 * The mysql2 options of a connection. With a `security` block the server's certificate is verified against ssl-ca,
 * the configured host and cert-allowed-cn before credentials are sent (tls.ts); a missing or bad certificate file
 * throws TlsFile here. `opts.side` (default upstream) names the block in errors.
 */
export function connectionOptions(cfg: DbConfig, opts: ConnectOpts = {}): ConnectionOptions {
  const ssl = sslOptions(cfg.security, cfg.host, opts.side ?? 'upstream');
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
    // tsdm never prepares statements (query, not execute); mysql2's statement cache preallocates its LRU for this many
    // entries, 0.5 MB per connection at its default 16,000: 100 tasks' connections held ~100 MB of empty cache.
    maxPreparedStatements: 16,
    ...(ssl ? { ssl } : {}),
  };
}

/**
 * Two per-query costs of mysql2 that tsdm does not need, measured in a full load (issue #14): its default query
 * formatting scans every statement's whole text for `?` placeholders even when no values are given (a multi-row
 * INSERT is megabytes of text: 13–37 % of the agent's busy time), and `trace` captures a stack trace per query.
 * queryFormat formats exactly as mysql2 does (same function, same stringifyObjects and time zone) when values are
 * given, and passes the text through untouched when there are none, which is what mysql2's format returns for them
 * too. Errors keep their errno/code (classifyMysqlError reads those, never the stack).
 */
const FAST_QUERIES = {
  trace: false,
  queryFormat(this: unknown, sql: string, values: unknown, timezone?: string): string {
    if (values === undefined || values === null || (Array.isArray(values) && values.length === 0)) return sql;
    return mysql.format(sql, values as Parameters<typeof mysql.format>[1], false, (timezone ?? 'local') as never);
  },
} satisfies Pick<ConnectionOptions, 'trace'> & Record<string, unknown>;

/**
 * Opens a connection and sets up its session: tsdm's settings and the user's `session` block, with tsdm's precedence
 * (src/sql/session-vars.ts planSession). This is the one place every upstream and downstream session is prepared: the
 * load workers, sync writers, checkpoint/meta connections and DDL executors all come through here, and so does a
 * connection opened again after the server closed one (reopen()).
 */
export async function connect(cfg: DbConfig, side: Side, opts: ConnectOpts = {}): Promise<Connection> {
  let conn: Connection;
  try {
    conn = await mysql.createConnection({ ...connectionOptions(cfg, { side, ...opts }), ...FAST_QUERIES });
  } catch (err) {
    throw classifyMysqlError(err, side, { connect: `${cfg.host}:${cfg.port}` });
  }
  // A connection error after connect (server restart, KILL, wait_timeout) must not crash the agent: the next query
  // rejects. The connection is remembered as closed so that writers can open a new one before using it (isClosed).
  conn.on('error', () => {
    closed.add(conn);
  });
  conn.on('end', () => {
    closed.add(conn);
  });
  const plan = planSession(side, cfg.session, {
    timeZone: opts.timeZone ?? '+00:00',
    keyPrefix: `${cfg.sessionOrigin?.key ?? (side === 'upstream' ? 'from' : 'target-database')}.session`,
  });
  for (const v of plan.vars) {
    const sql = setSessionSql(v);
    try {
      await conn.query(sql);
    } catch (err) {
      conn.destroy();
      if (v.key === undefined || isTransient(err)) throw classifyMysqlError(err, side, { sql });
      throw sessionRefused(err, side, v, cfg);
    }
  }
  return conn;
}

const closed = new WeakSet<Connection>();

/** True when the server or the network closed the connection: a query on it can only fail. */
export function isClosed(conn: Connection): boolean {
  // mysql2 marks a connection that had a fatal error; the events above may not have been delivered yet.
  const core = (conn as unknown as { connection?: { _fatalError?: unknown; _closing?: boolean } }).connection;
  return closed.has(conn) || !!core?._fatalError || !!core?._closing;
}

/** An error of a connection that is gone (killed, timed out, server restarted): open a new one and retry. */
export function isConnectionLost(err: unknown): boolean {
  const e = (err instanceof DmError ? err.cause : err) as MysqlErrorLike | undefined;
  if (!e) return false;
  return (
    e.fatal === true ||
    (e.errno !== undefined && LOST_ERRNOS.has(e.errno)) ||
    (e.code !== undefined && CONN_CODES.has(e.code))
  );
}

/** TSDM-10022: the server refused a session variable the user wrote; the suggestion follows the server's reason. */
function sessionRefused(err: unknown, side: Side, v: SessionVar, cfg: DbConfig): DmError {
  const e = err as MysqlErrorLike;
  const file = cfg.sessionOrigin?.file;
  const key = v.key ?? v.name;
  const where = file ? `${file} key ${key}` : `key ${key}`;
  const block =
    side === 'upstream'
      ? 'from.session in the source file (then `dmctl operate-source update`)'
      : 'target-database.session in the task file';
  let suggestion: string;
  switch (e.errno) {
    case 1193:
      suggestion = `The ${side} server has no variable ${v.name} (a variable of another server kind or version?): remove it from ${block}.`;
      break;
    case 1231:
    case 1232:
      suggestion = `${v.name} does not accept ${JSON.stringify(v.value)}: write a value it accepts in ${block} (numbers and ON/OFF are sent unquoted, other values as strings).`;
      break;
    case 1228:
    case 1229:
    case 1238:
    case 1621:
      suggestion = `${v.name} cannot be set for one session: set it on the server (SET GLOBAL and my.cnf) and remove it from ${block}.`;
      break;
    case 1227:
      suggestion = `The ${side} user may not set ${v.name}: grant the privilege the server names, or remove it from ${block}.`;
      break;
    default:
      suggestion = `Fix or remove ${v.name} in ${block}.`;
  }
  const context: ErrorContext = { key };
  if (file) context.file = file;
  if (e.errno !== undefined) context.errno = e.errno;
  return new DmError(
    'SessionVariableRefused',
    `${where}: the ${side} server refused session variable ${v.name} = ${JSON.stringify(v.value)} (${setSessionSql(v)}): ${e.errno ? `error ${e.errno}: ` : ''}${e.sqlMessage ?? e.message ?? String(err)}`,
    { cause: err, context, suggestion },
  );
}

interface MysqlErrorLike {
  errno?: number;
  code?: string;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

const TRANSIENT_ERRNOS = new Set([1205, 1213, 1040, 1053, 2006, 2013, 1927, 1205, 3024]);
/** The connection is gone: 2006 server has gone away, 2013 lost connection during query, 1927 connection killed. */
const LOST_ERRNOS = new Set([2006, 2013, 1927]);

const CONN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
]);

/** 1153: a statement or LOAD DATA line over the server's max_allowed_packet (it then closes the connection). */
function packetTooLarge(e: MysqlErrorLike): boolean {
  return e.errno === 1153 || e.code === 'ER_NET_PACKET_TOO_LARGE';
}

/** True for errors after which retrying the same work (with backoff) is the right response. */
export function isTransient(err: unknown): boolean {
  if (err instanceof DmError) return err.retryable;
  const e = err as MysqlErrorLike;
  if (packetTooLarge(e)) return false; // fatal to the connection, and the same write would fail again
  return (
    (e.errno !== undefined && TRANSIENT_ERRNOS.has(e.errno)) ||
    (e.code !== undefined && CONN_CODES.has(e.code)) ||
    e.fatal === true
  );
}

export function classifyMysqlError(
  err: unknown,
  side: Side,
  extra: { sql?: string; connect?: string; table?: string } = {},
): DmError {
  if (err instanceof DmError) return err;
  const tls = tlsDmError(err, side);
  if (tls) return tls;
  const e = err as MysqlErrorLike;
  const text = e.sqlMessage ?? e.message ?? String(err);
  let name: ErrorName;
  if (e.errno === 1045 || e.errno === 1044 || e.errno === 1698)
    name = side === 'upstream' ? 'UpstreamAuth' : 'DownstreamAuth';
  // Before the connection-loss test: the server closes the connection after it (mysql2 marks it fatal), and
  // retrying the same write would only fail again.
  else if (side === 'downstream' && packetTooLarge(e)) name = 'DownstreamPacketTooLarge';
  else if (
    (e.code && CONN_CODES.has(e.code)) ||
    (e.errno !== undefined && (LOST_ERRNOS.has(e.errno) || e.errno === 1040 || e.errno === 1053)) ||
    e.fatal
  )
    name = side === 'upstream' ? 'UpstreamConnect' : 'DownstreamConnect';
  else if (side === 'downstream' && e.errno !== undefined && TRANSIENT_ERRNOS.has(e.errno))
    name = 'DownstreamTransient';
  else if (side === 'upstream' && (e.errno === 1227 || e.errno === 1142 || e.errno === 1143))
    name = 'UpstreamPrivileges';
  else if (side === 'upstream' && e.errno === 1236) name = 'BinlogPurged';
  else name = side === 'upstream' ? 'UpstreamQuery' : 'DownstreamExec';
  const where = extra.connect ? ` (${extra.connect})` : '';
  const context: Record<string, unknown> = {};
  if (extra.sql) context.sql = extra.sql;
  if (extra.table) context.table = extra.table;
  if (e.errno !== undefined) context.errno = e.errno;
  const suggestion = name === 'DownstreamExec' && e.errno !== undefined ? STRUCTURE_ADVICE[e.errno] : undefined;
  return new DmError(name, `${side} ${e.errno ? `error ${e.errno}` : (e.code ?? 'error')}${where}: ${text}`, {
    cause: err,
    context,
    ...(suggestion ? { suggestion } : {}),
  });
}

/**
 * What to do when the downstream table is not shaped like the rows sync sends (DM's tracker_ignored_ddl: an upstream
 * ALTER a filter ignored): the generic TSDM-30003 advice names neither the cause nor the fix.
 */
const STRUCTURE_ADVICE: Readonly<Record<number, string>> = {
  1054: 'The downstream table lacks a column the statement writes: a column added upstream by a DDL that was not applied downstream (filtered by the task, skipped, or run only upstream). Add the column downstream as the upstream has it (`ALTER TABLE … ADD COLUMN`), then `dmctl resume-task`.',
  1146: "The downstream has no such table: one created upstream by a DDL that was not applied downstream (filtered or skipped), or dropped downstream. Create it downstream with the upstream table's structure (`SHOW CREATE TABLE` upstream), then `dmctl resume-task`.",
};

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
export async function queryExact(
  conn: Connection,
  sql: string,
  binaryCols: ReadonlySet<string>,
  params?: unknown[],
): Promise<{ rows: Row[]; fields: FieldPacket[] }> {
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

/** A statement with its `?` values written into the text, escaped as conn.query(sql, params) would send them. */
export const formatSql = (sql: string, params: unknown[]): string =>
  mysql.format(sql, params as Parameters<typeof mysql.format>[1]);
