import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { connect } from '../db/mysql.ts';
import { tlsDmError } from '../db/tls.ts';
import { checkStartPosition } from './start-position.ts';

/**
 * The DmError of a binlog stream failure (zongji-reader.ts): `err` as zongji or the server gave it, `file` the binlog
 * file being read, `serverId` the id the stream registered with. A DmError is kept as it is.
 */
export function streamError(err: unknown, file: string, serverId: number): DmError {
  const e = err as { errno?: number; code?: string; message?: string };
  if (err instanceof DmError) return err;
  const tls = tlsDmError(err);
  if (tls) return tls;
  if (e.errno === 1236) {
    // 1236 is one errno for several causes. For a file/offset start, diagnoseStreamStart decides from what the server
    // lists (SHOW BINARY LOGS, the event at the offset), not from this text; the text remains the only discriminator
    // for a GTID start (MariaDB: "could not find GTID state ... purged" vs "... which is not in the master's binlog")
    // and when those statements cannot run.
    const invalid =
      /position|file size|not find.*gtid|gtid.*not/i.test(e.message ?? '') &&
      !/could not find first log file/i.test(e.message ?? '');
    return new DmError(
      invalid ? 'BinlogPositionInvalid' : 'BinlogPurged',
      `binlog stream from ${file} failed: ${e.message}`,
      {
        cause: err,
        context: { position: file, errno: 1236 },
      },
    );
  }
  if (e.errno === 4052) {
    return new DmError(
      'BinlogServerIdConflict',
      `the upstream dropped this binlog stream (server-id ${serverId}): another replica connected with the same server-id: ${e.message}`,
      { cause: err, context: { position: file, errno: 4052 } },
    );
  }
  if (e.errno === 1045) return new DmError('UpstreamAuth', `binlog connection rejected: ${e.message}`, { cause: err });
  return new DmError('BinlogStream', `binlog stream broke at ${file}: ${e.message ?? String(err)}`, {
    cause: err,
    context: { position: file },
  });
}

/**
 * The error of a stream that failed with 1236 at `at` (`fallback`, from streamError): BinlogPurged when the file is
 * older than every file upstream, BinlogPositionInvalid when the file never existed, the offset is past its end or
 * not the start of an event (start-position.ts), else `fallback` (the position looks good, or cannot be judged).
 */
export async function diagnoseStreamStart(db: DbConfig, at: BinlogPosition, fallback: DmError): Promise<DmError> {
  const up = await connect(db, 'upstream');
  try {
    return (
      (await checkStartPosition(up, at, 'the binlog stream from', {
        cause: fallback.cause ?? fallback,
        context: fallback.context,
      })) ?? fallback
    );
  } finally {
    up.destroy();
  }
}
