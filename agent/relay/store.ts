import { statSync } from 'node:fs';
import { mkdirPrivate } from '../../src/fs/private.ts';
import { dirname, join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import type { Value } from '../db/mysql.ts';

/**
 * The relay log of one source in LMDB (`<data-dir>/relay/<source-id>/`). DM keeps relay files per upstream server
 * uuid plus relay.meta; here one LMDB env holds:
 *  - `events`: key = sequence number (1, 2, 3 … gap-free, a purged prefix excepted), value = one RelayRecord: a
 *    whole committed transaction, one standalone statement (DDL), or a progress marker (rotate, idle position); a
 *    large transaction is stored as part records (`x`, no end: a position is never inside a transaction) followed
 *    by its closing transaction record with `c` (its last changes and its end);
 *  - `meta`: `state` (last sequence, position after it, segment, upstream server uuid), `tracker` (the relay's
 *    source-level schema, as of `state.pos`), `purged` (first sequence still stored).
 *
 * Invariant: the events of one append and the state that points past them are written in ONE LMDB transaction, so
 * after a crash the store ends with the last complete transaction it received and `state.pos` is exactly where the
 * upstream stream must resume: nothing is recorded twice and nothing is skipped. Parts are appended before their
 * transaction ends (so neither the writer nor a reader holds the whole transaction), but `state.pos` moves only with a
 * transaction's end and `state.open` counts the trailing parts whose close is not stored yet: readers see records up
 * to `complete()` only, and a writer restart drops the open parts (dropOpen) and re-reads their transaction from
 * `state.pos`. Records written before parts existed read unchanged (no part record, no `open`).
 */

export interface RelayRowChange {
  op: 'insert' | 'update' | 'delete';
  schema: string;
  table: string;
  before?: Record<string, Value>;
  after?: Record<string, Value>;
  /** 1: the upstream session had foreign_key_checks=0 (RowChange.noFkChecks). */
  nfk?: 1;
}

interface RecordBase {
  /** Position right after this record's last event (upstream file/pos and GTID state). */
  end: BinlogPosition;
  /** Upstream event time, unix seconds. */
  ts: number;
  /** Segment: bumped when the upstream server (uuid) changes; positions compare only within a segment. */
  seg: number;
}
/** `c`: the transaction's earlier changes are the part records right before this one (`rows` are its last ones). */
export interface RelayTxn extends RecordBase {
  k: 't';
  rows: RelayRowChange[];
  c?: 1;
}
/**
 * A part of a large transaction (BinlogReader `chunkRows`): its next changes in binlog order. `from` is where the
 * transaction starts (the end of the record before it): a task at `from` needs it, a task past it does not.
 */
export interface RelayPart {
  k: 'x';
  from: BinlogPosition;
  ts: number;
  seg: number;
  rows: RelayRowChange[];
}
/** `sc`: the statement's collation_server id (QueryEvent.serverCollation), absent when unknown or written by an older tsdm. */
export interface RelayQuery extends RecordBase {
  k: 'q';
  schema: string;
  sql: string;
  sc?: number;
}
export interface RelayProgress extends RecordBase {
  k: 'p';
}
export type RelayRecord = RelayTxn | RelayQuery | RelayProgress | RelayPart;

/** Where a record ends (undefined for a part: a position is never inside a transaction). */
export function recordEnd(r: RelayRecord): BinlogPosition | undefined {
  return r.k === 'x' ? undefined : r.end;
}

/**
 * Whether a task whose checkpoint is `pos` still needs record `r`: a record ending after it, or a part of a
 * transaction starting at or after it. Holds on a suffix of the records (seek and purge binary-search it).
 */
export function neededAt(r: RelayRecord, pos: BinlogPosition, cmp: (a: BinlogPosition, b: BinlogPosition) => number) {
  return r.k === 'x' ? cmp(r.from, pos) >= 0 : cmp(r.end, pos) > 0;
}

/** Last sequence of a complete transaction (records after it are parts of one whose end is not stored yet). */
export function completeSeq(st: RelayState | undefined): number {
  return st ? st.seq - (st.open ?? 0) : 0;
}

export interface RelayState {
  /** Last sequence written (0: none yet). */
  seq: number;
  /** Where the upstream stream resumes: the end of the last complete record (or the start position when none). */
  pos: BinlogPosition;
  /** Trailing part records (after the last complete one) of a transaction whose end is not stored yet. */
  open?: number;
  seg: number;
  /** Upstream server identity of the current segment (MySQL server_uuid, MariaDB `domain-server_id`). */
  uuid: string;
  /** When the relay was first created. */
  created: string;
}

export interface RelaySize {
  /** Bytes of the data file on disk (LMDB files never shrink). */
  fileBytes: number;
  /** Bytes of pages in use by the current data. */
  usedBytes: number;
  /** Bytes the file holds that LMDB will reuse before growing it (free pages after a purge). */
  reusableBytes: number;
  records: number;
}

export class RelayStore {
  private readonly env: RootDatabase;
  private readonly events: Database<RelayRecord, number>;
  private readonly meta: Database<unknown, string>;
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
    try {
      // Owner-only (0700): the relay holds the upstream's binlog events, i.e. its rows and statements.
      mkdirPrivate(dirname(dir), true);
      mkdirPrivate(dir, true);
      // A generous map size: LMDB reserves address space, not disk; the file grows with the data.
      this.env = open({ path: dir, mapSize: 64 * 1024 ** 3 });
      this.events = this.env.openDB<RelayRecord, number>({ name: 'events' });
      this.meta = this.env.openDB<unknown, string>({ name: 'meta' });
    } catch (err) {
      throw new DmError('RelayStore', `cannot open the relay store in ${dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  static open(dataDir: string, sourceId: string): RelayStore {
    return new RelayStore(join(dataDir, 'relay', encodeURIComponent(sourceId)));
  }

  state(): RelayState | undefined {
    return this.meta.get('state') as RelayState | undefined;
  }
  tracker(): unknown {
    return this.meta.get('tracker');
  }
  /** The position the stored records start after: the relay's start, or the end of the last purged record. */
  origin(): BinlogPosition | undefined {
    return this.meta.get('origin') as BinlogPosition | undefined;
  }
  /** First sequence still stored (records below it were purged). */
  firstSeq(): number {
    return (this.meta.get('purged') as number | undefined) ?? 1;
  }
  get(seq: number): RelayRecord | undefined {
    return this.events.get(seq);
  }

  /**
   * Binary search: the first sequence in [lo, hi) whose record satisfies `pred` (a missing record counts as
   * satisfying it), for predicates that hold on a suffix (record ends and times grow with the sequence); hi if none.
   */
  firstWhere(lo: number, hi: number, pred: (r: RelayRecord) => boolean): number {
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = this.get(mid);
      if (!r || pred(r)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Creates the relay's starting point (no records yet). */
  async init(state: RelayState, tracker: unknown): Promise<void> {
    await this.commit(() => {
      this.meta.put('state', state);
      this.meta.put('tracker', tracker);
      this.meta.put('origin', state.pos);
    });
  }

  /** Records a new segment (upstream server changed): the same sequence continues. */
  async setSegment(seg: number, uuid: string): Promise<RelayState> {
    const st = { ...this.state()!, seg, uuid };
    await this.commit(() => {
      this.meta.put('state', st);
    });
    return st;
  }

  /** The state including appends whose transaction is queued but not yet committed (see append). */
  private pending: RelayState | undefined;

  /** Forgets queued appends' state (after a failed commit): the next append continues from what is stored. */
  resetPending(): void {
    this.pending = undefined;
  }

  /**
   * Appends records after the last one, with the new state (and the tracker when a DDL changed it), in one LMDB
   * transaction. Returns at once with the state the append leads to, and `committed`, which resolves once that
   * transaction is durable. Appends may be queued before earlier ones commit (lmdb-js runs queued transactions in
   * order, several per fsync); each transaction checks that the stored state is exactly the one it continues, so
   * after a failed commit no later append can leave a gap: it aborts too.
   */
  append(records: RelayRecord[], tracker?: unknown): { state: RelayState; committed: Promise<void> } {
    const cur = this.pending ?? this.state();
    if (!cur) throw new DmError('RelayStore', 'relay store is not initialised');
    const last = records[records.length - 1];
    if (!last) return { state: cur, committed: Promise.resolve() };
    // The position and the count of open parts follow the last record that ends a transaction (or statement).
    let open = cur.open ?? 0;
    let pos = cur.pos;
    for (const r of records) {
      if (r.k === 'x') open++;
      else {
        open = 0;
        pos = r.end;
      }
    }
    const next: RelayState = { ...cur, seq: cur.seq + records.length, pos, seg: last.seg };
    if (open) next.open = open;
    else delete next.open;
    this.pending = next;
    const committed = this.commit(() => {
      const stored = this.meta.get('state') as RelayState | undefined;
      if (stored?.seq !== cur.seq) throw new Error(`relay state moved: expected #${cur.seq}, stored #${stored?.seq}`);
      let seq = cur.seq;
      for (const r of records) this.events.put(++seq, r);
      this.meta.put('state', next);
      if (tracker !== undefined) this.meta.put('tracker', tracker);
    });
    committed.catch(() => {
      this.pending = undefined;
    });
    return { state: next, committed };
  }

  /**
   * Removes the open parts (a transaction whose end is not stored: the writer stopped or crashed in its middle, or it
   * rolled back); the writer re-reads the transaction from `state.pos`. No reader has seen them (they are past
   * completeSeq). Call only with no append in flight.
   */
  async dropOpen(): Promise<RelayState | undefined> {
    const st = this.state();
    if (!st?.open) return st;
    const next: RelayState = { ...st, seq: completeSeq(st) };
    delete next.open;
    await this.commit(() => {
      for (let s = next.seq + 1; s <= st.seq; s++) this.events.remove(s);
      this.meta.put('state', next);
    });
    this.pending = undefined;
    return next;
  }

  /** Records `from` … `to` (inclusive) in order, read lazily (a paused reader never holds more than it asked for). */
  *range(from: number, to: number): Generator<{ seq: number; rec: RelayRecord }> {
    for (const { key, value } of this.events.getRange({ start: from, end: to + 1 })) yield { seq: key, rec: value };
  }

  /** Removes every record below `seq` (their pages become reusable space). */
  async purgeBelow(seq: number): Promise<number> {
    seq = Math.min(seq, completeSeq(this.state()) + 1);
    // Never into a transaction: the first record kept is not a part's successor (a part or a closing record).
    while (seq > 1 && this.events.get(seq - 1)?.k === 'x') seq--;
    const first = this.firstSeq();
    if (seq <= first) return 0;
    // In slices, so one purge never holds a huge write transaction; a slice never ends inside a transaction, so
    // `purged` and `origin` always name a transaction boundary, even after a crash between two slices.
    let at = first;
    while (at < seq) {
      let end = Math.min(seq, at + 10_000);
      while (end < seq && this.events.get(end - 1)?.k === 'x') end++;
      const prev = this.events.get(end - 1);
      const lastEnd = prev ? recordEnd(prev) : undefined;
      await this.commit(() => {
        for (let s = at; s < end; s++) this.events.remove(s);
        this.meta.put('purged', end);
        if (lastEnd) this.meta.put('origin', lastEnd);
      });
      at = end;
    }
    return seq - first;
  }

  /**
   * LMDB's file never shrinks: purged records leave free pages that later writes reuse. Reusable space is the pages
   * below the high-water mark that no tree uses (every database's branch, leaf and overflow pages, plus the two
   * meta pages).
   */
  size(): RelaySize {
    type Stats = {
      pageSize: number;
      lastPageNumber: number;
      treeBranchPageCount: number;
      treeLeafPageCount: number;
      overflowPages: number;
      entryCount: number;
      free?: Stats;
    };
    const pages = (s: Stats | undefined) => (s ? s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages : 0);
    const env = this.env.getStats() as Stats;
    const ev = this.events.getStats() as Stats;
    const meta = this.meta.getStats() as Stats;
    let fileBytes = 0;
    try {
      fileBytes = statSync(join(this.dir, 'data.mdb')).size;
    } catch {
      /* not written yet */
    }
    const highWater = env.lastPageNumber + 1;
    const inUse = 2 + pages(env) + pages(env.free) + pages(ev) + pages(meta);
    return {
      fileBytes,
      usedBytes: inUse * env.pageSize,
      reusableBytes: Math.max(0, highWater - inUse) * env.pageSize,
      records: ev.entryCount,
    };
  }

  private async commit(fn: () => void): Promise<void> {
    try {
      await this.env.transaction(fn);
    } catch (err) {
      throw new DmError('RelayStore', `relay store write failed in ${this.dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
