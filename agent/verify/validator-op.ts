import type { TaskConfig } from '../../src/config/types.ts';
import { Op, type ValidationErrorOpRequest, type ValidationErrorOpResult } from '../../src/coord/ops.ts';
import { DmError } from '../../src/errors/index.ts';
import { connect } from '../db/mysql.ts';
import type { OpHandler } from '../op-registry.ts';
import { validatorErrorTable } from '../checkpoint-tables.ts';
import { ensureErrorTable, listErrors, operateErrors } from './validator-errors.ts';

/** What the op needs of a subtask running on this agent (agent/subtask.ts). */
export interface ValidatedSubtask {
  readonly taskConfig: TaskConfig;
  validationErrorsChanged(): void;
}

/**
 * `validation-error` (dmctl validation show-error|ignore-error|resolve-error|clear-error): served by the agent a
 * source of the task is bound to, on the task's downstream error table (validator-errors.ts). A one-off operation,
 * not desired state: the rows themselves are the state.
 */
export function validationErrorOp(
  agent: string,
  find: (task: string, source: string) => ValidatedSubtask | undefined,
  all: (task: string) => ValidatedSubtask[],
): OpHandler {
  return {
    op: Op.validationError,
    to: 'agent',
    async handle(p: unknown): Promise<ValidationErrorOpResult> {
      const req = p as ValidationErrorOpRequest;
      if (!req || typeof req.task !== 'string' || typeof req.source !== 'string')
        throw new DmError('Internal', 'validation-error needs task and source');
      const st = find(req.task, req.source);
      if (!st)
        throw new DmError('ValidationNotHere', `task ${req.task} does not run source ${req.source} on agent ${agent}`, {
          context: { task: req.task, source: req.source },
        });
      const task = st.taskConfig;
      const conn = await connect(task.targetDatabase, 'downstream');
      try {
        await ensureErrorTable(conn, task.metaSchema, task.name);
        const table = validatorErrorTable(task.metaSchema, task.name);
        if (req.action === 'show')
          return { errors: await listErrors(conn, table, task.name, req.filter ?? 'unprocessed') };
        const affected = await operateErrors(conn, table, req.action, req.id);
        if (req.id !== undefined && affected === 0)
          throw new DmError('ValidationErrorNotFound', `task ${req.task} has no validation error row ${req.id}`);
        for (const s of all(req.task)) s.validationErrorsChanged();
        return { affected };
      } finally {
        conn.destroy();
      }
    },
  };
}
