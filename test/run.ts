/**
 * `npm test`: runs the static checks (biome format + lint, tsc), then unit tests, then integration tests (real
 * mariadbd + nats-server started by test/harness) together with DM's own scenarios (test/conformance, issue #8) when
 * ../shared/dm-cases (or TSDM_DM_CASES) exists, with Node's own test runner. `npm test -- static`, `-- unit`,
 * `-- integration` or `-- conformance` runs one group; extra args are file filters (unit and integration).
 *
 * Integration files run in their own `node --test` process each, so that the closing summary can list every file's
 * wall time: the CI budget is watched from it. Each file starts its own servers on free ports, so two files can run
 * side by side (TSDM_TEST_JOBS, default 2): most of a file's time is spent waiting on servers and agents, not on the
 * CPU. Files that time faults, leases or failovers (SOLO) run alone afterwards, so a neighbour's load cannot stretch
 * what they measure. A file's output is printed whole when it ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { distProblem } from '../bin/dist.js';
import { ensureServers } from './harness/servers.ts';

function find(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (/\.test\.tsx?$/.test(e)) out.push(p);
  }
  return out.sort();
}

interface Timing {
  name: string;
  seconds: number;
  ok: boolean;
}

function runNodeTest(files: string[], concurrency: number): boolean {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
    { stdio: 'inherit', env: process.env },
  );
  return r.status === 0;
}

function timed(name: string, run: () => boolean, timings: Timing[]): boolean {
  const t0 = Date.now();
  const ok = run();
  timings.push({ name, seconds: (Date.now() - t0) / 1000, ok });
  return ok;
}

/**
 * Integration files that run with no other file beside them: they kill servers or agents and wait for leases,
 * heartbeats and reconnects within bounds set for a quiet 2-core machine, or measure memory.
 */
const SOLO = [
  'big-txn.test',
  'chaos',
  'cluster-',
  'failover',
  'lifecycle.test',
  'relay-crash.test',
  'shard-crash.test',
  'shard-two-agents.test',
  'verify-hold.test',
  'writer-reconnect.test',
];

/** One integration file in its own `node --test` process, its output kept and printed whole when it ends. */
function runFileAsync(file: string): Promise<boolean> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('close', (code) => {
      process.stdout.write(`\n-- ${file}\n`);
      process.stdout.write(Buffer.concat(chunks));
      done(code === 0);
    });
  });
}

/**
 * Runs files `jobs` at a time, then the SOLO ones one at a time; every file's wall time goes into `timings`. `first`
 * (DM's scenarios, the longest file) starts before the others.
 */
async function runIntegration(files: string[], jobs: number, timings: Timing[], first: string[]): Promise<boolean> {
  const solo = files.filter((f) => SOLO.some((s) => f.includes(s)));
  const shared = [...first, ...files.filter((f) => !solo.includes(f))];
  let ok = true;
  const one = async (f: string): Promise<void> => {
    const t0 = Date.now();
    const fileOk = await runFileAsync(f);
    timings.push({ name: f, seconds: (Date.now() - t0) / 1000, ok: fileOk });
    if (!fileOk) ok = false;
  };
  const queue = [...shared];
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) await one(f);
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  for (const f of solo) await one(f);
  return ok;
}

const GROUPS = ['static', 'unit', 'integration', 'conformance'];

/** A tool from node_modules/.bin, run to completion with its output shown. */
function runBin(bin: string, binArgs: string[]): boolean {
  const r = spawnSync(join('node_modules', '.bin', bin), binArgs, { stdio: 'inherit', env: process.env });
  return r.status === 0;
}
const args = process.argv.slice(2);
const groups = args.filter((a) => GROUPS.includes(a));
const filters = args.filter((a) => !GROUPS.includes(a));
const want = groups.length ? groups : filters.length ? ['unit', 'integration'] : GROUPS;
// Integration tests and DM's scenarios start private mariadbd and nats-server: install them or stop now with the
// command to run, before minutes of static checks and unit tests.
if (want.includes('integration') || want.includes('conformance')) ensureServers('npm test');
const timings: Timing[] = [];
let failed = false;
let built = false;
/**
 * Integration and conformance tests spawn the bins, which run the compiled dist/ (bin/dist.js): build it once first
 * unless it is up to date (tsc incremental: 5-6 CPU-s when little changed) and make the bins refuse the tsx fallback, so tests run what
 * users run.
 */
function build(): boolean {
  if (built) return true;
  process.env['TSDM_REQUIRE_DIST'] = '1';
  if (distProblem() === undefined) return (built = true);
  console.log('\n== build: tsc -p tsconfig.build.json (dist/ for the bins the tests spawn)');
  built = timed(
    'build (dist/)',
    () => spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', env: process.env }).status === 0,
    timings,
  );
  return built;
}
const CONFORMANCE_FILE = join('test', 'conformance', 'conformance.test.ts');
const conformanceWithIntegration = want.includes('conformance') && want.includes('integration') && filters.length === 0;
/** DM's cases (../shared/dm-cases or TSDM_DM_CASES), exported to the test process; undefined (and said) when absent. */
function conformanceDir(): string | undefined {
  // One test file drives the runner over every case; rows that need shard merge are reported as TODO, not hidden.
  const dir = resolve(process.env['TSDM_DM_CASES'] ?? join('..', 'shared', 'dm-cases'));
  if (!existsSync(dir)) {
    console.log(
      `\n== conformance: skipped, DM's cases not found at ${dir} (set TSDM_DM_CASES to a folder laid out like tiflow dm/tests/<case>/{conf,data}; users' clones do not have them)`,
    );
    return undefined;
  }
  process.env['TSDM_DM_CASES'] = dir;
  return dir;
}
for (const g of want) {
  if ((g === 'integration' || g === 'conformance') && !build()) {
    failed = true;
    break;
  }
  if (g === 'static') {
    // Format, lint (unused code, `any` without a reason) and types before anything runs: CI goes red on each.
    console.log('\n== static checks: biome ci (format + lint), tsc --noEmit');
    if (!timed('static: biome ci', () => runBin('biome', ['ci', '.']), timings)) failed = true;
    if (!timed('static: tsc --noEmit', () => runBin('tsc', ['--noEmit', '-p', '.']), timings)) failed = true;
    continue;
  }
  if (g === 'conformance') {
    if (conformanceWithIntegration) continue;
    const dir = conformanceDir();
    if (dir === undefined) continue;
    console.log(`\n== conformance (DM's scenarios from ${dir})`);
    if (!timed('conformance', () => runNodeTest([CONFORMANCE_FILE], 1), timings)) failed = true;
    continue;
  }
  const files = find(join('test', g))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .map((f) => relative('.', f));
  if (files.length === 0) continue;
  console.log(`\n== ${g} tests (${files.length} files)`);
  if (g === 'unit') {
    if (!timed('unit (all files)', () => runNodeTest(files, 4), timings)) failed = true;
    continue;
  }
  const jobs = Number(process.env['TSDM_TEST_JOBS'] ?? 2);
  console.log(`(${jobs} files at a time; ${SOLO.join(', ')} alone; TSDM_TEST_JOBS sets it)`);
  // DM's scenarios run beside the integration files when both groups run (`npm test`): the longest file, first.
  const dir = conformanceWithIntegration ? conformanceDir() : undefined;
  if (dir) console.log(`(with DM's scenarios from ${dir}: ${CONFORMANCE_FILE})`);
  const t0 = Date.now();
  if (!(await runIntegration(files, jobs, timings, dir ? [CONFORMANCE_FILE] : []))) failed = true;
  console.log(`\n== integration: ${((Date.now() - t0) / 1000).toFixed(0)} s wall`);
}
if (timings.length > 1) {
  const total = timings.reduce((s, t) => s + t.seconds, 0);
  console.log(`\n== wall time per group/file (${total.toFixed(0)} s summed; files may overlap), slowest first`);
  for (const t of [...timings].sort((a, b) => b.seconds - a.seconds))
    console.log(`${t.seconds.toFixed(1).padStart(8)} s  ${t.ok ? 'ok  ' : 'FAIL'}  ${t.name}`);
}
process.exit(failed ? 1 : 0);
