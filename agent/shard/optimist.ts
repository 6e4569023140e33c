import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { SchemaTracker, type TrackedTable } from '../../src/schema/model.ts';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import { alterClauses } from '../../src/sql/ddl.ts';
import {
  newOptimisticLock,
  optimisticSteps,
  type DdlStep,
  type OptimisticLockRecord,
} from '../../src/shard/optimistic.ts';
import { SHARD_FORMAT, type ShardColumn, type ShardSchema } from '../../src/shard/schema-join.ts';
import { shardKey, type ShardLockRecord } from '../../src/shard/lock.ts';
import { posKey } from '../../src/binlog/position.ts';
import { crashPoint } from '../fault.ts';
import type { ShardLocks, SubtaskContext } from '../unit.ts';

/**
 * Optimistic shard-DDL coordination for one (task, source) (src/shard/optimistic.ts has the lock record's
 * transitions, src/shard/schema-join.ts the join rules).
 *
 * Protocol (every write to the record `L` = dm_locks/<task>.<target> is a compare-and-set):
 *  1. At sync start each source adds its shard tables' structures to L (only shards L does not know yet: after a
 *     restart L is ahead of the replayed stream; and shards recorded before generated columns and defaults joined).
 *  2. A shard's DDL: S splits it per clause (a multi-clause ALTER TABLE is one step per clause, as DM does), computes
 *     the shard's structure after each step (the schema tracker, on a copy of the shard's table as it was before the
 *     event) and joins each with every other shard's in turn. It writes the new structure to L, with
 *     `pending[shard]` = the steps that changed the join (put back together per statement). A conflict at any step
 *     is written to L instead (the shard's structure stays as before the event) and pauses S with ShardDdlConflict
 *     naming both shards' statements.
 *  3. S runs the pending statements downstream (only what changed the join), accepting "already done" errors, then clears
 *     `pending[shard]`, then moves its checkpoint past the event.
 *     Crash between 2 and 3: the replayed event finds `pending[shard]` at its position and runs the DDL again.
 *     Crash after 3: the replayed event finds L already holding the shard's new structure; the join does not change.
 *  4. `dmctl shard-ddl-lock unlock --action exec|skip` writes `resolution`; on resume the paused event takes it:
 *     exec = the target column takes this shard's definition (MODIFY COLUMN), skip = it keeps its own; either way
 *     the column's type is fixed in `overrides` so later joins agree.
 */
export class Optimist {
  constructor(
    private readonly ctx: SubtaskContext,
    private readonly locks: ShardLocks,
  ) {}

  private get me(): string {
    return this.ctx.spec.sourceId;
  }

  static schemaOf(t: TrackedTable | undefined): ShardSchema {
    if (!t) return { columns: [], indexes: [] };
    return {
      columns: t.columns.map((c) => {
        const col: ShardColumn = { name: c.name, type: c.columnType, nullable: c.nullable };
        if (c.generation) col.generated = { expr: c.generation.expr, stored: c.generation.stored };
        if (c.hasDefault !== undefined) col.hasDefault = c.hasDefault;
        if (c.default !== undefined) col.default = c.default;
        return col;
      }),
      indexes: t.indexes.filter((i) => !i.generated && i.name !== 'PRIMARY').map((i) => i.name),
    };
  }

  /** Step 1. */
  async register(tracker: SchemaTracker): Promise<void> {
    const byTarget = new Map<string, { target: TableName; tables: TrackedTable[] }>();
    for (const t of tracker.tables()) {
      if (!this.ctx.rules.allowTable(t.schema, t.table)) continue;
      const target = this.ctx.rules.route(t.schema, t.table);
      const k = JSON.stringify([target.schema, target.table]);
      const g = byTarget.get(k) ?? { target, tables: [] };
      g.tables.push(t);
      byTarget.set(k, g);
    }
    const now = new Date().toISOString();
    for (const { target, tables } of byTarget.values()) {
      await this.locks.mutate(target, (cur) => {
        const rec = (cur as OptimisticLockRecord | undefined) ?? newOptimisticLock(this.ctx.task.name, target, now);
        // Shards recorded by a version that left generated columns and defaults out of the join: without this, the
        // first DDL after an upgrade would see them appear in the join and run a clause it must not (a non-last
        // DROP). Their structure is taken again from the tracker (never while a DDL of theirs is pending).
        const old = (k: string) => {
          const sh = rec.shards[k];
          return sh !== undefined && sh.v !== SHARD_FORMAT && !rec.pending?.[k];
        };
        const add = tables.filter((t) => {
          const k = shardKey(this.me, `${tableKey(t)}`);
          return !rec.shards[k] || old(k);
        });
        if (add.length === 0) return undefined;
        const shards = { ...rec.shards };
        for (const t of add) {
          const k = shardKey(this.me, `${tableKey(t)}`);
          shards[k] = this.shardEntry(rec.shards[k], t, t);
        }
        return { ...rec, shards, updatedAt: now } as unknown as ShardLockRecord; // one bucket holds both lock kinds
      });
    }
  }

  /** This source's entry for shard `table` in a lock record, with structure `t`, over its previous entry `prev`. */
  private shardEntry(
    prev: OptimisticLockRecord['shards'][string] | undefined,
    table: TableName,
    t: TrackedTable,
  ): OptimisticLockRecord['shards'][string] {
    return {
      ...prev,
      source: this.me,
      table: `${tableKey(table)}`,
      schema: Optimist.schemaOf(t),
      reached: true,
      v: SHARD_FORMAT,
    };
  }

  /**
   * `dmctl binlog skip` of a shard rename tsdm refuses (coordinator.ts): the record follows the upstream, shard `from`
   * becoming `to` (the same table for a column rename) with its structure after the event. Nothing runs downstream.
   */
  async skipped(from: TableName, to: TableName, target: TableName, trackerAfter: unknown): Promise<void> {
    const t = SchemaTracker.fromJSON(trackerAfter).get(to.schema, to.table);
    if (!t) return;
    const old = shardKey(this.me, `${tableKey(from)}`);
    const k = shardKey(this.me, `${tableKey(to)}`);
    await this.locks.mutate(target, (cur) => {
      const rec = cur as OptimisticLockRecord | undefined;
      if (!rec || rec.pending?.[old]) return undefined;
      const shards = { ...rec.shards };
      delete shards[old];
      shards[k] = this.shardEntry(rec.shards[old], to, t);
      const now = new Date().toISOString();
      return { ...rec, shards, updatedAt: now } as unknown as ShardLockRecord; // one bucket holds both lock kinds
    });
    this.ctx.log.info({ from: tableKey(from), to: tableKey(to), target }, 'skipped shard rename recorded in the lock');
  }

  /**
   * The steps of a shard's DDL event (routed statements `ddls`): one per clause of each ALTER TABLE, with the shard's
   * structure after it, computed by applying the routed clauses in turn to a copy of the shard's table from before the
   * event, renamed to the target. When a clause cannot be modelled the event is one step with the structure after it.
   */
  static steps(
    schema: string,
    table: string,
    target: TableName,
    ddls: string[],
    trackerBefore: unknown,
    trackerAfter: unknown,
  ): DdlStep[] {
    const whole = (): DdlStep[] => [
      {
        prefix: '',
        clause: ddls[0] ?? '',
        also: ddls.slice(1),
        schema: Optimist.schemaOf(SchemaTracker.fromJSON(trackerAfter).get(schema, table)),
        statement: 0,
      },
    ];
    if (trackerBefore === undefined) return whole();
    const scratch = SchemaTracker.fromJSON(trackerBefore);
    const t = scratch.get(schema, table);
    if (!t) return whole();
    const db = scratch.getSchema(schema);
    scratch.setSchema({
      name: target.schema,
      charset: db?.charset ?? t.charset,
      collation: db?.collation ?? t.collation,
    });
    scratch.set({ ...t, schema: target.schema, table: target.table });
    const steps: DdlStep[] = [];
    for (const [i, sql] of ddls.entries()) {
      const split = alterClauses(sql) ?? { prefix: '', clauses: [sql] };
      for (const clause of split.clauses) {
        const r = applyDdl(scratch, split.prefix + clause, target.schema);
        if (!r.ok) return whole();
        steps.push({
          prefix: split.prefix,
          clause,
          schema: Optimist.schemaOf(scratch.get(target.schema, target.table)),
          statement: i,
        });
      }
    }
    return steps.length ? steps : whole();
  }

  /**
   * Steps 2–3 for a DDL of shard `schema.table` at `end` (routed statements `ddls`; the tracker before and after the
   * event). `exec` runs one statement downstream, accepting "already done" errors.
   */
  async ddl(
    schema: string,
    table: string,
    target: TableName,
    ddls: string[],
    end: BinlogPosition,
    trackerBefore: unknown,
    trackerAfter: unknown,
    exec: (sql: string) => Promise<void>,
  ): Promise<void> {
    const shard = shardKey(this.me, `${schema}.${table}`);
    const position = posKey(end);
    const steps = Optimist.steps(schema, table, target, ddls, trackerBefore, trackerAfter);
    let run: string[] = [];
    let failure: Error | undefined;
    await this.locks.mutate(target, (cur) => {
      const now = new Date().toISOString();
      const rec = (cur as OptimisticLockRecord | undefined) ?? newOptimisticLock(this.ctx.task.name, target, now);
      failure = undefined;
      const pend = rec.pending?.[shard];
      if (pend && pend.position === position) {
        run = pend.ddls;
        return undefined;
      } // step 3 replay
      const d = optimisticSteps(
        rec,
        shard,
        this.me,
        `${schema}.${table}`,
        steps,
        position,
        now,
        this.ctx.task.strictOptimistic,
      );
      if ('error' in d) {
        failure = d.error;
        run = [];
        return d.conflictRecord as unknown as ShardLockRecord;
      }
      run = d.run;
      return d.record as unknown as ShardLockRecord;
    });
    if (failure) throw failure;
    crashPoint('optimistic-pending');
    for (const sql of run) await exec(sql);
    if (run.length) {
      this.ctx.log.info({ shard, target, ddls: run, position }, 'optimistic shard DDL changed the merged table');
      await this.locks.mutate(target, (cur) => {
        const rec = cur as OptimisticLockRecord | undefined;
        if (!rec?.pending?.[shard]) return undefined;
        const pending = { ...rec.pending };
        delete pending[shard];
        return { ...rec, pending, updatedAt: new Date().toISOString() } as unknown as ShardLockRecord;
      });
    } else {
      this.ctx.log.info(
        { shard, target, ddls, position },
        'optimistic shard DDL does not change the merged table; not applied',
      );
    }
  }
}
