/**
 * Issue #15: a check-data whose agent is SIGKILLed mid-check resumes from its stored progress (the last key compared
 * per table) when the agent is back, instead of starting over; dmctl, waiting meanwhile, gets the full report.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import { Bucket, Keys, type CheckRecord } from '../../src/coord/index.ts';
import { startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ agentEnv: { TSDM_FAULT_CHECK_CHUNK_DELAY_MS: '100' } });
});
after(async () => {
  await c?.stop();
});

test('check-data resumes after the agent is killed mid-check', { timeout: 240_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE rs');
  for (const t of ['a', 'b'])
    await up.query(
      `CREATE TABLE rs.${t} (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO rs.${t} SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_4000`,
    );
  await startTask(
    c,
    taskYaml(
      'rs',
      c.sb.downstream,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: [rs]\n',
    ),
  );
  await waitSynced(c, 'rs');

  const run = c.ctl(['check-data', 'rs', '--json', '--chunk-rows', '100', '--threads', '1', '--timeout', '60']);
  const read = async () => (await c.coord.get<CheckRecord>(Bucket.checks, Keys.check('rs')))?.value;
  let before = 0;
  await waitFor(
    async () => {
      const r = await read();
      before = r?.progress?.rowsDone ?? 0;
      return r?.state === 'running' && before >= 1500;
    },
    60_000,
    () => `the check to compare 1,500 rows (at ${before})`,
  );
  await c.agent.kill();
  await c.agent.restart();
  await c.agent.ready();
  // The successor's first report continues from the stored progress.
  let first: number | undefined;
  await waitFor(
    async () => {
      const r = await read();
      if ((r?.resumed ?? 0) >= 1 && r?.progress) first ??= r.progress.rowsDone;
      return first !== undefined;
    },
    60_000,
    () => 'the check to be resumed',
  );
  assert.ok(first! >= before, `resumed at ${first} rows, had ${before} before the kill`);
  const r = await run;
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.equal(r.json.result, true);
  assert.ok(r.json.resumed >= 1);
  assert.equal(r.json.rows, 8000);
});

test('check-data waits while the upstream runs more threads than --max-load, then goes on', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  // Three sessions busy in SLEEP: Threads_running >= 4 while they run.
  const busy = await Promise.all([0, 1, 2].map(() => up.connect()));
  const ids = await Promise.all(
    busy.map(async (b) => {
      const [rows] = await b.query('SELECT CONNECTION_ID() id');
      return (rows as { id: number }[])[0]!.id;
    }),
  );
  const sleeping = busy.map((b) => b.query('SELECT SLEEP(60)').catch(() => undefined));
  const run = c.ctl(['check-data', 'rs', '--json', '--chunk-rows', '1000', '--threads', '1', '--max-load', '3']);
  const read = async () => (await c.coord.get<CheckRecord>(Bucket.checks, Keys.check('rs')))?.value;
  let seen = '';
  try {
    await waitFor(
      async () => {
        seen = (await read())?.progress?.throttled ?? '';
        return /Threads_running \d+ > --max-load 3/.test(seen);
      },
      60_000,
      () => `the check to be throttled by Threads_running (last: ${seen})`,
    );
  } finally {
    for (const id of ids) await up.query(`KILL QUERY ${id}`).catch(() => undefined);
    await Promise.all(sleeping);
    for (const b of busy) b.destroy();
  }
  const r = await run;
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.equal(r.json.rows, 8000);
});
