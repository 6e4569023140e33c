/**
 * Value syntaxes DM borrows from Go and from its own packages, checked the way DM checks them:
 * binlog event type names, table patterns (wildcards or `~regex`), Go regular expressions, Go durations,
 * time zones, GTID sets and binlog file names.
 */

/**
 * DM's binlog event types (tiflow pkg/binlog-filter `toEventType`, same list as tidb-tools). Lower case; DM
 * lower-cases the names in a rule before comparing.
 */
export const DM_EVENT_TYPES: readonly string[] = [
  'all', 'all ddl', 'all dml', 'none', 'none ddl', 'none dml',
  'insert', 'update', 'delete',
  'create database', 'drop database', 'alter database', 'create table', 'drop table', 'truncate table',
  'rename table', 'create index', 'drop index', 'create view', 'drop view', 'alter table',
  'add table partition', 'drop table partition', 'truncate table partition',
  'incompatible ddl changes', 'value range decrease', 'precision decrease', 'modify column', 'rename column',
  'rename index', 'drop column', 'drop primary key', 'drop unique key', 'modify default value',
  'modify constraint', 'modify columns order', 'modify charset', 'modify collation', 'remove auto increment',
  'modify storage engine', 'reorganize table partition', 'rebuild table partition', 'coalesce table partition',
  'split table partition', 'exchange table partition', 'modify schema charset and collate',
  'modify table charset and collate', 'modify table comment', 'recover table', 'alter table partitioning',
  'remove table partitioning', 'add column', 'set default value', 'rebase auto id', 'add primary key',
  'alter index visibility', 'alter ttl info', 'alter ttl remove', 'multi schema change',
];

/** DM accepts these and rewrites them (`create schema` is `create database`). */
export const DM_EVENT_ALIASES: Readonly<Record<string, string>> = {
  'create schema': 'create database',
  'drop schema': 'drop database',
  'alter schema': 'alter database',
};

/** The canonical DM name of an event type, '' for DM's "null event" (matches nothing), undefined if invalid. */
export function normaliseEventType(name: string): string | undefined {
  const e = name.toLowerCase();
  if (e === '') return '';
  if (DM_EVENT_TYPES.includes(e)) return e;
  return DM_EVENT_ALIASES[e];
}

// --------------------------------------------------------------------------------------------- regex

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

/**
 * Compiles a Go (RE2) regular expression as a JavaScript RegExp. DM patterns are written for Go, so the
 * few RE2 spellings JavaScript lacks are translated: leading flag groups `(?i)`/`(?s)`/`(?m)`, `\A`, `\z`
 * and POSIX classes `[[:alpha:]]`. Anything else must already mean the same in both (it does for the
 * syntax DM users write: classes, groups, alternation, quantifiers, `\d \s \w`). Throws SyntaxError.
 * The filter and route modules use this same function so that what validates here is what runs.
 */
export function compileGoRegex(pattern: string, extraFlags = ''): RegExp {
  let src = pattern;
  let flags = extraFlags;
  for (let m = /^\(\?([a-zA-Z]+)\)/.exec(src); m; m = /^\(\?([a-zA-Z]+)\)/.exec(src)) {
    for (const f of m[1]!) {
      if (f === 'i' || f === 's' || f === 'm') { if (!flags.includes(f)) flags += f; }
      else throw new SyntaxError(`flag (?${f}) is not supported`);
    }
    src = src.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw new SyntaxError('trailing backslash');
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'z') out += '$(?![\\s\\S])';
      else if (n === 'Q' || n === 'C') throw new SyntaxError(`\\${n} is not supported`);
      else out += c + n;
      i++;
      continue;
    }
    if (!inClass && c === '(' && src[i + 1] === '?') {
      // Go allows flag groups anywhere, `(?i)` and `(?i:…)`; JavaScript (Node 20) has none. They are
      // harmless when the flag is already on for the whole pattern (DM's sql-pattern is always (?i)).
      const fm = /^\(\?([a-zA-Z-]+)([:)])/.exec(src.slice(i));
      if (fm) {
        if (fm[1]!.includes('-') || [...fm[1]!].some((f) => !flags.includes(f))) {
          throw new SyntaxError(`flag group (?${fm[1]}${fm[2]}) inside a pattern is not supported; put (?${fm[1]!.replace('-', '')}) at the start`);
        }
        out += fm[2] === ':' ? '(?:' : '';
        i += fm[0].length - 1;
        continue;
      }
    }
    if (inClass && c === '[' && src[i + 1] === ':') {
      const end = src.indexOf(':]', i + 2);
      const name = end > 0 ? src.slice(i + 2, end).replace(/^\^/, '') : '';
      const cls = POSIX_CLASSES[name];
      if (cls === undefined) throw new SyntaxError(`unknown POSIX class [:${name}:]`);
      if (src[i + 2] === '^') throw new SyntaxError('negated POSIX classes are not supported');
      out += cls;
      i = end + 1;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass && out[out.length - 1] !== '[' && !(out.endsWith('[^'))) inClass = false;
    out += c;
  }
  // Unicode mode rejects the silent identity escapes (`\A` meaning "A") that would change a pattern's
  // meaning; fall back to non-unicode mode only for escapes Go also treats as literals (`\_`, `\'`).
  try {
    return new RegExp(out, flags + 'u');
  } catch (e) {
    try { return new RegExp(out, flags); } catch { throw e; }
  }
}

/** Why `pattern` is not a valid DM table/schema pattern, or undefined when it is. */
export function patternProblem(pattern: string, kind: 'selector' | 'ba-list'): string | undefined {
  if (pattern.startsWith('~')) {
    try { compileGoRegex(pattern.slice(1)); return undefined; } catch (e) {
      return `invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`;
    }
  }
  // Route and filter rules go through DM's trie selector, which allows `*` only as the last character.
  if (kind === 'selector') {
    const star = pattern.indexOf('*');
    if (star >= 0 && star !== pattern.length - 1) {
      return `invalid wildcard pattern ${JSON.stringify(pattern)}: "*" is only allowed at the end (or use "~regex")`;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------ duration

const GO_UNITS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds in a Go duration string (`90s`, `1m30s`, `1.5h`, `0`), or undefined when it is not one. */
export function parseGoDuration(s: string): number | undefined {
  const str = s.trim();
  if (str === '0' || str === '+0' || str === '-0') return 0;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(str);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * GO_UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

// ------------------------------------------------------------------------------------------ timezone

/**
 * DM's task `timezone`: an IANA name or an offset `+HH:MM` within [-12:59, +14:00]; `SYSTEM`/`Local` are
 * rejected by DM (ambiguous across hosts). Returns why it is invalid, or undefined.
 */
export function timezoneProblem(tz: string): string | undefined {
  if (tz === 'SYSTEM' || tz === 'Local') return `"${tz}" is not supported (DM rejects it too): use an offset such as "+08:00" or a name such as "Asia/Shanghai"`;
  const off = /^([+-])(\d{1,2}):(\d{2})$/.exec(tz);
  if (off) {
    const mins = Number(off[2]) * 60 + Number(off[3]);
    if (Number(off[3]) > 59 || (off[1] === '-' ? mins > 12 * 60 + 59 : mins > 14 * 60)) return `offset ${tz} is out of range [-12:59, +14:00]`;
    return undefined;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(tz)}: use an offset such as "+08:00" or an IANA name such as "Asia/Shanghai"`;
  }
}

// ------------------------------------------------------------------------------------- GTID, binlog

const UUID = '[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}';
const MYSQL_GTID = new RegExp(`^${UUID}(?::\\d+(?:-\\d+)?)+$`);
const MARIADB_GTID = /^\d+-\d+-\d+$/;

/** Whether `set` is a GTID set in the flavor's syntax (either syntax when the flavor is not known yet). */
export function isGtidSet(set: string, flavor?: 'mysql' | 'mariadb'): boolean {
  const parts = set.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) return set.trim() === '';
  const mysql = parts.every((p) => MYSQL_GTID.test(p));
  const maria = parts.every((p) => MARIADB_GTID.test(p));
  return flavor === 'mysql' ? mysql : flavor === 'mariadb' ? maria : mysql || maria;
}

/** `mysql-bin.000123`: DM requires a base name, a dot and a numeric sequence. */
export function isBinlogFilename(name: string): boolean {
  return /^[^/\\\s]+\.\d+$/.test(name);
}
