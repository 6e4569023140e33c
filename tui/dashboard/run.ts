import { createElement } from 'react';
import { render } from 'ink';
import { Exit, type CommandContext } from '../context.ts';
import { queryStatus } from '../commands/status.ts';
import { coordActions } from './actions.ts';
import { App } from './App.tsx';
import { coordSource } from './coord-source.ts';
import { ReadModelStore } from './read-model.ts';

/** Alternate screen: the dashboard takes the whole terminal and gives the previous screen back on exit. */
const ALT_SCREEN_ON = '\x1b[?1049h\x1b[H';
const ALT_SCREEN_OFF = '\x1b[?1049l';

export interface DashboardIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** Ink's useInput needs raw mode on stdin, and a dashboard on a pipe makes no sense: both must be terminals. */
export function whyNotInteractive(io: DashboardIo): string | undefined {
  if (!io.stdin.isTTY || typeof io.stdin.setRawMode !== 'function')
    return 'stdin is not a terminal (raw mode is not supported)';
  if (!io.stdout.isTTY) return 'stdout is not a terminal';
  return undefined;
}

/**
 * `dmctl` on a terminal / `dmctl dashboard`. Not on a terminal (a script, a pipe, cron) it says so and prints
 * query-status instead; with --json it prints query-status's document (the dashboard is never the only way to see
 * something: CONVENTIONS 8).
 */
export async function runDashboard(
  ctx: CommandContext,
  io: DashboardIo = { stdin: process.stdin, stdout: process.stdout },
): Promise<number> {
  if (ctx.flags.json) return queryStatus.run(ctx, [], {});
  const why = whyNotInteractive(io);
  if (why) {
    ctx.err.write(`dmctl: ${why}, so the interactive dashboard cannot run; printing query-status instead.\n`);
    return queryStatus.run(ctx, [], {});
  }
  const coord = await ctx.coord();
  const source = coordSource(coord);
  const store = new ReadModelStore(ctx.flags.cluster, {}, source.server ?? '');
  const stop = store.connect(source);
  io.stdout.write(ALT_SCREEN_ON);
  const app = render(createElement(App, { source: store, actions: coordActions(coord) }), {
    stdin: io.stdin,
    stdout: io.stdout,
    exitOnCtrlC: true,
    patchConsole: true,
  });
  const onTerm = () => app.unmount();
  process.once('SIGTERM', onTerm);
  process.once('SIGHUP', onTerm);
  try {
    await app.waitUntilExit();
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
    stop();
    io.stdout.write(ALT_SCREEN_OFF);
  }
  return Exit.ok;
}
