/**
 * `expression-filter` rules of a task file: shape checks DM makes (dm/config/task.go: one kind of expression per
 * rule, valid grammar) plus tsdm's own: every expression must be one tsdm can evaluate, checked here so that
 * check-task and start-task refuse it with the file, line and key, instead of a subtask passing rows it should
 * have filtered.
 */
import { compileExpr, ExprSyntaxError } from '../filter/expr-ast.ts';
import type { RawTask } from './task-schema.ts';
import type { ExpressionFilterRule } from './types.ts';
import type { ConfigIssue } from './yaml-schema.ts';

const KEYS = ['insert-value-expr', 'update-old-value-expr', 'update-new-value-expr', 'delete-value-expr'] as const;

/** Rule name -> rule; undefined for a rule with problems (reported in `issues`). */
export function resolveExpressionFilters(
  t: RawTask,
  issues: ConfigIssue[],
): Map<string, ExpressionFilterRule | undefined> {
  const out = new Map<string, ExpressionFilterRule | undefined>();
  for (const [name, f] of Object.entries(t['expression-filter'])) {
    const at = ['expression-filter', name] as const;
    let ok = true;
    for (const k of ['schema', 'table'] as const) {
      if (!f[k]) {
        ok = false;
        issues.push({
          name: 'ConfigInvalid',
          path: [...at],
          message: `expression-filter "${name}" needs ${k} (the upstream ${k} name, exactly; no wildcards)`,
        });
      }
    }
    const kinds = [
      f['insert-value-expr'] ? 'insert' : '',
      f['update-old-value-expr'] || f['update-new-value-expr'] ? 'update' : '',
      f['delete-value-expr'] ? 'delete' : '',
    ].filter(Boolean);
    if (kinds.length === 0) {
      ok = false;
      issues.push({
        name: 'ConfigInvalid',
        path: [...at],
        message: `expression-filter "${name}" sets no expression; set one of ${KEYS.join(', ')}`,
      });
    }
    if (kinds.length > 1) {
      ok = false;
      issues.push({
        name: 'ConfigInvalid',
        path: [...at],
        message: `expression-filter "${name}" sets ${kinds.join(' and ')} expressions; DM allows one kind per rule (insert, update old/new, or delete): split it into several rules`,
      });
    }
    for (const k of KEYS) {
      const text = f[k];
      if (!text) continue;
      try {
        compileExpr(text);
      } catch (err) {
        if (!(err instanceof ExprSyntaxError)) throw err;
        ok = false;
        issues.push({
          name: 'ConfigBadExpression',
          path: [...at, k],
          message: `expression-filter "${name}" ${k} "${text}": ${err.message}`,
        });
      }
    }
    out.set(
      name,
      ok
        ? {
            name,
            schema: f.schema!,
            table: f.table!,
            ...(f['insert-value-expr'] ? { insertValueExpr: f['insert-value-expr'] } : {}),
            ...(f['update-old-value-expr'] ? { updateOldValueExpr: f['update-old-value-expr'] } : {}),
            ...(f['update-new-value-expr'] ? { updateNewValueExpr: f['update-new-value-expr'] } : {}),
            ...(f['delete-value-expr'] ? { deleteValueExpr: f['delete-value-expr'] } : {}),
          }
        : undefined,
    );
  }
  return out;
}
