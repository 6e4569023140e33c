import type { TaskConfig } from './types.ts';

/** DM checking items (dm/config/checking_item.go) whose tsdm precheck `ignore-checking-items` can turn off. */
export type SkippableCheck = 'conn_number' | 'meta_position';

/** True when the task's ignore-checking-items names the item or `all` (DM's meaning: skip every check). */
export function ignored(task: TaskConfig, item: SkippableCheck): boolean {
  const list = task.ignoreCheckingItems ?? [];
  return list.includes(item) || list.includes('all');
}
