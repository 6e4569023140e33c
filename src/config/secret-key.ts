/**
 * The secret key of encrypted passwords (src/config/secret.ts describes the scheme): loading it, and the warning about
 * the built-in one. A module of its own without the YAML parser, which dmctl's commands that never touch a file do
 * not load (issue #18).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DmError } from '../errors/index.ts';

const DEFAULT_KEY = createHash('sha256')
  .update('tsdm built-in secret key: use --secret-key-path in production')
  .digest();

/** What to do about the built-in key: the second half of every warning about it (agent log, dmctl stderr, docs). */
export const SECRET_KEY_HOWTO =
  'Generate a key once with `openssl rand -hex 32 > /etc/tsdm/secret.key && chmod 600 /etc/tsdm/secret.key`, then give that same file to dmctl and to every dm-agent with --secret-key-path FILE (or TSDM_SECRET_KEY_PATH).';

/**
 * Said wherever the built-in key is in use (dm-agent at start, dmctl when it encrypts): DM logs a warning at start
 * without a key too ("empty secret key, password in config file will be in plain text").
 */
export const BUILTIN_KEY_WARNING = `no secret key file (--secret-key-path / TSDM_SECRET_KEY_PATH): passwords are encrypted with tsdm's built-in key, which anyone can compute from tsdm's source code, so whoever can read NATS or an exported config file can read the database passwords. ${SECRET_KEY_HOWTO}`;

export function loadSecretKey(path: string | undefined): Buffer {
  if (!path) return DEFAULT_KEY;
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new DmError('SecretKey', `cannot read the secret key file ${path}: ${(err as Error).message}`, {
      cause: err,
      context: { file: path },
    });
  }
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  if (raw.length === 32) return raw;
  throw new DmError(
    'SecretKey',
    `the secret key file ${path} must hold 32 bytes: 64 hex characters, 44 base64 characters or 32 raw bytes`,
    { context: { file: path } },
  );
}
