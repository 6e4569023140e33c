import type { KeyRow } from './tables.ts';
import { fail, info, skipAction, stageAction, unlockAction, type KeyResult } from './ui-actions.ts';
import type { KeyContext, UiState } from './ui-state.ts';
import { VIEWS, VIEW_TITLES, type ViewName } from './views.ts';

/**
 * The `:` command line: the keys' actions by name, for a task that is not selected or not on screen (`:pause crm`),
 * plus sort, filter, views, help and quit. Tab completes a command, a task, a lock or a column; an unknown command is
 * an error that lists the known ones. Nothing here runs anything the keys could not.
 */

const ACTIONS = ['pause', 'resume', 'stop', 'skip', 'unlock'] as const;
const OTHERS = ['sort', 'filter', 'help', 'quit', 'q'] as const;
export const COMMANDS: readonly string[] = [...ACTIONS, ...OTHERS, ...VIEWS];

export const COMMAND_HELP: [string, string][] = [
  [':pause|:resume|:stop [TASK]', 'as p / r / s (the selected task without TASK)'],
  [':skip [TASK [SOURCE]]', 'as x: skip the event a subtask is paused on, after y'],
  [':unlock [LOCK]  :sort [COL] [desc]', 'as u; sort (no COL: unsorted)'],
  [':filter [TEXT]  :VIEW  :q', 'filter (none: clears); a view (:relays); quit'],
];

function resolveCommand(word: string): string | undefined {
  const w = word.toLowerCase();
  if (COMMANDS.includes(w)) return w;
  const byPrefix = COMMANDS.filter((c) => c.startsWith(w));
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

function openView(ui: UiState, view: ViewName): UiState {
  const moved: UiState = { ...ui, view, detailScroll: 0 };
  delete moved.detail;
  return moved;
}

/** Runs one command line. `row` is the selected row (or the open detail's), the default target. */
export function runCommand(ui: UiState, line: string, ctx: KeyContext, row: KeyRow | undefined): KeyResult {
  const [word = '', ...args] = line.trim().split(/\s+/);
  if (!word) return { ui };
  const cmd = resolveCommand(word);
  if (!cmd) return fail(ui, `unknown command :${word} (commands: ${COMMANDS.join(' ')}; Tab completes)`);
  if ((VIEWS as readonly string[]).includes(cmd)) return { ui: openView(ui, cmd as ViewName) };
  const tasks = ctx.subtasks ?? [];
  switch (cmd) {
    case 'q':
    case 'quit':
      return { ui, effect: { kind: 'quit' } };
    case 'help':
      return { ui: { ...ui, help: true } };
    case 'pause':
    case 'resume':
    case 'stop':
      return stageAction(
        ui,
        args[0] ?? row?.task,
        cmd === 'pause' ? 'Paused' : cmd === 'resume' ? 'Running' : 'Stopped',
        ctx,
      );
    case 'skip': {
      if (!args[0]) return skipAction(ui, row, ctx);
      const mine = tasks.filter((t) => t.task === args[0] && (!args[1] || t.source === args[1]));
      if (mine.length === 0) return fail(ui, `no subtask ${args[0]}${args[1] ? ` on ${args[1]}` : ''}`);
      const failed = mine.filter((t) => t.position);
      if (failed.length > 1)
        return info(
          ui,
          `${args[0]} is paused on an event on ${failed.map((t) => t.source).join(', ')}: say which, :skip ${args[0]} SOURCE`,
        );
      return skipAction(ui, failed[0] ?? mine[0], ctx);
    }
    case 'unlock':
      return unlockAction(ui, args[0] ?? row?.lock, ctx);
    case 'filter':
      return { ui: { ...ui, filters: { ...ui.filters, [ui.view]: args.join(' ') } } };
    case 'sort': {
      const sorts = { ...ui.sorts };
      if (!args[0]) {
        delete sorts[ui.view];
        return { ui: { ...ui, sorts } };
      }
      const headers = ctx.headers ?? [];
      const want = args[0].toLowerCase();
      const exact = headers.findIndex((h) => h.toLowerCase() === want);
      const prefixed = headers.flatMap((h, i) => (h.toLowerCase().startsWith(want) ? [i] : []));
      const column = exact >= 0 ? exact : prefixed.length === 1 ? prefixed[0]! : -1;
      if (column < 0)
        return fail(ui, `${VIEW_TITLES[ui.view]} has no column ${args[0]} (columns: ${headers.join(', ')})`);
      sorts[ui.view] = { column, desc: /^desc/i.test(args[1] ?? '') };
      return { ui: { ...ui, sorts } };
    }
  }
  return fail(ui, `unknown command :${word}`);
}

function commonPrefix(xs: string[]): string {
  if (xs.length === 0) return '';
  let p = xs[0]!;
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/** Tab: the line completed as far as it is unambiguous, and the candidates when there are several. */
export function complete(line: string, ctx: KeyContext): { line: string; candidates: string[] } {
  const parts = line.split(' ');
  const last = parts.at(-1) ?? '';
  let pool: string[];
  if (parts.length === 1) pool = [...COMMANDS];
  else {
    const cmd = resolveCommand(parts[0]!) ?? '';
    const tasks = ctx.subtasks ?? [];
    if (cmd === 'skip' && parts.length === 3)
      pool = tasks.filter((t) => t.task === parts[1]).flatMap((t) => (t.source ? [t.source] : []));
    else if (parts.length > 2) pool = [];
    else if (['pause', 'resume', 'stop', 'skip'].includes(cmd))
      pool = [...new Set(tasks.flatMap((t) => (t.task ? [t.task] : [])))];
    else if (cmd === 'unlock') pool = ctx.rows.flatMap((r) => (r.lock ? [r.lock] : []));
    else if (cmd === 'sort') pool = ctx.headers ?? [];
    else pool = [];
  }
  const candidates = pool.filter((c) => c.toLowerCase().startsWith(last.toLowerCase())).sort();
  if (candidates.length === 0) return { line, candidates };
  const done = candidates.length === 1 ? `${candidates[0]} ` : commonPrefix(candidates);
  return { line: [...parts.slice(0, -1), done.length >= last.length ? done : last].join(' '), candidates };
}
