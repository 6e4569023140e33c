import React from 'react';
import { Box } from 'ink';
import { percentText as percent } from '../../src/coord/status-derive.ts';
import { count, duration } from './format.ts';
import { taskRows, type TaskRow } from './selectors.ts';
import { DataTable, type Column } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import type { ListViewProps } from './view-props.ts';

/** Progress in words: load as percent and chunks, sync as caught up or not (only while it runs: else `stale`). */
export function progressText(r: TaskRow): string {
  const st = r.status;
  if (!st) return '-';
  if (st.unit === 'sync' && r.sync)
    return r.sync.state === 'synced' ? 'in sync' : r.sync.state === 'catching-up' ? 'catching up' : 'stale';
  if (st.load) return `${percent(st.load.doneRows, st.load.totalRows)} ${st.load.doneChunks}/${st.load.totalChunks}ch`;
  return '-';
}

export function stageText(r: TaskRow): string {
  // An agent that is gone reports nothing: its last stage is shown, marked as stale.
  const notes = [
    r.stage === 'Paused' && r.error ? 'error' : '',
    r.agentState === 'gone' || r.agentState === 'left' ? 'agent gone' : '',
  ].filter(Boolean);
  const base = `${r.stage}${notes.length ? ` (${notes.join(', ')})` : ''}`;
  // Finished, or paused by an error, while Running is desired: that is the agent's doing, not a pending change.
  const settled =
    r.desired === r.stage ||
    (r.desired === 'Running' && (r.stage === 'Finished' || (r.stage === 'Paused' && !!r.error)));
  return settled ? base : `${base} →${r.desired}`;
}

const COLUMNS: Column<TaskRow>[] = [
  { header: 'task', min: 8, max: 40, priority: 100, flex: true, value: (r) => r.task },
  { header: 'source', min: 6, max: 24, priority: 90, flex: true, value: (r) => r.source },
  { header: 'stage', min: 7, max: 32, priority: 95, value: stageText },
  { header: 'unit', min: 4, priority: 48, value: (r) => r.unit },
  { header: 'progress', min: 7, max: 16, priority: 80, value: progressText },
  {
    header: 'rows/s',
    min: 6,
    priority: 45,
    align: 'right',
    value: (r) => (r.rowsPerSecond === undefined ? '-' : count(r.rowsPerSecond)),
  },
  { header: 'lag', min: 4, priority: 75, align: 'right', value: (r) => duration(r.lagSeconds) },
  { header: 'ETA', min: 5, priority: 35, align: 'right', value: (r) => duration(r.etaSeconds) },
  {
    header: 'agent',
    min: 6,
    max: 24,
    priority: 45,
    flex: true,
    value: (r) =>
      r.agentState === 'alive' || r.agentState === 'none' ? r.agent || '-' : `${r.agent} (${r.agentState})`,
  },
  {
    header: 'last error',
    min: 10,
    ideal: 32,
    priority: 85,
    flex: true,
    value: (r) => (r.error ? `[${r.error.code}] ${r.error.message}` : ''),
  },
];

export function TasksView({ model, filter, selected, width, height }: ListViewProps): React.JSX.Element {
  const rows = taskRows(model, filter);
  const stages: Record<string, number> = {};
  for (const r of rows) stages[r.stage] = (stages[r.stage] ?? 0) + 1;
  const summary =
    Object.keys(model.tasks).length === 0
      ? 'No tasks. Start one with: dmctl start-task task.yaml'
      : `${new Set(rows.map((r) => r.task)).size} task(s), ${rows.length} subtask(s): ${
          Object.entries(stages)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'none match'
        }`;
  return (
    <Box flexDirection="column">
      <Caption text={summary} filter={filter} total={rows.length} selected={selected} height={height} width={width} />
      <DataTable columns={COLUMNS} rows={rows} width={width} height={height - 1} selected={selected} />
    </Box>
  );
}
