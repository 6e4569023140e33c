import React from 'react';
import { Text } from 'ink';
import { rowsPerPage, pageOf } from './DataTable.tsx';
import { fit } from './format.ts';

/** The line above a table: what it holds, the active filter, and which rows are on screen when they do not all fit. */
export function Caption({
  text,
  filter,
  total,
  selected,
  height,
  width,
}: {
  text: string;
  filter: string;
  total: number;
  selected: number;
  height: number;
  width: number;
}): React.JSX.Element {
  const per = rowsPerPage(height - 1);
  const { start, end } = pageOf(selected, total, per);
  const parts = [text];
  if (filter) parts.push(`filter "${filter}" (Esc clears)`);
  if (total > per) parts.push(`rows ${start + 1}-${end} of ${total} (PgUp/PgDn)`);
  return <Text wrap="truncate-end">{fit(parts.join(' · '), width)}</Text>;
}
