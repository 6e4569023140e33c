import React from 'react';
import { Text } from 'ink';
import { width as textWidth, truncate } from './format.ts';

/** A key, what it does, and how much it matters when the line is short (higher stays longer). */
export type FooterKey = [key: string, label: string, priority: number];

/** The keys that apply right now, in their order, as many as fit by priority; `? help` and `q quit` always stay. */
export function Footer({ keys, width }: { keys: FooterKey[]; width: number }): React.JSX.Element {
  const all: FooterKey[] = [...keys, ['?', 'help', 1000], ['q', 'quit', 1000]];
  const text = (ks: FooterKey[]) => ks.map(([k, d]) => `${k} ${d}`).join('  ');
  let shown = all;
  while (textWidth(text(shown)) > width && shown.length > 2) {
    const drop = shown.reduce((a, k) => (k[2] < a[2] ? k : a));
    shown = shown.filter((k) => k !== drop);
  }
  return (
    <Text dimColor wrap="truncate-end">
      {truncate(text(shown), width)}
    </Text>
  );
}
