/**
 * What the KV adapter saw that a consistent JetStream store cannot show, and how often (issue #16).
 *
 * nats-server 2.9's file store can lose track of which messages a subject holds (docs/architecture.md "After a NATS
 * outage"): then a KV `get` finds nothing while the stream holds messages for the key, a `create` succeeds on a
 * live key, a CAS `update` is refused on the right revision, and a history-1 bucket keeps several messages per key.
 * The rules below recognise those states from what the JetStream API reports; `KvHealth` counts them in memory
 * (the agent writes the counts into its member record; issue #17 exports them as metrics) and remembers which
 * buckets need a repair (client.ts `rewrite`, run by the agent that owns the bucket's repair: election.ts,
 * scheduler.ts).
 */

export const KvAnomalyKind = {
  /** `get` found no message while the stream counts messages on the key's subject. */
  getMissed: 'get-missed',
  /** A subject holds more messages than the bucket's history allows, or the subject counts do not add up. */
  subjectCounts: 'subject-counts',
  /** A CAS `update` was refused although the key's last message is the revision it named. */
  casRefused: 'cas-refused',
  /** A `create` succeeded although the key's subject already held a message. */
  createOnLive: 'create-on-live',
  /** A read returned an older revision than one this process had just written. */
  readBehindWrite: 'read-behind-write',
} as const;
export type KvAnomalyKind = (typeof KvAnomalyKind)[keyof typeof KvAnomalyKind];

export interface KvAnomaly {
  kind: KvAnomalyKind;
  bucket: string;
  key?: string;
  detail: string;
}

/** A stream's message count and per-subject counts, as `jsm.streams.info(…, { subjects_filter: '>' })` reports them. */
export interface SubjectCounts {
  messages: number;
  subjects: Record<string, number>;
  /** False when the subject list was paged or filtered (then the counts cannot be summed against `messages`). */
  complete: boolean;
}

/**
 * Rule for a bucket's subject counts: no subject may hold more messages than the bucket's history, and (when the
 * list is complete) the counts add up to the stream's message count. A consistent store keeps both under its lock;
 * nats-server 2.9 after the outage above counts a subject twice (2 for 1 message) and stops enforcing the history.
 */
export function subjectCountsAnomaly(s: SubjectCounts, history: number): string | undefined {
  const over = Object.entries(s.subjects).filter(([, n]) => n > history);
  if (over.length > 0)
    return `${over.map(([k, n]) => `${k}: ${n} messages`).join(', ')} (history ${history}, stream ${s.messages} messages)`;
  if (!s.complete) return undefined;
  const sum = Object.values(s.subjects).reduce((a, n) => a + n, 0);
  return sum === s.messages ? undefined : `subjects count ${sum} messages, the stream ${s.messages}`;
}

/**
 * Rule for a `get` that found nothing: an anomaly when the stream info, asked right after and a second `get` still
 * finding nothing, counts messages on the key's subject (two reads, so a key created between the `get` and the info
 * is not taken for one).
 */
export function getMissedAnomaly(subjectMessages: number, secondGetFound: boolean): string | undefined {
  if (secondGetFound || subjectMessages === 0) return undefined;
  return `get found nothing, the stream holds ${subjectMessages} message(s) on the key`;
}

/**
 * Rule for a `create` that succeeded: the key's subject must now hold exactly that one message, and the stream must
 * hold no older message for it (`olderLive`: an earlier live message of the key found by reading the stream).
 */
export function createAnomaly(subjectMessages: number, olderLive: boolean): string | undefined {
  if (olderLive) return 'create succeeded although the key already had a live message';
  if (subjectMessages > 1) return `create succeeded, the key now counts ${subjectMessages} messages`;
  return undefined;
}

/**
 * Rule for a CAS `update` the server refused: an anomaly when the key's newest message, read from the stream, is
 * exactly the revision the update named (nobody else wrote, yet the server's per-subject index said otherwise).
 */
export function casRefusedAnomaly(named: number, newest: number | undefined): string | undefined {
  return newest === named ? `update refused on revision ${named}, which is the key's newest message` : undefined;
}

/**
 * Rule for a read after this process wrote `written`: returning an older revision contradicts that write. Reading
 * nothing does not: the key may have been deleted, or purged by a repair (which writes it back) in between, and a
 * key the stream still holds is never read as nothing (Coord.get falls back to the stream: get-missed).
 */
export function readBehindWriteAnomaly(written: number, read: number | undefined): string | undefined {
  return read !== undefined && read < written ? `wrote revision ${written}, then read revision ${read}` : undefined;
}

/** What an agent reports in its member record (`dmctl list-member --json`: `kv`). */
export interface KvHealthReport {
  /** Inconsistencies seen since the agent started. */
  anomalies: number;
  /** Buckets this agent repaired (purged and rewrote). */
  repairs: number;
  last?: { kind: KvAnomalyKind; bucket: string; key?: string; at: string };
}

/** In-memory counters and the buckets awaiting a repair (one per Coord, i.e. per process). */
export class KvHealth {
  readonly byKind: Record<KvAnomalyKind, number> = {
    'get-missed': 0,
    'subject-counts': 0,
    'cas-refused': 0,
    'create-on-live': 0,
    'read-behind-write': 0,
  };
  anomalies = 0;
  repairs = 0;
  private last: KvHealthReport['last'];
  private readonly suspect = new Set<string>();
  private readonly anomalyListeners: ((a: KvAnomaly) => void)[] = [];
  private readonly repairListeners: ((bucket: string, rewritten: number) => void)[] = [];

  note(a: KvAnomaly): void {
    this.anomalies++;
    this.byKind[a.kind]++;
    this.suspect.add(a.bucket);
    this.last = { kind: a.kind, bucket: a.bucket, ...(a.key !== undefined ? { key: a.key } : {}), at: nowIso() };
    for (const l of this.anomalyListeners) l(a);
  }

  /** True from an anomaly in the bucket until it is repaired. */
  needsRepair(bucket: string): boolean {
    return this.suspect.has(bucket);
  }

  repaired(bucket: string, rewritten: number): void {
    this.suspect.delete(bucket);
    this.repairs++;
    for (const l of this.repairListeners) l(bucket, rewritten);
  }

  onAnomaly(fn: (a: KvAnomaly) => void): void {
    this.anomalyListeners.push(fn);
  }

  onRepair(fn: (bucket: string, rewritten: number) => void): void {
    this.repairListeners.push(fn);
  }

  /** For the member record: undefined while nothing was ever seen, so healthy clusters' records stay as they were. */
  report(): KvHealthReport | undefined {
    if (this.anomalies === 0 && this.repairs === 0) return undefined;
    return { anomalies: this.anomalies, repairs: this.repairs, ...(this.last ? { last: this.last } : {}) };
  }
}

function nowIso(): string {
  return new Date().toISOString();
}
