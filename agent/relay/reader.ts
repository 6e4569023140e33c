import { EventSchema } from '../binlog/event-schema.ts';
import { DmError } from '../../src/errors/index.ts';
import type { EventSource } from '../binlog/event-source.ts';
import type { ReaderOptions } from '../binlog/zongji-reader.ts';
import type { BinlogEvent, RowChange } from '../binlog/events.ts';
import { comparePos, formatPos, type BinlogPosition } from '../../src/binlog/position.ts';
import type { TableInfo } from '../db/schema.ts';
import { neededAt, type RelayRecord, type RelayRowChange, type RelayStore } from './store.ts';
import { gtidCovers } from './gtid.ts';

/** What a reader needs from the relay of its source (the RelayWriter provides it). */
export interface RelayFeed {
  readonly store: RelayStore;
  /** Last sequence committed to the store that ends a transaction (parts of an open one after it are not read). */
  head(): number;
  /** The permanent error that stopped the relay, if any (cleared by resume-relay). */
  failure(): DmError | undefined;
  /** Resolves at the next append (or after `ms`): readers tail the store without polling. */
  waitAppend(ms: number): Promise<void>;
  /** Registers the reader's resume point for purge (sequence of the next record it needs); returns unregister. */
  track(reader: { needed(): number }): () => void;
}

/** What a BinlogReader gets, but the relay's feed instead of an upstream connection (`start`: the task's checkpoint,
 * the reader hands out records ending after it; `tracker`: the task's schema as of `start`). */
export type RelayReaderOptions = Pick<ReaderOptions, 'start' | 'allowTable' | 'tracker' | 'live' | 'warn'> & {
  feed: RelayFeed;
};

/** Records / row changes fetched from LMDB per refill: readers pull, so a slow task never buffers more than this. */
const BATCH = 256;
const BATCH_ROWS = 10_000;

/**
 * Reads the relay log like BinlogReader reads the upstream: same events, same order, same schema-at-event-time
 * guarantee. The rows were decoded by the relay writer with the source's tracker (column names); this reader applies
 * each DDL to the task's own tracker in stream order and attaches the table structure (keys, generated and binary
 * columns) from it, so a task replaying an hour-old backlog sees each table as it was then.
 */
export class RelayReader implements EventSource {
  private nextSeq = 0;
  private buf: { seq: number; rec: RelayRecord }[] = [];
  private readonly schemaAt: EventSchema;
  private stopped = false;
  private untrack: (() => void) | undefined;
  /** Sequence of the first record not yet handed out. */
  private handed = 0;
  /** A part of the current transaction went out: its closing record goes out with `continued`. */
  private partsOut = false;

  constructor(private readonly o: RelayReaderOptions) {
    this.schemaAt = new EventSchema(o);
  }

  start(): void {
    if (!this.o.feed.store.state())
      throw new DmError(
        'RelayNotReady',
        'the relay of this source has no starting point yet (it has not reached the upstream)',
      );
    this.nextSeq = this.seek(this.o.start);
    this.handed = this.nextSeq;
    this.untrack = this.o.feed.track({ needed: () => this.handed });
  }

  /** The first record a task at `start` needs: one ending after it, or the first part of a transaction from there. */
  private seek(start: BinlogPosition): number {
    const { store } = this.o.feed;
    const first = store.firstSeq();
    const head = this.o.feed.head();
    const origin = store.origin();
    if (!start.name) {
      // GTID-only checkpoint: the task needs the first record whose GTID state goes beyond it (states only grow).
      if (!start.gtid)
        throw new DmError(
          'RelayPositionNotFound',
          'the task has neither a binlog position nor a GTID set to read the relay from',
        );
      if (origin?.gtid && !gtidCovers(start.gtid, origin.gtid)) throw this.notInRelay(start, origin);
      for (let s = first; s <= head; s++) {
        const r = store.get(s);
        // A part: needed when its transaction starts at or after start (its start covers start).
        if (r?.k === 'x') {
          if (gtidCovers(r.from.gtid ?? '', start.gtid)) return s;
          continue;
        }
        const g = r?.end.gtid ?? '';
        if (gtidCovers(g, start.gtid) && !gtidCovers(start.gtid, g)) return s;
      }
      return head + 1;
    }
    if (origin && origin.name && comparePos(start, origin) < 0) throw this.notInRelay(start, origin);
    return store.firstWhere(first, head + 1, (r) => neededAt(r, start, comparePos));
  }

  private notInRelay(start: BinlogPosition, origin: BinlogPosition): DmError {
    return new DmError(
      'RelayPositionNotFound',
      `the task needs the binlog from ${formatPos(start)} but the relay of this source starts at ${formatPos(origin)}`,
      {
        context: { position: formatPos(start) },
        suggestion:
          'Set relay-binlog-name/relay-binlog-gtid in source.yaml to an older position and restart the relay (`dmctl stop-relay`, remove the relay data, `dmctl start-relay`), or restart the task with `start-task --remove-meta`.',
      },
    );
  }

  private refill(): void {
    const head = this.o.feed.head();
    if (this.nextSeq > head) return;
    if (this.nextSeq < this.o.feed.store.firstSeq()) {
      throw new DmError(
        'RelayPurged',
        `relay records from #${this.nextSeq} were purged while this task still needed them`,
        { context: { position: `relay #${this.nextSeq}` } },
      );
    }
    const to = Math.min(head, this.nextSeq + BATCH - 1);
    let rows = 0;
    for (const r of this.o.feed.store.range(this.nextSeq, to)) {
      this.buf.push(r);
      this.nextSeq = r.seq + 1;
      if ((r.rec.k === 't' || r.rec.k === 'x') && (rows += r.rec.rows.length) >= BATCH_ROWS) break;
    }
  }

  async next(timeoutMs = 1000): Promise<BinlogEvent | undefined> {
    if (this.buf.length === 0) this.refill();
    if (this.buf.length === 0 && !this.stopped) {
      await this.o.feed.waitAppend(timeoutMs);
      this.refill();
    }
    for (;;) {
      const item = this.buf.shift();
      if (!item) {
        // Everything stored is handed out and the relay is stopped by a permanent error: the task pauses with it.
        const f = this.o.feed.failure();
        if (f && this.nextSeq > this.o.feed.head()) throw f;
        return undefined;
      }
      this.handed = item.seq + 1;
      const ev = await this.toEvent(item.rec);
      if (ev) return ev;
      // A part with nothing for this task: read on (without waiting; the caller polls again).
      if (this.buf.length === 0) this.refill();
    }
  }

  private async infoOf(schema: string, table: string, width: number, at: BinlogPosition): Promise<TableInfo> {
    const cached = this.schemaAt.cachedInfo(schema, table);
    if (cached) return cached;
    const t = await this.schemaAt.table(schema, table, `relay record at ${formatPos(at)}`);
    this.schemaAt.checkWidth(t, width, 'the relay', formatPos(at));
    return this.schemaAt.info(t);
  }

  /** Undefined: a record with nothing for this task (a part of a transaction none of whose rows it replicates yet). */
  private async toEvent(rec: RelayRecord): Promise<BinlogEvent | undefined> {
    if (rec.k === 'p') return { kind: 'progress', end: rec.end, timestamp: rec.ts };
    if (rec.k === 'q') {
      // Same as the direct reader: the schema at event time follows every statement in stream order.
      const { tablesBefore, trackerAfter } = this.schemaAt.applyStatement(rec.sql, rec.schema, formatPos(rec.end));
      const q: BinlogEvent = {
        kind: 'query',
        schema: rec.schema,
        sql: rec.sql,
        end: rec.end,
        timestamp: rec.ts,
        trackerAfter,
        tablesBefore,
      };
      if (rec.sc !== undefined) q.serverCollation = rec.sc;
      return q;
    }
    if (rec.k === 'x') {
      const changes = await this.changes(rec.rows, rec.from);
      // Leading parts with no row for this task are skipped, as the direct reader (which filters as it decodes) never
      // forms them: a task not replicating a large transaction's tables opens no downstream transaction for it.
      if (changes.length === 0 && !this.partsOut) return undefined;
      this.partsOut = true;
      return { kind: 'txn-part', changes };
    }
    const changes = await this.changes(rec.rows, rec.end);
    // A closing record: the sync unit applies the parts before it and this in one downstream transaction (big-txn.ts);
    // without a part handed out, it is an ordinary transaction.
    const continued = rec.c === 1 && this.partsOut;
    this.partsOut = false;
    if (continued) return { kind: 'txn', changes, continued: true, end: rec.end, timestamp: rec.ts };
    return { kind: 'txn', changes, end: rec.end, timestamp: rec.ts };
  }

  private async changes(rows: RelayRowChange[], at: BinlogPosition): Promise<RowChange[]> {
    const changes: RowChange[] = [];
    for (const r of rows) {
      if (!this.o.allowTable(r.schema, r.table)) continue;
      const width = Object.keys((r.after ?? r.before)!).length;
      const info = await this.infoOf(r.schema, r.table, width, at);
      const c: RowChange = { op: r.op, schema: r.schema, table: r.table, info };
      if (r.before) c.before = r.before;
      if (r.after) c.after = r.after;
      if (r.nfk) c.noFkChecks = true;
      changes.push(c);
    }
    return changes;
  }

  /** Progress records carry rotations and idle positions, so the reader itself never needs to invent one. */
  streamPosition(): BinlogPosition | undefined {
    return undefined;
  }

  get idle(): boolean {
    return this.buf.length === 0 && this.nextSeq > this.o.feed.head();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.untrack?.();
  }
}
