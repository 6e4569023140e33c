import { Errors, type ErrorName } from './catalog.ts';
import type { ErrorSpec } from './spec.ts';
import type { ErrorClass } from './classes.ts';

/** Where an error happened: a config location, a binlog position, a statement. All optional. */
export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  key?: string;
  sql?: string;
  position?: string;
  source?: string;
  task?: string;
  table?: string;
  errno?: number;
}

/** The serialisable form, as written to dm_status and printed by `--json`. */
export interface ErrorRecord {
  code: string;
  class: ErrorClass;
  retryable: boolean;
  message: string;
  suggestion: string;
  context?: ErrorContext;
  cause?: string;
  time?: string;
  /** A warning in a subtask's recent errors: nothing failed and nothing is retried (e.g. TSDM-10023). */
  warning?: true;
}

/**
 * The longest statement an error carries. A row's statement can be megabytes; the error goes into the status record,
 * the event stream (NATS messages are 1 MB at most: a larger record is refused, and the task's error with it) and
 * the log.
 */
export const SQL_CONTEXT_CHARS = 4000;

/** `sql` cut to SQL_CONTEXT_CHARS characters, saying how long it was. */
export function clipSql(sql: string): string {
  return sql.length <= SQL_CONTEXT_CHARS
    ? sql
    : `${sql.slice(0, SQL_CONTEXT_CHARS)}… (${sql.length} characters in all)`;
}

/**
 * Every error a user can see (DESIGN.md §5): code, class, retryable, message, suggestion, cause.
 * The message says what happened; `context` carries the file/line/key, SQL or binlog position.
 */
export class DmError extends Error {
  readonly spec: ErrorSpec;
  readonly context: ErrorContext;
  readonly suggestion: string;

  constructor(
    name: ErrorName,
    message: string,
    opts: { context?: ErrorContext; cause?: unknown; suggestion?: string } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DmError';
    this.spec = Errors[name];
    const context = opts.context ?? {};
    this.context =
      context.sql && context.sql.length > SQL_CONTEXT_CHARS ? { ...context, sql: clipSql(context.sql) } : context;
    this.suggestion = opts.suggestion ?? this.spec.suggestion;
  }

  get code(): string {
    return this.spec.code;
  }
  get class(): ErrorClass {
    return this.spec.class;
  }
  get retryable(): boolean {
    return this.spec.retryable;
  }

  toRecord(): ErrorRecord {
    const rec: ErrorRecord = {
      code: this.code,
      class: this.class,
      retryable: this.retryable,
      message: this.message,
      suggestion: this.suggestion,
      time: new Date().toISOString(),
    };
    if (Object.keys(this.context).length > 0) rec.context = { ...this.context };
    if (this.cause !== undefined) rec.cause = causeText(this.cause);
    return rec;
  }

  /** One line for a terminal: `[TSDM-10003] file.yaml:12 key a.b: message`. */
  format(): string {
    return formatRecord(this.toRecord());
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) {
    const errno = (cause as { errno?: unknown }).errno;
    return typeof errno === 'number' ? `${cause.message} (errno ${errno})` : cause.message;
  }
  return String(cause);
}

export function formatRecord(r: ErrorRecord): string {
  const c = r.context ?? {};
  const where: string[] = [];
  if (c.file) where.push(c.line ? `${c.file}:${c.line}${c.column ? `:${c.column}` : ''}` : c.file);
  if (c.key) where.push(`key ${c.key}`);
  if (c.position) where.push(`at ${c.position}`);
  if (c.table) where.push(`table ${c.table}`);
  let s = `[${r.code}] ${where.length ? where.join(' ') + ': ' : ''}${r.message}`;
  if (c.sql) s += `\n  SQL: ${c.sql.length > 500 ? c.sql.slice(0, 500) + '…' : c.sql}`;
  if (r.cause) s += `\n  cause: ${r.cause}`;
  s += `\n  suggestion: ${r.suggestion}`;
  return s;
}

/** Wraps anything thrown into a DmError, keeping DmErrors as they are. */
export function asDmError(err: unknown, fallback: ErrorName = 'Internal', context: ErrorContext = {}): DmError {
  if (err instanceof DmError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new DmError(fallback, msg, { cause: err, context });
}

export function isDmError(err: unknown): err is DmError {
  return err instanceof DmError;
}

/** An error that happened elsewhere (an agent answering a request) and arrives as its record. */
export class RemoteDmError extends DmError {
  constructor(readonly record: ErrorRecord) {
    super('Internal', record.message, {
      suggestion: record.suggestion,
      ...(record.context ? { context: record.context } : {}),
    });
  }
  override get code(): string {
    return this.record.code;
  }
  override get class(): ErrorClass {
    return this.record.class;
  }
  override get retryable(): boolean {
    return this.record.retryable;
  }
  override toRecord(): ErrorRecord {
    return { ...this.record };
  }
}
