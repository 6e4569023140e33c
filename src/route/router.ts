import type { RouteRule } from '../config/types.ts';
import type { TableName } from '../sql/table-name.ts';
import { DmError } from '../errors/index.ts';
import { compilePattern, type NameMatcher } from '../filter/pattern.ts';
import { compileRe2 } from '../filter/re2.ts';

/** DM extended columns of one upstream table: column names and the values every row of it carries. */
export interface ExtendedColumns {
  columns: string[];
  values: string[];
}

/**
 * DM table routing, as DM's syncer/loader do it today: tidb `pkg/util/regexpr-router` `RouteTable.Route`
 * (patterns are wildcards or `~regex`, see filter/pattern.ts).
 *
 * - A rule with an empty table-pattern is schema-level: it matches every table of a matching schema and the
 *   schema itself. A rule with a table-pattern is table-level: it matches tables whose schema and name match.
 * - Table-level rules win over schema-level rules. For a schema-level name (table '', CREATE/DROP DATABASE)
 *   only schema-level rules apply.
 * - More than one matching rule of the deciding level is an error, as in DM ("matches more than one rule"):
 *   DM does not guess which target was meant. It is raised when such a table is met, since it depends on the
 *   upstream names.
 * - The target schema/table replace the name; an empty target-table keeps the table name. A schema-level
 *   rule's target-table, if set, is applied too (DM does the same).
 * - No match: the name is unchanged. Case-insensitive mode lower-cases only for matching; targets are used
 *   as written, and unmatched names keep their original case.
 */

interface CompiledRule {
  rule: RouteRule;
  schema: NameMatcher;
  /** undefined = schema-level rule */
  table?: NameMatcher;
  extractors: { column: string; re: RegExp; of: 'table' | 'schema' | 'source' }[];
}

export class Router {
  private readonly rules: CompiledRule[];
  private readonly cache = new Map<string, TableName>();
  /** extendColumns per (schema, table, source): it is asked for every replicated row. null = no extended column. */
  private readonly extendCache = new Map<string, ExtendedColumns | null>();
  private readonly anyExtractor: boolean;

  constructor(rules: RouteRule[], caseSensitive: boolean) {
    this.rules = rules.map((rule) => {
      if (rule.schemaPattern === '') {
        throw new DmError('ConfigBadPattern', `route rule ${rule.name}: schema-pattern cannot be empty`);
      }
      if (rule.targetSchema === '') {
        throw new DmError('ConfigInvalid', `route rule ${rule.name}: target-schema cannot be empty`);
      }
      const extractors: CompiledRule['extractors'] = [];
      // DM's order: table, schema, source.
      if (rule.extractTable)
        extractors.push({
          column: rule.extractTable.targetColumn,
          re: compileRe2(rule.extractTable.regexp),
          of: 'table',
        });
      if (rule.extractSchema)
        extractors.push({
          column: rule.extractSchema.targetColumn,
          re: compileRe2(rule.extractSchema.regexp),
          of: 'schema',
        });
      if (rule.extractSource)
        extractors.push({
          column: rule.extractSource.targetColumn,
          re: compileRe2(rule.extractSource.regexp),
          of: 'source',
        });
      const c: CompiledRule = { rule, schema: compilePattern(rule.schemaPattern, caseSensitive), extractors };
      if (rule.tablePattern !== '') c.table = compilePattern(rule.tablePattern, caseSensitive);
      return c;
    });
    this.anyExtractor = this.rules.some((r) => r.extractors.length > 0);
  }

  /** Routes an upstream table to its downstream name. Throws DmError('ConfigInvalid') on an ambiguous match. */
  route(schema: string, table: string): TableName {
    const key = `${schema}\0${table}`;
    let hit = this.cache.get(key);
    if (hit === undefined) {
      hit = this.compute(schema, table);
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(key, hit);
    }
    return { ...hit };
  }

  /** The downstream name of a schema (CREATE/DROP DATABASE); only schema-level rules apply. */
  routeSchema(schema: string): string {
    return this.route(schema, '').schema;
  }

  /**
   * DM's extended columns (`RouteTable.FetchExtendColumn`): the first matching table-level rule, else the first
   * schema-level one, decides; each of its extractors yields the concatenation of its regexp's capture groups on
   * the table name, schema name or source-id (unanchored, as Go's FindStringSubmatch); no match yields ''.
   * undefined when the deciding rule has no extractor.
   */
  extendColumns(schema: string, table: string, source: string): ExtendedColumns | undefined {
    if (!this.anyExtractor) return undefined;
    const key = `${schema}\0${table}\0${source}`;
    let hit = this.extendCache.get(key);
    if (hit === undefined) {
      hit = this.computeExtend(schema, table, source) ?? null;
      if (this.extendCache.size >= 100_000) this.extendCache.clear();
      this.extendCache.set(key, hit);
    }
    return hit ?? undefined;
  }

  private computeExtend(schema: string, table: string, source: string): ExtendedColumns | undefined {
    const { tableRules, schemaRules } = this.matching(schema, table);
    const rule = tableRules[0] ?? schemaRules[0];
    if (!rule || rule.extractors.length === 0) return undefined;
    const columns: string[] = [];
    const values: string[] = [];
    for (const x of rule.extractors) {
      const m = x.re.exec(x.of === 'table' ? table : x.of === 'schema' ? schema : source);
      columns.push(x.column);
      values.push(
        m
          ? m
              .slice(1)
              .map((g) => g ?? '')
              .join('')
          : '',
      );
    }
    return { columns, values };
  }

  private matching(schema: string, table: string): { tableRules: CompiledRule[]; schemaRules: CompiledRule[] } {
    const tableRules: CompiledRule[] = [];
    const schemaRules: CompiledRule[] = [];
    for (const r of this.rules) {
      if (!r.schema(schema)) continue;
      if (r.table === undefined) schemaRules.push(r);
      else if (table !== '' && r.table(table)) tableRules.push(r);
    }
    return { tableRules, schemaRules };
  }

  /** The name of the route rule that decides this table's target (undefined: none matches, the name is kept), for
   * `dmctl plan`; throws like route() on an ambiguous match. */
  ruleFor(schema: string, table: string): string | undefined {
    return this.deciding(schema, table)?.name;
  }

  private compute(schema: string, table: string): TableName {
    const rule = this.deciding(schema, table);
    return {
      schema: rule && rule.targetSchema !== '' ? rule.targetSchema : schema,
      // A schema-level name stays schema-level (DM would hand back the rule's target-table here, which no
      // caller can use for a database statement).
      table: table !== '' && rule && rule.targetTable !== '' ? rule.targetTable : table,
    };
  }

  private deciding(schema: string, table: string): RouteRule | undefined {
    const { tableRules, schemaRules } = this.matching(schema, table);
    const deciding = table === '' || tableRules.length === 0 ? schemaRules : tableRules;
    if (deciding.length > 1) {
      const names = deciding.map((r) => r.rule.name || `${r.rule.schemaPattern}/${r.rule.tablePattern}`).join(', ');
      throw new DmError(
        'ConfigInvalid',
        `table \`${schema}\`.\`${table}\` matches more than one route rule: ${names}`,
        {
          context: { table: `${schema}.${table}` },
          suggestion:
            'Make the routes disjoint: a table may match at most one table-level rule, and one schema-level rule.',
        },
      );
    }
    return deciding[0]?.rule;
  }
}
