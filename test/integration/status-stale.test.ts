/**
 * Issue #12 item 7 end to end: a subtask that stops (paused by an error it cannot get past, or paused by the user)
 * right after it was caught up keeps its last sync record, but neither `query-status --json` nor its text may show it
 * caught up, synced, with a lag of 0 or a rate. Its positions stay visible as its last report. `list-member` names
 * each agent once. `query-status --format dm` gives DM's documented JSON for the running, the errored and the paused
 * task (issue #18).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Bucket, Keys, type SubtaskStatus } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';
import { assertDmStatusList, assertDmTaskList } from '../harness/dm-shape.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const body = `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["stale"]\n`;

/** `query-status [TASK] --format dm`, checked against DM's documented shape; its parsed document. */
// biome-ignore lint/suspicious/noExplicitAny: a parsed DM document, its shape checked by assertDm* before use.
async function dm(task?: string): Promise<any> {
  const r = await c.ctl(['query-status', ...(task ? [task] : []), '--format', 'dm']);
  assert.equal(r.code, 0, r.stderr);
  const doc: unknown = JSON.parse(r.stdout);
  if (task) assertDmStatusList(doc);
  else assertDmTaskList(doc);
  return doc;
}

const ERRORED = 'Error - Some error occurred in subtask. Please run `query-status stale-err` to get more details.';

interface JsonSync {
  state: string;
  staleReason?: string;
  caughtUp: boolean;
  lagSeconds: number | null;
  rowsPerSecond: number | null;
  synced?: { name: string; pos: number };
  master?: { name: string; pos: number };
  masterRaised: boolean;
}

async function assertStale(task: string, reason: string): Promise<void> {
  const j = await c.ctl(['query-status', task, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const src = j.json.tasks[0].sources[0] as { stage: string; sync: JsonSync };
  assert.equal(src.stage, 'Paused');
  assert.equal(src.sync.caughtUp, false, `a paused subtask is not caught up: ${JSON.stringify(src.sync)}`);
  assert.equal(src.sync.lagSeconds, null, 'lag unknown, not 0');
  assert.equal(src.sync.rowsPerSecond, null, 'no rate');
  assert.equal(src.sync.state, 'stale', JSON.stringify(src.sync));
  assert.equal(src.sync.staleReason, reason);
  assert.ok(src.sync.synced, 'its last position stays visible');
  const text = await c.ctl(['query-status', task]);
  assert.equal(text.code, 0, text.stderr);
  const line = text.stdout.split('\n').find((l) => /^\s+sync/.test(l)) ?? '';
  assert.match(
    line,
    new RegExp(
      `sync \\(not running: ${reason}; last report\\): applied binlog\\.\\d+:\\d+ {2}master binlog\\.\\d+:\\d+.* {2}lag unknown`,
    ),
    text.stdout,
  );
  assert.doesNotMatch(text.stdout, /\[synced\]|lag 0s|rows\/s|catching up/, text.stdout);
  // The agent's own record agrees: not caught up, no rate.
  const rec = (await c.coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus(task, 'source1')))!.value;
  assert.equal(rec.sync?.caughtUp, false);
  assert.equal(rec.sync?.rowsPerSecond, 0);
}

test('a task paused by a DDL the downstream rejects, and one paused by the user, show no caught-up, lag 0 or rate', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(
    'CREATE DATABASE stale; CREATE TABLE stale.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO stale.t VALUES (1, "a")',
  );
  await startTask(c, taskYaml('stale-err', down, body));
  await waitSynced(c, 'stale-err');
  // Rows applied while in sync (a rate to report), then caught up: the record says caughtUp, lag 0.
  await up.query(
    `INSERT INTO stale.t VALUES ${Array.from({ length: 3000 }, (_, i) => `(${i + 10}, 'r${i}')`).join(',')}`,
  );
  await waitSynced(c, 'stale-err');
  await waitFor(
    async () =>
      (await c.coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus('stale-err', 'source1')))?.value.sync
        ?.caughtUp === true,
    30_000,
    'caught up reported',
  );
  const running = await dm('stale-err');
  assert.equal(running.sources[0].sourceStatus.source, 'source1');
  const rs = running.sources[0].subTaskStatus[0];
  assert.deepEqual([rs.name, rs.stage, rs.unit, rs.result], ['stale-err', 'Running', 'Sync', null]);
  assert.match(rs.sync.syncerBinlog, /^\(binlog\.\d+, \d+\)$/);
  assert.ok(Number(rs.sync.totalRows) >= 3000, rs.sync.totalRows);
  assert.deepEqual((await dm()).tasks, [{ taskName: 'stale-err', taskStatus: 'Running', sources: ['source1'] }]);
  // Column v was narrowed downstream by hand: the upstream's index on a 10-character prefix of v is rejected there
  // (errno 1089, not one of the "already exists" errors DM and tsdm skip) and pauses the task.
  await down.query('ALTER TABLE stale.t MODIFY v VARCHAR(5)');
  await up.query('ALTER TABLE stale.t ADD INDEX iv (v(10))');
  await waitStage(
    c,
    'stale-err',
    (s) => s.sources[0]!.stage === 'Paused' && s.sources[0]!.error?.code === 'TSDM-30003',
    'paused on the DDL',
  );
  await assertStale('stale-err', 'Paused');
  const es = (await dm('stale-err')).sources[0].subTaskStatus[0];
  assert.equal(es.stage, 'Paused');
  assert.equal(es.result.isCanceled, false);
  const pe = es.result.errors[0];
  // TSDM-30003 is DM's ErrDBExecuteFailed (src/errors/dm-terror.ts), scoped downstream as DM does.
  assert.deepEqual([pe.ErrCode, pe.ErrClass, pe.ErrScope, pe.ErrLevel], [10006, 'database', 'downstream', 'high']);
  assert.match(pe.Message, /ADD INDEX/i);
  assert.ok(pe.Workaround.length > 0);
  assert.deepEqual((await dm()).tasks, [{ taskName: 'stale-err', taskStatus: ERRORED, sources: ['source1'] }]);
  const w = await c.ctl(['query-status', 'stale-err', '--wait-for', 'synced', '--timeout', '5']);
  assert.equal(w.code, 1, 'a subtask paused by an error will not become synced');
  assert.match(w.stderr + w.stdout, /TSDM-30003/);
  assert.equal((await c.ctl(['stop-task', 'stale-err'])).code, 0);

  // Paused by the user right after it was caught up.
  await up.query('CREATE TABLE stale.u (id INT PRIMARY KEY); INSERT INTO stale.u VALUES (1)');
  await startTask(
    c,
    taskYaml(
      'stale-user',
      down,
      body.replace(
        'do-dbs: ["stale"]',
        'do-dbs: ["stale"]\n    do-tables:\n      - db-name: "stale"\n        tbl-name: "u"',
      ),
    ),
  );
  await waitSynced(c, 'stale-user');
  await waitFor(
    async () =>
      (await c.coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus('stale-user', 'source1')))?.value.sync
        ?.caughtUp === true,
    30_000,
    'caught up reported',
  );
  assert.equal((await c.ctl(['pause-task', 'stale-user'])).code, 0);
  await waitStage(c, 'stale-user', (s) => s.sources[0]!.stage === 'Paused', 'paused by the user');
  await assertStale('stale-user', 'Paused');
  const ps = (await dm('stale-user')).sources[0].subTaskStatus[0];
  assert.deepEqual([ps.stage, ps.unit], ['Paused', 'Sync']);
  assert.deepEqual(ps.result, { isCanceled: true, errors: [], detail: null });
  const listed = (await dm()).tasks.find((t: { taskName: string }) => t.taskName === 'stale-user');
  assert.deepEqual(listed, { taskName: 'stale-user', taskStatus: 'Paused', sources: ['source1'] });
  const m = await c.ctl(['list-member', '--json']);
  const names = (m.json.members as { name: string }[]).map((x) => x.name);
  assert.deepEqual(names, [...new Set(names)], 'each agent once');
});
