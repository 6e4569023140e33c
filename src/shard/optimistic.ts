import { DmError } from '../errors/index.ts';
import { qualify, quoteIdent } from '../sql/table-name.ts';
import {
  joinSchemas,
  SHARD_FORMAT,
  sameSchema,
  type JoinConflict,
  type OptimisticShard,
  type ShardColumn,
  type ShardSchema,
} from './schema-join.ts';

/**
 * Optimistic shard-DDL coordination (DM's `shard-mode: optimistic`), the pure part: the lock record's transitions here,
 * the join rules in schema-join.ts. Every shard's table structure is kept in one record per target table
 * (`dm_locks/<task>.<schema>.<table>`, mode optimistic), and the target table has the *join* of them: every column any
 * shard has, with the widest type. A shard's DDL runs downstream only when it changes the join (the first ADD COLUMN, a
 * wider MODIFY, the last DROP COLUMN); DML never waits. Two shards whose columns cannot be joined (INT and VARCHAR) are
 * a conflict: the shard that brought it pauses until a user decides (`dmctl shard-ddl-lock unlock --action exec|skip`).
 */

export interface OptimisticConflict {
  shard: string;
  ddls: string[];
  position: string;
  column: string;
  withShard: string;
  withDdls: string[];
  reason: string;
}

export interface OptimisticLockRecord {
  task: string;
  targetSchema: string;
  targetTable: string;
  mode: 'optimistic';
  /** `<source>/<schema>.<table>` -> structure as of that shard's stream. */
  shards: Record<string, OptimisticShard & { reached?: boolean }>;
  /** Column types fixed by a user's unlock of a conflict (lower-cased name -> type). */
  overrides: Record<string, string>;
  /** The whole column fixed by an unlock (generated columns: expression and storage too); wins over `overrides`. */
  overrideCols?: Record<string, ShardColumn>;
  /** Shards' DDL that changed the join and is being applied downstream (re-run after a crash), by shard. */
  pending?: Record<string, { position: string; ddls: string[] }>;
  conflict?: OptimisticConflict;
  /** `dmctl shard-ddl-lock unlock` of the conflict. */
  resolution?: 'exec' | 'skip';
  /** For views shared with pessimistic locks. */
  ddls: string[];
  owner: string;
  stage: 'waiting';
  createdAt: string;
  updatedAt: string;
}

export function newOptimisticLock(
  task: string,
  target: { schema: string; table: string },
  now: string,
): OptimisticLockRecord {
  return {
    task,
    targetSchema: target.schema,
    targetTable: target.table,
    mode: 'optimistic',
    shards: {},
    overrides: {},
    ddls: [],
    owner: '',
    stage: 'waiting',
    createdAt: now,
    updatedAt: now,
  };
}

export interface DdlDecision {
  record: OptimisticLockRecord;
  /** The join changed: run the shard's DDL downstream (then clear `pending`). */
  apply: boolean;
  /** Statements to run instead of the shard's own (a conflict resolved with exec: MODIFY to the shard's column). */
  statements?: string[];
}

/** The definition of a column in an ALTER TABLE ... MODIFY COLUMN. */
function columnDefinition(c: ShardColumn): string {
  if (c.generated)
    return `${quoteIdent(c.name)} ${c.type} AS (${c.generated.expr}) ${c.generated.stored ? 'PERSISTENT' : 'VIRTUAL'}`;
  return `${quoteIdent(c.name)} ${c.type} ${c.nullable ? 'NULL' : 'NOT NULL'}`;
}

/**
 * A shard reached a DDL (one statement, or one clause of a split ALTER: `position` names it) and now has structure
 * `after`. Returns the record to write and whether the DDL runs downstream, or the conflict record and a
 * ShardDdlConflict error when the join breaks.
 */
export function optimisticDdl(
  rec: OptimisticLockRecord,
  shard: string,
  source: string,
  table: string,
  after: ShardSchema,
  ddls: string[],
  position: string,
  now: string,
  strict = false,
): DdlDecision | { conflictRecord: OptimisticLockRecord; error: DmError } {
  const before = joinSchemas(rec.shards, rec.overrides, rec.overrideCols, strict);
  const shards = {
    ...rec.shards,
    [shard]: { source, table, schema: after, lastDdl: ddls, reached: true, v: SHARD_FORMAT },
  };
  const base: OptimisticLockRecord = { ...rec, shards, updatedAt: now, ddls };
  delete base.conflict;
  delete base.resolution;
  const conflictHere =
    rec.conflict && rec.conflict.shard === shard && rec.conflict.position === position ? rec.conflict : undefined;
  if (conflictHere && rec.resolution) {
    const col = conflictHere.column.toLowerCase();
    const mine = after.columns.find((c) => c.name.toLowerCase() === col);
    const cur = 'schema' in before ? before.schema.columns.find((c) => c.name.toLowerCase() === col) : undefined;
    if (rec.resolution === 'exec' && mine) {
      // The user chose this shard's definition for the column: the target takes it (ADD when it has none yet).
      base.overrides = { ...rec.overrides, [col]: mine.type };
      base.overrideCols = { ...rec.overrideCols, [col]: mine };
      const stmt = `ALTER TABLE ${qualify({ schema: rec.targetSchema, table: rec.targetTable })} ${cur ? 'MODIFY' : 'ADD'} COLUMN ${columnDefinition(mine)}`;
      return { record: base, apply: true, statements: [stmt] };
    }
    // skip: the target keeps the column as it is (a column it does not have stays out).
    if (cur) {
      base.overrides = { ...rec.overrides, [col]: cur.type };
      base.overrideCols = { ...rec.overrideCols, [col]: cur };
    }
    const next = joinSchemas(shards, base.overrides, base.overrideCols, strict);
    if ('conflict' in next && next.conflict.column.toLowerCase() !== col)
      return conflictOf(rec, shard, ddls, position, now, next.conflict);
    return { record: base, apply: false };
  }
  const next = joinSchemas(shards, base.overrides, base.overrideCols, strict);
  if ('conflict' in next) return conflictOf(rec, shard, ddls, position, now, next.conflict);
  const changed = !('schema' in before) || !sameSchema(before.schema, next.schema);
  // DM (optimism/lock.go, "prevTable == postTable (Partition/Sequence)"): a DDL that leaves the shard's own structure
  // as it was (ADD/DROP PARTITION, table options) cannot break the join; it runs downstream as it is, at once.
  const prev = rec.shards[shard]?.schema;
  const untouched = prev !== undefined && sameSchema(prev, after);
  return { record: base, apply: changed || untouched };
}

function conflictOf(
  rec: OptimisticLockRecord,
  shard: string,
  ddls: string[],
  position: string,
  now: string,
  c: JoinConflict,
): { conflictRecord: OptimisticLockRecord; error: DmError } {
  const other = c.shardA === shard ? c.shardB : c.shardA;
  const otherDdls = rec.shards[other]?.lastDdl ?? [];
  const conflict: OptimisticConflict = {
    shard,
    ddls,
    position,
    column: c.column,
    withShard: other,
    withDdls: otherDdls,
    reason: `column ${c.column} is ${c.shardA === shard ? c.a : c.b} on ${shard} but ${c.shardA === shard ? c.b : c.a} on ${other}`,
  };
  const error = new DmError(
    'ShardDdlConflict',
    `optimistic shard DDL conflict on ${rec.targetSchema}.${rec.targetTable}: ${conflict.reason}. ${shard}: ${ddls.join('; ')} | ${other}: ${otherDdls.join('; ') || '(its structure when it joined)'}`,
    { context: { sql: ddls.join('; '), position, table: `${rec.targetSchema}.${rec.targetTable}` } },
  );
  return { conflictRecord: { ...rec, conflict, updatedAt: now }, error };
}

/**
 * One step of a shard's DDL event: a statement, or one clause of a multi-clause ALTER TABLE (`prefix + clause` runs
 * alone), with the shard's structure after it.
 */
export interface DdlStep {
  prefix: string;
  clause: string;
  /** Statements that run after this one when it runs (an event that could not be split: the rest of its statements). */
  also?: string[];
  schema: ShardSchema;
  /** Index of the statement of the event the clause belongs to. */
  statement: number;
}

/**
 * A shard's DDL event, per clause (DM's optimist splits an ALTER the same way): each step is joined in turn, and only
 * the steps that change the join run downstream, so `ALTER TABLE t ADD c, DROP b` on the first shard adds c and keeps b
 * until the last shard drops it. The steps that run are put back together per statement (`prefix + clauses`), so
 * clauses that only work together (`ADD c INT NOT NULL, ADD UNIQUE (c)`) still run as one statement. A conflict at any
 * step stops the whole event: nothing runs, the record keeps the shard's structure from before it, and the conflict
 * names the step (`position#k`), so the user's unlock decides that step when the event is taken again.
 * `position` is the event's; `pending[shard]` holds what runs (a crash before it is cleared runs it again).
 */
export function optimisticSteps(
  rec: OptimisticLockRecord,
  shard: string,
  source: string,
  table: string,
  steps: DdlStep[],
  position: string,
  now: string,
  strict = false,
): { record: OptimisticLockRecord; run: string[] } | { conflictRecord: OptimisticLockRecord; error: DmError } {
  let cur = rec;
  const run: { statement: number; prefix: string; clauses: string[] }[] = [];
  const lastDdl = [...new Set(steps.map((s) => s.statement))].flatMap((i) => {
    const ss = steps.filter((s) => s.statement === i);
    return [ss[0]!.prefix + ss.map((s) => s.clause).join(', '), ...ss.flatMap((s) => s.also ?? [])];
  });
  for (const [k, step] of steps.entries()) {
    const at = k === 0 ? position : `${position}#${k}`;
    const withConflict: OptimisticLockRecord = { ...cur };
    if (rec.conflict) withConflict.conflict = rec.conflict;
    if (rec.resolution) withConflict.resolution = rec.resolution;
    const sql = step.prefix + step.clause;
    const d = optimisticDdl(withConflict, shard, source, table, step.schema, [sql], at, now, strict);
    if ('error' in d) {
      // Everything of the event stays undone: the record as it was before the event, with the conflict.
      const error = d.error;
      return {
        conflictRecord: { ...rec, conflict: { ...d.conflictRecord.conflict!, ddls: lastDdl }, updatedAt: now },
        error,
      };
    }
    cur = d.record;
    if (d.statements) for (const stmt of d.statements) run.push({ statement: -1, prefix: stmt, clauses: [] });
    else if (d.apply) {
      const last = run[run.length - 1];
      if (last && last.statement === step.statement) last.clauses.push(step.clause);
      else run.push({ statement: step.statement, prefix: step.prefix, clauses: [step.clause] });
      for (const stmt of step.also ?? []) run.push({ statement: -1, prefix: stmt, clauses: [] });
    }
  }
  const statements = run.map((r) => r.prefix + r.clauses.join(', '));
  const record: OptimisticLockRecord = {
    ...cur,
    ddls: lastDdl,
    shards: { ...cur.shards, [shard]: { ...cur.shards[shard]!, lastDdl } },
  };
  const pending = { ...rec.pending };
  if (statements.length) pending[shard] = { position, ddls: statements };
  else delete pending[shard];
  if (Object.keys(pending).length) record.pending = pending;
  else delete record.pending;
  return { record, run: statements };
}
