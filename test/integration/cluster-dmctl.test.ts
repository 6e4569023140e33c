/**
 * Issue #5 acceptance 5 (cluster commands): each new dmctl command's success path and a failure path with its exit
 * code, against two real agents; passwords are stored encrypted in NATS and the agents decrypt them with the key
 * file; the task's data is compared row by row at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Bucket, Keys, type SourceRecord, type TaskRecord } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { dmctl, sourceYaml, writeTemp } from '../harness/tsdm.ts';
import { assertSame, startTask, taskYaml } from './helpers.ts';
import { bound, leader, startMultiCluster, type MultiCluster } from './cluster-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsdm-key-'));
const keyFile = join(dir, 'secret.key');
writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n');

let c: MultiCluster;
let ctl: (args: string[]) => ReturnType<typeof dmctl>;
before(async () => {
  c = await startMultiCluster({ agents: 2, sources: false, agentEnv: { TSDM_SECRET_KEY_PATH: keyFile } });
  ctl = (args) => dmctl(c.natsUrl, ['--secret-key-path', keyFile, ...args]);
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE app');
  await up.query('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
  await up.query("INSERT INTO app.t SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_500");
});
after(async () => {
  await c?.stop();
});

test('encrypt: a ciphertext the source file accepts; the stored source holds no plain password', async () => {
  const up = c.sb.upstreams[0]!;
  const e = await ctl(['encrypt', up.password, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const cipher = String(e.json.ciphertext);
  assert.notEqual(cipher, up.password);
  assert.equal((await ctl(['encrypt'])).code, 2, 'no password: usage error');
  assert.equal(
    (await dmctl(c.natsUrl, ['--secret-key-path', '/nonexistent/key', 'encrypt', 'x'])).code,
    2,
    'unreadable key file: exit 2',
  );
  // One source with the ciphertext in the file, as a user writes it after dmctl encrypt.
  const r = await ctl([
    'operate-source',
    'create',
    writeTemp('source1.yaml', sourceYaml('source1', up).replace(`"${up.password}"`, `"${cipher}"`)),
    '-w',
    'agent-1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rec = (await c.coord.get<SourceRecord>(Bucket.sources, Keys.source('source1')))!.value;
  assert.ok(!rec.yaml.includes(up.password), 'no plain password in dm_sources');
  // A plain password in the file is encrypted by dmctl before it is stored.
  const r2 = await ctl(['operate-source', 'create', writeTemp('source2.yaml', sourceYaml('source2', up))]);
  assert.equal(r2.code, 0, r2.stderr);
  const rec2 = (await c.coord.get<SourceRecord>(Bucket.sources, Keys.source('source2')))!.value;
  assert.ok(!rec2.yaml.includes(up.password), 'plain password encrypted before it is stored');
  assert.equal((await ctl(['operate-source', 'stop', 'source2'])).code, 0);
});

test('config source|task print without passwords; unknown names exit 1', async () => {
  const up = c.sb.upstreams[0]!;
  const s = await ctl(['config', 'source', 'source1']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /password: "?\*{6}"?/);
  assert.ok(!s.stdout.includes(up.password));
  assert.equal((await ctl(['config', 'source', 'nope'])).code, 1);
  assert.equal((await ctl(['config', 'task', 'nope'])).code, 1);
  assert.equal((await ctl(['config'])).code, 2);
});

test('start-task, query-status --wait-for synced / --more; a wait that cannot succeed in time exits 4', async () => {
  await startTask(
    { ...c, ctl },
    taskYaml(
      'app',
      c.sb.downstream,
      `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["app"]\n`,
    ),
  );
  const rec = (await c.coord.get<TaskRecord>(Bucket.tasks, Keys.task('app')))!.value;
  assert.ok(!rec.yaml.includes(c.sb.downstream.password), 'no plain downstream password in dm_tasks');
  const w = await ctl(['query-status', 'app', '--wait-for', 'synced', '--timeout', '120']);
  assert.equal(w.code, 0, w.stdout + w.stderr);
  await c.sb.upstreams[0]!.query("INSERT INTO app.t VALUES (1001, 'after')");
  const m = await ctl(['query-status', 'app', '--more']);
  assert.equal(m.code, 0);
  assert.match(m.stdout, /binding: agent-1 term \d+/);
  const t = await ctl(['query-status', 'app', '--wait-for', 'Finished', '--timeout', '2']);
  assert.equal(t.code, 4, 'timed out');
  assert.match(t.stderr, /TSDM-50024/);
  assert.equal((await ctl(['query-status', 'app', '--wait-for', 'bogus'])).code, 2);
  const ct = await ctl(['config', 'task', 'app']);
  assert.equal(ct.code, 0);
  assert.ok(!ct.stdout.includes(c.sb.downstream.password) && ct.stdout.includes('******'));
});

test('list-member --leader / --worker; unknown flag exits 2', async () => {
  const l = await ctl(['list-member', '--leader', '--json']);
  assert.equal(l.code, 0);
  assert.ok(l.json.leader?.name, 'a leader');
  assert.equal(l.json.members, undefined);
  const w = await ctl(['list-member', '--worker', '--json']);
  assert.equal(w.code, 0);
  assert.equal(w.json.leader, undefined);
  assert.deepEqual(w.json.members.map((m: { name: string }) => m.name).sort(), ['agent-1', 'agent-2']);
  assert.equal((await ctl(['list-member', '--bogus'])).code, 2);
});

test('transfer-source moves the source (new term) and the task follows; an unknown agent exits 1', async () => {
  const before = (await bound(c.coord, 'source1'))!;
  assert.equal(before.agent, 'agent-1', 'bound to the agent named by -w');
  const r = await ctl(['transfer-source', 'source1', 'agent-2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.bound.agent, 'agent-2');
  assert.ok(r.json.bound.term > before.term);
  assert.equal((await ctl(['transfer-source', 'source1', 'ghost'])).code, 1);
  assert.equal((await ctl(['transfer-source', 'nosource', 'agent-1'])).code, 1);
  assert.equal((await ctl(['transfer-source', 'source1'])).code, 2);
  await c.sb.upstreams[0]!.query("INSERT INTO app.t VALUES (1002, 'moved')");
  await waitFor(
    async () => (await ctl(['query-status', 'app', '--json'])).json?.tasks?.[0]?.sources?.[0]?.agent === 'agent-2',
    60_000,
    'agent-2 runs the task',
  );
  const w = await ctl(['query-status', 'app', '--wait-for', 'synced', '--timeout', '120']);
  assert.equal(w.code, 0, w.stdout + w.stderr);
  await assertSame(c.sb.upstreams[0]!, c.sb.downstream, [{ up: ['app', 't'] }]);
});

test('operate-leader evict moves leadership; cancel-evict; bad usage exits 2, unknown agent 1', async () => {
  const l0 = (await leader(c.coord))!;
  const r = await ctl(['operate-leader', 'evict', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.agents[0].name, l0.name);
  let l1: Awaited<ReturnType<typeof leader>>;
  await waitFor(
    async () => {
      l1 = await leader(c.coord);
      return l1 !== undefined && l1.name !== l0.name;
    },
    30_000,
    'another leader',
  );
  // The evicted agent does not come back while evicted.
  await new Promise((res) => setTimeout(res, 5000));
  assert.notEqual((await leader(c.coord))?.name, l0.name);
  const cx = await ctl(['operate-leader', 'cancel-evict']);
  assert.equal(cx.code, 0, cx.stderr);
  assert.equal((await ctl(['operate-leader', 'bogus'])).code, 2);
  assert.equal((await ctl(['operate-leader', 'evict', '--name', 'ghost'])).code, 1);
});

test('offline-member refuses a live agent (exit 1), then forgets a dead one and its source is rebound', async () => {
  assert.equal((await ctl(['offline-member', '--name', 'agent-2'])).code, 1, 'agent-2 is alive');
  assert.equal((await ctl(['offline-member'])).code, 2);
  await c.byName('agent-2').kill();
  await waitFor(
    async () => (await ctl(['offline-member', '--name', 'agent-2'])).code === 0,
    60_000,
    'agent-2 offlined once its lease expired',
  );
  await waitFor(async () => (await bound(c.coord, 'source1'))?.agent === 'agent-1', 30_000, 'source1 back on agent-1');
  await c.sb.upstreams[0]!.query("INSERT INTO app.t VALUES (1003, 'offlined')");
  const w = await ctl(['query-status', 'app', '--wait-for', 'synced', '--timeout', '120']);
  assert.equal(w.code, 0, w.stdout + w.stderr);
  await assertSame(c.sb.upstreams[0]!, c.sb.downstream, [{ up: ['app', 't'] }]);
});

test('config export -d then import -d into another cluster; import of a missing dir exits 2', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tsdm-export-'));
  const e = await ctl(['config', 'export', '-d', out, '--json']);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(e.json.sources, ['source1']);
  assert.deepEqual(e.json.tasks, ['app']);
  const text = readFileSync(join(out, 'sources', 'source1.yaml'), 'utf8');
  assert.ok(!text.includes(c.sb.upstreams[0]!.password), 'exported source holds the encrypted password only');
  assert.ok(existsSync(join(out, 'cluster.json')));
  const again = await ctl(['config', 'import', '-d', out, '--json']);
  assert.equal(again.code, 0);
  assert.deepEqual(again.json.skipped, ['source source1', 'task app'], 'existing ones are kept');
  const other = await dmctl(c.natsUrl, ['--secret-key-path', keyFile, 'config', 'import', '-d', out, '--json'], {
    cluster: 'other',
  });
  assert.equal(other.code, 0, other.stderr);
  assert.deepEqual(other.json.sources, ['source1']);
  assert.deepEqual(other.json.tasks, ['app']);
  assert.equal((await ctl(['config', 'import', '-d', join(out, 'nope')])).code, 2);
});

test('graceful stop (SIGTERM, what systemd sends) releases the member key and the binding moves', async () => {
  const a2 = c.byName('agent-2');
  await a2.restart();
  await a2.ready();
  await waitFor(
    async () => (await ctl(['transfer-source', 'source1', 'agent-2'])).code === 0,
    30_000,
    'transfer to agent-2',
  );
  await waitFor(
    async () => (await ctl(['query-status', 'app', '--json'])).json?.tasks?.[0]?.sources?.[0]?.agent === 'agent-2',
    60_000,
    'agent-2 runs the task',
  );
  const b = (await bound(c.coord, 'source1'))!;
  const t0 = Date.now();
  await a2.stop();
  await waitFor(
    async () => {
      const x = await bound(c.coord, 'source1');
      return x?.agent === 'agent-1' && x.term > b.term;
    },
    30_000,
    'rebound to agent-1',
  );
  console.log(`graceful stop of agent-2: source rebound ${Date.now() - t0} ms after SIGTERM (the lease is 10 s)`);
  // Released, not expired: the stopping agent deleted its own member key (the leader reacts to the delete at once).
  assert.equal(await c.coord.get(Bucket.members, Keys.member('agent-2')), undefined);
  assert.ok(a2.log().includes('"msg":"stopping"'));
  await c.sb.upstreams[0]!.query("INSERT INTO app.t VALUES (1004, 'graceful')");
  const w = await ctl(['query-status', 'app', '--wait-for', 'synced', '--timeout', '120']);
  assert.equal(w.code, 0, w.stdout + w.stderr);
  await assertSame(c.sb.upstreams[0]!, c.sb.downstream, [{ up: ['app', 't'] }]);
});
