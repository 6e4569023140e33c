/**
 * Value syntaxes DM borrows from Go and from its own packages, checked the way DM checks them:
 * binlog event type names, table patterns (wildcards or `~regex`), Go durations, time zones, GTID sets and
 * binlog file names.
 */
import { normalizeEventName, VALID_EVENT_NAMES } from '../filter/event-filter.ts';
import { compilePattern } from '../filter/pattern.ts';
import { compileRe2 } from '../filter/re2.ts';

/**
 * The canonical DM name of an event type in a filter rule ('create schema' -> 'create database'), '' for
 * DM's "null event" (an empty name, matches nothing), undefined when DM does not know it. Uses the filter
 * module's own list (tiflow pkg/binlog-filter `toEventType`), so the loader and the engine agree.
 */
export function normaliseEventType(name: string): string | undefined {
  try {
    return normalizeEventName(name) ?? '';
  } catch {
    return undefined;
  }
}

/** Every name a rule's `events` may hold (for "did you mean"). */
export const DM_EVENT_NAMES: readonly string[] = VALID_EVENT_NAMES;

// ------------------------------------------------------------------------------------------ patterns

/**
 * Why `pattern` is not a valid DM schema/table pattern (wildcard or `~regex`), or undefined when it is.
 * Compiles it with the filter module's own compiler, so what passes here is exactly what runs.
 */
export function patternProblem(pattern: string): string | undefined {
  return problemOf(() => compilePattern(pattern, true));
}

/** Why a filter `sql-pattern` (a Go regex, matched case-insensitively like DM) is invalid, or undefined. */
export function sqlPatternProblem(pattern: string): string | undefined {
  return problemOf(() => compileRe2(pattern, true));
}

function problemOf(compile: () => unknown): string | undefined {
  try {
    compile();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// ------------------------------------------------------------------------------------------ duration

const GO_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds in a Go duration string (`90s`, `1m30s`, `1.5h`, `0`), or undefined when it is not one. */
export function parseGoDuration(s: string): number | undefined {
  const str = s.trim();
  if (str === '0' || str === '+0' || str === '-0') return 0;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(str);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
    total += Number(part[1]) * GO_UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

// ------------------------------------------------------------------------------------------ timezone

/**
 * DM's task `timezone`: an IANA name or an offset `+HH:MM` within [-12:59, +14:00]; `SYSTEM`/`Local` are
 * rejected by DM (ambiguous across hosts). Returns why it is invalid, or undefined.
 */
export function timezoneProblem(tz: string): string | undefined {
  if (tz === 'SYSTEM' || tz === 'Local')
    return `"${tz}" is not supported (DM rejects it too): use an offset such as "+08:00" or a name such as "Asia/Shanghai"`;
  const off = /^([+-])(\d{1,2}):(\d{2})$/.exec(tz);
  if (off) {
    const mins = Number(off[2]) * 60 + Number(off[3]);
    if (Number(off[3]) > 59 || (off[1] === '-' ? mins > 12 * 60 + 59 : mins > 14 * 60))
      return `offset ${tz} is out of range [-12:59, +14:00]`;
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
  const parts = set
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return set.trim() === '';
  const mysql = parts.every((p) => MYSQL_GTID.test(p));
  const maria = parts.every((p) => MARIADB_GTID.test(p));
  return flavor === 'mysql' ? mysql : flavor === 'mariadb' ? maria : mysql || maria;
}

/** `mysql-bin.000123`: DM requires a base name, a dot and a numeric sequence. */
export function isBinlogFilename(name: string): boolean {
  return /^[^/\\\s]+\.\d+$/.test(name);
}
