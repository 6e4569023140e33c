/**
 * `npm test`: runs unit tests, then integration tests (real mariadbd + nats-server started by test/harness),
 * with Node's own test runner. `npm test -- unit` or `-- integration` runs one group; extra args are file filters.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function find(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (/\.test\.tsx?$/.test(e)) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const groups = args.filter((a) => a === 'unit' || a === 'integration');
const filters = args.filter((a) => a !== 'unit' && a !== 'integration');
const want = groups.length ? groups : ['unit', 'integration'];
let failed = false;
for (const g of want) {
  const files = find(join('test', g)).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  if (files.length === 0) continue;
  console.log(`\n== ${g} tests (${files.length} files)`);
  // Integration tests start their own servers; one file at a time keeps a 2-core machine responsive.
  const conc = g === 'integration' ? '1' : '4';
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${conc}`, '--test-reporter=spec', ...files.map((f) => relative('.', f))], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
