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

/** Lease-like buckets: entries older than this vanish (silently: see DESIGN.md §8, detect by polling). */
export const LEASE_TTL_MS = 10_000;
export const HEARTBEAT_MS = 2_000;

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
} as const;
