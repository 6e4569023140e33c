import type { DesiredStage } from '../../src/coord/index.ts';
import type { KeyRow } from './tables.ts';
import type { Effect, KeyContext, PendingAction, UiState } from './ui-state.ts';

/**
 * What p / r / s / x / u ask for, shared by the keys and the `:` command line (`:pause TASK` does what `p` does on
 * TASK's row): the action, a confirmation first where a key asks one, or a line saying why nothing happens.
 */

export type KeyResult = { ui: UiState; effect?: Effect };

export const NOT_AVAILABLE = {
  skipDdl: 'skipping a failed statement needs `dmctl binlog skip`, which this cluster connection does not offer',
  unlock:
    'unlocking a shard-DDL lock needs `dmctl shard-ddl-lock unlock`, which this cluster connection does not offer',
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

/** What `n` (or any key but y) leaves undone, said plainly. */
export function cancelled(a: PendingAction): string {
  switch (a.kind) {
    case 'stage':
      return `cancelled: task ${a.task} stays as it is`;
    case 'skip-ddl':
      return `cancelled: the event at ${a.source} ${a.position} is not skipped`;
    case 'unlock':
      return `cancelled: ${a.lock} stays locked`;
  }
}

export const info = (ui: UiState, text: string): KeyResult => ({ ui: { ...ui, message: { text, tone: 'info' } } });
export const fail = (ui: UiState, text: string): KeyResult => ({ ui: { ...ui, message: { text, tone: 'error' } } });

function ask(ui: UiState, action: PendingAction): KeyResult {
  return { ui: { ...ui, confirm: { action, prompt: confirmPrompt(action) } } };
}

export function runNow(ui: UiState, action: PendingAction): KeyResult {
  return { ui: { ...ui, message: { text: `${describe(action)}…`, tone: 'busy' } }, effect: { kind: 'run', action } };
}

/** p / r / s (`:pause` `:resume` `:stop`): pause and resume at once, stop after a y. */
export function stageAction(ui: UiState, task: string | undefined, stage: DesiredStage, ctx: KeyContext): KeyResult {
  if (!task) return info(ui, 'select a task first');
  if (!ctx.taskExists(task)) return fail(ui, `task ${task} no longer exists`);
  const action: PendingAction = { kind: 'stage', task, stage };
  return stage === 'Stopped' ? ask(ui, action) : runNow(ui, action);
}

/** x (`:skip`): the event the subtask is paused on, named by its position, after a y. */
export function skipAction(ui: UiState, row: KeyRow | undefined, ctx: KeyContext): KeyResult {
  if (!row?.task || !row.source) return info(ui, 'select a task first');
  if (!ctx.can.skipDdl) return info(ui, NOT_AVAILABLE.skipDdl);
  if (!row.position) return info(ui, `${row.task} on ${row.source} is not paused on a binlog event; nothing to skip`);
  return ask(ui, {
    kind: 'skip-ddl',
    task: row.task,
    source: row.source,
    position: row.position,
    ...(row.statement ? { statement: row.statement } : {}),
  });
}

/** u (`:unlock`): a shard-DDL lock, after a y. */
export function unlockAction(ui: UiState, lock: string | undefined, ctx: KeyContext): KeyResult {
  if (!ctx.can.unlock) return info(ui, NOT_AVAILABLE.unlock);
  if (!lock) return info(ui, 'select a shard-DDL lock first');
  return ask(ui, { kind: 'unlock', lock });
}
