import { DmError } from '../src/errors/index.ts';

/**
 * Changes made to a paused subtask's checkpoint from outside it (binlog-schema update|delete: schema-op.ts), one at a
 * time. The subtask's run loop waits for `settled()` before it starts its units again, so a resume never reads a
 * schema half-changed; a change is refused unless the subtask stands paused (DM: operate-schema needs Paused).
 */
export class PausedEdits {
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly name: { task: string; source: string }) {}

  run<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    if (stage !== 'Paused')
      throw new DmError('TaskNotPaused', `task ${this.name.task} source ${this.name.source} is ${stage}, not Paused`, {
        context: { task: this.name.task, source: this.name.source },
      });
    const p = this.last.then(fn);
    this.last = p.catch(() => undefined);
    return p;
  }

  settled(): Promise<unknown> {
    return this.last;
  }
}
