/**
 * What the runner does for one case: scenarios (one task file each, run on a fresh cluster over a reset sandbox),
 * each a list of steps. DM's cases keep their flow in run.sh, which is not in the case folders; plans.ts encodes
 * the core of each run.sh (which files, which order, which checks) as data for the cases it was written for, and
 * any other folder gets default-plan.ts's plan, derived from the folder's files as DM's suite names them.
 */

/** 1 and 2 are the upstreams (DM's source1/source2), 'down' the downstream, 'ups' both upstreams. */
export type On = 1 | 2 | 'down' | 'ups';

export type Step = StepBody & {
  /** Why run.sh does this (shown when the step fails). */
  why?: string;
};

type StepBody =
  /** Inline statements from run.sh (run_sql_source1, run_sql_tidb …), on one new connection (in `charset`: run_sql's). */
  | { kind: 'sql'; on: On; sql: string[]; charset?: string }
  /** A case data file (data/NAME) on one server, statement by statement on one connection. */
  | { kind: 'file'; on: On; file: string }
  /** dmctl operate-source create for the scenario's source files (placeholders and connection fields replaced). */
  | { kind: 'sources' }
  /** dmctl start-task on the scenario's task file. */
  | { kind: 'start'; removeMeta: boolean }
  /** dmctl start-task must fail (DM's precheck rejects the task) with every one of these texts in its output. */
  | { kind: 'startFails'; removeMeta: boolean; expect: string[] }
  /** Mode all/incremental: every source's synced position reaches its upstream's head; mode full: Finished. */
  | { kind: 'caughtUp' }
  /** Every subtask is Running in the sync unit (its dump snapshot is taken): later upstream writes reach it by binlog. */
  | { kind: 'syncUnit' }
  /** Compare what a diff config says must be equal; `edits` are run.sh's sed on it; `mustFail` as run.sh's "fail". */
  | {
      kind: 'diff';
      file: string;
      edits?: [string, string][];
      mustFail?: boolean;
      /** Before the increments: neither side has a table the config checks yet (they come from the increments) is a note, not a failure. */
      emptyOk?: boolean;
    }
  /** A run.sh check: the first value of the first row of `sql` on `on` must equal `equals` (retried briefly). */
  | { kind: 'expect'; on: 1 | 2 | 'down'; sql: string[]; equals: string }
  /** DM pauses the task here with an error (`dmMessage` is DM's wording); tsdm must pause too, its error with `tsdmText`. */
  | { kind: 'expectPaused'; dmMessage: string; tsdmText?: string }
  /** dmctl resume-task, as run.sh does after the DBA fixed what paused the task. */
  | { kind: 'resume' }
  /** dmctl binlog skip TASK: the event the task is paused on is skipped and the task goes on. */
  | { kind: 'binlogSkip' };

export interface Mysql8Only {
  /** data file the statement is in */
  file: string;
  /** matches the statement */
  match: RegExp;
  reason: string;
}

export interface Scenario {
  /** conf/ file name of the task. */
  task: string;
  /** Which run.sh flow (when a task file has several, or a variant). */
  label?: string;
  steps: Step[];
  /** conf/ source files to create (default: every conf/source*.yaml); one of several files with the same source-id. */
  sourceFiles?: string[];
  /** What the plan derived or adapted (shown in the report). */
  notes?: string[];
  /** Values for DM placeholders this scenario sets itself (binlog ones are computed from the sandbox). */
  placeholders?: Record<string, string>;
  /** Users the case creates in its own SQL: the source files keep them (and their password) instead of root. */
  caseUsers?: string[];
  /** run.sh rewrites the source files' user (`sed s/root/dm_incremental/`): the user and password to use. */
  sourceUser?: { user: string; password: string };
  /** Statements that exist only in MySQL 8 (not run on the MariaDB upstream; listed in the report). */
  mysql8Only?: Mysql8Only[];
  /** Named time zones the case's SQL uses (loaded into the servers' time zone tables). */
  timeZones?: string[];
  /** What of run.sh is not reproduced here, and why (shown in the report). */
  omitted?: string[];
  /** Skip the scenario: only for something that exists solely in TiDB or MySQL 8; say which statement. */
  skip?: string;
}

export interface CasePlan {
  name: string;
  scenarios: Scenario[];
}
