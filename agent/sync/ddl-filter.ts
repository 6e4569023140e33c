import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import { DmError } from '../../src/errors/index.ts';
import { alterWithClauses, ddlEvents, type DdlClause } from '../../src/filter/ddl-events.ts';
import type { DmEventType, FilterDecision } from '../../src/filter/event-filter.ts';
import type { TrackedTable } from '../../src/schema/model.ts';

/**
 * The binlog event filter on one DDL statement (already split as DM's SplitDDL does, see sql/ddl.ts splitDdl), with
 * DM's event for it (filter/ddl-events.ts). For each table of the statement the block-allow list lets through, as
 * DM's skipQueryEvent does:
 * - a statement that is not ALTER TABLE: Error → the statement stops the task; Ignore → it is dropped;
 * - ALTER TABLE: each clause is decided with its own event (DM splits the ALTER into one statement per clause):
 *   Error on any clause → the whole statement stops the task (nothing of it
 *   runs, as in DM, where every split statement is filtered before any runs); Ignore → that clause is dropped and the
 *   others run together as one ALTER; all dropped → nothing runs.
 * sql-patterns are matched against the statement as the binlog has it (`originalSql`), for every split statement and
 * clause alike, as DM passes its `originSQL` to the filter.
 * Returns the statement to run (the original text, or the ALTER with only the kept clauses), or null.
 */

export interface DdlFilterInput {
  /** One statement (split). */
  sql: string;
  /** The Query event's statement (or the `binlog replace` statement) it was split from: what sql-patterns see. */
  originalSql: string;
  /** Its tables that the block-allow list lets through (table '' for a database statement). */
  tables: TableName[];
  /** The tables altered, as they were before the statement (QueryEvent.tablesBefore). */
  tablesBefore: readonly TrackedTable[];
  decide(schema: string, table: string, event: DmEventType | null, sql: string): FilterDecision;
  /** A dropped statement or clause, for the log. */
  dropped(detail: { sql: string; event: DmEventType | null; rule?: string }): void;
  taskName: string;
  position: string;
}

export function filterDdl(i: DdlFilterInput): string | null {
  const target = i.tables[0];
  const before =
    target === undefined
      ? undefined
      : i.tablesBefore.find(
          (t) =>
            t.schema.toLowerCase() === target.schema.toLowerCase() &&
            t.table.toLowerCase() === target.table.toLowerCase(),
        );
  const ev = ddlEvents(i.sql, before);
  if (!ev.clauses || ev.clauses.length === 0) {
    for (const t of i.tables) {
      const d = i.decide(t.schema, t.table, ev.event, i.originalSql);
      if (d.action === 'Error') throw filterError(i, d.rule, ev.event, i.sql);
      if (d.action === 'Ignore') {
        i.dropped({ sql: i.sql, event: ev.event, ...(d.rule ? { rule: d.rule } : {}) });
        return null;
      }
    }
    return i.sql;
  }
  const head = i.sql.slice(0, ev.clauses[0]!.start);
  const kept: DdlClause[] = [];
  for (const c of ev.clauses) {
    if (c.event === null) {
      kept.push(c);
      continue;
    }
    const clauseSql = head + i.sql.slice(c.start, c.end);
    let ignoredBy: FilterDecision | undefined;
    for (const t of i.tables) {
      const d = i.decide(t.schema, t.table, c.event, i.originalSql);
      if (d.action === 'Error') throw filterError(i, d.rule, c.event, clauseSql);
      if (d.action === 'Ignore') {
        ignoredBy = d;
        break;
      }
    }
    if (ignoredBy) i.dropped({ sql: clauseSql, event: c.event, ...(ignoredBy.rule ? { rule: ignoredBy.rule } : {}) });
    else kept.push(c);
  }
  return alterWithClauses(i.sql, ev.clauses, kept);
}

function filterError(i: DdlFilterInput, rule: string | undefined, event: DmEventType | null, part: string): DmError {
  const what = part === i.sql ? '' : ` (clause: ${part.slice(0, 200)})`;
  return new DmError(
    'FilterError',
    `DDL is event \`${event ?? 'none'}\`, which filter rule ${rule ?? '?'} stops (action Error): ${i.sql.slice(0, 300)}${what}`,
    {
      context: {
        sql: i.sql,
        position: i.position,
        ...(i.tables[0]?.table ? { table: tableKey(i.tables[0]) } : {}),
      },
      suggestion: `This is what the rule asks for. Skip the statement with \`dmctl binlog skip ${i.taskName}\`, run other SQL in its place with \`dmctl binlog replace ${i.taskName} "<sql>"\`, or change the rule; then \`dmctl resume-task ${i.taskName}\`.`,
    },
  );
}
