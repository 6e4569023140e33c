import { eventsOf, Stage, type Coord } from '../src/coord/index.ts';
import type { ErrorRecord } from '../src/errors/index.ts';
import { EventKind, type EventInput } from '../src/events/record.ts';

/** A retried error is an event once per this long (per code): a flapping downstream must not flood dm_events. */
const RETRY_EVENT_MS = 5 * 60_000;

/**
 * The events of one subtask (dm_events): its stage changes, errors and what its units report, with the task and
 * source filled in. Every method returns at once (the publisher queues); none throws.
 */
export class SubtaskEvents {
  /** Who last changed the desired stage (TaskRecord.by), named by the task.* events it causes. */
  by: string | undefined;
  /** When a task.retry event was last sent, by error code. */
  private readonly retries = new Map<string, number>();

  constructor(
    private readonly coord: Coord | undefined,
    private readonly task: string,
    private readonly source: string,
    private readonly taskMode: string,
  ) {}

  emit(e: Omit<EventInput, 'task' | 'source'>): void {
    if (this.coord) eventsOf(this.coord).emit({ ...e, task: this.task, source: this.source });
  }

  /** A stage change: a pause (by the user or by an error), a resume, a finish. A new subtask's first stage is none. */
  stage(prev: Stage, stage: Stage, unit: string, error?: ErrorRecord): void {
    const by = this.by ? { by: this.by } : {};
    const position = error?.context?.position ? { position: error.context.position } : {};
    if (stage === Stage.Paused && error)
      this.emit({ kind: EventKind.taskError, message: `paused by an error in ${unit}`, error, ...position });
    else if (stage === Stage.Paused && (prev === Stage.Running || prev === Stage.Finished))
      this.emit({ kind: EventKind.taskPaused, message: 'paused', ...by });
    else if (stage === Stage.Running && prev === Stage.Paused)
      this.emit({ kind: EventKind.taskResumed, message: 'resumed', ...by });
    else if (stage === Stage.Finished && prev !== Stage.Finished)
      this.emit({ kind: EventKind.taskFinished, message: `finished (task-mode ${this.taskMode})` });
  }

  /** A retryable error the subtask retries with backoff: once per code per RETRY_EVENT_MS. */
  retry(error: ErrorRecord, unit: string): void {
    if (Date.now() - (this.retries.get(error.code) ?? 0) <= RETRY_EVENT_MS) return;
    this.retries.set(error.code, Date.now());
    this.emit({ kind: EventKind.taskRetry, message: `retrying ${unit} with backoff`, error });
  }

  /** The user stopped the task (stop-task): the subtask stopped with its checkpoints. */
  stopped(by: string | undefined): void {
    this.emit({ kind: EventKind.taskStopped, message: 'stopped', ...(by ? { by } : {}) });
  }
}
