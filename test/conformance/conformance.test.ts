/**
 * DM's own integration scenarios (../shared/dm-cases, see its README) against tsdm, through the conformance
 * runner (run.ts); `npm test` runs this file after the integration tests. Skipped with a message when the folder is
 * absent: users' clones do not have it. TSDM_DM_CASES points elsewhere; TSDM_CONFORMANCE_REPORT=path also writes
 * the Markdown report there.
 *
 * One subtest per row (case, task file, run.sh flow). A row that fails only because its task file asks for shard
 * merge (`is-sharding: true` / `shard-mode`, issue #6) is a TODO subtest: it is listed with its reason in the
 * output, it does not fail `npm test`, and it turns into an ordinary row as soon as shard merge is accepted.
 * Every other failure fails the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { counts, renderConsoleTable } from './report.ts';
import { DEFAULT_CASES_DIR, runConformance } from './run.ts';

/**
 * Rows known to fail, each with its reason: reported as TODO (listed in the output and in docs/conformance.md), not
 * hidden. Remove an entry when its row passes.
 */
const KNOWN_FAILURES: Record<string, string> = {};

const casesDir = resolve(process.env['TSDM_DM_CASES'] ?? DEFAULT_CASES_DIR);
const skip = existsSync(casesDir)
  ? false
  : `DM's cases not found at ${casesDir} (set TSDM_DM_CASES to a folder laid out like tiflow dm/tests/<case>/{conf,data}); users' clones do not have them`;

test('DM conformance: every case of dm-cases passes or is skipped for a TiDB/MySQL-8-only reason', {
  skip,
  timeout: 20 * 60_000,
}, async (t) => {
  const report = process.env['TSDM_CONFORMANCE_REPORT'];
  const run = await runConformance({ casesDir, ...(report ? { report: resolve(report) } : {}) });
  const c = counts(run.results);
  console.log(
    `\n${renderConsoleTable(run.results)}\n${c.pass} passed, ${c.fail} failed, ${c.skip} skipped in ${run.totalSeconds.toFixed(0)} s`,
  );
  for (const r of run.results) {
    const name = `${r.caseName} ${r.task}${r.label ? ` (${r.label})` : ''}`;
    const known = KNOWN_FAILURES[`${r.caseName} ${r.task}`];
    const todo = r.result === 'fail' && known ? `known failure: ${known}: ${r.reason}` : undefined;
    await t.test(
      name,
      { ...(todo ? { todo } : {}), ...(r.result === 'skip' ? { skip: r.reason ?? 'skipped' } : {}) },
      () => {
        if (r.result === 'fail') assert.fail(r.reason ?? 'failed');
      },
    );
  }
  const failed = run.results.filter((r) => r.result === 'fail' && !KNOWN_FAILURES[`${r.caseName} ${r.task}`]);
  assert.equal(
    failed.length,
    0,
    `${failed.length} conformance scenario(s) failed:\n${failed.map((r) => `  ${r.caseName} ${r.task}${r.label ? ` (${r.label})` : ''}: ${r.reason}`).join('\n')}`,
  );
});
