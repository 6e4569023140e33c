/**
 * The two name-matching rules of sync-diff-inspector, which DM's cases use to say what must be equal:
 *
 *  - `target-check-tables` and `table-configs.*.target-tables` are TiDB table filters (`schema.table`, each
 *    part a wildcard with `*`, `?`, `[a-z]`, `[!a-z]`, `\` escapes, "quoted" or `quoted` names, or `/regex/`;
 *    a leading `!` excludes; the last matching rule decides). Matching is case-sensitive, as filter.Parse is.
 *  - `routes` are table-router rules (schema-pattern, table-pattern, target-schema, target-table): a rule with a
 *    table pattern wins over a schema-only rule; a table no rule matches keeps its name. sync-diff builds its
 *    own routers case-insensitively; in dm-addr mode it uses the task's routes with the task's case-sensitive.
 *
 * Written here from the tools' documented behaviour, independently of tsdm's own filter and router (src/), so
 * a bug there cannot hide itself in the check.
 */

export interface Matcher {
  test(s: string): boolean;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** A wildcard (`*`, `?`, `[...]`) or `~regex` pattern as a RegExp over the whole name. */
export function wildcard(pattern: string, caseSensitive: boolean): Matcher {
  const flags = caseSensitive ? 'u' : 'iu';
  if (pattern.startsWith('~')) {
    const re = new RegExp(pattern.slice(1), flags);
    return { test: (s) => re.test(s) };
  }
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '\\' && i + 1 < pattern.length) src += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        src += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const neg = body.startsWith('!') || body.startsWith('^');
      if (neg) body = body.slice(1);
      src += `[${neg ? '^' : ''}${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else src += escapeRe(c);
  }
  const re = new RegExp(`^(?:${src})$`, flags);
  return { test: (s) => re.test(s) };
}

// ------------------------------------------------------------------------------------------ table filter

interface FilterRule {
  exclude: boolean;
  schema: Matcher;
  table: Matcher;
}

/** Reads one part of a filter rule (up to an unquoted, unescaped `.` or the end); returns the matcher and the rest. */
function filterPart(s: string, caseSensitive: boolean): { m: Matcher; rest: string } {
  if (s.startsWith('/')) {
    let i = 1;
    while (i < s.length && s[i] !== '/') i += s[i] === '\\' ? 2 : 1;
    const re = new RegExp(s.slice(1, i), caseSensitive ? 'u' : 'iu');
    return { m: { test: (x) => re.test(x) }, rest: s.slice(i + 1) };
  }
  if (s.startsWith('"') || s.startsWith('`')) {
    const q = s[0]!;
    let name = '';
    let i = 1;
    for (; i < s.length; i++) {
      if (s[i] === q) {
        if (s[i + 1] === q) {
          name += q;
          i++;
          continue;
        }
        break;
      }
      name += s[i];
    }
    const exact = caseSensitive ? name : name.toLowerCase();
    return { m: { test: (x) => (caseSensitive ? x : x.toLowerCase()) === exact }, rest: s.slice(i + 1) };
  }
  let i = 0;
  let pat = '';
  for (; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      pat += s[i]! + s[i + 1]!;
      i++;
      continue;
    }
    if (s[i] === '.') break;
    pat += s[i];
  }
  return { m: wildcard(pat, caseSensitive), rest: s.slice(i) };
}

export interface TableFilter {
  matchTable(schema: string, table: string): boolean;
  /** Some table of this schema could be matched (an including rule's schema part matches it). */
  mayMatchSchema(schema: string): boolean;
  rules: string[];
}

export function parseTableFilter(rules: string[], caseSensitive = true): TableFilter {
  const parsed: FilterRule[] = rules.map((raw) => {
    let r = raw.trim();
    const exclude = r.startsWith('!');
    if (exclude) r = r.slice(1);
    const s = filterPart(r, caseSensitive);
    if (!s.rest.startsWith('.')) throw new Error(`table filter rule ${JSON.stringify(raw)} has no "schema.table" form`);
    const t = filterPart(s.rest.slice(1), caseSensitive);
    if (t.rest.trim() !== '')
      throw new Error(`table filter rule ${JSON.stringify(raw)}: unexpected ${JSON.stringify(t.rest)}`);
    return { exclude, schema: s.m, table: t.m };
  });
  return {
    rules,
    matchTable(schema, table) {
      for (let i = parsed.length - 1; i >= 0; i--) {
        const r = parsed[i]!;
        if (r.schema.test(schema) && r.table.test(table)) return !r.exclude;
      }
      return false;
    },
    mayMatchSchema(schema) {
      return parsed.some((r) => !r.exclude && r.schema.test(schema));
    },
  };
}

// ------------------------------------------------------------------------------------------ router

export interface RouteRule {
  name: string;
  schemaPattern: string;
  tablePattern?: string;
  targetSchema: string;
  targetTable?: string;
}

export interface Router {
  route(schema: string, table: string): { schema: string; table: string; rule?: string };
}

export function makeRouter(rules: RouteRule[], caseSensitive: boolean): Router {
  const compiled = rules.map((r) => ({
    r,
    schema: wildcard(r.schemaPattern, caseSensitive),
    table: r.tablePattern ? wildcard(r.tablePattern, caseSensitive) : undefined,
  }));
  return {
    route(schema, table) {
      const tableRule = compiled.find((c) => c.table && c.schema.test(schema) && c.table.test(table));
      if (tableRule)
        return {
          schema: tableRule.r.targetSchema || schema,
          table: tableRule.r.targetTable || table,
          rule: tableRule.r.name,
        };
      const schemaRule = compiled.find((c) => !c.table && c.schema.test(schema));
      if (schemaRule) return { schema: schemaRule.r.targetSchema || schema, table, rule: schemaRule.r.name };
      return { schema, table };
    },
  };
}
