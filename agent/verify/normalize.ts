import type { Value } from '../db/mysql.ts';

/**
 * How a compared column's values are told equal or different (check-data, issue #15): the rows of a chunk whose
 * checksums differ are read as exact text (bytes for binary columns) on both sides and compared in canonical form, so
 * that only real differences count: two renderings of one value (a DECIMAL's trailing zeros, DATETIME(3) vs
 * DATETIME(6), JSON key order) are equal, while 'a' vs 'A', 'x' vs 'x ' (VARCHAR), NULL vs '' and 0x00 vs '' differ.
 */
export type ValueKind = 'number' | 'float' | 'temporal' | 'unix' | 'json' | 'bytes' | 'bit' | 'text';

const NUMBER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'year']);
const FLOAT = new Set(['float', 'double', 'real']);
const TEMPORAL = new Set(['date', 'datetime', 'time', 'timestamp']);
const BYTES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/** The kind of a column from its data types on both sides (a FLOAT on either side is compared as a float). */
export function kindOf(downType: string, upTypes: string[]): ValueKind {
  const all = [downType, ...upTypes];
  if (all.some((t) => FLOAT.has(t))) return 'float';
  if (NUMBER.has(downType)) return 'number';
  // TIMESTAMP on every side is read as UNIX_TIMESTAMP(): the instant, whatever each session's time zone is.
  if (downType === 'timestamp' && upTypes.length > 0 && upTypes.every((t) => t === 'timestamp')) return 'unix';
  if (TEMPORAL.has(downType)) return 'temporal';
  if (downType === 'json') return 'json';
  if (downType === 'bit') return 'bit';
  if (
    BYTES.has(downType) ||
    downType.endsWith('geometry') ||
    downType === 'point' ||
    /polygon|linestring/.test(downType)
  )
    return 'bytes';
  return 'text';
}

/** Exact decimal text without sign noise, leading zeros or trailing fractional zeros ('-0.50' -> '-0.5', '007' -> '7'). */
export function canonicalDecimal(s: string): string {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(s);
  if (!m) return s;
  const int = (m[2] ?? '').replace(/^0+/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (int === '0' && frac === '') return '0';
  return `${m[1] === '-' ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** A temporal value without trailing fractional zeros ('12:00:00.500000' -> '12:00:00.5', '…00.000' -> '…00'). */
export function canonicalTemporal(s: string): string {
  return s.replace(/\.(\d*?)0*$/, (_m, d: string) => (d ? `.${d}` : ''));
}

/**
 * JSON by value: objects with sorted keys (key order and whitespace do not count), numbers in canonical decimal form
 * kept as text (2.50 = 2.5 = 25e-1, while 12345678901234567890 and …891 differ: JSON.parse would make them one
 * double). A duplicate key keeps its last value, as JSON.parse does. Text that is not JSON compares exactly.
 */
export function canonicalJson(s: string): string {
  try {
    const p = new JsonCanon(s);
    const out = p.value();
    p.end();
    return out;
  } catch {
    return s; // not JSON (a MariaDB JSON column is LONGTEXT whose CHECK may be absent): exact text
  }
}

class JsonCanon {
  private i = 0;
  constructor(private readonly s: string) {}

  end(): void {
    this.ws();
    if (this.i !== this.s.length) throw new Error('trailing text');
  }

  private ws(): void {
    while (/[ \t\n\r]/.test(this.s[this.i] ?? '')) this.i++;
  }

  value(): string {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return JSON.stringify(this.string());
    const lit = /^(?:true|false|null)/.exec(this.s.slice(this.i, this.i + 5));
    if (lit) {
      this.i += lit[0].length;
      return lit[0];
    }
    const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    if (!m) throw new Error('not JSON');
    this.i += m[0].length;
    return /[eE]/.test(m[0]) ? canonicalDecimal(expandExponent(m[0])) : canonicalDecimal(m[0]);
  }

  private string(): string {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(this.s.slice(this.i));
    if (!m) throw new Error('not JSON');
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private object(): string {
    this.i++;
    const entries = new Map<string, string>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return '{}';
    }
    for (;;) {
      this.ws();
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') throw new Error('not JSON');
      entries.set(k, this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') break;
      if (c !== ',') throw new Error('not JSON');
    }
    const keys = [...entries.keys()].sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${entries.get(k)}`).join(',')}}`;
  }

  private array(): string {
    this.i++;
    const items: string[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return '[]';
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') break;
      if (c !== ',') throw new Error('not JSON');
    }
    return `[${items.join(',')}]`;
  }
}

/** '-1.25e3' -> '-1250', '5e-2' -> '0.05': exponent notation as plain decimal text, exactly. */
function expandExponent(n: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(n)!;
  const digits = `${m[2]}${m[3] ?? ''}`;
  const point = m[2]!.length + Number(m[4]);
  if (point <= 0) return `${m[1]}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${m[1]}${digits}${'0'.repeat(point - digits.length)}`;
  return `${m[1]}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const asBytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
const asText = (v: string | Buffer): string => (typeof v === 'string' ? v : v.toString('utf8'));

/** The canonical form of a value: equal canonical forms mean equal values. */
export function canonical(kind: ValueKind, v: Value): string | null {
  if (v === null) return null;
  switch (kind) {
    case 'bytes':
      return asBytes(v).toString('hex');
    case 'bit': {
      // BIT(9) vs BIT(16) differ in byte length only: leading zero bytes carry no value.
      const b = asBytes(v);
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      return b.subarray(i).toString('hex');
    }
    case 'number':
    case 'unix':
      return canonicalDecimal(asText(v));
    case 'float': {
      const n = Number(asText(v));
      if (Number.isNaN(n)) return asText(v);
      return Object.is(n, -0) ? '0' : String(n);
    }
    case 'temporal':
      return canonicalTemporal(asText(v));
    case 'json':
      return canonicalJson(asText(v));
    case 'text':
      return asText(v);
  }
}

/** UNIX_TIMESTAMP() text as UTC DATETIME text ('0' is the zero TIMESTAMP). Exact: fractions stay text. */
export function unixToUtcText(s: string): string {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) return s;
  const frac = m[2] ?? '';
  if (Number(m[1]) === 0 && /^0*$/.test(frac)) return '0000-00-00 00:00:00';
  const iso = new Date(Number(m[1]) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''}`;
}

/** The inverse of unixToUtcText (repair gets keys back as shown in a report). */
export function utcTextToUnix(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(s.trim());
  if (!m) return s;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (+m[1]! === 0) return '0';
  return `${ms / 1000}${m[7] ? `.${m[7]}` : ''}`;
}

const MAX_SHOWN = 256;

/** A value as a report shows it: text, binary as 0x hex, TIMESTAMP as UTC text; cut to 256 characters. */
export function display(kind: ValueKind, binary: boolean, v: Value, cut = true): string | null {
  if (v === null) return null;
  let s: string;
  if (Buffer.isBuffer(v) || binary) s = `0x${asBytes(v).toString('hex')}`;
  else if (kind === 'unix') s = `${unixToUtcText(v)} UTC`;
  else s = v;
  return cut && s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
}

/** The inverse of display (uncut values): a key from a report back to the value the SQL needs. */
export function parseDisplayed(kind: ValueKind, binary: boolean, s: string | null): Value {
  if (s === null) return null;
  if (binary) return Buffer.from(s.replace(/^0x/, ''), 'hex');
  if (kind === 'unix') return utcTextToUnix(s.replace(/ UTC$/, ''));
  return s;
}
