/**
 * `npm test`: runs the static checks (biome format + lint, tsc), then unit tests, then integration tests (real mariadbd + nats-server started by test/harness), then
 * DM's own scenarios (test/conformance, issue #8) when ../shared/dm-cases (or TSDM_DM_CASES) exists, with Node's
 * own test runner. `npm test -- static`, `-- unit`, `-- integration` or `-- conformance` runs one group; extra args are file
 * filters (unit and integration).
 *
 * Integration files run one at a time (each starts its own servers; a 2-core machine stays responsive), each in its
 * own `node --test` process so that the closing summary can list every file's wall time: the CI budget is watched
 * from it.
 */
import { spawnSync } from 'node:child_process';
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
    // One test file drives the runner over every case; rows that need shard merge are reported as TODO, not hidden.
    const dir = resolve(process.env['TSDM_DM_CASES'] ?? join('..', 'shared', 'dm-cases'));
    if (!existsSync(dir)) {
      console.log(
        `\n== conformance: skipped, DM's cases not found at ${dir} (set TSDM_DM_CASES to a folder laid out like tiflow dm/tests/<case>/{conf,data}; users' clones do not have them)`,
      );
      continue;
    }
    console.log(`\n== conformance (DM's scenarios from ${dir})`);
    process.env['TSDM_DM_CASES'] = dir;
    if (!timed('conformance', () => runNodeTest([join('test', 'conformance', 'conformance.test.ts')], 1), timings))
      failed = true;
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
  for (const f of files) if (!timed(f, () => runNodeTest([f], 1), timings)) failed = true;
}
if (timings.length > 1) {
  const total = timings.reduce((s, t) => s + t.seconds, 0);
  console.log(`\n== wall time per group/file (${total.toFixed(0)} s in all), slowest first`);
  for (const t of [...timings].sort((a, b) => b.seconds - a.seconds))
    console.log(`${t.seconds.toFixed(1).padStart(8)} s  ${t.ok ? 'ok  ' : 'FAIL'}  ${t.name}`);
}
process.exit(failed ? 1 : 0);
