/**
 * The metric names a PromQL expression reads, found roughly (issue #17: every name the shipped alert rules and
 * Grafana dashboard use must exist on a live agent's /metrics). Not a PromQL parser: string literals, label
 * matchers (`{...}`), ranges and subqueries (`[...]`), grouping clauses (`by (...)`, `on (...)`, ...), Grafana
 * variables (`$task`, `${DS}`) and numbers are removed; what is left of identifier syntax, not called as a function
 * and not a keyword, is a metric name.
 */

/** PromQL's binary operators and modifiers spelled as words, and literals (`inf`, `nan`). */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);

/** Clauses whose parenthesised list holds label names, not series. */
const LABEL_LIST = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)/g;

/** Drops every balanced `open ... close` group (label matchers, ranges); they hold no metric names. */
function dropGroups(s: string, open: string, close: string): string {
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === open) depth++;
    else if (ch === close && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

export function metricNamesOf(expr: string): Set<string> {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\$\{[^}]*\}|\$\w+/g, ' '); // Grafana variables ($task, ${__rate_interval})
  s = dropGroups(s, '{', '}');
  s = dropGroups(s, '[', ']');
  s = s.replace(LABEL_LIST, ' ');
  const names = new Set<string>();
  // Tokens: identifiers, numbers with their units or exponents (5m, 1e9, 0x1f), anything else one character.
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?|\d[\w.]*|[\s\S]/g)) {
    const ident = m[1];
    if (!ident || m[2] || KEYWORDS.has(ident.toLowerCase())) continue;
    names.add(ident);
  }
  return names;
}

/**
 * The label names an expression matches or groups by: inside `metric{...}` selectors and in `by`/`without`/`on`/
 * `ignoring`/`group_left`/`group_right` lists (Grafana variables and string values removed).
 */
export function labelNamesOf(expr: string): Set<string> {
  const s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""').replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/\{([^{}]*)\}/g))
    for (const l of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) out.add(l[1]!);
  for (const m of s.matchAll(LABEL_LIST)) for (const l of m[2]!.split(',')) if (l.trim()) out.add(l.trim());
  return out;
}

/** The metric names a Grafana `label_values(...)` / `query_result(...)` variable query reads. */
export function metricNamesOfVariableQuery(query: string): Set<string> {
  const lv = /^\s*label_values\s*\(([\s\S]*)\)\s*$/.exec(query);
  if (lv) {
    // label_values(label) reads no metric; label_values(expr, label): the expression before the last comma.
    const args = lv[1]!;
    const comma = args.lastIndexOf(',');
    return comma < 0 ? new Set() : metricNamesOf(args.slice(0, comma));
  }
  const qr = /^\s*query_result\s*\(([\s\S]*)\)\s*$/.exec(query);
  return metricNamesOf(qr ? qr[1]! : query);
}

/** Every `expr` of a Prometheus rules file (parsed YAML), with where it is. */
export function ruleExpressions(rules: unknown): { where: string; expr: string; record?: string }[] {
  const out: { where: string; expr: string; record?: string }[] = [];
  const groups = (rules as { groups?: { name: string; rules?: Record<string, unknown>[] }[] }).groups ?? [];
  for (const g of groups) {
    for (const r of g.rules ?? []) {
      const name = String(r['alert'] ?? r['record'] ?? '?');
      out.push({
        where: `${g.name}/${name}`,
        expr: String(r['expr']),
        ...(typeof r['record'] === 'string' ? { record: r['record'] } : {}),
      });
    }
  }
  return out;
}

/** Every PromQL query of a Grafana dashboard (panels, nested row panels, template variables), with where it is. */
export function dashboardExpressions(dashboard: unknown): { where: string; expr: string; variable?: boolean }[] {
  const out: { where: string; expr: string; variable?: boolean }[] = [];
  type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  const d = dashboard as {
    panels?: Panel[];
    templating?: { list?: { name: string; type: string; query?: unknown }[] };
  };
  walk(d.panels ?? []);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q) out.push({ where: `variable $${v.name}`, expr: q, variable: true });
  }
  return out;
}

/** The families a Prometheus text exposition declares: name -> type (from `# TYPE` lines). */
export function exposedFamilies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/**
 * Whether a name used in a query is served: a family of its own, or a histogram's (summary's) `_bucket`, `_sum`
 * or `_count` series.
 */
export function isServed(name: string, families: Map<string, string>): boolean {
  if (families.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const t = families.get(m[1]!);
  return t === 'histogram' || (t === 'summary' && m[2] !== 'bucket');
}
