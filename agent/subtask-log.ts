import { Stage, type DesiredStage, type UnitName } from '../src/coord/records.ts';
import type { DmError, ErrorRecord } from '../src/errors/index.ts';
import type { Logger } from './log.ts';

/** The dmctl command behind each desired stage (the task record's stage, or one source's). */
const CAUSE: Record<DesiredStage, string> = {
  Running: 'resume-task',
  Paused: 'pause-task',
  Stopped: 'stop-task',
};

/**
 * A subtask's lines (agent/subtask.ts): one per stage change with its cause or error, one per unit started, one per
 * retry with its attempt and delay; never one per event.
 */
export class SubtaskLog {
  /** Why the desired stage last changed, for the next stage-change line. */
  private cause = 'started';

  constructor(private readonly log: Logger) {}

  /** The desired stage changed (or a resume-task asked to retry). */
  desired(stage: DesiredStage): void {
    this.cause = CAUSE[stage];
  }

  /** The agent stops the subtask for `cause` (stop-task, source moved to a2, agent stopping, …). */
  stopping(cause: string): void {
    this.cause = cause;
  }

  stage(from: Stage, stage: Stage, unit: UnitName, error?: ErrorRecord): void {
    if (stage === from) return;
    const { log, cause } = this;
    if (stage === Stage.Paused && error)
      log.error(
        { from, unit, code: error.code, err: error.message, context: error.context, suggestion: error.suggestion },
        'subtask paused by an error',
      );
    else if (stage === Stage.Running)
      log.info({ from, unit, cause }, from === Stage.New ? 'subtask started' : 'subtask resumed');
    else if (stage === Stage.Finished) log.info({ from, unit }, 'subtask finished');
    else log.info({ from, unit, cause }, stage === Stage.Paused ? 'subtask paused' : 'subtask stopped');
  }

  unit(unit: UnitName, from: UnitName): void {
    this.log.info({ unit, from }, 'unit started');
  }

  retry(unit: UnitName, e: DmError, attempt: number, delayMs: number): void {
    this.log.warn(
      { unit, code: e.code, err: e.message, context: e.context, attempt, delayMs },
      'subtask error: retrying',
    );
  }
}
