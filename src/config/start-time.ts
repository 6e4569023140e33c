import { DmError } from '../errors/index.ts';

/**
 * `start-task --start-time` (DM's `utils.ParseStartTimeInLoc`): `YYYY-MM-DD HH:MM:SS` or with a `T`, optionally
 * followed by `Z` or an offset (`+08:00`, `+0800`). A time without an offset is wall-clock time in the upstream's time
 * zone (DM reads it in the upstream's zone too), so only the agent that can ask the upstream turns it into an instant;
 * dmctl checks the form at once.
 */
export interface StartTime {
  /** `YYYY-MM-DD HH:MM:SS`, as written (wall-clock time). */
  local: string;
  /** Minutes east of UTC when the text has an offset; undefined: the upstream's time zone decides. */
  offsetMinutes?: number;
}

const FORM = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:?\d{2})?$/;

export const START_TIME_HINT =
  "'2021-10-21 00:01:00', 2021-10-21T00:01:00, or either with an offset (+08:00, +0800, Z)";

export function parseStartTime(text: string): StartTime {
  const t = text.trim();
  const m = FORM.exec(t);
  const bad = () =>
    new DmError('StartTimeInvalid', `--start-time "${text}" is not a time: expected ${START_TIME_HINT}`, {
      context: { key: '--start-time' },
    });
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  // The fields must name a real time: Date.UTC would roll 2021-02-30 over into March.
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  )
    throw bad();
  const local = `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}`;
  const z = m[7];
  if (z === undefined) return { local };
  if (z === 'Z') return { local, offsetMinutes: 0 };
  const om = /^([+-])(\d{2}):?(\d{2})$/.exec(z)!;
  const minutes = Number(om[2]) * 60 + Number(om[3]);
  if (Number(om[2]) > 14 || Number(om[3]) > 59) throw bad();
  return { local, offsetMinutes: om[1] === '-' ? -minutes : minutes };
}

/** Unix seconds of a time with an offset (undefined without one: the upstream's zone is needed). */
export function startTimeEpoch(t: StartTime): number | undefined {
  if (t.offsetMinutes === undefined) return undefined;
  const [date, time] = t.local.split(' ') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - t.offsetMinutes * 60;
}
