import { comparePositions } from '../../src/coord/position.ts';
import type { BinlogPosition } from '../../src/coord/records.ts';

/** Binlog coordinates: `name` is the file (binlog.000003), `pos` the end offset of the last event covered. */
export type { BinlogPosition };

/** Orders positions of one upstream server: by file sequence number, then offset. */
export const comparePos = comparePositions;

export function minPos(ps: BinlogPosition[]): BinlogPosition | undefined {
  return ps.reduce<BinlogPosition | undefined>((m, p) => (m === undefined || comparePos(p, m) < 0 ? p : m), undefined);
}

export function maxPos(ps: BinlogPosition[]): BinlogPosition | undefined {
  return ps.reduce<BinlogPosition | undefined>((m, p) => (m === undefined || comparePos(p, m) > 0 ? p : m), undefined);
}

/** `file:pos`: how a position is shown in errors and given back to `dmctl binlog … --binlog-pos`. */
export function posKey(p: BinlogPosition): string {
  return `${p.name}:${p.pos}`;
}

export function parsePosKey(s: string): BinlogPosition | undefined {
  const m = /^(.+):(\d+)$/.exec(s.trim());
  return m ? { name: m[1]!, pos: Number(m[2]) } : undefined;
}

export function formatPos(p: BinlogPosition | undefined): string {
  if (!p) return '-';
  return `(${p.name}, ${p.pos})${p.gtid ? ` gtid ${p.gtid}` : ''}`;
}

/**
 * MariaDB GTID position (domain-server-seq per domain), folded transaction by transaction, so that every
 * checkpoint carries the GTID state matching its file/pos.
 */
export class MariaGtidState {
  private readonly domains = new Map<number, { server: number; seq: bigint }>();

  constructor(initial = '') {
    for (const part of initial.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [d, s, q] = part.split('-');
      if (d !== undefined && s !== undefined && q !== undefined) this.domains.set(Number(d), { server: Number(s), seq: BigInt(q) });
    }
  }

  add(domain: number, server: number, seq: bigint | number | string): void {
    this.domains.set(domain, { server, seq: BigInt(seq) });
  }

  toString(): string {
    return [...this.domains.entries()].sort((a, b) => a[0] - b[0]).map(([d, v]) => `${d}-${v.server}-${v.seq}`).join(',');
  }
}
