import React from 'react';
import { CaptionedTable } from './CaptionedTable.tsx';
import { shownRows, TASK_TABLE } from './tables.ts';
import { count, duration } from './format.ts';
import { percentText } from '../../src/coord/status-derive.ts';
import type { TaskRow } from './selectors.ts';
import type { ListViewProps } from './view-props.ts';

export { progressText, stageText } from './columns.ts';

/**
 * The load phase in the caption while one runs, so that 80 columns (which drop the rate and ETA columns) still show
 * it: one load's percent, rate and ETA (its row has the name); several as a count and the longest ETA.
 */
export function loadNote(rows: TaskRow[]): string {
  const loads = rows.filter((r) => r.status?.load && (r.unit === 'load' || r.unit === 'dump') && r.stage === 'Running');
  if (loads.length === 0) return '';
  const eta = (r: TaskRow) => (r.etaSeconds === undefined ? '' : `, ETA ${duration(r.etaSeconds)}`);
  if (loads.length === 1) {
    const r = loads[0]!;
    const l = r.status!.load!;
    const rate = r.rowsPerSecond === undefined ? '' : `, ${count(r.rowsPerSecond)}/s`;
    return `load ${percentText(l.doneRows, l.totalRows)}${rate}${eta(r)}`;
  }
  const longest = loads.reduce((a, r) => ((r.etaSeconds ?? -1) > (a.etaSeconds ?? -1) ? r : a));
  return `${loads.length} loads${eta(longest)}`;
}

export function TasksView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(TASK_TABLE, model, filter, sort);
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
  const note = loadNote(rows);
  return (
    <CaptionedTable
      text={note ? `${summary} · ${note}` : summary}
      columns={columns}
      rows={rows}
      filter={filter}
      sort={sort}
      selected={selected}
      width={width}
      height={height}
    />
  );
}
