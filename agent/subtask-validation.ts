import type { SubtaskSpec, TaskConfig } from '../src/config/types.ts';
import type { SubtaskStatus, ValidationDesired } from '../src/coord/records.ts';
import type { EventInput } from '../src/events/record.ts';
import type { Logger } from './log.ts';
import type { SyncUnit } from './sync/unit.ts';
import { Validator } from './verify/validator.ts';

/** What a subtask's continuous validation reads of the subtask and tells it. */
export interface ValidationHost {
  task: TaskConfig;
  spec: SubtaskSpec;
  log: Logger;
  /** The subtask's status: its `validation` field is this validation's to write. */
  status: SubtaskStatus;
  /** The sync unit while it runs: the validator runs only then. */
  sync(): SyncUnit | undefined;
  event(e: Omit<EventInput, 'task' | 'source'>): void;
  /** The status changed: publish it with the next flush. */
  changed(): void;
}

/**
 * A subtask's continuous validation: runs the validator while the sync unit runs and validation is wanted (the task
 * record's stage, else the task file's mode), one change at a time. A stopped validator leaves its last status with
 * stage Stopped.
 */
export class SubtaskValidation {
  /** `dmctl validation start|stop` (task record); undefined: the task file's validators decide. */
  private wanted: ValidationDesired | undefined;
  private validator: Validator | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly host: ValidationHost) {}

  /** `dmctl validation start|stop` as the task record says (undefined: the task file decides). */
  set(v: ValidationDesired | undefined): void {
    if (JSON.stringify(v) === JSON.stringify(this.wanted)) return;
    this.wanted = v;
    this.reconcile();
  }

  /** Error rows changed (ignore/resolve/clear-error): the counts in the status are read again. */
  errorsChanged(): void {
    void this.validator?.refreshCounts().catch(() => undefined);
  }

  /** Starts or stops the validator as the sync unit and the wanted stage say; resolves when done. */
  reconcile(): Promise<void> {
    const { host } = this;
    this.chain = this.chain
      .then(async () => {
        const file = host.spec.validator;
        const want =
          this.wanted ??
          (file.mode !== 'none' ? { stage: 'Running' as const, mode: file.mode, updatedAt: '' } : undefined);
        const unit = host.sync();
        const run = unit !== undefined && want?.stage === 'Running';
        const cur = this.validator;
        if (cur && (!run || cur.mode !== want?.mode)) {
          unit?.setAppliedRows(undefined);
          this.validator = undefined;
          await cur.stop();
        }
        if (run && !this.validator && want) {
          const v = new Validator({
            task: host.task,
            source: host.spec.sourceId,
            mode: want.mode,
            cfg: file,
            log: host.log,
            event: (e) => host.event(e),
            report: (s) => {
              host.status.validation = s;
              host.changed();
            },
          });
          this.validator = v;
          unit.setAppliedRows(v);
          await v.start();
        }
        if (!run && host.status.validation && host.status.validation.stage !== 'Stopped') {
          host.status.validation = {
            ...host.status.validation,
            stage: 'Stopped',
            pending: { insert: 0, update: 0, delete: 0 },
          };
          host.changed();
        }
      })
      .catch((err: unknown) => host.log.warn({ err: String(err) }, 'continuous validation: start or stop failed'));
    return this.chain;
  }
}
