/**
 * `dmctl query-status --format dm`: tsdm's status in the JSON shape DM's dmctl prints (pingcap/tiflow dm: the
 * `QueryStatusListResponse` of dmmaster.proto printed by jsonpb with EmitDefaults, and dmctl's task list when no
 * task is named), so scripts written against DM keep working. jsonpb rules kept here: int64 fields are strings,
 * int32/double are numbers, enums are their names, an unset message is null, an empty repeated field is [].
 * Where tsdm has no figure, the field carries DM's zero value; docs/commands.md lists every mapping.
 */
import { comparePos, type BinlogPosition } from '../binlog/position.ts';
import type { ErrorRecord } from '../errors/index.ts';
import { dmTerror } from '../errors/dm-terror.ts';
import type { ValidationStatus } from './records.ts';
import type { RelayStatus } from './relay-records.ts';
import type { SourceView, TaskView } from './status-view.ts';
import type { LockView } from '../shard/lock-view.ts';

/** DM's `ProcessError` (terror fields). */
export interface DmProcessError {
  ErrCode: number;
  ErrClass: string;
  ErrScope: string;
  ErrLevel: string;
  Message: string;
  RawCause: string;
  Workaround: string;
}

export interface DmProcessResult {
  isCanceled: boolean;
  errors: DmProcessError[];
  detail: null;
}

type DmUnit = 'Check' | 'Dump' | 'Load' | 'Sync';
const UNITS: Record<string, DmUnit> = { check: 'Check', dump: 'Dump', load: 'Load', sync: 'Sync' };

/** jsonpb prints int64 as a decimal string. */
const i64 = (n: number | null | undefined): string => String(Math.trunc(n ?? 0));

/** DM shows a binlog position as `(file, pos)`; no position: the empty string (the proto default). */
export function dmPos(p: BinlogPosition | undefined): string {
  return p ? `(${p.name}, ${p.pos})` : '';
}

/** DM's progress strings: `fmt.Sprintf("%.2f %%", percent)`. */
export function dmPercent(done: number, total: number): string {
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  return `${(Math.floor(pct * 100) / 100).toFixed(2)} %`;
}

/**
 * What an ErrCode of a tsdm code without a DM counterpart adds to its number (TSDM-30007 -> 930007): tsdm's numbers
 * (10001-6xxxx) fall inside DM's own range (10001-5xxxx), where 30007 or 10006 would read as another DM error.
 */
export const TSDM_ERRCODE_BASE = 900_000;

/**
 * An error record as DM's ProcessError. A tsdm code with a DM counterpart (src/errors/dm-terror.ts) carries DM's
 * ErrCode, ErrClass, ErrScope and ErrLevel (`low` for a warning). Any other: ErrCode is 900000 + the number of tsdm's
 * code (TSDM-NNNNN -> 9NNNNN, outside DM's range); ErrClass the DM unit the error stopped (`sync-unit`, `load-unit`, `dump-unit`, `task-check`),
 * `config` or `relay-unit`; ErrScope where it happened (`upstream`, `downstream`, else `internal`); ErrLevel `high`
 * for an error that pauses, `medium` for one retried, `low` for a warning.
 */
export function dmProcessError(e: ErrorRecord, unit: string): DmProcessError {
  const side = e.class === 'upstream' || e.class === 'downstream' ? e.class : undefined;
  const dm = dmTerror(e.code);
  const c = e.context ?? {};
  const where = [c.position ? `position ${c.position}` : '', c.table ? `table ${c.table}` : '']
    .filter(Boolean)
    .join(', ');
  const cls =
    e.class === 'config'
      ? 'config'
      : e.class === 'relay' || unit === 'relay'
        ? 'relay-unit'
        : unit === 'check'
          ? 'task-check'
          : `${unit}-unit`;
  return {
    ErrCode: dm?.code ?? TSDM_ERRCODE_BASE + Number(/(\d+)$/.exec(e.code)?.[1] ?? 0),
    ErrClass: dm?.class ?? cls,
    ErrScope: dm ? (dm.scope === 'not-set' ? (side ?? 'not-set') : dm.scope) : (side ?? 'internal'),
    ErrLevel: e.warning ? 'low' : (dm?.level ?? (e.retryable ? 'medium' : 'high')),
    Message: `${where ? `${where}: ` : ''}${e.message}${c.sql ? `; origin SQL: [${c.sql}]` : ''}`,
    RawCause: e.cause ?? '',
    Workaround: e.suggestion,
  };
}

/** DM's `result` of a subtask: null while it runs; the error that paused it; isCanceled when paused or stopped. */
function subtaskResult(s: SourceView): DmProcessResult | null {
  if (s.error) return { isCanceled: false, errors: [dmProcessError(s.error, s.unit)], detail: null };
  if (s.stage === 'Paused' || s.stage === 'Stopped') return { isCanceled: true, errors: [], detail: null };
  if (s.stage === 'Finished') return { isCanceled: false, errors: [], detail: null };
  return null;
}

/** The pending shard-DDL locks this source takes part in (a shard `source/schema.table`, or the source itself). */
function locksOf(locks: LockView[], source: string): LockView[] {
  const mine = (x: string) => x === source || x.startsWith(`${source}/`);
  return locks.filter((l) => l.reached.some(mine) || l.waiting.some(mine) || l.conflict?.shard.startsWith(source));
}

const quoteTable = (t: string): string =>
  t
    .split('.')
    .map((p) => `\`${p}\``)
    .join('.');

function shardTables(list: string[], source: string): string[] {
  return list.filter((x) => x.startsWith(`${source}/`)).map((x) => quoteTable(x.slice(source.length + 1)));
}

function syncStatus(s: SourceView, locks: LockView[], relay: RelayStatus | undefined) {
  const y = s.sync!;
  const pessimistic = locks.filter((l) => l.mode === 'pessimistic');
  const conflict = locks.find((l) => l.conflict?.shard.startsWith(s.source))?.conflict;
  return {
    totalEvents: i64(y.totalEvents),
    totalTps: '0',
    recentTps: '0',
    masterBinlog: dmPos(y.master),
    masterBinlogGtid: y.master?.gtid ?? '',
    syncerBinlog: dmPos(y.synced),
    syncerBinlogGtid: y.synced?.gtid ?? '',
    blockingDDLs: pessimistic.filter((l) => shardTables(l.reached, s.source).length > 0).flatMap((l) => l.ddls),
    unresolvedGroups: pessimistic.map((l) => ({
      target: quoteTable(l.target),
      DDLs: l.ddls,
      firstLocation: '',
      synced: shardTables(l.reached, s.source),
      unsynced: shardTables(l.waiting, s.source),
    })),
    synced: y.caughtUp,
    binlogType: relay ? 'local' : 'remote',
    secondsBehindMaster: i64(y.lagSeconds),
    blockDDLOwner: '',
    conflictMsg: conflict?.reason ?? '',
    totalRows: i64(y.totalRows),
    totalRps: '0',
    recentRps: i64(y.rowsPerSecond),
  };
}

function unitStatus(s: SourceView, locks: LockView[], relay: RelayStatus | undefined): Record<string, unknown> {
  const l = s.load;
  if (s.unit === 'sync' && s.sync) return { sync: syncStatus(s, locks, relay) };
  if (s.unit === 'load')
    return {
      load: {
        finishedBytes: '0',
        totalBytes: '0',
        progress: dmPercent(l?.doneRows ?? 0, l?.totalRows ?? 0),
        metaBinlog: '',
        metaBinlogGTID: '',
        bps: '0',
      },
    };
  if (s.unit === 'dump')
    return {
      dump: {
        totalTables: i64(l?.tables),
        completedTables: 0,
        finishedBytes: 0,
        finishedRows: 0,
        estimateTotalRows: l?.totalRows ?? 0,
        bps: '0',
        progress: dmPercent(0, 0),
      },
    };
  // The check unit: tsdm's prechecks run in dmctl before the task starts, so there are no figures to show.
  return {};
}

const rowCounts = (c: { insert: number; update: number; delete: number }) =>
  `insert/update/delete: ${c.insert}/${c.update}/${c.delete}`;

function validationStatus(task: string, source: string, v: ValidationStatus | undefined) {
  if (!v) return null;
  const result: DmProcessResult | null = v.result
    ? {
        isCanceled: false,
        errors: [
          {
            ErrCode: 0,
            ErrClass: 'validator',
            ErrScope: 'internal',
            ErrLevel: 'high',
            Message: v.result,
            RawCause: '',
            Workaround: '',
          },
        ],
        detail: null,
      }
    : null;
  return {
    task,
    source,
    mode: v.mode,
    stage: v.stage,
    validatorBinlog: '',
    validatorBinlogGtid: '',
    result,
    processedRowsStatus: rowCounts(v.processed),
    pendingRowsStatus: rowCounts(v.pending),
    errorRowsStatus: `new/ignored/resolved: ${v.errors.new}/${v.errors.ignored}/${v.errors.resolved}`,
    cutoverBinlogPos: '',
    cutoverBinlogGtid: '',
  };
}

/** One subtask as DM's `SubTaskStatus`. */
export function dmSubTaskStatus(task: TaskView, s: SourceView, relay?: RelayStatus) {
  const locks = locksOf(task.locks ?? [], s.source);
  return {
    name: task.name,
    stage: s.stage,
    unit: UNITS[s.unit] ?? 'Check',
    result: subtaskResult(s),
    unresolvedDDLLockID: locks[0]?.id ?? '',
    ...unitStatus(s, locks, relay),
    validation: validationStatus(task.name, s.source, s.validation),
  };
}

/** A relay as DM's `RelayStatus`; the stage is `Paused`/`Stopped` with the error in `result` when one stopped it. */
export function dmRelayStatus(r: RelayStatus) {
  const caughtUp = !!(r.relayPos && r.master && comparePos(r.relayPos, r.master) >= 0);
  return {
    masterBinlog: dmPos(r.master),
    masterBinlogGtid: r.master?.gtid ?? '',
    relaySubDir: r.serverUuid ? `${r.serverUuid}.${String(r.segment ?? 1).padStart(6, '0')}` : '',
    relayBinlog: dmPos(r.relayPos),
    relayBinlogGtid: r.relayPos?.gtid ?? '',
    relayCatchUpMaster: caughtUp,
    stage: r.stage,
    result: r.error ? { isCanceled: false, errors: [dmProcessError(r.error, 'relay')], detail: null } : null,
  };
}

/** Why a source's status cannot be trusted as live, in DM's per-source `msg` (its `result` is then false). */
function sourceProblem(s: SourceView): string {
  if (!s.agent) return `no agent has reported subtask ${s.task} of source ${s.source} yet`;
  if (!s.agentAlive) return `agent ${s.agent} bound to source ${s.source} is offline; its last report is shown`;
  return '';
}

/** `query-status TASK` (or `--more`): DM's QueryStatusListResponse, one entry per source, sorted by source. */
export function dmStatusList(views: TaskView[], relays: RelayStatus[]) {
  const bySource = new Map<string, { task: TaskView; s: SourceView }[]>();
  for (const v of views)
    for (const s of v.sources) bySource.set(s.source, [...(bySource.get(s.source) ?? []), { task: v, s }]);
  const relayOf = new Map(relays.map((r) => [r.source, r]));
  for (const r of relays) if (!bySource.has(r.source)) bySource.set(r.source, []);
  const sources = [...bySource.keys()].sort().map((source) => {
    const subs = bySource.get(source)!;
    const relay = relayOf.get(source);
    const problems = [...new Set(subs.map((x) => sourceProblem(x.s)).filter(Boolean))];
    return {
      result: problems.length === 0,
      msg: problems.join('; '),
      sourceStatus: {
        source,
        worker: subs.find((x) => x.s.agent)?.s.agent ?? relay?.agent ?? '',
        result: null,
        relayStatus: relay ? dmRelayStatus(relay) : null,
      },
      subTaskStatus: subs.map((x) => dmSubTaskStatus(x.task, x.s, relay)),
    };
  });
  return { result: true, msg: '', sources };
}

type DmStatusList = ReturnType<typeof dmStatusList>;

/**
 * `query-status` without a task: DM's task list, each task's status from its subtasks by dmctl's rule (an error in
 * a paused subtask; a running sync whose relay is paused or stopped; any paused; all New / Finished / Stopped; else
 * Running). Like DM's dmctl, a source whose result is false makes it print the full list instead (`full`).
 */
export function dmTaskList(list: DmStatusList): {
  full: boolean;
  doc: { result: boolean; msg: string; tasks: { taskName: string; taskStatus: string; sources: string[] }[] };
} {
  const status = new Map<string, string>();
  const sources = new Map<string, string[]>();
  for (const src of list.sources) {
    const relay = src.sourceStatus.relayStatus;
    for (const st of src.subTaskStatus) {
      const cur = status.get(st.name) ?? '';
      sources.set(st.name, [...(sources.get(st.name) ?? []), src.sourceStatus.source]);
      if (cur.startsWith('Error')) continue;
      if (st.stage === 'Paused' && (st.result?.errors.length ?? 0) > 0)
        status.set(st.name, 'Error - Some error occurred in subtask');
      else if (st.unit === 'Sync' && st.stage === 'Running' && relay && relay.stage !== 'Running')
        status.set(st.name, `Error - Relay status is ${relay.result ? 'Error' : relay.stage}`);
      else if (cur === 'Paused') continue;
      else if (cur === '' || st.stage === 'Paused') status.set(st.name, st.stage);
      else if (cur !== st.stage) status.set(st.name, 'Running');
    }
  }
  const tasks = [...status.entries()].map(([taskName, s]) => ({
    taskName,
    taskStatus: s.startsWith('Error') ? `${s}. Please run \`query-status ${taskName}\` to get more details.` : s,
    sources: sources.get(taskName) ?? [],
  }));
  return {
    full: list.sources.some((s) => !s.result),
    doc: { result: list.result, msg: list.msg, tasks },
  };
}
