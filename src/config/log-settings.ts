/** The agent's log settings that config and the logger (agent/log.ts) share: formats and the rotation size syntax. */

/** `auto`: text when the output is a terminal, JSON otherwise (a pipe, the journal, a file). */
export type LogFormat = 'auto' | 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'text', 'json'];

/** pino-roll's size syntax: digits with k, m or g (a plain number is MB, as pino-roll reads it). */
export function checkLogSize(v: string): string | undefined {
  return /^[1-9][0-9]*[kmg]?$/i.test(v)
    ? undefined
    : `log file size must be a number with k, m or g (e.g. 100m), got ${JSON.stringify(v)}`;
}
