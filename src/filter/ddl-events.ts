import { analyze } from '../sql/ddl-parse.ts';
import { lex, type Token } from '../sql/lexer.ts';
import { parseColumnDef, resolveColumn } from '../schema/column-def.ts';
import { Cursor } from '../schema/cursor.ts';
import type { SchemaTracker, TrackedTable } from '../schema/model.ts';
import { columnChangeEvent } from './column-change.ts';
import type { DmEventType } from './event-filter.ts';

/**
 * DM's binlog-filter event of a DDL statement (tiflow dm/syncer/ddl.go `AstToDDLEvent`, pkg/binlog-filter
 * `AstToDDLEvent`), so that `incompatible ddl changes` and the finer events mean what they mean in DM.
 *
 * DM splits an ALTER TABLE into one statement per clause (`SplitDDL`) and filters each with its own event, all
 * against the table as it was before the statement (the schema tracker sees the statement after the filter).
 * tsdm runs a multi-clause ALTER as one statement (MySQL/MariaDB apply it atomically), so it classifies each clause
 * the same way and the sync unit filters clause by clause (agent/sync/ddl.ts). Clause → event, as DM:
 *   ADD [COLUMN] ..., ADD PARTITION, PARTITION BY, REMOVE PARTITIONING, DROP FOREIGN KEY / CONSTRAINT / CHECK,
 *     ALTER INDEX, COMMENT=, AUTO_INCREMENT=, ROW_FORMAT=, FORCE, ORDER BY, ...     → alter table (compatible)
 *   ADD INDEX|KEY|UNIQUE|PRIMARY KEY|FULLTEXT|SPATIAL|FOREIGN KEY|CHECK|CONSTRAINT   → modify constraint
 *   DROP [COLUMN] c → drop column;  DROP INDEX|KEY → drop index;  DROP PRIMARY KEY → drop primary key
 *   DROP / TRUNCATE / REORGANIZE / REBUILD / COALESCE / EXCHANGE PARTITION → drop / truncate / reorganize / rebuild /
 *     coalesce / exchange table partition
 *   MODIFY / CHANGE [COLUMN] → by comparing the old and new column (column-change.ts)
 *   RENAME COLUMN → rename column;  RENAME INDEX|KEY → rename index;  RENAME [TO|AS] t → rename table
 *   ALTER [COLUMN] c SET DEFAULT / DROP DEFAULT → modify default value
 *   table options: the first of [DEFAULT] CHARACTER SET|CHARSET (also CONVERT TO) → modify charset,
 *     [DEFAULT] COLLATE → modify collation, ENGINE → modify storage engine; none of them → alter table
 *   ALGORITHM= and LOCK= are not clauses of their own for DM (ResolveAlterTableSpec drops them): here they have no
 *   event and go with the statement (kept when any other clause is kept).
 * Other statements: create/drop/alter database, create/drop table, truncate table, rename table, create/drop index,
 * create/drop view. So `ALTER TABLE t ADD INDEX` is the incompatible `modify constraint` while `CREATE INDEX` is the
 * compatible `create index`, and DM's `add column`, `add table partition`, `drop foreign key`, `modify table comment`,
 * ... are accepted in rules but never produced, exactly as in DM.
 */

export interface DdlClause {
  /** Character offsets of the clause in the statement text. */
  start: number;
  end: number;
  /** DM's event of this clause; null for ALGORITHM= / LOCK=, which follow the rest of the statement. */
  event: DmEventType | null;
}

export interface DdlEvents {
  /** The statement's event (ALTER TABLE: 'alter table'); null when DM has none for it (its NullEvent). */
  event: DmEventType | null;
  /** ALTER TABLE: its clauses in order (empty for a bare ALTER TABLE t). */
  clauses?: DdlClause[];
}

/**
 * `sql`: one statement (already split as splitDdl does). `tableBefore`: the table the ALTER names, as the schema
 * tracker had it before the statement (undefined when unknown: MODIFY/CHANGE then classify as 'alter table', as DM
 * does when it has no table info).
 */
export function ddlEvents(sql: string, tableBefore: TrackedTable | undefined): DdlEvents {
  const a = analyze(sql);
  if (a.kind !== 'ddl' && a.eventType === undefined) return { event: null };
  const event = a.eventType ?? null;
  if (a.clauseTokens === undefined) return { event };
  const { tokens } = lex(sql);
  const clauses: DdlClause[] = [];
  let listOpen = false;
  for (const [from, to] of a.clauseTokens) {
    if (from >= to) continue;
    const last = clauses[clauses.length - 1];
    // DROP PARTITION p0, p1 (and TRUNCATE / REBUILD / ... PARTITION lists): `p1` continues the clause before it.
    // A clause ends where the `,` or `;` after it starts (comments before it stay with it), right-trimmed.
    const end = to < tokens.length ? trimEnd(sql, tokens[to - 1]!.end, tokens[to]!.start) : tokens[to - 1]!.end;
    if (listOpen && last && to - from === 1 && isName(tokens[from]!)) {
      last.end = end;
      continue;
    }
    const e = clauseEvent(tokens, from, to, tableBefore);
    clauses.push({ start: tokens[from]!.start, end, event: e });
    listOpen = partitionList(tokens, from, to);
  }
  return { event, clauses };
}

/**
 * What classification needs from the tracker BEFORE it applies `sql`: the tables the statement names (an ALTER's
 * target; for RENAME TABLE, the tables it renames, so an online-DDL tool's ALTER run in place of its cut-over RENAME is
 * classified against the real table as it was), as they are now. Tracked tables are never mutated, so the
 * references stay valid after the tracker moves on. Statements without table names give [].
 */
export function tablesBefore(tracker: SchemaTracker, sql: string, currentSchema: string): TrackedTable[] {
  const a = analyze(sql);
  if (a.kind !== 'ddl' || (a.eventType !== 'alter table' && a.eventType !== 'rename table')) return [];
  const out: TrackedTable[] = [];
  for (const n of a.names) {
    if (n.role !== 'target') continue;
    const t = tracker.get(n.schema ?? currentSchema, n.table);
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/**
 * The ALTER TABLE statement with only `keep` of its clauses (in their order), the rest of the text as it was; null
 * when no clause with an event is kept (nothing left to run).
 */
export function alterWithClauses(sql: string, all: DdlClause[], keep: readonly DdlClause[]): string | null {
  if (!keep.some((c) => c.event !== null) || all.length === 0) return null;
  if (keep.length === all.length) return sql;
  const head = sql.slice(0, all[0]!.start);
  const tail = sql.slice(all[all.length - 1]!.end);
  return head + keep.map((c) => sql.slice(c.start, c.end)).join(', ') + tail;
}

function trimEnd(sql: string, min: number, end: number): number {
  let e = end;
  while (e > min && /\s/.test(sql[e - 1]!)) e--;
  return e;
}

function isName(t: Token): boolean {
  return t.type === 'word' || t.type === 'qident';
}

function word(t: Token[], k: number, to: number): string {
  return k < to && t[k]!.type === 'word' ? t[k]!.upper : '';
}

/** A clause that ends with a comma-separated partition name list (DROP PARTITION p0, p1). */
function partitionList(t: Token[], from: number, to: number): boolean {
  const w0 = word(t, from, to);
  return (
    ['DROP', 'TRUNCATE', 'REBUILD', 'ANALYZE', 'CHECK', 'OPTIMIZE', 'REPAIR', 'DISCARD', 'IMPORT'].includes(w0) &&
    word(t, from + 1, to) === 'PARTITION'
  );
}

const CONSTRAINT_HEADS = new Set([
  'INDEX',
  'KEY',
  'UNIQUE',
  'PRIMARY',
  'FULLTEXT',
  'SPATIAL',
  'FOREIGN',
  'CHECK',
  'CONSTRAINT',
]);

function clauseEvent(t: Token[], from: number, to: number, table: TrackedTable | undefined): DmEventType | null {
  const w = (k: number) => word(t, from + k, to);
  switch (w(0)) {
    case 'ADD':
      return CONSTRAINT_HEADS.has(w(1)) ? 'modify constraint' : 'alter table';
    case 'DROP':
      switch (w(1)) {
        case 'PRIMARY':
          return 'drop primary key';
        case 'INDEX':
        case 'KEY':
          return 'drop index';
        case 'PARTITION':
          return 'drop table partition';
        case 'FOREIGN':
        case 'CONSTRAINT':
        case 'CHECK':
        case 'PERIOD':
        case 'SYSTEM':
          return 'alter table';
        default:
          return 'drop column';
      }
    case 'MODIFY':
    case 'CHANGE':
      return modifyEvent(t, from, to, table);
    case 'RENAME':
      if (w(1) === 'COLUMN') return 'rename column';
      if (w(1) === 'INDEX' || w(1) === 'KEY') return 'rename index';
      return 'rename table';
    case 'ALTER': {
      if (['INDEX', 'KEY', 'CHECK', 'CONSTRAINT'].includes(w(1))) return 'alter table';
      const k = w(1) === 'COLUMN' ? 3 : 2;
      return (w(k) === 'SET' && w(k + 1) === 'DEFAULT') || (w(k) === 'DROP' && w(k + 1) === 'DEFAULT')
        ? 'modify default value'
        : 'alter table';
    }
    case 'TRUNCATE':
      return w(1) === 'PARTITION' ? 'truncate table partition' : 'alter table';
    case 'REORGANIZE':
      return 'reorganize table partition';
    case 'REBUILD':
      return w(1) === 'PARTITION' ? 'rebuild table partition' : 'alter table';
    case 'COALESCE':
      return 'coalesce table partition';
    case 'EXCHANGE':
      return 'exchange table partition';
    case 'ALGORITHM':
    case 'LOCK':
      return null;
    default:
      return optionsEvent(t, from, to);
  }
}

/** Table options (and CONVERT TO CHARACTER SET): the first charset / collation / engine option decides. */
function optionsEvent(t: Token[], from: number, to: number): DmEventType {
  for (let k = from; k < to; k++) {
    const x = t[k]!;
    if (x.type !== 'word') continue;
    if (x.upper === 'CHARSET' || (x.upper === 'CHARACTER' && word(t, k + 1, to) === 'SET')) return 'modify charset';
    if (x.upper === 'COLLATE') return 'modify collation';
    if (x.upper === 'ENGINE') return 'modify storage engine';
    if (x.upper === 'PARTITION' && word(t, k + 1, to) === 'BY') return 'alter table';
  }
  return 'alter table';
}

function modifyEvent(t: Token[], from: number, to: number, table: TrackedTable | undefined): DmEventType {
  const c = new Cursor(t, from, to);
  const change = c.kw('CHANGE');
  if (!change) c.must('MODIFY');
  c.kw('COLUMN');
  c.kw('IF', 'EXISTS');
  try {
    const oldName = change ? c.ident() : c.peek() ? identText(c.peek()!) : '';
    const spec = parseColumnDef(c);
    if (!table) return 'alter table';
    const column = resolveColumn(
      spec,
      { charset: table.charset, collation: table.collation },
      { explicitDefaultsForTimestamp: true },
    );
    return columnChangeEvent(table, oldName, {
      column,
      positioned: spec.position !== undefined,
      keyOption: spec.primary || spec.unique,
    });
  } catch {
    // A definition the tracker's reader does not know: DM also falls back to AlterTable when it cannot resolve it.
    return 'alter table';
  }
}

function identText(t: Token): string {
  return t.type === 'word' ? t.text : t.value;
}
