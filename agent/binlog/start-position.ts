import type { Connection } from 'mysql2/promise';
import { type BinlogPosition, posKey } from '../../src/binlog/position.ts';
import { type BinaryLog, FIRST_EVENT_POS, judgeFilePosition } from '../../src/binlog/position-check.ts';
import { DmError, type ErrorContext } from '../../src/errors/index.ts';

/** MySQL/MariaDB ER_ERROR_WHEN_EXECUTING_COMMAND: what SHOW BINLOG EVENTS fails with when it cannot read there. */
const ER_ERROR_WHEN_EXECUTING_COMMAND = 1220;

/**
 * Whether a file/offset start position exists upstream (GTID-only positions are not checked here), from what the
 * server lists rather than from the text of a 1236 error: SHOW BINARY LOGS says whether the file exists, was purged,
 * and how long it is (src/binlog/position-check.ts); SHOW BINLOG EVENTS IN file FROM pos LIMIT 1 then reads the event
 * at the offset, which the server refuses (1220) when the offset is not the start of an event. Returns the error to
 * report (BinlogPositionInvalid, or BinlogPurged for a purged file), or undefined when the position is good or cannot
 * be judged (no binlog, no privilege: the stream itself then reports what the server says).
 * `origin` says where the position came from, for the message ("meta of source s1", "the binlog stream"); `from`
 * the error that led here (a stream's 1236), kept as the cause with its context.
 */
export async function checkStartPosition(
  conn: Connection,
  pos: BinlogPosition,
  origin: string,
  from?: { cause: unknown; context: ErrorContext },
): Promise<DmError | undefined> {
  if (!pos.name) return undefined;
  let logs: BinaryLog[];
  try {
    const [rows] = await conn.query('SHOW BINARY LOGS');
    logs = (rows as Record<string, string | number>[]).map((r) => ({
      name: String(r.Log_name),
      size: Number(r.File_size),
    }));
  } catch {
    return undefined;
  }
  const at = `${origin} ${posKey(pos)}`;
  const wrong = (
    message: string,
    extra: ErrorContext = {},
    name: 'BinlogPositionInvalid' | 'BinlogPurged' = 'BinlogPositionInvalid',
  ) =>
    new DmError(name, `${at}: ${message}`, {
      ...(from ? { cause: from.cause } : {}),
      context: { ...from?.context, position: posKey(pos), ...extra },
    });
  const v = judgeFilePosition(pos, logs);
  switch (v.kind) {
    case 'unknown':
      return undefined;
    case 'purged':
      return wrong(
        `binlog file ${pos.name} was purged upstream (the oldest it has is ${v.oldest})`,
        {},
        'BinlogPurged',
      );
    case 'no-such-file':
      return wrong(`the upstream has no binlog file ${pos.name} (it has ${v.oldest} to ${v.newest})`);
    case 'before-first-event':
      return wrong(`position ${pos.pos} is before the first event of ${pos.name} (events start at ${FIRST_EVENT_POS})`);
    case 'past-end':
      return wrong(`position ${pos.pos} is past the end of ${pos.name} (${v.size} bytes)`);
    case 'in-file':
      if (pos.pos === FIRST_EVENT_POS || pos.pos === v.size) return undefined;
      try {
        await conn.query('SHOW BINLOG EVENTS IN ? FROM ? LIMIT 1', [pos.name, pos.pos]);
        return undefined;
      } catch (err) {
        const e = err as { errno?: number; sqlMessage?: string };
        if (e.errno !== ER_ERROR_WHEN_EXECUTING_COMMAND) return undefined;
        return wrong(
          `position ${pos.pos} is not the start of an event in ${pos.name} (SHOW BINLOG EVENTS IN '${pos.name}' FROM ${pos.pos}: ${e.sqlMessage ?? 'refused'}); a position must be an event's Pos or End_log_pos as SHOW BINLOG EVENTS lists them`,
        );
      }
  }
}
