// Which code the bins run: the compiled JavaScript in dist/ (`npm run build`, run by `npm ci` through `prepare`)
// when it is there and no newer than the TypeScript sources; otherwise the sources through tsx (a checkout being
// edited). No TypeScript is compiled at start-up on the first path, which is what users run.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
/** Written by `npm run build` after tsc succeeded: its mtime is the build's time. */
export const STAMP = join(DIST, '.build-stamp');
const SOURCE_DIRS = ['src', 'agent', 'tui'];
/**
 * Entries that `npm run build` also bundles (scripts/bundle.mjs, esbuild) into dist/bundle/: a few chunks load in about
 * half the CPU of dist/'s hundreds of modules (issue #18, the dashboard's first paint). The bundle is made from the
 * same build's dist/ before the stamp is written, so the stamp's check covers it too.
 */
const BUNDLED = { 'tui/main': 'bundle/main' };

function newestSource(dir, newest) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return newest; // an installed package may carry dist/ only
  }
  for (const e of entries) {
    // Concatenated, not path.join: join normalises every path, a tenth of `dmctl --help`'s CPU for ~250 files.
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = newestSource(p, newest);
    else if (/\.tsx?$/.test(e.name)) {
      const m = statSync(p).mtimeMs;
      if (m > newest.mtimeMs) newest = { mtimeMs: m, path: p };
    }
  }
  return newest;
}

/**
 * Why dist/ cannot be used (missing, or a source edited after the last build), or undefined when it can.
 * About 2 ms for the repository's ~250 sources.
 */
export function distProblem() {
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return `${DIST} is not built (run npm run build)`;
  }
  let newest = { mtimeMs: 0, path: '' };
  for (const d of SOURCE_DIRS) newest = newestSource(join(ROOT, d), newest);
  if (newest.mtimeMs > built) return `${newest.path} is newer than the build in ${DIST} (run npm run build)`;
  return undefined;
}

/** The file of dist/ that runs `entry`: its bundle when built (see BUNDLED), else tsc's output. */
function distFile(entry) {
  const bundled = BUNDLED[entry];
  if (bundled && existsSync(join(DIST, `${bundled}.js`))) return join(DIST, `${bundled}.js`);
  return join(DIST, `${entry}.js`);
}

/**
 * Runs `entry` (e.g. 'tui/main'): its bundle in dist/bundle/ or dist/ENTRY.js when dist/ is usable; else ENTRY.ts
 * through tsx, saying why on stderr, or exits 2 when TSDM_REQUIRE_DIST=1 (the test runner sets it: tests must run
 * what users run).
 */
export async function run(entry) {
  const problem = distProblem();
  if (!problem) {
    await import(pathToFileURL(distFile(entry)).href);
    return;
  }
  if (process.env.TSDM_REQUIRE_DIST === '1') {
    process.stderr.write(`tsdm: TSDM_REQUIRE_DIST=1 and ${problem}\n`);
    process.exit(2);
  }
  process.stderr.write(`tsdm: ${problem}; running the TypeScript sources through tsx (slower start)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL(`../${entry}.ts`, import.meta.url).href);
}
