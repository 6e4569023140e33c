import { DmError } from '../errors/index.ts';
import type { Analysis } from './ddl-parse.ts';
import { sqlParser } from './grammar.ts';

/**
 * Second opinion from a real SQL grammar (node-sql-parser, MariaDB grammar first, then MySQL's) on which
 * objects a DDL statement names. The walker in ddl-parse.ts locates names for rewriting; when
 * node-sql-parser can also parse the statement, both must agree on the statement's kind and on its
 * tables (or schema), else the statement is reported instead of replicated: a DDL applied to the wrong
 * table is worse than a paused task (`dmctl binlog skip|replace` resolves it).
 *
 * Coverage measured on the 58 DDL statements of test/unit/ddl.test.ts: 36 are cross-checked (30 parse in
 * both grammars, 2 only in MariaDB's, 4 only in MySQL's), 22 are checked by the walker alone because
 * node-sql-parser 5.4 parses them in neither grammar: PARTITION BY (CREATE and ALTER); CREATE OR REPLACE
 * TABLE/DATABASE/INDEX; the inet6 type, PERSISTENT and INVISIBLE columns, WITH SYSTEM VERSIONING;
 * "double-quoted" column names; unquoted names with letters outside Latin/CJK (`Таблица`) or starting
 * with a digit (`db.1t`); ALTER TABLE ... RENAME AS db.t, RENAME INDEX/KEY, CONVERT TO CHARACTER SET,
 * ALTER COLUMN ... SET DEFAULT, EXCHANGE PARTITION, ALTER ONLINE/IGNORE, ALTER TABLE IF EXISTS, DROP COLUMN
 * IF EXISTS; DROP INDEX IF EXISTS; backquoted names in DROP DATABASE/SCHEMA; ALTER DATABASE/SCHEMA;
 * `SET STATEMENT ... FOR`. Only the MariaDB grammar knows ADD COLUMN IF NOT EXISTS and DROP TABLE ...
 * RESTRICT; only the MySQL grammar knows ALTER TABLE ... ADD INDEX/KEY/FOREIGN KEY and DROP PARTITION.
 * Its AST keeps the doubled backquotes of `a``b`, which we undo before comparing.
 */

/** MariaDB's grammar first, then MySQL's (each loaded at its first use). */
const grammars = [
  ['MariaDB', 'mariadb'],
  ['MySQL', 'mysql'],
] as const;

type Obj = Record<string, unknown>;

export function crossCheck(sql: string, a: Analysis): void {
  if (a.kind !== 'ddl' || a.eventType === 'alter database') return;
  let ast: unknown;
  for (const [database, grammar] of grammars) {
    try {
      ast = sqlParser(grammar).astify(sql, { database });
      break;
    } catch {
      // this grammar does not know the statement; try the next, else the walker alone decides
    }
  }
  if (ast === undefined) return;
  const stmt = (Array.isArray(ast) ? ast[0] : ast) as Obj | undefined;
  const theirs =
    stmt === undefined || (Array.isArray(ast) && ast.length !== 1) ? undefined : namesOf(stmt, a.eventType);
  const ours = a.names
    .filter((n) =>
      a.eventType === 'alter table' ? n.role === 'target' : n.role !== 'reference' && n.role !== 'exchange',
    )
    .map((n) => (n.role === 'schema' ? `schema:${n.schema}` : `${n.schema ?? ''}.${n.table}`));
  if (theirs === undefined || theirs.join('\n') !== ours.join('\n')) {
    throw new DmError(
      'UnsupportedEvent',
      `DDL is ambiguous: tsdm reads ${a.eventType} of [${ours.join(', ')}], node-sql-parser reads ${String(
        stmt?.type,
      )} ${String(stmt?.keyword ?? '')} of [${(theirs ?? []).join(', ')}]`,
      { context: { sql } },
    );
  }
}

/** The statement's objects as node-sql-parser's AST gives them, in our canonical form; undefined = other kind. */
function namesOf(s: Obj, eventType: Analysis['eventType']): string[] | undefined {
  const kw = typeof s.keyword === 'string' ? s.keyword.toLowerCase() : '';
  switch (eventType) {
    case 'create table':
      if (s.type !== 'create' || kw !== 'table') return undefined;
      return [...tables(s.table), ...tables((s.like as Obj | undefined)?.table)];
    case 'alter table':
      return s.type === 'alter' ? tables(s.table).slice(0, 1) : undefined;
    case 'drop table':
      return s.type === 'drop' && kw === 'table' ? tables(s.name) : undefined;
    case 'truncate table':
      return s.type === 'truncate' ? tables(s.name) : undefined;
    case 'rename table':
      return s.type === 'rename' && Array.isArray(s.table) ? tables(s.table.flat()) : undefined;
    case 'create index':
      return s.type === 'create' && kw === 'index' ? tables(s.table) : undefined;
    case 'drop index':
      return s.type === 'drop' && kw === 'index' ? tables(s.table) : undefined;
    case 'create database': {
      if (s.type !== 'create' || (kw !== 'database' && kw !== 'schema')) return undefined;
      const d = (s.database ?? s.schema) as Obj | string | undefined;
      const first = typeof d === 'string' ? d : (d?.schema as Obj[] | undefined)?.[0]?.value;
      return typeof first === 'string' ? [`schema:${unescape(first)}`] : undefined;
    }
    case 'drop database':
      if (s.type !== 'drop' || (kw !== 'database' && kw !== 'schema')) return undefined;
      return typeof s.name === 'string' ? [`schema:${unescape(s.name)}`] : undefined;
    default:
      return undefined;
  }
}

function tables(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.map((t) => {
    const o = t as Obj;
    const db = typeof o.db === 'string' ? unescape(o.db) : '';
    return `${db}.${unescape(String(o.table))}`;
  });
}

function unescape(name: string): string {
  return name.replace(/``/g, '`');
}
