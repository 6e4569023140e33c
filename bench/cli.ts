/**
 * `npm run bench -- cli` (issue #18, fast start): how long users wait for tsdm's programs to start, medians of N runs
 * (10 by default) of the bins as users run them (bin/dmctl.js, bin/dm-agent.js on the compiled dist/):
 *
 * - `dmctl --help`: spawn to exit.
 * - `dmctl query-status --json` against a live cluster (NATS, one agent, one running task): spawn to exit; the
 *   document must list the task.
 * - the dashboard's first paint with data: `dmctl` on a terminal (a private tmux server, 120x40), from starting the
 *   session to the first screen that shows the task's name (the pane polled every 10 ms).
 * - `dm-agent` ready: spawn of a second agent to its `agent started` log line (printed after it registered as a
 *   member), read from its stdout as it is written; then it is stopped (SIGTERM) and waited for.
 *
 * Each line also gives the median CPU seconds (user + system) of the process measured: on a shared 2-core box the
 * wall time moves with other work, the CPU much less.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNodeFlags, requireDist, runToExit } from '../test/harness/index.ts';
import { childrenCpuSeconds, cpuSeconds } from './lib/cpu.ts';
import { startEnv, taskYaml, onEach } from './lib/env.ts';
import { note } from './lib/report.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DMCTL = join(ROOT, 'bin', 'dmctl.js');
const AGENT = join(ROOT, 'bin', 'dm-agent.js');
const TASK = 'clibench';

interface Sample {
  ms: number;
  cpu: number | undefined;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function line(name: string, goalMs: number, samples: Sample[]): string {
  const ms = median(samples.map((s) => s.ms));
  const cpus = samples.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]));
  const cpu = cpus.length ? `  CPU ${(median(cpus) * 1000).toFixed(0)} ms` : '';
  const range = `min ${Math.min(...samples.map((s) => s.ms)).toFixed(0)} max ${Math.max(...samples.map((s) => s.ms)).toFixed(0)}`;
  return `${name.padEnd(28)} median ${ms.toFixed(0)} ms (${range}, n=${samples.length})${cpu}  goal <= ${goalMs} ms ${ms <= goalMs ? 'met' : 'NOT met'}`;
}

/** Runs node ARGS to its exit (status 0 or a rejection); wall time and the child's CPU (waited-for children, before/after). */
async function timedRun(args: string[]): Promise<Sample & { stdout: string }> {
  const cpu0 = childrenCpuSeconds();
  const r = await runToExit(process.execPath, args, { cwd: ROOT });
  const cpu1 = childrenCpuSeconds();
  if (r.code !== 0) throw new Error(`node ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return { ms: r.ms, cpu: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined, stdout: r.stdout };
}

async function agentReady(nats: string, i: number): Promise<Sample> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsdm-bench-cli-agent-'));
  const t0 = performance.now();
  const c = spawn(
    process.execPath,
    [...agentNodeFlags(), AGENT, '--name', `cli-ready-${i}`, '--nats', nats, '--data-dir', dataDir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  try {
    return await new Promise<Sample>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`dm-agent did not start within 60 s:\n${out.slice(-2000)}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d;
        if (out.includes('"msg":"agent started"')) {
          const ms = performance.now() - t0;
          clearTimeout(t);
          res({ ms, cpu: cpuSeconds(c.pid) });
        }
      };
      c.stdout.on('data', onData);
      c.stderr.on('data', onData);
      c.on('exit', (code) => rej(new Error(`dm-agent exited ${code} before it started:\n${out.slice(-2000)}`)));
    });
  } finally {
    await new Promise<void>((res) => {
      if (c.exitCode !== null || c.signalCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGTERM');
    });
    // A gracefully stopped agent deletes its member key; the next run starts a fresh name anyway.
  }
}

async function dashboardPaint(nats: string, i: number): Promise<Sample> {
  // A socket per run: a server still exiting from `kill-server` of the last run would refuse the next session.
  const socket = `tsdm-bench-cli-${process.pid}-${i}`;
  const tmux = (...a: string[]) => execFileSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  const session = `d${i}`;
  // `exec`: the pane's process is dmctl itself, so its CPU can be read at the first paint.
  const cmd = `exec env -u CI TERM=xterm-256color TSDM_REQUIRE_DIST=1 ${process.execPath} ${DMCTL} --nats ${nats} --cluster dm`;
  const t0 = performance.now();
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', cmd);
  try {
    const pid = Number(tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim());
    let screen = '';
    while (performance.now() - t0 < 60_000) {
      screen = tmux('capture-pane', '-p', '-t', session);
      if (screen.includes(TASK)) return { ms: performance.now() - t0, cpu: cpuSeconds(pid) };
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`the dashboard did not show task ${TASK} within 60 s; screen:\n${screen}`);
  } finally {
    try {
      tmux('kill-server');
    } catch {
      /* already gone */
    }
  }
}

export async function runCli(opts: { runs: number }): Promise<{ lines: string[]; ok: boolean }> {
  requireDist();
  const n = opts.runs;
  const help: Sample[] = [];
  for (let i = 0; i < n; i++) help.push(await timedRun([DMCTL, '--help']));
  note(`dmctl --help x${n} done; starting NATS, mariadbd x2, an agent and a task`);
  const env = await startEnv({ baseline: false });
  try {
    await onEach([env.up], `CREATE DATABASE cli; CREATE TABLE cli.t (id INT PRIMARY KEY, v VARCHAR(20))`);
    await env.up.query(`INSERT INTO cli.t VALUES (1, 'a'), (2, 'b')`);
    await env.startTask(
      taskYaml(TASK, 'all', env.down, 'block-allow-list: b', 'block-allow-list:\n  b:\n    do-dbs: ["cli"]\n'),
    );
    const t0 = performance.now();
    for (;;) {
      const s = await env.status(TASK);
      if (s?.stage === 'Running' && s.unit === 'sync') break;
      if (s?.error && s.stage === 'Paused') throw new Error(`task ${TASK} paused: ${s.error.code} ${s.error.message}`);
      if (performance.now() - t0 > 120_000) throw new Error(`task ${TASK} not syncing after 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const status: Sample[] = [];
    for (let i = 0; i < n; i++) {
      const r = await timedRun([DMCTL, '--nats', env.natsUrl, '--cluster', 'dm', 'query-status', '--json']);
      if (!r.stdout.includes(`"${TASK}"`)) throw new Error(`query-status --json does not list ${TASK}:\n${r.stdout}`);
      status.push(r);
    }
    note(`query-status x${n} done`);
    const paint: Sample[] = [];
    for (let i = 0; i < n; i++) paint.push(await dashboardPaint(env.natsUrl, i));
    note(`dashboard x${n} done`);
    const ready: Sample[] = [];
    for (let i = 0; i < n; i++) ready.push(await agentReady(env.natsUrl, i));
    const lines = [
      line('cli dmctl --help', 150, help),
      line('cli query-status --json', 400, status),
      line('cli dashboard first paint', 1000, paint),
      line('cli dm-agent ready', 1000, ready),
    ];
    for (const l of lines) console.log(l);
    return { lines, ok: true };
  } finally {
    await env.stop();
  }
}
