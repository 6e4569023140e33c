import {
  decodeToken,
  deriveSync,
  Keys,
  type DesiredStage,
  type RelayStatus,
  type SubtaskStatus,
  type SyncView,
} from '../../src/coord/index.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import { isPendingLock } from '../../src/shard/lock.ts';
import { asLockRecord, type LockView, lockView } from '../../src/shard/lock-view.ts';
import { parseTime } from './format.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { liveness, type DashboardState, type ErrorEntry, type Liveness } from './read-model.ts';

/** Pure views of the read model, one row type per dashboard view. Rows carry a stable `key` for the selection. */

const byName = (a: string, b: string) => a.localeCompare(b);

function matches(filter: string, ...fields: (string | undefined)[]): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fields.some((x) => x !== undefined && x.toLowerCase().includes(f));
}

// --- Tasks --------------------------------------------------------------------------------------------------------

export interface TaskRow {
  key: string;
  task: string;
  source: string;
  desired: DesiredStage;
  stage: string;
  unit: string;
  agent: string;
  agentState: Liveness | 'none';
  status?: SubtaskStatus;
  /** The sync figures as every reader shows them (src/coord/status-derive.ts): stale unless the sync unit runs. */
  sync?: SyncView;
  /** Load rows/s (derived) or sync rows/s (reported); only while the unit runs. */
  rowsPerSecond?: number;
  /** Only while the sync unit runs (unknown otherwise, never 0 for a stopped subtask). */
  lagSeconds?: number;
  /** Seconds until the load finishes at the current rate. */
  etaSeconds?: number;
  error?: ErrorRecord;
}

export function taskRows(s: DashboardState, filter = ''): TaskRow[] {
  const rows: TaskRow[] = [];
  for (const t of Object.values(s.tasks).sort((a, b) => byName(a.name, b.name))) {
    for (const source of [...t.sources].sort(byName)) {
      const key = Keys.subtaskStatus(t.name, source);
      const st = s.statuses[key]?.status;
      const agent = st?.agent ?? s.bounds[Keys.bound(source)]?.agent ?? '';
      if (!matches(filter, t.name, source, agent)) continue;
      const row: TaskRow = {
        key,
        task: t.name,
        source,
        desired: t.sourceStages?.[source] ?? t.stage,
        stage: st?.stage ?? 'New',
        unit: st?.unit ?? '-',
        agent,
        agentState: agent ? liveness(s.members[Keys.member(agent)], s.now) : 'none',
      };
      if (st) row.status = st;
      if (st?.error) row.error = st.error;
      const live = row.agentState === 'alive' || row.agentState === 'late';
      const sync = st ? deriveSync(st, live) : undefined;
      if (sync) row.sync = sync;
      if (st?.unit === 'sync' && sync) {
        if (sync.rowsPerSecond !== null) row.rowsPerSecond = sync.rowsPerSecond;
        if (sync.lagSeconds !== null) row.lagSeconds = sync.lagSeconds;
      } else if (st?.load && st.stage === 'Running' && !st.error && live) {
        // No rate until two reports with progress between them: '-' rather than a misleading 0.
        const rate = s.loadRates[key]?.rowsPerSecond ?? 0;
        if (rate > 0) {
          row.rowsPerSecond = rate;
          if (st.load.totalRows > st.load.doneRows) row.etaSeconds = (st.load.totalRows - st.load.doneRows) / rate;
        }
      }
      rows.push(row);
    }
  }
  return rows;
}

// --- Topology -----------------------------------------------------------------------------------------------------

export interface AgentRow {
  key: string;
  name: string;
  host: string;
  pid?: number;
  version: string;
  started?: number;
  leader: boolean;
  state: Liveness;
  lastSeenAt?: number;
  sources: string[];
}

export function agentRows(s: DashboardState, filter = ''): AgentRow[] {
  const names = new Set<string>();
  for (const m of Object.values(s.members)) names.add(m.record.name);
  for (const b of Object.values(s.bounds)) names.add(b.agent);
  const rows: AgentRow[] = [];
  for (const name of [...names].sort(byName)) {
    if (!matches(filter, name)) continue;
    const m = s.members[Keys.member(name)];
    const row: AgentRow = {
      key: name,
      name,
      host: m?.record.host ?? '-',
      version: m?.record.version ?? '-',
      leader: s.leader?.name === name,
      state: liveness(m, s.now),
      sources: Object.values(s.bounds)
        .filter((b) => b.agent === name)
        .map((b) => b.sourceId)
        .sort(byName),
    };
    if (m) {
      row.pid = m.record.pid;
      row.lastSeenAt = m.lastSeenAt;
    }
    const started = parseTime(m?.record.started);
    if (started !== undefined) row.started = started;
    rows.push(row);
  }
  return rows;
}

/** Sources some task uses that no agent is bound to (the leader has not scheduled them, or no agent is alive). */
export function unboundSources(s: DashboardState): string[] {
  const used = new Set(Object.values(s.tasks).flatMap((t) => t.sources));
  return [...used].filter((src) => !s.bounds[Keys.bound(src)]).sort(byName);
}

// --- Errors -------------------------------------------------------------------------------------------------------

export function errorRows(s: DashboardState, filter = ''): ErrorEntry[] {
  return Object.values(s.errors)
    .filter((e) => matches(filter, e.task, e.source, e.record.code, e.record.message))
    .sort((a, b) => b.at - a.at || byName(a.id, b.id));
}

// --- Events -------------------------------------------------------------------------------------------------------

/** The events kept, newest first (the read model keeps them so), by task, source, table, kind, severity or text. */
export function eventRows(s: DashboardState, filter = ''): DmEvent[] {
  return s.events.filter((e) => matches(filter, e.task, e.source, e.table, e.kind, e.severity, e.message, e.agent));
}

// --- Relays -------------------------------------------------------------------------------------------------------

/** One relay log per source (enable-relay), by source name; the filter matches the source and the agent. */
export function relayRows(s: DashboardState, filter = ''): RelayStatus[] {
  return Object.values(s.relays)
    .filter((r) => matches(filter, r.source, r.agent))
    .sort((a, b) => byName(a.source, b.source));
}

// --- Shard locks --------------------------------------------------------------------------------------------------

/** A lock row: src/shard/lock-view.ts's view of the record, keyed by its dm_locks key, with a parsed age. */
export interface LockRow extends Pick<LockView, 'task' | 'target' | 'ddls' | 'owner' | 'reached' | 'waiting'> {
  key: string;
  mode: string;
  createdAt?: number;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * Reads a dm_locks entry (`<task>.<schema>.<table>`). A lock record (src/shard/lock-view.ts asLockRecord) is shown
 * through the same view as `query-status` and `shard-ddl-lock`; anything else in the bucket is still shown, read
 * field by field from whatever it has, so that nothing there is hidden from the operator.
 */
export function lockRow(key: string, value: unknown): LockRow {
  const rec = asLockRecord(value);
  if (rec) {
    const v = lockView(rec);
    const row: LockRow = {
      key,
      task: v.task,
      target: v.target,
      mode: v.mode,
      ddls: v.ddls,
      owner: v.owner,
      reached: v.reached,
      waiting: v.waiting,
    };
    const created = parseTime(v.createdAt);
    if (created !== undefined) row.createdAt = created;
    return row;
  }
  const v = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const [task = '', schema = '', table = ''] = key.split('.').map(decodeToken);
  const reached: string[] = [];
  const waiting: string[] = [];
  const shards = (v.shards ?? v.ready) as Record<string, unknown> | undefined;
  if (shards && typeof shards === 'object') {
    for (const [name, st] of Object.entries(shards)) {
      const done =
        typeof st === 'boolean'
          ? st
          : !!(
              st &&
              typeof st === 'object' &&
              ((st as Record<string, unknown>).reached ?? (st as Record<string, unknown>).synced)
            );
      (done ? reached : waiting).push(name);
    }
  }
  for (const n of strings(v.reached)) if (!reached.includes(n)) reached.push(n);
  for (const n of strings(v.waiting)) if (!waiting.includes(n)) waiting.push(n);
  const row: LockRow = {
    key,
    task: typeof v.task === 'string' ? v.task : task,
    target: `${typeof v.targetSchema === 'string' ? v.targetSchema : schema}.${typeof v.targetTable === 'string' ? v.targetTable : table}`,
    mode: typeof v.mode === 'string' ? v.mode : '-',
    ddls: strings(v.ddls),
    owner: typeof v.owner === 'string' ? v.owner : '',
    reached: reached.sort(byName),
    waiting: waiting.sort(byName),
  };
  const created = parseTime(
    typeof v.createdAt === 'string' ? v.createdAt : typeof v.since === 'string' ? v.since : undefined,
  );
  if (created !== undefined) row.createdAt = created;
  return row;
}

export function lockRows(s: DashboardState, filter = ''): LockRow[] {
  return Object.entries(s.locks)
    .filter(([, v]) => isPendingLock(v))
    .map(([k, v]) => lockRow(k, v))
    .filter((l) => matches(filter, l.task, l.target, l.owner))
    .sort((a, b) => byName(a.key, b.key));
}

// --- Header -------------------------------------------------------------------------------------------------------

export interface Counts {
  agents: number;
  agentsAlive: number;
  tasks: number;
  subtasks: number;
  byStage: Record<string, number>;
  errorsActive: number;
  errors: number;
  locks: number;
  relays: number;
}

export function counts(s: DashboardState): Counts {
  const agents = agentRows(s);
  const rows = taskRows(s);
  const byStage: Record<string, number> = {};
  for (const r of rows) byStage[r.stage] = (byStage[r.stage] ?? 0) + 1;
  const errs = Object.values(s.errors);
  return {
    agents: agents.length,
    agentsAlive: agents.filter((a) => a.state === 'alive' || a.state === 'late').length,
    tasks: Object.keys(s.tasks).length,
    subtasks: rows.length,
    byStage,
    errorsActive: errs.filter((e) => e.active).length,
    errors: errs.length,
    locks: Object.values(s.locks).filter(isPendingLock).length,
    relays: Object.keys(s.relays).length,
  };
}
