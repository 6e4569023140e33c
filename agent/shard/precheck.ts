import { tableKey } from '../../src/sql/table-name.ts';
import type { SourceConfig, TaskConfig } from '../../src/config/types.ts';
import type { CheckItem } from '../../src/coord/index.ts';
import { shardKey } from '../../src/shard/lock.ts';
import { DmError } from '../../src/errors/index.ts';
import { joinSchemas, type OptimisticShard } from '../../src/shard/schema-join.ts';
import { query } from '../db/mysql.ts';
import { forEachUpstream } from '../each-upstream.ts';

interface ColumnRow {
  TABLE_SCHEMA: string;
  TABLE_NAME: string;
  COLUMN_NAME: string;
  COLUMN_TYPE: string;
  IS_NULLABLE: string;
  EXTRA: string;
  COLUMN_KEY: string;
}

/**
 * Prechecks of shard-merge tasks (DM's sharding checks): the shards of each target table must have the same columns
 * (pessimistic) or columns that can be joined (optimistic); an AUTO_INCREMENT key on shards that merge into one
 * table gives a warning, because the shards' sequences collide in the merged table.
 */
export async function checkShards(task: TaskConfig, sources: Record<string, SourceConfig>): Promise<CheckItem[]> {
  const groups = new Map<string, { target: string; shards: Record<string, OptimisticShard & { autoInc: string[] }> }>();
  await forEachUpstream(task, sources, async (spec, rules, up) => {
    const rows = await query<ColumnRow[]>(
      up,
      'upstream',
      `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA, COLUMN_KEY
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')
      AND EXTRA NOT LIKE '%GENERATED%' ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    );
    for (const r of rows) {
      const schema = String(r.TABLE_SCHEMA);
      const table = String(r.TABLE_NAME);
      if (!rules.allowTable(schema, table)) continue;
      const t = rules.route(schema, table);
      const gk = JSON.stringify([t.schema, t.table]);
      const g = groups.get(gk) ?? { target: `${tableKey(t)}`, shards: {} };
      const key = shardKey(spec.sourceId, `${schema}.${table}`);
      const sh = g.shards[key] ?? {
        source: spec.sourceId,
        table: `${schema}.${table}`,
        schema: { columns: [], indexes: [] },
        autoInc: [],
      };
      sh.schema.columns.push({
        name: String(r.COLUMN_NAME),
        type: String(r.COLUMN_TYPE),
        nullable: r.IS_NULLABLE === 'YES',
      });
      if (/auto_increment/i.test(String(r.EXTRA)) && ['PRI', 'UNI'].includes(String(r.COLUMN_KEY)))
        sh.autoInc.push(String(r.COLUMN_NAME));
      g.shards[key] = sh;
      groups.set(gk, g);
    }
  });
  const items: CheckItem[] = [];
  for (const g of groups.values()) {
    const keys = Object.keys(g.shards).sort();
    if (keys.length < 2) continue;
    const name = `shard tables of ${g.target}`;
    if (task.shardMode === 'pessimistic') {
      const sig = (k: string) =>
        g.shards[k]!.schema.columns.map((c) => `${c.name.toLowerCase()} ${c.type.toLowerCase()}`).join(', ');
      const odd = keys.find((k) => sig(k) !== sig(keys[0]!));
      if (odd) {
        items.push({
          name,
          ok: false,
          error: new DmError(
            'ShardSchemaInconsistent',
            `${odd} has columns (${sig(odd)}) but ${keys[0]} has (${sig(keys[0]!)}): pessimistic shard mode needs the same structure on every shard`,
          ).toRecord(),
        });
        continue;
      }
    } else {
      const j = joinSchemas(g.shards, {});
      if ('conflict' in j) {
        const c = j.conflict;
        items.push({
          name,
          ok: false,
          error: new DmError(
            'ShardSchemaInconsistent',
            `column ${c.column} is ${c.a} on ${c.shardA} but ${c.b} on ${c.shardB}: optimistic shard mode cannot merge them`,
          ).toRecord(),
        });
        continue;
      }
    }
    const ai = keys.filter((k) => g.shards[k]!.autoInc.length > 0);
    const item: CheckItem = { name, ok: true };
    if (ai.length > 0) {
      const col = g.shards[ai[0]!]!.autoInc[0]!;
      item.warning =
        `${ai.length} of ${keys.length} shards have AUTO_INCREMENT key ${col}: their values collide in ${g.target} (a later row replaces an earlier one with the same key). ` +
        `Fix: make the merged key include a shard column (extract-table/extract-source routes into a composite primary key), or give each shard its own auto_increment_offset/increment range.`;
    }
    items.push(item);
  }
  return items;
}
