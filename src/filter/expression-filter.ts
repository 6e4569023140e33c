/**
 * DM's expression filter (`expression-filter` rules referenced by `mysql-instances[].expression-filters`), with
 * DM's semantics (dm/syncer/expr_filter_group.go, dml.go):
 * - a rule names one upstream table exactly (`schema`, `table`: no wildcards) and one kind of change;
 * - INSERT: the row is discarded when any `insert-value-expr` of the table is true for the new values;
 * - DELETE: likewise with `delete-value-expr` on the old values;
 * - UPDATE: each rule with `update-old-value-expr` and/or `update-new-value-expr` is a pair (a missing side is
 *   TRUE); the change is discarded when, for some rule, the old values satisfy its old expression AND the new
 *   values its new one;
 * - "true" means the value 1: NULL or 0 keeps the row;
 * - expressions are bound to the table's structure at the event (schema tracker): a column the table does not
 *   have (any more) makes that expression FALSE, with a warning, as DM does; it binds again after the next DDL;
 * - only the sync unit applies them (DM's dump does not): rows of the full dump are all migrated.
 */
import { tableKey } from '../sql/table-name.ts';
import type { ExpressionFilterRule } from '../config/types.ts';
import { DmError } from '../errors/index.ts';
import type { ColumnInfo, TableInfo } from '../schema/engine-shapes.ts';
import { columnsOf, compileExpr, type Expr } from './expr-ast.ts';
import { columnValue, evaluate, isTrue, type EvalEnv } from './expr-eval.ts';
import { ExprEvalError } from './expr-values.ts';

export type { ExpressionFilterRule };

type RowImage = Record<string, string | Buffer | null>;
export type RowOp = 'insert' | 'update' | 'delete';

interface Compiled {
  rule: string;
  key: string;
  text: string;
  expr: Expr;
}
/** TRUE: the missing side of an update pair; FALSE: an expression naming a column the table does not have. */
type Bound = 'TRUE' | 'FALSE' | { c: Compiled; cols: Map<string, ColumnInfo> };
interface BoundTable {
  insert: Bound[];
  update: [Bound, Bound][];
  delete: Bound[];
}
interface TableRules {
  insert: Compiled[];
  update: [Compiled | undefined, Compiled | undefined][];
  delete: Compiled[];
}

export class ExpressionFilter {
  private readonly tables = new Map<string, TableRules>();
  private readonly bound = new WeakMap<TableInfo, BoundTable>();

  constructor(
    rules: readonly ExpressionFilterRule[],
    private readonly caseSensitive: boolean,
    private readonly env: EvalEnv,
    private readonly warn: (msg: string, detail: Record<string, unknown>) => void = () => undefined,
  ) {
    for (const r of rules) {
      const c = (key: string, text: string | undefined): Compiled | undefined =>
        text ? { rule: r.name, key, text, expr: compileExpr(text) } : undefined;
      const t = this.rulesOf(r.schema, r.table, { create: true })!;
      const ins = c('insert-value-expr', r.insertValueExpr);
      if (ins) t.insert.push(ins);
      const del = c('delete-value-expr', r.deleteValueExpr);
      if (del) t.delete.push(del);
      const o = c('update-old-value-expr', r.updateOldValueExpr),
        n = c('update-new-value-expr', r.updateNewValueExpr);
      if (o || n) t.update.push([o, n]);
    }
  }

  get empty(): boolean {
    return this.tables.size === 0;
  }

  private key(schema: string, table: string): string {
    const k = `${schema}\0${table}`;
    return this.caseSensitive ? k : k.toLowerCase();
  }

  private rulesOf(schema: string, table: string, opts: { create?: boolean } = {}): TableRules | undefined {
    const k = this.key(schema, table);
    let t = this.tables.get(k);
    if (!t && opts.create) {
      t = { insert: [], update: [], delete: [] };
      this.tables.set(k, t);
    }
    return t;
  }

  /** The expressions of this table (rule, key, text), for `dmctl plan`: the same lookup skip() makes. */
  describe(schema: string, table: string): { rule: string; key: string; expr: string }[] {
    const t = this.rulesOf(schema, table);
    if (!t) return [];
    const all = [...t.insert, ...t.update.flatMap(([o, n]) => [o, n]), ...t.delete];
    return all.filter((c): c is Compiled => c !== undefined).map((c) => ({ rule: c.rule, key: c.key, expr: c.text }));
  }

  /** True when the row change must not be migrated. Throws a DmError when an expression cannot be evaluated. */
  skip(op: RowOp, info: TableInfo, before: RowImage | undefined, after: RowImage | undefined): boolean {
    if (this.tables.size === 0) return false;
    const rules = this.rulesOf(info.schema, info.table);
    if (!rules) return false;
    const b = this.bind(info, rules);
    if (op === 'insert') return b.insert.some((x) => this.test(x, info, after));
    if (op === 'delete') return b.delete.some((x) => this.test(x, info, before));
    return b.update.some(([o, n]) => this.test(o, info, before) && this.test(n, info, after));
  }

  private bind(info: TableInfo, rules: TableRules): BoundTable {
    let b = this.bound.get(info);
    if (b) return b;
    const byName = new Map(info.columns.map((c) => [c.name.toLowerCase(), c] as const));
    const one = (c: Compiled | undefined): Bound => {
      if (!c) return 'TRUE';
      const missing = [...columnsOf(c.expr)].filter((n) => !byName.has(n.toLowerCase()));
      if (missing.length > 0) {
        this.warn(
          'expression filter names a column the table does not have: the expression is FALSE until the table has it (as in DM)',
          { rule: c.rule, key: c.key, expression: c.text, table: `${tableKey(info)}`, columns: missing },
        );
        return 'FALSE';
      }
      return { c, cols: byName };
    };
    b = {
      insert: rules.insert.map(one),
      update: rules.update.map(([o, n]) => [one(o), one(n)]),
      delete: rules.delete.map(one),
    };
    this.bound.set(info, b);
    return b;
  }

  private test(b: Bound, info: TableInfo, row: RowImage | undefined): boolean {
    if (b === 'TRUE') return true;
    if (b === 'FALSE' || !row) return false;
    try {
      const v = evaluate(
        b.c.expr,
        (name) => {
          const col = b.cols.get(name.toLowerCase())!;
          return columnValue(row[col.name], col, this.env);
        },
        this.env,
      );
      return isTrue(v);
    } catch (err) {
      if (!(err instanceof ExprEvalError)) throw err;
      throw new DmError(
        'ExpressionFilterEval',
        `expression filter "${b.c.rule}" (${b.c.key}: ${b.c.text}) cannot be evaluated on a row of ${tableKey(info)}: ${err.message}`,
        {
          context: { key: `expression-filter.${b.c.rule}.${b.c.key}`, table: `${tableKey(info)}` },
          cause: err,
        },
      );
    }
  }
}
