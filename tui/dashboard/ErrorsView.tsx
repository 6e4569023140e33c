import React from 'react';
import { CaptionedTable } from './CaptionedTable.tsx';
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
    <CaptionedTable
      text={text}
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
