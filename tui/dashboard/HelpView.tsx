import React from 'react';
import { Box, Text } from 'ink';
import { COMMAND_HELP } from './command-line.ts';
import { truncate } from './format.ts';
import { VIEW_TITLES, type ViewName } from './ui-state.ts';

/** The keys of a view (list or detail), then the keys that work everywhere. Every key the dashboard reads is here. */
export function viewKeys(view: ViewName, detail: boolean): [string, string][] {
  const task: [string, string][] = [
    ['p  r', 'pause / resume the task (r also retries an error)'],
    ['s', 'stop the task, after y (as dmctl stop-task)'],
    ['x', 'skip the event the subtask is paused on, after y'],
  ];
  const keys: [string, string][] = detail
    ? [
        ['j k  ↑ ↓  Space', 'scroll; PgUp PgDn a page; g G top / bottom'],
        ['Esc h ← Backspace', 'back to the list'],
      ]
    : [
        ['j k  ↑ ↓', 'move; PgUp PgDn a page; g G (Home End) first / last'],
        ['Enter  l  →', "open the selected row's detail"],
        ['< >  S', 'sort by the previous / next column; S reverses'],
        ['/', 'filter rows by any cell (Enter keeps, Esc clears)'],
      ];
  if (view === 'tasks' || view === 'errors') keys.push(...task);
  if (view === 'locks') keys.push(['u', 'unlock the lock after y (shard-ddl-lock unlock)']);
  return keys;
}

export const GLOBAL_KEYS: [string, string][] = [
  ['Tab  1-6', 'next view (Shift-Tab previous) / a view by number'],
  [':', 'command line (Tab completes, Esc cancels):'],
  ...COMMAND_HELP.map(([k, d]): [string, string] => [`  ${k}`, d]),
  ['?  q  Ctrl-C', 'this help / quit'],
];

export function HelpView({
  view,
  detail,
  width,
  height,
}: {
  view: ViewName;
  detail: boolean;
  width: number;
  height: number;
}): React.JSX.Element {
  const own = viewKeys(view, detail);
  const keyW = Math.min(24, Math.max(...[...own, ...GLOBAL_KEYS].map(([k]) => k.length)) + 2);
  const row = ([k, d]: [string, string]) => (k.length + 2 > keyW ? `  ${k}  ${d}` : `  ${k.padEnd(keyW)}${d}`);
  const lines = [
    `Keys in ${VIEW_TITLES[view]}${detail ? ' (a detail)' : ''}`,
    ...own.map(row),
    'Everywhere',
    ...GLOBAL_KEYS.map(row),
    'States are words; colour only repeats them. Any key closes this help.',
  ];
  return (
    <Box flexDirection="column">
      {lines.slice(0, height).map((l, i) => (
        <Text key={i} bold={i === 0 || l === 'Everywhere'} wrap="truncate-end">
          {truncate(l, width) || ' '}
        </Text>
      ))}
    </Box>
  );
}
