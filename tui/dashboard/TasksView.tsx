import React from 'react';
import { Box } from 'ink';
import { DataTable } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import { shownRows, TASK_TABLE } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export { progressText, stageText } from './columns.ts';

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
  return (
    <Box flexDirection="column">
      <Caption
        text={summary}
        filter={filter}
        sort={sort}
        headers={columns.map((c) => c.header)}
        total={rows.length}
        selected={selected}
        height={height}
        width={width}
      />
      <DataTable columns={columns} rows={rows} width={width} height={height - 1} selected={selected} sort={sort} />
    </Box>
  );
}
