/**
 * Issue #18 acceptance 4: the dashboard's conventions in a real terminal at 80×24 (tmux), against a real cluster (a
 * source with a relay log, a task syncing through it): `?` lists the keys, `/` filters by any cell, `>` and `S` sort,
 * `:pause` and `:resume` act like p and r, the Relays view shows the relay, and `x` asks which event (position) it
 * skips: after `n` nothing is skipped, after `y` the skip happens and the task syncs again, the data equal upstream.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bucket, Keys, type TaskRecord } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import {
  assertSame,
  startCluster,
  startTask,
  taskYaml,
  pausedWithError,
  waitStage,
  waitSynced,
  type Cluster,
} from './helpers.ts';
import { createRelaySource, waitRelayRunning } from './relay-helpers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// A private tmux server: nothing here touches anybody else's sessions, and kill-server cleans up everything.
const SOCKET = `tsdm-dashkeys-${process.pid}`;
const SESSION = 'keys';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
const keys = (...k: string[]) => {
  tmux('send-keys', '-t', SESSION, ...k);
};
const text = (s: string) => {
  tmux('send-keys', '-t', SESSION, '-l', s);
};

/** Polls the pane until `re` matches. */
async function waitScreen(re: RegExp, what: string, timeoutMs = 15_000): Promise<string> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    last = screen();
    if (re.test(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${re}); screen:\n${last}`);
}

/** Every line of the pane fits 80 columns and the footer still ends with the help and quit keys. */
function assertReadable(s: string): void {
  const lines = s.replace(/\n+$/, '').split('\n');
  assert.ok(lines.length <= 24, `${lines.length} lines`);
  for (const l of lines) assert.ok([...l].length <= 80, `wider than 80: ${l}`);
  assert.match(lines.at(-1)!, /\? help {2}q quit\s*$/);
}

const desired = async (c: Cluster) => (await c.coord.get<TaskRecord>(Bucket.tasks, Keys.task('kx')))?.value.stage;

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  await createRelaySource(c, 'source1', up);
  await up.query(
    'CREATE DATABASE kx; CREATE TABLE kx.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO kx.t SELECT seq, CONCAT("v", seq) FROM mysql.seq_1_to_50',
  );
  await waitRelayRunning(c, 'source1');
  const body =
    'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["kx"]\n';
  await startTask(c, taskYaml('kx', c.sb.downstream, body));
  await waitSynced(c, 'kx');
  // CI=true would put Ink in its CI mode (no redraws): the pane must look like a DBA's terminal.
  const cmd = `env -u CI TERM=xterm-256color TSDM_REQUIRE_DIST=1 ${process.execPath} ${join(ROOT, 'bin', 'dmctl.js')} --nats ${c.sb.nats.url} --cluster dm; echo DMCTL-EXITED $?; sleep 600`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', cmd);
});

after(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  await c?.stop();
});

test('at 80x24: ? help, / filter, sort, : commands, the Relays view, and x skips only after y', {
  timeout: 150_000,
}, async () => {
  let s = await waitScreen(/│ > kx +│ source1 +│ Running +│/, 'the task in the Tasks view');
  assertReadable(s);
  assert.match(s, /6 Relays 1/);

  // ?: the view's keys and the global ones, whole; any key closes it.
  text('?');
  s = await waitScreen(/Keys in Tasks/, 'the help');
  assertReadable(s);
  for (const k of [/< > {2}S +sort/, /^ {2}x +skip the event/m, /:pause\|:resume\|:stop \[TASK\]/, /Tab {2}1-6/])
    assert.match(s, k);
  text('z');
  s = await waitScreen(/│ > kx /, 'the help closed');

  // /: by any cell (the unit column says sync); a text no cell has hides the row; Esc clears.
  text('/sync');
  keys('Enter');
  s = await waitScreen(/filter "sync" \(Esc clears\)/, 'the filter in the caption');
  assert.match(s, /│ > kx +│ source1/);
  text('/');
  keys('BSpace', 'BSpace', 'BSpace', 'BSpace');
  text('nothing-has-this');
  keys('Enter');
  s = await waitScreen(/none match · filter "nothing-has-this"/, 'no row matches');
  assert.doesNotMatch(s, /│ > kx /);
  keys('Escape');
  s = await waitScreen(/│ > kx +│ source1/, 'the filter cleared');
  assert.doesNotMatch(s, /filter "/);

  // Sort: > twice sorts by the second column, S reverses; caption and heading say so.
  text('>>');
  s = await waitScreen(/sorted by source↑/, 'sorted by source');
  assert.match(s, /│ source↑ /);
  text('S');
  await waitScreen(/sorted by source↓/, 'reversed');
  text('<<');
  // The caption ends where the sort note was.
  await waitScreen(/^1 task\(s\), 1 subtask\(s\): 1 Running *$/m, 'unsorted again');

  // :pause / :resume do what p and r do (same function as the verbs); an unknown command is an error.
  text(':pause kx');
  s = await waitScreen(/^:pause kx_/m, 'the command line');
  assertReadable(s);
  keys('Enter');
  await waitFor(async () => (await desired(c)) === 'Paused', 10_000, 'desired Paused in KV');
  await waitScreen(/│ > kx +│ source1 +│ Paused +│/, 'Paused on screen');
  text(':res');
  keys('Tab');
  await waitScreen(/^:resume _/m, 'Tab completed the command');
  text('kx');
  keys('Enter');
  await waitFor(async () => (await desired(c)) === 'Running', 10_000, 'desired Running in KV');
  await waitScreen(/│ > kx +│ source1 +│ Running +│/, 'Running on screen');
  text(':frob');
  keys('Enter');
  await waitScreen(/Error: unknown command :frob/, 'the unknown command error');

  // The Relays view: the source's relay, its position, how far behind, its size and agent; Enter: the detail.
  text('6');
  s = await waitScreen(
    /│ > source1 +│ Running +│ binlog\.\d+:\d+ +│ +(at head|[\d.]+[BKM]) +│( +\d+s +│)? +[\d.]+[BKMG] +│ agent-1 +│/,
    'the relay row',
  );
  assertReadable(s);
  keys('Enter');
  s = await waitScreen(/Relay source1 /, 'the relay detail');
  assert.match(s, /readers +\d+/);
  keys('Escape');
  text('2');
  await waitScreen(/\[2 Tasks 1\]/, 'back to Tasks');

  // A DDL the downstream rejects pauses the task on an event at a position.
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // (The downstream has column c already, which DM ignores, and v narrowed by hand: the index on v(10) fails there.)
  await down.query('ALTER TABLE kx.t ADD COLUMN c INT, MODIFY v VARCHAR(5)');
  await up.query('ALTER TABLE kx.t ADD COLUMN c INT, ADD INDEX iv (v(10)); INSERT INTO kx.t VALUES (51, "after", 51)');
  const v = await waitStage(c, 'kx', pausedWithError, 'paused');
  const position = v.sources[0]!.error!.context!.position!;
  assert.match(position, /^binlog\.\d+:\d+$/);
  await waitScreen(/│ > kx +│ source1 +│ Paused \(error\)/, 'paused on screen');

  // x asks, naming the position; n leaves the event in place.
  text('x');
  const at = position.replace('.', '\\.');
  s = await waitScreen(new RegExp(`Skip the event kx is paused on at source1 ${at}`), 'the skip question');
  assertReadable(s);
  assert.match(s, /y confirm {2}n\/other key cancel/);
  text('n');
  await waitScreen(new RegExp(`cancelled: the event at source1 ${at} is not skipped`), 'cancelled');
  const none = await c.ctl(['binlog', 'list', 'kx', '--json']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.json.operators.length, 0, 'n recorded no skip');
  const still = await waitStage(c, 'kx', (x) => x.sources[0]!.stage === 'Paused', 'still paused');
  assert.equal(still.sources[0]!.error?.context?.position, position);

  // y skips it (dmctl binlog skip's function): the task syncs on, with the row written after the DDL.
  text('x');
  await waitScreen(new RegExp(`Skip the event kx is paused on at source1 ${at}`), 'the question again');
  text('y');
  await waitScreen(new RegExp(`skip recorded for kx source source1 at ${at}`), "the verb's result line");
  await waitSynced(c, 'kx', 60_000);
  await waitScreen(/│ > kx +│ source1 +│ Running +│/, 'Running again on screen');
  await assertSame(up, down, [{ up: ['kx', 't'] }]);

  text('q');
  await waitScreen(/DMCTL-EXITED 0/, 'dmctl exited');
});
