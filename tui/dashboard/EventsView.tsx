import React from 'react';
import { Box } from 'ink';
import { DataTable } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import { EVENT_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export function EventsView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(EVENT_TABLE, model, filter, sort);
  const text =
    model.events.length === 0
      ? 'No events in dm_events yet (agents write errors, pauses, failovers, shard locks, skips there).'
      : `${rows.length} event(s)${sort ? '' : ', newest first'} · Enter shows the whole event · dmctl events has the full history`;
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
