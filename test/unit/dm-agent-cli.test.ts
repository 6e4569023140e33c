/** dm-agent's command line: --help, and a config error that exits 2 with a coded message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/dm-agent.js', import.meta.url));

test('dm-agent --help documents every flag', () => {
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const f of [
    '--name',
    '--nats',
    '--cluster',
    '--data-dir',
    '--config',
    '--config-if-exists',
    'TSDM_NATS',
    '--nats-creds',
    '--nats-tls-ca',
    '--metrics-addr',
    'TSDM_METRICS_ADDR',
    '--log-level',
    '--log-format',
    '--log-file',
    '--log-file-max-size',
    '--log-file-keep',
    'TSDM_LOG_FILE',
  ])
    assert.ok(r.stdout.includes(f), f);
});

test('dm-agent with a bad --config exits 2 with a coded error', () => {
  const r = spawnSync(process.execPath, [bin, '--config', '/nonexistent/agent.yaml'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /\[TSDM-1000\d\]/);
});

test('dm-agent --config-if-exists to a missing file skips it (no file error); --config stays an error', () => {
  // --nats to a closed port with a bad cluster name: the config is loaded (no file error), then refused on the
  // cluster name, which proves the missing file was skipped without waiting for NATS.
  const r = spawnSync(process.execPath, [bin, '--config-if-exists', '/nonexistent/agent.yaml', '--cluster', 'a b'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--cluster: cluster name/);
  assert.doesNotMatch(r.stderr, /cannot read agent config/);
});

test('dm-agent refuses a flag it does not define, and a secret as a flag, with exit 2', () => {
  const r = spawnSync(process.execPath, [bin, '--nats-tokn', 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown flag --nats-tokn/);
  const s = spawnSync(process.execPath, [bin, '--nats-password', 'hunter2'], { encoding: 'utf8' });
  assert.equal(s.status, 2, s.stderr);
  assert.match(s.stderr, /--nats-password is not a flag/);
  assert.ok(!s.stderr.includes('hunter2'));
});

test('dm-agent with --metrics-addr on a port in use exits 2 with TSDM-10045 at start, no stack trace', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
      const c = spawn(process.execPath, [bin, '--metrics-addr', `127.0.0.1:${port}`, '--nats', 'nats://127.0.0.1:1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('exit', (code) => res({ code, stderr }));
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\[TSDM-10045\].*in use/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
