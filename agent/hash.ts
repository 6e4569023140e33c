/** A string hash shared by the binlog reader, the meta tables and the dispatcher (a leaf: it imports nothing). */

/** FNV-1a: deterministic across restarts and processes, so a replayed change reaches the same writer. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
