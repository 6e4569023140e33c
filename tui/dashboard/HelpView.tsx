import React from 'react';
import { Box, Text } from 'ink';
import { truncate } from './format.ts';

export const HELP: [string, string][] = [
  ['↑ ↓  j k', 'move the selection (in a task detail: ↑ ↓ scroll, k skips the failed DDL)'],
  ['PgUp PgDn g G', 'page up / down, first / last row'],
  ['Enter', 'detail of the selected row; Esc or ← goes back'],
  ['Tab  Shift-Tab  1-4', 'next / previous view, or Topology, Tasks, Errors, Shard locks'],
  ['p', 'pause the selected task (as dmctl pause-task)'],
  ['r', 'resume it, also retries a task paused by an error (as dmctl resume-task)'],
  ['s', 'stop it, after y to confirm (as dmctl stop-task)'],
  ['k', 'in a task detail: skip the statement it is paused on, after y (as dmctl binlog skip TASK -s SOURCE)'],
  ['u', 'in Shard locks: unlock a lock; not available yet (shard-DDL locks are not implemented)'],
  ['/', 'filter rows by name (Enter keeps it, Esc clears it)'],
  ['?', 'this help (any key closes it)'],
  ['q  Ctrl-C', 'quit'],
];

export function HelpView({ width, height }: { width: number; height: number }): React.JSX.Element {
  const keyW = Math.max(...HELP.map(([k]) => k.length)) + 2;
  const lines = [
    'Keys',
    ...HELP.map(([k, d]) => `  ${k.padEnd(keyW)}${d}`),
    '',
    'Stages and states are words (Running, Paused, gone…); colour only repeats them.',
    'The dashboard reads the cluster\'s KV buckets only; actions write desired state like the dmctl verbs.',
  ];
  return (
    <Box flexDirection="column">
      {lines.slice(0, height).map((l, i) => <Text key={i} bold={i === 0} wrap="truncate-end">{truncate(l, width) || ' '}</Text>)}
    </Box>
  );
}
