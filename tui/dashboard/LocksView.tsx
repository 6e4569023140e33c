import React from 'react';
import { Box } from 'ink';
import { DataTable } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import { LOCK_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export function LocksView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(LOCK_TABLE, model, filter, sort);
  const text =
    Object.keys(model.locks).length === 0
      ? 'No shard-DDL locks pending (a shard-merge task makes one at each shard DDL).'
      : `${rows.length} shard-DDL lock(s) · Enter shows the DDL and the shards`;
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
