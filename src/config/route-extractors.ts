/**
 * A route's `extract-table` / `extract-schema` / `extract-source` (DM's extended columns). DM compiles each
 * regexp with Go's regexp package and requires a target-column; the same checks here, at the file's line.
 */
import { DmError } from '../errors/index.ts';
import { compileRe2 } from '../filter/re2.ts';
import type { RawRoute } from './task-schema.ts';
import type { ColumnExtractor, RouteRule } from './types.ts';
import type { ConfigIssue } from './yaml-schema.ts';

const KINDS = [
  ['extract-table', 'table-regexp', 'extractTable'],
  ['extract-schema', 'schema-regexp', 'extractSchema'],
  ['extract-source', 'source-regexp', 'extractSource'],
] as const;

export function routeExtractors(
  name: string,
  r: RawRoute,
  issues: ConfigIssue[],
): Pick<RouteRule, 'extractTable' | 'extractSchema' | 'extractSource'> {
  const out: Pick<RouteRule, 'extractTable' | 'extractSchema' | 'extractSource'> = {};
  for (const [key, regexKey, field] of KINDS) {
    const e = r[key] as Record<string, string | undefined> | undefined;
    if (!e) continue;
    const at = ['routes', name, key];
    const regexp = e[regexKey] ?? '';
    const targetColumn = e['target-column'] ?? '';
    if (targetColumn === '') {
      issues.push({
        name: 'ConfigInvalid',
        path: [...at, 'target-column'].slice(0, e['target-column'] === undefined ? 3 : 4),
        message: `routes.${name}.${key} needs target-column (the downstream column that receives the extracted value)`,
      });
      continue;
    }
    if (regexp === '') {
      issues.push({ name: 'ConfigInvalid', path: at, message: `routes.${name}.${key} needs ${regexKey}` });
      continue;
    }
    try {
      compileRe2(regexp);
    } catch (err) {
      issues.push({
        name: 'ConfigBadPattern',
        path: [...at, regexKey],
        message: `routes.${name}.${key}.${regexKey} ${JSON.stringify(regexp)}: ${err instanceof DmError ? err.message : String(err)}`,
      });
      continue;
    }
    const x: ColumnExtractor = { regexp, targetColumn };
    out[field] = x;
  }
  return out;
}
