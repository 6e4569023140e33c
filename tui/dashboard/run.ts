import { Exit, type CommandContext } from '../context.ts';
import { queryStatus } from '../commands/status.ts';
import { coordSource } from './coord-source.ts';
import { ReadModelStore } from './read-model-store.ts';

/**
 * How long the first frame waits for every bucket's current values. Past it the dashboard draws what it has (the
 * rest arrives with the next frames): a NATS server slow to answer one bucket must not leave the screen blank.
 */
const FIRST_FRAME_WAIT_MS = 2_000;

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
  // The UI modules (react, ink, the views: ~0.6 CPU-s to load) load while NATS connects and the buckets are read,
  // and the first frame is drawn once the whole cluster is read: one frame with data instead of several partial
  // ones (each ink frame of a full screen costs ~0.1 CPU-s).
  // React is CommonJS: in dmctl's bundle (scripts/bundle.mjs) a split chunk gives it as a default export only, so
  // its API is taken from `default` (node's own loader gives `default` too).
  const ui = Promise.all([
    import('react').then((m) => m.default),
    import('ink'),
    import('./App.tsx'),
    import('./actions.ts'),
  ]);
  ui.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled meanwhile
  const coord = await ctx.coord();
  const source = coordSource(coord);
  const store = new ReadModelStore(ctx.flags.cluster, {}, source.server ?? '');
  const stop = store.connect(source);
  io.stdout.write(
    `${ALT_SCREEN_ON}tsdm dashboard: reading cluster ${ctx.flags.cluster} from ${source.server ?? 'NATS'}…`,
  );
  const [{ createElement }, { render }, { App }, { coordActions }] = await ui;
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([store.ready, new Promise<void>((res) => (waited = setTimeout(res, FIRST_FRAME_WAIT_MS)))]);
  clearTimeout(waited);
  io.stdout.write('\x1b[2J\x1b[H');
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
