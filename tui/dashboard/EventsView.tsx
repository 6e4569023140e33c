import React from 'react';
import { Box } from 'ink';
import { ago } from './format.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { eventMessage, eventSubject } from '../../src/events/format.ts';
import { eventRows } from './selectors.ts';
import { DataTable, type Column } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import type { ListViewProps } from './view-props.ts';

/** dm_events as a log, newest first: the severity word leads each row (coloured: error red, warn yellow). */
function columns(now: number): Column<DmEvent>[] {
  return [
    { header: 'severity', min: 5, priority: 95, value: (e) => e.severity },
    { header: 'age', min: 3, priority: 90, value: (e) => ago(Date.parse(e.time), now).replace(' ago', '') },
    { header: 'kind', min: 8, max: 20, priority: 98, value: (e) => e.kind },
    { header: 'about', min: 8, max: 48, priority: 80, flex: true, value: (e) => eventSubject(e) || '-' },
    { header: 'message', min: 20, ideal: 40, priority: 100, flex: true, value: eventMessage },
    { header: 'agent', min: 5, max: 20, priority: 40, value: (e) => e.agent ?? '-' },
  ];
}

export function EventsView({ model, filter, selected, width, height }: ListViewProps): React.JSX.Element {
  const rows = eventRows(model, filter);
  const text =
    model.events.length === 0
      ? 'No events in dm_events yet (agents write errors, pauses, failovers, shard locks, skips there).'
      : `${rows.length} event(s), newest first · Enter shows the whole event · dmctl events has the full history`;
  return (
    <Box flexDirection="column">
      <Caption text={text} filter={filter} total={rows.length} selected={selected} height={height} width={width} />
      <DataTable columns={columns(model.now)} rows={rows} width={width} height={height - 1} selected={selected} />
    </Box>
  );
}
