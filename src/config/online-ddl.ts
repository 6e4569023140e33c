/**
 * DM's online-ddl settings: `online-ddl: true` (or the deprecated `online-ddl-scheme: gh-ost|pt`, which DM reads
 * as true) turns on the handling of gh-ost / pt-online-schema-change shadow and trash tables; `shadow-table-rules`
 * and `trash-table-rules` are Go regexps on table names whose first capture is the real table's name (DM's
 * defaults below). agent/sync/online-ddl.ts applies them.
 */
import { DmError } from '../errors/index.ts';
import { compileRe2 } from '../filter/re2.ts';
import type { RawTask } from './task-schema.ts';
import type { OnlineDdlConfig } from './types.ts';
import type { ConfigIssue } from './yaml-schema.ts';
import { configNote, type ConfigNote, type YamlSource } from './yaml-source.ts';

/** DM (dm/config/subtask.go): gh-ost's `_t_gho` and pt-osc's `_t_new` are shadow tables … */
export const DEFAULT_SHADOW_TABLE_RULES = ['^_(.+)_(?:new|gho)$'];
/** … gh-ost's `_t_ghc` (changelog) and `_t_del`, pt-osc's `_t_old` are trash tables. */
export const DEFAULT_TRASH_TABLE_RULES = ['^_(.+)_(?:ghc|del|old)$'];

export function checkOnlineDdlRules(t: RawTask, issues: ConfigIssue[]): void {
  for (const key of ['shadow-table-rules', 'trash-table-rules'] as const) {
    (t[key] ?? []).forEach((re, i) => {
      try {
        compileRe2(re);
      } catch (err) {
        issues.push({
          name: 'ConfigBadPattern',
          path: [key, i],
          message: `${key}[${i}] ${JSON.stringify(re)}: ${err instanceof DmError ? err.message : String(err)}`,
        });
      }
    });
  }
  const scheme = t['online-ddl-scheme'];
  if (scheme !== undefined && scheme !== '' && !['gh-ost', 'pt'].includes(scheme.toLowerCase())) {
    issues.push({
      name: 'ConfigInvalid',
      path: ['online-ddl-scheme'],
      message: `online-ddl-scheme must be "gh-ost" or "pt" (DM's deprecated form of online-ddl: true); got ${JSON.stringify(scheme)}`,
    });
  }
}

export function resolveOnlineDdl(t: RawTask, src: YamlSource, notes: ConfigNote[]): OnlineDdlConfig | undefined {
  const scheme = t['online-ddl-scheme'];
  if (scheme)
    notes.push(configNote(src, 'deprecated', ['online-ddl-scheme'], 'deprecated DM key, read as online-ddl: true'));
  if (!t['online-ddl'] && !scheme) {
    for (const key of ['shadow-table-rules', 'trash-table-rules'] as const) {
      if (t[key]?.length) notes.push(configNote(src, 'no-effect', [key], 'accepted, no effect: online-ddl is false'));
    }
    return undefined;
  }
  return {
    shadowTableRules: t['shadow-table-rules']?.length ? t['shadow-table-rules'] : DEFAULT_SHADOW_TABLE_RULES,
    trashTableRules: t['trash-table-rules']?.length ? t['trash-table-rules'] : DEFAULT_TRASH_TABLE_RULES,
  };
}
