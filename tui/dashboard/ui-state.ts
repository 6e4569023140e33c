import type { DesiredStage } from '../../src/coord/index.ts';
import { complete, runCommand } from './command-line.ts';
import type { SortSpec } from './DataTable.tsx';
import type { KeyRow } from './tables.ts';
import { VIEWS, type ViewName } from './views.ts';
import { cancelled, fail, info, runNow, skipAction, stageAction, unlockAction, type KeyResult } from './ui-actions.ts';

export { confirmPrompt, describe, NOT_AVAILABLE } from './ui-actions.ts';

/**
 * What the user is doing (view, selection, filter, pending confirmation), separate from what the cluster is doing
 * (the read model). `onKey` is pure: it returns the next UI state and at most one effect for App to carry out.
 */

export { VIEWS, VIEW_TITLES, type ViewName } from './views.ts';

export type PendingAction =
  | { kind: 'stage'; task: string; stage: DesiredStage }
  | { kind: 'skip-ddl'; task: string; source: string; position: string; statement?: string }
  | { kind: 'unlock'; lock: string };

export type Effect = { kind: 'quit' } | { kind: 'run'; action: PendingAction };

export interface Message {
  text: string;
  tone: 'info' | 'error' | 'busy';
}

export interface Selection {
  key?: string;
  index: number;
}

export interface UiState {
  view: ViewName;
  /** A detail view is open for this row key of the current view. */
  detail?: string;
  detailScroll: number;
  selected: Record<ViewName, Selection>;
  /** Each view keeps its own name filter (task names mean nothing in Topology). */
  filters: Record<ViewName, string>;
  editingFilter: boolean;
  /** Each view keeps its own sort (absent: the view's natural order). */
  sorts: Partial<Record<ViewName, SortSpec>>;
  /** The `:` command line being typed (absent: not typing one). */
  command?: string;
  confirm?: { action: PendingAction; prompt: string };
  help: boolean;
  message?: Message;
}

/** What the current view's rows mean for the keys: their keys and the task/lock an action would target. */
export interface KeyContext {
  rows: KeyRow[];
  /** The current view's column headings (sort keys, `:sort` names). */
  headers?: string[];
  /** Every subtask as the Tasks view's rows (`:pause TASK`, `:skip TASK` and Tab find tasks in any view). */
  subtasks?: KeyRow[];
  /** Rows that fit on one page (PgUp/PgDn). */
  pageSize: number;
  /** The open detail view's line count and visible height (scrolling). */
  detailLines?: number;
  detailHeight?: number;
  /** Tasks that exist in dm_tasks (p/r/s need one). */
  taskExists(task: string): boolean;
  /** Whether this connection offers what `x` and `u` need (see NOT_AVAILABLE). */
  can: { skipDdl: boolean; unlock: boolean };
}

export interface KeyInput {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
  meta?: boolean;
}

/**
 * Ink hands over typeahead as one chunk ("j\r" when keys arrive together, as over a slow SSH link or from tmux
 * send-keys) and only splits escape sequences. Plain chunks are split here into one key each.
 */
export function splitKeys(input: string, key: KeyInput): [string, KeyInput][] {
  const special =
    key.upArrow ||
    key.downArrow ||
    key.leftArrow ||
    key.rightArrow ||
    key.pageUp ||
    key.pageDown ||
    key.home ||
    key.end ||
    key.ctrl ||
    key.meta ||
    key.escape;
  const chars = Array.from(input);
  if (special || chars.length <= 1) return [[input, key]];
  return chars.map((ch): [string, KeyInput] => {
    if (ch === '\r' || ch === '\n') return ['', { return: true }];
    if (ch === '\t') return ['', { tab: true }];
    if (ch === '\x7f' || ch === '\b') return ['', { backspace: true }];
    return [ch, {}];
  });
}

export function initialUi(view: ViewName = 'tasks'): UiState {
  const selected = Object.fromEntries(VIEWS.map((v) => [v, { index: 0 }])) as Record<ViewName, Selection>;
  const filters = Object.fromEntries(VIEWS.map((v) => [v, ''])) as Record<ViewName, string>;
  return { view, detailScroll: 0, selected, filters, sorts: {}, editingFilter: false, help: false };
}

export function filterOf(ui: UiState): string {
  return ui.filters[ui.view];
}

function withFilter(ui: UiState, filter: string): UiState {
  return { ...ui, filters: { ...ui.filters, [ui.view]: filter } };
}

/** Index of the selection among `keys`: the same row if it is still there, else the same position. */
export function selectedIndex(sel: Selection, keys: string[]): number {
  if (keys.length === 0) return -1;
  const at = sel.key === undefined ? -1 : keys.indexOf(sel.key);
  return at >= 0 ? at : Math.min(Math.max(0, sel.index), keys.length - 1);
}

const STAGE_KEYS: Record<string, DesiredStage> = { p: 'Paused', r: 'Running', s: 'Stopped' };
const TASK_VIEWS: ViewName[] = ['tasks', 'errors'];

/** Typing a text line (the filter or the command): printable keys only. */
const printable = (input: string, key: KeyInput) => !!input && !key.ctrl && !key.meta && !/[\u0000-\u001f]/.test(input);

/** `<` `>` walk the sort column over the view's columns and back to unsorted; `S` reverses (sorting by the first). */
function sortKey(ui: UiState, input: string, columns: number): UiState {
  const cur = ui.sorts[ui.view];
  const sorts = { ...ui.sorts };
  if (input === 'S') sorts[ui.view] = cur ? { ...cur, desc: !cur.desc } : { column: 0, desc: true };
  else {
    const pos = cur ? cur.column : input === '>' ? -1 : columns;
    const to = pos + (input === '>' ? 1 : -1);
    if (to < 0 || to >= columns) delete sorts[ui.view];
    else sorts[ui.view] = { column: to, desc: cur?.desc ?? false };
  }
  return { ...ui, sorts };
}

export function onKey(ui: UiState, input: string, key: KeyInput, ctx: KeyContext): KeyResult {
  if (key.ctrl && input === 'c') return { ui, effect: { kind: 'quit' } };

  if (ui.help) return { ui: { ...ui, help: false } };

  if (ui.confirm) {
    const action = ui.confirm.action;
    const cleared: UiState = { ...ui };
    delete cleared.confirm;
    if (input === 'y' || input === 'Y') return runNow(cleared, action);
    return info(cleared, cancelled(action));
  }

  const keys = ctx.rows.map((r) => r.key);
  const sel = ui.detail !== undefined ? keys.indexOf(ui.detail) : selectedIndex(ui.selected[ui.view], keys);
  const row = sel >= 0 ? ctx.rows[sel] : undefined;

  if (ui.command !== undefined) {
    const closed: UiState = { ...ui };
    delete closed.command;
    if (key.escape) return { ui: closed };
    if (key.return) return runCommand(closed, ui.command, ctx, row);
    if (key.tab) {
      const c = complete(ui.command, ctx);
      const next: UiState = { ...ui, command: c.line };
      if (c.candidates.length > 1) return info(next, c.candidates.join(' '));
      if (c.candidates.length === 0) return fail(next, `nothing completes "${ui.command}"`);
      delete next.message;
      return { ui: next };
    }
    if (key.backspace || key.delete)
      return ui.command === ''
        ? { ui: closed }
        : { ui: { ...ui, command: Array.from(ui.command).slice(0, -1).join('') } };
    if (printable(input, key)) return { ui: { ...ui, command: ui.command + input } };
    return { ui };
  }

  if (ui.editingFilter) {
    if (key.escape) return { ui: { ...withFilter(ui, ''), editingFilter: false } };
    if (key.return) return { ui: { ...ui, editingFilter: false } };
    if (key.backspace || key.delete) return { ui: withFilter(ui, Array.from(filterOf(ui)).slice(0, -1).join('')) };
    if (printable(input, key)) return { ui: withFilter(ui, filterOf(ui) + input) };
    return { ui };
  }

  const next: UiState = { ...ui };
  delete next.message;

  if (input === 'q') return { ui: next, effect: { kind: 'quit' } };
  if (input === '?') return { ui: { ...next, help: true } };
  if (input === ':') return { ui: { ...next, command: '' } };
  const byNumber = /^[1-9]$/.test(input) && Number(input) <= VIEWS.length;
  if (key.tab || byNumber) {
    const i = VIEWS.indexOf(ui.view);
    const to = byNumber ? VIEWS[Number(input) - 1]! : VIEWS[(i + (key.shift ? VIEWS.length - 1 : 1)) % VIEWS.length]!;
    const moved: UiState = { ...next, view: to, detailScroll: 0 };
    delete moved.detail;
    return { ui: moved };
  }
  if (input === '/') return { ui: { ...next, editingFilter: true } };
  if (input === '<' || input === '>' || input === 'S') {
    const columns = ctx.headers?.length ?? 0;
    if (columns === 0) return info(next, 'nothing to sort here');
    return { ui: sortKey(next, input, columns) };
  }

  if (ui.detail !== undefined) {
    // The same keys as in a list: back is Esc, h, ←, Backspace; j k ↑ ↓ scroll; g G top and bottom.
    if (key.escape || key.backspace || key.leftArrow || input === 'h') {
      const back: UiState = { ...next, detailScroll: 0 };
      delete back.detail;
      return { ui: back };
    }
    const max = Math.max(0, (ctx.detailLines ?? 0) - (ctx.detailHeight ?? 0));
    const page = Math.max(1, (ctx.detailHeight ?? 1) - 1);
    const scrollTo = (to: number) => ({ ui: { ...next, detailScroll: Math.min(max, Math.max(0, to)) } });
    if (key.upArrow || input === 'k') return scrollTo(ui.detailScroll - 1);
    if (key.downArrow || input === 'j') return scrollTo(ui.detailScroll + 1);
    if (key.pageUp) return scrollTo(ui.detailScroll - page);
    if (key.pageDown || input === ' ') return scrollTo(ui.detailScroll + page);
    if (key.home || input === 'g') return scrollTo(0);
    if (key.end || input === 'G') return scrollTo(max);
  } else {
    const move = (to: number) => {
      if (keys.length === 0) return { ui: next };
      const i = Math.min(Math.max(0, to), keys.length - 1);
      return { ui: { ...next, selected: { ...ui.selected, [ui.view]: { key: keys[i], index: i } } } };
    };
    const cur = Math.max(0, sel);
    if (key.upArrow || input === 'k') return move(cur - 1);
    if (key.downArrow || input === 'j') return move(cur + 1);
    if (key.pageUp) return move(cur - ctx.pageSize);
    if (key.pageDown) return move(cur + ctx.pageSize);
    if (key.home || input === 'g') return move(0);
    if (key.end || input === 'G') return move(keys.length - 1);
    if (key.return || key.rightArrow || input === 'l') {
      if (!row) return info(next, 'nothing selected');
      return {
        ui: {
          ...next,
          detail: row.key,
          detailScroll: 0,
          selected: { ...ui.selected, [ui.view]: { key: row.key, index: sel } },
        },
      };
    }
    if (key.escape && filterOf(ui)) return { ui: withFilter(next, '') };
  }

  const stage = STAGE_KEYS[input];
  if (stage) {
    if (!TASK_VIEWS.includes(ui.view))
      return info(next, 'p, r and s act on a task: select one in the Tasks or Errors view (or :pause TASK)');
    return stageAction(next, row?.task, stage, ctx);
  }
  if (input === 'x') {
    if (!TASK_VIEWS.includes(ui.view))
      return info(next, 'x skips the event a subtask is paused on: select it in the Tasks or Errors view');
    return skipAction(next, row, ctx);
  }
  if (input === 'u') {
    if (ui.view !== 'locks') return info(next, 'u unlocks a shard-DDL lock: select one in the Shard locks view');
    return unlockAction(next, row?.lock, ctx);
  }
  return { ui: next };
}
