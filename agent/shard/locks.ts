import type { TableName } from '../../src/sql/table-name.ts';
import { Bucket, eventsOf, Keys, type Coord } from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { isPendingLock, type ShardLockRecord } from '../../src/shard/lock.ts';
import { EventKind } from '../../src/events/record.ts';
import type { ShardLocks } from '../unit.ts';

/**
 * The sync unit's view of its task's shard-DDL locks in `dm_locks`: a watch keeps a local copy, and every change is a
 * compare-and-set read-modify-write (DESIGN.md §3: coordination uses only create / update with revision), so two
 * agents updating one lock never lose each other's writes.
 */
export class KvShardLocks implements ShardLocks {
  private readonly cache = new Map<string, ShardLockRecord>();
  private unwatch: (() => void) | undefined;
  private waiters: (() => void)[] = [];
  version = 0;

  constructor(
    private readonly coord: Coord,
    private readonly task: string,
  ) {}

  start(): void {
    const prefix = Keys.lock(this.task, '', '').split('.')[0] + '.';
    this.unwatch = this.coord.watch<ShardLockRecord>(Bucket.locks, (e) => {
      if (!e.key.startsWith(prefix)) return;
      if (e.deleted || !e.value) this.cache.delete(e.key);
      else this.cache.set(e.key, e.value);
      this.version++;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  stop(): void {
    this.unwatch?.();
  }

  get(target: TableName): ShardLockRecord | undefined {
    return this.cache.get(Keys.lock(this.task, target.schema, target.table));
  }

  all(): ShardLockRecord[] {
    return [...this.cache.values()];
  }

  fetch(target: TableName): Promise<ShardLockRecord | undefined> {
    return this.mutate(target, () => undefined);
  }

  /** Resolves at the next change of any of the task's locks, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** A lock that starts or stops waiting (pessimistic; optimistic with a conflict) is an event (dm_events). */
  private lockEvent(cur: ShardLockRecord | undefined, next: ShardLockRecord | null): void {
    const was = cur !== undefined && isPendingLock(cur);
    const is = next !== null && isPendingLock(next);
    const rec = next ?? cur;
    if (was === is || !rec) return;
    const table = `${rec.targetSchema}.${rec.targetTable}`;
    const ddl = Array.isArray(rec.ddls) ? rec.ddls.join('; ') : '';
    eventsOf(this.coord).emit({
      kind: is ? EventKind.shardLockCreated : EventKind.shardLockResolved,
      task: this.task,
      table,
      message: is ? `shard-DDL lock waits for every shard (${rec.mode})` : `shard-DDL lock resolved (${rec.mode})`,
      detail: {
        ddl,
        ...(rec.owner ? { owner: rec.owner } : {}),
        ...(rec.resolution ? { resolution: rec.resolution } : {}),
      },
    });
  }

  async mutate(
    target: TableName,
    fn: (cur: ShardLockRecord | undefined) => ShardLockRecord | null | undefined,
  ): Promise<ShardLockRecord | undefined> {
    const key = Keys.lock(this.task, target.schema, target.table);
    for (let attempt = 0; attempt < 50; attempt++) {
      const cur = await this.coord.get<ShardLockRecord>(Bucket.locks, key);
      const next = fn(cur?.value);
      if (next === undefined) return cur?.value; // nothing to change
      if (next === null) {
        if (cur) await this.coord.delete(Bucket.locks, key);
        this.cache.delete(key);
        if (cur) this.lockEvent(cur.value, null);
        return undefined;
      }
      const rev = cur
        ? await this.coord.update(Bucket.locks, key, next, cur.revision)
        : await this.coord.create(Bucket.locks, key, next);
      if (rev !== undefined) {
        this.cache.set(key, next);
        this.lockEvent(cur?.value, next);
        return next;
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 50));
    }
    throw new DmError('NatsKv', `shard-DDL lock ${key} is updated by others too often to take a compare-and-set turn`);
  }
}
