/**
 * Typed SQL values for the expression-filter evaluator, with MySQL's comparison and conversion rules reduced to
 * what expression filters need:
 * - NULL propagates (a comparison with NULL is NULL, and a NULL result never filters a row).
 * - numbers compare exactly: integers as bigint, DECIMAL as scaled bigint, FLOAT/DOUBLE as double;
 *   a number against a string compares as double (MySQL's rule, so `c_year = '2021'` holds).
 * - DATE/DATETIME/TIMESTAMP against a string or number read the other side as a date-time (`'2021-06-22'`,
 *   `'2021-01-01 12:34:56.5678+08:00'`), TIME against a string as a time; TIMESTAMP columns are seen in the
 *   filter's time zone (the task `timezone`, UTC by default), as a MySQL session in that zone sees them.
 * - strings compare by code point with trailing spaces ignored (binary collation with PAD SPACE: what DM's TiDB
 *   expression engine does without new collations); binary strings and BLOBs compare byte by byte.
 * - JSON against a scalar compares the JSON scalar with it (`c_json->"$.id" = 2`).
 */
import type { Literal } from './expr-ast.ts';

export type Val =
  | null
  | { k: 'int'; v: bigint }
  | { k: 'dec'; v: string }
  | { k: 'real'; v: number }
  | { k: 'str'; v: string }
  /** `lit`: a hex/bit literal, which is an integer in numeric context. */
  | { k: 'bytes'; v: Buffer; lit?: boolean }
  /** Canonical `YYYY-MM-DD HH:MM:SS.ffffff`; `date` = a DATE value (printed without the time). */
  | { k: 'dt'; v: string; date: boolean }
  /** Signed microseconds. */
  | { k: 'time'; v: bigint }
  | { k: 'json'; v: unknown };

export class ExprEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExprEvalError';
  }
}

export const TRUE: Val = { k: 'int', v: 1n };
export const FALSE: Val = { k: 'int', v: 0n };
export const bool = (b: boolean | null): Val => (b === null ? null : b ? TRUE : FALSE);

export function fromLiteral(l: Literal): Val {
  switch (l.k) {
    case 'null':
      return null;
    case 'bytes':
      return { k: 'bytes', v: l.v, lit: true };
    default:
      return l;
  }
}

// ---------------------------------------------------------------------------------------------- decimals

interface Dec {
  m: bigint;
  s: number;
}

export function parseDec(text: string): Dec | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  const mant = BigInt(`${m[2] || '0'}${frac}`);
  return { m: m[1] === '-' ? -mant : mant, s: frac.length };
}

function scaleTo(d: Dec, s: number): bigint {
  return d.m * 10n ** BigInt(s - d.s);
}

export function decToString(d: Dec): string {
  const neg = d.m < 0n;
  let digits = (neg ? -d.m : d.m).toString().padStart(d.s + 1, '0');
  if (d.s > 0) digits = `${digits.slice(0, digits.length - d.s)}.${digits.slice(digits.length - d.s)}`;
  return `${neg ? '-' : ''}${digits}`;
}

function toDec(v: Val): Dec | undefined {
  if (v === null) return undefined;
  if (v.k === 'int') return { m: v.v, s: 0 };
  if (v.k === 'dec') return parseDec(v.v);
  return undefined;
}

export function decArith(op: '+' | '-' | '*', a: Val, b: Val): Val {
  const x = toDec(a)!;
  const y = toDec(b)!;
  if (op === '*') return { k: 'dec', v: decToString({ m: x.m * y.m, s: x.s + y.s }) };
  const s = Math.max(x.s, y.s);
  const m = op === '+' ? scaleTo(x, s) + scaleTo(y, s) : scaleTo(x, s) - scaleTo(y, s);
  return { k: 'dec', v: decToString({ m, s }) };
}

// ---------------------------------------------------------------------------------------------- conversions

/** MySQL's string-to-number: the longest numeric prefix, 0 when there is none. */
export function strToReal(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s);
  return m ? Number(m[0]) : 0;
}

export function bytesToUint(b: Buffer): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

export const isNumeric = (v: Val): v is { k: 'int'; v: bigint } | { k: 'dec'; v: string } | { k: 'real'; v: number } =>
  v !== null && (v.k === 'int' || v.k === 'dec' || v.k === 'real');

/** A value as a number for arithmetic (MySQL numeric context). */
export function toNumeric(v: Val): Val {
  if (v === null) return null;
  switch (v.k) {
    case 'int':
    case 'dec':
    case 'real':
      return v;
    case 'str':
      return { k: 'real', v: strToReal(v.v) };
    case 'bytes':
      return v.lit ? { k: 'int', v: bytesToUint(v.v) } : { k: 'real', v: strToReal(v.v.toString('utf8')) };
    case 'dt':
      return { k: 'int', v: BigInt(v.v.replace(/[^0-9]/g, '').slice(0, v.date ? 8 : 14)) };
    case 'time':
      return { k: 'int', v: timeDigits(v.v) };
    case 'json':
      return typeof v.v === 'number'
        ? { k: 'real', v: v.v }
        : typeof v.v === 'boolean'
          ? { k: 'int', v: v.v ? 1n : 0n }
          : { k: 'real', v: strToReal(String(v.v)) };
  }
}

export function toReal(v: Val): number | null {
  const n = toNumeric(v);
  if (n === null) return null;
  return n.k === 'int' ? Number(n.v) : n.k === 'dec' ? Number(n.v) : (n as { v: number }).v;
}

export function toInt(v: Val): bigint | null {
  const n = toNumeric(v);
  if (n === null) return null;
  if (n.k === 'int') return n.v;
  const r = n.k === 'dec' ? Number(n.v) : (n as { v: number }).v;
  return BigInt(Math.round(r));
}

/** The value as text (CONCAT, LIKE, string functions). */
export function toStr(v: Val): string | null {
  if (v === null) return null;
  switch (v.k) {
    case 'int':
      return v.v.toString();
    case 'dec':
      return v.v;
    case 'real':
      return Object.is(v.v, -0) ? '-0' : String(v.v);
    case 'str':
      return v.v;
    case 'bytes':
      return v.v.toString('utf8');
    case 'dt':
      return v.date ? v.v.slice(0, 10) : v.v.replace(/\.0{6}$/, '');
    case 'time':
      return formatTime(v.v);
    case 'json':
      return jsonText(v.v);
  }
}

/** Truth value in a boolean context: NULL stays NULL, a number is true when non-zero. */
export function truth(v: Val): boolean | null {
  if (v === null) return null;
  if (v.k === 'int') return v.v !== 0n;
  if (v.k === 'dt') return true;
  const r = toReal(v);
  return r === null ? null : r !== 0;
}

// ---------------------------------------------------------------------------------------------- temporal

const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');

/**
 * A date-time in any of MySQL's usual literal forms, optionally with a UTC offset (`+08:00`, `Z`), moved to the
 * filter's zone (`zoneMinutes`). Returns the canonical form or undefined.
 */
export function parseDateTime(s: string, zoneMinutes: number): { v: string; date: boolean } | undefined {
  const t = s.trim();
  let m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{0,9}))?)?)?\s*(Z|[+-]\d{1,2}:\d{2})?$/i.exec(
      t,
    );
  if (!m) {
    const d = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})(?:\.(\d{0,9}))?)?$/.exec(t);
    if (!d) return undefined;
    m = [d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], undefined] as unknown as RegExpExecArray;
  }
  const [, y, mo, d, h, mi, se, frac, off] = m;
  const date = h === undefined;
  const micros = (frac ?? '').padEnd(6, '0').slice(0, 6);
  let out = `${y}-${pad(Number(mo))}-${pad(Number(d))} ${pad(Number(h ?? 0))}:${pad(Number(mi ?? 0))}:${pad(Number(se ?? 0))}.${micros}`;
  if (off) {
    const offMin =
      off.toUpperCase() === 'Z'
        ? 0
        : (() => {
            const [hh, mm] = off.slice(1).split(':');
            return (Number(hh) * 60 + Number(mm)) * (off[0] === '-' ? -1 : 1);
          })();
    out = shiftDateTime(out, zoneMinutes - offMin);
  }
  return { v: out, date };
}

/** Moves a canonical date-time by `minutes` (zero dates stay as they are). */
export function shiftDateTime(canon: string, minutes: number): string {
  if (minutes === 0 || canon.startsWith('0000')) return canon;
  return fromEpochMicros(toEpochMicros(canon) + BigInt(minutes) * 60_000_000n);
}

export function toEpochMicros(canon: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})$/.exec(canon)!;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const d = new Date(ms);
  if (Number(m[1]) < 100) d.setUTCFullYear(Number(m[1]));
  return BigInt(d.getTime()) * 1000n + BigInt(m[7]!);
}

export function fromEpochMicros(us: bigint): string {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const rest = us - ms * 1000n;
  const d = new Date(Number(ms));
  const micros = BigInt(d.getUTCMilliseconds()) * 1000n + rest;
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micros, 6)}`;
}

export function parseTime(s: string): bigint | undefined {
  const t = s.trim();
  const m =
    /^(-)?(?:(\d+)\s+)?(\d+):(\d{1,2})(?::(\d{1,2}))?(?:\.(\d{0,9}))?$/.exec(t) ??
    (() => {
      const d = /^(-)?(\d{1,})(?:\.(\d{0,9}))?$/.exec(t);
      if (!d) return null;
      const digits = d[2]!.padStart(6, '0');
      return [
        d[0],
        d[1],
        undefined,
        digits.slice(0, -4),
        digits.slice(-4, -2),
        digits.slice(-2),
        d[3],
      ] as unknown as RegExpExecArray;
    })();
  if (!m) return undefined;
  const [, neg, days, h, mi, se, frac] = m;
  const secs = BigInt(Number(days ?? 0) * 24 + Number(h)) * 3600n + BigInt(Number(mi)) * 60n + BigInt(Number(se ?? 0));
  const us = secs * 1_000_000n + BigInt((frac ?? '').padEnd(6, '0').slice(0, 6) || '0');
  return neg ? -us : us;
}

export function formatTime(us: bigint): string {
  const neg = us < 0n;
  let a = neg ? -us : us;
  const frac = a % 1_000_000n;
  a /= 1_000_000n;
  const s = a % 60n;
  a /= 60n;
  const m = a % 60n;
  const h = a / 60n;
  return `${neg ? '-' : ''}${pad(h)}:${pad(m)}:${pad(s)}${frac ? `.${pad(frac, 6)}` : ''}`;
}

function timeDigits(us: bigint): bigint {
  const neg = us < 0n;
  let a = neg ? -us : us;
  a /= 1_000_000n;
  const s = a % 60n;
  a /= 60n;
  const m = a % 60n;
  const h = a / 60n;
  const n = h * 10000n + m * 100n + s;
  return neg ? -n : n;
}

function asDateTime(v: Val, zone: number): { v: string; date: boolean } | undefined {
  if (v === null) return undefined;
  if (v.k === 'dt') return v;
  if (v.k === 'str' || v.k === 'bytes') return parseDateTime(toStr(v)!, zone);
  if (v.k === 'int') return parseDateTime(v.v.toString(), zone);
  if (v.k === 'json' && typeof v.v === 'string') return parseDateTime(v.v, zone);
  return undefined;
}

export function toDateTime(v: Val, zone: number): Val {
  const d = asDateTime(v, zone);
  return d ? { k: 'dt', ...d } : null;
}

// ---------------------------------------------------------------------------------------------- JSON

/** MySQL's JSON text form: `{"a": 1, "b": [1, 2]}`. */
export function jsonText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(jsonText).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${jsonText(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** A SQL value as a JSON document (JSON_EXTRACT's first argument): strings are parsed as JSON text. */
export function asJsonDoc(v: Val, fn: string): unknown {
  if (v === null) return undefined;
  if (v.k === 'json') return v.v;
  if (v.k === 'str' || v.k === 'bytes') {
    try {
      return JSON.parse(toStr(v)!);
    } catch {
      throw new ExprEvalError(`${fn}: invalid JSON text ${JSON.stringify(toStr(v)!.slice(0, 60))}`);
    }
  }
  throw new ExprEvalError(`${fn}: argument is not a JSON document`);
}

/** A SQL value as a JSON value (JSON_ARRAY/JSON_OBJECT arguments, comparison with JSON). */
export function toJsonValue(v: Val): unknown {
  if (v === null) return null;
  switch (v.k) {
    case 'json':
      return v.v;
    case 'int':
      return Number(v.v);
    case 'dec':
    case 'real':
      return Number(v.v);
    default:
      return toStr(v);
  }
}

const jsonRank = (x: unknown): number =>
  x === null
    ? 0
    : typeof x === 'number'
      ? 1
      : typeof x === 'string'
        ? 2
        : Array.isArray(x)
          ? 4
          : typeof x === 'object'
            ? 3
            : 5;

export function compareJson(a: unknown, b: unknown): number {
  const ra = jsonRank(a),
    rb = jsonRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === 'number') return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b as string));
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const ta = jsonText(a),
    tb = jsonText(b);
  return ta === tb ? 0 : ta < tb ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------- comparison

function compareNum(a: Val, b: Val): number {
  if (a!.k === 'real' || b!.k === 'real') {
    const x = toReal(a)!,
      y = toReal(b)!;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toDec(a)!,
    y = toDec(b)!;
  const s = Math.max(x.s, y.s);
  const p = scaleTo(x, s),
    q = scaleTo(y, s);
  return p < q ? -1 : p > q ? 1 : 0;
}

const trimEnd = (s: string) => s.replace(/ +$/, '');

/** MySQL comparison; null when either side is NULL. */
export function compare(a: Val, b: Val, zone: number): number | null {
  if (a === null || b === null) return null;
  if (a.k === 'json' || b.k === 'json') {
    return compareJson(a.k === 'json' ? a.v : toJsonValue(a), b.k === 'json' ? b.v : toJsonValue(b));
  }
  if (a.k === 'dt' || b.k === 'dt') {
    const x = asDateTime(a, zone),
      y = asDateTime(b, zone);
    if (x && y) return x.v < y.v ? -1 : x.v > y.v ? 1 : 0;
  }
  if (a.k === 'time' || b.k === 'time') {
    const x = a.k === 'time' ? a.v : parseTime(toStr(a)!),
      y = b.k === 'time' ? b.v : parseTime(toStr(b)!);
    if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  }
  const numA = isNumeric(a) || (a.k === 'bytes' && a.lit),
    numB = isNumeric(b) || (b.k === 'bytes' && b.lit);
  if ((isNumeric(a) || isNumeric(b)) && numA && numB) return compareNum(toNumeric(a), toNumeric(b));
  if (isNumeric(a) || isNumeric(b)) {
    const x = toReal(a)!,
      y = toReal(b)!;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.k === 'bytes' || b.k === 'bytes') {
    const x = a.k === 'bytes' ? a.v : Buffer.from(toStr(a)!),
      y = b.k === 'bytes' ? b.v : Buffer.from(toStr(b)!);
    return Buffer.compare(x, y);
  }
  return Buffer.compare(Buffer.from(trimEnd(toStr(a)!)), Buffer.from(trimEnd(toStr(b)!)));
}
