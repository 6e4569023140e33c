import React, { useRef, useState } from 'react';
import { Box, useApp, useInput } from 'ink';
import { errorLine, type DashboardActions } from './actions.ts';
import { DetailView } from './DetailView.tsx';
import { detailFor } from './detail-lines.ts';
import { rowsPerPage } from './DataTable.tsx';
import { ErrorsView } from './ErrorsView.tsx';
import { EventsView } from './EventsView.tsx';
import { Footer, type FooterKey } from './Footer.tsx';
import { Header } from './Header.tsx';
import { HelpView } from './HelpView.tsx';
import { LocksView } from './LocksView.tsx';
import { RelaysView } from './RelaysView.tsx';
import { StatusLine } from './StatusLine.tsx';
import { TasksView } from './TasksView.tsx';
import { TopologyView } from './TopologyView.tsx';
import {
  filterOf,
  initialUi,
  onKey,
  selectedIndex,
  splitKeys,
  type KeyContext,
  type Message,
  type UiState,
  type ViewName,
} from './ui-state.ts';
import { useReadModel, type ReadModelSource } from './use-read-model.ts';
import { useTerminalSize } from './use-terminal-size.ts';
import { TABLES, taskExists } from './tables.ts';
import type { ListViewProps } from './view-props.ts';

export interface AppProps {
  source: ReadModelSource;
  actions: DashboardActions;
  /** Initial UI state (tests open a given view, filter or detail). */
  initial?: Partial<UiState>;
}

const LIST_VIEWS: Record<ViewName, (p: ListViewProps) => React.JSX.Element> = {
  topology: TopologyView,
  tasks: TasksView,
  errors: ErrorsView,
  locks: LocksView,
  events: EventsView,
  relays: RelaysView,
};

/** Header (2 lines), body, status line, footer; one line is left free so Ink never redraws the whole screen. */
const CHROME = 4;

export function footerKeys(ui: UiState): FooterKey[] {
  if (ui.editingFilter)
    return [
      ['type', 'to filter', 9],
      ['Enter', 'keep', 9],
      ['Esc', 'clear', 9],
    ];
  if (ui.command !== undefined)
    return [
      ['Enter', 'run', 9],
      ['Tab', 'complete', 9],
      ['Esc', 'cancel', 9],
    ];
  if (ui.confirm)
    return [
      ['y', 'confirm', 9],
      ['n/other key', 'cancel', 9],
    ];
  if (ui.help) return [['any key', 'closes help', 9]];
  const stage: FooterKey[] = [
    ['p', 'pause', 80],
    ['r', 'resume', 80],
    ['s', 'stop', 80],
  ];
  const command: FooterKey = [':', 'cmd', 58];
  if (ui.detail !== undefined) {
    const keys: FooterKey[] = [
      ['Esc/h', 'back', 90],
      ['jk', 'scroll', 40],
    ];
    if (ui.view === 'tasks' || ui.view === 'errors') keys.push(...stage, ['x', 'skip event', 70]);
    if (ui.view === 'locks') keys.push(['u', 'unlock', 70]);
    return [...keys, command];
  }
  const common: FooterKey[] = [
    ['jk', 'move', 20],
    ['Enter', 'detail', 53],
  ];
  const tail: FooterKey[] = [['/', 'filter', 55], ['<>S', 'sort', 54], command];
  switch (ui.view) {
    case 'tasks':
    case 'errors':
      return [...common, ...stage, ['x', 'skip', 65], ...tail];
    case 'locks':
      return [...common, ['u', 'unlock', 70], ...tail];
    case 'topology':
    case 'events':
    case 'relays':
      return [...common, ['Tab', 'view', 50], ...tail];
  }
}

export function App({ source, actions, initial }: AppProps): React.JSX.Element {
  const model = useReadModel(source);
  const { columns, rows } = useTerminalSize();
  const { exit } = useApp();
  const [ui, setUiState] = useState<UiState>(() => ({ ...initialUi(), ...initial }));
  // Key handling reads the latest state synchronously: several keys can arrive before React re-renders.
  const uiRef = useRef(ui);
  const setUi = (next: UiState) => {
    uiRef.current = next;
    setUiState(next);
  };

  const width = columns;
  const bodyHeight = Math.max(4, rows - 1 - CHROME);
  const sort = ui.sorts[ui.view];
  const rowsNow = TABLES[ui.view].keyRows(model, filterOf(ui), sort);
  const sel = selectedIndex(
    ui.selected[ui.view],
    rowsNow.map((r) => r.key),
  );
  const detail = ui.detail !== undefined ? detailFor(ui.view, model, ui.detail, width) : undefined;
  const ctx: KeyContext = {
    rows: rowsNow,
    pageSize: rowsPerPage(bodyHeight - 1),
    detailLines: detail?.lines.length ?? 0,
    detailHeight: bodyHeight - 1,
    headers: TABLES[ui.view].headers(model),
    subtasks: TABLES.tasks.keyRows(model, '', undefined),
    taskExists: (t) => taskExists(model, t),
    can: actions.can,
  };
  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;

  const report = (message: Message) => setUi({ ...uiRef.current, message });

  useInput((chunk, chunkKey) => {
    for (const [input, key] of splitKeys(chunk, chunkKey)) {
      const { ui: next, effect } = onKey(uiRef.current, input, key, ctxRef.current);
      setUi(next);
      if (effect?.kind === 'quit') {
        exit();
        return;
      }
      if (effect?.kind === 'run') {
        actions.run(effect.action).then(
          (text) => report({ text, tone: 'info' }),
          (err: unknown) => report({ text: errorLine(err), tone: 'error' }),
        );
      }
    }
  });

  const View = LIST_VIEWS[ui.view];
  let body: React.JSX.Element;
  if (ui.help) body = <HelpView view={ui.view} detail={ui.detail !== undefined} width={width} height={bodyHeight} />;
  else if (detail) body = <DetailView detail={detail} scroll={ui.detailScroll} width={width} height={bodyHeight} />;
  else body = <View model={model} filter={filterOf(ui)} sort={sort} selected={sel} width={width} height={bodyHeight} />;

  return (
    <Box flexDirection="column" width={width}>
      <Header model={model} view={ui.view} width={width} />
      <Box flexDirection="column" height={bodyHeight}>
        {body}
      </Box>
      <StatusLine ui={ui} width={width} />
      <Footer keys={footerKeys(ui)} width={width} />
    </Box>
  );
}
