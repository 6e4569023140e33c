/**
 * Every bucket, key layout and subject of the coordination protocol lives in this file (CONVENTIONS: "all key
 * prefixes live in one file"). DESIGN.md §3 is the contract; docs/architecture.md documents it for operators.
 */

export const Bucket = {
  members: 'members',
  leader: 'leader',
  sources: 'sources',
  bounds: 'bounds',
  tasks: 'tasks',
  status: 'status',
  locks: 'locks',
  /** dmctl check-data requests, progress and reports (check-records.ts). */
  checks: 'checks',
} as const;
export type Bucket = (typeof Bucket)[keyof typeof Bucket];

/**
 * JetStream streams that are not KV buckets. `events` (`dm_events`, DESIGN.md §3): what needs a human, written by
 * agents (src/coord/event-stream.ts), read by `dmctl events` and the dashboard; bounded by EVENTS_RETENTION.
 */
export const Stream = { events: 'events' } as const;
export type Stream = (typeof Stream)[keyof typeof Stream];

/** `dm_events`: the stream's name, prefixed by the cluster like the buckets. */
export function streamName(cluster: string, s: Stream): string {
  return `${cluster}_${s}`;
}

/**
 * Retention of `dm_events` (oldest dropped first, whichever bound is hit first). An agent creates the stream with these
 * when it is missing and never changes an existing one, so an operator's `nats stream edit` stays.
 */
export const EVENTS_RETENTION = {
  maxMsgs: 100_000,
  maxAgeMs: 14 * 24 * 3600 * 1000,
  maxBytes: 64 * 1024 * 1024,
  /** One event: makeEvent bounds its text, this bounds the message whatever a writer sends. */
  maxMsgSize: 16 * 1024,
} as const;

/**
 * Lease-like buckets: entries older than this vanish (silently: see DESIGN.md §8, detect by polling). Renewals come
 * every HEARTBEAT_MS, a fifth of it.
 *
 * Test hook: TSDM_TEST_LEASE_MS (1000 to 10000) shortens both for a whole cluster, so a test that forces many
 * failovers waits less for each. Every process of the cluster must have the same value (the buckets' max-age is
 * set by whoever creates them): the test sets it in its own process before src/coord is loaded
 * (test/integration/short-lease.ts), and the agents and dmctl it spawns inherit it. Unset: the lease is 10 s.
 */
export const LEASE_TTL_MS = testLeaseMs() ?? 10_000;
export const HEARTBEAT_MS = LEASE_TTL_MS / 5;

function testLeaseMs(): number | undefined {
  const v = process.env.TSDM_TEST_LEASE_MS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1000 || n > 10_000)
    throw new Error(`TSDM_TEST_LEASE_MS=${v}: an integer number of milliseconds from 1000 to 10000`);
  return n;
}

export const bucketTtl: Partial<Record<Bucket, number>> = {
  [Bucket.members]: LEASE_TTL_MS,
  [Bucket.leader]: LEASE_TTL_MS,
};

/** `dm_members`, `dm_tasks`… (several clusters may share one NATS). */
export function bucketName(cluster: string, b: Bucket): string {
  return `${cluster}_${b}`;
}

/**
 * NATS KV keys allow [-/_=.A-Za-z0-9]; '.' separates tokens. Names users choose (task names, source ids) may hold
 * other characters: they are escaped as `=HH` (UTF-8 bytes), so the mapping is reversible and never collides.
 */
export function encodeToken(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/^[A-Za-z0-9_-]$/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '=' + b.toString(16).padStart(2, '0');
  }
  return out.length ? out : '=';
}

export function decodeToken(s: string): string {
  if (s === '=') return '';
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

export const Keys = {
  member: (agent: string) => encodeToken(agent),
  leader: 'leader',
  source: (sourceId: string) => encodeToken(sourceId),
  bound: (sourceId: string) => encodeToken(sourceId),
  task: (task: string) => encodeToken(task),
  subtaskStatus: (task: string, sourceId: string) => `task.${encodeToken(task)}.${encodeToken(sourceId)}`,
  subtaskStatusPrefix: (task: string) => `task.${encodeToken(task)}.>`,
  relayStatus: (sourceId: string) => `relay.${encodeToken(sourceId)}`,
  check: (task: string) => `check.${encodeToken(task)}`,
  checkFix: (task: string, id: string, n: number) => `fix.${encodeToken(task)}.${encodeToken(id)}.${n}`,
  checkFixPrefix: (task: string, id: string) => `fix.${encodeToken(task)}.${encodeToken(id)}.>`,
  lock: (task: string, schema: string, table: string) =>
    `${encodeToken(task)}.${encodeToken(schema)}.${encodeToken(table)}`,
} as const;

/** Parses a `task.<task>.<source>` status key. */
export function parseSubtaskStatusKey(key: string): { task: string; source: string } | undefined {
  const parts = key.split('.');
  if (parts.length !== 3 || parts[0] !== 'task') return undefined;
  return { task: decodeToken(parts[1]!), source: decodeToken(parts[2]!) };
}

/** One-off operations (request/reply) go to subjects under `dm.op.>` (DESIGN.md §3). */
export const Subjects = {
  agentOp: (cluster: string, agent: string, op: string) => `${cluster}.op.agent.${encodeToken(agent)}.${op}`,
  leaderOp: (cluster: string, op: string) => `${cluster}.op.leader.${op}`,
  /** Served by every agent in a queue group: any one live agent answers (connectivity checks, prechecks). */
  anyOp: (cluster: string, op: string) => `${cluster}.op.any.${op}`,
  /**
   * One event: `<cluster>.events.<task>.<source>.<kind>` (kind has dots of its own: task.paused); an event of no task
   * or source has `=` there (encodeToken('')), which no name encodes to, so `--task`/`--source` filter on the server.
   */
  event: (cluster: string, kind: string, task?: string, source?: string) =>
    `${cluster}.events.${encodeToken(task ?? '')}.${encodeToken(source ?? '')}.${kind}`,
  /** Every event, or those of one task and/or source (`*` for the part not given). */
  events: (cluster: string, task?: string, source?: string) =>
    `${cluster}.events.${task === undefined ? '*' : encodeToken(task)}.${source === undefined ? '*' : encodeToken(source)}.>`,
} as const;
