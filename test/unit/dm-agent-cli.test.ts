/** dm-agent's command line: --help, and a config error that exits 2 with a coded message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/dm-agent.js', import.meta.url));

test('dm-agent --help documents every flag', () => {
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['--name', '--nats', '--cluster', '--data-dir', '--config', 'TSDM_NATS'])
    assert.ok(r.stdout.includes(f), f);
});

test('dm-agent with a bad --config exits 2 with a coded error', () => {
  const r = spawnSync(process.execPath, [bin, '--config', '/nonexistent/agent.yaml'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /\[TSDM-1000\d\]/);
});
