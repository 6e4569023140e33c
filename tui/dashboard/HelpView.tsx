import React from 'react';
import { Box, Text } from 'ink';
import { truncate } from './format.ts';

export const HELP: [string, string][] = [
  ['↑ ↓  j k', 'move (in a detail: ↑ ↓ scroll)'],
  ['PgUp PgDn g G', 'page up / down, first / last row'],
  ['Enter  Esc', "open the selected row's detail / go back"],
  ['Tab  1-5', 'next view (Shift-Tab previous) / view by number; 5 is Events'],
  ['p', 'pause the task (as dmctl pause-task)'],
  ['r', 'resume; retries a task paused by an error'],
  ['s', 'stop the task, after y (as dmctl stop-task)'],
  ['k', 'in a task detail: skip the event it is paused on,'],
  ['', '  after y (as dmctl binlog skip TASK -s SOURCE)'],
  ['u', 'unlock a shard-DDL lock: not available yet'],
  ['/', 'filter this view by name (Enter keeps it, Esc clears it)'],
  ['q  Ctrl-C', 'quit'],
];

export function HelpView({ width, height }: { width: number; height: number }): React.JSX.Element {
  const keyW = Math.max(...HELP.map(([k]) => k.length)) + 2;
  const lines = [
    'Keys',
    ...HELP.map(([k, d]) => `  ${k.padEnd(keyW)}${d}`),
    '',
    'States are words (Running, Paused, gone); colour only repeats them.',
    'Reads only the KV buckets; keys write desired state like the dmctl verbs.',
    'Any key closes this help.',
  ];
  return (
    <Box flexDirection="column">
      {lines.slice(0, height).map((l, i) => (
        <Text key={i} bold={i === 0} wrap="truncate-end">
          {truncate(l, width) || ' '}
        </Text>
      ))}
    </Box>
  );
}
