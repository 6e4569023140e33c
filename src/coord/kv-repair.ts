import type { JetStreamManager, KV, StoredMsg } from 'nats';
import { JSONCodec } from 'nats';
import {
  casRefusedAnomaly,
  createAnomaly,
  getMissedAnomaly,
  KvAnomalyKind,
  subjectCountsAnomaly,
  type KvHealth,
  type SubjectCounts,
} from './kv-health.ts';

/**
 * Reads and repairs of the lease buckets (dm_members, dm_leader) that do not trust nats-server's per-subject index
 * (issue #16; docs/architecture.md "After a NATS outage"). Used by client.ts only: the rest of tsdm sees Coord.
 *
 * What was measured on nats-server 2.9.10 (file store, one server): restarted after it was down for longer than a
 * bucket's max-age, the server expires the bucket while it recovers but keeps the last block's message count; once
 * the bucket later stays empty for a few seconds, the block reloads a stale per-subject record. From then on the
 * subject counts are too high, the history limit is not enforced, `get` (direct or `$JS.API.STREAM.MSG.GET` with
 * `last_by_subj`) finds nothing while the stream holds messages for the key, `create` succeeds on a live key and
 * CAS `update` is refused on the right revision. Reading messages by sequence, a watch (last per subject) and the
 * max-age expiry stay right; a purge of the key (a rollup) does not repair it, a purge of the whole stream does.
 */

const codec = JSONCodec<unknown>();

/** Lease buckets hold a few messages per agent; a longer walk means something else is wrong: stop, report. */
const MAX_SCAN = 10_000;

export interface StreamState extends SubjectCounts {
  first: number;
  last: number;
}

export interface RawEntry {
  key: string;
  revision: number;
  deleted: boolean;
  data: Uint8Array;
}

/** The stream's message count, sequence range and per-key counts (one API request). */
export async function streamState(jsm: Pick<JetStreamManager, 'streams'>, bucket: string, key?: string) {
  const prefix = `$KV.${bucket}.`;
  const si = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: prefix + (key ?? '>') });
  const subjects: Record<string, number> = {};
  for (const [s, n] of Object.entries(si.state.subjects ?? {}))
    if (s.startsWith(prefix)) subjects[s.slice(prefix.length)] = n;
  const total = (si as { total?: number }).total;
  return {
    messages: si.state.messages,
    subjects,
    complete: key === undefined && (total === undefined || total <= Object.keys(subjects).length),
    first: si.state.first_seq,
    last: si.state.last_seq,
  } satisfies StreamState;
}

function isNoMessage(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number; code?: number } } | undefined;
  return e?.code === '404' || e?.api_error?.code === 404 || e?.api_error?.err_code === 10037;
}

function rawEntry(sm: StoredMsg, prefix: string): RawEntry {
  const op = sm.header?.get('KV-Operation');
  return {
    key: sm.subject.slice(prefix.length),
    revision: sm.seq,
    deleted: op === 'DEL' || op === 'PURGE',
    data: sm.data,
  };
}

/**
 * The newest message of each key, read by sequence from the stream's last message down (no per-subject index
 * involved). With `want`, stops at that key's newest message. Sequences that are gone (deleted, expired) are skipped.
 */
export async function scanLatest(
  jsm: Pick<JetStreamManager, 'streams'>,
  bucket: string,
  range: { first: number; last: number },
  want?: string,
): Promise<Map<string, RawEntry>> {
  const prefix = `$KV.${bucket}.`;
  const out = new Map<string, RawEntry>();
  const stop = Math.max(range.first, range.last - MAX_SCAN);
  for (let seq = range.last; seq >= stop && seq > 0; seq--) {
    let sm: StoredMsg;
    try {
      sm = await jsm.streams.getMessage(`KV_${bucket}`, { seq });
    } catch (err) {
      if (isNoMessage(err)) continue;
      throw err;
    }
    if (!sm.subject.startsWith(prefix)) continue;
    const e = rawEntry(sm, prefix);
    if (!out.has(e.key)) out.set(e.key, e);
    if (want !== undefined && e.key === want) break;
  }
  return out;
}

export function decodeRaw<T>(e: RawEntry): { key: string; value: T; revision: number; deleted: boolean } {
  return {
    key: e.key,
    value: (e.deleted || e.data.length === 0 ? undefined : codec.decode(e.data)) as T,
    revision: e.revision,
    deleted: e.deleted,
  };
}

/** The checks and repairs of one process (one per Coord); `health` counts what they find. */
export class LeaseRepair {
  /** Revisions written by the last repair of each bucket: a key its owner did not write since is not kept again. */
  private readonly rewritten = new Map<string, Set<number>>();

  constructor(
    private readonly jsm: Pick<JetStreamManager, 'streams'>,
    private readonly health: KvHealth,
  ) {}

  /**
   * After a `get` found nothing: the key's newest message when the stream says it has one (anomaly get-missed),
   * else undefined. `again` is a second get, so a key created meanwhile is not taken for an anomaly.
   */
  async missing(bucket: string, key: string, again: () => Promise<boolean>): Promise<RawEntry | undefined> {
    const st = await streamState(this.jsm, bucket, key);
    const n = st.subjects[key] ?? 0;
    if (n === 0) return undefined;
    const detail = getMissedAnomaly(n, await again());
    if (!detail) return undefined;
    this.health.note({ kind: KvAnomalyKind.getMissed, bucket, key, detail });
    return (await scanLatest(this.jsm, bucket, st, key)).get(key);
  }

  /** After a `create` succeeded with `revision`: notes create-on-live when the key had, or now has, other messages. */
  async created(bucket: string, key: string, revision: number): Promise<void> {
    const st = await streamState(this.jsm, bucket, key);
    const older = [...(await scanLatest(this.jsm, bucket, { first: st.first, last: revision - 1 }, key)).values()];
    const detail = createAnomaly(
      st.subjects[key] ?? 0,
      older.some((e) => !e.deleted),
    );
    if (detail) this.health.note({ kind: KvAnomalyKind.createOnLive, bucket, key, detail });
  }

  /** After a CAS `update` naming `revision` was refused: notes cas-refused when that is still the key's newest message. */
  async refused(bucket: string, key: string, revision: number): Promise<void> {
    const st = await streamState(this.jsm, bucket, key);
    const newest = (await scanLatest(this.jsm, bucket, st, key)).get(key);
    const detail = casRefusedAnomaly(revision, newest?.revision);
    if (detail) this.health.note({ kind: KvAnomalyKind.casRefused, bucket, key, detail });
  }

  /** The bucket's subject counts checked (anomaly subject-counts); returns the state for a caller that lists. */
  async inspect(bucket: string): Promise<StreamState> {
    const st = await streamState(this.jsm, bucket);
    const detail = subjectCountsAnomaly(st, 1);
    if (detail) this.health.note({ kind: KvAnomalyKind.subjectCounts, bucket, detail });
    return st;
  }

  /**
   * The live entries of a bucket read from the stream by sequence, or undefined when the bucket is consistent (then
   * the ordinary listing is right and cheaper).
   */
  async list(bucket: string): Promise<RawEntry[] | undefined> {
    const st = await this.inspect(bucket);
    if (!this.health.needsRepair(bucket)) return undefined;
    return [...(await scanLatest(this.jsm, bucket, st)).values()].filter((e) => !e.deleted);
  }

  /**
   * Repair: reads the live entries by sequence, purges the whole stream (this resets the server's per-subject state;
   * purging one key does not), and writes back the entries `keep` accepts, except those the previous repair wrote
   * whose owner has not written since (so a dead agent's key still expires). Returns the entries written back.
   * A crash between the purge and the writes loses the keys that were not yet written back: their owners write them
   * again within one heartbeat (members) or the next election creates the key (leader).
   */
  async rewrite(bucket: string, kv: KV, keep: (e: RawEntry) => boolean): Promise<RawEntry[]> {
    const st = await streamState(this.jsm, bucket);
    const prev = this.rewritten.get(bucket) ?? new Set<number>();
    const live = [...(await scanLatest(this.jsm, bucket, st)).values()].filter(
      (e) => !e.deleted && keep(e) && !prev.has(e.revision),
    );
    await this.jsm.streams.purge(`KV_${bucket}`);
    const written = new Set<number>();
    const out: RawEntry[] = [];
    for (const e of live) {
      const revision = await kv.put(e.key, e.data);
      written.add(revision);
      out.push({ ...e, revision });
    }
    this.rewritten.set(bucket, written);
    this.health.repaired(bucket, out.length);
    return out;
  }
}
