import type { TaskConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { fixedOffsetZone } from '../../src/sql/session-vars.ts';

/**
 * DM's task `timezone`: the downstream sessions run in it, so column defaults such as CURRENT_TIMESTAMP are evaluated
 * there as DM does. TIMESTAMP values are read in UTC (dump and binlog alike) and moved to that zone here, exactly.
 * Fixed offsets, UTC and IANA zones without daylight saving time (read as their offset: Asia/Shanghai is +08:00,
 * src/sql/session-vars.ts namedZoneOffset) are supported; a zone with DST is refused: its local hours change during
 * the year, so local times the session computes (CURRENT_TIMESTAMP into a DATETIME) would be wrong for part of it.
 */
export interface Zone {
  session: string;
  offsetMinutes: number;
}

export function taskZone(task: TaskConfig): Zone {
  // Without a task `timezone`, a fixed-offset `time_zone` in target-database.session is the zone (DM lets the task's
  // zone win; with none set, the user's session value is the one that says what they want). A zone with DST there
  // is replaced by UTC, and check-task says so (src/sql/session-vars.ts planSession).
  const user = task.targetDatabase.session['time_zone'];
  const tz = task.timezone.trim() || (user === undefined ? '' : (fixedOffsetZone(String(user)) ?? ''));
  if (tz === '' || /^(utc|z|\+00:00|-00:00|\+0:00)$/i.test(tz)) return { session: '+00:00', offsetMinutes: 0 };
  // `±HH:MM` (padded), from an offset or a zone without DST.
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(fixedOffsetZone(tz) ?? '');
  if (!m) {
    throw new DmError(
      'ConfigUnsupportedKey',
      `timezone "${tz}": a zone with daylight saving time is not supported (its local hours change during the year, so what the downstream session computes as local time, such as CURRENT_TIMESTAMP into a DATETIME, would be wrong for part of it); fixed offsets and zones without DST (e.g. Asia/Shanghai) are`,
      {
        context: { key: 'timezone' },
        suggestion:
          'Use the offset you want the downstream sessions in, e.g. timezone: "-05:00", or remove the key (UTC).',
      },
    );
  }
  const minutes = (Number(m[2]) * 60 + Number(m[3])) * (m[1] === '-' ? -1 : 1);
  return { session: m[0], offsetMinutes: minutes };
}

/** '2024-01-01 00:00:00.123' (UTC) -> the same instant as wall-clock time at the offset. Zero dates stay. */
export function shiftTimestamp(utc: string, offsetMinutes: number): string {
  if (offsetMinutes === 0) return utc;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(utc);
  if (!m || m[1] === '0000') return utc;
  const t =
    Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) +
    offsetMinutes * 60_000;
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${m[7] ?? ''}`;
}
