import { readFileSync } from 'node:fs';
import type { Coord, OpReply } from '../../src/coord/index.ts';
import { DmError, RemoteDmError } from '../../src/errors/index.ts';

export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DmError('ConfigFileRead', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
      context: { file },
    });
  }
}

/** Request/reply to the agents; a clear error when nobody answers. */
export async function opRequest<T>(coord: Coord, subject: string, payload: unknown, timeoutSec: number): Promise<T> {
  let reply: OpReply<T>;
  try {
    reply = await coord.request<OpReply<T>>(subject, payload, timeoutSec * 1000);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '503') throw new DmError('NoAgent', `no dm-agent is listening on ${subject}`, { cause: err });
    throw new DmError('Timeout', `no answer on ${subject} within ${timeoutSec}s`, { cause: err });
  }
  if (!reply.ok)
    throw reply.error
      ? new RemoteDmError(reply.error)
      : new DmError('Internal', `${subject} failed without an error record`);
  return reply.result as T;
}
