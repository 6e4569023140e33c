import { parseGoDuration } from '../config/dm-values.ts';
import type { DmEvent } from './record.ts';

/** How an event reads as one line of text (`dmctl events`) and in the dashboard: shared so both say the same. */

/** `task=T source=S table=x.y pos=f:p`: what the event is about, the parts it has. */
export function eventSubject(e: DmEvent): string {
  const parts: string[] = [];
  if (e.task !== undefined) parts.push(`task=${e.task}`);
  if (e.source !== undefined) parts.push(`source=${e.source}`);
  if (e.table !== undefined) parts.push(`table=${e.table}`);
  if (e.position !== undefined) parts.push(`pos=${e.position}`);
  return parts.join(' ');
}

/** The message, with the error code and who caused it: `[TSDM-36001] message (by alice@host)`. */
export function eventMessage(e: DmEvent): string {
  const code = e.error ? `[${e.error.code}] ` : '';
  const text = e.error && e.error.message !== e.message ? `${e.message}: ${e.error.message}` : e.message;
  return `${code}${text}${e.by ? ` (by ${e.by})` : ''}`;
}

/** One line: time, severity, kind, subject, message, the agent that wrote it. No newline inside. */
export function formatEventLine(e: DmEvent): string {
  const subject = eventSubject(e);
  const line = [
    e.time,
    e.severity.toUpperCase().padEnd(5),
    e.kind.padEnd(19),
    ...(subject ? [subject] : []),
    eventMessage(e),
    ...(e.agent ? [`[${e.agent}]`] : []),
  ].join('  ');
  return line.replace(/\s*[\r\n]+\s*/g, ' ');
}

/**
 * `--since`: a duration back from now (Go syntax as in task files, `90s`, `1h30m`; also `2d`) or a time (ISO 8601,
 * `2026-12-03T17:00:00Z`, or anything Date.parse reads). Returns the instant, or undefined when it is neither.
 */
export function parseSince(s: string, now = Date.now()): Date | undefined {
  const str = s.trim();
  const days = /^(\d+(?:\.\d+)?)d$/.exec(str);
  const secs = days ? Number(days[1]) * 86_400 : parseGoDuration(str);
  if (secs !== undefined && secs >= 0) return new Date(now - secs * 1000);
  if (!/^\d{4}-\d{2}-\d{2}/.test(str)) return undefined;
  const t = Date.parse(str);
  return Number.isNaN(t) ? undefined : new Date(t);
}
