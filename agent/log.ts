import pino from 'pino';
import { redact } from '../src/config/redact.ts';

/** Structured JSON logs (pino) on stderr; passwords never reach a log line (keys redacted by name, deep). */
export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.TSDM_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['password', '*.password', '*.*.password', 'from.password', 'targetDatabase.password', 'pass', '*.pass'],
        censor: '******',
      },
      formatters: { log: (o) => redact(o) as Record<string, unknown> },
    },
    pino.destination(2),
  );
}
