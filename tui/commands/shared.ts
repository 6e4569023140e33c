import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkConfigFileSize } from '../../src/config/limits.ts';
import type { Coord, OpReply } from '../../src/coord/index.ts';
import { DmError, RemoteDmError } from '../../src/errors/index.ts';

export function readConfigFile(file: string): string {
  checkConfigFileSize(file);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DmError('ConfigFileRead', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
      context: { file },
    });
  }
}

/**
 * A TASK-NAME argument, or a task file in its place, as DM's dmctl takes one (GetTaskNameFromArgOrFile:
 * `dmctl stop-task task.yaml`): an argument ending in .yaml or .yml that names a readable file with a top-level
 * `name` stands for that name; anything else is the name as typed.
 */
export function taskNameArg(arg: string): string {
  if (!/\.ya?ml$/.test(arg)) return arg;
  try {
    const doc: unknown = parse(readFileSync(arg, 'utf8'));
    const name = doc !== null && typeof doc === 'object' ? (doc as { name?: unknown }).name : undefined;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // Not a readable YAML file: the argument is the name.
  }
  return arg;
}

/** Request/reply to the agents; a clear error when nobody answers. */
export async function opRequest<T>(coord: Coord, subject: string, payload: unknown, timeoutSec: number): Promise<T> {
  let reply: OpReply<T>;
  try {
    reply = await coord.request<OpReply<T>>(subject, payload, timeoutSec * 1000);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Refused by the client before sending: saying "no answer" would send the user looking at the agents.
    if (code === 'MAX_PAYLOAD_EXCEEDED')
      throw new DmError(
        'ConfigTooLarge',
        `the request on ${subject} (the config files it carries) is larger than the NATS server's max_payload (${coord.nc.info?.max_payload ?? '?'} bytes)`,
        { cause: err },
      );
    if (code === '503') throw new DmError('NoAgent', `no dm-agent is listening on ${subject}`, { cause: err });
    throw new DmError('Timeout', `no answer on ${subject} within ${timeoutSec}s`, { cause: err });
  }
  if (!reply.ok)
    throw reply.error
      ? new RemoteDmError(reply.error)
      : new DmError('Internal', `${subject} failed without an error record`);
  return reply.result as T;
}
