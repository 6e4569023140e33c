import type { Command } from '../context.ts';
import { runDashboard } from './run.ts';

/** `dmctl dashboard`, also what `dmctl` runs with no command (tui/main.ts). */
export const dashboard: Command = {
  name: 'dashboard',
  summary: 'interactive console: topology, tasks, errors, shard locks, events, relays (dmctl with no command opens it)',
  usage: `
  Usage
    $ dmctl [dashboard]

  Opens the interactive dashboard: agents and the leader, tasks with progress and lag, errors newest first, shard-DDL
  locks, the event log, relay logs. It reads only the cluster's KV buckets and redraws at most 4 times a second.
  Keys: arrows or h/j/k/l move, Enter detail, Tab or 1-6 views, p pause, r resume, s stop, x skip the failed event,
  / filter, < > S sort, : command line (:pause TASK …), ? help, q quit. See docs/dashboard.md.

  When stdin or stdout is not a terminal, dmctl says so and prints query-status instead; with --json, query-status's
  JSON document.
`,
  run: (ctx) => runDashboard(ctx),
};
