/** An in-memory `dm_locks` for unit tests of shard-DDL coordination (agent/shard/): stands for the NATS KV one
 * (agent/shard/locks.ts) behind the ShardLocks interface (agent/unit.ts). */
import type { ShardLocks } from '../../agent/unit.ts';
import type { ShardLockRecord } from '../../src/shard/lock.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { type TableName, tableKey } from '../../src/sql/table-name.ts';

/** dm_locks of one task in memory: every mutate is atomic (what the KV compare-and-set loop achieves). */
export class MemoryShardLocks implements ShardLocks {
  readonly records = new Map<string, ShardLockRecord>();
  version = 0;
  private waiters: (() => void)[] = [];
  private k(t: TableName): string {
    return `${tableKey(t)}`;
  }
  get(t: TableName): ShardLockRecord | undefined {
    return this.records.get(this.k(t));
  }
  all(): ShardLockRecord[] {
    return [...this.records.values()];
  }
  fetch(t: TableName): Promise<ShardLockRecord | undefined> {
    return Promise.resolve(this.get(t));
  }
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  mutate(
    t: TableName,
    fn: (cur: ShardLockRecord | undefined) => ShardLockRecord | null | undefined,
  ): Promise<ShardLockRecord | undefined> {
    const cur = this.get(t);
    const next = fn(cur);
    if (next === undefined) return Promise.resolve(cur);
    if (next === null) this.records.delete(this.k(t));
    else this.records.set(this.k(t), next);
    this.version++;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    return Promise.resolve(next ?? undefined);
  }
}

/** A schema tracker holding empty `schema.table` tables: the shard tables a source declares to a lock. */
export function trackerWith(tables: string[]): SchemaTracker {
  const t = new SchemaTracker();
  for (const name of tables) {
    const [schema, table] = name.split('.') as [string, string];
    t.set({
      schema,
      table,
      columns: [],
      indexes: [],
      primaryKey: [],
      uniqueKeys: [],
      charset: 'utf8mb4',
      collation: 'utf8mb4_general_ci',
    });
  }
  return t;
}
