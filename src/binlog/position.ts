/**
 * Binlog positions, the one module for them (agent and tui): the type, their order, and how they are written.
 * `name` is the binlog file (binlog.000003), `pos` the end offset of the last event covered, `gtid` the GTID set at
 * that point when the server has one.
 */
export interface BinlogPosition {
  name: string;
  pos: number;
  gtid?: string;
}

function fileSeq(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}

/** Orders two positions of one upstream server: by binlog file sequence number, then offset. */
export function comparePos(a: BinlogPosition, b: BinlogPosition): number {
  // One file (nearly every comparison, several per row change): its offsets decide, without parsing the names.
  if (a.name === b.name) return a.pos - b.pos;
  const fa = fileSeq(a.name);
  const fb = fileSeq(b.name);
  if (fa !== fb) return fa - fb;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.pos - b.pos;
}

export function minPos(ps: BinlogPosition[]): BinlogPosition | undefined {
  return ps.reduce<BinlogPosition | undefined>((m, p) => (m === undefined || comparePos(p, m) < 0 ? p : m), undefined);
}

export function maxPos(ps: BinlogPosition[]): BinlogPosition | undefined {
  return ps.reduce<BinlogPosition | undefined>((m, p) => (m === undefined || comparePos(p, m) > 0 ? p : m), undefined);
}

/** `file:pos`: how a position is shown in status and errors and given back to `dmctl binlog … --binlog-pos`. */
export function posKey(p: BinlogPosition): string {
  return `${p.name}:${p.pos}`;
}

/** `file:pos`, or `-` when there is no position (status tables). */
export function showPos(p: BinlogPosition | undefined): string {
  return p ? posKey(p) : '-';
}

export function parsePosKey(s: string): BinlogPosition | undefined {
  const m = /^(.+):(\d+)$/.exec(s.trim());
  return m ? { name: m[1]!, pos: Number(m[2]) } : undefined;
}

/** `(file, pos) gtid G`: the long form, in logs. */
export function formatPos(p: BinlogPosition | undefined): string {
  if (!p) return '-';
  return `(${p.name}, ${p.pos})${p.gtid ? ` gtid ${p.gtid}` : ''}`;
}
