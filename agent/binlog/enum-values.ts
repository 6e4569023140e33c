/**
 * ENUM/SET member lists from a COLUMN_TYPE such as `enum('a','x,y','it''s')`. zongji's own parser splits on every
 * comma, which turns a member containing a comma into garbage (and the row silently wrong); we hand zongji the
 * exact list through ENUM_VALUES / SET_VALUES instead.
 */
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
        if (columnType[i] === "'" && columnType[i + 1] === "'") { v += "'"; i += 2; continue; }
        if (columnType[i] === '\\' && i + 1 < columnType.length) { v += columnType[i + 1]; i += 2; continue; }
        if (columnType[i] === "'") { i++; break; }
        v += columnType[i];
        i++;
      }
      out.push(v);
    } else if (ch === ')') break;
    else i++;
  }
  return out;
}
