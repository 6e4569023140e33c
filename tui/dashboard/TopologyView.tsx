import React from 'react';
import { unboundSources } from './selectors.ts';
import { CaptionedTable } from './CaptionedTable.tsx';
import { AGENT_TABLE, shownRows } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export function TopologyView({ model, filter, sort, selected, width, height }: ListViewProps): React.JSX.Element {
  const { columns, rows } = shownRows(AGENT_TABLE, model, filter, sort);
  const unbound = unboundSources(model);
  const leader = model.leader ? `leader ${model.leader.name} (term ${model.leader.term})` : 'no leader elected';
  const text =
    rows.length === 0 && !filter
      ? `No agents. Start one with: dm-agent --name agent-1 --nats ${model.server || 'URL'} · ${leader}`
      : `${rows.length} agent(s) · ${leader}${unbound.length ? ` · unbound sources: ${unbound.join(', ')}` : ''}`;
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
