/** Acceptance 6 (issue #2): `npm run demo` reaches the synced state (run headless for a bounded time). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('npm run demo reaches the synced state and stops cleanly', { timeout: 300_000 }, () => {
  const r = spawnSync('npm', ['run', '--silent', 'demo'], {
    env: { ...process.env, TSDM_DEMO_SECONDS: '4', TSDM_DEMO_TIMEOUT: '180' },
    encoding: 'utf8',
    timeout: 280_000,
  });
  assert.equal(r.status, 0, `demo exited ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /SYNCED: the downstream caught up/);
  assert.match(r.stdout, /task shop-migration/);
  assert.match(r.stdout, /stopping everything/);
});
