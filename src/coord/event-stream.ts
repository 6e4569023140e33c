import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JSONCodec,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { DmError } from '../errors/index.ts';
import { makeEvent, parseEvent, type DmEvent, type EventInput } from '../events/record.ts';
import { EVENTS_RETENTION, Stream, Subjects, streamName } from './buckets.ts';

/**
 * The `dm_events` stream (DESIGN.md §3): agents publish, `dmctl events` and the dashboard read. Publishing never
 * blocks or fails the caller (EventPublisher: a bounded queue drained in the background); reading is an ephemeral
 * pull consumer per reader (no state left behind: it goes after 30 s without a reader).
 */

const codec = JSONCodec<unknown>();

/** Where code that saw something worth a human emits it. Never throws, never waits. */
export interface EventSink {
  emit(e: EventInput): void;
}

/** The sink of a process that publishes no events (dmctl, tests): emit does nothing. */
export const NO_EVENTS: EventSink = { emit: () => undefined };

const sinks = new WeakMap<object, EventSink>();

/**
 * Where the holder of this connection emits: the agent sets its EventPublisher on its Coord (agent/events.ts), so every
 * part of the agent that has the Coord reaches it; for any other connection, NO_EVENTS.
 */
export function eventsOf(coord: object): EventSink {
  return sinks.get(coord) ?? NO_EVENTS;
}

export function setEvents(coord: object, sink: EventSink): void {
  sinks.set(coord, sink);
}

/** JetStream API error codes (nats-server): stream not found; a stream name in use with another configuration. */
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

function apiErr(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
}

export function isStreamMissing(err: unknown): boolean {
  return apiErr(err) === STREAM_NOT_FOUND || (err instanceof Error && err.message === 'stream not found');
}

/**
 * Creates `<cluster>_events` when it does not exist; an existing one is left as it is (an operator may have changed its
 * limits). Idempotent: two agents creating it at once both succeed (the loser sees "name in use" or an equal config).
 */
export async function ensureEventStream(nc: NatsConnection, cluster: string, replicas = 1): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const name = streamName(cluster, Stream.events);
  try {
    await jsm.streams.info(name);
    return;
  } catch (err) {
    if (!isStreamMissing(err)) throw err;
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [Subjects.events(cluster)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_msgs: EVENTS_RETENTION.maxMsgs,
      max_age: nanos(EVENTS_RETENTION.maxAgeMs),
      max_bytes: EVENTS_RETENTION.maxBytes,
      max_msg_size: EVENTS_RETENTION.maxMsgSize,
      num_replicas: replicas,
      duplicate_window: nanos(120_000),
    });
  } catch (err) {
    if (apiErr(err) !== STREAM_NAME_IN_USE) throw err;
  }
}

export interface PublisherOptions {
  nc: NatsConnection;
  cluster: string;
  replicas?: number;
  /** Written into every event as who saw it. */
  agent: string;
  /** Events waiting to be sent; one more is dropped (with a warning). */
  maxQueue?: number;
  warn(detail: Record<string, unknown>, msg: string): void;
}

/**
 * Fire-and-forget publishing: emit() queues (bounded) and returns; one loop sends in order, waiting for each ack and
 * retrying with backoff while NATS is away (the message id makes a retried publish land once, JetStream
 * de-duplicates). When the queue is full the new event is dropped and a warning says how many were (at most one
 * warning per 10 s), so a long NATS outage costs events, never memory or the data path's time.
 */
export class EventPublisher implements EventSink {
  private readonly queue: DmEvent[] = [];
  private draining: Promise<void> | undefined;
  private ensured = false;
  private closed = false;
  private dropped = 0;
  private lastDropWarn = 0;
  private failing = false;
  private readonly max: number;

  constructor(private readonly o: PublisherOptions) {
    this.max = o.maxQueue ?? 1000;
  }

  emit(input: EventInput): void {
    if (this.closed) return;
    try {
      const ev = makeEvent(input, this.o.agent);
      if (this.queue.length >= this.max) {
        this.dropped++;
        if (Date.now() - this.lastDropWarn > 10_000) {
          this.lastDropWarn = Date.now();
          this.o.warn({ dropped: this.dropped, kind: ev.kind, queued: this.queue.length }, 'event dropped: queue full');
        }
        return;
      }
      this.queue.push(ev);
      this.draining ??= this.drain().finally(() => {
        this.draining = undefined;
      });
    } catch (err) {
      this.o.warn({ kind: input.kind, err: String(err) }, 'event not recorded');
    }
  }

  private async drain(): Promise<void> {
    const js = this.o.nc.jetstream();
    for (let delay = 250; this.queue.length > 0 && !this.closed; ) {
      const ev = this.queue[0]!;
      try {
        if (!this.ensured) {
          await ensureEventStream(this.o.nc, this.o.cluster, this.o.replicas);
          this.ensured = true;
        }
        await js.publish(Subjects.event(this.o.cluster, ev.kind, ev.task, ev.source), codec.encode(ev), {
          msgID: ev.id,
          timeout: 5_000,
        });
        this.queue.shift();
        delay = 250;
        if (this.failing) this.o.warn({ queued: this.queue.length }, 'events publishing again');
        this.failing = false;
      } catch (err) {
        if (!this.failing)
          this.o.warn({ err: String(err), queued: this.queue.length }, 'event publish failed; retrying');
        this.failing = true;
        this.ensured = false; // the stream may have been deleted: check again
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  /** Sends what is queued (for at most `ms`), then stops; later emits do nothing. */
  async close(ms = 2_000): Promise<void> {
    const d = this.draining;
    if (d) await Promise.race([d, new Promise((r) => setTimeout(r, ms))]);
    this.closed = true;
  }
}

export interface EventQuery {
  task?: string;
  source?: string;
  since?: Date;
  /** The newest `limit` events of the match (0: all). */
  limit: number;
}

/** One consumer's batch reader. `pending` is what the server counted for it at creation. */
interface Reader {
  pending: number;
  next(): Promise<JsMsg[]>;
  close(): Promise<void>;
}

async function openReader(nc: NatsConnection, cluster: string, q: EventQuery, startSeq?: number): Promise<Reader> {
  const jsm = await nc.jetstreamManager();
  const name = streamName(cluster, Stream.events);
  const all = q.task === undefined && q.source === undefined;
  const cfg: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.None,
    mem_storage: true,
    inactive_threshold: nanos(30_000),
    filter_subject: Subjects.events(cluster, q.task, q.source),
  };
  if (startSeq !== undefined) {
    cfg.deliver_policy = DeliverPolicy.StartSequence;
    cfg.opt_start_seq = startSeq;
  } else if (q.since) {
    cfg.deliver_policy = DeliverPolicy.StartTime;
    cfg.opt_start_time = q.since.toISOString();
  } else if (all && q.limit > 0) {
    // No filter: the newest `limit` messages are the stream's last sequences (no need to read the others).
    const si = await jsm.streams.info(name);
    cfg.deliver_policy = DeliverPolicy.StartSequence;
    cfg.opt_start_seq = Math.max(si.state.first_seq, si.state.last_seq - q.limit + 1, 1);
  } else cfg.deliver_policy = DeliverPolicy.All;
  const ci = await jsm.consumers.add(name, cfg);
  const consumer = await nc.jetstream().consumers.get(name, ci.name);
  return {
    pending: ci.num_pending,
    async next() {
      const out: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: 500, expires: 2_000 })) out.push(m);
      return out;
    },
    async close() {
      await jsm.consumers.delete(name, ci.name).catch(() => undefined);
    },
  };
}

function decode(m: JsMsg): DmEvent | undefined {
  try {
    return parseEvent(m.json(), m.seq);
  } catch {
    return undefined;
  }
}

/**
 * The events that match, oldest first (at most the newest `limit`). Throws DmError EventsStreamMissing when no agent
 * created the stream yet.
 */
export async function readEvents(nc: NatsConnection, cluster: string, q: EventQuery): Promise<DmEvent[]> {
  let r: Reader;
  try {
    r = await openReader(nc, cluster, q);
  } catch (err) {
    if (isStreamMissing(err)) throw missing(cluster, err);
    throw err;
  }
  const out: DmEvent[] = [];
  try {
    let seen = 0;
    while (seen < r.pending) {
      const batch = await r.next();
      if (batch.length === 0) break; // expired by retention since the consumer counted them
      for (const m of batch) {
        seen++;
        const ev = decode(m);
        if (ev) out.push(ev);
        if (m.info.pending === 0) seen = r.pending;
      }
      if (q.limit > 0 && out.length > q.limit) out.splice(0, out.length - q.limit);
    }
  } finally {
    await r.close();
  }
  return out;
}

export function missing(cluster: string, cause?: unknown): DmError {
  return new DmError(
    'EventsStreamMissing',
    `the event stream ${streamName(cluster, Stream.events)} does not exist yet: no agent of cluster ${cluster} has started with this version`,
    { cause },
  );
}

/**
 * Calls `onEvent` for every event after `afterSeq` that matches (oldest first), until the returned stop is called.
 * Survives NATS reconnects and a missing stream (it waits for one): the consumer is made again from the last
 * sequence seen. `onIdle` is called when a wait found nothing new (the caller knows it is up to date).
 */
export function followEvents(
  nc: NatsConnection,
  cluster: string,
  q: Omit<EventQuery, 'limit' | 'since'>,
  afterSeq: number,
  onEvent: (e: DmEvent) => void,
  onTrouble?: (err: unknown) => void,
): () => void {
  let stopped = false;
  let last = afterSeq;
  let current: Reader | undefined;
  const run = async (): Promise<void> => {
    while (!stopped) {
      try {
        current = await openReader(nc, cluster, { ...q, limit: 0 }, last + 1);
        while (!stopped) {
          for (const m of await current.next()) {
            last = Math.max(last, m.seq);
            const ev = decode(m);
            if (ev && !stopped) onEvent(ev);
          }
        }
      } catch (err) {
        if (!stopped) onTrouble?.(err);
      }
      await current?.close();
      current = undefined;
      if (!stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  };
  void run();
  return () => {
    stopped = true;
  };
}

/** The stream's last sequence (0 when empty); throws EventsStreamMissing when it does not exist. */
export async function lastEventSeq(nc: NatsConnection, cluster: string): Promise<number> {
  try {
    const si = await (await nc.jetstreamManager()).streams.info(streamName(cluster, Stream.events));
    return si.state.last_seq;
  } catch (err) {
    if (isStreamMissing(err)) throw missing(cluster, err);
    throw err;
  }
}
