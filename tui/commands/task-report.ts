import type { CheckItem, CheckResult } from '../../src/coord/index.ts';
import { formatNote, type ConfigNote } from '../../src/config/index.ts';
import { formatRecord } from '../../src/errors/index.ts';

/**
 * What check-task and start-task print of a precheck: the items, the task file's DM keys accepted without effect
 * (config notes, as WARN lines naming file, line and key), and at most `errors` failures and `warnings` warnings
 * (DM's check-task --error / --warn, both 10 by default); the rest are counted ("… and 3 more errors").
 */
export interface ReportLimits {
  errors: number;
  warnings: number;
}

/** DM's defaults (dm/ctl/common: DefaultErrorCnt, DefaultWarnCnt). */
export const DEFAULT_LIMITS: ReportLimits = { errors: 10, warnings: 10 };

export interface CheckReport {
  /** The items to show: every passed one, and failures and warnings up to the limits. */
  items: CheckItem[];
  /** One line each: config notes first, then the warnings of passed checks (within the limit). */
  warnings: string[];
  omitted: { errors: number; warnings: number };
}

const itemWarning = (i: CheckItem) => `${i.name}${i.source ? ` (${i.source})` : ''}: ${i.warning}`;

export function buildReport(res: CheckResult, notes: ConfigNote[], limits: ReportLimits): CheckReport {
  const failed = res.items.filter((i) => !i.ok);
  const warned = res.items.filter((i) => i.ok && i.warning);
  const keptFailed = new Set(failed.slice(0, Math.max(0, limits.errors)));
  // Config notes count as warnings, ahead of the checks' own (they are about the file the user just wrote).
  const noteLines = notes.map(formatNote);
  const noteRoom = Math.max(0, limits.warnings);
  const keptNotes = noteLines.slice(0, noteRoom);
  const keptWarned = new Set(warned.slice(0, Math.max(0, noteRoom - keptNotes.length)));
  return {
    items: res.items.filter((i) => (i.ok ? !i.warning || keptWarned.has(i) : keptFailed.has(i))),
    warnings: [...keptNotes.map((n) => `config: ${n}`), ...[...keptWarned].map(itemWarning)],
    omitted: {
      errors: failed.length - keptFailed.size,
      warnings: noteLines.length - keptNotes.length + warned.length - keptWarned.size,
    },
  };
}

/** The text form: one line per item (ok / WARN / FAIL), the config notes as WARN lines, then what was left out. */
export function printReport(stream: NodeJS.WritableStream, r: CheckReport, notes: ConfigNote[]): void {
  const shownNotes = r.warnings.filter((w) => w.startsWith('config: ')).length;
  for (const n of notes.slice(0, shownNotes)) stream.write(`WARN ${formatNote(n)}\n`);
  for (const i of r.items) {
    const detail = i.ok && !i.warning && i.detail ? `  ${i.detail}` : '';
    const err = i.error ? `\n     ${formatRecord(i.error).split('\n').join('\n     ')}` : '';
    const warn = i.warning ? `\n     ${i.warning}` : '';
    stream.write(
      `${i.ok ? (i.warning ? 'WARN' : 'ok  ') : 'FAIL'} ${i.name}${i.source ? ` (${i.source})` : ''}${detail}${err}${warn}\n`,
    );
  }
  const more = omittedText(r.omitted);
  if (more) stream.write(`${more}\n`);
}

/** "… and 3 more errors, 2 more warnings (--error N / --warn N show more)", or '' when nothing was left out. */
export function omittedText(o: CheckReport['omitted']): string {
  const parts = [
    o.errors ? `${o.errors} more error${o.errors === 1 ? '' : 's'}` : '',
    o.warnings ? `${o.warnings} more warning${o.warnings === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return parts.length ? `… and ${parts.join(', ')} (--error N / --warn N show more)` : '';
}
