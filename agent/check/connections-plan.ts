import type { DbConfig, SourceConfig, SubtaskSpec, TaskConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';

/**
 * How many connections a task opens at its peak on each server, as tsdm's units open them (DM's conn_number checks,
 * dm/pkg/checker/conn_checker.go, with tsdm's counts). Per source, downstream:
 *   1 checkpoint connection for the whole subtask (agent/subtask-units.ts), plus the larger of
 *   - load: min(loader pool-size, mydumper threads) workers (agent/load/load.ts workersFor), and
 *   - sync: syncer worker-count writers (agent/sync/apply.ts) + validator worker-count when a validator is on;
 * upstream: the larger of dump (mydumper threads snapshot readers + 1 holding FLUSH TABLES WITH READ LOCK,
 * agent/load/snapshot.ts; they stay open through the load) and sync (the binlog stream + 1 control connection).
 * Sources of one task run at once, so the downstream needs their sum; sources on one upstream server add up too.
 */
export interface ConnNeed {
  /** The server's `host:port`. */
  server: string;
  /** The DbConfig to connect with (the first source's, for an upstream shared by several sources). */
  db: DbConfig;
  total: number;
  /** One line per source: what it opens, for the check's message. */
  parts: string[];
  sources: string[];
}

function hasLoad(task: TaskConfig): boolean {
  return task.taskMode !== 'incremental';
}
function hasSync(task: TaskConfig): boolean {
  return task.taskMode !== 'full';
}

function downstreamOf(task: TaskConfig, s: SubtaskSpec): { n: number; part: string } {
  const load = hasLoad(task) ? Math.max(1, Math.min(s.load.poolSize, s.dump.threads)) : 0;
  const validator = s.validator.mode !== 'none' ? s.validator.workerCount : 0;
  const sync = hasSync(task) ? Math.max(1, s.sync.writerCount) + validator : 0;
  const what = [
    '1 checkpoint',
    ...(load ? [`${load} load worker(s)`] : []),
    ...(sync ? [`${sync - validator} sync writer(s)${validator ? ` + ${validator} validator worker(s)` : ''}`] : []),
  ];
  return { n: 1 + Math.max(load, sync), part: `${s.sourceId}: ${what.join(', ')}` };
}

function upstreamOf(task: TaskConfig, s: SubtaskSpec): { n: number; part: string } {
  const dump = hasLoad(task) ? Math.max(1, s.dump.threads) + 1 : 0;
  const sync = hasSync(task) ? 2 : 0;
  const what = [...(dump ? [`${dump - 1} dump thread(s) + 1 snapshot lock`] : []), ...(sync ? ['2 for sync'] : [])];
  return { n: Math.max(dump, sync), part: `${s.sourceId}: ${what.join(' or ')}` };
}

/** The downstream's need and one need per upstream server (sources with a missing config are left out). */
export function connectionPlan(
  task: TaskConfig,
  sources: Record<string, SourceConfig>,
): { downstream: ConnNeed; upstreams: ConnNeed[] } {
  const td = task.targetDatabase;
  const downstream: ConnNeed = { server: `${td.host}:${td.port}`, db: td, total: 0, parts: [], sources: [] };
  const ups = new Map<string, ConnNeed>();
  for (const s of task.subtasks) {
    const d = downstreamOf(task, s);
    downstream.total += d.n;
    downstream.parts.push(d.part);
    downstream.sources.push(s.sourceId);
    const src = sources[s.sourceId];
    if (!src) continue;
    const server = `${src.from.host}:${src.from.port}`;
    const u = ups.get(server) ?? { server, db: src.from, total: 0, parts: [], sources: [] };
    const n = upstreamOf(task, s);
    u.total += n.n;
    u.parts.push(n.part);
    u.sources.push(s.sourceId);
    ups.set(server, u);
  }
  return { downstream, upstreams: [...ups.values()] };
}

/** What a server reported: max_connections (0: unlimited, TiDB), connections now, and the user's own limit and use. */
export interface ServerConns {
  max: number;
  used: number;
  userMax: number;
  userUsed: number;
}

/**
 * DM's verdict (connNumberChecker.check): a failure when the task needs more than max_connections (or, tsdm's
 * addition, than the user's max_user_connections), a warning when it needs more than what is free now (other
 * clients, other tasks). Unlimited (0) passes.
 */
export function judgeConnections(
  side: 'upstream' | 'downstream',
  need: ConnNeed,
  srv: ServerConns,
): { error?: DmError; warning?: string } {
  const code = side === 'upstream' ? 'UpstreamConnLimit' : 'DownstreamConnLimit';
  const what = `the task opens up to ${need.total} connection(s) on the ${side} ${need.server} (${need.parts.join('; ')})`;
  const limits: [string, number, number][] = [
    ['max_connections', srv.max, srv.used],
    ["the user's max_user_connections", srv.userMax, srv.userUsed],
  ];
  for (const [name, max] of limits)
    if (max > 0 && need.total > max) return { error: new DmError(code, `${what}, more than its ${name} ${max}`) };
  for (const [name, max, used] of limits)
    if (max > 0 && need.total > max - used)
      return {
        warning: `${what}, but only ${Math.max(0, max - used)} of its ${name} ${max} are free now (${used} in use): the task or other clients may be refused connections; raise ${name} or lower the task's thread counts`,
      };
  return {};
}
