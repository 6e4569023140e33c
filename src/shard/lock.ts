import { DmError } from '../errors/index.ts';

/**
 * A pessimistic shard-DDL lock (DM's "sharding DDL lock"): one per (task, target table), stored in `dm_locks` under
 * `<task>.<target-schema>.<target-table>`. Every function here is pure: it takes the record as read from KV and
 * returns the record to write back with a compare-and-set update, so concurrent agents never lose each other's
 * changes (the caller retries on a stale revision). The protocol these transitions implement is in
 * agent/shard/pessimist.ts (numbered steps) and docs/architecture.md.
 */
export interface ShardState {
  source: string;
  /** Upstream `schema.table`. */
  table: string;
  reached: boolean;
  /** `file:pos` of the DDL event this shard stopped at. */
  position?: string;
}

export type LockStage = 'waiting' | 'executing' | 'done';

export interface ShardLockRecord {
  task: string;
  targetSchema: string;
  targetTable: string;
  mode: 'pessimistic';
  /** The routed statements of this round, as the first shard to reach them wrote them. */
  ddls: string[];
  /** The source that executes the DDL downstream once every shard reached it (DM: the first to reach). */
  owner: string;
  /** Sources of the task: each must join (declare its shard tables) before the lock can be ready. */
  sources: string[];
  joined: string[];
  /** `<source>/<schema>.<table>` -> state. */
  shards: Record<string, ShardState>;
  stage: LockStage;
  /** Set by `dmctl shard-ddl-lock unlock`: exec = the owner runs the DDL now, skip = nobody runs it. */
  resolution?: 'exec' | 'skip';
  /** Sources that have released their held shards after `done`; the last one deletes the lock. */
  acked: string[];
  createdAt: string;
  updatedAt: string;
}

/**
 * Whether a dm_locks value is something waiting (any pessimistic lock, an optimistic record with a conflict); an
 * optimistic record without a conflict only holds the shards' structures. Takes the raw value: readers see both kinds.
 */
export function isPendingLock(v: unknown): boolean {
  const r = (v && typeof v === 'object' ? v : {}) as { mode?: unknown; conflict?: unknown };
  return r.mode !== 'optimistic' || r.conflict !== undefined;
}

export function shardKey(source: string, table: string): string {
  return `${source}/${table}`;
}

export function newLock(
  task: string,
  target: { schema: string; table: string },
  sources: string[],
  now: string,
): ShardLockRecord {
  return {
    task,
    targetSchema: target.schema,
    targetTable: target.table,
    mode: 'pessimistic',
    ddls: [],
    owner: '',
    sources: [...sources],
    joined: [],
    shards: {},
    stage: 'waiting',
    acked: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** Normalised for comparison: two shards reached "the same DDL" when their routed statements match this way. */
export function sameDdls(a: readonly string[], b: readonly string[]): boolean {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
  return a.length === b.length && a.every((s, i) => norm(s) === norm(b[i]!));
}

/**
 * A source declares its shard tables for the target (idempotent). Tables it no longer has (dropped upstream) leave
 * the lock unless they already reached the DDL.
 */
export function joinLock(
  rec: ShardLockRecord,
  source: string,
  tables: readonly string[],
  now: string,
): ShardLockRecord {
  const out: ShardLockRecord = {
    ...rec,
    shards: { ...rec.shards },
    joined: rec.joined.includes(source) ? rec.joined : [...rec.joined, source],
    updatedAt: now,
  };
  for (const [k, st] of Object.entries(rec.shards)) {
    if (st.source === source && !st.reached && !tables.includes(st.table)) delete out.shards[k];
  }
  for (const t of tables) {
    const k = shardKey(source, t);
    if (!out.shards[k]) out.shards[k] = { source, table: t, reached: false };
  }
  if (!out.sources.includes(source)) out.sources = [...out.sources, source];
  return out;
}

/** A shard reached this round's DDL. The first one sets the statements and becomes the owner. */
export function reachLock(
  rec: ShardLockRecord,
  source: string,
  table: string,
  ddls: readonly string[],
  position: string,
  now: string,
): ShardLockRecord {
  if (rec.stage !== 'waiting') {
    throw new DmError(
      'Internal',
      `lock ${lockId(rec)} is ${rec.stage}; a new round cannot start before it is released`,
    );
  }
  if (rec.ddls.length > 0 && !sameDdls(rec.ddls, ddls)) {
    const first = Object.values(rec.shards).find((s) => s.reached);
    throw new DmError(
      'ShardDdlMismatch',
      `shard ${source} ${table} reached DDL [${ddls.join('; ')}] but ${first ? `${first.source} ${first.table}` : 'the lock'} reached [${rec.ddls.join('; ')}] for ${rec.targetSchema}.${rec.targetTable}`,
      { context: { sql: ddls.join('; '), position, table: `${rec.targetSchema}.${rec.targetTable}` } },
    );
  }
  const k = shardKey(source, table);
  const out: ShardLockRecord = {
    ...rec,
    shards: { ...rec.shards, [k]: { source, table, reached: true, position } },
    updatedAt: now,
    ddls: rec.ddls.length ? rec.ddls : [...ddls],
    owner: rec.owner || source,
  };
  if (!out.joined.includes(source)) out.joined = [...out.joined, source];
  if (!out.sources.includes(source)) out.sources = [...out.sources, source];
  return out;
}

/** Every source of the task joined and every shard it declared reached the DDL (or the user forced it). */
export function lockReady(rec: ShardLockRecord): boolean {
  if (rec.resolution) return true;
  return rec.sources.every((s) => rec.joined.includes(s)) && Object.values(rec.shards).every((s) => s.reached);
}

export function waitingShards(rec: ShardLockRecord): string[] {
  if (rec.mode !== 'pessimistic') return []; // optimistic records (src/shard/optimistic.ts) never wait
  const out = Object.values(rec.shards)
    .filter((s) => !s.reached)
    .map((s) => shardKey(s.source, s.table));
  for (const s of rec.sources) if (!rec.joined.includes(s)) out.push(`${s}/(not joined yet)`);
  return out;
}

export function ackLock(rec: ShardLockRecord, source: string, now: string): ShardLockRecord {
  return rec.acked.includes(source) ? rec : { ...rec, acked: [...rec.acked, source], updatedAt: now };
}

/** Released by every source that holds shards: the record can be deleted. */
export function lockReleased(rec: ShardLockRecord): boolean {
  if (rec.stage !== 'done') return false;
  const holders = new Set(
    Object.values(rec.shards)
      .filter((s) => s.reached)
      .map((s) => s.source),
  );
  return [...holders].every((s) => rec.acked.includes(s));
}

export function lockId(rec: Pick<ShardLockRecord, 'task' | 'targetSchema' | 'targetTable'>): string {
  return `${rec.task}-\`${rec.targetSchema}\`.\`${rec.targetTable}\``;
}

/**
 * `dmctl shard-ddl-lock unlock`: resolve a lock by hand. `forceRemove` drops shards (or whole sources) that will
 * never reach the DDL (a shard removed from the task); `action` exec makes the owner (or `owner`) run the DDL now,
 * skip releases every shard without running it.
 */
export function unlockLock(
  rec: ShardLockRecord,
  opts: { action: 'exec' | 'skip'; owner?: string; forceRemove?: string[] },
  now: string,
): ShardLockRecord {
  const out: ShardLockRecord = { ...rec, shards: { ...rec.shards }, updatedAt: now, resolution: opts.action };
  for (const r of opts.forceRemove ?? []) {
    for (const [k, st] of Object.entries(rec.shards))
      if (!st.reached && (st.source === r || k === r)) delete out.shards[k];
    if (!Object.values(out.shards).some((s) => s.source === r)) {
      out.sources = out.sources.filter((s) => s !== r);
      out.joined = out.joined.filter((s) => s !== r);
    }
  }
  if (opts.owner) out.owner = opts.owner;
  if (!out.owner || !Object.values(out.shards).some((s) => s.source === out.owner && s.reached)) {
    out.owner = Object.values(out.shards).find((s) => s.reached)?.source ?? out.owner;
  }
  if (opts.action === 'skip') out.stage = 'done';
  return out;
}
