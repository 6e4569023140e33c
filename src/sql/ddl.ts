import type { TableName } from './table-name.ts';
import { DmError } from '../errors/index.ts';
import type { DmEventType } from '../filter/event-filter.ts';
import { crossCheck } from './ddl-crosscheck.ts';
import { analyze, type Analysis, type QueryKind } from './ddl-parse.ts';
import { qualify, quoteIdent } from './table-name.ts';

/**
 * Understanding and rewriting the statements of binlog Query events (DESIGN.md §4, "DDL").
 *
 * Approach, and why:
 * 1. Rewriting is done on the ORIGINAL TEXT, by replacing the tokens of each table/schema name with the
 *    routed, qualified, backquoted name and inserting `IF [NOT] EXISTS`, never by regenerating SQL from an
 *    AST. node-sql-parser 5.4 regenerates CREATE TABLE unfaithfully (measured): it moves CHARACTER SET /
 *    COLLATE after COMMENT, leaves index names unquoted, drops executable comments (`/*!50100 PARTITION
 *    BY ... *\/`) and cannot parse PARTITION BY, PERSISTENT/INVISIBLE columns, system versioning at all.
 *    Token substitution keeps column types, defaults, charsets, comments, generated columns, AUTO_INCREMENT
 *    and ENGINE options byte for byte.
 * 2. Names are located by a lexer (lexer.ts) and a walker over the name-bearing parts of the DDL grammar
 *    (ddl-parse.ts). node-sql-parser (MariaDB grammar, then MySQL's) parses the statement too where it can,
 *    and must agree on the statement kind and its tables (ddl-crosscheck.ts lists what it cannot parse);
 *    disagreement is an UnsupportedEvent error, so the task pauses rather than apply DDL to a wrong table.
 * 3. What DM never replicates is classified 'skip' with a reason: DM's built-in skip list
 *    (tiflow dm/pkg/utils `builtInSkipDDLs`: SAVEPOINT, FLUSH, OPTIMIZE/ANALYZE/REPAIR TABLE, DROP TEMPORARY
 *    TABLE, triggers, procedures, functions, views, tablespaces, events, GRANT/REVOKE, CREATE/ALTER/RENAME/DROP
 *    USER, SET PASSWORD), plus CREATE TEMPORARY TABLE, roles, servers, plugins, LOCK/UNLOCK, other SET, and
 *    comment-only statements (MariaDB's `# Dummy event ...`). Sequences and XA are 'unknown' (not supported:
 *    the caller pauses), as is anything unrecognised.
 * 4. Idempotency like DM's `SplitDDL`: CREATE TABLE/DATABASE get IF NOT EXISTS (not with OR REPLACE, which
 *    MariaDB refuses to combine and which is idempotent anyway), DROP TABLE/DATABASE get IF EXISTS. DM also
 *    adds IF EXISTS to DROP INDEX, which MySQL does not accept: we do not.
 * 5. Splitting (`splitDdl`) like DM: DROP TABLE a, b and RENAME TABLE a TO b, c TO d become one statement
 *    per table (names qualified with the current schema). ALTER TABLE is NOT split per clause as DM does for
 *    TiDB: MySQL/MariaDB apply a multi-clause ALTER atomically, and splitting breaks `CHANGE a b .., CHANGE
 *    b a ..` or `ADD c INT NOT NULL, ADD UNIQUE(c)` on a table with rows. Optimistic shard merge does decide per
 *    clause (`alterClauses`), then runs the clauses that change the merged table together in one statement; the
 *    binlog event filter decides clause by clause too, with DM's event for each (filter/ddl-events.ts,
 *    agent/sync/ddl-filter.ts), and runs the clauses it keeps together.
 * 6. Tables of a statement, in DM's `FetchDDLTables` order: the statement's table(s), the LIKE source, the
 *    RENAME target(s), the EXCHANGE PARTITION table. FOREIGN KEY ... REFERENCES tables are not among them
 *    (DM skips ReferenceDef) but are routed on rewrite, so a renamed schema keeps its foreign keys valid.
 *    Unqualified names resolve to `currentSchema` (the Query event's schema).
 */

export type { QueryKind } from './ddl-parse.ts';

export interface QueryInfo {
  kind: QueryKind;
  /** DM's event type of the statement (for 'ddl', and for skipped views). */
  eventType?: DmEventType;
  /**
   * ALTER TABLE only: 'alter table' and a coarse kind of each clause, for shard coordination. Not DM's binlog-filter
   * events (those depend on the table before the statement: filter/ddl-events.ts).
   */
  clauseKinds?: DmEventType[];
  /** Schema-resolved tables; a database statement gives one entry with table ''. */
  tables: TableName[];
  /** Why a 'skip' is skipped, or why a statement is 'unknown'. */
  skipReason?: string;
}

export function classifyQuery(sql: string, currentSchema: string): QueryInfo {
  // Fast path: most Query events are transaction boundaries.
  if (sql === 'BEGIN') return { kind: 'begin', tables: [] };
  if (sql === 'COMMIT') return { kind: 'commit', tables: [] };
  const a = analyze(sql);
  crossCheck(sql, a);
  const info: QueryInfo = { kind: a.kind, tables: tablesOf(a, currentSchema) };
  if (a.eventType !== undefined) info.eventType = a.eventType;
  if (a.clauseKinds !== undefined) info.clauseKinds = a.clauseKinds;
  if (a.skipReason !== undefined) info.skipReason = a.skipReason;
  return info;
}

/**
 * The DDL with every table name replaced by `route(name)` (qualified and backquoted), database names by the
 * routed schema, and made idempotent. Everything else is the original text. Throws DmError('UnsupportedEvent')
 * for a statement that is not a replicable DDL or cannot be rewritten safely.
 */
export function rewriteDdl(sql: string, currentSchema: string, route: (t: TableName) => TableName): string {
  const a = ddlAnalysis(sql);
  const edits: { start: number; end: number; text: string }[] = [];
  for (const n of a.names) {
    if (n.role === 'schema') {
      edits.push({ start: n.start, end: n.end, text: quoteIdent(route({ schema: n.schema!, table: '' }).schema) });
    } else {
      edits.push({
        start: n.start,
        end: n.end,
        text: qualify(route({ schema: resolve(n.schema, currentSchema, sql), table: n.table })),
      });
    }
  }
  if (a.insertIfNotExistsAt !== undefined)
    edits.push({ start: a.insertIfNotExistsAt, end: a.insertIfNotExistsAt, text: ' IF NOT EXISTS' });
  if (a.insertIfExistsAt !== undefined)
    edits.push({ start: a.insertIfExistsAt, end: a.insertIfExistsAt, text: ' IF EXISTS' });
  if (a.insertSchemaAt !== undefined) {
    const schema = route({ schema: resolve(undefined, currentSchema, sql), table: '' }).schema;
    edits.push({ start: a.insertSchemaAt, end: a.insertSchemaAt, text: ' ' + quoteIdent(schema) });
  }
  return applyEdits(sql, edits);
}

/**
 * One statement per table for DROP TABLE a, b and RENAME TABLE a TO b, c TO d (as DM's SplitDDL), with
 * unqualified names qualified by `currentSchema`; any other statement is returned as it is.
 */
export function splitDdl(sql: string, currentSchema: string): string[] {
  const a = analyze(sql);
  if (a.kind !== 'ddl' || a.items === undefined || a.items.length < 2) return [sql];
  const first = a.items[0]!;
  const last = a.items[a.items.length - 1]!;
  const prefix = sql.slice(0, first.start);
  const suffix = sql.slice(last.end);
  return a.items.map((item) => {
    const edits = a.names
      .filter((n) => n.start >= item.start && n.end <= item.end && (n.schema !== undefined || currentSchema !== ''))
      .map((n) => ({
        start: n.start - item.start,
        end: n.end - item.start,
        text: qualify({ schema: n.schema ?? currentSchema, table: n.table }),
      }));
    return prefix + applyEdits(sql.slice(item.start, item.end), edits) + suffix;
  });
}

/**
 * The table renames of a statement, in order: each `RENAME TABLE a TO b` item and an `ALTER TABLE a RENAME [TO] b`
 * clause, with unqualified names resolved to `currentSchema`. Empty for any other statement.
 */
export function renamedTables(sql: string, currentSchema: string): { from: TableName; to: TableName }[] {
  const a = analyze(sql);
  if (a.kind !== 'ddl') return [];
  const out: { from: TableName; to: TableName }[] = [];
  let from: TableName | undefined;
  for (const n of a.names) {
    const t = { schema: n.schema ?? currentSchema, table: n.table };
    if (n.role === 'target') from = t;
    else if (n.role === 'rename-to' && from) out.push({ from, to: t });
  }
  return out;
}

/**
 * ALTER TABLE per clause, for optimistic shard merge (DM's syncer splits an ALTER the same way before it coordinates
 * each piece): `prefix` is the text up to the first clause (`ALTER TABLE t `) and `prefix + clause` is a statement of
 * its own. Undefined for any other statement and for an ALTER without clauses. Clauses that must run together (see
 * point 5 above) are joined again by the caller: `prefix + clauses.join(', ')`.
 */
export function alterClauses(sql: string): { prefix: string; clauses: string[] } | undefined {
  const a = analyze(sql);
  if (a.kind !== 'ddl' || a.eventType !== 'alter table' || !a.clauses?.length) return undefined;
  return { prefix: sql.slice(0, a.clauses[0]!.start), clauses: a.clauses.map((c) => sql.slice(c.start, c.end)) };
}

function ddlAnalysis(sql: string): Analysis {
  const a = analyze(sql);
  if (a.kind !== 'ddl') {
    throw new DmError(
      'UnsupportedEvent',
      `not a DDL statement tsdm replicates (${a.kind}${a.skipReason ? `: ${a.skipReason}` : ''})`,
      { context: { sql } },
    );
  }
  crossCheck(sql, a);
  if (a.cannotRewrite !== undefined) throw new DmError('UnsupportedEvent', a.cannotRewrite, { context: { sql } });
  return a;
}

function tablesOf(a: Analysis, currentSchema: string): TableName[] {
  const out: TableName[] = [];
  for (const n of a.names) {
    if (n.role === 'reference') continue;
    out.push(
      n.role === 'schema' ? { schema: n.schema!, table: '' } : { schema: n.schema ?? currentSchema, table: n.table },
    );
  }
  if (a.insertSchemaAt !== undefined) out.push({ schema: currentSchema, table: '' });
  return out;
}

function resolve(schema: string | undefined, currentSchema: string, sql: string): string {
  const s = schema ?? currentSchema;
  if (s === '') {
    throw new DmError(
      'UnsupportedEvent',
      'DDL names a table without a schema and the binlog event has no current schema',
      { context: { sql } },
    );
  }
  return s;
}

function applyEdits(text: string, edits: { start: number; end: number; text: string }[]): string {
  let out = text;
  for (const e of [...edits].sort((x, y) => y.start - x.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
