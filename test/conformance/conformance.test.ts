/**
 * DM's own integration scenarios (../shared/dm-cases, see its README) against tsdm, through the conformance
 * runner (run.ts). Skipped with a message when the folder is absent: users' clones do not have it.
 * TSDM_DM_CASES points elsewhere; TSDM_CONFORMANCE_REPORT=path also writes the Markdown report there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { counts, renderConsoleTable } from './report.ts';
import { DEFAULT_CASES_DIR, runConformance } from './run.ts';

const casesDir = resolve(process.env['TSDM_DM_CASES'] ?? DEFAULT_CASES_DIR);
const skip = existsSync(casesDir)
  ? false
  : `DM's cases not found at ${casesDir} (set TSDM_DM_CASES to a folder laid out like tiflow dm/tests/<case>/{conf,data}); users' clones do not have them`;

test('DM conformance: every case of dm-cases passes or is skipped for a TiDB/MySQL-8-only reason', { skip, timeout: 20 * 60_000 }, async () => {
  const report = process.env['TSDM_CONFORMANCE_REPORT'];
  const run = await runConformance({ casesDir, ...(report ? { report: resolve(report) } : {}) });
  const c = counts(run.results);
  console.log(`\n${renderConsoleTable(run.results)}\n${c.pass} passed, ${c.fail} failed, ${c.skip} skipped in ${run.totalSeconds.toFixed(0)} s`);
  const failed = run.results.filter((r) => r.result === 'fail');
  assert.equal(failed.length, 0, `${failed.length} conformance scenario(s) failed:\n${failed.map((r) => `  ${r.caseName} ${r.task}${r.label ? ` (${r.label})` : ''}: ${r.reason}`).join('\n')}`);
});
