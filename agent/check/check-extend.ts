import type { Connection } from 'mysql2/promise';
import { DmError } from '../../src/errors/index.ts';
import { loadTableInfo, listTables } from '../db/schema.ts';
import type { SubtaskRules } from '../unit.ts';

/**
 * Precheck for DM extended columns (routes' extract-table/extract-schema/extract-source), as DM's checker does
 * it: for every upstream table the task migrates whose route extracts columns, the downstream target table must
 * already exist ("does not exist in downstream table") and have every target column ("must contain extended
 * columns"). tsdm, like DM, never invents those columns' types or adds them to the user's table.
 */
export async function checkExtendedColumns(up: Connection, down: Connection, rules: SubtaskRules): Promise<void> {
  const problems: string[] = [];
  const seen = new Map<string, Set<string> | null>();
  for (const t of await listTables(up, 'upstream')) {
    if (!rules.allowTable(t.schema, t.table) || rules.onlineTableType(t.table) !== 'real') continue;
    const ext = rules.extendColumns(t.schema, t.table);
    if (!ext) continue;
    const target = rules.route(t.schema, t.table);
    const key = `${target.schema}\0${target.table}`;
    if (!seen.has(key)) {
      const info = await loadTableInfo(down, 'downstream', target.schema, target.table);
      seen.set(key, info ? new Set(info.columns.map((c) => c.name.toLowerCase())) : null);
    }
    const cols = seen.get(key);
    const src = `\`${t.schema}\`.\`${t.table}\``,
      dst = `\`${target.schema}\`.\`${target.table}\``;
    if (cols === null || cols === undefined) {
      problems.push(
        `upstream table ${src} routes to ${dst}, which does not exist in downstream: create it with the extended columns ${ext.columns.join(', ')}`,
      );
      continue;
    }
    const missing = ext.columns.filter((c) => !cols.has(c.toLowerCase()));
    if (missing.length)
      problems.push(
        `downstream table ${dst} must contain extended columns ${missing.join(', ')} (for upstream table ${src})`,
      );
  }
  if (problems.length) {
    throw new DmError('DownstreamExtendColumns', problems.join('; '));
  }
}
