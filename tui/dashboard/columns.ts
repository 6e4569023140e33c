import type { RelayStatus } from '../../src/coord/index.ts';
import { showPos } from '../../src/binlog/position.ts';
import { percentText as percent } from '../../src/coord/status-derive.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { eventMessage, eventSubject } from '../../src/events/format.ts';
import type { Column } from './DataTable.tsx';
import { ago, count, duration } from './format.ts';
import type { ErrorEntry } from './read-model.ts';
import type { AgentRow, LockRow, TaskRow } from './selectors.ts';

/**
 * The columns of every list view, in one pure module: the views draw them, and the keys filter and sort by the same
 * cells (`/` keeps rows whose cells contain the text; `<` `>` `S` sort by a column), so what is on screen is what is
 * matched. `sort` gives the value a column orders by when its text does not (durations, rates, ages).
 */

/** Progress in words: load as percent and chunks, sync as caught up or not (only while it runs: else `stale`). */
export function progressText(r: TaskRow): string {
  const st = r.status;
  if (!st) return '-';
  if (st.unit === 'sync' && r.sync)
    return r.sync.state === 'synced' ? 'in sync' : r.sync.state === 'catching-up' ? 'catching up' : 'stale';
  if (st.load) return `${percent(st.load.doneRows, st.load.totalRows)} ${st.load.doneChunks}/${st.load.totalChunks}ch`;
  return '-';
}

export function stageText(r: TaskRow): string {
  // An agent that is gone reports nothing: its last stage is shown, marked as stale.
  const notes = [
    r.stage === 'Paused' && r.error ? 'error' : '',
    r.agentState === 'gone' || r.agentState === 'left' ? 'agent gone' : '',
  ].filter(Boolean);
  const base = `${r.stage}${notes.length ? ` (${notes.join(', ')})` : ''}`;
  // Finished, or paused by an error, while Running is desired: that is the agent's doing, not a pending change.
  const settled =
    r.desired === r.stage ||
    (r.desired === 'Running' && (r.stage === 'Finished' || (r.stage === 'Paused' && !!r.error)));
  return settled ? base : `${base} →${r.desired}`;
}

const num = (n: number | undefined) => n ?? -1;

export const TASK_COLUMNS: Column<TaskRow>[] = [
  { header: 'task', min: 8, max: 40, priority: 100, flex: true, value: (r) => r.task },
  { header: 'source', min: 6, max: 24, priority: 90, flex: true, value: (r) => r.source },
  { header: 'stage', min: 7, max: 32, priority: 95, value: stageText },
  { header: 'unit', min: 4, priority: 48, value: (r) => r.unit },
  {
    header: 'progress',
    min: 7,
    max: 16,
    priority: 80,
    value: progressText,
    sort: (r) => (r.status?.load ? r.status.load.doneRows / Math.max(1, r.status.load.totalRows) : -1),
  },
  {
    header: 'rows/s',
    min: 6,
    priority: 45,
    align: 'right',
    value: (r) => (r.rowsPerSecond === undefined ? '-' : count(r.rowsPerSecond)),
    sort: (r) => num(r.rowsPerSecond),
  },
  {
    header: 'lag',
    min: 4,
    priority: 62,
    align: 'right',
    value: (r) => duration(r.lagSeconds),
    sort: (r) => num(r.lagSeconds),
  },
  {
    header: 'ETA',
    min: 5,
    priority: 35,
    align: 'right',
    value: (r) => duration(r.etaSeconds),
    sort: (r) => num(r.etaSeconds),
  },
  {
    header: 'agent',
    min: 6,
    max: 24,
    priority: 45,
    flex: true,
    value: (r) =>
      r.agentState === 'alive' || r.agentState === 'none' ? r.agent || '-' : `${r.agent} (${r.agentState})`,
  },
  {
    header: 'last error',
    min: 10,
    ideal: 32,
    priority: 85,
    flex: true,
    value: (r) => (r.error ? `[${r.error.code}] ${r.error.message}` : ''),
  },
];

export function agentColumns(now: number): Column<AgentRow>[] {
  return [
    { header: 'agent', min: 8, max: 32, priority: 100, flex: true, value: (a) => a.name },
    { header: 'role', min: 6, priority: 90, value: (a) => (a.leader ? 'leader' : '-') },
    { header: 'state', min: 5, priority: 95, value: (a) => a.state },
    {
      header: 'heartbeat',
      min: 7,
      priority: 85,
      value: (a) => ago(a.lastSeenAt, now),
      sort: (a) => -(a.lastSeenAt ?? 0),
    },
    { header: 'sources', min: 7, max: 60, priority: 80, flex: true, value: (a) => a.sources.join(',') || '-' },
    { header: 'host', min: 6, max: 32, priority: 60, flex: true, value: (a) => a.host },
    { header: 'version', min: 5, priority: 40, value: (a) => a.version },
    {
      header: 'pid',
      min: 3,
      priority: 30,
      align: 'right',
      value: (a) => (a.pid === undefined ? '-' : String(a.pid)),
      sort: (a) => num(a.pid),
    },
    {
      header: 'up',
      min: 5,
      priority: 20,
      value: (a) => (a.started === undefined ? '-' : ago(a.started, now).replace(' ago', '')),
      sort: (a) => -(a.started ?? now),
    },
  ];
}

export function errorState(e: ErrorEntry): string {
  return e.pausing ? 'paused on' : e.active ? (e.record.warning ? 'warning' : 'retried') : 'cleared';
}

export function errorColumns(now: number): Column<ErrorEntry>[] {
  return [
    { header: 'age', min: 3, priority: 90, value: (e) => ago(e.at, now).replace(' ago', ''), sort: (e) => -e.at },
    { header: 'task', min: 6, max: 32, priority: 95, flex: true, value: (e) => e.task },
    { header: 'source', min: 6, max: 20, priority: 70, flex: true, value: (e) => e.source },
    { header: 'code', min: 9, priority: 85, value: (e) => e.record.code },
    { header: 'state', min: 7, priority: 60, value: errorState },
    { header: 'message', min: 20, ideal: 32, priority: 100, flex: true, value: (e) => e.record.message },
  ];
}

export function lockColumns(now: number): Column<LockRow>[] {
  return [
    { header: 'target', min: 10, max: 48, priority: 100, flex: true, value: (l) => l.target },
    { header: 'task', min: 6, max: 32, priority: 80, flex: true, value: (l) => l.task },
    {
      header: 'shards',
      min: 9,
      priority: 95,
      value: (l) => `${l.reached.length}/${l.reached.length + l.waiting.length} reached`,
      sort: (l) => l.reached.length,
    },
    { header: 'waiting', min: 7, max: 40, priority: 70, flex: true, value: (l) => l.waiting.join(',') || '-' },
    { header: 'owner', min: 6, max: 24, priority: 85, value: (l) => l.owner || '-' },
    {
      header: 'age',
      min: 5,
      priority: 75,
      value: (l) => (l.createdAt === undefined ? '-' : ago(l.createdAt, now).replace(' ago', '')),
      sort: (l) => -(l.createdAt ?? now),
    },
    {
      header: 'DDL',
      min: 10,
      ideal: 32,
      priority: 90,
      flex: true,
      value: (l) => (l.ddls.length ? `${l.ddls.length > 1 ? `(${l.ddls.length}) ` : ''}${l.ddls[0]}` : '-'),
    },
    { header: 'mode', min: 5, priority: 20, value: (l) => l.mode },
  ];
}

/** dm_events as a log, newest first: the severity word leads each row (coloured: error red, warn yellow). */
export function eventColumns(now: number): Column<DmEvent>[] {
  return [
    { header: 'severity', min: 5, priority: 95, value: (e) => e.severity },
    {
      header: 'age',
      min: 3,
      priority: 90,
      value: (e) => ago(Date.parse(e.time), now).replace(' ago', ''),
      sort: (e) => -Date.parse(e.time),
    },
    { header: 'kind', min: 8, max: 20, priority: 98, value: (e) => e.kind },
    { header: 'about', min: 8, max: 48, priority: 80, flex: true, value: (e) => eventSubject(e) || '-' },
    { header: 'message', min: 20, ideal: 40, priority: 100, flex: true, value: eventMessage },
    { header: 'agent', min: 5, max: 20, priority: 40, value: (e) => e.agent ?? '-' },
  ];
}

/**
 * How far the relay is behind the upstream head: bytes within one binlog file, else files; `at head` when equal.
 * Both positions come from one report, so they compare (the head is read about once a second).
 */
export function relayBehind(r: RelayStatus): { text: string; bytes: number } {
  const m = r.master;
  const p = r.relayPos;
  if (!m || !p) return { text: '-', bytes: -1 };
  if (m.name === p.name) {
    const d = Math.max(0, m.pos - p.pos);
    return { text: d === 0 ? 'at head' : bytes(d), bytes: d };
  }
  const files = (n: string) => Number(/\.(\d+)$/.exec(n)?.[1] ?? 0);
  const f = Math.max(0, files(m.name) - files(p.name));
  return { text: `${f} file(s)`, bytes: f * 2 ** 30 + Math.max(0, m.pos) };
}

/** Bytes as `512B`, `8.6K`, `12.0M`, `3.2G` (binary units, one decimal). */
export function bytes(n: number): string {
  if (n < 1024) return `${Math.round(n)}B`;
  const units = ['K', 'M', 'G', 'T'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)}${units[i]}`;
}

export function relayStage(r: RelayStatus): string {
  return `${r.stage}${r.error ? ' (error)' : ''}${r.upstreamPaused ? ' (backpressure)' : ''}`;
}

export const RELAY_COLUMNS: Column<RelayStatus>[] = [
  { header: 'source', min: 6, max: 24, priority: 100, flex: true, value: (r) => r.source },
  { header: 'stage', min: 7, max: 28, priority: 95, value: relayStage },
  { header: 'relay pos', min: 10, max: 28, priority: 85, value: (r) => showPos(r.relayPos) },
  {
    header: 'behind',
    min: 6,
    priority: 90,
    align: 'right',
    value: (r) => relayBehind(r).text,
    sort: (r) => relayBehind(r).bytes,
  },
  { header: 'upstream head', min: 10, max: 28, priority: 60, value: (r) => showPos(r.master) },
  {
    header: 'lag',
    min: 4,
    priority: 62,
    align: 'right',
    value: (r) => duration(r.lagSeconds),
    sort: (r) => r.lagSeconds,
  },
  {
    header: 'size',
    min: 5,
    priority: 70,
    align: 'right',
    value: (r) => bytes(r.size.usedBytes),
    sort: (r) => r.size.usedBytes,
  },
  { header: 'agent', min: 6, max: 24, priority: 65, flex: true, value: (r) => r.agent || '-' },
  {
    header: 'ev/s',
    min: 4,
    priority: 30,
    align: 'right',
    value: (r) => count(r.eventsPerSecond),
    sort: (r) => r.eventsPerSecond,
  },
  {
    header: 'error',
    min: 10,
    ideal: 24,
    priority: 40,
    flex: true,
    value: (r) => (r.error ? `[${r.error.code}] ${r.error.message}` : ''),
  },
];
