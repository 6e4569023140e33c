/**
 * Found with issue #12 item 6: a sync writer whose downstream connection was closed under it (`KILL CONNECTION`,
 * wait_timeout) failed with `TSDM-30001 … Can't add new command when connection is in closed state` instead of
 * opening a new one. Here tsdm's downstream connections are killed several times while an upstream writer runs:
 * the task keeps running without an error and ends equal (each retried transaction resumes from its checkpoint).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import { assertSame, startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

/** The downstream connections tsdm registered for its sources (checkpoint.ts `register`) that are open now. */
async function tsdmConnections(): Promise<number[]> {
  const rows = await c.sb.downstream.query(`SELECT p.ID AS id FROM information_schema.PROCESSLIST p
    JOIN dm_meta.wr_owner_conn o ON o.conn_id = p.ID`);
  return (rows as { id: number | string }[]).map((r) => Number(r.id));
}

test('killed downstream connections during sync: writers reconnect, no error, data equal', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE wr; CREATE TABLE wr.t (id INT PRIMARY KEY, v INT, s VARCHAR(30));
    INSERT INTO wr.t SELECT seq, seq, CONCAT('s', seq) FROM mysql.seq_1_to_2000`);
  await startTask(
    c,
    taskYaml(
      'wr',
      c.sb.downstream,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    syncer-thread: 4\nblock-allow-list:\n  b:\n    do-dbs: ["wr"]\n',
    ),
  );
  await waitSynced(c, 'wr');
  let running = true;
  let txns = 0;
  const writer = (async () => {
    const conn = await up.connect();
    try {
      for (let i = 0; running && i < 100_000; i++) {
        await conn.query(`INSERT INTO wr.t VALUES (${100_000 + i}, ${i}, 'new') ON DUPLICATE KEY UPDATE v = v + 1`);
        await conn.query(`UPDATE wr.t SET v = v + 1, s = 'u${i}' WHERE id = ${1 + ((i * 37) % 2000)}`);
        txns++;
      }
    } finally {
      await conn.end();
    }
  })();
  let killed = 0;
  for (let round = 0; round < 5; round++) {
    // Between kills: the upstream writer goes on, and tsdm has its writers (4) and checkpoint connection open again.
    const before = txns;
    let ids: number[] = [];
    await waitFor(
      async () => {
        ids = await tsdmConnections();
        return txns >= before + 20 && ids.length >= 5;
      },
      60_000,
      () => `round ${round}: tsdm's downstream connections open again (${ids.length} of 5)`,
    );
    for (const id of ids) {
      await c.sb.downstream.query(`KILL CONNECTION ${id}`).catch(() => undefined);
      killed++;
    }
  }
  running = false;
  await writer;
  assert.ok(killed >= 25, `${killed} connections killed`);
  await waitSynced(c, 'wr');
  const s = (await status(c, 'wr')).sources[0]!;
  assert.equal(s.stage, 'Running');
  // A kill that lands while a writer's statement is in flight rolls its transaction back: the sync unit retries from
  // the checkpoints (exactly once, as after any lost connection) and lists the retry in recentErrors. That is expected
  // on a busy machine. What must not appear is the bug this file is about: a connection closed while idle not
  // replaced ("closed state"), or any error that is not a retried lost connection.
  const errors = [...(s.error ? [s.error] : []), ...(s.recentErrors ?? [])];
  const lostInFlight = (e: (typeof errors)[number]) =>
    e.retryable && /PROTOCOL_CONNECTION_LOST|Lost connection|server closed the connection/.test(e.message);
  assert.deepEqual(
    errors.filter((e) => !lostInFlight(e) || /closed state/.test(e.message)).map((e) => `${e.code} ${e.message}`),
    [],
    `no errors but retried in-flight losses after ${killed} kills`,
  );
  if (errors.length) console.log(`${errors.length} retries after a connection lost mid-statement (of ${killed} kills)`);
  await assertSame(up, c.sb.downstream, [{ up: ['wr', 't'] }]);
});
