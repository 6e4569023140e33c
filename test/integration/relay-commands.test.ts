/**
 * Issue #4: start-relay / pause-relay / resume-relay / stop-relay (desired state in the source record) and the relay
 * status query-status shows (text and --json): upstream head, relay position, lag, size, readers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';
import { binlogDumps, relayStatus, waitRelayAtHead, waitRelayRunning } from './relay-helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE q');
  await up.query('CREATE TABLE q.t (id INT NOT NULL PRIMARY KEY, v INT)');
  await up.query('INSERT INTO q.t SELECT seq, seq FROM mysql.seq_1_to_100');
  // enable-relay: false; the relay is started by command.
  const r = await c.ctl(['operate-source', 'create', writeTemp('s.yaml', sourceYaml('source1', up))]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await c?.stop();
});

test('start/pause/resume/stop-relay and the relay in query-status', { timeout: 240_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  assert.equal(await relayStatus(c, 'source1'), undefined, 'no relay without enable-relay');
  const started = await c.ctl(['start-relay', '-s', 'source1']);
  assert.equal(started.code, 0, started.stdout + started.stderr);
  assert.match(started.stdout, /relay of source1: Running/);
  await waitRelayRunning(c, 'source1');
  await startTask(
    c,
    taskYaml(
      'cmd',
      c.sb.downstream,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["q"]\n',
    ),
  );
  await waitSynced(c, 'cmd');
  assert.equal(await binlogDumps(up), 1, 'the task reads the relay: one binlog stream');

  // Paused: the upstream connection closes, the relay position stays while the upstream moves on.
  assert.equal((await c.ctl(['pause-relay', '-s', 'source1'])).code, 0);
  await waitFor(
    async () => (await relayStatus(c, 'source1'))?.stage === 'Paused' && (await binlogDumps(up)) === 0,
    30_000,
    'relay paused, no binlog stream',
  );
  const before = (await relayStatus(c, 'source1'))!.relayPos;
  await up.query('UPDATE q.t SET v = v + 1 WHERE id <= 50');
  await up.query('INSERT INTO q.t SELECT seq, 0 FROM mysql.seq_101_to_200');
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual((await relayStatus(c, 'source1'))!.relayPos, before, 'a paused relay does not move');

  const text = await c.ctl(['query-status', 'cmd']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /relay source1 {2}stage Paused/);
  assert.match(text.stdout, /store: records #\d+\.\.#\d+/);
  const json = await c.ctl(['query-status', '--json']);
  const rel = json.json.relays.find((r: { source: string }) => r.source === 'source1');
  assert.ok(rel && rel.stage === 'Paused' && rel.master && rel.relayPos && rel.size.fileBytes > 0, JSON.stringify(rel));
  assert.ok(rel.readers >= 1, 'the task is a reader of the relay');

  // Resumed: it catches up and so does the task.
  assert.equal((await c.ctl(['resume-relay', '-s', 'source1'])).code, 0);
  await waitRelayAtHead(c, 'source1', up);
  await waitSynced(c, 'cmd');
  await assertSame(up, c.sb.downstream, [{ up: ['q', 't'] }]);
  assert.equal((await relayStatus(c, 'source1'))!.stage, 'Running');

  // Stopped: like paused, and start-relay continues where it stopped.
  assert.equal((await c.ctl(['stop-relay', '-s', 'source1'])).code, 0);
  await waitFor(async () => (await relayStatus(c, 'source1'))?.stage === 'Stopped', 30_000, 'relay stopped');
  await up.query('DELETE FROM q.t WHERE id % 3 = 0');
  assert.equal((await c.ctl(['start-relay', '-s', 'source1'])).code, 0);
  await waitRelayAtHead(c, 'source1', up);
  await waitSynced(c, 'cmd');
  await assertSame(up, c.sb.downstream, [{ up: ['q', 't'] }]);
});

test('a new upstream server identity starts a new relay segment, continued by GTID', { timeout: 240_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const before = (await relayStatus(c, 'source1'))!;
  // MariaDB's identity is domain-server_id: a changed server_id is what a failover to another server looks like.
  const [{ sid }] = await up.query('SELECT @@server_id AS sid');
  await up.query('SET GLOBAL server_id = 4242');
  try {
    assert.equal((await c.ctl(['pause-relay', '-s', 'source1'])).code, 0);
    await waitFor(async () => (await relayStatus(c, 'source1'))?.stage === 'Paused', 30_000, 'relay paused');
    await up.query('INSERT INTO q.t SELECT seq, 42 FROM mysql.seq_1001_to_1100');
    await up.query('UPDATE q.t SET v = v * 2 WHERE id > 1050');
    assert.equal((await c.ctl(['resume-relay', '-s', 'source1'])).code, 0);
    await waitRelayAtHead(c, 'source1', up);
    const after = (await relayStatus(c, 'source1'))!;
    assert.equal(
      after.segment,
      before.segment! + 1,
      `new segment (${JSON.stringify({ before: before.serverUuid, after: after.serverUuid })})`,
    );
    assert.match(after.serverUuid ?? '', /-4242$/);
    await waitSynced(c, 'cmd');
    await assertSame(up, c.sb.downstream, [{ up: ['q', 't'] }]);
  } finally {
    await up.query(`SET GLOBAL server_id = ${Number(sid)}`);
  }
});
