import type { BinlogPosition } from './position.ts';

/** A row of SHOW BINARY LOGS: a binlog file the server still has, and its size in bytes. */
export interface BinaryLog {
  name: string;
  size: number;
}

/**
 * Where a file/offset start position stands against the server's binlog files (SHOW BINARY LOGS):
 *  - `purged`: the file is older than the oldest file the server has (same base name, lower sequence number): the
 *    events are gone, only a new full migration can recover them;
 *  - `no-such-file`: any other file the server does not list (a typo, another server's name, a file not written yet);
 *  - `before-first-event` / `past-end`: the offset is below 4 (the file's magic number) or beyond the file's size;
 *  - `in-file`: the file exists and the offset is inside it. Whether it is the start of an event needs the events
 *    (agent/binlog/start-position.ts reads the one at that offset).
 * A server that lists no files (binlog off, or no privilege) gives `unknown`: nothing can be said.
 */
export type PositionVerdict =
  | { kind: 'unknown' }
  | { kind: 'purged'; oldest: string }
  | { kind: 'no-such-file'; oldest: string; newest: string }
  | { kind: 'before-first-event' }
  | { kind: 'past-end'; size: number }
  | { kind: 'in-file'; size: number };

/** The first event of every binlog file starts after its 4-byte magic number. */
export const FIRST_EVENT_POS = 4;

function split(name: string): { base: string; seq: number } | undefined {
  const m = /^(.*)\.(\d+)$/.exec(name);
  return m ? { base: m[1]!, seq: Number(m[2]) } : undefined;
}

export function judgeFilePosition(pos: BinlogPosition, logs: BinaryLog[]): PositionVerdict {
  const oldest = logs[0];
  const newest = logs[logs.length - 1];
  if (!oldest || !newest) return { kind: 'unknown' };
  const file = logs.find((l) => l.name === pos.name);
  if (file) {
    if (pos.pos < FIRST_EVENT_POS) return { kind: 'before-first-event' };
    if (pos.pos > file.size) return { kind: 'past-end', size: file.size };
    return { kind: 'in-file', size: file.size };
  }
  const want = split(pos.name);
  const first = split(oldest.name);
  if (want && first && want.base === first.base && want.seq < first.seq) return { kind: 'purged', oldest: oldest.name };
  return { kind: 'no-such-file', oldest: oldest.name, newest: newest.name };
}
