import React from 'react';
import { Box, Text } from 'ink';
import { fit, truncate, width as textWidth } from './format.ts';
import type { DashboardState } from './read-model.ts';
import { counts } from './selectors.ts';
import { VIEWS, VIEW_TITLES, type ViewName } from './ui-state.ts';

const CONNECTION: Record<DashboardState['connection'], string> = {
  connecting: 'NATS connecting…',
  connected: 'NATS connected',
  reconnecting: 'NATS reconnecting (data may be stale)',
  closed: 'NATS closed (data is stale)',
};

/** Two lines: cluster, NATS state, leader and clock; then the views with their counts, the current one in brackets. */
export function Header({
  model,
  view,
  width,
}: {
  model: DashboardState;
  view: ViewName;
  width: number;
}): React.JSX.Element {
  const c = counts(model);
  const clock = new Date(model.now).toTimeString().slice(0, 8);
  // When space is short the server address goes first, then the title: cluster, NATS state and leader matter more.
  const rest = [`cluster ${model.cluster}`, CONNECTION[model.connection]];
  const tail = [model.leader ? `leader ${truncate(model.leader.name, 24)}` : 'no leader', clock];
  const candidates = [
    ['tsdm dashboard', ...rest, ...(model.server ? [model.server] : []), ...tail],
    ['tsdm dashboard', ...rest, ...tail],
    ['tsdm', ...rest, ...tail],
  ].map((p) => p.join(' │ '));
  const first = candidates.find((c) => textWidth(c) <= width) ?? candidates.at(-1)!;
  const badge: Record<ViewName, string> = {
    topology: `${c.agentsAlive}/${c.agents} up`,
    tasks: `${c.tasks}`,
    errors: c.errors > c.errorsActive ? `${c.errorsActive} (${c.errors} logged)` : `${c.errorsActive}`,
    locks: `${c.locks}`,
    events: `${model.events.length}`,
    relays: `${c.relays}`,
  };
  // Six views do not fit 80 columns with full titles: short titles, then no "(n logged)", then no padding.
  const tabs = [
    { short: false, pad: ' ' },
    { short: true, pad: ' ' },
    { short: true, pad: '' },
  ].map(({ short, pad }) =>
    VIEWS.map((v, i) => {
      const title = short ? SHORT_TITLES[v] : VIEW_TITLES[v];
      const b = short && v === 'errors' ? `${c.errorsActive}` : badge[v];
      const label = `${i + 1} ${title} ${b}`;
      return { v, text: v === view ? `[${label}]` : `${pad}${label}${pad}` };
    }),
  );
  const fits = (t: { text: string }[]) => textWidth(t.map((x) => x.text).join(' ')) <= width;
  const chosen = tabs.find(fits) ?? tabs.at(-1)!;
  return (
    <Box flexDirection="column">
      <Text bold {...(model.connection === 'connected' ? {} : { color: 'yellow' })} wrap="truncate-end">
        {fit(first, width)}
      </Text>
      <Text wrap="truncate-end">
        {chosen.map(({ v, text }, i) => {
          const sep = i < chosen.length - 1 ? ' ' : '';
          return v === view ? (
            <Text key={v}>
              <Text inverse bold>
                {text}
              </Text>
              {sep}
            </Text>
          ) : (
            <Text key={v}>
              {text}
              {sep}
            </Text>
          );
        })}
      </Text>
    </Box>
  );
}

const SHORT_TITLES: Record<ViewName, string> = {
  topology: 'Topo',
  tasks: 'Tasks',
  errors: 'Errors',
  locks: 'Locks',
  events: 'Events',
  relays: 'Relays',
};
