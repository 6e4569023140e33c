import React from 'react';
import { Box } from 'ink';
import { DataTable } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import { ERROR_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export { errorState } from './columns.ts';

export function ErrorsView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(ERROR_TABLE, model, filter, sort);
  const active = rows.filter((e) => e.active).length;
  const text =
    Object.keys(model.errors).length === 0
      ? 'No errors reported by any subtask since the dashboard started.'
      : `${rows.length} error(s)${sort ? '' : ', newest first'}; ${active} still reported · Enter shows the suggestion`;
  return (
    <Box flexDirection="column">
      <Caption
        text={text}
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
