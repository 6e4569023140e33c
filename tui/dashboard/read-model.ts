import {
  Bucket,
  HEARTBEAT_MS,
  Keys,
  LEASE_TTL_MS,
  parseSubtaskStatusKey,
  type BoundRecord,
  type CheckRecord,
  type CheckSummary,
  type Entry,
  type LeaderRecord,
  type MemberRecord,
  type RelayStatus,
  type SubtaskStatus,
  type TaskRecord,
} from '../../src/coord/index.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { parseTime } from './format.ts';

/**
 * The dashboard's read model: what the KV buckets say, folded by a pure reducer, plus a store that feeds it from
 * watches and publishes a new snapshot at most every `throttleMs` (CONVENTIONS 9: never render once per update).
 *
 * Liveness is measured on the dashboard's own clock: a member entry whose revision has not changed for LEASE_TTL_MS
 * is gone. Bucket max-age expiry is silent in NATS (DESIGN.md §8), so waiting for a delete would wait forever.
 */

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface MemberEntry {
  record: MemberRecord;
  revision: number;
  /** When this dashboard last saw a new heartbeat (a new revision), on its own clock. */
  lastSeenAt: number;
  /** The agent removed its key (graceful stop). */
  left: boolean;
}

/** The task record without its file text (which may hold passwords: the dashboard never keeps or shows it). */
export type TaskSummary = Omit<TaskRecord, 'yaml'>;

export interface StatusEntry {
  status: SubtaskStatus;
  receivedAt: number;
}

/** Load throughput derived from successive reports (the record carries totals, not a rate). */
export interface LoadRate {
  at: number;
  doneRows: number;
  rowsPerSecond: number;
}

export interface ErrorEntry {
  id: string;
  task: string;
  source: string;
  agent: string;
  record: ErrorRecord;
  /** When it happened: the record's time, else the status report's, else when we first saw it. */
  at: number;
  /** It is the error the subtask is paused on (not only a retried one). */
  pausing: boolean;
  /** Still present in the subtask's status; false once the agent cleared it. */
  active: boolean;
}

export interface DashboardState {
  cluster: string;
  server: string;
  connection: ConnectionState;
  members: Record<string, MemberEntry>;
  leader?: LeaderRecord;
  bounds: Record<string, BoundRecord>;
  tasks: Record<string, TaskSummary>;
  statuses: Record<string, StatusEntry>;
  /** Relay status by dm_status key (`relay.<source>`), as the agent bound to the source publishes it. */
  relays: Record<string, RelayStatus>;
  loadRates: Record<string, LoadRate>;
  errors: Record<string, ErrorEntry>;
  /** dm_locks values as stored (their shape is read by selectors.lockRow). */
  locks: Record<string, unknown>;
  /** The last `dmctl check-data` of each task, by task name (dm_checks `check.<task>`). */
  checks: Record<string, CheckSummary>;
  /** The newest events of dm_events, newest first (at most MAX_EVENTS). */
  events: DmEvent[];
  now: number;
}

export type Action =
  | { type: 'entry'; bucket: Bucket; entry: Entry<unknown>; at: number }
  | { type: 'connection'; state: ConnectionState; server?: string; at: number }
  | { type: 'event'; event: DmEvent; at: number }
  | { type: 'tick'; at: number };

/** Errors kept in the log (oldest dropped first). */
export const MAX_ERRORS = 500;
/** Events kept (and read back at start) by the Events view. */
export const MAX_EVENTS = 200;
export const MEMBER_LATE_MS = 2 * HEARTBEAT_MS + 1000;

export function initialState(cluster: string, server = '', now = Date.now()): DashboardState {
  return {
    cluster,
    server,
    connection: 'connecting',
    members: {},
    bounds: {},
    tasks: {},
    statuses: {},
    relays: {},
    loadRates: {},
    errors: {},
    locks: {},
    checks: {},
    events: [],
    now,
  };
}

function without<T>(rec: Record<string, T>, key: string): Record<string, T> {
  if (!(key in rec)) return rec;
  const out = { ...rec };
  delete out[key];
  return out;
}

export function reduce(s: DashboardState, a: Action): DashboardState {
  switch (a.type) {
    case 'tick':
      return { ...s, now: a.at };
    case 'connection':
      return { ...s, connection: a.state, server: a.server ?? s.server, now: a.at };
    case 'entry':
      return { ...reduceEntry(s, a.bucket, a.entry, a.at), now: a.at };
    case 'event':
      // A re-opened follow may deliver an event again: one entry per id.
      if (s.events.some((e) => e.id === a.event.id)) return s;
      return { ...s, events: [a.event, ...s.events].slice(0, MAX_EVENTS), now: a.at };
  }
}

function reduceEntry(s: DashboardState, b: Bucket, e: Entry<unknown>, at: number): DashboardState {
  switch (b) {
    case Bucket.members: {
      const prev = s.members[e.key];
      if (e.deleted) return prev ? { ...s, members: { ...s.members, [e.key]: { ...prev, left: true } } } : s;
      const record = e.value as MemberRecord;
      // A re-opened watch delivers the same revision again: that is not a new heartbeat.
      const lastSeenAt = prev && prev.revision === e.revision ? prev.lastSeenAt : at;
      return { ...s, members: { ...s.members, [e.key]: { record, revision: e.revision, lastSeenAt, left: false } } };
    }
    case Bucket.checks: {
      // Only `check.<task>` records; `fix.…` keys hold fix statements the dashboard does not show.
      if (!e.key.startsWith('check.')) return s;
      if (e.deleted) {
        const task = Object.keys(s.checks).find((t) => Keys.check(t) === e.key);
        return task === undefined ? s : { ...s, checks: without(s.checks, task) };
      }
      const r = e.value as CheckRecord;
      const { id, state, progress, differences, requestedAt, startedAt, finishedAt, owner, resumed, error } = r;
      return {
        ...s,
        checks: {
          ...s.checks,
          [r.task]: { id, state, progress, differences, requestedAt, startedAt, finishedAt, owner, resumed, error },
        },
      };
    }
    case Bucket.leader:
      return e.deleted ? { ...s, leader: undefined } : { ...s, leader: e.value as LeaderRecord };
    case Bucket.bounds:
      return { ...s, bounds: e.deleted ? without(s.bounds, e.key) : { ...s.bounds, [e.key]: e.value as BoundRecord } };
    case Bucket.tasks: {
      if (e.deleted) return { ...s, tasks: without(s.tasks, e.key) };
      const { yaml: _secret, ...summary } = e.value as TaskRecord;
      return { ...s, tasks: { ...s.tasks, [e.key]: summary } };
    }
    case Bucket.status:
      return reduceStatus(s, e, at);
    case Bucket.locks:
      return { ...s, locks: e.deleted ? without(s.locks, e.key) : { ...s.locks, [e.key]: e.value } };
    default:
      return s;
  }
}

function reduceStatus(s: DashboardState, e: Entry<unknown>, at: number): DashboardState {
  if (e.key.startsWith('relay.'))
    return { ...s, relays: e.deleted ? without(s.relays, e.key) : { ...s.relays, [e.key]: e.value as RelayStatus } };
  if (!parseSubtaskStatusKey(e.key)) return s; // future keys: not shown
  if (e.deleted) {
    return {
      ...s,
      statuses: without(s.statuses, e.key),
      loadRates: without(s.loadRates, e.key),
      errors: markCleared(s.errors, e.key, new Set()),
    };
  }
  const status = e.value as SubtaskStatus;
  return {
    ...s,
    statuses: { ...s.statuses, [e.key]: { status, receivedAt: at } },
    loadRates: nextLoadRate(s.loadRates, e.key, status, at),
    errors: foldErrors(s.errors, e.key, status, at),
  };
}

function nextLoadRate(
  rates: Record<string, LoadRate>,
  key: string,
  st: SubtaskStatus,
  at: number,
): Record<string, LoadRate> {
  if (!st.load) return without(rates, key);
  const prev = rates[key];
  const done = st.load.doneRows;
  if (!prev || done < prev.doneRows) return { ...rates, [key]: { at, doneRows: done, rowsPerSecond: 0 } };
  if (done === prev.doneRows) return rates;
  const dt = (at - prev.at) / 1000;
  if (dt <= 0) return rates;
  const inst = (done - prev.doneRows) / dt;
  // Smoothed so that an ETA does not jump with every report.
  const rowsPerSecond = prev.rowsPerSecond > 0 ? 0.7 * prev.rowsPerSecond + 0.3 * inst : inst;
  return { ...rates, [key]: { at, doneRows: done, rowsPerSecond } };
}

export function errorId(statusKey: string, r: ErrorRecord): string {
  return `${statusKey}|${r.code}|${r.time ?? ''}|${r.message}`;
}

function markCleared(
  errors: Record<string, ErrorEntry>,
  statusKey: string,
  keep: Set<string>,
): Record<string, ErrorEntry> {
  let out = errors;
  for (const [id, en] of Object.entries(errors)) {
    if (en.active && id.startsWith(statusKey + '|') && !keep.has(id)) {
      if (out === errors) out = { ...errors };
      out[id] = { ...en, active: false, pausing: false };
    }
  }
  return out;
}

/** Adds the status's current and recent errors to the log; entries of this subtask no longer reported are cleared. */
function foldErrors(
  errors: Record<string, ErrorEntry>,
  key: string,
  st: SubtaskStatus,
  at: number,
): Record<string, ErrorEntry> {
  const present = new Map<string, { rec: ErrorRecord; pausing: boolean }>();
  for (const rec of st.recentErrors ?? []) present.set(errorId(key, rec), { rec, pausing: false });
  if (st.error) present.set(errorId(key, st.error), { rec: st.error, pausing: true });
  let out = markCleared(errors, key, new Set(present.keys()));
  for (const [id, { rec, pausing }] of present) {
    const prev = out[id];
    if (prev && prev.active && prev.pausing === pausing) continue;
    if (out === errors) out = { ...errors };
    out[id] = prev
      ? { ...prev, active: true, pausing }
      : {
          id,
          task: st.task,
          source: st.source,
          agent: st.agent,
          record: rec,
          at: parseTime(rec.time) ?? parseTime(st.updatedAt) ?? at,
          pausing,
          active: true,
        };
  }
  const ids = Object.keys(out);
  if (ids.length > MAX_ERRORS) {
    out = { ...out };
    const oldest = ids
      .map((id) => out[id]!)
      .sort((x, y) => x.at - y.at)
      .slice(0, ids.length - MAX_ERRORS);
    for (const en of oldest) delete out[en.id];
  }
  return out;
}

export type Liveness = 'alive' | 'late' | 'gone' | 'left';

export function liveness(m: MemberEntry | undefined, now: number): Liveness {
  if (!m) return 'gone';
  if (m.left) return 'left';
  const age = now - m.lastSeenAt;
  if (age >= LEASE_TTL_MS) return 'gone';
  return age > MEMBER_LATE_MS ? 'late' : 'alive';
}

// ---------------------------------------------------------------------------------------------------------------
// The store

/** Where the store reads from: Coord satisfies `watch`; `onConnection` reports the NATS connection's state. */
