import { EventEmitter } from 'node:events';
import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { parseStartTime, startTimeEpoch } from '../../src/config/start-time.ts';
import { DmError } from '../../src/errors/index.ts';
import { connect, query } from '../db/mysql.ts';
import { MYSQL_GTID, MysqlGtidSet, PREVIOUS_GTIDS } from './mysql-gtid.ts';

/**
 * `start-task --start-time` (DM's binlog.binlogPosFinder, remote flavour): the position of the first transaction whose
 * binlog timestamp is at or after a time. Binary search over the binlog files by the timestamp of each file's first
 * event, then a scan of the one file that holds the time, event header by event header, up to the first transaction
 * start (a GTID event: MariaDB's, MySQL's or MySQL's anonymous one) stamped at or after it. The position is where that
 * event starts: the stream resumes exactly before the transaction and never inside one.
 *
 * The binlog is read with the replication protocol (COM_BINLOG_DUMP, non-blocking: the server ends the stream at its
 * last event instead of waiting), headers only (and the bodies of MySQL's PREVIOUS_GTIDS and GTID events, for the GTID set
 * at the position: mysql-gtid.ts): checksums and other formats do not matter.
 * Binlog timestamps have second granularity: "at or after 12:00:05" includes every event of second 12:00:05.
 */

const FAKE_ROTATE_FLAG = 0x20; // LOG_EVENT_ARTIFICIAL_F: the rotate event the server sends first, not in the file
const ROTATE = 4;
/** MySQL GTID, MySQL anonymous GTID, MariaDB GTID: each starts a transaction (or a DDL) in its binlog. */
const TXN_START = new Set([33, 34, 162]);
const BINLOG_DUMP_NON_BLOCK = 0x01;
const READ_TIMEOUT_MS = 60_000;

interface Header {
  timestamp: number;
  eventType: number;
  eventSize: number;
  logPos: number;
  flags: number;
  /** The body of MySQL's PREVIOUS_GTIDS and GTID events (mysql-gtid.ts); other events' bodies are not read. */
  body?: Buffer;
}

interface BinaryLog {
  name: string;
  size: number;
}

/** What the finder reports: the instant it looked for (unix seconds) and the position. */
export interface TimeMatch {
  epoch: number;
  position: BinlogPosition;
}

/** `epoch`: the instant, when the caller converted `text` already (timeEpoch). */
export async function findPositionByTime(
  from: DbConfig,
  text: string,
  serverId: number,
  knownEpoch?: number,
): Promise<TimeMatch> {
  const t = parseStartTime(text);
  const up = await connect(from, 'upstream');
  try {
    const epoch = knownEpoch ?? startTimeEpoch(t) ?? (await upstreamEpoch(up, t.local, text));
    const logs = (await query<Record<string, string | number>[]>(up, 'upstream', 'SHOW BINARY LOGS')).map(
      (r): BinaryLog => ({ name: String(r.Log_name), size: Number(r.File_size) }),
    );
    if (logs.length === 0)
      throw new DmError('UpstreamBinlogDisabled', 'the upstream has no binlog files (SHOW BINARY LOGS is empty)');
    // The last file whose first event is before the time holds the first transaction at or after it (or it is in the
    // next file, which then starts with it).
    let lo = 0;
    let hi = logs.length - 1;
    let target = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const first = await firstTimestamp(from, serverId, logs[mid]!.name);
      if (first !== undefined && first < epoch) {
        target = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (target < 0) {
      const first = await firstTimestamp(from, serverId, logs[0]!.name);
      throw new DmError(
        'StartTimeTooEarly',
        `--start-time ${text} is before the oldest binlog the upstream has: ${logs[0]!.name} starts at ${iso(first)}; events before that are purged`,
        { context: { key: '--start-time', position: `${logs[0]!.name}:4` } },
      );
    }
    const file = logs[target]!.name;
    const next = logs[target + 1]?.name;
    const { offset: found, mysqlGtid } = await scanFile(from, serverId, file, epoch);
    let position: BinlogPosition | undefined;
    if (found !== undefined) position = { name: file, pos: found };
    else if (next) position = { name: next, pos: 4 };
    if (!position)
      throw new DmError(
        'StartTimeTooLate',
        `--start-time ${text} (${iso(epoch)}) is after the last binlog event of the upstream (in ${file}): no binlog position matches it`,
        { context: { key: '--start-time' } },
      );
    // MariaDB: BINLOG_GTID_POS. MySQL: the file's PREVIOUS_GTIDS set plus its GTID events before the position (DM's
    // finder does the same with enable-gtid); at the next file's start, the set at the end of this one. Empty without
    // GTID mode (anonymous transactions): file and offset alone.
    const gtid = (await gtidAt(up, position)) ?? (mysqlGtid || undefined);
    return { epoch, position: gtid ? { ...position, gtid } : position };
  } finally {
    up.destroy();
  }
}

/** `text` as unix seconds: its offset, or else the upstream's time zone. */
export async function timeEpoch(from: DbConfig, text: string): Promise<number> {
  const t = parseStartTime(text);
  const known = startTimeEpoch(t);
  if (known !== undefined) return known;
  const up = await connect(from, 'upstream');
  try {
    return await upstreamEpoch(up, t.local, text);
  } finally {
    up.destroy();
  }
}

/** Wall-clock time in the upstream's time zone (its global time_zone, SYSTEM included), as DM reads it. */
async function upstreamEpoch(up: Connection, local: string, text: string): Promise<number> {
  // Seconds since the epoch by difference, not UNIX_TIMESTAMP: that one is 0 past 2038 on MariaDB 10.11 (CONVERT_TZ
  // leaves such a value as it is, so a time that far is read as UTC: it is after the binlog's head either way).
  const [r] = await query<Record<string, unknown>[]>(
    up,
    'upstream',
    "SELECT TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', CONVERT_TZ(?, @@GLOBAL.time_zone, '+00:00')) AS t, @@GLOBAL.time_zone AS z",
    [local],
  );
  const n = r?.t === null || r?.t === undefined ? Number.NaN : Number(r.t);
  if (!Number.isFinite(n))
    throw new DmError(
      'StartTimeInvalid',
      `--start-time ${text}: the upstream cannot convert it from its time zone ${String(r?.z)} (load its time zone tables, or give the time with an offset such as +08:00)`,
      { context: { key: '--start-time' } },
    );
  return Math.floor(n);
}

/** MariaDB's GTID state at a position (BINLOG_GTID_POS); MySQL has no such function: file and offset alone. */
async function gtidAt(up: Connection, p: BinlogPosition): Promise<string | undefined> {
  try {
    const [r] = await query<Record<string, unknown>[]>(up, 'upstream', 'SELECT BINLOG_GTID_POS(?, ?) AS g', [
      p.name,
      p.pos,
    ]);
    return typeof r?.g === 'string' && r.g !== '' ? r.g : undefined;
  } catch {
    return undefined;
  }
}

export function iso(epoch: number | undefined): string {
  return epoch === undefined ? '?' : new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

/** The timestamp of a file's first event (its format description), undefined for an empty stream. */
async function firstTimestamp(from: DbConfig, serverId: number, file: string): Promise<number | undefined> {
  let ts: number | undefined;
  await readHeaders(from, serverId, file, (h) => {
    ts = h.timestamp;
    return false;
  });
  return ts;
}

/**
 * Start offset of the first transaction in `file` stamped at or after `epoch` (undefined when the file has none), and
 * MySQL's GTID set there (or at the file's end) as its events give it ('' on MariaDB or without GTID mode).
 */
async function scanFile(
  from: DbConfig,
  serverId: number,
  file: string,
  epoch: number,
): Promise<{ offset: number | undefined; mysqlGtid: string }> {
  let offset: number | undefined;
  const set = new MysqlGtidSet();
  await readHeaders(from, serverId, file, (h) => {
    if (h.eventType === ROTATE) return false; // the file's end: the next file holds what follows
    if (TXN_START.has(h.eventType) && h.timestamp >= epoch) {
      offset = h.logPos - h.eventSize;
      return false;
    }
    if (h.eventType === PREVIOUS_GTIDS && h.body) set.fromPrevious(h.body);
    else if (h.eventType === MYSQL_GTID && h.body) set.addEvent(h.body);
    return true;
  });
  return { offset, mysqlGtid: set.toString() };
}

/** A mysql2 packet, as a command's state functions get it. */
interface Packet {
  isEOF(): boolean;
  isError(): boolean;
  asError(encoding: unknown): Error;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readBuffer(len: number): Buffer;
}
/** What mysql2's core connection offers a command (its command queue is not part of its typed API). */
interface CoreConnection {
  addCommand(cmd: HeaderDump): HeaderDump;
  writePacket(p: { buffer: Buffer; length(): number; writeHeader(seq: number): void }): void;
  _resetSequenceId(): void;
  clientEncoding: unknown;
}
type State = ((p: Packet, c: CoreConnection) => State) | null;

/**
 * COM_BINLOG_DUMP as a command on mysql2's queue, reading each event's 19-byte header and nothing else. mysql2's own
 * BinlogDump cannot be used: in 3.x it fails to write its request and to decode some event bodies ("Encoding not
 * recognized"). The queue protocol (execute returns true when done, 'end' then) is that of mysql2's Command.
 */
class HeaderDump extends EventEmitter {
  private next: State = null;
  constructor(
    private readonly file: string,
    private readonly serverId: number,
  ) {
    super();
  }

  execute(packet: Packet | null, conn: CoreConnection): boolean {
    if (!this.next) {
      this.next = (_p, c) => this.start(c);
      conn._resetSequenceId();
    }
    if (packet?.isError()) {
      this.emit('error', packet.asError(conn.clientEncoding));
      this.emit('end');
      return true;
    }
    this.next = this.next(packet as Packet, conn);
    if (this.next) return false;
    this.emit('end');
    return true;
  }

  private start(conn: CoreConnection): State {
    const name = Buffer.from(this.file, 'utf8');
    const buffer = Buffer.alloc(4 + 11 + name.length);
    buffer[4] = 0x12; // COM_BINLOG_DUMP
    buffer.writeUInt32LE(4, 5); // from the file's first event
    buffer.writeUInt16LE(BINLOG_DUMP_NON_BLOCK, 9);
    buffer.writeUInt32LE(this.serverId, 11);
    name.copy(buffer, 15);
    conn.writePacket({
      buffer,
      length: () => buffer.length,
      writeHeader(seq: number) {
        buffer.writeUIntLE(buffer.length - 4, 0, 3);
        buffer[3] = seq;
      },
    });
    return (p) => this.header(p);
  }

  private header(p: Packet): State {
    if (p.isEOF()) return null; // the server's last event (non-blocking dump)
    p.readInt8(); // the OK byte before every event
    const timestamp = p.readInt32();
    const eventType = p.readInt8();
    p.readInt32(); // server id
    const eventSize = p.readInt32();
    const logPos = p.readInt32();
    const flags = p.readInt16();
    const h: Header = { timestamp, eventType, eventSize, logPos, flags };
    if ((eventType === PREVIOUS_GTIDS || eventType === MYSQL_GTID) && eventSize > 19)
      h.body = p.readBuffer(eventSize - 19);
    this.emit('header', h);
    return (q) => this.header(q);
  }
}

/**
 * Reads the event headers of `file` from its start, on a connection of its own, until `each` returns false or the
 * stream ends (the file's rotate event, or the server's last event). Artificial events are skipped.
 */
async function readHeaders(
  from: DbConfig,
  serverId: number,
  file: string,
  each: (h: Header) => boolean,
): Promise<void> {
  const conn = await connect(from, 'upstream');
  try {
    // Checksummed events are sent only to a replica that says it expects them; MariaDB sends its own GTID events
    // (instead of BEGIN queries) only to one with GTID capability (4).
    await query(conn, 'upstream', 'SET @master_binlog_checksum = @@GLOBAL.binlog_checksum');
    await query(conn, 'upstream', 'SET @mariadb_slave_capability = 4');
    const core = (conn as unknown as { connection: CoreConnection }).connection;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new DmError('Timeout', `reading binlog ${file} for --start-time took over 60 s`)),
        READ_TIMEOUT_MS,
      );
      const cmd = core.addCommand(new HeaderDump(file, serverId));
      cmd.on('header', (h: Header) => {
        if (done) return;
        if (h.flags & FAKE_ROTATE_FLAG || h.timestamp === 0) return;
        if (!each(h)) finish();
      });
      cmd.on('end', () => finish());
      cmd.on('error', (err: Error) =>
        finish(new DmError('UpstreamBinlogDisabled', `reading binlog ${file}: ${err.message}`, { cause: err })),
      );
    });
  } finally {
    // The dump may still be streaming: only closing the connection stops it.
    conn.destroy();
  }
}
