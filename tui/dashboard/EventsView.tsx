import React from 'react';
import { CaptionedTable } from './CaptionedTable.tsx';
import { EVENT_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export function EventsView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(EVENT_TABLE, model, filter, sort);
  const text =
    model.events.length === 0
      ? 'No events in dm_events yet (agents write errors, pauses, failovers, shard locks, skips there).'
      : `${rows.length} event(s)${sort ? '' : ', newest first'} · Enter shows the whole event · dmctl events has the full history`;
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
