/**
 * Runs tsdm's own binaries as real processes, the way users do: `dm-agent` daemons and `dmctl` commands.
 * Used by integration tests and the demo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MariaDBInstance } from './mariadb.ts';
import { distProblem } from '../../bin/dist.js';
import { runToExit } from './run-to-exit.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The node flags of bin/dm-agent.js's `#!/usr/bin/env -S node FLAGS` line: a bin started as `node bin/dm-agent.js`
 * skips that line, so the harness (and the benchmarks) pass them, and agents run as users' `dm-agent` runs.
 */
export function agentNodeFlags(): string[] {
  if (!shebangFlags) {
    const first = readFileSync(join(ROOT, 'bin', 'dm-agent.js'), 'utf8').split('\n', 1)[0]!;
    const m = /^#!\/usr\/bin\/env(?: -S)? node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first);
    if (!m) throw new Error(`bin/dm-agent.js: a shebang the harness does not know: ${first}`);
    shebangFlags = m[1]!.split(' ').filter(Boolean);
  }
  return [...shebangFlags];
}
/** Read once: every agent start (and restart) of a test file uses it. */
let shebangFlags: string[] | undefined;

/**
 * Tests run what users run: the bins on the compiled dist/ (bin/dist.js), never the tsx fallback. test/run.ts builds
 * before the integration and conformance groups; a test file run on its own after a source edit fails here, once,
 * naming the file newer than the build.
 */
let distChecked = false;
export function requireDist(): void {
  if (distChecked) return;
  const problem = distProblem();
  if (problem)
    throw new Error(
      `tests spawn the compiled bins: ${problem} (npm run build; npm test -- integration FILTER builds first)`,
    );
  distChecked = true;
  process.env.TSDM_REQUIRE_DIST = '1';
}
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export interface AgentProcess {
  name: string;
  logFile: string;
  pid(): number | undefined;
  /** SIGTERM and wait (graceful stop). */
  stop(): Promise<void>;
  /** SIGKILL and wait (crash). */
  kill(): Promise<void>;
  /** Start again with the same name, NATS and data dir. */
  restart(): Promise<void>;
  log(): string;
  /** Resolves once the agent has joined the cluster (its log says so); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the current process has exited (null if killed by a signal). */
  exited(): Promise<number | null>;
}

export function startAgent(opts: {
  name: string;
  nats: string;
  cluster?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** More flags (after the harness's own). */
  args?: string[];
}): AgentProcess {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `tsdm-agent-${opts.name}-`));
  const logFile = join(dataDir, 'agent.log');
  requireDist();
  let child: ChildProcess | undefined;
  const launch = () => {
    const out = createWriteStream(logFile, { flags: 'a' });
    child = spawn(
      process.execPath,
      [
        // Profiling an agent the harness starts (bench/README.md): NODE_OPTIONS may not carry --cpu-prof.
        ...(process.env.TSDM_AGENT_CPU_PROF_DIR
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.TSDM_AGENT_CPU_PROF_DIR]
          : []),
        ...agentNodeFlags(),
        join(ROOT, 'bin', 'dm-agent.js'),
        '--name',
        opts.name,
        '--nats',
        opts.nats,
        '--cluster',
        opts.cluster ?? 'dm',
        '--data-dir',
        dataDir,
        ...(opts.args ?? []),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TSDM_LOG_LEVEL: process.env.TSDM_LOG_LEVEL ?? 'info', ...opts.env },
      },
    );
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    live.add(child);
    const c = child;
    c.on('exit', () => live.delete(c));
  };
  const waitExit = (sig: NodeJS.Signals) =>
    new Promise<void>((res) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return res();
      c.once('exit', () => res());
      c.kill(sig);
    });
  launch();
  return {
    name: opts.name,
    logFile,
    pid: () => child?.pid,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    restart: async () => {
      await waitExit('SIGTERM');
      launch();
    },
    exited: () =>
      new Promise<number | null>((res) => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return res(c?.exitCode ?? null);
        c.once('exit', (code) => res(code));
      }),
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    ready: async (timeoutMs = 30_000) => {
      // The current process's own start line (pino writes its pid), so earlier launches never count.
      const t0 = Date.now();
      const marker = () => `"pid":${child?.pid},`;
      while (Date.now() - t0 < timeoutMs) {
        try {
          if (
            readFileSync(logFile, 'utf8')
              .split('\n')
              .some((l) => l.includes(marker()) && l.includes('"msg":"agent started"'))
          )
            return;
        } catch {
          /* not yet */
        }
        if (child && (child.exitCode !== null || child.signalCode !== null)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `agent ${opts.name} (pid ${child?.pid}) did not start within ${timeoutMs} ms:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    },
  };
}

export interface DmctlResult {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: dmctl --json documents differ per command; tests index them
  json: any;
}

/** Runs `dmctl ARGS` as a process; with `--json` in args, `json` is the parsed document. */
export async function dmctl(
  nats: string,
  args: string[],
  opts: { cluster?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<DmctlResult> {
  requireDist();
  const r = await runToExit(
    process.execPath,
    [join(ROOT, 'bin', 'dmctl.js'), '--nats', nats, '--cluster', opts.cluster ?? 'dm', ...args],
    { cwd: ROOT, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.env ? { env: opts.env } : {}) },
  );
  let json: unknown;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, json };
}

/** A source.yaml for a harness instance (what a user would write). */
export function sourceYaml(id: string, db: MariaDBInstance, extra = ''): string {
  return `source-id: ${id}\nflavor: mariadb\nenable-gtid: false\nenable-relay: false\nfrom:\n  host: 127.0.0.1\n  port: ${db.port}\n  user: root\n  password: "${db.password}"\n${extra}`;
}

export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-cfg-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
