import type { TaskConfig } from '../../src/config/types.ts';
import type {
  PlanSkipped,
  PlanStatement,
  PlanTable,
  PlanTableRef,
  PlanTarget,
  TaskPlanResult,
} from '../../src/coord/index.ts';
import { describeCollision } from '../../src/route/collisions.ts';

/** What plan-task.ts read from each source, in the dump's order. */
export interface Found {
  tables: PlanTable[];
  skipped: PlanSkipped[];
  statements: PlanStatement[];
  notes: string[];
}

const KEYLESS =
  'no primary key and no unique key over NOT NULL columns: the dump copies it as one chunk, and sync applies its ' +
  'changes one row at a time, an UPDATE or DELETE finding its row by a unique key whose values are not NULL, else ' +
  'by every column with LIMIT 1 (the downstream table keys rows instead when it has a key of its own)';

/** The plan document: each table's merges, the targets and which statement creates each, and the notes. */
export function assemble(
  task: TaskConfig,
  found: Found,
  existing: { schemas: Set<string>; tables: Set<string> },
): TaskPlanResult {
  const fold = (s: string) => (task.caseSensitive ? s : s.toLowerCase());
  const tkey = (schema: string, table: string) => fold(`${schema}\0${table}`);
  const ref = (t: PlanTableRef): PlanTableRef => ({ source: t.source, schema: t.schema, table: t.table });
  const targets = new Map<string, PlanTarget>();
  for (const t of found.tables) {
    const k = tkey(t.target.schema, t.target.table);
    const g = targets.get(k) ?? {
      schema: t.target.schema,
      table: t.target.table,
      exists: existing.tables.has(k),
      from: [],
    };
    g.from.push(ref(t));
    targets.set(k, g);
    if (t.key.kind === 'none') t.keyNote = KEYLESS;
    else if (t.extendedColumns)
      t.keyNote = `the extended columns (${Object.keys(t.extendedColumns).join(', ')}) join the key downstream: rows of several upstream tables meet in ${t.target.schema}.${t.target.table}`;
  }
  for (const t of found.tables) {
    const g = targets.get(tkey(t.target.schema, t.target.table))!;
    t.mergedWith = g.from.filter((o) => o.source !== t.source || o.schema !== t.schema || o.table !== t.table);
  }

  // Which statement creates what: CREATE … IF NOT EXISTS does nothing for a target that exists downstream now, or
  // that an earlier statement of the plan creates (sources dump in parallel: then whichever runs first creates it).
  const dbsMade = new Map<string, PlanStatement>();
  const tablesMade = new Map<string, PlanStatement>();
  const bodyOf = new Map<PlanStatement, string>();
  for (const s of found.statements) {
    if (s.kind === 'database') {
      const k = fold(s.target.schema);
      const first = dbsMade.get(k);
      if (existing.schemas.has(k)) s.noop = 'the database exists downstream';
      else if (first) s.noop = createdBefore(first, s);
      else dbsMade.set(k, s);
      continue;
    }
    const k = tkey(s.target.schema, s.target.table ?? '');
    bodyOf.set(s, normalBody(s.sql));
    const first = tablesMade.get(k);
    if (existing.tables.has(k)) s.noop = 'the table exists downstream';
    else if (first) s.noop = createdBefore(first, s);
    else {
      tablesMade.set(k, s);
      const g = targets.get(k);
      if (g) g.createdBy = s;
    }
  }
  for (const [k, g] of targets) {
    if (!g.createdBy) continue;
    const mine = bodyOf.get(g.createdBy);
    const odd = found.statements.filter(
      (s) => s.kind === 'table' && bodyOf.get(s) !== mine && tkey(s.target.schema, s.target.table ?? '') === k,
    );
    if (odd.length)
      g.differentShards = odd.map((s) => ({
        source: s.source,
        schema: s.upstream.schema,
        table: s.upstream.table ?? '',
      }));
  }

  const notes = [...found.notes];
  if (task.taskMode === 'incremental')
    notes.push(
      'task-mode incremental: there is no dump, so no statement is run first; the downstream tables must exist, or come from DDL in the binlog after the start position',
    );
  if (found.tables.some((t) => t.expressionFilters.length > 0))
    notes.push('expression filters apply to binlog rows only: the full dump copies every row, as in DM');
  for (const g of targets.values()) {
    if (
      !g.exists &&
      found.tables.some((t) => t.extendedColumns && tkey(t.target.schema, t.target.table) === tkey(g.schema, g.table))
    )
      notes.push(
        `${g.schema}.${g.table} gets extended columns but does not exist downstream: create it with them first (tsdm, like DM, never adds them; check-task fails until then)`,
      );
    if (g.differentShards?.length)
      notes.push(
        `${g.schema}.${g.table}: the CREATE TABLE of ${g.differentShards.map((r) => `${r.source}:${r.schema}.${r.table}`).join(', ')} differs from the one that creates it; the first shard's statement decides the structure`,
      );
    if (!task.shardMode && g.from.length > 1)
      notes.push(
        describeCollision(
          {
            target: { schema: g.schema, table: g.table },
            tables: g.from.map((r) => ({ source: r.source, table: { schema: r.schema, table: r.table } })),
          },
          task.subtasks.length > 1,
        ),
      );
  }
  const sorted = [...targets.values()].sort((a, b) => (`${a.schema}\0${a.table}` < `${b.schema}\0${b.table}` ? -1 : 1));
  return {
    task: task.name,
    taskMode: task.taskMode,
    shardMode: task.shardMode,
    tables: found.tables,
    skipped: found.skipped,
    targets: sorted,
    statements: found.statements,
    notes,
  };
}

function createdBefore(first: PlanStatement, s: PlanStatement): string {
  return first.source === s.source
    ? `created by the statement for ${refName(first.upstream)} before it`
    : `created by ${first.source}'s statement for ${refName(first.upstream)}, or by this one if ${s.source} gets there first (sources dump in parallel)`;
}

/** A CREATE TABLE without its AUTO_INCREMENT counter, to tell shards whose structures differ. */
function normalBody(sql: string): string {
  return sql.replace(/\s+AUTO_INCREMENT=\d+/i, '');
}

function refName(r: { schema: string; table?: string }): string {
  return r.table === undefined ? r.schema : `${r.schema}.${r.table}`;
}
