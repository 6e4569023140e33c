/**
 * Issue #16 item 5: a nats-server started without -js. dmctl used to retry for 45 s and the agent for ~10 min
 * before saying anything useful; both now stop at their first JetStream request with TSDM-50040, which says
 * JetStream is off and how to turn it on. The waits are bounded (a process that still retries is killed and fails
 * the test), not timed. A graceful stop of an agent whose NATS is gone is bounded too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNodeFlags, requireDist, startNats, type NatsInstance } from '../harness/index.ts';
import { dmctl, startAgent } from '../harness/tsdm.ts';

/** Well below READ_RETRY_MS (45 s): a process still retrying by then is what this test is about. */
const BOUND_MS = 30_000;

let nats: NatsInstance;
before(async () => {
  nats = await startNats({ name: 'no-js', jetstream: false });
});
after(async () => {
  await nats?.stop();
});

test('dmctl against a NATS without JetStream fails at once with TSDM-50040, exit 3', { timeout: 120_000 }, async () => {
  const text = await dmctl(nats.url, ['list-member'], { timeoutMs: BOUND_MS });
  assert.equal(text.code, 3, text.stderr);
  assert.match(text.stderr, /\[TSDM-50040\]/);
  assert.match(text.stderr, /JetStream is not enabled/);
  assert.match(text.stderr, /-js/, 'says how to enable it');
  assert.doesNotMatch(text.stderr, /retrying/, 'no retry notice: it is not a transient outage');
  const json = await dmctl(nats.url, ['query-status', '--json'], { timeoutMs: BOUND_MS });
  assert.equal(json.code, 3, json.stdout);
  assert.equal(json.json?.error?.code, 'TSDM-50040');
});

test('dm-agent against a NATS without JetStream exits non-zero with TSDM-50040', { timeout: 120_000 }, async () => {
  requireDist();
  const dataDir = mkdtempSync(join(tmpdir(), 'tsdm-agent-nojs-'));
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const r = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    const c = execFile(
      process.execPath,
      [
        ...agentNodeFlags(),
        join(root, 'bin', 'dm-agent.js'),
        '--name',
        'nojs',
        '--nats',
        nats.url,
        '--data-dir',
        dataDir,
      ],
      { cwd: root, timeout: BOUND_MS, killSignal: 'SIGKILL' },
      (_err, _stdout, stderr) => resolve({ code: c.exitCode, signal: c.signalCode, stderr: String(stderr) }),
    );
  });
  assert.equal(r.signal, null, `the agent exited by itself within ${BOUND_MS} ms:\n${r.stderr}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /\[TSDM-50040\]/);
  assert.match(r.stderr, /JetStream is not enabled/);
  assert.match(r.stderr, /-js/);
});

test('SIGTERM with NATS gone: dm-agent stops within a bounded time (it used to wait ~55 s in NATS retries)', {
  timeout: 120_000,
}, async () => {
  const own = await startNats({ name: 'gone' });
  const agent = startAgent({ name: 'gone-1', nats: own.url, cluster: 'gone' });
  try {
    await agent.ready(30_000);
    await own.stop();
    const stopped = agent.stop().then(() => 'stopped');
    const bound = new Promise((res) => setTimeout(() => res('still running'), 20_000));
    assert.equal(await Promise.race([stopped, bound]), 'stopped', agent.log().slice(-2000));
    assert.match(agent.log(), /NATS did not answer while stopping/);
  } finally {
    await agent.kill();
    await own.stop();
  }
});
