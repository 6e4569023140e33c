import React from 'react';
import { Box } from 'ink';
import { unboundSources } from './selectors.ts';
import { DataTable } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
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
