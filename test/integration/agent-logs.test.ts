/**
 * Issue #17, logs: a real agent against a real nats-server. With --log-file and a tiny --log-file-max-size the log
 * rotates (at most --log-file-keep files, each 0600), every line is JSON with no key twice and level names as text,
 * and leadership changes are lines of their own with their reason (evict / cancel-evict drive them). With
 * --log-format text the lines on stderr are human-readable although stderr is a pipe. Waits are bounded conditions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNats, waitFor, type NatsInstance } from '../harness/index.ts';
import { dmctl, startAgent, type AgentProcess } from '../harness/tsdm.ts';
import { duplicateKeys } from '../harness/json-keys.ts';

let nats: NatsInstance;
const agents: AgentProcess[] = [];
before(async () => {
  nats = await startNats({ name: 'logs' });
});
after(async () => {
  for (const a of agents) await a.stop();
  await nats?.stop();
});

/** Every line of every file of the log directory, in file order. */
function fileLines(dir: string): Record<string, unknown>[] {
  const files = readdirSync(dir).sort((x, y) => Number(x.split('.')[1]) - Number(y.split('.')[1]));
  return files.flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        assert.deepEqual(duplicateKeys(l), [], `no key twice: ${l}`);
        return JSON.parse(l) as Record<string, unknown>;
      }),
  );
}

test('--log-file: rotated by size, 0600, JSON lines with level names, leadership changes with reasons', {
  timeout: 240_000,
}, async () => {
  const base = mkdtempSync(join(tmpdir(), 'tsdm-agent-logs-'));
  const dir = join(base, 'logs');
  const a = startAgent({
    name: 'logs1',
    nats: nats.url,
    cluster: 'logs',
    args: ['--log-file', join(dir, 'agent.log'), '--log-file-max-size', '1k', '--log-file-keep', '2'],
  });
  agents.push(a);
  const has = (msg: string) => {
    try {
      return fileLines(dir).some((l) => l.msg === msg && l.pid === a.pid());
    } catch {
      return false; // not created yet
    }
  };
  /** The newest leadership line (older files may have been deleted, the newest are kept). */
  const leading = () =>
    fileLines(dir)
      .filter((l) => l.msg === 'became leader' || l.msg === 'lost leadership')
      .at(-1)?.msg === 'became leader';
  await waitFor(async () => has('became leader'), 60_000, 'the agent leads');
  // Each evict / cancel-evict round is a "lost leadership" and a "became leader" line: enough rounds to rotate
  // past the second file (bounded).
  for (let i = 0; i < 10 && Math.max(...readdirSync(dir).map((f) => Number(f.split('.')[1]))) < 3; i++) {
    assert.equal((await dmctl(nats.url, ['operate-leader', 'evict'], { cluster: 'logs' })).code, 0);
    assert.equal((await dmctl(nats.url, ['operate-leader', 'cancel-evict'], { cluster: 'logs' })).code, 0);
    await waitFor(async () => leading(), 60_000, `leader again after round ${i + 1}`);
  }
  await a.stop();
  const files = readdirSync(dir);
  assert.ok(files.length <= 2, `at most 2 files kept: ${files.join(' ')}`);
  assert.ok(Math.max(...files.map((f) => Number(f.split('.')[1]))) >= 3, `rotated: ${files.join(' ')}`);
  for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, `${f} is 0600`);
  const lines = fileLines(dir);
  const lost = lines.find((l) => l.msg === 'lost leadership');
  assert.ok(lost, 'a lost-leadership line in the kept files');
  assert.equal(lost.level, 'warn');
  assert.equal(lost.reason, 'resigned');
  assert.equal(lost.agent, 'logs1');
  assert.match(String(lost.time), /^\d{4}-\d\d-\d\dT/);
  const won = lines.filter((l) => l.msg === 'became leader');
  assert.ok(won.length > 0 && won.every((l) => l.level === 'info' && typeof l.term === 'number'));
  assert.ok(
    lines.some((l) => l.msg === 'stopped'),
    'the last line before exit is in the file',
  );
  assert.doesNotMatch(a.log(), /"msg":/, 'nothing on stderr: the lines go to the file');
  rmSync(base, { recursive: true, force: true });
});

test('--log-format text: human-readable lines on stderr although it is a pipe', { timeout: 120_000 }, async () => {
  const a = startAgent({ name: 'logs2', nats: nats.url, cluster: 'logs-text', args: ['--log-format', 'text'] });
  agents.push(a);
  await waitFor(async () => /INFO.*became leader/.test(a.log()), 60_000, 'a text leadership line');
  await a.stop();
  const text = a.log();
  assert.match(text, /\] INFO \(dm-agent\): agent started \{.*"agent":"logs2"/);
  assert.doesNotMatch(text, /^\{"level"/m, 'no JSON lines');
});
