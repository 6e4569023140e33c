/**
 * dmctl's commands by name, each loaded only when it runs: `dmctl --help` and the start of every command stay fast
 * (issue #18: no zod schemas, NATS client, SQL grammar or ink/react for a command that does not use them). The
 * summaries are those of the command objects (test/unit/dmctl-help.test.ts checks that they match); add a new
 * command here, in the order `dmctl --help` lists it.
 */
import type { Command } from '../context.ts';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'operate-source',
    summary: 'create, show or stop upstream sources',
    load: async () => (await import('./source.ts')).operateSource,
  },
  {
    name: 'check-task',
    summary: 'run the prechecks of a task file without starting it',
    load: async () => (await import('./task.ts')).checkTask,
  },
  {
    name: 'plan',
    summary: 'show what a task file would do (routes, rules, keys, the DDL run first) without starting it',
    load: async () => (await import('./plan.ts')).plan,
  },
  {
    name: 'start-task',
    summary: 'start a task (full dump+load and/or incremental sync, by task-mode)',
    load: async () => (await import('./task-start.ts')).startTask,
  },
  {
    name: 'stop-task',
    summary: 'stop a task (start-task resumes it from its checkpoints)',
    load: async () => (await import('./task.ts')).stopTask,
  },
  {
    name: 'pause-task',
    summary: 'pause a task (its checkpoints stay; resume-task continues)',
    load: async () => (await import('./task.ts')).pauseTask,
  },
  {
    name: 'resume-task',
    summary: 'resume a paused task (also retries a task paused by an error)',
    load: async () => (await import('./task.ts')).resumeTask,
  },
  {
    name: 'query-status',
    summary: 'show tasks: stage, unit, progress, positions, lag, errors',
    load: async () => (await import('./status.ts')).queryStatus,
  },
  {
    name: 'events',
    summary: 'show the event log (errors, pauses, failovers, shard locks, skips…); --follow streams new ones',
    load: async () => (await import('./events.ts')).events,
  },
  {
    name: 'check-data',
    summary: 'prove the copy equal: compare upstream and downstream (and repair)',
    load: async () => (await import('./check-data.ts')).checkData,
  },
  {
    name: 'validation',
    summary: 'continuous data validation: start, stop, status, and its error rows',
    load: async () => (await import('./validation.ts')).validation,
  },
  {
    name: 'binlog',
    summary: 'skip, replace or inject SQL before the binlog event a task is paused on; list or revert such decisions',
    load: async () => (await import('./binlog.ts')).binlog,
  },
  {
    name: 'binlog-schema',
    summary: "show, replace or delete a table's schema in the task's schema tracker (the task paused)",
    load: async () => (await import('./binlog-schema.ts')).binlogSchema,
  },
  {
    name: 'shard-ddl-lock',
    summary: 'show shard-DDL locks of shard-merge tasks; unlock a stuck one',
    load: async () => (await import('./shard.ts')).shardDdlLock,
  },
  {
    name: 'transfer-source',
    summary: 'bind a source to another agent (its subtasks move there and resume from their checkpoints)',
    load: async () => (await import('./cluster.ts')).transferSource,
  },
  {
    name: 'list-member',
    summary: 'list agents, the leader, and source bindings',
    load: async () => (await import('./cluster.ts')).listMember,
  },
  {
    name: 'offline-member',
    summary: 'forget an agent that is gone for good (its sources are rebound at once)',
    load: async () => (await import('./cluster.ts')).offlineMember,
  },
  {
    name: 'operate-leader',
    summary: 'evict the leader (it stops taking part in elections) or cancel that',
    load: async () => (await import('./cluster.ts')).operateLeader,
  },
  {
    name: 'config',
    summary: 'print a stored task or source file (passwords redacted), or export/import all of them',
    load: async () => (await import('./config.ts')).config,
  },
  {
    name: 'encrypt',
    summary: 'encrypt a password for source/task files (AES-256-GCM with the key file)',
    load: async () => (await import('./config.ts')).encrypt,
  },
  {
    name: 'start-relay',
    summary: 'start the relay log of a source (also without enable-relay)',
    load: async () => (await import('./relay.ts')).startRelay,
  },
  {
    name: 'stop-relay',
    summary: 'stop pulling the binlog into the relay (stored data stays readable)',
    load: async () => (await import('./relay.ts')).stopRelay,
  },
  {
    name: 'pause-relay',
    summary: 'pause the relay (resume-relay continues where it stopped)',
    load: async () => (await import('./relay.ts')).pauseRelay,
  },
  {
    name: 'resume-relay',
    summary: 'resume a paused relay (also retries a relay stopped by an error)',
    load: async () => (await import('./relay.ts')).resumeRelay,
  },
  {
    name: 'purge-relay',
    summary: 'remove relay data no task needs',
    load: async () => (await import('./relay.ts')).purgeRelay,
  },
];

/** `dmctl dashboard`, also what `dmctl` runs with no command on a terminal: ink and react load only here. */
export const DASHBOARD: CommandEntry = {
  name: 'dashboard',
  summary: 'interactive console: topology, tasks, errors, shard locks, events, relays (dmctl with no command opens it)',
  load: async () => (await import('../dashboard/command.ts')).dashboard,
};
