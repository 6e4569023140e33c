/**
 * Splits a DM case's SQL file into statements the way the `mysql` client does when DM's run.sh pipes a file
 * into it: the delimiter (`;` unless a `delimiter` command changed it) ends a statement outside quotes and
 * comments; `-- `, `#` and `/* … *\/` comments are dropped; executable comments (`/*! … *\/`, `/*M! … *\/`) are
 * kept, they are SQL. `delimiter $$` (the client's own command, never sent to the server) is recognised as the
 * client does: at the start of a line with nothing of a statement before it; the rest of its line is the command.
 * That is how DM's cases write procedures and triggers, whose bodies hold `;`.
 *
 * Statements run one at a time on one connection, so session state (`USE db`, `SET time_zone`, `SET sql_mode`)
 * carries from one statement to the next exactly as in a client session, and a failing statement is named.
 */

export interface Statement {
  /** The statement text without its `;`, comments removed, trimmed. */
  sql: string;
  /** 1-based line of the statement's first character in the file. */
  line: number;
}

/** DM's CI upstream is MySQL 5.7 or 8.0; `/*!80013 … *\/` is gated to MySQL 8.0.13+ (8xxxx ids). */
const MYSQL8_GATE = /^\/\*!(8\d{4})/;

export function splitSql(text: string): Statement[] {
  const out: Statement[] = [];
  let cur = '';
  let startLine = 0;
  let line = 1;
  let i = 0;
  const n = text.length;
  let delimiter = ';';
  /** Nothing but blanks since the last newline (or the file's start) before offset i. */
  const lineStart = (at: number): boolean => {
    for (let k = at - 1; k >= 0 && text[k] !== '\n'; k--)
      if (text[k] !== ' ' && text[k] !== '\t' && text[k] !== '\r') return false;
    return true;
  };
  const push = (): void => {
    const sql = cur.trim();
    if (sql !== '') out.push({ sql, line: startLine });
    cur = '';
    startLine = 0;
  };
  const emit = (s: string): void => {
    if (startLine === 0 && s.trim() !== '') startLine = line;
    cur += s;
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\n') {
      emit(c);
      line++;
      i++;
      continue;
    }
    if ((c === 'd' || c === 'D') && cur.trim() === '' && lineStart(i)) {
      const cmd = /^delimiter(?:[ \t]+([^\s]+))?[^\n]*/i.exec(
        text.slice(i, text.indexOf('\n', i) < 0 ? n : text.indexOf('\n', i)),
      );
      if (cmd && /^delimiter(?:\s|$)/i.test(cmd[0])) {
        if (!cmd[1]) throw new Error(`line ${line}: DELIMITER must be followed by a delimiter`);
        delimiter = cmd[1].replace(/^(['"`])(.*)\1$/, '$2');
        cur = '';
        i += cmd[0].length;
        continue;
      }
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < n) {
        const d = text[j]!;
        if (d === '\\' && c !== '`') {
          j += 2;
          continue;
        }
        if (d === c) {
          if (text[j + 1] === c) {
            j += 2;
            continue;
          } // doubled quote inside the literal
          break;
        }
        j++;
      }
      const lit = text.slice(i, Math.min(j + 1, n));
      emit(lit);
      line += (lit.match(/\n/g) ?? []).length;
      i = j + 1;
      continue;
    }
    if (c === '#' || (c === '-' && next === '-' && (i + 2 >= n || /\s/.test(text[i + 2]!)))) {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      const body = text.slice(i, stop);
      if (/^\/\*M?!/.test(body)) emit(body);
      else emit(' ');
      line += (body.match(/\n/g) ?? []).length;
      i = stop;
      continue;
    }
    if (c === delimiter[0] && text.startsWith(delimiter, i)) {
      push();
      i += delimiter.length;
      continue;
    }
    emit(c);
    i++;
  }
  push();
  return out;
}

/**
 * MySQL 8.0 only: a statement that is nothing but a `/*!8xxxx … *\/` comment. MySQL 5.7 treats it as a comment;
 * MariaDB (version id 10xxxx) would execute it, and the features such gates protect (functional indexes, …)
 * do not exist in MariaDB. Running the case as DM's MySQL 5.7 CI does means not running it.
 */
export function mysql8Gated(sql: string): string | undefined {
  const m = MYSQL8_GATE.exec(sql);
  if (!m || !sql.endsWith('*/')) return undefined;
  return `/*!${m[1]} … */ is gated to MySQL ${m[1]![0]}.${Number(m[1]!.slice(1, 3))}.${Number(m[1]!.slice(3))}+ (MySQL 5.7 and MariaDB do not run it as MySQL 8 would)`;
}

/** Offsets inside a quoted literal or identifier of `sql` (so rewrites never touch what a string says). */
function quotedMask(sql: string): boolean[] {
  const mask = new Array<boolean>(sql.length).fill(false);
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c !== "'" && c !== '"') continue;
    let j = i + 1;
    while (j < sql.length && sql[j] !== c) j += sql[j] === '\\' ? 2 : 1;
    for (let k = i; k <= Math.min(j, sql.length - 1); k++) mask[k] = true;
    i = j;
  }
  return mask;
}

const ARROW = /(`[^`]+`|\b[A-Za-z_][A-Za-z0-9_$]*)\s*(->>|->)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g;

/**
 * MySQL's JSON operators, which MariaDB lacks, written as the functions MySQL defines them to be:
 * `col->'$.p'` is JSON_EXTRACT(col, '$.p') and `col->>'$.p'` is JSON_UNQUOTE(JSON_EXTRACT(col, '$.p')).
 */
export function rewriteJsonArrows(sql: string): string {
  if (!sql.includes('->')) return sql;
  const mask = quotedMask(sql);
  return sql.replace(ARROW, (m, col: string, op: string, path: string, offset: number) => {
    if (mask[offset]) return m;
    const path1 = path.startsWith('"') ? `'${path.slice(1, -1).replace(/'/g, "\\'")}'` : path;
    return op === '->>' ? `JSON_UNQUOTE(JSON_EXTRACT(${col}, ${path1}))` : `JSON_EXTRACT(${col}, ${path1})`;
  });
}
