import React from 'react';
import { Text } from 'ink';
import { width as textWidth, truncate } from './format.ts';

/** The keys that apply right now, as many as fit; `? help` and `q quit` always stay. */
export function Footer({ keys, width }: { keys: [string, string][]; width: number }): React.JSX.Element {
  const tail = [['?', 'help'], ['q', 'quit']] as [string, string][];
  const items = keys.map(([k, d]) => `${k} ${d}`);
  const end = tail.map(([k, d]) => `${k} ${d}`).join('  ');
  let line = '';
  for (const it of items) {
    const next = line ? `${line}  ${it}` : it;
    if (textWidth(next) + 2 + textWidth(end) > width) break;
    line = next;
  }
  return <Text dimColor wrap="truncate-end">{truncate(line ? `${line}  ${end}` : end, width)}</Text>;
}
