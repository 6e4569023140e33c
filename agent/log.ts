/**
 * The agent's logs (pino). One JSON object per line, level names as text (`"level":"warn"`), ISO times, no key twice
 * in a line; human-readable lines (pino-pretty, in-process) when the output is a terminal or `--log-format text`.
 * Lines go to stderr, or to `--log-file` with size-based rotation (pino-roll, in-process: no worker thread).
 *
 * Secrets never reach a line: every logged object is deep-redacted by key name (password, token, secret, …) and URL
 * credentials are stripped, in fields, messages and errors (src/config/redact.ts); pino's `redact` paths are a second
 * net for the usual shapes, bindings included. Child bindings (agent, task, source, unit, check) hold names only.
 */
import { fchmodSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import pretty from 'pino-pretty';
import pinoRoll, { type RollStream } from 'pino-roll';
import { redact, redactUrl } from '../src/config/redact.ts';
import { mkdirPrivate, PRIVATE_FILE_MODE } from '../src/fs/private.ts';
import type { LogFormat } from '../src/config/log-settings.ts';

export type { LogFormat };

export type Logger = pino.Logger;

export interface LogSettings {
  level: string;
  format?: LogFormat;
  /** Lines go to this file (rotated) instead of stderr. */
  file?: string;
  /** Size at which the file rotates: `100m`, `512k`, `1g` (a plain number is MB, as pino-roll reads it). */
  fileMaxSize?: string;
  /** Rotated files kept (older ones are deleted). */
  fileKeep?: number;
}

export const LOG_FILE_DEFAULTS = { maxSize: '100m', keep: 10 } as const;

/** Keys every line has from pino itself; a logged object's field of the same name would repeat them. */
const RESERVED = ['level', 'time', 'pid', 'hostname', 'msg'];

/** Keys that hold a secret, for pino's `redact` (the deep redact() in formatters.log catches every other spelling). */
const SECRET_KEYS = ['password', 'passwd', 'pass', 'token', 'secret', 'natsPassword', 'natsToken'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Binding keys (and values) of each logger, read once: `bindings()` parses JSON. Loggers never `setBindings`. */
const bindingsOf = new WeakMap<object, Map<string, unknown>>();

/**
 * A logged object without the keys its logger's bindings (or pino) already write: an equal value is dropped (the
 * line already says it), a different one is kept as `<key>_`. The call sites avoid such keys (task, source, agent,
 * name, …); this keeps a line valid for tools that reject duplicate keys should a new call site not.
 */
export function withoutBoundKeys(logger: Logger, o: Record<string, unknown>): Record<string, unknown> {
  let bound = bindingsOf.get(logger);
  if (!bound) {
    bound = new Map<string, unknown>(RESERVED.map((k) => [k, Symbol(k)]));
    for (const [k, v] of Object.entries(logger.bindings())) bound.set(k, v);
    bindingsOf.set(logger, bound);
  }
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    if (!bound.has(k)) continue;
    out ??= { ...o };
    const v = out[k];
    delete out[k];
    if (v !== bound.get(k)) out[`${k}_`] = v;
  }
  return out ?? o;
}

/** pino options shared by every destination (exported for the tests). */
export function loggerOptions(name: string, level: string): pino.LoggerOptions {
  return {
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '******' },
    formatters: {
      level: (label) => ({ level: label }),
      log: (o) => redact(o) as Record<string, unknown>,
    },
    serializers: {
      // An Error is not a plain object, so redact() would pass it through: serialize it first (message, stack, code).
      err: (e: unknown) => (e instanceof Error ? redact({ ...pino.stdSerializers.err(e) }) : e),
    },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first !== null && typeof first === 'object' && !(first instanceof Error)) {
          const o = withoutBoundKeys(this, first as Record<string, unknown>);
          const msg = rest.map((a) => (typeof a === 'string' && a.includes('://') ? redactUrl(a) : a));
          return method.apply(this, [o, ...msg] as Parameters<typeof method>);
        }
        if (typeof first === 'string' && first.includes('://')) args[0] = redactUrl(first);
        return method.apply(this, args);
      },
    },
  };
}

/** Text or JSON: a forced format, else text exactly when the output is a terminal. */
export function resolveFormat(format: LogFormat | undefined, isTTY: boolean): 'text' | 'json' {
  if (format === 'text' || format === 'json') return format;
  return isTTY ? 'text' : 'json';
}

/** Human-readable lines: one per entry, local time, the fields after the message. */
function textStream(destination: number | pino.DestinationStream, colorize: boolean): pino.DestinationStream {
  return pretty({
    destination,
    sync: true,
    colorize,
    singleLine: true,
    translateTime: 'SYS:standard',
    ignore: 'pid,hostname',
  });
}

/**
 * The rotating file: PATH `dir/agent.log` is written as `dir/agent.1.log`, `dir/agent.2.log`, … (the highest number
 * is the current file; a restart appends to it); at `maxSize` the next number starts and only the newest `keep`
 * files stay. Each file is created with mode 0600, and an existing one is narrowed to it when opened.
 */
async function rollingFile(file: string, maxSize: string, keep: number): Promise<RollStream> {
  mkdirPrivate(dirname(file));
  const stream = await pinoRoll({
    file,
    size: maxSize,
    limit: { count: keep, removeOtherLogFiles: true },
    mode: PRIVATE_FILE_MODE,
  });
  const narrow = () => {
    if (stream.fd >= 0) fchmodSync(stream.fd, PRIVATE_FILE_MODE);
  };
  // 'ready' follows every open, the first and each rotation's.
  stream.on('ready', narrow);
  if (stream.fd >= 0) narrow();
  else await new Promise<void>((r, j) => stream.once('ready', r).once('error', j));
  return stream;
}

export interface AgentLog {
  log: Logger;
  /** Writes what is buffered and closes the file; call before the process exits. */
  close(): Promise<void>;
}

/** The agent's logger per its settings: stderr or a rotated file, text or JSON. */
export async function openLogger(name: string, s: LogSettings): Promise<AgentLog> {
  const opts = loggerOptions(name, s.level);
  if (s.file === undefined) {
    const tty = process.stderr.isTTY === true;
    const dest =
      resolveFormat(s.format, tty) === 'text' ? textStream(2, tty) : pino.destination({ dest: 2, sync: true });
    return { log: pino(opts, dest), close: async () => {} };
  }
  const file = await rollingFile(
    s.file,
    s.fileMaxSize ?? LOG_FILE_DEFAULTS.maxSize,
    s.fileKeep ?? LOG_FILE_DEFAULTS.keep,
  );
  const text = resolveFormat(s.format, false) === 'text' ? textStream(file, false) : undefined;
  return {
    log: pino(opts, text ?? file),
    close: async () => {
      // pino-pretty writes into the file synchronously: once it has ended, everything is in the file's buffer.
      if (text) await new Promise<void>((r) => (text as unknown as NodeJS.WritableStream).end(r));
      await new Promise<void>((r) => {
        file.once('close', () => r());
        file.end();
      });
    },
  };
}

/** A JSON logger on stderr (benchmarks, tools): the agent's options without its file and format choices. */
export function createLogger(name: string, level = process.env.TSDM_LOG_LEVEL ?? 'info'): Logger {
  return pino(loggerOptions(name, level), pino.destination({ dest: 2, sync: true }));
}
