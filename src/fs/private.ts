/**
 * Files and directories only their owner may read: what tsdm writes that holds passwords (encrypted with a key that
 * may be the built-in one) or copies of upstream rows (`config export`, check-data's fix SQL, the relay store).
 *
 * The mode is set explicitly after open/mkdir, so neither a permissive umask nor an older file with wider
 * permissions leaves the content readable by others: an existing file is truncated and narrowed before the new
 * content is written, so there is no moment at which the new content is readable by others.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, writeFileSync } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Writes `data` to `path` (created or replaced) with mode 0600. */
export function writePrivateFile(path: string, data: string): void {
  const fd = openSync(path, 'w', PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` (and missing parents) with mode 0700. A directory that already existed keeps its mode unless
 * `owned`: a directory the user named (`-d DIR`, maybe their home) is not ours to change, one tsdm made is.
 */
export function mkdirPrivate(dir: string, owned = false): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (created !== undefined || owned) chmodSync(dir, PRIVATE_DIR_MODE);
}
