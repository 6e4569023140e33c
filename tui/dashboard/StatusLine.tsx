import React from 'react';
import { Text } from 'ink';
import { fit } from './format.ts';
import { filterOf, VIEW_TITLES, type UiState } from './ui-state.ts';

/** One line for what is happening: the filter or command being typed, a question to confirm, or the last result. */
export function StatusLine({ ui, width }: { ui: UiState; width: number }): React.JSX.Element {
  if (ui.editingFilter)
    return (
      <Text wrap="truncate-end">
        {fit(`filter ${VIEW_TITLES[ui.view]}: ${filterOf(ui)}_   (Enter keep, Esc clear)`, width)}
      </Text>
    );
  if (ui.command !== undefined) {
    // A completion's candidates or an error stay visible while the line is edited.
    const note = ui.message ? `   ${ui.message.tone === 'error' ? 'Error: ' : ''}${ui.message.text}` : '';
    return <Text wrap="truncate-end">{fit(`:${ui.command}_${note}`, width)}</Text>;
  }
  if (ui.confirm)
    return (
      <Text bold color="yellow" wrap="truncate-end">
        {fit(`${ui.confirm.prompt} y = yes, any other key = no`, width)}
      </Text>
    );
  const m = ui.message;
  if (!m) return <Text> </Text>;
  const prefix = m.tone === 'error' ? 'Error: ' : m.tone === 'busy' ? '… ' : '';
  return (
    <Text {...(m.tone === 'error' ? { color: 'red', bold: true } : {})} wrap="truncate-end">
      {fit(prefix + m.text, width)}
    </Text>
  );
}
