/**
 * Issue #7 acceptance 2 and 3: a real cluster (MariaDB up/down, NATS, one agent, a task syncing) and `dmctl` in a
 * real terminal (tmux, 120×40). With send-keys: select the task, `p` pauses it (desired stage in KV and on screen),
 * `r` resumes it and it syncs again; a new error appears in the Errors view within 2 s of being written; a killed
 * agent shows as gone within the lease time. capture-pane text is asserted at each step.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bucket, Keys, LEASE_TTL_MS, type SubtaskStatus, type TaskRecord } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// A private tmux server: nothing here touches anybody else's sessions, and kill-server cleans up everything.
const SOCKET = `tsdm-dash-${process.pid}`;
const SESSION = 'dash';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
const keys = (...k: string[]) => {
  tmux('send-keys', '-t', SESSION, ...k);
};
const text = (s: string) => {
  tmux('send-keys', '-t', SESSION, '-l', s);
};

/** Polls the pane until `re` matches; returns the screen and how long it took. */
async function waitScreen(re: RegExp, what: string, timeoutMs = 15_000): Promise<{ text: string; ms: number }> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    last = screen();
    if (re.test(last)) return { text: last, ms: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${re}); screen:\n${last}`);
}

async function desiredStage(c: Cluster, task: string): Promise<string | undefined> {
  return (await c.coord.get<TaskRecord>(Bucket.tasks, Keys.task(task)))?.value.stage;
}

let c: Cluster;
before(async () => {
  c = await startCluster();
  const up = c.sb.upstreams[0]!;
  await up.query(
    'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO app.t VALUES (1, "a"), (2, "b")',
  );
  const body =
    'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["app"]\n';
  await startTask(c, taskYaml('dash', c.sb.downstream, body));
  await waitSynced(c, 'dash');
  // CI=true would put Ink in its CI mode (no redraws): the pane must look like a DBA's terminal.
  const cmd = `env -u CI TERM=xterm-256color TSDM_REQUIRE_DIST=1 ${process.execPath} ${join(ROOT, 'bin', 'dmctl.js')} --nats ${c.sb.nats.url} --cluster dm; echo DMCTL-EXITED $?; sleep 600`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', cmd);
});

after(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  await c?.stop();
});

test('dmctl on a terminal opens the dashboard; p pauses, r resumes; errors and a dead agent show up in time', {
  timeout: 180_000,
}, async (t) => {
  let s = await waitScreen(/│ > dash +│ source1 +│ Running +│ sync/, 'the task in the Tasks view');
  assert.match(s.text, /^tsdm dashboard │ cluster dm │ NATS connected │ .* │ leader agent-1 │/m);
  assert.match(s.text, /\[2 Tasks 1\]/);

  // Select the task by name, as a DBA with many tasks would.
  text('/dash');
  keys('Enter');
  s = await waitScreen(/filter "dash"/, 'the filter applied');
  assert.match(s.text, /│ > dash +│ source1 +│ Running/);

  // p: the desired stage becomes Paused in KV (through the same code as dmctl pause-task) and the screen says so.
  text('p');
  await waitFor(async () => (await desiredStage(c, 'dash')) === 'Paused', 10_000, 'desired stage Paused in KV');
  s = await waitScreen(/│ > dash +│ source1 +│ Paused +│/, 'Paused on screen');
  assert.match(s.text, /^task dash: Paused$/m);
  await waitStage(c, 'dash', (v) => v.sources[0]!.stage === 'Paused', 'the agent paused the subtask');

  // r: Running again in KV and on screen, and it syncs what was written meanwhile.
  await c.sb.upstreams[0]!.query('INSERT INTO app.t VALUES (3, "written while paused")');
  text('r');
  s = await waitScreen(/│ > dash +│ source1 +│ Running +│/, 'Running on screen');
  assert.equal(await desiredStage(c, 'dash'), 'Running');
  assert.match(s.text, /^task dash: Running$/m);
  await waitSynced(c, 'dash', 60_000);
  const [row] = await c.sb.downstream.query('SELECT v FROM app.t WHERE id = 3');
  assert.equal(row?.v, 'written while paused');

  // A new error written into the subtask's status appears in the Errors view within 2 s.
  text('3');
  await waitScreen(/\[3 Errors/, 'the Errors view');
  const key = Keys.subtaskStatus('dash', 'source1');
  const cur = (await c.coord.get<SubtaskStatus>(Bucket.status, key))!.value;
  const message = `injected by the dashboard test ${Date.now()}`;
  const t0 = Date.now();
  await c.coord.put<SubtaskStatus>(Bucket.status, key, {
    ...cur,
    recentErrors: [
      {
        code: 'TSDM-30001',
        class: 'downstream',
        retryable: true,
        message,
        suggestion: 'none',
        time: new Date().toISOString(),
      },
      ...(cur.recentErrors ?? []),
    ],
  });
  s = await waitScreen(new RegExp(`TSDM-30001 │ (retried|cleared) +│ ${message}`), 'the new error', 5000);
  const errorMs = Date.now() - t0;
  assert.ok(errorMs <= 2000, `the error appeared after ${errorMs} ms`);
  t.diagnostic(`new error on screen after ${errorMs} ms`);
  assert.match(s.text, /│ > \d+s +│ dash +│ source1 +│ TSDM-30001/);

  // The agent dies: the Topology view says gone within the lease time.
  text('1');
  s = await waitScreen(/│ > agent-1 +│ leader │ alive │/, 'the agent alive');
  const k0 = Date.now();
  await c.agent.kill();
  s = await waitScreen(/│ > agent-1 +│ leader │ gone +│/, 'the agent gone', LEASE_TTL_MS + 5000);
  const goneMs = Date.now() - k0;
  assert.ok(goneMs <= LEASE_TTL_MS + 1500, `gone after ${goneMs} ms (lease ${LEASE_TTL_MS} ms)`);
  t.diagnostic(`killed agent shown gone after ${goneMs} ms`);
  assert.match(s.text, /\[1 Topology 0\/1 up\]/);
  text('2');
  s = await waitScreen(/\[2 Tasks 1\]/, 'back to Tasks');
  assert.match(s.text, /│ > dash +│ source1 +│ Running \(agent gone\)/);

  // q quits cleanly and gives the terminal back.
  text('q');
  s = await waitScreen(/DMCTL-EXITED 0/, 'dmctl exited');
  assert.doesNotMatch(s.text, /tsdm dashboard/);
});

test('dmctl with stdin not a terminal says so and prints query-status', { timeout: 30_000 }, async () => {
  const r = await c.ctl([]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /stdin is not a terminal \(raw mode is not supported\), so the interactive dashboard cannot run; printing query-status instead/,
  );
  assert.match(r.stdout, /task dash {2}\(desired Running\)/);
});
