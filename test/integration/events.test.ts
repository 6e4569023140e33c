/**
 * Issue #17 acceptance 3: the event log. Two agents; a pause and a resume, a DDL the downstream rejects (the task
 * pauses with an error), a `dmctl binlog skip`, a pessimistic shard-DDL lock created and resolved, and a failover
 * (kill -9 of the bound agent) are each read back from `dmctl events --json`, with who and what. `--follow --json`
 * streams JSON lines and exits 0 on SIGINT. Data is compared at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DmEvent } from '../../src/events/record.ts';
import { readEvents } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { assertSame, startTask, taskYaml, pausedWithError, waitStage, waitSynced } from './helpers.ts';
import { bound, startMultiCluster, waitRebound, type MultiCluster } from './cluster-helpers.ts';

let c: MultiCluster;
const t0 = Date.now();
const step = (what: string) => console.log(`[events ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
before(async () => {
  c = await startMultiCluster({ agents: 2 });
});
after(async () => {
  await c?.stop();
});

const PLAIN = `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["ev"]\n`;
const SHARDED = `shard-mode: pessimistic
mysql-instances:
  - source-id: source1
    block-allow-list: b
    route-rules: [merge]
block-allow-list:
  b:
    do-dbs: ["evs"]
routes:
  merge:
    schema-pattern: "evs"
    table-pattern: "t*"
    target-schema: "evm"
    target-table: "t"
`;

async function events(args: string[] = []): Promise<DmEvent[]> {
  const r = await c.ctl(['events', '--json', '--limit', '0', ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Array.isArray(r.json), r.stdout);
  return r.json as DmEvent[];
}

/**
 * Waits until the stream holds an event `pred` accepts (read in-process: polling with a dmctl process each time costs
 * a process start per poll); the test reads every one back through `dmctl events --json` at the end.
 */
async function waitEvent(what: string, pred: (e: DmEvent) => boolean, task?: string): Promise<DmEvent> {
  let found: DmEvent | undefined;
  let last: DmEvent[] = [];
  await waitFor(
    async () => {
      last = await readEvents(c.coord.nc, 'dm', { limit: 0, ...(task ? { task } : {}) }).catch(() => []);
      found = last.find(pred);
      return found !== undefined;
    },
    90_000,
    () => `event ${what} (have: ${last.map((e) => `${e.kind}/${e.task ?? ''}/${e.source ?? ''}`).join(', ')})`,
  );
  return found!;
}

test('pause, error, skip, shard lock and failover are each read back from dmctl events --json', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  step('Before any task');
  // Before any task: the first leader and the source's binding are events already.
  await waitEvent('leader.changed', (e) => e.kind === 'leader.changed' && e.agent !== undefined);
  const first = await waitEvent('source.bound', (e) => e.kind === 'source.bound' && e.source === 'source1');
  assert.equal(first.severity, 'info');

  await up.query(
    'CREATE DATABASE ev; CREATE TABLE ev.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ev.t VALUES (1, "a");' +
      'CREATE DATABASE evs; CREATE TABLE evs.t1 (id INT PRIMARY KEY, v INT); CREATE TABLE evs.t2 (id INT PRIMARY KEY, v INT);' +
      'INSERT INTO evs.t1 VALUES (1, 1); INSERT INTO evs.t2 VALUES (1001, 1)',
  );
  await startTask(c, taskYaml('ev', down, PLAIN));
  await startTask(c, taskYaml('evs', down, SHARDED));
  await waitSynced(c, 'ev');
  await waitSynced(c, 'evs');

  step('pause and resume');
  // --- pause and resume, followed live by a second dmctl (JSON lines)
  const follow = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', '..', 'bin', 'dmctl.js'),
      '--nats',
      c.natsUrl,
      'events',
      '-f',
      '--json',
      '--task',
      'ev',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let followed = '';
  follow.stdout.on('data', (d) => {
    followed += d;
  });
  const followExit = new Promise<number | null>((r) => follow.on('exit', (code) => r(code)));
  assert.equal((await c.ctl(['pause-task', 'ev'])).code, 0);
  const paused = await waitEvent('task.paused', (e) => e.kind === 'task.paused' && e.task === 'ev');
  assert.equal(paused.source, 'source1');
  assert.equal(paused.severity, 'warn');
  assert.match(paused.by ?? '', /^[^@]+@.+$/, 'the dmctl user that paused it');
  assert.ok(paused.agent?.startsWith('agent-'), 'the agent that paused it');
  assert.equal((await c.ctl(['resume-task', 'ev'])).code, 0);
  await waitEvent('task.resumed', (e) => e.kind === 'task.resumed' && e.task === 'ev');
  await waitFor(
    async () => /"task\.paused"/.test(followed) && /"task\.resumed"/.test(followed),
    30_000,
    () => `--follow printed the pause and the resume (got ${followed})`,
  );
  const lines = followed.trim().split('\n');
  for (const l of lines) assert.equal((JSON.parse(l) as DmEvent).task, 'ev', `one JSON event per line: ${l}`);
  follow.kill('SIGINT');
  assert.equal(await followExit, 0, '--follow ends with exit 0 on Ctrl-C');

  step('an error');
  // --- an error: the downstream has the column already (ignored, as in DM) and v narrowed by hand, so the upstream
  // ALTER's index on a 10-character prefix of v fails there (errno 1089) and pauses the task
  await down.query('ALTER TABLE ev.t ADD COLUMN c INT, MODIFY v VARCHAR(5)');
  await up.query('ALTER TABLE ev.t ADD COLUMN c INT, ADD INDEX iv (v(10)); INSERT INTO ev.t VALUES (2, "b", 20)');
  const v = await waitStage(c, 'ev', pausedWithError, 'paused on DDL');
  const position = v.sources[0]!.error!.context!.position!;
  const err = await waitEvent('task.error', (e) => e.kind === 'task.error' && e.task === 'ev');
  assert.equal(err.severity, 'error');
  assert.equal(err.error?.code, v.sources[0]!.error!.code);
  assert.equal(err.position, position);
  assert.match(err.error?.suggestion ?? '', /binlog skip/);

  step('a skip');
  // --- a skip
  assert.equal((await c.ctl(['binlog', 'skip', 'ev'])).code, 0);
  const skip = await waitEvent('binlog.skip', (e) => e.kind === 'binlog.skip' && e.task === 'ev');
  assert.equal(skip.position, position);
  assert.match(String(skip.detail?.sql), /ADD COLUMN c INT/);
  assert.match(skip.by ?? '', /@/);
  await waitSynced(c, 'ev');

  step('a pessimistic');
  // --- a pessimistic shard-DDL lock: created by the first shard's ALTER, resolved once the second one reaches it
  await up.query('ALTER TABLE evs.t1 ADD COLUMN c1 INT; INSERT INTO evs.t1 VALUES (2, 2, 2)');
  const created = await waitEvent('shard.lock.created', (e) => e.kind === 'shard.lock.created', 'evs');
  assert.equal(created.table, 'evm.t');
  assert.match(String(created.detail?.ddl), /ADD COLUMN/i);
  await up.query('ALTER TABLE evs.t2 ADD COLUMN c1 INT; INSERT INTO evs.t2 VALUES (1002, 2, 2)');
  await waitEvent('shard.lock.resolved', (e) => e.kind === 'shard.lock.resolved' && e.table === 'evm.t', 'evs');

  step('task filters');
  // --task filters on the server; the text form is one line per event
  const onlyEvs = await events(['--task', 'evs']);
  assert.ok(onlyEvs.length > 0 && onlyEvs.every((e) => e.task === 'evs'));
  const text = await c.ctl(['events', '--task', 'ev', '--since', '10m']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /WARN +task\.paused +task=ev source=source1 +paused \(by [^)]+@[^)]+\) +\[agent-\d\]/);
  assert.match(text.stdout, /ERROR +task\.error/);

  step('a failover');
  // --- a failover: kill -9 the agent the source is bound to
  const b1 = (await bound(c.coord, 'source1'))!;
  await c.byName(b1.agent).kill();
  const b2 = await waitRebound(c.coord, 'source1', b1);
  const fo = await waitEvent('failover', (e) => e.kind === 'failover' && e.source === 'source1');
  assert.equal(fo.detail?.previous, b1.agent);
  assert.equal(fo.detail?.agent, b2.agent);
  assert.equal(fo.agent, b2.agent, 'written by the new leader (the only live agent)');

  step('The data moved');
  // The data moved through all of it: equal on both sides.
  await up.query('INSERT INTO ev.t VALUES (3, "c", 30); INSERT INTO evs.t1 VALUES (3, 3, 3)');
  await waitSynced(c, 'ev', 90_000);
  await waitSynced(c, 'evs', 90_000);
  await assertSame(up, down, [{ up: ['ev', 't'] }]);
  const merged = await down.query('SELECT id, v, c1 FROM evm.t ORDER BY id');
  const want = await up.query('SELECT id, v, c1 FROM evs.t1 UNION ALL SELECT id, v, c1 FROM evs.t2 ORDER BY id');
  assert.deepEqual(merged, want);

  step('No secret');
  // Every one of them, read back through dmctl events --json (the acceptance's words); no secret in the log.
  const all = await c.ctl(['events', '--json', '--limit', '0']);
  assert.equal(all.code, 0, all.stderr);
  const ids = new Set((all.json as DmEvent[]).map((e) => e.id));
  for (const e of [first, paused, err, skip, created, fo]) assert.ok(ids.has(e.id), `${e.kind} in dmctl events --json`);
  const kinds = new Set((all.json as DmEvent[]).map((e) => e.kind));
  for (const k of ['task.resumed', 'shard.lock.resolved', 'leader.changed']) assert.ok(kinds.has(k), k);
  assert.ok(!all.stdout.includes(down.password), 'no password in events');
});
