import { analyze } from './ddl-parse.ts';
import { lex, type Token } from './lexer.ts';

/**
 * `collation_compatible: strict` (DM): DDL gets explicit collations, so the downstream ends up with the upstream's
 * collation even where the statement leaves it to the server's defaults, which may differ downstream (another
 * collation_server, MySQL 8's utf8mb4_0900_ai_ci, MariaDB's character_set_collations). Pure: statement in, statement
 * out, given what the upstream reported.
 *
 * What gets a COLLATE (DM's syncer `adjustCollation` and dumpling's `adjustDatabaseCollation`/`adjustTableCollation`):
 *  - CREATE DATABASE with neither CHARACTER SET nor COLLATE: `COLLATE <server>` (the collation_server the statement
 *    ran under; the binlog event's status variables carry it, as DM reads them);
 *  - CREATE DATABASE / CREATE TABLE options and column definitions naming a CHARACTER SET but no COLLATE:
 *    `COLLATE <the upstream's default collation of that charset>`, right after the charset name;
 *  - beyond DM, the same for ALTER DATABASE options and for the ALTER TABLE clauses that name a charset: ADD / MODIFY /
 *    CHANGE COLUMN definitions, CONVERT TO CHARACTER SET, [DEFAULT] CHARACTER SET table options.
 * Left as written: anything with a COLLATE already (anywhere in the column definition or option list), a column with
 * the BINARY attribute (it selects the charset's `_bin` collation), `CHARACTER SET DEFAULT`, charsets the upstream did
 * not report, CREATE TABLE ... LIKE, a CREATE TABLE without charset (it takes its database's, itself made explicit).
 *
 * A statement that says `utf8` gets the collation under that spelling (`utf8_general_ci`, not the `utf8mb3_general_ci`
 * MariaDB 10.6+ reports), which every MySQL, MariaDB and TiDB version accepts.
 */

export interface UpstreamCollations {
  /** Charset (lower case) → the upstream's default collation of it, as the upstream reports it. */
  defaults: ReadonlyMap<string, string>;
  /** The collation_server the statement ran under; undefined: unknown, a bare CREATE DATABASE stays as written. */
  server?: string;
}

interface Edit {
  at: number;
  text: string;
}

export function strictCollations(sql: string, up: UpstreamCollations): string {
  const a = analyze(sql);
  if (a.kind !== 'ddl') return sql;
  const { tokens } = lex(sql);
  const edits: Edit[] = [];
  const from = (offset: number) => {
    let j = 0;
    while (j < tokens.length && tokens[j]!.start < offset) j++;
    return j;
  };
  const target = a.names.find((n) => n.role === 'schema' || n.role === 'target');
  switch (a.eventType) {
    case 'create database':
    case 'alter database': {
      // Options follow the name (ALTER DATABASE may have none: its options start after ALTER DATABASE|SCHEMA).
      const start = target ? from(target.end) : from(tokens[1]?.end ?? 0);
      const end = statementEnd(tokens);
      if (hasWord(tokens, start, end, 'COLLATE')) break;
      const cs = charsetAt(tokens, start, end);
      if (cs) addAfter(edits, cs, up);
      else if (a.eventType === 'create database' && up.server)
        edits.push({ at: tokens[end - 1]!.end, text: ` COLLATE ${up.server}` });
      break;
    }
    case 'create table': {
      if (!target || a.names.some((n) => n.role === 'like')) break;
      let j = from(target.end);
      const end = statementEnd(tokens);
      if (isOp(tokens[j], '(')) {
        const close = matching(tokens, j);
        if (close < 0) break;
        if (tokens[j + 1]?.type === 'word' && tokens[j + 1]!.upper === 'LIKE') break;
        for (const [s, e] of topLevel(tokens, j + 1, close)) columnDef(tokens, s, e, edits, up);
        j = close + 1;
      }
      tableOptions(tokens, j, optionsEnd(tokens, j, end), edits, up);
      break;
    }
    case 'alter table':
      for (const c of a.clauses ?? []) alterClause(tokens, from(c.start), from(c.end), edits, up);
      break;
    default:
      break;
  }
  let out = sql;
  for (const e of edits.sort((x, y) => y.at - x.at)) out = out.slice(0, e.at) + e.text + out.slice(e.at);
  return out;
}

/** The upstream's default collation of `charset` in the statement's spelling; undefined when it reported none. */
export function defaultCollationFor(charset: string, defaults: ReadonlyMap<string, string>): string | undefined {
  const cs = charset.toLowerCase();
  const alias = cs === 'utf8' ? 'utf8mb3' : cs === 'utf8mb3' ? 'utf8' : undefined;
  const coll = defaults.get(cs) ?? (alias ? defaults.get(alias) : undefined);
  if (coll === undefined) return undefined;
  const lower = coll.toLowerCase();
  if (cs === 'utf8' && lower.startsWith('utf8mb3_')) return `utf8_${coll.slice('utf8mb3_'.length)}`;
  return coll;
}

/** ALTER TABLE clause: a column definition (ADD/MODIFY/CHANGE), CONVERT TO CHARACTER SET, or table options. */
function alterClause(t: Token[], s: number, e: number, edits: Edit[], up: UpstreamCollations): void {
  let j = s;
  const w = (k: number) => (t[k]?.type === 'word' ? t[k]!.upper : undefined);
  const head = w(j);
  if (head === 'ADD') {
    j++;
    const col = w(j) === 'COLUMN';
    if (col) j++;
    if (w(j) === 'IF' && w(j + 1) === 'NOT' && w(j + 2) === 'EXISTS') j += 3;
    if (isOp(t[j], '(')) {
      const close = matching(t, j);
      if (close > 0) for (const [cs, ce] of topLevel(t, j + 1, close)) columnDef(t, cs, ce, edits, up);
      return;
    }
    if (!col && NOT_COLUMN.has(w(j) ?? '')) return;
    columnDef(t, j, e, edits, up);
  } else if (head === 'MODIFY' || head === 'CHANGE') {
    j++;
    if (w(j) === 'COLUMN') j++;
    if (w(j) === 'IF' && w(j + 1) === 'EXISTS') j += 2;
    // CHANGE old new <def>: skip the old name so the definition starts at the new one, as in CREATE TABLE.
    columnDef(t, head === 'CHANGE' ? j + 1 : j, e, edits, up);
  } else if (head !== 'DROP' && head !== 'ALTER' && head !== 'RENAME') {
    // CONVERT TO CHARACTER SET, [DEFAULT] CHARACTER SET and other table options (several may share one clause).
    tableOptions(t, s, e, edits, up);
  }
}

/** Words that start a CREATE TABLE element or an ADD clause that is not a column. */
const NOT_COLUMN = new Set([
  'CONSTRAINT',
  'PRIMARY',
  'UNIQUE',
  'KEY',
  'INDEX',
  'FULLTEXT',
  'SPATIAL',
  'FOREIGN',
  'CHECK',
  'PERIOD',
  'PARTITION',
  'SYSTEM',
  'VECTOR',
]);

/** A column definition [s, e) starting at its name: COLLATE after a CHARACTER SET that has none. */
function columnDef(t: Token[], s: number, e: number, edits: Edit[], up: UpstreamCollations): void {
  const first = t[s];
  if (!first || (first.type === 'word' && NOT_COLUMN.has(first.upper))) return;
  if (hasWord(t, s + 1, e, 'COLLATE') || hasWord(t, s + 1, e, 'BINARY')) return;
  const cs = charsetAt(t, s + 1, e);
  if (cs) addAfter(edits, cs, up);
}

/** Table options [s, e): COLLATE after CHARACTER SET when no COLLATE option is there. */
function tableOptions(t: Token[], s: number, e: number, edits: Edit[], up: UpstreamCollations): void {
  if (hasWord(t, s, e, 'COLLATE')) return;
  const cs = charsetAt(t, s, e);
  if (cs) addAfter(edits, cs, up);
}

function addAfter(edits: Edit[], cs: Token, up: UpstreamCollations): void {
  const coll = defaultCollationFor(cs.value, up.defaults);
  if (coll !== undefined) edits.push({ at: cs.end, text: ` COLLATE ${coll}` });
}

/** The charset name token of the first `CHARACTER SET [=] x` / `CHARSET [=] x` at depth 0 in [s, e); not DEFAULT. */
function charsetAt(t: Token[], s: number, e: number): Token | undefined {
  let depth = 0;
  for (let j = s; j < e; j++) {
    const tok = t[j]!;
    if (isOp(tok, '(')) depth++;
    else if (isOp(tok, ')')) depth--;
    if (depth !== 0 || tok.type !== 'word') continue;
    let k: number;
    if (tok.upper === 'CHARSET') k = j + 1;
    else if (tok.upper === 'CHARACTER' && t[j + 1]?.type === 'word' && t[j + 1]!.upper === 'SET') k = j + 2;
    else continue;
    if (isOp(t[k], '=')) k++;
    const name = t[k];
    if (!name || k >= e || name.type === 'op' || name.type === 'num') return undefined;
    if (name.type === 'word' && (name.upper === 'DEFAULT' || name.upper === 'BINARY')) return undefined;
    return name;
  }
  return undefined;
}

/** True when the keyword occurs at depth 0 in [s, e) (in an expression's parentheses it is not the column's). */
function hasWord(t: Token[], s: number, e: number, w: string): boolean {
  let depth = 0;
  for (let j = s; j < e; j++) {
    const tok = t[j]!;
    if (isOp(tok, '(')) depth++;
    else if (isOp(tok, ')')) depth--;
    else if (depth === 0 && tok.type === 'word' && tok.upper === w) return true;
  }
  return false;
}

/** CREATE TABLE options end where PARTITION BY or the SELECT of CREATE ... SELECT starts. */
function optionsEnd(t: Token[], s: number, e: number): number {
  for (let j = s; j < e; j++) {
    const tok = t[j]!;
    if (tok.type === 'word' && ['PARTITION', 'AS', 'SELECT', 'IGNORE', 'REPLACE'].includes(tok.upper)) return j;
  }
  return e;
}

/** Token count without a trailing `;`. */
function statementEnd(t: Token[]): number {
  let n = t.length;
  while (n > 0 && isOp(t[n - 1], ';')) n--;
  return n;
}

function isOp(tok: Token | undefined, o: string): boolean {
  return tok !== undefined && tok.type === 'op' && tok.text === o;
}

function matching(t: Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < t.length; j++) {
    if (isOp(t[j], '(')) depth++;
    else if (isOp(t[j], ')') && --depth === 0) return j;
  }
  return -1;
}

function topLevel(t: Token[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let j = from; j < to; j++) {
    if (isOp(t[j], '(')) depth++;
    else if (isOp(t[j], ')')) depth--;
    else if (depth === 0 && isOp(t[j], ',')) {
      out.push([start, j]);
      start = j + 1;
    }
  }
  if (start < to) out.push([start, to]);
  return out;
}

/** A row of the upstream's information_schema.COLLATIONS. */
export interface CollationRow {
  collation: string;
  charset: string;
  id: number | null;
  isDefault: boolean;
}

/**
 * The upstream's charset → default collation map: information_schema.COLLATIONS `IS_DEFAULT` (as DM reads it), then
 * what overrides it for new objects where the server has such a setting: MySQL 8's `default_collation_for_utf8mb4`
 * and MariaDB 11.2+'s `character_set_collations` (`utf8mb4=utf8mb4_uca1400_ai_ci,...`). `vars`: global variables by
 * lower-case name, absent when the server has no such variable.
 */
export function collationDefaults(
  rows: readonly CollationRow[],
  vars: Readonly<Record<string, string>>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of rows) if (r.isDefault) out.set(r.charset.toLowerCase(), r.collation.toLowerCase());
  const utf8mb4 = vars['default_collation_for_utf8mb4'];
  if (utf8mb4) out.set('utf8mb4', utf8mb4.toLowerCase());
  for (const pair of (vars['character_set_collations'] ?? '').split(',')) {
    const [cs, coll] = pair.split('=').map((x) => x.trim().toLowerCase());
    if (cs && coll) out.set(cs, coll);
  }
  return out;
}
