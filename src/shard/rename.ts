import { DmError } from '../errors/index.ts';
import { classifyQuery, renamedTables } from '../sql/ddl.ts';
import { qualify, type TableName } from '../sql/table-name.ts';

/**
 * Renames in a shard merge (shard-mode pessimistic|optimistic), decided as DM does (pingcap/tiflow dm/):
 *
 * - Optimistic, RENAME TABLE (or ALTER TABLE ... RENAME TO) of a shard: refused. DM's `Optimist.preFilter`
 *   (syncer/ddl.go) returns ErrSyncerUnsupportedStmt 36068 "`RENAME TABLE` statement not supported in optimistic
 *   mode"; its test shardddl1 DM_RENAME_TABLE expects exactly that text in query-status.
 * - Optimistic, RENAME COLUMN / CHANGE that renames / RENAME INDEX: DM calls them "Type 2 DDL". With
 *   `strict-optimistic-shard-mode: true` DM pauses with ErrSyncerShardDDLConflict 36062; without it DM skips the
 *   shard's events until every shard made the same rename, then runs it once and replays the shard (ConflictSkipWaitRedirect).
 *   tsdm implements only the strict behaviour: ShardDdlConflict (TSDM-50008, mapped to 36062).
 * - Pessimistic, RENAME TABLE: supported by DM when a statement renames one table (else ErrSyncerUnitDDLOnMultipleTable
 *   36022 from `Pessimist.preFilter`) to a new name of the same shard group (docs "feature-shard-merge-pessimistic",
 *   Restrictions). The routed statement is `RENAME TABLE target TO target`, whose "table exists" error DM ignores
 *   (pkg/errorutil IsIgnorableMySQLDDLError): the merged table does not change and the shard goes on under its new
 *   name (shardddl1 DM_RENAME_TABLE ends with equal data). tsdm does the same without a lock round (nothing runs
 *   downstream): `noop`. A rename into or out of the group (the new name routes elsewhere or is filtered out) would
 *   rename or orphan the merged table: refused with ShardDdlUnsupported.
 */

export interface RenameRules {
  allowTable(schema: string, table: string): boolean;
  route(schema: string, table: string): TableName;
}

export type RenameVerdict =
  /** The statements rename no shard table: the usual shard-DDL path. */
  | { kind: 'none' }
  /** Pessimistic: renames within the shard group of `target`: nothing runs downstream; the shard keeps its rows. */
  | { kind: 'noop'; renames: { from: TableName; to: TableName }[]; target: TableName };

export interface RenameEvent {
  task: string;
  /** The event's statement (context of the error) and where it is. */
  sql: string;
  position: string;
}

const sameTable = (a: TableName, b: TableName) => a.schema === b.schema && a.table === b.table;

/**
 * What a shard-mode task does with statements `stmts` (the event's, or a `dmctl binlog replace` decision's) when they
 * rename a shard table or a shard's column/index. Throws the DmError that pauses the subtask when tsdm (as DM) refuses.
 */
export function shardRename(
  stmts: readonly string[],
  currentSchema: string,
  mode: 'pessimistic' | 'optimistic',
  rules: RenameRules,
  ev: RenameEvent,
): RenameVerdict {
  const allowed = (t: TableName) => rules.allowTable(t.schema, t.table);
  const route = (t: TableName) => rules.route(t.schema, t.table);
  const context = { sql: ev.sql, position: ev.position };
  const renames: { from: TableName; to: TableName }[] = [];
  let target: TableName | undefined;
  let others = false;
  for (const stmt of stmts) {
    const info = classifyQuery(stmt, currentSchema);
    if (info.kind !== 'ddl') continue;
    const pairs = renamedTables(stmt, currentSchema).filter((p) => allowed(p.from) || allowed(p.to));
    if (mode === 'optimistic') {
      if (pairs.length > 0)
        throw new DmError(
          'ShardDdlUnsupported',
          `\`RENAME TABLE\` statement not supported in optimistic mode: ${stmt.slice(0, 300)}`,
          {
            context,
            suggestion: `DM refuses it too. When the new name routes to the same target, skip it with \`dmctl binlog skip ${ev.task}\`: the merged table does not change and the shard goes on under its new name. Otherwise rename the target table downstream by hand once every shard is renamed, then skip the statement on each source.`,
          },
        );
      if (info.clauseKinds?.some((k) => k === 'rename column' || k === 'rename index'))
        throw new DmError(
          'ShardDdlConflict',
          `fail to handle shard ddl [${stmt.slice(0, 300)}] in optimistic mode, because schema conflict detected, conflict error: a RENAME COLUMN/INDEX on one shard conflicts with the shards that still have the old name (tsdm's optimistic mode behaves as DM's strict-optimistic-shard-mode)`,
          {
            context,
            suggestion: `Rename columns in a pessimistic-mode task, where every shard's rename runs once downstream. In this task: stop writes to the shard tables and make the same rename on every shard; when each source has paused here, run the rename once on the downstream table, then \`dmctl binlog skip ${ev.task}\` on each source (tsdm records the shard's new structure).`,
          },
        );
      continue;
    }
    if (pairs.length === 0) {
      others = true;
      continue;
    }
    if (pairs.length > 1)
      throw new DmError(
        'ShardDdlMultipleTables',
        `ddl on multiple table: ${stmt.slice(0, 300)} not supported (a shard table's RENAME TABLE must rename one table)`,
        {
          context,
          suggestion: `Rename one table per statement upstream. For this event: \`dmctl binlog replace ${ev.task} "${pairs.map((p) => `RENAME TABLE ${qualify(p.from)} TO ${qualify(p.to)}`).join('; ')}"\`.`,
        },
      );
    const p = pairs[0]!;
    const pure =
      info.eventType === 'rename table' ||
      (info.clauseKinds ?? []).every((k) => k === 'alter table' || k === 'rename table');
    const from = allowed(p.from) ? route(p.from) : undefined;
    const to = allowed(p.to) ? route(p.to) : undefined;
    if (!from || !to || !sameTable(from, to) || !pure || (target && !sameTable(target, from))) {
      const where = (t: TableName | undefined) => (t ? `\`${t.schema}\`.\`${t.table}\`` : 'no target (filtered out)');
      throw new DmError(
        'ShardDdlUnsupported',
        !pure
          ? `a shard table's rename must be a statement of its own in shard mode: ${stmt.slice(0, 300)}`
          : `RENAME TABLE ${qualify(p.from)} TO ${qualify(p.to)} moves a table between shard groups (${where(from)} → ${where(to)}); tsdm merges a shard's rename only within its group: ${stmt.slice(0, 300)}`,
        {
          context,
          suggestion: !pure
            ? `Skip it with \`dmctl binlog skip ${ev.task}\` and run its other clauses as their own statements: \`dmctl binlog replace ${ev.task} "<rename>; <alter>"\`.`
            : `Route the new name to the same target as the old one (the rename then leaves the merged table as it is), or rename the target downstream by hand once every shard has been renamed and skip the statement with \`dmctl binlog skip ${ev.task}\` on each source.`,
        },
      );
    }
    target = from;
    renames.push(p);
  }
  if (renames.length === 0) return { kind: 'none' };
  if (others)
    throw new DmError('ShardDdlUnsupported', `a shard table's rename must be a statement of its own in shard mode`, {
      context,
      suggestion: `Replace the statements so that the rename is alone: \`dmctl binlog replace ${ev.task} "<rename>"\`, and run the others as separate events.`,
    });
  return { kind: 'noop', renames, target: target! };
}
