import type { DmEventType } from '../filter/event-filter.ts';
import { lex, type Token } from './lexer.ts';

/**
 * The statement walker behind sql/ddl.ts: from the tokens of a binlog Query event it finds what kind of
 * statement it is and WHERE every table or schema name sits in the original text (character offsets), plus
 * the places where rewriting inserts `IF [NOT] EXISTS`. It reads only the parts of the grammar that carry
 * names (statement head, LIKE, REFERENCES, ALTER ... RENAME TO / EXCHANGE PARTITION ... WITH TABLE) and the
 * head keyword of each ALTER TABLE clause; column definitions, options, partitions and comments are never
 * interpreted, so they cannot be damaged by a rewrite.
 */

export type QueryKind = 'begin' | 'commit' | 'rollback' | 'ddl' | 'skip' | 'dml' | 'unknown';

/** Where a name occurs: the statement's own object, `LIKE src`, `RENAME TO new`, `EXCHANGE ... WITH TABLE t`,
 * `REFERENCES parent` (not a table of the statement for filtering, as in DM, but routed on rewrite), or a schema. */
export type NameRole = 'target' | 'like' | 'rename-to' | 'exchange' | 'reference' | 'schema';

export interface NameRef {
  role: NameRole;
  /** undefined when the name is unqualified (the Query event's current schema applies). */
  schema?: string;
  /** '' for a schema name. */
  table: string;
  start: number;
  end: number;
}

export interface Analysis {
  kind: QueryKind;
  eventType?: DmEventType;
  /**
   * For ALTER TABLE: 'alter table' plus a coarse kind of each clause ('add column', 'drop index', 'rename column',
   * ...), read from the clause's head words only. Shard coordination uses it; it is NOT DM's binlog-filter event of
   * the clauses (filter/ddl-events.ts is).
   */
  clauseKinds?: DmEventType[];
  /** For ALTER TABLE: the token ranges [from, to) of its top-level comma-separated clauses (tokens of `lex(sql)`; the
   * same clauses as `clauses`, empty ones included). */
  clauseTokens?: [number, number][];
  names: NameRef[];
  skipReason?: string;
  /** Offset after which ` IF NOT EXISTS` / ` IF EXISTS` makes the statement idempotent (absent when it has one). */
  insertIfNotExistsAt?: number;
  insertIfExistsAt?: number;
  /** ALTER DATABASE without a name: offset where the (routed) current schema must be inserted. */
  insertSchemaAt?: number;
  /** DROP TABLE a, b / RENAME TABLE a TO b, c TO d: the text range of each item, for splitting. */
  items?: { start: number; end: number }[];
  /** ALTER TABLE: the text range of each top-level clause (`ADD COLUMN c INT`, `DROP b`, `ENGINE=InnoDB`). */
  clauses?: { start: number; end: number }[];
  /** Set when the statement is understood but cannot be rewritten safely. */
  cannotRewrite?: string;
}

class Fail extends Error {}

const SKIP_OBJECTS: Record<string, string> = {
  TRIGGER: 'triggers are not replicated (DM built-in skip list)',
  PROCEDURE: 'stored procedures are not replicated (DM built-in skip list)',
  FUNCTION: 'stored functions are not replicated (DM built-in skip list)',
  EVENT: 'events are not replicated (DM built-in skip list)',
  TABLESPACE: 'tablespaces are not replicated (DM built-in skip list)',
  USER: 'account management is not replicated (DM built-in skip list)',
  ROLE: 'account management is not replicated',
  SERVER: 'federated server definitions are not replicated',
  LOGFILE: 'tablespaces are not replicated',
  PACKAGE: 'stored packages are not replicated',
  RESOURCE: 'resource groups are not replicated',
  SPATIAL: 'spatial reference systems are not replicated',
  INSTANCE: 'instance settings are not replicated',
};

const SKIP_HEADS: Record<string, string> = {
  SAVEPOINT: 'savepoint (DM built-in skip list)',
  RELEASE: 'savepoint (DM built-in skip list)',
  FLUSH: 'FLUSH is not replicated (DM built-in skip list)',
  OPTIMIZE: 'table maintenance is not replicated (DM built-in skip list)',
  ANALYZE: 'table maintenance is not replicated (DM built-in skip list)',
  REPAIR: 'table maintenance is not replicated (DM built-in skip list)',
  CHECK: 'table maintenance is not replicated',
  CHECKSUM: 'table maintenance is not replicated',
  GRANT: 'account management is not replicated (DM built-in skip list)',
  REVOKE: 'account management is not replicated (DM built-in skip list)',
  LOCK: 'LOCK TABLES is not a change',
  UNLOCK: 'UNLOCK TABLES is not a change',
  INSTALL: 'plugins are not replicated',
  UNINSTALL: 'plugins are not replicated',
  DO: 'DO is not a change',
  SELECT: 'SELECT is not a change',
  SHOW: 'SHOW is not a change',
  USE: 'USE is not a change',
  PURGE: 'server administration is not replicated',
  RESET: 'server administration is not replicated',
  KILL: 'server administration is not replicated',
  CHANGE: 'server administration is not replicated',
  STOP: 'server administration is not replicated',
  BINLOG: 'BINLOG statements are not replicated',
};

const DML_HEADS = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE', 'LOAD', 'CALL']);
/** ALTER DATABASE <these> ... has no name: it alters the current database. */
const DB_OPTION_WORDS = new Set(['DEFAULT', 'CHARACTER', 'CHARSET', 'COLLATE', 'COMMENT', 'READ', 'ENCRYPTION']);

export function analyze(sql: string): Analysis {
  const { tokens, commentOnly } = lex(sql);
  if (commentOnly) return { kind: 'skip', names: [], skipReason: 'comment only (e.g. a MariaDB "# Dummy event")' };
  if (tokens.length === 0) return { kind: 'skip', names: [], skipReason: 'empty statement' };
  try {
    return new Walker(tokens).statement();
  } catch (err) {
    if (err instanceof Fail) return { kind: 'unknown', names: [], skipReason: err.message };
    throw err;
  }
}

class Walker {
  private i = 0;
  private readonly a: Analysis = { kind: 'unknown', names: [] };

  constructor(private readonly t: Token[]) {}

  statement(): Analysis {
    this.setStatementPrefix();
    const head = this.word();
    if (head === undefined) return this.done('unknown', 'statement does not start with a keyword');
    const h = head.upper;
    switch (h) {
      case 'BEGIN':
        return this.isWord(this.peek(), 'NOT') ? this.done('unknown', 'compound statement') : this.done('begin');
      case 'START':
        return this.kw('TRANSACTION') ? this.done('begin') : this.done('skip', SKIP_HEADS.STOP);
      case 'COMMIT':
        return this.done('commit');
      case 'ROLLBACK':
        this.kw('WORK');
        return this.kw('TO') ? this.done('skip', 'rollback to savepoint') : this.done('rollback');
      case 'XA':
        return this.done('unknown', 'XA transactions are not supported');
      case 'SET':
        return this.setStatement();
      case 'CREATE':
        return this.create();
      case 'ALTER':
        return this.alter();
      case 'DROP':
        return this.drop();
      case 'RENAME':
        return this.rename();
      case 'TRUNCATE':
        return this.truncate();
      default:
        if (DML_HEADS.has(h)) return this.done('dml');
        if (SKIP_HEADS[h]) return this.done('skip', SKIP_HEADS[h]);
        return this.done('unknown', `unrecognised statement ${h}`);
    }
  }

  // ---- statement kinds

  /** MariaDB `SET STATEMENT var=value[, ...] FOR <statement>`: classify the inner statement. */
  private setStatementPrefix(): void {
    if (!this.isWord(this.t[0], 'SET') || !this.isWord(this.t[1], 'STATEMENT')) return;
    let depth = 0;
    for (let j = 2; j < this.t.length; j++) {
      const x = this.t[j]!;
      if (x.text === '(') depth++;
      else if (x.text === ')') depth--;
      else if (depth === 0 && this.isWord(x, 'FOR')) {
        this.i = j + 1;
        return;
      }
    }
  }

  private setStatement(): Analysis {
    if (this.kw('PASSWORD') || this.kw('ROLE') || (this.kw('DEFAULT') && this.kw('ROLE'))) {
      return this.done('skip', 'account management is not replicated (DM built-in skip list)');
    }
    return this.done('skip', 'SET is not replicated as a statement');
  }

  private create(): Analysis {
    const orReplace = this.kw('OR');
    if (orReplace) this.must('REPLACE');
    this.objectModifiers();
    const temporary = this.kw('TEMPORARY');
    while (this.kwAny('UNIQUE', 'FULLTEXT', 'SPATIAL', 'ONLINE', 'OFFLINE', 'AGGREGATE')) {
      /* index / function flavours */
    }
    const obj = this.word();
    switch (obj?.upper) {
      case 'TABLE':
        if (temporary) return this.done('skip', 'temporary tables are not replicated');
        return this.createTable(obj, orReplace);
      case 'INDEX':
        return this.createIndex();
      case 'DATABASE':
      case 'SCHEMA':
        return this.createDatabase(obj, orReplace);
      case 'VIEW':
        return this.done('skip', 'views are not replicated (DM built-in skip list)', 'create view');
      case 'SEQUENCE':
        return this.done('unknown', 'sequences are not supported');
      default:
        if (obj && SKIP_OBJECTS[obj.upper]) return this.done('skip', SKIP_OBJECTS[obj.upper]);
        return this.done('unknown', `unrecognised CREATE ${obj?.upper ?? ''}`.trim());
    }
  }

  private createTable(tableKw: Token, orReplace: boolean): Analysis {
    this.ifClause(tableKw, 'NOT', orReplace);
    this.name('target');
    // `CREATE TABLE t LIKE src` or `CREATE TABLE t (LIKE src)`; elsewhere LIKE is an operator (CHECK (a LIKE 'x')).
    if (this.kw('LIKE')) this.name('like');
    else if (this.peek()?.text === '(' && this.isWord(this.peek(1), 'LIKE')) {
      this.i += 2;
      this.name('like');
    }
    for (let j = this.i; j < this.t.length; j++) {
      if (this.isWord(this.t[j], 'REFERENCES')) {
        this.i = j + 1;
        this.name('reference');
        j = this.i - 1;
      } else if (this.isWord(this.t[j], 'SELECT'))
        this.a.cannotRewrite = 'CREATE TABLE ... SELECT reads other tables (use ROW binlog format)';
    }
    return this.done('ddl', undefined, 'create table');
  }

  private createIndex(): Analysis {
    // MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has): a present clause is kept, none is added (as DM).
    if (this.kw('IF')) {
      this.must('NOT');
      this.must('EXISTS');
    }
    const on = this.findWord('ON', this.i);
    if (on < 0) throw new Fail('CREATE INDEX without ON');
    this.i = on + 1;
    this.name('target');
    return this.done('ddl', undefined, 'create index');
  }

  private createDatabase(kw: Token, orReplace: boolean): Analysis {
    this.ifClause(kw, 'NOT', orReplace);
    this.schemaName();
    return this.done('ddl', undefined, 'create database');
  }

  private alter(): Analysis {
    this.objectModifiers();
    while (this.kwAny('ONLINE', 'OFFLINE', 'IGNORE')) {
      /* ALTER [ONLINE] [IGNORE] TABLE */
    }
    const obj = this.word();
    switch (obj?.upper) {
      case 'TABLE':
        return this.alterTable();
      case 'DATABASE':
      case 'SCHEMA': {
        const next = this.peek();
        const named =
          next !== undefined && (next.type === 'qident' || (next.type === 'word' && !DB_OPTION_WORDS.has(next.upper)));
        if (named) this.schemaName();
        else this.a.insertSchemaAt = obj.end;
        return this.done('ddl', undefined, 'alter database');
      }
      case 'VIEW':
        return this.done('skip', 'views are not replicated (DM built-in skip list)');
      case 'SEQUENCE':
        return this.done('unknown', 'sequences are not supported');
      default:
        if (obj && SKIP_OBJECTS[obj.upper]) return this.done('skip', SKIP_OBJECTS[obj.upper]);
        return this.done('unknown', `unrecognised ALTER ${obj?.upper ?? ''}`.trim());
    }
  }

  private alterTable(): Analysis {
    if (this.kw('IF')) this.must('EXISTS');
    this.name('target');
    const events = new Set<DmEventType>(['alter table']);
    const clauses = this.clauses(this.i);
    this.a.clauses = [];
    for (const [from, to] of clauses) {
      if (to > from) this.a.clauses.push({ start: this.t[from]!.start, end: this.t[to - 1]!.end });
      this.alterClause(from, to, events);
    }
    this.a.clauseKinds = [...events];
    this.a.clauseTokens = clauses;
    return this.done('ddl', undefined, 'alter table');
  }

  /** One comma-separated ALTER TABLE clause, tokens [from, to). */
  private alterClause(from: number, to: number, events: Set<DmEventType>): void {
    const w = (k: number): string =>
      from + k < to && this.t[from + k]!.type === 'word' ? this.t[from + k]!.upper : '';
    const add = (...e: DmEventType[]): void => {
      for (const x of e) events.add(x);
    };
    const first = w(0);
    const second = w(1);
    switch (first) {
      case 'ADD':
        if (second === 'PRIMARY' || (second === 'CONSTRAINT' && (w(2) === 'PRIMARY' || w(3) === 'PRIMARY')))
          add('add primary key', 'modify constraint');
        else if (['INDEX', 'KEY', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK', 'CONSTRAINT'].includes(second))
          add('modify constraint');
        else if (second === 'PARTITION') add('add table partition');
        else if (second !== 'PERIOD' && second !== 'SYSTEM') add('add column');
        break;
      case 'DROP':
        if (second === 'PRIMARY') add('drop primary key');
        else if (second === 'INDEX' || second === 'KEY') add('drop index');
        else if (second === 'PARTITION') add('drop table partition');
        else if (!['FOREIGN', 'CONSTRAINT', 'CHECK', 'PERIOD', 'SYSTEM'].includes(second)) add('drop column');
        break;
      case 'MODIFY':
        add('modify column');
        break;
      case 'CHANGE': {
        let k = from + 1;
        if (w(1) === 'COLUMN') k++;
        if (this.isWord(this.t[k], 'IF') && this.isWord(this.t[k + 1], 'EXISTS')) k += 2;
        add('modify column');
        const oldName = this.t[k];
        const newName = this.t[k + 1];
        if (oldName && newName && identValue(oldName).toLowerCase() !== identValue(newName).toLowerCase())
          add('rename column');
        break;
      }
      case 'RENAME':
        if (second === 'COLUMN') add('rename column');
        else if (second === 'INDEX' || second === 'KEY') add('rename index');
        else {
          add('rename table');
          this.i = from + 1;
          this.kwAny('TO', 'AS');
          this.name('rename-to');
        }
        break;
      case 'ALTER':
        if (second === 'INDEX' || second === 'KEY') add('alter index visibility');
        else if (second !== 'CHECK' && second !== 'CONSTRAINT') add('modify default value');
        break;
      case 'CONVERT':
      case 'CHARACTER':
      case 'CHARSET':
        add('modify charset');
        break;
      case 'COLLATE':
        add('modify collation');
        break;
      case 'DEFAULT':
        add(second === 'COLLATE' ? 'modify collation' : 'modify charset');
        break;
      case 'ENGINE':
        add('modify storage engine');
        break;
      case 'COMMENT':
        add('modify table comment');
        break;
      case 'REORGANIZE':
        add('reorganize table partition');
        break;
      case 'REBUILD':
        add('rebuild table partition');
        break;
      case 'COALESCE':
        add('coalesce table partition');
        break;
      case 'TRUNCATE':
        add('truncate table partition');
        break;
      case 'REMOVE':
        add('remove table partitioning');
        break;
      case 'EXCHANGE': {
        add('exchange table partition');
        const withAt = this.findWord('WITH', from, to);
        if (withAt < 0) throw new Fail('EXCHANGE PARTITION without WITH TABLE');
        this.i = withAt + 1;
        this.must('TABLE');
        this.name('exchange');
        break;
      }
      default:
        break;
    }
    for (let j = from; j < to; j++) {
      if (this.isWord(this.t[j], 'PARTITION') && this.isWord(this.t[j + 1], 'BY') && first !== 'ADD')
        add('alter table partitioning');
      if (this.isWord(this.t[j], 'REFERENCES')) {
        this.i = j + 1;
        this.name('reference');
      }
    }
  }

  private drop(): Analysis {
    const temporary = this.kw('TEMPORARY');
    while (this.kwAny('ONLINE', 'OFFLINE')) {
      /* DROP [ONLINE] INDEX */
    }
    const obj = this.word();
    switch (obj?.upper) {
      case 'TABLE':
      case 'TABLES': {
        if (temporary) return this.done('skip', 'temporary tables are not replicated (DM built-in skip list)');
        this.ifClause(obj, '');
        this.nameList('target');
        return this.done('ddl', undefined, 'drop table');
      }
      case 'DATABASE':
      case 'SCHEMA':
        this.ifClause(obj, '');
        this.schemaName();
        return this.done('ddl', undefined, 'drop database');
      case 'INDEX': {
        // DM adds IF EXISTS here for TiDB; MySQL has no DROP INDEX IF EXISTS, so we keep the statement as is.
        if (this.kw('IF')) this.must('EXISTS');
        const on = this.findWord('ON', this.i);
        if (on < 0) throw new Fail('DROP INDEX without ON');
        this.i = on + 1;
        this.name('target');
        return this.done('ddl', undefined, 'drop index');
      }
      case 'VIEW':
        return this.done('skip', 'views are not replicated (DM built-in skip list)', 'drop view');
      case 'SEQUENCE':
        return this.done('unknown', 'sequences are not supported');
      default:
        if (obj && SKIP_OBJECTS[obj.upper]) return this.done('skip', SKIP_OBJECTS[obj.upper]);
        return this.done('unknown', `unrecognised DROP ${obj?.upper ?? ''}`.trim());
    }
  }

  /** RENAME TABLE[S] [IF EXISTS] a [WAIT n | NOWAIT] TO b [, c TO d ...] */
  private rename(): Analysis {
    const obj = this.word();
    if (obj?.upper === 'USER') return this.done('skip', SKIP_OBJECTS.USER);
    if (obj?.upper !== 'TABLE' && obj?.upper !== 'TABLES')
      return this.done('unknown', `unrecognised RENAME ${obj?.upper ?? ''}`.trim());
    if (this.kw('IF')) this.must('EXISTS');
    this.a.items = [];
    do {
      const old = this.name('target');
      this.waitClause();
      this.must('TO');
      const neu = this.name('rename-to');
      this.a.items.push({ start: old.start, end: neu.end });
    } while (this.op(','));
    return this.done('ddl', undefined, 'rename table');
  }

  private truncate(): Analysis {
    this.kw('TABLE');
    this.name('target');
    return this.done('ddl', undefined, 'truncate table');
  }

  // ---- pieces

  /** `[IF [NOT] EXISTS]` after `kw`; when absent (and allowed), records where rewriting adds it. */
  private ifClause(kw: Token, not: 'NOT' | '', orReplace = false): void {
    if (this.kw('IF')) {
      if (not) this.must('NOT');
      this.must('EXISTS');
      return;
    }
    if (orReplace) return; // CREATE OR REPLACE is already idempotent, and MariaDB rejects it with IF NOT EXISTS
    if (not) this.a.insertIfNotExistsAt = kw.end;
    else this.a.insertIfExistsAt = kw.end;
  }

  /** Skips `DEFINER = user`, `ALGORITHM = x`, `SQL SECURITY x` (views, triggers, routines, events). */
  private objectModifiers(): void {
    for (;;) {
      if (this.kw('DEFINER')) {
        this.op('=');
        if (this.kw('CURRENT_USER')) {
          if (this.op('(')) this.op(')');
          continue;
        }
        this.i++; // user
        if (this.peek()?.text === '@') this.i += 2; // @host
        continue;
      }
      if (this.kw('ALGORITHM')) {
        this.op('=');
        this.i++;
        continue;
      }
      if (this.isWord(this.peek(), 'SQL') && this.isWord(this.peek(1), 'SECURITY')) {
        this.i += 3;
        continue;
      }
      return;
    }
  }

  private nameList(role: NameRole): void {
    this.a.items = [];
    do {
      const r = this.name(role);
      this.a.items.push({ start: r.start, end: r.end });
    } while (this.op(','));
  }

  private waitClause(): void {
    if (this.kw('WAIT')) this.i++;
    else this.kw('NOWAIT');
  }

  /** A possibly qualified table name: ident [ . ident ]. */
  private name(role: NameRole): NameRef {
    const first = this.ident();
    let ref: NameRef = { role, table: identValue(first), start: first.start, end: first.end };
    if (this.peek()?.text === '.' && isIdent(this.peek(1))) {
      this.i++;
      const second = this.ident();
      ref = { role, schema: identValue(first), table: identValue(second), start: first.start, end: second.end };
    }
    this.a.names.push(ref);
    return ref;
  }

  private schemaName(): void {
    const tok = this.ident();
    this.a.names.push({ role: 'schema', schema: identValue(tok), table: '', start: tok.start, end: tok.end });
  }

  private ident(): Token {
    const tok = this.t[this.i];
    if (tok === undefined) throw new Fail('expected a name at end of statement');
    if (!isIdent(tok)) throw new Fail(`expected a name at \`${tok.text}\``);
    this.i++;
    return tok;
  }

  /** Top-level comma-separated clauses from token `from` to the end: [start, end) pairs. */
  private clauses(from: number): [number, number][] {
    const out: [number, number][] = [];
    let depth = 0;
    let start = from;
    for (let j = from; j < this.t.length; j++) {
      const x = this.t[j]!.text;
      if (this.t[j]!.type !== 'op') continue;
      if (x === '(') depth++;
      else if (x === ')') depth--;
      else if ((x === ',' || x === ';') && depth === 0) {
        out.push([start, j]);
        start = j + 1;
      }
    }
    if (start < this.t.length) out.push([start, this.t.length]);
    return out;
  }

  private findWord(w: string, from: number, to = this.t.length): number {
    let depth = 0;
    for (let j = from; j < to; j++) {
      const x = this.t[j]!;
      if (x.type === 'op' && x.text === '(') depth++;
      else if (x.type === 'op' && x.text === ')') depth--;
      else if (depth === 0 && this.isWord(x, w)) return j;
    }
    return -1;
  }

  private done(kind: Analysis['kind'], skipReason?: string, eventType?: DmEventType): Analysis {
    this.a.kind = kind;
    if (skipReason !== undefined) this.a.skipReason = skipReason;
    if (eventType !== undefined) this.a.eventType = eventType;
    return this.a;
  }

  private peek(k = 0): Token | undefined {
    return this.t[this.i + k];
  }

  private isWord(tok: Token | undefined, w: string): boolean {
    return tok !== undefined && tok.type === 'word' && tok.upper === w;
  }

  private word(): Token | undefined {
    const tok = this.peek();
    if (tok?.type !== 'word') return undefined;
    this.i++;
    return tok;
  }

  private kw(w: string): boolean {
    if (!this.isWord(this.peek(), w)) return false;
    this.i++;
    return true;
  }

  private kwAny(...ws: string[]): boolean {
    return ws.some((w) => this.kw(w));
  }

  private must(w: string): void {
    if (!this.kw(w))
      throw new Fail(`expected ${w} at ${this.peek() ? `\`${this.peek()!.text}\`` : 'end of statement'}`);
  }

  private op(o: string): boolean {
    const tok = this.peek();
    if (tok?.type !== 'op' || tok.text !== o) return false;
    this.i++;
    return true;
  }
}

function isIdent(tok: Token | undefined): boolean {
  return tok !== undefined && (tok.type === 'word' || tok.type === 'qident' || tok.type === 'dq');
}

/** The name a token denotes. A "double-quoted" name (ANSI_QUOTES) has no backslash escapes. */
export function identValue(tok: Token): string {
  if (tok.type === 'dq') return tok.text.slice(1, -1).replace(/""/g, '"');
  return tok.value;
}
