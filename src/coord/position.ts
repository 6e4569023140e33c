import type { BinlogPosition } from './records.ts';

function fileSeq(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}

/** Orders two positions of one upstream server: by binlog file sequence number, then offset. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  const fa = fileSeq(a.name);
  const fb = fileSeq(b.name);
  if (fa !== fb) return fa - fb;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.pos - b.pos;
}
