/**
 * ENUM/SET member lists and COLUMN_TYPE, both ways.
 *
 * zongji's own parser splits COLUMN_TYPE on every comma, which turns a member containing a comma into garbage (and
 * the row silently wrong); the engine hands zongji the exact list through ENUM_VALUES / SET_VALUES instead.
 *
 * MariaDB prints members in COLUMN_TYPE with `append_unescaped` (sql_show.cc): `'` doubled, and backslash, NUL,
 * newline and carriage return as `\\`, `\0`, `\n`, `\r`; every other byte (tab included) as it is.
 */

/** Members of `enum('a','x,y','it''s')` → ['a', 'x,y', "it's"]; undefined for a type that is not ENUM/SET. */
export function parseEnumMembers(columnType: string): string[] | undefined {
  const m = /^\s*(enum|set)\s*\(/i.exec(columnType);
  if (!m) return undefined;
  const out: string[] = [];
  let i = m[0].length;
  while (i < columnType.length) {
    const ch = columnType[i];
    if (ch === "'") {
      let v = '';
      i++;
      while (i < columnType.length) {
        if (columnType[i] === "'" && columnType[i + 1] === "'") {
          v += "'";
          i += 2;
          continue;
        }
        if (columnType[i] === '\\' && i + 1 < columnType.length) {
          v += unescape(columnType[i + 1]!);
          i += 2;
          continue;
        }
        if (columnType[i] === "'") {
          i++;
          break;
        }
        v += columnType[i];
        i++;
      }
      out.push(v);
    } else if (ch === ')') break;
    else i++;
  }
  return out;
}

function unescape(c: string): string {
  switch (c) {
    case '0':
      return '\0';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    default:
      return c;
  }
}

/** One member as MariaDB prints it inside COLUMN_TYPE, quotes included. */
export function quoteEnumMember(v: string): string {
  let out = "'";
  for (const c of v) {
    switch (c) {
      case '\0':
        out += '\\0';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "''";
        break;
      default:
        out += c;
    }
  }
  return out + "'";
}

/** `enum('a','b')` / `set('x')` from a member list. */
export function formatEnumType(kind: 'enum' | 'set', members: readonly string[]): string {
  return `${kind}(${members.map(quoteEnumMember).join(',')})`;
}
