import {
  connect,
  type ConnectionOptions,
  type JetStreamManager,
  type KV,
  type KvEntry,
  type NatsConnection,
  JSONCodec,
} from 'nats';
import { DmError, Errors } from '../errors/index.ts';
import { Bucket, bucketName, bucketTtl } from './buckets.ts';
import { openNats, type NatsAuth } from './nats-auth.ts';
import { natsConnectError } from './nats-errors.ts';
import { KvHealth } from './kv-health.ts';
import { decodeRaw, LeaseRepair } from './kv-repair.ts';

/**
 * The one adapter over the `nats` client (CONVENTIONS: edges are adapters). Everything else talks to typed
 * buckets through this class: JSON values, CAS create/update, and watches that survive reconnects.
 */

export interface CoordOptions {
  /** Servers of an open NATS (tests, tools); dm-agent and dmctl give `auth` instead. */
  servers?: string | string[];
  /** Servers, credentials and TLS, from resolveNatsAuth (nats-auth.ts); wins over `servers`. */
  auth?: NatsAuth;
  cluster: string;
  name?: string;
  /** Bucket replica count: 1 for a single nats-server, 3 in a NATS cluster. */
  replicas?: number;
  timeoutMs?: number;
  /** Called when a read starts retrying because JetStream does not answer (dmctl tells the user once). */
  onRetry?: (what: string) => void;
}

export interface Entry<T> {
  key: string;
  value: T;
  revision: number;
  deleted: boolean;
}

const codec = JSONCodec<unknown>();

/** A KV entry as ours: decoded by the same rule as an entry read from the stream by sequence (kv-repair.ts). */
function decodeEntry<T>(e: KvEntry): Entry<T> {
  const deleted = e.operation === 'DEL' || e.operation === 'PURGE';
  return decodeRaw<T>({ key: e.key, revision: e.revision, deleted, data: e.value });
}

/** JetStream "wrong last sequence" (KV create on an existing key, update on a stale revision): api error 10071. */
export function isCasConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number } } | undefined;
  if (e?.api_error?.err_code === 10071) return true;
  // Some client paths drop api_error but keep the server's text: match it only as a fallback.
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}

/**
 * JetStream briefly unavailable: a request timed out, nobody responded (503), or the API said 503 (a stream
 * re-electing its leader after a NATS node died). Reads are retried on these; CAS writes are not (a retried create
 * whose first attempt did land would report a conflict that is not one).
 */
export function isJsTransient(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { code?: number } } | undefined;
  return e?.code === 'TIMEOUT' || e?.code === '503' || e?.api_error?.code === 503;
}

/**
 * JetStream is off, which no retry mends: the server we are connected to does not announce JetStream in its INFO
 * (nats-server without -js) and the JetStream API has no responders (503, at once), or JetStream is off for the
 * NATS account (API error 10039). A JetStream leader election also answers 503, but on servers that announce
 * JetStream, so those reads keep retrying (isJsTransient).
 */
export function isJsDisabled(err: unknown, serverAnnouncesJs: boolean): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number } } | undefined;
  if (e?.api_error?.err_code === 10039) return true;
  return !serverAnnouncesJs && e?.code === '503';
}

/**
 * How long reads keep retrying through a JetStream leader election. Measured with nats-server 2.9 on a 2-core
 * machine after a node of three was killed: 5-16 s until every bucket answered when idle, up to 43 s under load.
 */
export const READ_RETRY_MS = 45_000;

/**
 * The bucket's keys, each once, read from the stream's subject list (one JetStream API request per page) rather than
 * from a KV key listing. A key listing is an ordered consumer, and nats-server 2.9 can leave it without its end once
 * entries were deleted (nats-io/nats-server#3481; seen here as a test, then a `query-status`, hung on listing locks
 * after locks were deleted): a request has no such state to lose. Deleted keys keep a marker message, so they are
 * listed too; callers read each key and drop the deleted ones (Coord.list does). Subjects are unique per page and a
 * Set guards the pages, so no key is named twice (a listing once showed the leader twice in `list-member`).
 */
export async function keysOf(
  jsm: Pick<JetStreamManager, 'streams'>,
  bucket: string,
  filter: string | undefined,
): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const out = new Set<string>();
  for (let offset = 0; ; ) {
    const si = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: prefix + (filter ?? '>'), offset });
    const page = Object.keys(si.state.subjects ?? {});
    for (const s of page) if (s.startsWith(prefix)) out.add(s.slice(prefix.length));
    offset += page.length;
    // Paged responses carry `total` (all matching subjects); an unpaged one (every subject fits) does not.
    const total = (si as { total?: number }).total ?? 0;
    if (page.length === 0 || offset >= total) return [...out];
  }
}

export type KvOp = 'get' | 'put' | 'create' | 'update' | 'delete';

export class Coord {
  private readonly kvs = new Map<Bucket, Promise<KV>>();
  private jsmP: Promise<JetStreamManager> | undefined;
  /** Inconsistencies of the lease buckets seen by this process, and the buckets awaiting a repair (kv-health.ts). */
  readonly health = new KvHealth();
  private leaseRepair: Promise<LeaseRepair> | undefined;
  /** Told the wall time of each KV request (dm-agent's tsdm_nats_kv_roundtrip_seconds); unset, it costs nothing. */
  roundTrip: ((op: KvOp, seconds: number) => void) | undefined;

  private constructor(
    readonly nc: NatsConnection,
    readonly opts: CoordOptions,
  ) {}

  /** A KV request that succeeded is timed for `roundTrip` (a failed or refused one is not a round trip to count). */
  private async timed<T>(op: KvOp, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const v = await fn();
    this.roundTrip?.(op, (performance.now() - t0) / 1000);
    return v;
  }

  private async retryRead<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await fn();
      } catch (err) {
        if (isJsDisabled(err, this.nc.info?.jetstream === true))
          throw new DmError(
            'JetStreamDisabled',
            `${what}: JetStream is not enabled on the NATS server at ${this.nc.getServer()} (or not for this NATS account)`,
            { cause: err },
          );
        if (!isJsTransient(err)) throw err;
        this.opts.onRetry?.(what);
        if (Date.now() - t0 > READ_RETRY_MS)
          throw new DmError('NatsKv', `${what}: JetStream did not answer for ${READ_RETRY_MS / 1000}s`, { cause: err });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  static async connect(opts: CoordOptions): Promise<Coord> {
    const auth = opts.auth ?? openNats(opts.servers ?? 'nats://127.0.0.1:4222');
    const co: ConnectionOptions = {
      ...auth.options,
      servers: auth.servers,
      name: opts.name ?? 'tsdm',
      timeout: opts.timeoutMs ?? 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    };
    try {
      const nc = await connect(co);
      return new Coord(nc, opts);
    } catch (err) {
      // Refused credentials and TLS problems are config errors saying what to give; the rest is NatsConnect.
      const dm = natsConnectError(err, auth);
      if (dm.code !== Errors.NatsConnect.code || (err as { code?: string }).code !== 'TIMEOUT') throw dm;
      // A server with --tlsverify refuses a missing or untrusted client certificate after TLS 1.3's handshake has
      // completed for the client; with reconnects on, nats then waits out `timeout` and says only TIMEOUT. One
      // attempt without reconnects, in TLS 1.2 (whose handshake itself carries the refusal; in 1.3 the alert races
      // the client's CONNECT and often arrives as ECONNRESET), names it (nats-server 2.9, nats.js 2.29).
      const probe: ConnectionOptions = { ...co, reconnect: false, maxReconnectAttempts: 0 };
      if (auth.tls) probe.tls = { ...auth.options.tls, maxVersion: 'TLSv1.2' } as ConnectionOptions['tls'];
      throw await Coord.diagnose(probe, auth, dm);
    }
  }

  private static async diagnose(co: ConnectionOptions, auth: NatsAuth, first: DmError): Promise<DmError> {
    try {
      await (await connect(co)).close();
      return first;
    } catch (err) {
      const dm = natsConnectError(err, auth);
      return dm.code === Errors.NatsConnect.code ? first : dm;
    }
  }

  private jsm(): Promise<JetStreamManager> {
    this.jsmP ??= this.retryRead('open JetStream', () => this.nc.jetstreamManager()).catch((err: unknown) => {
      this.jsmP = undefined;
      throw err;
    });
    return this.jsmP;
  }

  get cluster(): string {
    return this.opts.cluster;
  }

  kv(b: Bucket): Promise<KV> {
    let p = this.kvs.get(b);
    if (!p) {
      const ttl = bucketTtl[b];
      p = this.retryRead(`open ${bucketName(this.opts.cluster, b)}`, () =>
        this.nc.jetstream().views.kv(bucketName(this.opts.cluster, b), {
          history: 1,
          replicas: this.opts.replicas ?? 1,
          ...(ttl ? { ttl } : {}),
        }),
      ).catch((err: unknown) => {
        this.kvs.delete(b);
        if (err instanceof DmError) throw err;
        throw new DmError(
          'NatsKv',
          `cannot open KV bucket ${bucketName(this.opts.cluster, b)} (is JetStream enabled?)`,
          { cause: err },
        );
      });
      this.kvs.set(b, p);
    }
    return p;
  }

  async get<T>(b: Bucket, key: string): Promise<Entry<T> | undefined> {
    const kv = await this.kv(b);
    const e = await this.timed('get', () => this.retryRead(`get ${b}/${key}`, () => kv.get(key)));
    if (!e) return bucketTtl[b] ? this.getLease<T>(b, key, kv) : undefined;
    const d = decodeEntry<T>(e);
    return d.deleted ? undefined : d;
  }

  /**
   * A lease bucket's `get` found nothing: trusted only when the stream holds no message for the key either, else the
   * newest one is read by sequence (kv-repair.ts; the failure needs a max-age, which only lease buckets have).
   */
  private async getLease<T>(b: Bucket, key: string, kv: KV): Promise<Entry<T> | undefined> {
    const raw = await this.retryRead(`check ${b}/${key}`, async () =>
      (await this.leases()).missing(bucketName(this.opts.cluster, b), key, async () => (await kv.get(key)) !== null),
    );
    if (!raw) return undefined;
    const d = decodeRaw<T>(raw);
    return d.deleted ? undefined : d;
  }

  private leases(): Promise<LeaseRepair> {
    this.leaseRepair ??= this.jsm().then((jsm) => new LeaseRepair(jsm, this.health));
    return this.leaseRepair;
  }

  async put<T>(b: Bucket, key: string, value: T): Promise<number> {
    const kv = await this.kv(b);
    return this.timed('put', () => kv.put(key, codec.encode(value)));
  }

  /** Creates the key; returns undefined (not an error) when it exists already. */
  async create<T>(b: Bucket, key: string, value: T): Promise<number | undefined> {
    let rev: number;
    const kv = await this.kv(b);
    try {
      rev = await this.timed('create', () => kv.create(key, codec.encode(value)));
    } catch (err) {
      if (isCasConflict(err)) return undefined;
      throw err;
    }
    // On a lease bucket, a create is checked against the stream: nats-server 2.9 can let one through on a live key.
    // An inconsistency is noted (health.needsRepair), the revision still returned: the caller decides (election.ts).
    if (bucketTtl[b]) await (await this.leases()).created(bucketName(this.opts.cluster, b), key, rev);
    return rev;
  }

  /** CAS update; returns undefined when the revision is stale (somebody else wrote). */
  async update<T>(b: Bucket, key: string, value: T, revision: number): Promise<number | undefined> {
    const kv = await this.kv(b);
    try {
      return await this.timed('update', () => kv.update(key, codec.encode(value), revision));
    } catch (err) {
      if (!isCasConflict(err)) throw err;
      // A refusal on a lease bucket whose newest message is still `revision` is the server's index, not a writer.
      if (bucketTtl[b]) await (await this.leases()).refused(bucketName(this.opts.cluster, b), key, revision);
      return undefined;
    }
  }

  async delete(b: Bucket, key: string): Promise<void> {
    const kv = await this.kv(b);
    await this.timed('delete', () => kv.delete(key));
  }

  /** True from an inconsistency seen in the lease bucket until this process repaired it (kv-health.ts). */
  needsRepair(b: Bucket): boolean {
    return this.health.needsRepair(bucketName(this.opts.cluster, b));
  }

  /** Checks a lease bucket's subject counts (one request); true when they are consistent. */
  async inspect(b: Bucket): Promise<boolean> {
    const name = bucketName(this.opts.cluster, b);
    await this.retryRead(`inspect ${b}`, async () => (await this.leases()).inspect(name));
    return !this.health.needsRepair(name);
  }

  /**
   * Repairs a lease bucket: purges its stream and writes back the live entries `keep` accepts (kv-repair.ts
   * `rewrite`). Only the agent that owns the repair calls it (the leader for dm_members, the leader or the creator
   * for dm_leader: election.ts, scheduler.ts), so two agents never purge each other's writes in a loop.
   */
  async repair<T>(b: Bucket, keep: (e: Entry<T>) => boolean = () => true): Promise<Entry<T>[]> {
    const kv = await this.kv(b);
    const out = await (await this.leases()).rewrite(bucketName(this.opts.cluster, b), kv, (e) => keep(decodeRaw<T>(e)));
    return out.map((e) => decodeRaw<T>(e));
  }

  async list<T>(b: Bucket, filter?: string): Promise<Entry<T>[]> {
    await this.kv(b); // creates the bucket (and its stream) when it does not exist yet
    const jsm = await this.jsm();
    if (bucketTtl[b] && filter === undefined) {
      // A lease bucket whose subject counts are wrong is listed from its messages (one map: each key once).
      const name = bucketName(this.opts.cluster, b);
      const raw = await this.retryRead(`list ${b}`, async () => (await this.leases()).list(name));
      if (raw) return raw.map((e) => decodeRaw<T>(e)).sort((x, y) => x.key.localeCompare(y.key));
    }
    const keys = await this.retryRead(`list ${b}`, () => keysOf(jsm, bucketName(this.opts.cluster, b), filter));
    const out: Entry<T>[] = [];
    for (const k of keys.sort()) {
      const e = await this.get<T>(b, k);
      if (e) out.push(e);
    }
    return out;
  }

  /**
   * Watches a bucket: calls `onChange` for every current value, then for every update (deleted entries have
   * deleted=true). Returns a stop function. The iterator is re-opened if it ends while we still want it
   * (e.g. after a NATS reconnect). `onInitialized` is called after the current values of each opening of the watch.
   */
  watch<T>(b: Bucket, onChange: (e: Entry<T>) => void, key?: string, onInitialized?: () => void): () => void {
    let stopped = false;
    let stopIter: (() => void) | undefined;
    const run = async (): Promise<void> => {
      while (!stopped) {
        try {
          const kv = await this.kv(b);
          const it = await kv.watch({ ...(key ? { key } : {}), initializedFn: onInitialized });
          stopIter = () => it.stop();
          for await (const e of it) {
            if (stopped) break;
            onChange(decodeEntry<T>(e));
          }
        } catch {
          // fall through and retry: a watch must outlive transient NATS trouble
        }
        if (!stopped) await new Promise((r) => setTimeout(r, 500));
      }
    };
    void run();
    return () => {
      stopped = true;
      stopIter?.();
    };
  }

  async request<T>(subject: string, payload: unknown, timeoutMs = 5_000): Promise<T> {
    const m = await this.nc.request(subject, codec.encode(payload), { timeout: timeoutMs });
    return codec.decode(m.data) as T;
  }

  /** Serves request/reply on a subject; with `queue`, one member of the group answers each request. */
  subscribe(subject: string, handler: (payload: unknown) => Promise<unknown>, queue?: string): () => void {
    const sub = this.nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (_err, msg) => {
        void (async () => {
          let reply: unknown;
          try {
            reply = { ok: true, result: await handler(msg.data.length ? codec.decode(msg.data) : undefined) };
          } catch (err) {
            reply = { ok: false, error: err instanceof DmError ? err.toRecord() : { message: String(err) } };
          }
          if (msg.reply) msg.respond(codec.encode(reply));
        })();
      },
    });
    return () => sub.unsubscribe();
  }

  async close(): Promise<void> {
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close().catch(() => undefined);
    }
  }
}
