import { spec, type ErrorSpec } from './spec.ts';

/** The catalog's internal errors (TSDM-6xxxx), in the order docs/errors.md lists them. */
export const internalErrors = {
  Internal: spec(
    'TSDM-60001',
    'internal',
    false,
    'internal error',
    'Report it with the agent log; the subtask is paused with its checkpoint intact.',
  ),
  UnsupportedEvent: spec(
    'TSDM-60002',
    'internal',
    false,
    'binlog event cannot be replicated',
    'Skip or replace it (DDL), or open an issue with the event shown.',
  ),
  ExpressionFilterEval: spec(
    'TSDM-60004',
    'internal',
    false,
    'an expression filter failed on a row',
    'The subtask paused before the row: fix the expression (e.g. JSON functions on a column that is not valid JSON) in the task file and restart the task, or skip the event with `dmctl binlog skip`.',
  ),
  FilterError: spec(
    'TSDM-60003',
    'internal',
    false,
    'a binlog event (a row change, a DDL statement or one clause of an ALTER) matched a filter rule with action Error; the message names the rule and the event',
    'This is what the filter rule asks for: skip the event (`dmctl binlog skip TASK`) or replace it (`dmctl binlog replace TASK "<sql>"`), or change the rule.',
  ),
} as const satisfies Record<string, ErrorSpec>;
