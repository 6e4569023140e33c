import React from 'react';
import { Box } from 'ink';
import { ago } from './format.ts';
import type { ErrorEntry } from './read-model.ts';
import { errorRows } from './selectors.ts';
import { DataTable, type Column } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import type { ListViewProps } from './view-props.ts';

export function errorState(e: ErrorEntry): string {
  return e.pausing ? 'paused on' : e.active ? (e.record.warning ? 'warning' : 'retried') : 'cleared';
}

function columns(now: number): Column<ErrorEntry>[] {
  return [
    { header: 'age', min: 3, priority: 90, value: (e) => ago(e.at, now).replace(' ago', '') },
    { header: 'task', min: 6, max: 32, priority: 95, flex: true, value: (e) => e.task },
    { header: 'source', min: 6, max: 20, priority: 70, flex: true, value: (e) => e.source },
    { header: 'code', min: 9, priority: 85, value: (e) => e.record.code },
    { header: 'state', min: 7, priority: 60, value: errorState },
    { header: 'message', min: 20, ideal: 32, priority: 100, flex: true, value: (e) => e.record.message },
  ];
}

export function ErrorsView({ model, filter, selected, width, height }: ListViewProps): React.JSX.Element {
  const rows = errorRows(model, filter);
  const active = rows.filter((e) => e.active).length;
  const text =
    Object.keys(model.errors).length === 0
      ? 'No errors reported by any subtask since the dashboard started.'
      : `${rows.length} error(s), newest first; ${active} still reported · Enter shows the suggestion`;
  return (
    <Box flexDirection="column">
      <Caption text={text} filter={filter} total={rows.length} selected={selected} height={height} width={width} />
      <DataTable columns={columns(model.now)} rows={rows} width={width} height={height - 1} selected={selected} />
    </Box>
  );
}
