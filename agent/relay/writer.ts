import type { Connection } from 'mysql2/promise';
import type { SourceConfig } from '../../src/config/types.ts';
import type { DesiredStage } from '../../src/coord/records.ts';
import type { RelayStatus } from '../../src/coord/relay-records.ts';
import { DmError, asDmError, type ErrorRecord } from '../../src/errors/index.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import type { BinlogEvent } from '../binlog/events.ts';
import { comparePos, formatPos, type BinlogPosition } from '../../src/binlog/position.ts';
import { BinlogReader, binlogServerId } from '../binlog/zongji-reader.ts';
import { connect } from '../db/mysql.ts';
import { liveTrackedTable } from '../db/tracked.ts';
import type { Logger } from '../log.ts';
import { masterStatus } from '../db/binlog-status.ts';
import type { RelayFeed } from './reader.ts';
import { completeSeq, RelayStore, type RelayRecord, type RelayState } from './store.ts';
import { relayErrorEvent, type EventInput } from '../../src/events/record.ts';
import { serverUuid, startPoint, toRecord } from './upstream.ts';

const SYSTEM = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);
/** One LMDB transaction holds at most this many records / row changes (group commit: one fsync for many). */
const MAX_RECORDS_PER_COMMIT = 5000;
const MAX_ROWS_PER_COMMIT = 50_000;
const MAX_BACKOFF_MS = 30_000;
/** Row changes per part of a large upstream transaction (BinlogReader chunkRows): the writer and every reader hold
 * one part at a time, not the transaction. */
export const RELAY_CHUNK_ROWS = 10_000;

export interface RelayWriterOptions {
  agent: string;
  source: SourceConfig;
  dataDir: string;
  log: Logger;
  /** Backpressure thresholds of the upstream reader (queued row changes): pause above high, resume below low. */
  highWater?: number;
  lowWater?: number;
  /** Rows per stored part of a large transaction (default RELAY_CHUNK_ROWS). */
  chunkRows?: number;
  event?(e: EventInput): void; // dm_events: never blocks, never throws
}

/**
 * The relay of one source: reads the upstream binlog once (its own BinlogReader: every non-system table, the
 * source-level schema tracker) and appends each whole transaction, statement and rotation to the RelayStore, which
 * every sync unit of the source reads (RelayReader).
 *
 * Crash safety: records and the state pointing past them commit in one LMDB transaction (store.ts); the stream
 * always restarts from `state.pos`, the end of the last complete transaction stored. The tracker stored with the
 * state is the schema as of `state.pos`, so a restart decodes the next rows with the right columns.
 * Backpressure: the BinlogReader pauses the upstream connection when its queue passes `highWater` rows, i.e. when
 * the store cannot keep up; readers pull from LMDB, so a slow task never makes the writer buffer anything.
 */
export class RelayWriter implements RelayFeed {
  readonly store: RelayStore;
  private headSeq = 0;
  private waiters = new Set<() => void>();
  private readonly readers = new Set<{ needed(): number }>();
  private desired: DesiredStage = 'Running';
  private loop: Promise<void> | undefined;
  private reader: BinlogReader | undefined;
  private wake: (() => void) | undefined;
  private error: ErrorRecord | undefined;
  /** A permanent error that parked the relay: readers that reach the head pause their task with it. */
  private fatal: DmError | undefined;
  private master: BinlogPosition | undefined;
  private lastTs = 0;
  private pauses = 0;
  private wasPaused = false;
  private rate = { events: 0, since: Date.now(), value: 0 };
  private ready: Promise<void>;
  private readyResolve!: () => void;
  lastPurge: RelayStatus['lastPurge'];
  /** Lowest sequence a task of the source still needs (set by the agent's purge tick). */
  needed: { seq: number; task?: string } | undefined;

  constructor(private readonly o: RelayWriterOptions) {
    this.store = RelayStore.open(o.dataDir, o.source.sourceId);
    this.headSeq = completeSeq(this.store.state());
    this.ready = new Promise((r) => {
      this.readyResolve = r;
    });
    if (this.store.state()) this.readyResolve();
  }

  get sourceId(): string {
    return this.o.source.sourceId;
  }
  get stage(): DesiredStage {
    return this.desired;
  }

  /** Resolves once the store has a starting point (at once for an existing relay), or after `ms`. */
  whenReady(ms: number): Promise<void> {
    return Promise.race([this.ready, new Promise<void>((r) => setTimeout(r, ms))]);
  }

  // ---- RelayFeed (what readers use)
  head(): number {
    return this.headSeq;
  }
  failure(): DmError | undefined {
    return this.fatal;
  }
  waitAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
  track(reader: { needed(): number }): () => void {
    this.readers.add(reader);
    return () => {
      this.readers.delete(reader);
    };
  }
  /** Lowest sequence a live reader still needs (undefined: no reader). */
  neededByReaders(): number | undefined {
    let min: number | undefined;
    for (const r of this.readers) {
      const n = r.needed();
      if (min === undefined || n < min) min = n;
    }
    return min;
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  // ---- lifecycle
  /** Running pulls the upstream; Paused and Stopped park the loop (readers keep reading what is stored). */
  setDesired(stage: DesiredStage): void {
    const was = this.desired;
    this.desired = stage;
    if (stage !== was) this.o.log.info({ from: was, to: stage }, 'relay stage changed');
    if (stage === 'Running' && was !== 'Running') {
      this.error = undefined;
      this.fatal = undefined;
    }
    if (stage !== 'Running') void this.reader?.stop();
    const w = this.wake;
    this.wake = undefined;
    w?.();
    if (!this.loop) this.loop = this.run();
  }

  /** Agent shutdown or source unbound: stop streaming and close the store. */
  async close(): Promise<void> {
    this.closing = true;
    this.desired = 'Stopped';
    await this.reader?.stop();
    const w = this.wake;
    this.wake = undefined;
    w?.();
    await this.loop;
    this.notify();
    await this.store.close();
  }

  private closing = false;
  private async run(): Promise<void> {
    let backoff = 1000;
    let attempt = 0;
    while (!this.closing) {
      if (this.desired !== 'Running') {
        await new Promise<void>((r) => {
          this.wake = r;
        });
        continue;
      }
      try {
        await this.stream();
        backoff = 1000;
        attempt = 0;
      } catch (err) {
        if (this.desired !== 'Running' || this.closing) continue;
        const e = asDmError(err);
        this.error = e.toRecord();
        if (!e.retryable || backoff === 1000) this.o.event?.(relayErrorEvent(this.sourceId, this.error));
        if (e.retryable) {
          attempt++;
          this.o.log.warn({ code: e.code, err: e.message, attempt, delayMs: backoff }, 'relay error: retrying');
        } else {
          // Permanent: the relay waits for resume-relay (readers keep reading what is stored, then pause their task
          // with this error, so nothing after it is silently missing).
          this.o.log.error({ code: e.code, err: e.message }, 'relay paused by an error');
          this.desired = 'Paused';
          this.fatal = e;
          continue;
        }
        await Promise.race([
          new Promise((r) => setTimeout(r, backoff)),
          new Promise<void>((r) => {
            this.wake = r;
          }),
        ]);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Where the relay starts when it has no state: relay-binlog-name/gtid, else the upstream's current position. */
  private async initialise(up: Connection, uuid: string): Promise<void> {
    const src = this.o.source;
    const { pos, tracker } = await startPoint(up, src, this.o.log);
    const st: RelayState = { seq: 0, pos, seg: 1, uuid, created: new Date().toISOString() };
    await this.store.init(st, tracker.toJSON());
    this.o.log.info({ start: formatPos(pos), uuid }, 'relay created');
  }

  /** One connected run: from the stored state until stopped or an error. */
  private async stream(): Promise<void> {
    const src = this.o.source;
    const up = await connect(src.from, 'upstream');
    try {
      const uuid = await serverUuid(up);
      if (!this.store.state()) await this.initialise(up, uuid);
      this.readyResolve();
      this.store.resetPending();
      // Parts of a transaction whose end was never stored (stopped or crashed in its middle): it is read again.
      let st = (await this.store.dropOpen())!;
      let start = st.pos;
      if (st.uuid !== uuid) {
        // A different upstream server (failover): a new segment, continued by GTID since file names differ.
        if (!st.pos.gtid) {
          throw new DmError(
            'RelayStore',
            `the upstream server changed (${st.uuid} -> ${uuid}) and the relay has no GTID position to continue from`,
            {
              suggestion: 'Enable GTID on the upstream, or remove the relay data and restart the relay and its tasks.',
            },
          );
        }
        st = await this.store.setSegment(st.seg + 1, uuid);
        start = { name: '', pos: 0, gtid: st.pos.gtid! };
        this.o.log.warn({ segment: st.seg, uuid }, 'upstream server changed: new relay segment, continuing by GTID');
      }
      const tracker = SchemaTracker.fromJSON(this.store.tracker());
      const serverId = binlogServerId(src.serverId, `relay/${src.sourceId}`);
      const reader = new BinlogReader({
        db: src.from,
        serverId,
        start,
        tracker,
        allowTable: (s) => !SYSTEM.has(s.toLowerCase()),
        live: (s, t) => liveTrackedTable(up, 'upstream', s, t),
        warn: (msg, detail) => this.o.log.warn(detail, msg),
        chunkRows: this.o.chunkRows ?? RELAY_CHUNK_ROWS,
        ...(this.o.highWater ? { highWater: this.o.highWater } : {}),
        ...(this.o.lowWater ? { lowWater: this.o.lowWater } : {}),
      });
      this.reader = reader;
      this.o.log.info({ start: formatPos(start), seq: st.seq, segment: st.seg }, 'relay streaming');
      reader.start();
      this.error = undefined;
      let lastMaster = 0;
      try {
        while (this.desired === 'Running') {
          if (Date.now() - lastMaster > 1000) {
            lastMaster = Date.now();
            this.master = await masterStatus(up).catch(() => this.master);
          }
          this.notePaused(reader.isPaused);
          const ev = await reader.next(200);
          if (!ev) {
            const sp = reader.streamPosition();
            // Never inside a transaction stored in parts (the reader gives no position there either).
            if (sp && !st.open && comparePos(sp, st.pos) > 0)
              st = await this.append([{ k: 'p', end: sp, ts: Math.floor(Date.now() / 1000), seg: st.seg }], undefined);
            else await this.drain();
            continue;
          }
          const recs: RelayRecord[] = [];
          let tracker: unknown;
          let rows = 0;
          // Where the next part's transaction starts, and the time of the record before it.
          let from = st.pos;
          let prevTs = this.lastTs || Math.floor(Date.now() / 1000);
          let rollback = false;
          for (
            let e: BinlogEvent | undefined = ev;
            e;
            e =
              reader.idle ||
              recs.length >= MAX_RECORDS_PER_COMMIT ||
              rows >= MAX_ROWS_PER_COMMIT ||
              recs[recs.length - 1]?.k === 'x'
                ? undefined
                : await reader.next(0)
          ) {
            this.notePaused(reader.isPaused);
            if (e.kind === 'txn-part' && e.rollback) {
              rollback = true;
              break;
            }
            const r = toRecord(e, st.seg, from, prevTs);
            recs.push(r);
            if (r.k === 't' || r.k === 'x') rows += r.rows.length;
            if (r.k !== 'x') {
              from = r.end;
              prevTs = r.ts;
            }
            if (e.kind === 'query') tracker = e.trackerAfter;
          }
          if (recs.length) st = await this.append(recs, tracker);
          if (rollback) {
            // The upstream rolled the transaction back after some of it was stored as parts: no reader saw them.
            await this.drain();
            st = (await this.store.dropOpen())!;
          }
        }
        await this.drain();
      } finally {
        await this.drain().catch(() => undefined);
        await reader.stop().catch(() => undefined);
        this.reader = undefined;
      }
    } finally {
      up.destroy();
    }
  }

  private notePaused(p: boolean): void {
    if (p && !this.wasPaused) this.pauses++;
    this.wasPaused = p;
  }

  /** The commit in flight: the next batch is decoded and queued while it commits (at most two in flight). */
  private inflight: Promise<void> | undefined;

  private async append(recs: RelayRecord[], tracker: unknown): Promise<RelayState> {
    const { state, committed } = this.store.append(recs, tracker);
    const last = recs[recs.length - 1]!;
    const done = committed.then(() => {
      // Readers see a record only once its LMDB transaction committed, and parts only once their upstream
      // transaction's end is stored too (a part may yet be dropped: dropOpen).
      this.headSeq = completeSeq(state);
      if (last.k !== 'p' && last.k !== 'x') this.lastTs = last.ts;
      this.rate.events += recs.length;
      this.notify();
    });
    done.catch(() => undefined);
    const prev = this.inflight;
    this.inflight = done;
    if (prev) await prev;
    return state;
  }

  /** Waits for every queued append to commit (rethrows a failed commit). */
  private async drain(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
  }

  status(): RelayStatus {
    const now = Date.now();
    const secs = (now - this.rate.since) / 1000;
    if (secs >= 2) {
      this.rate.value = this.rate.events / secs;
      this.rate.events = 0;
      this.rate.since = now;
    }
    const st = this.store.state();
    const atHead = st !== undefined && this.master !== undefined && comparePos(st.pos, this.master) >= 0;
    const needed = this.needed?.seq ?? this.neededByReaders();
    const s: RelayStatus = {
      source: this.sourceId,
      agent: this.o.agent,
      stage: this.desired,
      lagSeconds: atHead || !this.lastTs ? 0 : Math.max(0, Math.round(now / 1000 - this.lastTs)),
      firstSeq: this.store.firstSeq(),
      lastSeq: st?.seq ?? 0,
      readers: this.readers.size,
      size: this.store.size(),
      upstreamPaused: this.reader?.isPaused ?? false,
      upstreamPauses: this.pauses,
      eventsPerSecond: Math.round(this.rate.value),
      updatedAt: new Date().toISOString(),
    };
    if (this.master) s.master = this.master;
    if (st) {
      s.relayPos = st.pos;
      s.segment = st.seg;
      s.serverUuid = st.uuid;
    }
    if (needed !== undefined) s.neededSeq = needed;
    if (this.needed?.task) s.neededBy = this.needed.task;
    if (this.lastPurge) s.lastPurge = this.lastPurge;
    if (this.error) s.error = this.error;
    return s;
  }
}
