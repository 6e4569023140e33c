/**
 * Server processes started by the test harness: finding binaries, spawning with output to a log file, and making
 * sure no server outlives the test process.
 *
 * Three layers, because a leaked mariadbd keeps 200 MB and a port until the machine reboots:
 *  1. normal exit of the test process: the 'exit' handler SIGKILLs every tracked child;
 *  2. SIGINT/SIGTERM/SIGHUP (Ctrl-C, test-runner timeout): the same, then the signal's default action;
 *  3. SIGKILL of the test process (no handler runs): a small detached `sh` watchdog holds the read end of a pipe
 *     from us; when we die the pipe closes and it SIGKILLs the pids listed in a file we keep up to date.
 *     A pid leaves the file as soon as we see its process exit, so a recycled pid is never killed.
 * Temp dirs registered with `registerTempDir` are removed by all three layers too (unless TSDM_KEEP_TEST_DATA=1),
 * so a crashed test run does not leave 100+ MB per mariadbd in /tmp.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let pidFile: string | undefined;
let handlersInstalled = false;

/** Watchdog file: line 1 the live pids, then one temp dir per line. */
function writePids(): void {
  if (!pidFile) return;
  const pids = [...live].map((c) => c.pid).filter((p): p is number => typeof p === 'number');
  try {
    writeFileSync(pidFile, [pids.join(' '), ...tempDirs].join('\n') + '\n');
  } catch {
    /* tmp dir gone: the watchdog will find nothing to kill, the exit handler still works */
  }
}

function killAllNow(): void {
  for (const c of live) {
    try {
      if (c.pid) process.kill(c.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
  writePids();
}

/** Removes `dir` if the test process dies before the owner's stop() does (no-op with TSDM_KEEP_TEST_DATA=1). */
export function registerTempDir(dir: string): void {
  if (!shouldRemoveData()) return;
  installHandlers();
  tempDirs.add(dir);
  writePids();
}

export function unregisterTempDir(dir: string): void {
  tempDirs.delete(dir);
  writePids();
}

function onSignal(sig: NodeJS.Signals): void {
  killAllNow();
  process.removeListener(sig, onSignal);
  // Only re-raise when nobody else handles the signal, so an application (the demo) keeps its own behaviour.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

// Blocks until our end of its stdin closes (we exited, however), then kills and cleans what the file lists.
// Only dirs named tsdm-test-* are removed, whatever the file says.
const WATCHDOG = `
cat >/dev/null
f="$1"
[ -f "$f" ] || exit 0
p=$(head -n 1 "$f")
[ -n "$p" ] && kill -9 $p 2>/dev/null && sleep 0.5
tail -n +2 "$f" | while IFS= read -r d; do case "$d" in */tsdm-test-*) rm -rf -- "$d" ;; esac; done
rm -f "$f"
`;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    killAllNow();
    if (pidFile) rmSync(pidFile, { force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  pidFile = join(tmpdir(), `tsdm-reaper-${process.pid}.pids`);
  writePids();
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'tsdm-reaper', pidFile], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.on('error', () => {
    /* no sh: layers 1 and 2 still apply */
  });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
}

/** Where distributions put servers (not always in a user's PATH: /usr/sbin on Debian). */
export const SERVER_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin'];

/**
 * Folders searched for mariadbd, mariadb-install-db and nats-server: TSDM_SERVER_PATH (colon-separated) when set, for
 * servers built or unpacked elsewhere, else PATH then SERVER_DIRS.
 */
export function serverSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env.TSDM_SERVER_PATH;
  const dirs = own ? own.split(delimiter) : [...(env.PATH ?? '').split(delimiter), ...SERVER_DIRS];
  return dirs.filter((d) => d !== '');
}

/** Path of an executable in `dirs`, or undefined. */
export function locateBinary(name: string, dirs: readonly string[] = serverSearchDirs()): string | undefined {
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Path of a server binary (serverSearchDirs); throws saying how to install it. */
export function findBinary(name: string): string {
  const p = locateBinary(name);
  if (p) return p;
  throw new Error(
    `${name} not found in ${process.env.TSDM_SERVER_PATH ? 'TSDM_SERVER_PATH' : 'PATH or /usr/sbin:/usr/bin'}; install it: sudo bash scripts/install-servers.sh (apt-get install mariadb-server mariadb-client nats-server)`,
  );
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a server with stdout and stderr appended to `logFile`; it is killed if the test process dies. */
export function spawnServer(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Spawned {
  installHandlers();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  writePids();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      live.delete(child);
      writePids();
      resolve({ code, signal });
    };
    child.once('exit', done);
    child.once('error', () => done(null, null));
  });
  return { child, exited };
}

/** Sends `signal`, then SIGKILL if the process has not exited after `graceMs`. */
export async function stopProcess(s: Spawned, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  try {
    s.child.kill(signal);
  } catch {
    /* gone */
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
  const r = await Promise.race([s.exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') {
    s.child.kill('SIGKILL');
    await s.exited;
  }
}

/** Last `lines` lines of a log file, for error messages. */
export function tailFile(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${path})`;
  }
}

/** True unless TSDM_KEEP_TEST_DATA=1 asks to keep data dirs for a post-mortem. */
export function shouldRemoveData(): boolean {
  return process.env.TSDM_KEEP_TEST_DATA !== '1';
}
