/**
 * Issue #16 item 5, the pure parts of three prechecks: what a task opens against max_connections, upstream tables
 * routed to one target without shard-mode, and where a meta binlog position stands against SHOW BINARY LOGS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionPlan, judgeConnections } from '../../agent/check/connections-plan.ts';
import { ignored } from '../../src/config/checking-items.ts';
import { streamError } from '../../agent/binlog/stream-error.ts';
import { judgeFilePosition } from '../../src/binlog/position-check.ts';
import { parseSourceConfig, parseTaskConfig } from '../../src/config/index.ts';
import { Errors } from '../../src/errors/index.ts';
import { describeCollision, routeCollisions } from '../../src/route/collisions.ts';

const task = (mode: string, inst: string, extra = '') =>
  parseTaskConfig(
    `name: t\ntask-mode: ${mode}\ntarget-database: { host: 10.0.0.9, port: 4000, user: root, password: "" }\nmysql-instances:\n${inst}${extra}`,
    'task.yaml',
  );
const source = (id: string, host: string) =>
  parseSourceConfig(`source-id: ${id}\nfrom: { host: ${host}, port: 3306, user: u, password: "" }\n`, 's.yaml');

test('connection plan: downstream sums the sources, each 1 checkpoint + the larger of load and sync (+ validator)', () => {
  const t = task(
    'all',
    '  - source-id: s1\n    syncer-thread: 16\n    loader-thread: 8\n    mydumper-thread: 4\n    validator-config-name: v\n  - source-id: s2\n    syncer-thread: 2\n',
    'validators:\n  v:\n    mode: full\n    worker-count: 3\n',
  );
  const plan = connectionPlan(t, { s1: source('s1', '10.0.0.1'), s2: source('s2', '10.0.0.1') });
  // s1: 1 + max(min(8, 4) load, 16 writers + 3 validators) = 20; s2: 1 + max(min(16, 4), 2) = 5.
  assert.equal(plan.downstream.total, 25);
  assert.equal(plan.downstream.server, '10.0.0.9:4000');
  assert.match(plan.downstream.parts[0]!, /s1: 1 checkpoint, 4 load worker\(s\), 16 sync writer\(s\) \+ 3 validator/);
  // Both sources on one upstream server: (4 dump threads + 1 lock) each.
  assert.equal(plan.upstreams.length, 1);
  assert.equal(plan.upstreams[0]!.total, 10);
  assert.deepEqual(plan.upstreams[0]!.sources, ['s1', 's2']);

  const inc = connectionPlan(task('incremental', '  - source-id: s1\n    syncer-thread: 100\n'), {
    s1: source('s1', '10.0.0.1'),
  });
  assert.equal(inc.downstream.total, 101, 'incremental: no load workers');
  assert.equal(inc.upstreams[0]!.total, 2, 'incremental: the binlog stream and a control connection');
  const full = connectionPlan(task('full', '  - source-id: s1\n    syncer-thread: 100\n'), {
    s1: source('s1', '10.0.0.1'),
  });
  assert.equal(full.downstream.total, 1 + 4, 'full: no sync writers');
});

test('connection verdict: DM semantics, failure above max_connections, warning above what is free, 0 is unlimited', () => {
  const need = connectionPlan(task('incremental', '  - source-id: s1\n    syncer-thread: 100\n'), {}).downstream;
  const fail = judgeConnections('downstream', need, { max: 50, used: 1, userMax: 0, userUsed: 0 });
  assert.equal(fail.error?.code, Errors.DownstreamConnLimit.code);
  assert.match(fail.error!.message, /up to 101 connection\(s\).*more than its max_connections 50/);
  const user = judgeConnections('upstream', need, { max: 1000, used: 1, userMax: 20, userUsed: 0 });
  assert.equal(user.error?.code, Errors.UpstreamConnLimit.code);
  assert.match(user.error!.message, /max_user_connections 20/);
  const warn = judgeConnections('downstream', need, { max: 151, used: 100, userMax: 0, userUsed: 0 });
  assert.equal(warn.error, undefined);
  assert.match(warn.warning!, /only 51 of its max_connections 151 are free now \(100 in use\)/);
  assert.deepEqual(judgeConnections('downstream', need, { max: 500, used: 10, userMax: 0, userUsed: 0 }), {});
  assert.deepEqual(judgeConnections('downstream', need, { max: 0, used: 900, userMax: 0, userUsed: 0 }), {}, 'TiDB');
});

test('route collisions: tables of one or several sources routed to one target, named with the fix', () => {
  const r = (source: string, schema: string, table: string, ts: string, tt: string) => ({
    source,
    table: { schema, table },
    target: { schema: ts, table: tt },
  });
  const tables = [
    r('s1', 'shop_1', 'orders', 'shop', 'orders'),
    r('s2', 'shop_2', 'orders', 'shop', 'orders'),
    r('s1', 'shop_1', 'items', 'shop', 'items'),
    r('s1', 'a', 'T', 'm', 'T'),
    r('s1', 'b', 't', 'm', 't'),
  ];
  const sensitive = routeCollisions(tables);
  assert.deepEqual(
    sensitive.map((c) => c.tables.map((t) => `${t.source}:${t.table.schema}.${t.table.table}`)),
    [['s1:shop_1.orders', 's2:shop_2.orders']],
  );
  const text = describeCollision(sensitive[0]!, true);
  assert.match(text, /`shop_1`\.`orders` \(s1\), `shop_2`\.`orders` \(s2\)/);
  assert.match(text, /routed to `shop`\.`orders` without shard-mode/);
  assert.match(text, /set shard-mode .*or fix the routes/);
  // case-sensitive: false (the default) compares routed names as DM's sameTableNameDetection does.
  assert.equal(routeCollisions(tables, true).length, 2);
  const many = routeCollisions(Array.from({ length: 7 }, (_, i) => r('s1', `d${i}`, 't', 'm', 't')));
  assert.match(describeCollision(many[0]!, false), /`d3`\.`t` and 3 more are all routed/);
  assert.equal(routeCollisions([tables[2]!, tables[0]!]).length, 0);
});

test('meta position against SHOW BINARY LOGS: purged, no such file, before the first event, past the end, in file', () => {
  const logs = [
    { name: 'mysql-bin.000003', size: 1000 },
    { name: 'mysql-bin.000004', size: 400 },
  ];
  assert.deepEqual(judgeFilePosition({ name: 'mysql-bin.000001', pos: 4 }, logs), {
    kind: 'purged',
    oldest: 'mysql-bin.000003',
  });
  assert.equal(judgeFilePosition({ name: 'mysql-bin.000009', pos: 4 }, logs).kind, 'no-such-file');
  assert.equal(judgeFilePosition({ name: 'binlog.000001', pos: 4 }, logs).kind, 'no-such-file', 'another base name');
  assert.equal(judgeFilePosition({ name: 'mysql-bin.000003', pos: 2 }, logs).kind, 'before-first-event');
  assert.deepEqual(judgeFilePosition({ name: 'mysql-bin.000004', pos: 401 }, logs), { kind: 'past-end', size: 400 });
  assert.deepEqual(judgeFilePosition({ name: 'mysql-bin.000004', pos: 400 }, logs), { kind: 'in-file', size: 400 });
  assert.equal(judgeFilePosition({ name: 'mysql-bin.000003', pos: 4 }, []).kind, 'unknown');
});

test('a 1236 of a GTID start is classified by the only thing the server gives: its text', () => {
  const e = (message: string) => Object.assign(new Error(message), { errno: 1236 });
  assert.equal(
    streamError(
      e("Error: connecting slave requested to start from GTID 0-1-99, which is not in the master's binlog"),
      '',
      1,
    ).code,
    Errors.BinlogPositionInvalid.code,
  );
  assert.equal(
    streamError(e('Could not find first log file name in binary log index file'), 'b.000001', 1).code,
    Errors.BinlogPurged.code,
    'without a diagnosis (start-position.ts), a missing file still reads as a purge',
  );
});

test('ignore-checking-items turns off conn_number and meta_position (all: both), as DM names them', () => {
  const inst = '  - source-id: s1\n';
  assert.equal(ignored(task('all', inst), 'conn_number'), false);
  const one = task('all', inst, 'ignore-checking-items: ["conn_number"]\n');
  assert.deepEqual([ignored(one, 'conn_number'), ignored(one, 'meta_position')], [true, false]);
  const all = task('all', inst, 'ignore-checking-items: ["all"]\n');
  assert.deepEqual([ignored(all, 'conn_number'), ignored(all, 'meta_position')], [true, true]);
});
