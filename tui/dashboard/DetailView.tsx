import React from 'react';
import { Box, Text } from 'ink';
import type { Detail } from './detail-lines.ts';
import { fit, truncate } from './format.ts';

/** A scrollable page of lines (task, error, lock or agent detail). */
export function DetailView({
  detail,
  scroll,
  width,
  height,
}: {
  detail: Detail;
  scroll: number;
  width: number;
  height: number;
}): React.JSX.Element {
  const body = Math.max(1, height - 1);
  const top = Math.min(scroll, Math.max(0, detail.lines.length - body));
  const shown = detail.lines.slice(top, top + body);
  const more = detail.lines.length > body ? ` · lines ${top + 1}-${top + shown.length} of ${detail.lines.length}` : '';
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {fit(`${detail.title}${more} · Esc back`, width)}
      </Text>
      {shown.map((l, i) => (
        <Text key={i} bold={l.bold ?? false} {...(l.color ? { color: l.color } : {})} wrap="truncate-end">
          {truncate(l.text, width) || ' '}
        </Text>
      ))}
    </Box>
  );
}
