import React from 'react';
import { Text } from 'ink';
import { rowsPerPage, pageOf, sortMark, type SortSpec } from './DataTable.tsx';
import { fit } from './format.ts';

/**
 * The line above a table: what it holds, the active filter and sort, and which rows are on screen when they do not
 * all fit. The filter and sort come first after the text's first clause so that 80 columns keep them.
 */
export function Caption({
  text,
  filter,
  sort,
  headers,
  total,
  selected,
  height,
  width,
}: {
  text: string;
  filter: string;
  sort?: SortSpec | undefined;
  headers?: string[];
  total: number;
  selected: number;
  height: number;
  width: number;
}): React.JSX.Element {
  const per = rowsPerPage(height - 1);
  const { start, end } = pageOf(selected, total, per);
  const [head, ...tail] = text.split(' · ');
  const parts = [head!];
  if (filter) parts.push(`filter "${filter}" (Esc clears)`);
  if (sort && headers?.[sort.column]) parts.push(`sorted by ${headers[sort.column]}${sortMark(sort)}`);
  if (total > per) parts.push(`rows ${start + 1}-${end} of ${total} (PgUp/PgDn)`);
  parts.push(...tail);
  return <Text wrap="truncate-end">{fit(parts.join(' · '), width)}</Text>;
}
