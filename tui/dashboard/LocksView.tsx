import React from 'react';
import { Box } from 'ink';
import { ago } from './format.ts';
import { lockRows, type LockRow } from './selectors.ts';
import { DataTable, type Column } from './DataTable.tsx';
import { Caption } from './Caption.tsx';
import type { ListViewProps } from './view-props.ts';

function columns(now: number): Column<LockRow>[] {
  return [
    { header: 'target', min: 10, max: 48, priority: 100, flex: true, value: (l) => l.target },
    { header: 'task', min: 6, max: 32, priority: 80, flex: true, value: (l) => l.task },
    {
      header: 'shards',
      min: 9,
      priority: 95,
      value: (l) => `${l.reached.length}/${l.reached.length + l.waiting.length} reached`,
    },
    { header: 'waiting', min: 7, max: 40, priority: 70, flex: true, value: (l) => l.waiting.join(',') || '-' },
    { header: 'owner', min: 6, max: 24, priority: 85, value: (l) => l.owner || '-' },
    {
      header: 'age',
      min: 5,
      priority: 75,
      value: (l) => (l.createdAt === undefined ? '-' : ago(l.createdAt, now).replace(' ago', '')),
    },
    {
      header: 'DDL',
      min: 10,
      ideal: 32,
      priority: 90,
      flex: true,
      value: (l) => (l.ddls.length ? `${l.ddls.length > 1 ? `(${l.ddls.length}) ` : ''}${l.ddls[0]}` : '-'),
    },
    { header: 'mode', min: 5, priority: 20, value: (l) => l.mode },
  ];
}

export function LocksView({ model, filter, selected, width, height }: ListViewProps): React.JSX.Element {
  const rows = lockRows(model, filter);
  const text =
    Object.keys(model.locks).length === 0
      ? 'No shard-DDL locks in dm_locks (shard-merge locks are not implemented yet).'
      : `${rows.length} shard-DDL lock(s) · Enter shows the DDL and the shards`;
  return (
    <Box flexDirection="column">
      <Caption text={text} filter={filter} total={rows.length} selected={selected} height={height} width={width} />
      <DataTable columns={columns(model.now)} rows={rows} width={width} height={height - 1} selected={selected} />
    </Box>
  );
}
