import { Keys, type RelayStatus } from '../../src/coord/index.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { agentColumns, errorColumns, eventColumns, lockColumns, RELAY_COLUMNS, TASK_COLUMNS } from './columns.ts';
import type { Column, SortSpec } from './DataTable.tsx';
import { oneLine } from './format.ts';
import type { DashboardState, ErrorEntry } from './read-model.ts';
import {
  agentRows,
  errorRows,
  eventRows,
  lockRows,
  relayRows,
  taskRows,
  type AgentRow,
  type LockRow,
  type TaskRow,
} from './selectors.ts';
import type { ViewName } from './ui-state.ts';

/**
 * A list view as data: its rows, its columns and what each row means to the keys. The view draws `shownRows`, the
 * keys move over the same rows in the same order (`keyRows`), so filter and sort never disagree with the screen.
 */

/** What a row means to the keys: a stable key, and the task, source, failed event or lock an action would act on. */
export interface KeyRow {
  key: string;
  task?: string;
  source?: string;
  position?: string;
  statement?: string;
  lock?: string;
}

export interface TableDef<R> {
  columns(now: number): Column<R>[];
  /** The selector's rows; with a filter, those it matches by name (fields not shown as a cell count too). */
  rows(s: DashboardState, filter?: string): R[];
  keyRow(r: R): KeyRow;
}

/** The binlog event a subtask is paused on, as `dmctl binlog skip` finds it: the error's position (and statement). */
function failedEvent(err: ErrorRecord | undefined): { position?: string; statement?: string } {
  const c = err?.context;
  if (!c?.position) return {};
  return { position: c.position, ...(c.sql ? { statement: c.sql } : {}) };
}

export const TASK_TABLE: TableDef<TaskRow> = {
  columns: () => TASK_COLUMNS,
  rows: taskRows,
  keyRow: (r) => ({ key: r.key, task: r.task, source: r.source, ...failedEvent(r.error) }),
};
export const AGENT_TABLE: TableDef<AgentRow> = {
  columns: agentColumns,
  rows: agentRows,
  keyRow: (a) => ({ key: a.key }),
};
export const ERROR_TABLE: TableDef<ErrorEntry> = {
  columns: errorColumns,
  rows: errorRows,
  keyRow: (e) => ({ key: e.id, task: e.task, source: e.source, ...(e.pausing ? failedEvent(e.record) : {}) }),
};
export const LOCK_TABLE: TableDef<LockRow> = {
  columns: lockColumns,
  rows: lockRows,
  keyRow: (l) => ({ key: l.key, task: l.task, lock: l.key }),
};
export const EVENT_TABLE: TableDef<DmEvent> = {
  columns: eventColumns,
  rows: eventRows,
  keyRow: (e) => ({ key: e.id }),
};
export const RELAY_TABLE: TableDef<RelayStatus> = {
  columns: () => RELAY_COLUMNS,
  rows: relayRows,
  keyRow: (r) => ({ key: Keys.relayStatus(r.source), source: r.source }),
};

/** The rows a view shows: the selector's order, filtered by every cell's text, then sorted by one column. */
export function shownRows<R>(
  def: TableDef<R>,
  s: DashboardState,
  filter: string,
  sort: SortSpec | undefined,
): { columns: Column<R>[]; rows: R[] } {
  const columns = def.columns(s.now);
  let rows = def.rows(s);
  if (filter) {
    const f = filter.toLowerCase();
    const named = new Set(def.rows(s, filter).map((r) => def.keyRow(r).key));
    rows = rows.filter(
      (r) => named.has(def.keyRow(r).key) || columns.some((c) => oneLine(c.value(r)).toLowerCase().includes(f)),
    );
  }
  const col = sort ? columns[sort.column] : undefined;
  if (sort && col) {
    const by = col.sort ?? col.value;
    const dir = sort.desc ? -1 : 1;
    // Array.prototype.sort is stable: equal cells keep the selector's order (by name, or newest first).
    rows = rows
      .map((r) => ({ r, v: by(r) }))
      .sort((a, b) => dir * compare(a.v, b.v))
      .map((x) => x.r);
  }
  return { columns, rows };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/** The view's table with its row type erased: what the keys and the `:` command line need. */
export interface AnyTable {
  headers(s: DashboardState): string[];
  keyRows(s: DashboardState, filter: string, sort: SortSpec | undefined): KeyRow[];
}

function erase<R>(def: TableDef<R>): AnyTable {
  return {
    headers: (s) => def.columns(s.now).map((c) => c.header),
    keyRows: (s, filter, sort) => shownRows(def, s, filter, sort).rows.map((r) => def.keyRow(r)),
  };
}

export const TABLES: Record<ViewName, AnyTable> = {
  topology: erase(AGENT_TABLE),
  tasks: erase(TASK_TABLE),
  errors: erase(ERROR_TABLE),
  locks: erase(LOCK_TABLE),
  events: erase(EVENT_TABLE),
  relays: erase(RELAY_TABLE),
};

export function taskExists(s: DashboardState, task: string): boolean {
  return s.tasks[Keys.task(task)] !== undefined;
}
