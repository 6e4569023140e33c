import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { redact } from '../config/redact.ts';
import type { ErrorRecord } from '../errors/index.ts';

/**
 * An event: something in the cluster a human should know about (DESIGN.md §3 "dm_events"), written by the agent that
 * saw it to the bounded JetStream stream `<cluster>_events` (src/coord/event-stream.ts) and read by `dmctl events` and
 * the dashboard's Events view. Who (`agent`, and `by` when a dmctl command caused it), what (kind, task, source,
 * table, position, error) and when (`time`, on the writer's clock; `seq`, the stream's order).
 *
 * Never a secret: every record goes through redact() (secret-named fields, credentials in URLs) before it is sent,
 * and free text is cut to a bounded length, so one event stays small whatever a statement or an error holds.
 */

export const Severity = { info: 'info', warn: 'warn', error: 'error' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** Every kind an agent emits, with its severity. A reader accepts kinds it does not know (a newer agent's). */
export const EventKind = {
  /** A subtask paused on a permanent error (its checkpoint intact; resume-task or binlog skip|replace goes on). */
  taskError: 'task.error',
  /** A subtask met a retryable error and retries with backoff (once per run of failures, not per retry). */
  taskRetry: 'task.retry',
  taskPaused: 'task.paused',
  taskResumed: 'task.resumed',
  taskStopped: 'task.stopped',
  taskFinished: 'task.finished',
  /** The leader bound a source that had no agent (a new source, or its agent was gone without a failover). */
  sourceBound: 'source.bound',
  sourceUnbound: 'source.unbound',
  sourceTransferred: 'source.transferred',
  /** The leader moved a source off an agent whose member key expired (the new agent resumes from checkpoints). */
  failover: 'failover',
  leaderChanged: 'leader.changed',
  shardLockCreated: 'shard.lock.created',
  shardLockResolved: 'shard.lock.resolved',
  binlogSkip: 'binlog.skip',
  binlogReplace: 'binlog.replace',
  binlogInject: 'binlog.inject',
  /** `dmctl binlog-schema update|delete` changed a table's tracked schema (the subtask was paused). */
  binlogSchema: 'binlog.schema',
  validationFailed: 'validation.failed',
  validationStopped: 'validation.stopped',
  relayError: 'relay.error',
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export const KIND_SEVERITY: Record<EventKind, Severity> = {
  'task.error': 'error',
  'task.retry': 'warn',
  'task.paused': 'warn',
  'task.resumed': 'info',
  'task.stopped': 'warn',
  'task.finished': 'info',
  'source.bound': 'info',
  'source.unbound': 'info',
  'source.transferred': 'info',
  failover: 'warn',
  'leader.changed': 'info',
  'shard.lock.created': 'info',
  'shard.lock.resolved': 'info',
  'binlog.skip': 'warn',
  'binlog.replace': 'warn',
  'binlog.inject': 'warn',
  'binlog.schema': 'warn',
  'validation.failed': 'error',
  'validation.stopped': 'warn',
  'relay.error': 'error',
};

/** Longest free text kept in an event (messages, statements): an event is a pointer, the logs have the rest. */
export const MAX_TEXT = 600;

const EventErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  suggestion: z.string().optional(),
});

/** The stored shape (JSON in the stream). Unknown keys are kept out by the parse; unknown kinds are accepted. */
export const DmEventSchema = z.object({
  id: z.string(),
  /** The stream sequence: set by the reader, never sent. */
  seq: z.number().int().optional(),
  time: z.string(),
  severity: z.enum(['info', 'warn', 'error']),
  kind: z.string(),
  message: z.string(),
  /** The agent that saw it happen. */
  agent: z.string().optional(),
  /** `user@host` of the dmctl (or dashboard) command that caused it. */
  by: z.string().optional(),
  task: z.string().optional(),
  source: z.string().optional(),
  /** `schema.table` (a shard lock's target, a validated table). */
  table: z.string().optional(),
  /** Binlog position `file:pos`. */
  position: z.string().optional(),
  error: EventErrorSchema.optional(),
  /** Small facts of the kind (terms, previous agent, counts, the statement). */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type DmEvent = z.infer<typeof DmEventSchema>;

/** What an emitter gives: the rest (id, time, severity by kind, agent) is filled in by makeEvent. */
export type EventInput = Omit<DmEvent, 'id' | 'seq' | 'time' | 'severity' | 'agent' | 'error'> & {
  kind: EventKind;
  severity?: Severity;
  error?: ErrorRecord | { code: string; message: string; suggestion?: string };
};

function cut(s: string): string {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT - 1) + '…' : s;
}

/** A complete, redacted, bounded event. */
export function makeEvent(input: EventInput, agent?: string, now = new Date()): DmEvent {
  const { error, severity, detail, ...rest } = input;
  const ev: DmEvent = {
    ...rest,
    id: randomUUID(),
    time: now.toISOString(),
    severity: severity ?? KIND_SEVERITY[input.kind],
    message: cut(input.message),
    ...(agent ? { agent } : {}),
  };
  if (error)
    ev.error = {
      code: error.code,
      message: cut(error.message),
      ...(error.suggestion ? { suggestion: cut(error.suggestion) } : {}),
    };
  if (detail)
    ev.detail = Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, typeof v === 'string' ? cut(v) : v]));
  return redact(ev);
}

/** A relay's error: permanent ones park it until resume-relay; a retried one is an event once per run of failures. */
export function relayErrorEvent(source: string, error: ErrorRecord): EventInput {
  const message = error.retryable
    ? 'relay retrying with backoff'
    : 'relay stopped: resume-relay once the cause is fixed';
  return { kind: EventKind.relayError, source, message, error };
}

/** Parses a stored event (undefined when it is not one: a foreign message on the subject). */
export function parseEvent(data: unknown, seq?: number): DmEvent | undefined {
  const r = DmEventSchema.safeParse(data);
  if (!r.success) return undefined;
  return seq === undefined ? r.data : { ...r.data, seq };
}

/** `user@host` for `by`: who ran the dmctl command that changed desired state. */
export function whoAmI(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container's random uid): the environment's USER, else unknown
  }
  return `${user}@${hostname()}`;
}
