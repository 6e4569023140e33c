import { DmError } from '../../src/errors/index.ts';
import { tlsDmError } from '../db/tls.ts';

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
    // 1236 is one errno for several causes; the server's text is the only discriminator it gives.
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
