import type { TableName } from '../../src/sql/table-name.ts';
import { comparePos, type BinlogPosition } from '../../src/binlog/position.ts';

/**
 * Which tables a resumed load must reload whole (pure logic; agent/load/load.ts applies it).
 *
 * A load that restarts cannot reopen its first snapshot: it takes a new one at position `at` for the chunks that
 * are left, and sync later replays the binlog from the first snapshot (`base`) in safe mode. That converges for a
 * table whose structure did not change in between: its rows are keyed, the replay re-applies every change. It does
 * not when DDL touched a table still being loaded: its downstream table was created with the old structure while
 * the remaining chunks come with the new one (ADD/DROP/MODIFY COLUMN), or its rows now live under another name
 * (RENAME), or it is gone (DROP), and replaying the DDL over rows that already have its effect goes wrong again.
 *
 * Rule: such a table is reloaded whole from the new snapshot: its downstream table is dropped and created from the
 * snapshot's CREATE TABLE, all its chunks are loaded from `at`, and sync skips every event on it that ends at or
 * before `at` (its `loadedAt`, checkpoint.ts `<task>_table_reload`): the reloaded rows already contain them.
 *
 *  - A DDL "hits" a table when it names it (either side of a RENAME, the LIKE source, every table of a schema for a
 *    DROP/CREATE DATABASE) and ends after the table's own `loadedAt` (`base` unless reloaded before).
 *  - Start: the tables of the plan that are not completely loaded and are hit by a DDL in (base, at], or whose
 *    downstream structure differs from the snapshot's (`changed`, a safety net).
 *  - Closure: every table a DDL hits together with a reloaded table is reloaded too. Then a multi-table DDL (RENAME
 *    a TO b, c TO a) is either skipped by sync on all its tables or applied on all of them, never half.
 *  - Tables that were completely loaded and are not in the closure keep their rows: sync replays their DDL in
 *    binlog order. Tables that appeared after `base` and are not in the closure are created by sync, which replays
 *    their CREATE (they were not in the first snapshot, so their whole history is in the binlog).
 *  - `ddl` undefined (the binlog range could not be read): everything is reloaded.
 *  - task-mode full has no binlog position and no sync: tables not completely loaded that are gone or changed are
 *    reloaded, and tables that appeared are loaded (`at` undefined).
 */

export interface PlanTable extends TableName {
  /** Every chunk of the table is loaded. */
  done: boolean;
  /** Position this table was last reloaded whole at (sync skips its events up to there). */
  loadedAt?: BinlogPosition;
}

export interface TouchingStatement {
  end: BinlogPosition;
  /** Tables the statement names (allowed by the task's rules); `table: ''` = the whole schema. */
  tables: TableName[];
}

export interface ReconcileInput {
  /** The first snapshot's position: sync starts here. Undefined for task-mode full. */
  base?: BinlogPosition;
  /** The new snapshot's position. Undefined for task-mode full. */
  at?: BinlogPosition;
  plan: PlanTable[];
  /** Tables of the new snapshot (allowed by the task's rules). */
  snapshot: TableName[];
  /** Statements in (base, at] that name at least one allowed table or schema; undefined when unknown. */
  ddl?: TouchingStatement[];
  /** A table of the plan whose downstream structure is not the snapshot's. */
  changed: (t: TableName) => boolean;
}

export interface ReconcilePlan {
  /** Reload whole from the new snapshot (drop downstream; load again when the snapshot has it). */
  reload: TableName[];
  /** Schemas whose database-level DDL up to `at` sync must skip (it was part of a reloaded history). */
  schemas: string[];
}

export function tableKey(t: TableName): string {
  return `${t.schema}\u0000${t.table}`;
}

export function planReload(input: ReconcileInput): ReconcilePlan {
  const { plan, snapshot, changed } = input;
  const inSnapshot = new Set(snapshot.map(tableKey));
  const byKey = new Map(plan.map((t) => [tableKey(t), t]));
  const names = new Map<string, TableName>();
  const add = (t: TableName) => {
    if (t.table) names.set(tableKey(t), { schema: t.schema, table: t.table });
  };
  plan.forEach(add);
  snapshot.forEach(add);
  for (const d of input.ddl ?? []) d.tables.forEach(add);
  const sorted = (keys: Iterable<string>) => [...keys].sort().map((k) => names.get(k)!);

  if (input.at === undefined || input.base === undefined) {
    // task-mode full: no binlog; judge by what the snapshot shows.
    const reload = new Set(plan.filter((t) => !t.done && (!inSnapshot.has(tableKey(t)) || changed(t))).map(tableKey));
    for (const k of inSnapshot) if (!byKey.has(k)) reload.add(k);
    return { reload: sorted(reload), schemas: [] };
  }
  if (input.ddl === undefined) {
    const all = new Set([...byKey.keys(), ...inSnapshot]);
    return { reload: sorted(all), schemas: [...new Set([...all].map((k) => names.get(k)!.schema))].sort() };
  }
  const base = input.base;
  const loadedAt = (k: string) => byKey.get(k)?.loadedAt ?? base;
  const ofSchema = (schema: string) => [...names.keys()].filter((k) => names.get(k)!.schema === schema);
  const stmts = input.ddl
    .filter((d) => comparePos(d.end, base) > 0 && comparePos(d.end, input.at!) <= 0)
    .map((d) => ({
      schemas: d.tables.filter((t) => !t.table).map((t) => t.schema),
      hits: [...new Set(d.tables.flatMap((t) => (t.table ? [tableKey(t)] : ofSchema(t.schema))))].filter(
        (k) => comparePos(d.end, loadedAt(k)) > 0,
      ),
    }));
  const hit = new Set(stmts.flatMap((s) => s.hits));
  const reload = new Set(plan.filter((t) => !t.done && (hit.has(tableKey(t)) || changed(t))).map(tableKey));
  const schemas = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stmts) {
      if (!s.hits.some((k) => reload.has(k))) continue;
      for (const k of s.hits)
        if (!reload.has(k)) {
          reload.add(k);
          grew = true;
        }
      s.schemas.forEach((x) => schemas.add(x));
    }
  }
  return { reload: sorted(reload), schemas: [...schemas].sort() };
}
