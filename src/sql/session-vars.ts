/**
 * Session variables of a connection: what tsdm sets itself, what the user wrote in `from.session` /
 * `target-database.session`, which of the two wins, and how one assignment is written as SQL.
 *
 * DM sends every value quoted (`SET foreign_key_checks = '1'`): TiDB and MySQL accept that for most variables,
 * MariaDB refuses a quoted number or boolean for a numeric/boolean variable (error 1231/1232). Here a value that is
 * a number, or ON/OFF/TRUE/FALSE/DEFAULT, is sent bare; anything else as a quoted string (sql_mode, time_zone, …).
 *
 * Precedence (planSession): tsdm's defaults, then the user's values, then what tsdm must force because its own SQL
 * or its guarantees depend on it. A forced value that differs from the user's is an override the commands report.
 */

export type SessionSide = 'upstream' | 'downstream';

/** One `SET SESSION` assignment; `key` is the config key it came from when the user wrote it. */
export interface SessionVar {
  name: string;
  value: string;
  key?: string;
}

/** A user's value tsdm replaced: check-task and start-task print these as warnings. */
export interface SessionOverride {
  key: string;
  variable: string;
  value: string;
  used: string;
  reason: string;
}

export interface SessionPlan {
  vars: SessionVar[];
  overrides: SessionOverride[];
}

const PREFIX = /^(?:@@(?:session\.|local\.)?|session\.|local\.)/i;
const IDENT = /^[a-z_][a-z0-9_$]*$/;

/**
 * The variable a session key names, lower-cased, without `@@`, `@@session.` or `session.`; undefined when what is
 * left is not a plain identifier (then it is a config error: it cannot be sent to the server as a name).
 */
export function sessionVarName(key: string): string | undefined {
  const name = key.trim().replace(PREFIX, '').toLowerCase();
  return IDENT.test(name) ? name : undefined;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const KEYWORD = /^(?:on|off|true|false|default)$/i;

/** The SQL for one value: numbers and ON/OFF/TRUE/FALSE/DEFAULT bare, anything else a quoted string. */
export function sessionValueSql(value: string): string {
  const v = value.trim();
  if (NUMBER.test(v)) return v;
  if (KEYWORD.test(v)) return v.toUpperCase();
  // Backslash escapes are right here: the session's sql_mode is set first and never has NO_BACKSLASH_ESCAPES.
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\0/g, '\\0')}'`;
}

/** `SET SESSION name = value` (the name must come from sessionVarName). */
export function setSessionSql(v: SessionVar): string {
  return `SET SESSION ${v.name} = ${sessionValueSql(v.value)}`;
}

/**
 * sql_mode flags that break the SQL tsdm reads or writes: ANSI_QUOTES makes SHOW CREATE TABLE quote names with `"`
 * (tsdm parses and rewrites it with backquotes) and reads `"text"` as a name; NO_BACKSLASH_ESCAPES makes the
 * backslash escapes of every value tsdm sends part of the value. The combination modes below include ANSI_QUOTES.
 * PIPES_AS_CONCAT is harmless (tsdm never writes `||`) and stays.
 */
const BREAKING_MODES = new Set([
  'ANSI_QUOTES',
  'NO_BACKSLASH_ESCAPES',
  'DB2',
  'MAXDB',
  'MSSQL',
  'ORACLE',
  'POSTGRESQL',
]);
/** ANSI = these plus ANSI_QUOTES (and ONLY_FULL_GROUP_BY on MySQL, which changes nothing tsdm runs). */
const ANSI_REST = ['REAL_AS_FLOAT', 'PIPES_AS_CONCAT', 'IGNORE_SPACE'];

/** The user's sql_mode without the flags that break tsdm, and with those it needs on this side. */
export function sanitiseSqlMode(mode: string, side: SessionSide): { mode: string; removed: string[] } {
  const removed: string[] = [];
  const out: string[] = [];
  const add = (m: string) => {
    if (!out.includes(m)) out.push(m);
  };
  for (const raw of mode.split(',')) {
    const m = raw.trim().toUpperCase();
    if (m === '') continue;
    if (m === 'ANSI') {
      removed.push('ANSI_QUOTES (of ANSI)');
      ANSI_REST.forEach(add);
      continue;
    }
    if (BREAKING_MODES.has(m)) {
      removed.push(m);
      continue;
    }
    add(m);
  }
  // Rows loaded or replicated with id 0 in an AUTO_INCREMENT column keep 0 (the upstream had it, by this mode).
  if (side === 'downstream') add('NO_AUTO_VALUE_ON_ZERO');
  return { mode: out.join(','), removed };
}

const truthy = (v: string) => /^(?:1|on|true)$/i.test(v.trim());

export interface SessionPlanOptions {
  /** Time zone the connection must run in (fixed offset): UTC upstream, the task's zone downstream. */
  timeZone: string;
  /** Config key prefix of the session block, e.g. `target-database.session`. */
  keyPrefix: string;
}

/**
 * The assignments for one connection, sql_mode first (so that the string escapes of the others hold), and the
 * user's values tsdm had to replace. `user` maps variable names (sessionVarName) to values as written.
 */
export function planSession(
  side: SessionSide,
  user: Readonly<Record<string, string | number | boolean>>,
  opts: SessionPlanOptions,
): SessionPlan {
  const vars = new Map<string, SessionVar>();
  const overrides: SessionOverride[] = [];
  const set = (name: string, value: string, key?: string) => {
    vars.delete(name);
    vars.set(name, key ? { name, value, key } : { name, value });
  };
  const keyOf = (name: string) => `${opts.keyPrefix}.${name}`;
  const override = (name: string, value: string, used: string, reason: string) => {
    overrides.push({ key: keyOf(name), variable: name, value, used, reason });
  };

  // 1. tsdm's defaults.
  set('sql_mode', side === 'downstream' ? 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION' : '');
  set('time_zone', opts.timeZone);
  if (side === 'downstream') {
    set('foreign_key_checks', '0');
    set('unique_checks', '1');
  }
  set('autocommit', '1');

  // 2. the user's values.
  for (const [name, raw] of Object.entries(user)) {
    const value = typeof raw === 'boolean' ? (raw ? 'ON' : 'OFF') : String(raw);
    set(name, value, keyOf(name));
  }

  // 3. what tsdm forces, reported when it differs from what the user wrote.
  const mode = vars.get('sql_mode')!;
  if (mode.key) {
    const s = sanitiseSqlMode(mode.value, side);
    set('sql_mode', s.mode, mode.key);
    if (s.removed.length > 0)
      override('sql_mode', mode.value, s.mode, `${s.removed.join(', ')} would break the SQL tsdm reads and writes`);
  }
  const tz = vars.get('time_zone')!;
  if (tz.key && !sameZone(tz.value, opts.timeZone)) {
    override(
      'time_zone',
      tz.value,
      opts.timeZone,
      side === 'upstream'
        ? "tsdm reads TIMESTAMP values in UTC and moves them to the task's time zone itself"
        : "downstream sessions run in the task's time zone (the task `timezone`, or this value when it is a fixed offset and `timezone` is not set)",
    );
  }
  if (tz.key) set('time_zone', opts.timeZone, tz.key);
  const ac = vars.get('autocommit')!;
  if (ac.key && !truthy(ac.value))
    override('autocommit', ac.value, '1', 'tsdm opens its own transactions and relies on autocommit between them');
  set('autocommit', '1', ac.key);
  const fk = vars.get('foreign_key_checks');
  if (side === 'downstream' && fk) {
    if (fk.key && truthy(fk.value)) {
      override(
        'foreign_key_checks',
        fk.value,
        '0',
        'load and sync write tables in any order; tsdm turns checks on per statement where a change must cascade',
      );
    }
    set('foreign_key_checks', '0', fk.key);
  }
  const all = [...vars.values()];
  // sql_mode first (string escapes), the rest in the order they were written.
  return {
    vars: [...all.filter((v) => v.name === 'sql_mode'), ...all.filter((v) => v.name !== 'sql_mode')],
    overrides,
  };
}

/** '+00:00', 'UTC', '+0:00' and 'SYSTEM' are compared as written except for the common spellings of UTC. */
function sameZone(a: string, b: string): boolean {
  const n = (z: string) => {
    const t = z.trim().toUpperCase();
    return /^(?:UTC|Z|[+-]0?0:00)$/.test(t) ? '+00:00' : t.replace(/^([+-])(\d):/, '$10$2:');
  };
  return n(a) === n(b);
}

/**
 * The user's target time_zone as `±HH:MM` when it is a fixed offset, UTC or a zone without DST (usable as the task's
 * zone), else undefined.
 */
export function fixedOffsetZone(value: string): string | undefined {
  const t = value.trim();
  if (/^(?:utc|z)$/i.test(t)) return '+00:00';
  const m = /^([+-])(\d{1,2}):(\d{2})$/.exec(t);
  return m ? `${m[1]}${m[2]!.padStart(2, '0')}:${m[3]}` : namedZoneOffset(t);
}

/**
 * The offset of an IANA zone without daylight saving time (`Asia/Shanghai` -> `+08:00`), or undefined for a zone
 * whose offset changes within a year before or five years after `now` (DST, or a change already scheduled), and for
 * names the runtime does not know. TIMESTAMP values stay exact under any fixed offset (they are instants, written
 * with the session in the same offset they were moved to); the zone matters for what the downstream session computes
 * as local time (CURRENT_TIMESTAMP into a DATETIME, NOW() in defaults), which a zone with DST would get wrong for
 * part of the year.
 */
export function namedZoneOffset(name: string, now?: number): string | undefined {
  // Asked for every downstream connection and chunk read (taskZone): ~300 lookups of the zone's rules, once per name.
  if (now === undefined) {
    if (!zoneOffsets.has(name)) zoneOffsets.set(name, zoneOffsetAt(name, Date.now()));
    return zoneOffsets.get(name);
  }
  return zoneOffsetAt(name, now);
}

const zoneOffsets = new Map<string, string | undefined>();

function zoneOffsetAt(name: string, now: number): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+\-]*(?:\/[A-Za-z0-9_+\-]+)*$/.test(name)) return undefined;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  } catch {
    return undefined;
  }
  const offsetAt = (t: number): string | undefined => {
    const part = fmt.formatToParts(t).find((p) => p.type === 'timeZoneName')?.value;
    if (part === 'GMT') return '+00:00';
    const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(part ?? '');
    return m ? `${m[1]}${m[2]}:${m[3]}` : undefined;
  };
  const first = offsetAt(now);
  if (first === undefined) return undefined;
  const DAY = 86_400_000;
  for (let t = now - 366 * DAY; t <= now + 5 * 366 * DAY; t += 7 * DAY) if (offsetAt(t) !== first) return undefined;
  return first;
}

/** One line per override, as the commands print them. */
export function formatOverride(o: SessionOverride, file?: string): string {
  return `${file ? `${file} ` : ''}key ${o.key}: ${o.value} replaced by ${o.used === '' ? "''" : o.used} (${o.reason})`;
}
