/**
 * A MySQL/MariaDB lexer for statements found in binlog Query events. It exists so that DDL can be
 * understood and rewritten at token level on the original text (see ddl.ts): every token keeps its
 * character offsets, so a table name can be replaced without touching a byte around it.
 *
 * Lexical rules followed (MySQL reference "Schema Object Names", "String Literals", "Comments"):
 * - `backquoted` identifiers, `` `` `` inside is one backquote; no backslash escapes.
 * - 'strings' and "strings" with backslash escapes and doubled quotes. A "double-quoted" token is kept
 *   as `dq`: it is an identifier under ANSI_QUOTES and a string otherwise; the DDL walker accepts it as a
 *   name only where a string cannot appear. (NO_BACKSLASH_ESCAPES is not supported: `'a\'` is unterminated.)
 * - comments `# ...`, `-- ` (a space or control character must follow), `/* ... *\/` are dropped;
 *   executable comments `/*! ... *\/`, `/*!50100 ... *\/`, `/*M!100301 ... *\/` are code: their content
 *   is lexed as if the comment markers were not there (a MariaDB or MySQL 8 server would run it).
 * - unquoted identifiers may start with a digit (`1t`) and may contain any non-ASCII character; a run
 *   of digits (with optional fraction/exponent), `0x..` and `0b..` are numbers. After `ident.`, the next
 *   word is always an identifier (`db.1t`), as in MySQL's lexer.
 */

export type TokenType = 'word' | 'qident' | 'dq' | 'str' | 'num' | 'op';

export interface Token {
  type: TokenType;
  /** The raw source text of the token. */
  text: string;
  /** For qident/dq/str: the unquoted, unescaped value; for word: the text; upper-cased in `upper`. */
  value: string;
  upper: string;
  /** Offsets in the original statement: text === sql.slice(start, end). */
  start: number;
  end: number;
}

export interface LexResult {
  tokens: Token[];
  /** True when the statement contains nothing but comments and whitespace (e.g. MariaDB's `# Dummy event`). */
  commentOnly: boolean;
}

const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uFFFF]/;

export function lex(sql: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  let inExec = false;
  let sawComment = false;
  const n = sql.length;
  const push = (type: TokenType, start: number, end: number, value?: string): void => {
    const text = sql.slice(start, end);
    const v = value ?? text;
    tokens.push({ type, text, value: v, upper: v.toUpperCase(), start, end });
  };

  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c) || c < ' ') {
      i++;
      continue;
    }
    // comments
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /[\s\x00-\x1f]/.test(sql[i + 2]!)))) {
      while (i < n && sql[i] !== '\n') i++;
      sawComment = true;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const exec = /^\/\*(M?!)(\d{5,6})?/.exec(sql.slice(i, i + 10));
      if (exec && !inExec) {
        inExec = true;
        i += exec[0].length;
        continue;
      }
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      sawComment = true;
      continue;
    }
    if (inExec && c === '*' && sql[i + 1] === '/') {
      inExec = false;
      i += 2;
      continue;
    }
    // quoted tokens
    if (c === '`') {
      i = quoted(sql, i, '`', false, push, 'qident');
      continue;
    }
    if (c === '"') {
      i = quoted(sql, i, '"', true, push, 'dq');
      continue;
    }
    if (c === "'") {
      i = quoted(sql, i, "'", true, push, 'str');
      continue;
    }
    // words and numbers
    const prev = tokens.at(-1);
    const afterDot = prev?.text === '.' && tokens.length >= 2 && tokens[tokens.length - 2]!.type !== 'op';
    if (WORD_CHAR.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? '') && !afterIdent(prev))) {
      const start = i;
      if (!afterDot) {
        const num = /^(?:0x[0-9A-Fa-f]+|0b[01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(sql.slice(i, i + 200));
        if (num && !WORD_CHAR.test(sql[i + num[0].length] ?? ' ')) {
          i += num[0].length;
          push('num', start, i);
          continue;
        }
      }
      while (i < n && WORD_CHAR.test(sql[i]!)) i++;
      if (i === start) i++;
      push('word', start, i);
      continue;
    }
    push('op', i, i + 1);
    i++;
  }
  return { tokens, commentOnly: tokens.length === 0 && sawComment };
}

function afterIdent(t: Token | undefined): boolean {
  return t !== undefined && (t.type === 'word' || t.type === 'qident' || t.type === 'dq');
}

function quoted(
  sql: string,
  start: number,
  q: string,
  backslash: boolean,
  push: (type: TokenType, start: number, end: number, value?: string) => void,
  type: TokenType,
): number {
  let i = start + 1;
  let value = '';
  for (;;) {
    const c = sql[i];
    if (c === undefined) {
      // Unterminated: keep what we have; the DDL walker will not find what it needs and report it.
      push(type, start, sql.length, value);
      return sql.length;
    }
    if (backslash && c === '\\' && i + 1 < sql.length) {
      value += unescapeChar(sql[i + 1]!);
      i += 2;
      continue;
    }
    if (c === q) {
      if (sql[i + 1] === q) {
        value += q;
        i += 2;
        continue;
      }
      push(type, start, i + 1, value);
      return i + 1;
    }
    value += c;
    i++;
  }
}

function unescapeChar(c: string): string {
  switch (c) {
    case '0':
      return '\0';
    case 'b':
      return '\b';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'Z':
      return '\x1a';
    // `\%` and `\_` keep their backslash (they are LIKE escapes), as MySQL does.
    case '%':
    case '_':
      return '\\' + c;
    default:
      return c;
  }
}
