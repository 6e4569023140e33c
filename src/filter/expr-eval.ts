/**
 * Evaluates an expression-filter `Expr` (expr-ast.ts) against one row image. Values are typed from the table's
 * tracked column types (columnValue); the operators and functions follow MySQL (expr-values.ts has the rules).
 */
import type { ColumnInfo } from '../schema/engine-shapes.ts';
import type { Expr, IntervalUnit } from './expr-ast.ts';
import { parseJsonPath, type PathLeg } from './expr-ast.ts';
import {
  ExprEvalError,
  FALSE,
  TRUE,
  asJsonDoc,
  bool,
  bytesToUint,
  compare,
  compareJson,
  decArith,
  formatTime,
  fromEpochMicros,
  fromLiteral,
  isNumeric,
  jsonText,
  parseDateTime,
  parseDec,
  parseTime,
  shiftDateTime,
  strToReal,
  toDateTime,
  toEpochMicros,
  toInt,
  toJsonValue,
  toNumeric,
  toReal,
  toStr,
  truth,
  type Val,
} from './expr-values.ts';

export interface EvalEnv {
  /** Offset of the filter's time zone from UTC, minutes: NOW() and TIMESTAMP columns are seen in it. */
  zoneMinutes: number;
  /** Current time, ms since the epoch (injectable for tests). */
  now(): number;
}

/** A raw row value (tsdm's Value) as a typed SQL value, by the column's tracked type. */
export function columnValue(raw: string | Buffer | null | undefined, col: ColumnInfo, env: EvalEnv): Val {
  if (raw === null || raw === undefined) return null;
  const text = () => (Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
  switch (col.dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
    case 'year':
    case 'bool':
    case 'boolean': {
      const s = text().trim();
      return /^[+-]?\d+$/.test(s) ? { k: 'int', v: BigInt(s) } : { k: 'real', v: strToReal(s) };
    }
    case 'bit':
      return Buffer.isBuffer(raw)
        ? { k: 'int', v: bytesToUint(raw) }
        : /^\d+$/.test(raw)
          ? { k: 'int', v: BigInt(raw) }
          : { k: 'int', v: bytesToUint(Buffer.from(raw, 'latin1')) };
    case 'decimal':
    case 'numeric':
    case 'fixed':
      return parseDec(text()) ? { k: 'dec', v: text().trim() } : { k: 'real', v: strToReal(text()) };
    case 'float':
    case 'double':
    case 'real':
      return { k: 'real', v: Number(text()) };
    case 'date':
    case 'datetime':
    case 'timestamp': {
      const d = parseDateTime(text(), 0);
      if (!d) return { k: 'str', v: text() };
      const v = col.dataType === 'timestamp' ? shiftDateTime(d.v, env.zoneMinutes) : d.v;
      return { k: 'dt', v, date: col.dataType === 'date' };
    }
    case 'time': {
      const t = parseTime(text());
      return t === undefined ? { k: 'str', v: text() } : { k: 'time', v: t };
    }
    case 'json':
      try {
        return { k: 'json', v: JSON.parse(text()) };
      } catch {
        return { k: 'str', v: text() };
      }
    default:
      if (col.binary) return { k: 'bytes', v: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8') };
      return { k: 'str', v: text() };
  }
}

export type ColumnLookup = (name: string) => Val;

export function evaluate(e: Expr, col: ColumnLookup, env: EvalEnv): Val {
  const ev = (x: Expr) => evaluate(x, col, env);
  switch (e.t) {
    case 'lit':
      return fromLiteral(e.v);
    case 'col':
      return col(e.name);
    case 'unary': {
      const v = ev(e.e);
      if (e.op === 'not') {
        const t = truth(v);
        return t === null ? null : bool(!t);
      }
      if (v === null) return null;
      if (e.op === 'bitnot') return { k: 'int', v: BigInt.asUintN(64, ~BigInt.asUintN(64, toInt(v)!)) };
      const n = toNumeric(v)!;
      return n.k === 'int'
        ? { k: 'int', v: -n.v }
        : n.k === 'dec'
          ? { k: 'dec', v: n.v.startsWith('-') ? n.v.slice(1) : `-${n.v}` }
          : { k: 'real', v: -(n as { v: number }).v };
    }
    case 'bin':
      return binary(e.op, e.l, e.r, ev, env);
    case 'is': {
      const v = ev(e.e);
      const r = e.what === 'null' ? v === null : e.what === 'true' ? truth(v) === true : truth(v) === false;
      return bool(e.not ? !r : r);
    }
    case 'in': {
      const v = ev(e.e);
      if (v === null) return null;
      let sawNull = false;
      for (const x of e.list) {
        const c = compare(v, ev(x), env.zoneMinutes);
        if (c === 0) return bool(!e.not);
        if (c === null) sawNull = true;
      }
      return sawNull ? null : bool(e.not);
    }
    case 'between': {
      const v = ev(e.e);
      const lo = compare(v, ev(e.lo), env.zoneMinutes),
        hi = compare(v, ev(e.hi), env.zoneMinutes);
      const a = lo === null ? null : lo >= 0,
        b = hi === null ? null : hi <= 0;
      const r = a === false || b === false ? false : a === null || b === null ? null : true;
      return r === null ? null : bool(e.not ? !r : r);
    }
    case 'like': {
      const v = ev(e.e),
        p = ev(e.pattern);
      if (v === null || p === null) return null;
      const r = likeRegex(toStr(p)!, e.escape).test(toStr(v)!);
      return bool(e.not ? !r : r);
    }
    case 'regexp': {
      const v = ev(e.e),
        p = ev(e.pattern);
      if (v === null || p === null) return null;
      let re: RegExp;
      try {
        re = cached(`re\0${toStr(p)}`, () => new RegExp(toStr(p)!, 'u'));
      } catch {
        throw new ExprEvalError(`REGEXP: invalid pattern ${JSON.stringify(toStr(p))}`);
      }
      const r = re.test(toStr(v)!);
      return bool(e.not ? !r : r);
    }
    case 'case': {
      const subject = e.subject ? ev(e.subject) : undefined;
      for (const w of e.whens) {
        const hit = e.subject ? compare(subject!, ev(w.when), env.zoneMinutes) === 0 : truth(ev(w.when)) === true;
        if (hit) return ev(w.then);
      }
      return e.else ? ev(e.else) : null;
    }
    case 'interval':
      throw new ExprEvalError('INTERVAL outside date arithmetic');
    case 'fn':
      return call(e.name, e.args, ev, env);
  }
}

/** DM skips a row when the expression's value is integer 1 (TiDB `d.GetInt64() == 1`): NULL and 0 keep it. */
export function isTrue(v: Val): boolean {
  return v !== null && v.k === 'int' && v.v === 1n;
}

const cache = new Map<string, RegExp>();
function cached(key: string, make: () => RegExp): RegExp {
  let r = cache.get(key);
  if (!r) {
    r = make();
    if (cache.size > 1000) cache.clear();
    cache.set(key, r);
  }
  return r;
}

function likeRegex(pattern: string, escape: string): RegExp {
  return cached(`like\0${escape}\0${pattern}`, () => {
    let src = '';
    const chars = [...pattern];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === escape && i + 1 < chars.length) {
        src += chars[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        continue;
      }
      if (c === '%') src += '[\\s\\S]*';
      else if (c === '_') src += '[\\s\\S]';
      else src += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
    return new RegExp(`^${src}$`, 'u');
  });
}

function binary(op: Extract<Expr, { t: 'bin' }>['op'], le: Expr, re: Expr, ev: (x: Expr) => Val, env: EvalEnv): Val {
  switch (op) {
    case 'and': {
      const a = truth(ev(le));
      if (a === false) return FALSE;
      const b = truth(ev(re));
      if (b === false) return FALSE;
      return a === null || b === null ? null : TRUE;
    }
    case 'or': {
      const a = truth(ev(le));
      if (a === true) return TRUE;
      const b = truth(ev(re));
      if (b === true) return TRUE;
      return a === null || b === null ? null : FALSE;
    }
    case 'xor': {
      const a = truth(ev(le)),
        b = truth(ev(re));
      return a === null || b === null ? null : bool(a !== b);
    }
    case '->':
    case '->>': {
      const doc = ev(le);
      const path = toStr(ev(re))!;
      const found = extract(doc, [path], 'JSON_EXTRACT');
      return op === '->' ? found : unquote(found);
    }
  }
  // Date arithmetic: date +/- INTERVAL n unit (either side for +).
  if ((op === '+' || op === '-') && (re.t === 'interval' || (op === '+' && le.t === 'interval'))) {
    const [dExpr, iv] = re.t === 'interval' ? [le, re] : [re, le as Extract<Expr, { t: 'interval' }>];
    return dateAdd(ev(dExpr), ev(iv.e), iv.unit, op === '-' ? -1 : 1, env);
  }
  const a = ev(le),
    b = ev(re);
  switch (op) {
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const c = compare(a, b, env.zoneMinutes);
      if (c === null) return null;
      return bool(
        op === '='
          ? c === 0
          : op === '!='
            ? c !== 0
            : op === '<'
              ? c < 0
              : op === '<='
                ? c <= 0
                : op === '>'
                  ? c > 0
                  : c >= 0,
      );
    }
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>': {
      if (a === null || b === null) return null;
      const x = BigInt.asUintN(64, toInt(a)!),
        y = BigInt.asUintN(64, toInt(b)!);
      const r =
        op === '&'
          ? x & y
          : op === '|'
            ? x | y
            : op === '^'
              ? x ^ y
              : op === '<<'
                ? y > 63n
                  ? 0n
                  : x << y
                : y > 63n
                  ? 0n
                  : x >> y;
      return { k: 'int', v: BigInt.asUintN(64, r) };
    }
    default:
      return arith(op, a, b);
  }
}

function arith(op: '+' | '-' | '*' | '/' | 'div' | '%', a: Val, b: Val): Val {
  if (a === null || b === null) return null;
  const x = toNumeric(a)!,
    y = toNumeric(b)!;
  if (op === '/' || op === 'div' || op === '%') {
    const yr = toReal(y)!;
    if (yr === 0) return null; // MySQL: division by zero is NULL
    if (op === '/') return { k: 'real', v: toReal(x)! / yr };
    if (op === 'div') {
      if (x.k === 'int' && y.k === 'int') return { k: 'int', v: x.v / y.v };
      return { k: 'int', v: BigInt(Math.trunc(toReal(x)! / yr)) };
    }
    if (x.k === 'int' && y.k === 'int') return { k: 'int', v: x.v % y.v };
    return { k: 'real', v: toReal(x)! % yr };
  }
  if (x.k === 'real' || y.k === 'real') {
    const p = toReal(x)!,
      q = toReal(y)!;
    return { k: 'real', v: op === '+' ? p + q : op === '-' ? p - q : p * q };
  }
  if (x.k === 'int' && y.k === 'int')
    return { k: 'int', v: op === '+' ? x.v + y.v : op === '-' ? x.v - y.v : x.v * y.v };
  return decArith(op, x, y);
}

const UNIT_MICROS: Partial<Record<IntervalUnit, bigint>> = {
  microsecond: 1n,
  second: 1_000_000n,
  minute: 60_000_000n,
  hour: 3_600_000_000n,
  day: 86_400_000_000n,
  week: 604_800_000_000n,
};

function dateAdd(d: Val, n: Val, unit: IntervalUnit, sign: 1 | -1, env: EvalEnv): Val {
  const dt = toDateTime(d, env.zoneMinutes);
  if (dt === null || n === null || dt.k !== 'dt') return null;
  const amount = toInt(n)! * BigInt(sign);
  const perUnit = UNIT_MICROS[unit];
  if (perUnit !== undefined) {
    const v = fromEpochMicros(toEpochMicros(dt.v) + amount * perUnit);
    return { k: 'dt', v, date: dt.date && perUnit % 86_400_000_000n === 0n };
  }
  const months = Number(amount) * (unit === 'year' ? 12 : unit === 'quarter' ? 3 : 1);
  const m = /^(\d{4})-(\d{2})-(\d{2})(.*)$/.exec(dt.v)!;
  const total = Number(m[1]) * 12 + Number(m[2]) - 1 + months;
  const y = Math.floor(total / 12),
    mo = (total % 12) + 1;
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const day = Math.min(Number(m[3]), last);
  return {
    k: 'dt',
    v: `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(day).padStart(2, '0')}${m[4]}`,
    date: dt.date,
  };
}

// ---------------------------------------------------------------------------------------------- JSON

function select(doc: unknown, legs: PathLeg[]): { found: unknown[]; wildcard: boolean } {
  let cur: unknown[] = [doc];
  let wildcard = false;
  for (const leg of legs) {
    const next: unknown[] = [];
    for (const c of cur) {
      if (leg.k === 'key') {
        if (c && typeof c === 'object' && !Array.isArray(c) && Object.hasOwn(c, leg.v))
          next.push((c as Record<string, unknown>)[leg.v]);
      } else if (leg.k === 'index') {
        if (Array.isArray(c)) {
          if (leg.v < c.length) next.push(c[leg.v]);
        } else if (leg.v === 0) next.push(c); // MySQL: a scalar or object is an array of one at [0]
      } else if (leg.k === 'anykey') {
        wildcard = true;
        if (c && typeof c === 'object' && !Array.isArray(c)) next.push(...Object.values(c));
      } else {
        wildcard = true;
        if (Array.isArray(c)) next.push(...c);
      }
    }
    cur = next;
  }
  return { found: cur, wildcard };
}

function extract(docV: Val, paths: string[], fn: string): Val {
  if (docV === null) return null;
  const doc = asJsonDoc(docV, fn);
  const all: unknown[] = [];
  let wrap = paths.length > 1;
  for (const p of paths) {
    const { found, wildcard } = select(doc, parseJsonPath(p));
    if (wildcard) wrap = true;
    all.push(...found);
  }
  if (all.length === 0) return null;
  return { k: 'json', v: wrap ? all : all[0] };
}

function unquote(v: Val): Val {
  if (v === null) return null;
  if (v.k === 'json') return { k: 'str', v: typeof v.v === 'string' ? v.v : jsonText(v.v) };
  const s = toStr(v)!;
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return { k: 'str', v: String(JSON.parse(s)) };
    } catch {
      return { k: 'str', v: s };
    }
  }
  return { k: 'str', v: s };
}

function contains(target: unknown, cand: unknown): boolean {
  if (Array.isArray(target)) {
    if (Array.isArray(cand)) return cand.every((c) => target.some((t) => contains(t, c)));
    return target.some((t) => contains(t, cand));
  }
  if (target && typeof target === 'object') {
    if (!cand || typeof cand !== 'object' || Array.isArray(cand)) return false;
    return Object.entries(cand as Record<string, unknown>).every(
      ([k, c]) => Object.hasOwn(target, k) && contains((target as Record<string, unknown>)[k], c),
    );
  }
  if (Array.isArray(cand) || (cand && typeof cand === 'object')) return false;
  return compareJson(target, cand) === 0;
}

const depth = (v: unknown): number =>
  Array.isArray(v)
    ? 1 + Math.max(0, ...v.map(depth))
    : v && typeof v === 'object'
      ? 1 + Math.max(0, ...Object.values(v).map(depth))
      : 1;

function jsonType(v: unknown): string {
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return 'ARRAY';
  if (typeof v === 'object') return 'OBJECT';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'number') return Number.isInteger(v) ? 'INTEGER' : 'DOUBLE';
  return 'STRING';
}

// ---------------------------------------------------------------------------------------------- functions

function nowDt(env: EvalEnv, offset: number): Val {
  return {
    k: 'dt',
    v: fromEpochMicros(BigInt(Math.floor(env.now())) * 1000n + BigInt(offset) * 60_000_000n).replace(
      /\.\d{6}$/,
      '.000000',
    ),
    date: false,
  };
}

function call(name: string, argExprs: Expr[], ev: (x: Expr) => Val, env: EvalEnv): Val {
  // Lazy control-flow functions first.
  switch (name) {
    case 'if': {
      const c = truth(ev(argExprs[0]!));
      return ev(argExprs[c === true ? 1 : 2]!);
    }
    case 'ifnull': {
      const a = ev(argExprs[0]!);
      return a !== null ? a : ev(argExprs[1]!);
    }
    case 'coalesce': {
      for (const x of argExprs) {
        const v = ev(x);
        if (v !== null) return v;
      }
      return null;
    }
  }
  const a = argExprs.map((x) => (x.t === 'interval' ? null : ev(x)));
  const v = (i: number): Val => a[i] ?? null;
  const s = (i: number) => toStr(v(i));
  const anyNull = () => a.some((x) => x === null);
  const str = (v: string | null): Val => (v === null ? null : { k: 'str', v });
  const int = (v: bigint | number | null): Val => (v === null ? null : { k: 'int', v: BigInt(v) });
  const dt = (i: number) => {
    const d = toDateTime(v(i), env.zoneMinutes);
    return d && d.k === 'dt' ? d.v : null;
  };
  switch (name) {
    case 'nullif':
      return compare(v(0), v(1), env.zoneMinutes) === 0 ? null : v(0);
    case 'isnull':
      return bool(v(0) === null);
    // strings
    case 'length': {
      const x = v(0);
      return x === null ? null : int(x.k === 'bytes' ? x.v.length : Buffer.byteLength(s(0)!));
    }
    case 'char_length':
      return v(0) === null ? null : int([...s(0)!].length);
    case 'upper':
      return str(s(0)?.toUpperCase() ?? null);
    case 'lower':
      return str(s(0)?.toLowerCase() ?? null);
    case 'concat':
      return anyNull() ? null : str(a.map((_, i) => s(i)).join(''));
    case 'concat_ws':
      return v(0) === null
        ? null
        : str(
            a
              .slice(1)
              .map((x) => toStr(x))
              .filter((x) => x !== null)
              .join(s(0)!),
          );
    case 'substring':
    case 'mid': {
      if (anyNull()) return null;
      const chars = [...s(0)!];
      const pos = Number(toInt(v(1))!);
      const len = a.length > 2 ? Number(toInt(v(2))!) : chars.length;
      if (pos === 0 || len <= 0) return str('');
      const start = pos > 0 ? pos - 1 : chars.length + pos;
      if (start < 0) return str('');
      return str(chars.slice(start, start + len).join(''));
    }
    case 'left':
      return anyNull() ? null : str([...s(0)!].slice(0, Math.max(0, Number(toInt(v(1))!))).join(''));
    case 'right': {
      if (anyNull()) return null;
      const c = [...s(0)!];
      const n = Math.max(0, Number(toInt(v(1))!));
      return str(n === 0 ? '' : c.slice(-n).join(''));
    }
    case 'trim':
      return str(s(0)?.replace(/^ +| +$/g, '') ?? null);
    case 'ltrim':
      return str(s(0)?.replace(/^ +/, '') ?? null);
    case 'rtrim':
      return str(s(0)?.replace(/ +$/, '') ?? null);
    case 'replace':
      return anyNull() ? null : str(s(1) === '' ? s(0) : s(0)!.split(s(1)!).join(s(2)!));
    case 'locate':
    case 'instr': {
      if (anyNull()) return null;
      const [needle, hay] = name === 'instr' ? [s(1)!, s(0)!] : [s(0)!, s(1)!];
      const from = name === 'locate' && a.length > 2 ? Number(toInt(v(2))!) : 1;
      if (from < 1) return int(0);
      const hc = [...hay];
      const idx = hc
        .slice(from - 1)
        .join('')
        .indexOf(needle);
      return int(
        idx < 0
          ? 0
          : [
              ...hc
                .slice(from - 1)
                .join('')
                .slice(0, idx),
            ].length + from,
      );
    }
    case 'reverse':
      return str(s(0) === null ? null : [...s(0)!].reverse().join(''));
    case 'lpad':
    case 'rpad': {
      if (anyNull()) return null;
      const c = [...s(0)!];
      const n = Number(toInt(v(1))!);
      const padc = [...s(2)!];
      if (n < 0) return null;
      if (c.length >= n) return str(c.slice(0, n).join(''));
      if (padc.length === 0) return null;
      const fill: string[] = [];
      while (fill.length < n - c.length) fill.push(padc[fill.length % padc.length]!);
      return str(name === 'lpad' ? fill.join('') + c.join('') : c.join('') + fill.join(''));
    }
    case 'repeat':
      return anyNull() ? null : str(s(0)!.repeat(Math.max(0, Number(toInt(v(1))!))));
    case 'strcmp': {
      const c = compare(v(0), v(1), env.zoneMinutes);
      return c === null ? null : int(c);
    }
    case 'hex': {
      const x = v(0);
      if (x === null) return null;
      if (isNumeric(x)) return str(BigInt.asUintN(64, toInt(x)!).toString(16).toUpperCase());
      return str((x.k === 'bytes' ? x.v : Buffer.from(toStr(x)!)).toString('hex').toUpperCase());
    }
    // numbers
    case 'abs': {
      if (v(0) === null) return null;
      const n = toNumeric(v(0))!;
      return n.k === 'int'
        ? int(n.v < 0n ? -n.v : n.v)
        : n.k === 'dec'
          ? { k: 'dec', v: n.v.replace(/^-/, '') }
          : { k: 'real', v: Math.abs(toReal(n)!) };
    }
    case 'ceil':
    case 'floor': {
      if (v(0) === null) return null;
      const n = toNumeric(v(0))!;
      if (n.k === 'int') return n;
      const r = name === 'ceil' ? Math.ceil(toReal(n)!) : Math.floor(toReal(n)!);
      return n.k === 'dec' ? int(r) : { k: 'real', v: r };
    }
    case 'round':
    case 'truncate': {
      if (anyNull()) return null;
      const n = toNumeric(v(0))!;
      const d = a.length > 1 ? Number(toInt(v(1))!) : 0;
      if (n.k === 'int' && d >= 0) return n;
      const f = 10 ** d;
      const x = toReal(n)!;
      const r = name === 'round' ? (Math.sign(x) * Math.round(Math.abs(x) * f)) / f : Math.trunc(x * f) / f;
      return n.k === 'real' ? { k: 'real', v: r } : d <= 0 ? int(r) : { k: 'dec', v: r.toFixed(d) };
    }
    case 'mod':
      return arith('%', v(0), v(1));
    case 'sign': {
      const r = toReal(v(0));
      return r === null ? null : int(Math.sign(r));
    }
    case 'greatest':
    case 'least': {
      if (anyNull()) return null;
      let best = v(0);
      for (const v of a.slice(1)) {
        const c = compare(v, best, env.zoneMinutes)!;
        if (name === 'greatest' ? c > 0 : c < 0) best = v;
      }
      return best;
    }
    // time
    case 'now':
      return nowDt(env, env.zoneMinutes);
    case 'utc_timestamp':
      return nowDt(env, 0);
    case 'curdate': {
      const n = nowDt(env, env.zoneMinutes) as { v: string };
      return { k: 'dt', v: `${n.v.slice(0, 10)} 00:00:00.000000`, date: true };
    }
    case 'utc_date': {
      const n = nowDt(env, 0) as { v: string };
      return { k: 'dt', v: `${n.v.slice(0, 10)} 00:00:00.000000`, date: true };
    }
    case 'date': {
      const d = dt(0);
      return d === null ? null : { k: 'dt', v: `${d.slice(0, 10)} 00:00:00.000000`, date: true };
    }
    case 'year':
    case 'month':
    case 'day':
    case 'hour':
    case 'minute':
    case 'second': {
      const x = v(0);
      if (x === null) return null;
      if (x.k === 'time' && ['hour', 'minute', 'second'].includes(name)) {
        const f = formatTime(x.v).replace('-', '').split(/[:.]/);
        return int(Number(f[name === 'hour' ? 0 : name === 'minute' ? 1 : 2]));
      }
      const d = dt(0);
      if (d === null) return null;
      const at = { year: [0, 4], month: [5, 7], day: [8, 10], hour: [11, 13], minute: [14, 16], second: [17, 19] }[
        name
      ]!;
      return int(Number(d.slice(at[0], at[1])));
    }
    case 'dayofweek':
    case 'weekday':
    case 'dayofyear':
    case 'to_days': {
      const d = dt(0);
      if (d === null) return null;
      const days = Number(toEpochMicros(`${d.slice(0, 10)} 00:00:00.000000`) / 86_400_000_000n);
      if (name === 'to_days') return int(days + 719528);
      if (name === 'dayofyear')
        return int(days - Number(toEpochMicros(`${d.slice(0, 4)}-01-01 00:00:00.000000`) / 86_400_000_000n) + 1);
      const dow = ((days % 7) + 7 + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
      return int(name === 'dayofweek' ? dow + 1 : (dow + 6) % 7);
    }
    case 'datediff': {
      const x = dt(0),
        y = dt(1);
      if (x === null || y === null) return null;
      const day = (v: string) => toEpochMicros(`${v.slice(0, 10)} 00:00:00.000000`) / 86_400_000_000n;
      return int(day(x) - day(y));
    }
    case 'unix_timestamp': {
      const d = dt(0);
      if (d === null) return null;
      const us = toEpochMicros(d) - BigInt(env.zoneMinutes) * 60_000_000n;
      return us % 1_000_000n === 0n ? int(us / 1_000_000n) : { k: 'dec', v: (Number(us) / 1e6).toFixed(6) };
    }
    case 'date_add':
    case 'date_sub': {
      const iv = argExprs[1] as Extract<Expr, { t: 'interval' }>;
      return dateAdd(v(0), ev(iv.e), iv.unit, name === 'date_sub' ? -1 : 1, env);
    }
    // JSON
    case 'json_extract':
      return v(0) === null || a.slice(1).some((x) => x === null)
        ? null
        : extract(
            v(0),
            a.slice(1).map((x) => toStr(x)!),
            'JSON_EXTRACT',
          );
    case 'json_unquote':
      return unquote(v(0));
    case 'json_contains': {
      if (anyNull()) return null;
      let target = asJsonDoc(v(0), 'JSON_CONTAINS');
      const cand = asJsonDoc(v(1), 'JSON_CONTAINS');
      if (a.length > 2) {
        const f = extract(v(0), [s(2)!], 'JSON_CONTAINS');
        if (f === null) return null;
        target = (f as { v: unknown }).v;
      }
      return bool(contains(target, cand));
    }
    case 'json_contains_path': {
      if (anyNull()) return null;
      const doc = asJsonDoc(v(0), 'JSON_CONTAINS_PATH');
      const hits = a.slice(2).map((p) => select(doc, parseJsonPath(toStr(p)!)).found.length > 0);
      return bool(s(1)!.toLowerCase() === 'all' ? hits.every(Boolean) : hits.some(Boolean));
    }
    case 'json_length': {
      if (anyNull()) return null;
      let doc = asJsonDoc(v(0), 'JSON_LENGTH');
      if (a.length > 1) {
        const f = extract(v(0), [s(1)!], 'JSON_LENGTH');
        if (f === null) return null;
        doc = (f as { v: unknown }).v;
      }
      return int(Array.isArray(doc) ? doc.length : doc && typeof doc === 'object' ? Object.keys(doc).length : 1);
    }
    case 'json_type':
      return v(0) === null ? null : str(jsonType(asJsonDoc(v(0), 'JSON_TYPE')));
    case 'json_valid': {
      const x = v(0);
      if (x === null) return null;
      if (x.k === 'json') return TRUE;
      if (x.k !== 'str' && x.k !== 'bytes') return FALSE;
      try {
        JSON.parse(toStr(x)!);
        return TRUE;
      } catch {
        return FALSE;
      }
    }
    case 'json_keys': {
      if (anyNull()) return null;
      let doc = asJsonDoc(v(0), 'JSON_KEYS');
      if (a.length > 1) {
        const f = extract(v(0), [s(1)!], 'JSON_KEYS');
        if (f === null) return null;
        doc = (f as { v: unknown }).v;
      }
      return doc && typeof doc === 'object' && !Array.isArray(doc) ? { k: 'json', v: Object.keys(doc) } : null;
    }
    case 'json_array':
      return { k: 'json', v: a.map(toJsonValue) };
    case 'json_object': {
      if (a.length % 2 !== 0) throw new ExprEvalError('JSON_OBJECT needs key/value pairs');
      const o: Record<string, unknown> = {};
      for (let i = 0; i < a.length; i += 2) {
        if (v(i) === null) throw new ExprEvalError('JSON_OBJECT: a key is NULL');
        o[s(i)!] = toJsonValue(v(i + 1));
      }
      return { k: 'json', v: o };
    }
    case 'json_quote':
      return v(0) === null ? null : str(JSON.stringify(s(0)));
    case 'json_depth':
      return v(0) === null ? null : int(depth(asJsonDoc(v(0), 'JSON_DEPTH')));
  }
  throw new ExprEvalError(`function ${name.toUpperCase()}() is not implemented`);
}
