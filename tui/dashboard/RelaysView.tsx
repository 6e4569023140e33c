import React from 'react';
import { CaptionedTable } from './CaptionedTable.tsx';
import { RELAY_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

/** One row per relay log (a source with enable-relay): where it is against the upstream head, its size, its agent. */
export function RelaysView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(RELAY_TABLE, model, filter, sort);
  const text =
    Object.keys(model.relays).length === 0
      ? 'No relay logs (a source with enable-relay: true gets one; dmctl start-relay starts it).'
      : `${rows.length} relay log(s) · Enter shows the store, readers and purges`;
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
