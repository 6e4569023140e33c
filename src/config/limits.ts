/**
 * Limits on what a config file may cost before it is parsed or expanded (issue #16, "defaults that hurt").
 *
 * Size: a task or source file travels in one NATS message (the check request dmctl sends to an agent, then the
 * record in a KV bucket), and nats-server's default max_payload is 1 MiB. The file is carried as a JSON string,
 * whose escaping can grow it (quotes and backslashes double), so 512 KiB leaves room for that and for the sources
 * a check-task request carries beside the task. Real DM task files are a few KB to a few hundred KB; a 50 MB file
 * is a mistake, and used to fail late as "no agent answered".
 *
 * Aliases: YAML anchors (&a) and aliases (*a) can describe an exponentially large tree in a few lines (the
 * "billion laughs" attack). Expanding one took 20 s of CPU; expansion now stops after MAX_ALIAS_NODES nodes
 * reached through aliases, far above what `<<: *common` in every mysql-instance of a large task needs.
 */
import { statSync } from 'node:fs';
import { DmError } from '../errors/index.ts';

export const MAX_CONFIG_BYTES = 512 * 1024;
export const MAX_ALIAS_NODES = 100_000;
/** Aliases within aliases: a bomb needs ~10 levels; an alias inside its own anchor would recurse forever. */
export const MAX_ALIAS_DEPTH = 64;

/** Throws ConfigTooLarge when `bytes` (of `file`) is above the limit. */
export function checkConfigSize(file: string, bytes: number): void {
  if (bytes <= MAX_CONFIG_BYTES) return;
  throw new DmError(
    'ConfigTooLarge',
    `the file is ${formatBytes(bytes)}, larger than the ${formatBytes(MAX_CONFIG_BYTES)} a config file may have`,
    { context: { file } },
  );
}

/** The size check on the file itself, before it is read: a huge file is refused without loading it. */
export function checkConfigFileSize(file: string): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return; // the read that follows reports a missing or unreadable file with its own error
  }
  checkConfigSize(file, size);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB (${n} bytes)`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB (${n} bytes)`;
  return `${n} bytes`;
}
