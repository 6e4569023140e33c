import React from 'react';
import { Box } from 'ink';
import { ago } from './format.ts';
import { agentRows, unboundSources, type AgentRow } from './selectors.ts';
import { DataTable, type Column } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import type { ListViewProps } from './view-props.ts';

function columns(now: number): Column<AgentRow>[] {
  return [
    { header: 'agent', min: 8, max: 32, priority: 100, flex: true, value: (a) => a.name },
    { header: 'role', min: 6, priority: 90, value: (a) => (a.leader ? 'leader' : '-') },
    { header: 'state', min: 5, priority: 95, value: (a) => a.state },
    { header: 'heartbeat', min: 7, priority: 85, value: (a) => ago(a.lastSeenAt, now) },
    { header: 'sources', min: 7, max: 60, priority: 80, flex: true, value: (a) => a.sources.join(',') || '-' },
    { header: 'host', min: 6, max: 32, priority: 60, flex: true, value: (a) => a.host },
    { header: 'version', min: 5, priority: 40, value: (a) => a.version },
    { header: 'pid', min: 3, priority: 30, align: 'right', value: (a) => (a.pid === undefined ? '-' : String(a.pid)) },
    {
      header: 'up',
      min: 5,
      priority: 20,
      value: (a) => (a.started === undefined ? '-' : ago(a.started, now).replace(' ago', '')),
    },
  ];
}

export function TopologyView({ model, filter, selected, width, height }: ListViewProps): React.JSX.Element {
  const rows = agentRows(model, filter);
  const unbound = unboundSources(model);
  const leader = model.leader ? `leader ${model.leader.name} (term ${model.leader.term})` : 'no leader elected';
  const text =
    rows.length === 0 && !filter
      ? `No agents. Start one with: dm-agent --name agent-1 --nats ${model.server || 'URL'} · ${leader}`
      : `${rows.length} agent(s) · ${leader}${unbound.length ? ` · unbound sources: ${unbound.join(', ')}` : ''}`;
  return (
    <Box flexDirection="column">
      <Caption text={text} filter={filter} total={rows.length} selected={selected} height={height} width={width} />
      <DataTable columns={columns(model.now)} rows={rows} width={width} height={height - 1} selected={selected} />
    </Box>
  );
}
