/**
 * DM expression filters (`expression-filter` rules): the SQL expression text -> our own typed tree.
 *
 * The text is parsed by a real SQL grammar (node-sql-parser, MySQL dialect: DM evaluates these expressions with
 * TiDB's MySQL-compatible expression engine) and then translated into `Expr`, keeping only what `expr-eval.ts`
 * can evaluate. Anything else (sub-queries, variables, an unknown function, a function with the wrong number of
 * arguments, an unsupported JSON path) is refused here, when the task file is loaded, with a message naming the
 * construct: an expression tsdm cannot evaluate must never silently pass rows.
 */
import { sqlParser } from '../sql/grammar.ts';

export type Literal =
  | { k: 'null' }
  | { k: 'int'; v: bigint }
  | { k: 'dec'; v: string }
  | { k: 'real'; v: number }
  | { k: 'str'; v: string }
  | { k: 'bytes'; v: Buffer };

export type IntervalUnit = 'microsecond' | 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

export type Expr =
  | { t: 'lit'; v: Literal }
  | { t: 'col'; name: string }
  | { t: 'unary'; op: 'not' | 'neg' | 'bitnot'; e: Expr }
  | { t: 'bin'; op: BinOp; l: Expr; r: Expr }
  | { t: 'is'; e: Expr; what: 'null' | 'true' | 'false'; not: boolean }
  | { t: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { t: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { t: 'like'; e: Expr; pattern: Expr; escape: string; not: boolean }
  | { t: 'regexp'; e: Expr; pattern: Expr; not: boolean }
  | { t: 'case'; subject?: Expr; whens: { when: Expr; then: Expr }[]; else?: Expr }
  | { t: 'interval'; e: Expr; unit: IntervalUnit }
  | { t: 'fn'; name: string; args: Expr[] };

export type BinOp =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'and'
  | 'or'
  | 'xor'
  | '+'
  | '-'
  | '*'
  | '/'
  | 'div'
  | '%'
  | '&'
  | '|'
  | '^'
  | '<<'
  | '>>'
  | '->'
  | '->>';

/** Function name -> [min args, max args] (max -1 = any). The evaluator implements exactly these. */
export const FUNCTIONS: Readonly<Record<string, readonly [number, number]>> = {
  // control flow and NULL handling
  if: [3, 3],
  ifnull: [2, 2],
  nullif: [2, 2],
  coalesce: [1, -1],
  isnull: [1, 1],
  // strings
  length: [1, 1],
  octet_length: [1, 1],
  char_length: [1, 1],
  character_length: [1, 1],
  upper: [1, 1],
  ucase: [1, 1],
  lower: [1, 1],
  lcase: [1, 1],
  concat: [1, -1],
  concat_ws: [2, -1],
  substring: [2, 3],
  substr: [2, 3],
  mid: [3, 3],
  left: [2, 2],
  right: [2, 2],
  trim: [1, 1],
  ltrim: [1, 1],
  rtrim: [1, 1],
  replace: [3, 3],
  locate: [2, 3],
  instr: [2, 2],
  reverse: [1, 1],
  lpad: [3, 3],
  rpad: [3, 3],
  repeat: [2, 2],
  strcmp: [2, 2],
  hex: [1, 1],
  // numbers
  abs: [1, 1],
  ceil: [1, 1],
  ceiling: [1, 1],
  floor: [1, 1],
  round: [1, 2],
  truncate: [2, 2],
  mod: [2, 2],
  sign: [1, 1],
  greatest: [2, -1],
  least: [2, -1],
  // time
  now: [0, 1],
  current_timestamp: [0, 1],
  localtime: [0, 1],
  localtimestamp: [0, 1],
  sysdate: [0, 1],
  curdate: [0, 0],
  current_date: [0, 0],
  utc_timestamp: [0, 1],
  utc_date: [0, 0],
  date: [1, 1],
  year: [1, 1],
  month: [1, 1],
  day: [1, 1],
  dayofmonth: [1, 1],
  hour: [1, 1],
  minute: [1, 1],
  second: [1, 1],
  dayofweek: [1, 1],
  weekday: [1, 1],
  dayofyear: [1, 1],
  to_days: [1, 1],
  datediff: [2, 2],
  unix_timestamp: [1, 1],
  date_add: [2, 2],
  date_sub: [2, 2],
  adddate: [2, 2],
  subdate: [2, 2],
  // JSON
  json_extract: [2, -1],
  json_unquote: [1, 1],
  json_contains: [2, 3],
  json_contains_path: [3, -1],
  json_length: [1, 2],
  json_type: [1, 1],
  json_valid: [1, 1],
  json_keys: [1, 2],
  json_array: [0, -1],
  json_object: [0, -1],
  json_quote: [1, 1],
  json_depth: [1, 1],
};

const ALIASES: Readonly<Record<string, string>> = {
  ucase: 'upper',
  lcase: 'lower',
  octet_length: 'length',
  character_length: 'char_length',
  substr: 'substring',
  ceiling: 'ceil',
  dayofmonth: 'day',
  current_timestamp: 'now',
  localtime: 'now',
  localtimestamp: 'now',
  sysdate: 'now',
  current_date: 'curdate',
  adddate: 'date_add',
  subdate: 'date_sub',
};

const BINOPS: Readonly<Record<string, BinOp>> = {
  '=': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  AND: 'and',
  '&&': 'and',
  OR: 'or',
  '||': 'or',
  XOR: 'xor',
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  DIV: 'div',
  '%': '%',
  MOD: '%',
  '&': '&',
  '|': '|',
  '^': '^',
  '<<': '<<',
  '>>': '>>',
  '->': '->',
  '->>': '->>',
};

const UNITS = new Set<IntervalUnit>([
  'microsecond',
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'quarter',
  'year',
]);

/** A problem with the expression text; the config loader turns it into ConfigBadExpression at the key's line. */
export class ExprSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExprSyntaxError';
  }
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks one expression. Throws ExprSyntaxError with what is wrong. */
export function compileExpr(text: string): Expr {
  if (text.trim() === '') throw new ExprSyntaxError('the expression is empty');
  let ast: unknown;
  try {
    ast = sqlParser('mysql').astify(`SELECT 1 FROM t WHERE ${text}`, { database: 'mysql' });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ExprSyntaxError(`not a SQL expression tsdm can parse (${msg.split('\n')[0]!.slice(0, 160)})`);
  }
  const stmt = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
  if (
    !isNode(stmt) ||
    stmt['type'] !== 'select' ||
    !isNode(stmt['where']) ||
    stmt['groupby'] ||
    stmt['orderby'] ||
    (stmt['limit'] &&
      isNode(stmt['limit']) &&
      Array.isArray(stmt['limit']['value']) &&
      (stmt['limit']['value'] as unknown[]).length > 0)
  ) {
    throw new ExprSyntaxError('must be a single SQL expression (as in a WHERE clause)');
  }
  const e = toExpr(stmt['where']);
  return e;
}

function numberLiteral(raw: unknown): Literal {
  const s = String(raw);
  if (/^-?\d+$/.test(s)) return { k: 'int', v: BigInt(s) };
  if (/^-?\d*\.\d+$|^-?\d+\.\d*$/.test(s)) return { k: 'dec', v: s };
  const n = Number(s);
  if (!Number.isFinite(n)) throw new ExprSyntaxError(`number ${s} is out of range`);
  return { k: 'real', v: n };
}

function fnName(n: Node): string {
  const nm = n['name'];
  if (typeof nm === 'string') return nm.toLowerCase();
  if (isNode(nm) && Array.isArray(nm['name'])) {
    const parts = (nm['name'] as unknown[]).map((p) => (isNode(p) ? String(p['value']) : String(p)));
    return parts.join('.').toLowerCase();
  }
  throw new ExprSyntaxError('a function call tsdm cannot read');
}

function args(n: Node): unknown[] {
  const a = n['args'];
  if (a === undefined || a === null) return [];
  if (isNode(a) && Array.isArray(a['value'])) return a['value'] as unknown[];
  if (isNode(a) && a['type'] !== 'expr_list') return [a];
  throw new ExprSyntaxError('a function call tsdm cannot read');
}

function columnName(n: Node): string {
  const c = n['column'];
  if (typeof c === 'string') return c;
  if (isNode(c) && isNode(c['expr']) && typeof c['expr']['value'] === 'string') return c['expr']['value'];
  throw new ExprSyntaxError('a column reference tsdm cannot read');
}

function toExpr(v: unknown): Expr {
  if (!isNode(v)) throw new ExprSyntaxError(`unexpected ${JSON.stringify(v)}`);
  const type = String(v['type']);
  switch (type) {
    case 'number':
    case 'bigint':
      return { t: 'lit', v: numberLiteral(v['value']) };
    case 'single_quote_string':
    case 'double_quote_string':
    case 'natural_string':
      return { t: 'lit', v: { k: 'str', v: String(v['value']) } };
    case 'bool':
      return { t: 'lit', v: { k: 'int', v: v['value'] ? 1n : 0n } };
    case 'null':
      return { t: 'lit', v: { k: 'null' } };
    case 'hex_string':
    case 'full_hex_string': {
      const hex = String(v['value']);
      return { t: 'lit', v: { k: 'bytes', v: Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex') } };
    }
    case 'bit_string': {
      const bits = String(v['value']);
      if (!/^[01]*$/.test(bits)) throw new ExprSyntaxError(`b'${bits}' is not a bit string`);
      const n = bits === '' ? 0n : BigInt(`0b${bits}`);
      const len = Math.max(1, Math.ceil(bits.length / 8));
      const buf = Buffer.alloc(len);
      let x = n;
      for (let i = len - 1; i >= 0; i--) {
        buf[i] = Number(x & 0xffn);
        x >>= 8n;
      }
      return { t: 'lit', v: { k: 'bytes', v: buf } };
    }
    case 'column_ref': {
      if (v['db']) throw new ExprSyntaxError('a column must be named without its schema (the rule names the table)');
      return { t: 'col', name: columnName(v) };
    }
    case 'unary_expr': {
      const op = String(v['operator']).toUpperCase();
      const e = toExpr(v['expr']);
      if (op === 'NOT' || op === '!') return { t: 'unary', op: 'not', e };
      if (op === '-') return { t: 'unary', op: 'neg', e };
      if (op === '+') return e;
      if (op === '~') return { t: 'unary', op: 'bitnot', e };
      throw new ExprSyntaxError(`operator ${op} is not supported`);
    }
    case 'binary_expr':
      return binary(v);
    case 'case': {
      const whens: { when: Expr; then: Expr }[] = [];
      let otherwise: Expr | undefined;
      for (const a of (v['args'] as unknown[] | undefined) ?? []) {
        if (!isNode(a)) continue;
        if (a['type'] === 'when') whens.push({ when: toExpr(a['cond']), then: toExpr(a['result']) });
        else otherwise = toExpr(a['result']);
      }
      return {
        t: 'case',
        ...(v['expr'] ? { subject: toExpr(v['expr']) } : {}),
        whens,
        ...(otherwise ? { else: otherwise } : {}),
      };
    }
    case 'interval': {
      const unit = String(v['unit']).toLowerCase() as IntervalUnit;
      if (!UNITS.has(unit))
        throw new ExprSyntaxError(
          `INTERVAL unit ${String(v['unit']).toUpperCase()} is not supported (use ${[...UNITS].join(', ').toUpperCase()})`,
        );
      return { t: 'interval', e: toExpr(v['expr']), unit };
    }
    case 'function':
      return fn(v);
    case 'expr_list': {
      const list = v['value'] as unknown[];
      if (Array.isArray(list) && list.length === 1) return toExpr(list[0]);
      throw new ExprSyntaxError('row constructors such as (a, b) are not supported');
    }
    case 'cast':
      throw new ExprSyntaxError('CAST/CONVERT is not supported by tsdm expression filters yet');
    case 'var':
      throw new ExprSyntaxError('variables are not supported in expression filters');
    default:
      if (v['ast'] || v['tableList']) throw new ExprSyntaxError('sub-queries are not supported in expression filters');
      throw new ExprSyntaxError(`${type.replace(/_/g, ' ')} is not supported in expression filters`);
  }
}

function binary(v: Node): Expr {
  const op = String(v['operator']).toUpperCase();
  const l = toExpr(v['left']);
  const right = v['right'];
  switch (op) {
    case 'IS':
    case 'IS NOT': {
      const not = op === 'IS NOT';
      const r = isNode(right) ? right : {};
      if (r['type'] === 'null') return { t: 'is', e: l, what: 'null', not };
      if (r['type'] === 'bool') return { t: 'is', e: l, what: r['value'] ? 'true' : 'false', not };
      if (r['type'] === 'origin' && String(r['value']).toUpperCase() === 'UNKNOWN')
        return { t: 'is', e: l, what: 'null', not };
      throw new ExprSyntaxError(`${op} must be followed by NULL, TRUE, FALSE or UNKNOWN`);
    }
    case 'IN':
    case 'NOT IN': {
      if (!isNode(right) || right['type'] !== 'expr_list' || !Array.isArray(right['value']))
        throw new ExprSyntaxError(`${op} needs a list of values`);
      return { t: 'in', e: l, list: (right['value'] as unknown[]).map(toExpr), not: op === 'NOT IN' };
    }
    case 'BETWEEN':
    case 'NOT BETWEEN': {
      const list = isNode(right) && Array.isArray(right['value']) ? (right['value'] as unknown[]) : [];
      if (list.length !== 2) throw new ExprSyntaxError(`${op} needs two bounds`);
      return { t: 'between', e: l, lo: toExpr(list[0]), hi: toExpr(list[1]), not: op === 'NOT BETWEEN' };
    }
    case 'LIKE':
    case 'NOT LIKE': {
      let escape = '\\';
      if (isNode(right) && isNode(right['escape'])) {
        const ev = right['escape']['value'];
        const s = isNode(ev) ? String(ev['value']) : String(ev);
        if (s.length !== 1) throw new ExprSyntaxError('ESCAPE needs one character');
        escape = s;
      }
      const pattern = isNode(right) ? toExpr({ ...right, escape: undefined }) : toExpr(right);
      return { t: 'like', e: l, pattern, escape, not: op === 'NOT LIKE' };
    }
    case 'REGEXP':
    case 'RLIKE':
    case 'NOT REGEXP':
    case 'NOT RLIKE':
      return { t: 'regexp', e: l, pattern: toExpr(right), not: op.startsWith('NOT') };
  }
  const mapped = BINOPS[op];
  if (!mapped) throw new ExprSyntaxError(`operator ${op} is not supported in expression filters`);
  const r = toExpr(right);
  if ((mapped === '->' || mapped === '->>') && !(r.t === 'lit' && r.v.k === 'str'))
    throw new ExprSyntaxError(`${op} needs a JSON path string on its right`);
  if ((mapped === '->' || mapped === '->>') && r.t === 'lit' && r.v.k === 'str') checkJsonPath(r.v.v);
  return { t: 'bin', op: mapped, l, r };
}

function fn(v: Node): Expr {
  let name = fnName(v);
  const raw = args(v);
  if (name === 'trim' && raw.length > 1)
    throw new ExprSyntaxError(
      'TRIM with LEADING/TRAILING/BOTH ... FROM is not supported; use TRIM(x), LTRIM(x) or RTRIM(x)',
    );
  const spec = FUNCTIONS[name];
  if (!spec)
    throw new ExprSyntaxError(
      `function ${name.toUpperCase()}() is not supported by tsdm expression filters (supported: ${Object.keys(FUNCTIONS).join(', ')})`,
    );
  const [min, max] = spec;
  if (raw.length < min || (max >= 0 && raw.length > max)) {
    throw new ExprSyntaxError(
      `${name.toUpperCase()}() takes ${min === max ? min : max < 0 ? `at least ${min}` : `${min} to ${max}`} argument(s), got ${raw.length}`,
    );
  }
  name = ALIASES[name] ?? name;
  const a = raw.map(toExpr);
  if (name === 'date_add' || name === 'date_sub') {
    if (a[1]!.t !== 'interval') {
      // ADDDATE(d, n) means n days.
      a[1] = { t: 'interval', e: a[1]!, unit: 'day' };
    }
  } else if (a.some((x) => x.t === 'interval'))
    throw new ExprSyntaxError('INTERVAL is only supported in DATE_ADD/DATE_SUB and date +/- INTERVAL');
  if (name.startsWith('json_')) {
    const pathArgs =
      name === 'json_extract' || name === 'json_contains_path'
        ? a.slice(name === 'json_extract' ? 1 : 2)
        : name === 'json_contains'
          ? a.slice(2)
          : name === 'json_length' || name === 'json_keys'
            ? a.slice(1)
            : [];
    for (const p of pathArgs) if (p.t === 'lit' && p.v.k === 'str') checkJsonPath(p.v.v);
    if (name === 'json_contains_path') {
      const m = a[1]!;
      if (m.t === 'lit' && m.v.k === 'str' && !['one', 'all'].includes(m.v.v.toLowerCase()))
        throw new ExprSyntaxError(`JSON_CONTAINS_PATH mode must be 'one' or 'all', got '${m.v.v}'`);
    }
  }
  return { t: 'fn', name, args: a };
}

export type PathLeg = { k: 'key'; v: string } | { k: 'index'; v: number } | { k: 'anykey' } | { k: 'anyindex' };

/** MySQL JSON path: `$`, `.key`, `."key"`, `.*`, `[n]`, `[*]`. (`**` and `last` are not supported.) */
export function parseJsonPath(path: string): PathLeg[] {
  const s = path.trim();
  if (!s.startsWith('$')) throw new ExprSyntaxError(`JSON path ${JSON.stringify(path)} must start with $`);
  const legs: PathLeg[] = [];
  let i = 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ') {
      i++;
      continue;
    }
    if (c === '.') {
      i++;
      if (s[i] === '*') {
        legs.push({ k: 'anykey' });
        i++;
        continue;
      }
      if (s[i] === '"') {
        let j = i + 1;
        let key = '';
        while (j < s.length && s[j] !== '"') {
          if (s[j] === '\\') j++;
          key += s[j] ?? '';
          j++;
        }
        if (s[j] !== '"') throw new ExprSyntaxError(`JSON path ${JSON.stringify(path)} has an unterminated quoted key`);
        legs.push({ k: 'key', v: key });
        i = j + 1;
        continue;
      }
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(s.slice(i));
      if (!m) throw new ExprSyntaxError(`JSON path ${JSON.stringify(path)} is not supported at "${s.slice(i - 1)}"`);
      legs.push({ k: 'key', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '[') {
      const m = /^\[\s*(\*|\d+)\s*\]/.exec(s.slice(i));
      if (!m)
        throw new ExprSyntaxError(
          `JSON path ${JSON.stringify(path)} is not supported at "${s.slice(i)}" (use [n] or [*])`,
        );
      legs.push(m[1] === '*' ? { k: 'anyindex' } : { k: 'index', v: Number(m[1]) });
      i += m[0].length;
      continue;
    }
    throw new ExprSyntaxError(`JSON path ${JSON.stringify(path)} is not supported at "${s.slice(i)}"`);
  }
  return legs;
}

function checkJsonPath(p: string): void {
  parseJsonPath(p);
}

/** Column names the expression reads (case as written). */
export function columnsOf(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.t) {
    case 'col':
      out.add(e.name);
      break;
    case 'lit':
      break;
    case 'unary':
      columnsOf(e.e, out);
      break;
    case 'bin':
      columnsOf(e.l, out);
      columnsOf(e.r, out);
      break;
    case 'is':
      columnsOf(e.e, out);
      break;
    case 'in':
      columnsOf(e.e, out);
      e.list.forEach((x) => columnsOf(x, out));
      break;
    case 'between':
      columnsOf(e.e, out);
      columnsOf(e.lo, out);
      columnsOf(e.hi, out);
      break;
    case 'like':
      columnsOf(e.e, out);
      columnsOf(e.pattern, out);
      break;
    case 'regexp':
      columnsOf(e.e, out);
      columnsOf(e.pattern, out);
      break;
    case 'case':
      if (e.subject) columnsOf(e.subject, out);
      e.whens.forEach((w) => {
        columnsOf(w.when, out);
        columnsOf(w.then, out);
      });
      if (e.else) columnsOf(e.else, out);
      break;
    case 'interval':
      columnsOf(e.e, out);
      break;
    case 'fn':
      e.args.forEach((x) => columnsOf(x, out));
      break;
  }
  return out;
}
