import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { RelayRecord, RelayStore } from './store.ts';

/**
 * `start-task --start-time` on a source whose task reads the relay (DM's binlogPosFinder, local flavour: DM searches
 * the relay directory instead of the upstream when the source has relay enabled). The position where the first
 * transaction or statement stamped at or after `epoch` starts: the end of the record before it (its GTID state
 * included), or where the relay starts.
 *
 * Only transaction (`t`) and statement (`q`) records carry an upstream event time of their own: progress records
 * (`p`) may carry the agent's clock, and a part (`x`) the time of the record before it. The search binary-searches
 * the sequence for the first such record stamped at or after `epoch - SLACK_S` and scans forward from there for the
 * first at or after `epoch`, so a few commits stamped slightly out of order (binlog times are per statement, in
 * seconds) do not hide the first one; DM likewise scans the one file that holds the time event by event.
 *
 *  - `found`: a position in the relay;
 *  - `before`: the relay's first timed record is already at or after the time, so the first event at or after it may be
 *    older than the relay (DM: BelowLowerBound); the caller asks the upstream, whose binlog may reach further back;
 *  - `after`: no stored record is at or after the time (DM: AboveUpperBound); the relay may lag the upstream, so the
 *    caller asks the upstream too.
 */
export type RelayTimeMatch =
  | { kind: 'found'; position: BinlogPosition; seq: number }
  | { kind: 'before'; origin: BinlogPosition | undefined; firstTs: number }
  | { kind: 'after'; lastTs: number | undefined };

const SLACK_S = 10;

const timed = (r: RelayRecord | undefined): r is Extract<RelayRecord, { k: 't' | 'q' }> =>
  r !== undefined && (r.k === 't' || r.k === 'q');

/** `head`: the last complete sequence (RelayFeed.head): parts of an open transaction after it are not searched. */
export function findInRelay(store: RelayStore, head: number, epoch: number): RelayTimeMatch {
  const first = store.firstSeq();
  /** The first timed record at or after `s` (up to head), undefined when none. */
  const timedFrom = (s: number): { seq: number; rec: Extract<RelayRecord, { k: 't' | 'q' }> } | undefined => {
    for (; s <= head; s++) {
      const rec = store.get(s);
      if (timed(rec)) return { seq: s, rec };
    }
    return undefined;
  };
  const firstTimed = timedFrom(first);
  if (!firstTimed) return { kind: 'after', lastTs: undefined };
  if (firstTimed.rec.ts >= epoch) return { kind: 'before', origin: store.origin(), firstTs: firstTimed.rec.ts };
  // Binary search: the first sequence whose next timed record is at or after epoch - SLACK_S (monotone in s).
  let lo = firstTimed.seq;
  let hi = head + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const t = timedFrom(mid);
    if (!t || t.rec.ts >= epoch - SLACK_S) hi = mid;
    else lo = t.seq + 1;
  }
  let lastTs: number | undefined;
  for (let s = lo; s <= head; s++) {
    const rec = store.get(s);
    if (!timed(rec)) continue;
    lastTs = rec.ts;
    if (rec.ts >= epoch) return { kind: 'found', position: startOf(store, s, first), seq: s };
  }
  return { kind: 'after', lastTs: lastTs ?? lastTimedTs(store, first, lo) };
}

/** Where record `seq` starts: the `from` of its transaction's first part, the end of the record before, or the origin. */
function startOf(store: RelayStore, seq: number, first: number): BinlogPosition {
  let s = seq - 1;
  let part: BinlogPosition | undefined;
  // A closing record (`c`) follows its transaction's parts: the transaction starts where its first part does.
  for (; s >= first; s--) {
    const r = store.get(s);
    if (r?.k !== 'x') break;
    part = r.from;
  }
  if (part) return part;
  const prev = s >= first ? store.get(s) : undefined;
  if (prev && prev.k !== 'x') return prev.end;
  return store.origin() ?? { name: '', pos: 4 };
}

/** The time of the last timed record before `lo` (for the message when the time is after the relay's last event). */
function lastTimedTs(store: RelayStore, first: number, lo: number): number | undefined {
  for (let s = lo - 1; s >= first; s--) {
    const r = store.get(s);
    if (timed(r)) return r.ts;
  }
  return undefined;
}
