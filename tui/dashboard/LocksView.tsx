import React from 'react';
import { CaptionedTable } from './CaptionedTable.tsx';
import { LOCK_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export function LocksView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(LOCK_TABLE, model, filter, sort);
  const text =
    Object.keys(model.locks).length === 0
      ? 'No shard-DDL locks pending (a shard-merge task makes one at each shard DDL).'
      : `${rows.length} shard-DDL lock(s) · Enter shows the DDL and the shards`;
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
