import type { DesiredStage } from '../../src/coord/index.ts';

/**
 * What the user is doing (view, selection, filter, pending confirmation), separate from what the cluster is doing
 * (the read model). `onKey` is pure: it returns the next UI state and at most one effect for App to carry out.
 */

export const VIEWS = ['topology', 'tasks', 'errors', 'locks', 'events'] as const;
export type ViewName = (typeof VIEWS)[number];
export const VIEW_TITLES: Record<ViewName, string> = {
  topology: 'Topology',
  tasks: 'Tasks',
  errors: 'Errors',
  locks: 'Shard locks',
  events: 'Events',
};

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
  confirm?: { action: PendingAction; prompt: string };
  help: boolean;
  message?: Message;
}

/** What the current view's rows mean for the keys: their keys and the task/lock an action would target. */
export interface KeyContext {
  rows: { key: string; task?: string; source?: string; position?: string; statement?: string; lock?: string }[];
  /** Rows that fit on one page (PgUp/PgDn). */
  pageSize: number;
  /** The open detail view's line count and visible height (scrolling). */
  detailLines?: number;
  detailHeight?: number;
  /** Tasks that exist in dm_tasks (p/r/s need one). */
  taskExists(task: string): boolean;
  /** Whether the commands behind `k` and `u` exist yet (see NOT_AVAILABLE). */
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
  return { view, detailScroll: 0, selected, filters, editingFilter: false, help: false };
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

export const NOT_AVAILABLE = {
  skipDdl: 'skipping a failed statement needs `dmctl binlog skip`, which this dmctl does not offer',
  unlock:
    'unlocking a shard-DDL lock needs `dmctl shard-ddl-lock unlock`, which is not available yet (shard locks are not implemented)',
} as const;

export function confirmPrompt(a: PendingAction): string {
  switch (a.kind) {
    case 'stage':
      return `${a.stage === 'Stopped' ? 'Stop' : a.stage === 'Paused' ? 'Pause' : 'Resume'} task ${a.task} (all its sources)?`;
    case 'skip-ddl':
      return `Skip the event ${a.task} is paused on at ${a.source} ${a.position}${a.statement ? `: ${a.statement}` : ''}?`;
    case 'unlock':
      return `Unlock shard-DDL lock ${a.lock}?`;
  }
}

const STAGE_KEYS: Record<string, DesiredStage> = { p: 'Paused', r: 'Running', s: 'Stopped' };

export function onKey(ui: UiState, input: string, key: KeyInput, ctx: KeyContext): { ui: UiState; effect?: Effect } {
  if (key.ctrl && input === 'c') return { ui, effect: { kind: 'quit' } };

  if (ui.help) return { ui: { ...ui, help: false } };

  if (ui.confirm) {
    const action = ui.confirm.action;
    const cleared: UiState = { ...ui };
    delete cleared.confirm;
    if (input === 'y' || input === 'Y')
      return {
        ui: { ...cleared, message: { text: `${describe(action)}…`, tone: 'busy' } },
        effect: { kind: 'run', action },
      };
    return { ui: { ...cleared, message: { text: 'cancelled', tone: 'info' } } };
  }

  if (ui.editingFilter) {
    if (key.escape) return { ui: { ...withFilter(ui, ''), editingFilter: false } };
    if (key.return) return { ui: { ...ui, editingFilter: false } };
    if (key.backspace || key.delete) return { ui: withFilter(ui, Array.from(filterOf(ui)).slice(0, -1).join('')) };
    if (input && !key.ctrl && !key.meta && !/[\u0000-\u001f]/.test(input))
      return { ui: withFilter(ui, filterOf(ui) + input) };
    return { ui };
  }

  const next: UiState = { ...ui };
  delete next.message;

  if (input === 'q') return { ui: next, effect: { kind: 'quit' } };
  if (input === '?') return { ui: { ...next, help: true } };
  const byNumber = /^[1-9]$/.test(input) && Number(input) <= VIEWS.length;
  if (key.tab || byNumber) {
    const i = VIEWS.indexOf(ui.view);
    const to = byNumber ? VIEWS[Number(input) - 1]! : VIEWS[(i + (key.shift ? VIEWS.length - 1 : 1)) % VIEWS.length]!;
    const moved: UiState = { ...next, view: to, detailScroll: 0 };
    delete moved.detail;
    return { ui: moved };
  }
  if (input === '/') return { ui: { ...next, editingFilter: true } };

  const keys = ctx.rows.map((r) => r.key);
  const sel = ui.detail !== undefined ? keys.indexOf(ui.detail) : selectedIndex(ui.selected[ui.view], keys);
  const row = sel >= 0 ? ctx.rows[sel] : undefined;

  if (ui.detail !== undefined) {
    if (key.escape || key.backspace || key.leftArrow) {
      const back: UiState = { ...next, detailScroll: 0 };
      delete back.detail;
      return { ui: back };
    }
    const max = Math.max(0, (ctx.detailLines ?? 0) - (ctx.detailHeight ?? 0));
    const page = Math.max(1, (ctx.detailHeight ?? 1) - 1);
    const scroll = (d: number) => ({ ui: { ...next, detailScroll: Math.min(max, Math.max(0, ui.detailScroll + d)) } });
    if (key.upArrow) return scroll(-1);
    if (key.downArrow) return scroll(1);
    if (key.pageUp) return scroll(-page);
    if (key.pageDown || input === ' ') return scroll(page);
    // In a task's detail `k` is "skip the failed DDL" (in lists it moves the selection up).
    if (input === 'k' && ui.view === 'tasks') return skipDdl(next, row, ctx.can.skipDdl);
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
    if (key.return) {
      if (!row) return { ui: { ...next, message: { text: 'nothing selected', tone: 'info' } } };
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
    if (ui.view !== 'tasks' && ui.view !== 'errors')
      return {
        ui: {
          ...next,
          message: { text: 'p, r and s act on a task: select one in the Tasks or Errors view', tone: 'info' },
        },
      };
    if (!row?.task) return { ui: { ...next, message: { text: 'select a task first', tone: 'info' } } };
    if (!ctx.taskExists(row.task))
      return { ui: { ...next, message: { text: `task ${row.task} no longer exists`, tone: 'error' } } };
    const action: PendingAction = { kind: 'stage', task: row.task, stage };
    if (stage === 'Stopped') return { ui: { ...next, confirm: { action, prompt: confirmPrompt(action) } } };
    return {
      ui: { ...next, message: { text: `${describe(action)}…`, tone: 'busy' } },
      effect: { kind: 'run', action },
    };
  }
  if (input === 'u') {
    if (ui.view !== 'locks')
      return {
        ui: {
          ...next,
          message: { text: 'u unlocks a shard-DDL lock: select one in the Shard locks view', tone: 'info' },
        },
      };
    if (!ctx.can.unlock) return { ui: { ...next, message: { text: NOT_AVAILABLE.unlock, tone: 'info' } } };
    if (!row?.lock) return { ui: { ...next, message: { text: 'select a shard-DDL lock first', tone: 'info' } } };
    const action: PendingAction = { kind: 'unlock', lock: row.lock };
    return { ui: { ...next, confirm: { action, prompt: confirmPrompt(action) } } };
  }
  return { ui: next };
}

function skipDdl(next: UiState, row: KeyContext['rows'][number] | undefined, available: boolean): { ui: UiState } {
  if (!row?.task || !row.source) return { ui: { ...next, message: { text: 'select a task first', tone: 'info' } } };
  if (!available) return { ui: { ...next, message: { text: NOT_AVAILABLE.skipDdl, tone: 'info' } } };
  if (!row.position)
    return {
      ui: {
        ...next,
        message: {
          text: `${row.task} on ${row.source} is not paused on a binlog event; nothing to skip`,
          tone: 'info',
        },
      },
    };
  const action: PendingAction = {
    kind: 'skip-ddl',
    task: row.task,
    source: row.source,
    position: row.position,
    ...(row.statement ? { statement: row.statement } : {}),
  };
  return { ui: { ...next, confirm: { action, prompt: confirmPrompt(action) } } };
}

export function describe(a: PendingAction): string {
  switch (a.kind) {
    case 'stage':
      return `${a.stage === 'Stopped' ? 'stopping' : a.stage === 'Paused' ? 'pausing' : 'resuming'} task ${a.task}`;
    case 'skip-ddl':
      return `skipping the event ${a.task} is paused on at ${a.source} ${a.position}`;
    case 'unlock':
      return `unlocking ${a.lock}`;
  }
}
