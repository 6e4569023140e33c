/**
 * Issue #16 item 5 / acceptance 5, the defaults that hurt, on real servers:
 *  - thread counts are bounded in the schema, and check-task compares what a task opens with max_connections
 *    (a failure above it, a warning above what is free now);
 *  - upstream tables routed to one target without shard-mode are a check-task warning naming them and the fix;
 *  - a meta binlog file that does not exist, or a position inside an event, is BinlogPositionInvalid at start-task
 *    (not BinlogPurged, which a really purged file still is), and at run time from the stream's 1236 (a checkpoint
 *    moved inside an event) and before sync starts (start-task --remove-meta with a wrong meta).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { Bucket } from '../../src/coord/index.ts';
import { Errors } from '../../src/errors/index.ts';
import { writeTemp } from '../harness/tsdm.ts';
import {
  assertSame,
  purgeBinlogsTo,
  startCluster,
  startTask,
  taskYaml,
  waitStage,
  waitSynced,
  type Cluster,
} from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const INVALID = Errors.BinlogPositionInvalid.code;
const PURGED = Errors.BinlogPurged.code;

/** check-task --json of a task body (mode incremental unless given): exit code, checks and warnings. */
async function check(name: string, body: string, mode = 'incremental') {
  const r = await c.ctl([
    'check-task',
    writeTemp(`${name}.yaml`, taskYaml(name, c.sb.downstream, body, mode)),
    '--json',
  ]);
  assert.ok(r.json, `check-task printed no JSON: ${r.stdout}${r.stderr}`);
  return { code: r.code, checks: r.json.checks as CheckJson[], warnings: r.json.warnings as string[] };
}
interface CheckJson {
  name: string;
  source?: string;
  ok: boolean;
  warning?: string;
  error?: { code: string; message: string; suggestion: string };
}

test('thread counts: bounded in the schema, and checked against the servers max_connections', {
  timeout: 60_000,
}, async () => {
  const down = c.sb.downstream;
  const inst = (n: number) => `mysql-instances:\n  - source-id: source1\n    syncer-thread: ${n}\n`;
  // The schema bound: a config error naming file, line and key, before anything is asked of an agent.
  const big = await c.ctl(['start-task', writeTemp('big.yaml', taskYaml('big', down, inst(100000), 'incremental'))]);
  assert.equal(big.code, 2, big.stderr);
  assert.match(
    big.stderr,
    /\[TSDM-10003\] .*big\.yaml:10:5 key mysql-instances\[0\]\.syncer-thread: 100000 is more than 128/,
  );

  const held: Connection[] = [];
  try {
    await down.query('SET GLOBAL max_connections = 40');
    // 64 writers + 1 checkpoint connection can never fit in 40: a failure, DM's conn_number check.
    const fail = await check('conn-fail', inst(64));
    assert.equal(fail.code, 1);
    const item = fail.checks.find((i) => i.name === 'downstream max_connections');
    assert.equal(item?.ok, false, JSON.stringify(fail.checks));
    assert.equal(item?.error?.code, Errors.DownstreamConnLimit.code);
    assert.match(item!.error!.message, /up to 65 connection\(s\) on the downstream .*more than its max_connections 40/);
    const up = fail.checks.find((i) => i.name === 'upstream max_connections');
    assert.equal(up?.ok, true, 'the upstream has room for the binlog stream and a control connection');
    // DM's item name turns the check off.
    const skipped = await check('conn-skip', `ignore-checking-items: ["conn_number"]\n${inst(64)}`);
    assert.equal(skipped.code, 0, JSON.stringify(skipped.checks));
    assert.ok(!skipped.checks.some((i) => /max_connections/.test(i.name)));
    // 17 fit in 40, but not while 30 other connections are open: a warning, and the check passes.
    for (let i = 0; i < 30; i++) held.push(await down.connect());
    const warn = await check('conn-warn', inst(16));
    assert.equal(warn.code, 0, JSON.stringify(warn.checks));
    assert.ok(
      warn.warnings.some((w) =>
        /downstream max_connections: .*up to 17 .*only \d+ of its max_connections 40 are free/.test(w),
      ),
      JSON.stringify(warn.warnings),
    );
  } finally {
    for (const h of held) await h.end();
    await down.query('SET GLOBAL max_connections = 500');
  }
});

test('tables routed to one target without shard-mode: a warning naming both tables, the target and the fix', {
  timeout: 60_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE rc_a; CREATE DATABASE rc_b; CREATE TABLE rc_a.t (id INT PRIMARY KEY);
    CREATE TABLE rc_b.t (id INT PRIMARY KEY); CREATE TABLE rc_a.only_a (id INT PRIMARY KEY)`);
  const body = (shard: string) =>
    `${shard}mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    route-rules: [r]\n` +
    `block-allow-list:\n  b:\n    do-dbs: ["rc_a", "rc_b"]\nroutes:\n  r:\n    schema-pattern: "rc_[ab]"\n    target-schema: rc_merged\n`;
  const r = await check('routes', body(''), 'all');
  assert.equal(r.code, 0, 'a warning, not a failure (DM runs such tasks)');
  const w = r.checks.filter((i) => i.name === 'tables routed to one target');
  assert.equal(w.length, 1, JSON.stringify(r.checks));
  assert.match(w[0]!.warning!, /`rc_a`\.`t`, `rc_b`\.`t` are all routed to `rc_merged`\.`t` without shard-mode/);
  assert.match(w[0]!.warning!, /set shard-mode .*or fix the routes/);
  const text = await c.ctl([
    'check-task',
    writeTemp('routes.yaml', taskYaml('routes', c.sb.downstream, body(''), 'all')),
  ]);
  assert.match(text.stdout, /WARN tables routed to one target \(source1\)\n {5}upstream tables `rc_a`\.`t`/);
  // With shard-mode the same routes are a shard merge: no such warning.
  const sharded = await check('routes-shard', body('shard-mode: pessimistic\n'), 'all');
  assert.ok(!sharded.checks.some((i) => i.name === 'tables routed to one target'), JSON.stringify(sharded.checks));
});

test('a wrong meta position is BinlogPositionInvalid at start-task, a purged file still BinlogPurged', {
  timeout: 60_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE IF NOT EXISTS wp; CREATE TABLE wp.t (id INT PRIMARY KEY, v VARCHAR(200));
    INSERT INTO wp.t SELECT seq, REPEAT('x', 150) FROM mysql.seq_1_to_5; FLUSH BINARY LOGS`);
  const [ms] = await up.query('SHOW MASTER STATUS');
  const events: { Pos: string; End_log_pos: string; Event_type: string }[] = await up.query(
    `SHOW BINLOG EVENTS IN '${ms.File}'`,
  );
  const ev = events.find((e) => Number(e.End_log_pos) - Number(e.Pos) > 20);
  assert.ok(ev, 'an event to point inside');
  const inside = Number(ev.Pos) + 7;
  const meta = (file: string, pos: number) =>
    `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-name: ${file}\n      binlog-pos: ${pos}\nblock-allow-list:\n  b:\n    do-dbs: ["wp"]\n`;
  const start = (name: string, body: string) =>
    c.ctl(['start-task', writeTemp(`${name}.yaml`, taskYaml(name, c.sb.downstream, body, 'incremental')), '--json']);
  const cases: [string, string, number, string, RegExp][] = [
    ['wp-nofile', 'binlog.000099', 4, INVALID, /has no binlog file binlog\.000099 \(it has binlog\.0+\d to /],
    ['wp-inside', ms.File, inside, INVALID, new RegExp(`position ${inside} is not the start of an event`)],
    ['wp-pastend', ms.File, 99_999_999, INVALID, /is past the end of/],
  ];
  for (const [name, file, pos, code, msg] of cases) {
    const r = await start(name, meta(file, pos));
    assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.equal(r.json?.error?.code, code, `${name}: ${r.stdout}`);
    assert.match(r.json.error.message, msg);
    assert.match(r.json.error.suggestion, /Fix meta \(binlog-name, binlog-pos, binlog-gtid\)/);
    assert.ok(!JSON.stringify(r.json).includes(PURGED), `${name}: never BinlogPurged`);
  }
  // A file that was there and is gone is a purge, as before.
  const [first] = await up.query('SHOW BINARY LOGS');
  await up.query('FLUSH BINARY LOGS');
  await purgeBinlogsTo(up, ms.File);
  const purged = await start('wp-purged', meta(first.Log_name, 4));
  assert.equal(purged.code, 1);
  assert.equal(purged.json?.error?.code, PURGED, purged.stdout);
  assert.match(purged.json.error.message, /was purged upstream \(the oldest it has is /);
  const recorded = (await c.coord.list(Bucket.tasks)).map((e) => e.key).filter((k) => k.startsWith('wp-'));
  assert.deepEqual(recorded, [], 'no task was recorded');
});

test('at run time: a checkpoint inside an event and a wrong meta after --remove-meta pause with BinlogPositionInvalid', {
  timeout: 90_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(`CREATE DATABASE rt; CREATE TABLE rt.t (id INT PRIMARY KEY, v VARCHAR(200))`);
  await down.query(`CREATE DATABASE rt; CREATE TABLE rt.t (id INT PRIMARY KEY, v VARCHAR(200))`);
  const [ms] = await up.query('SHOW MASTER STATUS');
  await up.query(`INSERT INTO rt.t SELECT seq, REPEAT('y', 150) FROM mysql.seq_1_to_20`);
  const body = (file: string, pos: number) =>
    `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    meta:\n      binlog-name: ${file}\n      binlog-pos: ${pos}\nblock-allow-list:\n  b:\n    do-dbs: ["rt"]\n`;
  const yaml = (file: string, pos: number) => taskYaml('rt-task', down, body(file, pos), 'incremental');
  await startTask(c, yaml(ms.File, Number(ms.Position)));
  await waitSynced(c, 'rt-task');
  await assertSame(up, down, [{ up: ['rt', 't'] }]);
  assert.equal((await c.ctl(['stop-task', 'rt-task'])).code, 0);
  await waitStage(c, 'rt-task', (v) => v.sources.every((s) => s.stage === 'Stopped'), 'stopped', 30_000);

  // The checkpoint moved inside an event (a hand edit, a restored meta schema): the stream's 1236 is diagnosed.
  const events: { Pos: string; End_log_pos: string }[] = await up.query(`SHOW BINLOG EVENTS IN '${ms.File}'`);
  const ev = events.find((e) => Number(e.Pos) >= Number(ms.Position) && Number(e.End_log_pos) - Number(e.Pos) > 20)!;
  const inside = Number(ev.Pos) + 9;
  await down.query("UPDATE dm_meta.`rt-task_syncer_checkpoint` SET binlog_pos = ? WHERE source = 'source1'", [inside]);
  await startTask(c, yaml(ms.File, Number(ms.Position)));
  const stuck = (s: { sources: { error?: { code: string; retryable: boolean } }[] }) =>
    s.sources[0]!.error?.code === INVALID || s.sources[0]!.error?.retryable === false;
  let v = await waitStage(c, 'rt-task', stuck, 'paused on the position', 30_000);
  assert.equal(v.sources[0]!.error!.code, INVALID, JSON.stringify(v.sources[0]!.error));
  assert.match(
    v.sources[0]!.error!.message,
    new RegExp(`binlog stream from ${ms.File}:${inside}: position ${inside} is not the start of an event`),
  );

  // A wrong meta with --remove-meta: the precheck sees the task's checkpoint and lets it start; sync checks meta
  // before it becomes the checkpoint.
  assert.equal((await c.ctl(['stop-task', 'rt-task'])).code, 0);
  await waitStage(c, 'rt-task', (s) => s.sources.every((x) => x.stage === 'Stopped'), 'stopped', 30_000);
  await startTask(c, yaml('binlog.000077', 4), ['--remove-meta']);
  v = await waitStage(c, 'rt-task', stuck, 'paused on meta', 30_000);
  assert.equal(v.sources[0]!.error!.code, INVALID, JSON.stringify(v.sources[0]!.error));
  assert.match(v.sources[0]!.error!.message, /meta of source source1 .* has no binlog file binlog\.000077/);

  // Fixed meta: the task runs again and the data is equal.
  assert.equal((await c.ctl(['stop-task', 'rt-task'])).code, 0);
  await waitStage(c, 'rt-task', (s) => s.sources.every((x) => x.stage === 'Stopped'), 'stopped', 30_000);
  const [now] = await up.query('SHOW MASTER STATUS');
  await up.query(`INSERT INTO rt.t VALUES (100, 'after')`);
  await startTask(c, yaml(now.File, Number(now.Position)), ['--remove-meta']);
  await waitSynced(c, 'rt-task');
  await assertSame(up, down, [{ up: ['rt', 't'] }]);
});
