/**
 * tsdm's benchmarks against native baselines, measured in one run on the same data (DESIGN.md §6, issue #14).
 *
 *   npm run bench -- incremental|ceiling|full|lag|scale|cli|all [--flags]
 *
 * Each workload starts its own servers (test/harness), prints progress to stderr and one result line per workload
 * to stdout, ending in `equal` or `FAIL`; the exit code is 1 when any copy differs or a workload failed.
 * bench/README.md describes what each measures and keeps the last results.
 */
import { cpus, loadavg } from 'node:os';
import { runCli } from './cli.ts';
import { runCeiling } from './ceiling.ts';
import { runFull } from './full.ts';
import { runIncremental } from './incremental.ts';
import { runLag } from './lag.ts';
import { runScale } from './scale.ts';
import { startEnv } from './lib/env.ts';
import { note } from './lib/report.ts';

const USAGE = `usage: npm run bench -- incremental|ceiling|full|lag|scale|cli|all [flags]
  incremental   --rows N (200000) --txns N (40000 single-row txns) --changes100 N (300000) --conns N (4)
  ceiling       --rows N (200000) --changes100 N (300000) --conns N (4): tsdm's 100-row catch-up statements replayed
                without the agent, from its writers' connections and from one, beside the native replica
  full          --full-rows N (1020000, over 5 tables) --threads N (tsdm's defaults: dump 4, load 16)
  lag           --lag-rate N (5000 rows/s) --lag-seconds N (30; 20 in all)
  scale         --tables N (1000) --tasks N (100; 50 in all) --max-connections N (4000, the downstream's max_connections)
  cli           --runs N (10): medians of dmctl --help, query-status --json, the dashboard's first paint, dm-agent ready
  all           every workload above, each with its defaults (or the flags given)`;

/** `all` keeps to about 4 minutes on a 2-core box: a shorter lag run and 50 tasks instead of 100. */
const ALL = process.argv[2] === 'all';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number\n${USAGE}`);
  return v;
}

interface Outcome {
  lines: string[];
  ok: boolean;
}

async function incremental(): Promise<Outcome> {
  const env = await startEnv();
  try {
    const rows = flag('rows', 200_000);
    const conns = flag('conns', 4);
    const one = await runIncremental(env, 'incremental-1row', 'inc1', {
      rows,
      changes: flag('txns', 40_000),
      rowsPerTxn: 1,
      conns,
    });
    console.log(one.line);
    const hundred = await runIncremental(env, 'incremental-100row', 'inc100', {
      rows,
      changes: flag('changes100', 300_000),
      rowsPerTxn: 100,
      conns,
    });
    console.log(hundred.line);
    return { lines: [one.line, hundred.line], ok: one.ok && hundred.ok };
  } finally {
    await env.stop();
  }
}

async function ceiling(): Promise<Outcome> {
  const env = await startEnv();
  try {
    const r = await runCeiling(env, {
      rows: flag('rows', 200_000),
      changes: flag('changes100', 300_000),
      rowsPerTxn: 100,
      conns: flag('conns', 4),
    });
    console.log(r.line);
    return { lines: [r.line], ok: r.ok };
  } finally {
    await env.stop();
  }
}

async function full(): Promise<Outcome> {
  const threads = process.argv.includes('--threads') ? flag('threads', 0) : undefined;
  const r = await runFull({ rows: flag('full-rows', 1_020_000), ...(threads ? { threads } : {}) });
  console.log(r.line);
  for (const l of r.extra) console.log(l);
  return { lines: [r.line, ...r.extra], ok: r.ok };
}

async function lag(): Promise<Outcome> {
  const r = await runLag({ rate: flag('lag-rate', 5000), seconds: flag('lag-seconds', ALL ? 20 : 30) });
  console.log(r.line);
  return { lines: [r.line], ok: r.ok };
}

async function scale(): Promise<Outcome> {
  const r = await runScale({
    tables: flag('tables', 1000),
    tasks: flag('tasks', ALL ? 50 : 100),
    maxConnections: flag('max-connections', 4000),
  });
  for (const l of r.lines) console.log(l);
  return r;
}

async function cli(): Promise<Outcome> {
  return runCli({ runs: flag('runs', 10) });
}

const WORKLOADS: Record<string, () => Promise<Outcome>> = { incremental, ceiling, full, lag, scale, cli };

async function main(): Promise<number> {
  const what = process.argv[2];
  if (!what || (what !== 'all' && !WORKLOADS[what])) {
    console.error(USAGE);
    return 2;
  }
  const names = what === 'all' ? Object.keys(WORKLOADS) : [what];
  const t0 = performance.now();
  const all: string[] = [];
  let ok = true;
  for (const n of names) {
    note(`workload ${n}`);
    const load0 = loadavg()[0]!;
    try {
      const r = await WORKLOADS[n]!();
      // Others' processes on a shared box skew a run: say how busy it was (load average over 1 min, 2 cores here).
      const load = `${' '.repeat(21)}(machine load average before/after: ${load0.toFixed(1)} / ${loadavg()[0]!.toFixed(1)}, ${cpus().length} cores)`;
      console.log(load);
      all.push(...r.lines, load);
      ok &&= r.ok;
    } catch (err) {
      const line = `${n.padEnd(20)} FAIL: ${err instanceof Error ? err.message : String(err)}`;
      console.log(line);
      all.push(line);
      ok = false;
    }
  }
  if (names.length > 1) {
    console.log(`\nsummary (${((performance.now() - t0) / 1000).toFixed(0)} s, ${new Date().toISOString()})`);
    for (const l of all) console.log(l);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
