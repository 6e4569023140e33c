/**
 * MySQL GTID sets (`uuid:1-5:7-9,…`) folded from binlog events, for `start-task --start-time` on MySQL (DM's
 * binlogPosFinder with enable-gtid: the set of the file's PREVIOUS_GTIDS event plus every GTID event before the found
 * position). MariaDB has BINLOG_GTID_POS instead (time-finder.ts); MySQL has no such function.
 *
 * Event bodies (after the 19-byte header), as the server writes them:
 *  - PREVIOUS_GTIDS (35): n_sids u64, then per sid: uuid (16 bytes), n_intervals u64, then [start, end) u64 pairs;
 *  - GTID (33): flags u8, uuid (16 bytes), gno i64, … (ANONYMOUS_GTID, 34, has no GTID to add).
 */
export const PREVIOUS_GTIDS = 35;
export const MYSQL_GTID = 33;

export class MysqlGtidSet {
  /** uuid → sorted, disjoint, inclusive intervals. */
  private readonly sets = new Map<string, [bigint, bigint][]>();

  /** Replaces the set with a PREVIOUS_GTIDS event's (the state at the file's start). */
  fromPrevious(body: Buffer): void {
    this.sets.clear();
    let o = 0;
    const n = Number(body.readBigUInt64LE(o));
    o += 8;
    for (let i = 0; i < n; i++) {
      const uuid = formatUuid(body.subarray(o, o + 16));
      o += 16;
      const k = Number(body.readBigUInt64LE(o));
      o += 8;
      for (let j = 0; j < k; j++) {
        const start = body.readBigUInt64LE(o);
        const end = body.readBigUInt64LE(o + 8); // exclusive
        o += 16;
        if (end > start) this.addRange(uuid, start, end - 1n);
      }
    }
  }

  /** Adds a GTID event's transaction. */
  addEvent(body: Buffer): void {
    const uuid = formatUuid(body.subarray(1, 17));
    const gno = body.readBigInt64LE(17);
    if (gno > 0n) this.addRange(uuid, gno, gno);
  }

  addRange(uuid: string, lo: bigint, hi: bigint): void {
    const list = this.sets.get(uuid) ?? [];
    list.push([lo, hi]);
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: [bigint, bigint][] = [];
    for (const [l, h] of list) {
      const last = merged[merged.length - 1];
      if (last && l <= last[1] + 1n) last[1] = h > last[1] ? h : last[1];
      else merged.push([l, h]);
    }
    this.sets.set(uuid, merged);
  }

  /** MySQL's text form (uuids in order, as @@gtid_executed prints them); '' when empty. */
  toString(): string {
    return [...this.sets.entries()]
      .filter(([, ivs]) => ivs.length > 0)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([uuid, ivs]) => `${uuid}:${ivs.map(([l, h]) => (l === h ? `${l}` : `${l}-${h}`)).join(':')}`)
      .join(',');
  }
}

function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
