/**
 * Encrypted passwords (`dmctl encrypt`, DESIGN §7b). A ciphertext is base64 of iv (12 bytes) | GCM tag (16) |
 * AES-256-GCM ciphertext of the UTF-8 password. Source and task files accept it wherever a password goes; dmctl
 * encrypts plain passwords before it stores a file in NATS, and the agents decrypt right before they connect.
 *
 * The key: 32 bytes from the file given by `--secret-key-path` (64 hex characters, 44 base64 characters, or 32 raw
 * bytes; trailing newline ignored), the same file on every agent and wherever dmctl runs. Without a file a
 * built-in key is used: that hides passwords from casual reading of NATS, not from someone who has tsdm's source,
 * so the agent (at start) and dmctl (when it encrypts) warn with BUILTIN_KEY_WARNING. The key is never stored in NATS.
 *
 * Telling a ciphertext from a plain password: only a value that decodes and authenticates under the key (GCM
 * tag) is a ciphertext; anything else is taken as plain text (a plain password authenticating by chance has
 * probability 2^-128).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isMap, isScalar, parseDocument } from 'yaml';
import { REDACTED } from './redact.ts';

export { BUILTIN_KEY_WARNING, SECRET_KEY_HOWTO, loadSecretKey } from './secret-key.ts';

export function encryptPassword(plain: string, key: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}

/** The plain password if `text` is a ciphertext under `key`, else undefined. */
export function tryDecrypt(text: string, key: Buffer): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length < 40) return undefined;
  const buf = Buffer.from(text, 'base64');
  if (buf.length < 29) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
    d.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The password to use for a connection: decrypted when it is a ciphertext, as written otherwise. */
export function plainPassword(text: string, key: Buffer): string {
  return tryDecrypt(text, key) ?? text;
}

/**
 * The file text with every password at `paths` (e.g. ['from','password']) encrypted, comments and layout kept.
 * Values already encrypted under the key stay as they are. Returns the text unchanged when there is nothing to do.
 */
export function encryptYamlPasswords(text: string, paths: string[][], key: Buffer): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return text;
  // Each value is replaced in the text itself, at its offsets: re-printing the document (doc.toString()) would fold
  // long lines and reflow flow collections, and the line numbers of later config errors would no longer be those of
  // the user's file. A value that spanned lines (a block scalar) keeps its line count with blank lines after it.
  const edits: { from: number; to: number; text: string }[] = [];
  for (const p of paths) {
    const node: unknown = doc.getIn(p, true);
    if (!isScalar(node) || node.value === null || node.value === undefined || !node.range) continue;
    // The text as written (`password: 0123` is the string "0123", as the config loader reads it).
    const s = typeof node.source === 'string' ? node.source : String(node.value);
    if (s === '' || tryDecrypt(s, key) !== undefined) continue;
    const [from, to] = node.range;
    const lines = text.slice(from, to).split('\n').length - 1;
    edits.push({ from, to, text: JSON.stringify(encryptPassword(s, key)) + '\n'.repeat(lines) });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return out;
}

export const SOURCE_PASSWORD_PATHS = [['from', 'password']];
export const TASK_PASSWORD_PATHS = [['target-database', 'password']];

/** The file text with the passwords at `paths` shown as REDACTED (for `dmctl config` and anything printed). */
export function redactYamlPasswords(text: string, paths: string[][]): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return text;
  for (const p of paths) {
    const node: unknown = doc.getIn(p, true);
    if (isScalar(node) && node.value !== null && node.value !== '') doc.setIn(p, REDACTED);
  }
  return doc.toString();
}
