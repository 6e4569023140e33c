import React from 'react';
import { Box } from 'ink';
import { Caption } from './Caption.tsx';
import { DataTable, type Column } from './DataTable.tsx';
import type { ListViewProps } from './view-props.ts';

export interface CaptionedTableProps<R> extends Omit<ListViewProps, 'model'> {
  /** What the view holds (or why it is empty). */
  text: string;
  columns: Column<R>[];
  rows: R[];
}

/** Every list view's body: the caption line (what it holds, filter, sort, rows on screen) above the table. */
export function CaptionedTable<R>({
  text,
  columns,
  rows,
  filter,
  sort,
  selected,
  width,
  height,
}: CaptionedTableProps<R>): React.JSX.Element {
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
