/**
 * Issue #18: `query-status --format dm` maps tsdm's status to DM's query-status JSON. Each field's mapping (or DM's
 * zero value where tsdm has no figure), DM dmctl's task-status rule, and the documented shape (test/harness/dm-shape).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayStatus, SourceView, TaskView } from '../../src/coord/index.ts';
import { deriveSync } from '../../src/coord/index.ts';
import { dmPercent, dmStatusList, dmTaskList } from '../../src/coord/dm-status.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import { assertDmStatusList, assertDmTaskList } from '../harness/dm-shape.ts';

const ERR: ErrorRecord = {
  code: 'TSDM-30007',
  class: 'downstream',
  retryable: false,
  message: 'DDL failed downstream',
  suggestion: 'dmctl binlog skip TASK',
  cause: "Unknown column 'x' (errno 1054)",
  context: { position: 'mysql-bin.000003:4242', sql: 'ALTER TABLE t DROP COLUMN x', table: 'shop.t' },
};

function source(over: Partial<SourceView>): SourceView {
  const base = { task: 't1', source: 'src1', agent: 'a1', stage: 'Running', unit: 'sync', generation: 1 } as const;
  const rec = { ...base, updatedAt: new Date().toISOString(), ...over };
  const sync = deriveSync({
    stage: rec.stage,
    unit: rec.unit,
    ...(rec.error ? { error: rec.error } : {}),
    sync: {
      master: { name: 'mysql-bin.000003', pos: 5000, gtid: '0-1-42' },
      synced: { name: 'mysql-bin.000003', pos: 4242 },
      lagSeconds: 3,
      rowsPerSecond: 812.6,
      totalRows: 10_000,
      totalEvents: 900,
      caughtUp: false,
      safeMode: false,
    },
  });
  return { agentAlive: true, ...rec, ...(rec.unit === 'sync' && sync ? { sync } : {}) } as SourceView;
}

const task = (name: string, sources: SourceView[]): TaskView => ({
  name,
  desiredStage: 'Running',
  sources: sources.map((s) => ({ ...s, task: name })),
  locks: [],
});

test('a running sync subtask: DM field names, jsonpb types, positions as (file, pos)', () => {
  const doc = dmStatusList([task('t1', [source({})])], []);
  assertDmStatusList(doc);
  const [src] = doc.sources;
  assert.equal(src!.result, true);
  assert.deepEqual(src!.sourceStatus, { source: 'src1', worker: 'a1', result: null, relayStatus: null });
  const st = src!.subTaskStatus[0]!;
  assert.equal(st.stage, 'Running');
  assert.equal(st.unit, 'Sync');
  assert.equal(st.result, null);
  const y = (st as unknown as { sync: Record<string, unknown> }).sync;
  assert.equal(y.masterBinlog, '(mysql-bin.000003, 5000)');
  assert.equal(y.masterBinlogGtid, '0-1-42');
  assert.equal(y.syncerBinlog, '(mysql-bin.000003, 4242)');
  assert.equal(y.secondsBehindMaster, '3');
  assert.equal(y.totalRows, '10000');
  assert.equal(y.recentRps, '812');
  assert.equal(y.totalEvents, '900');
  assert.equal(y.totalTps, '0', 'no figure in tsdm: DM zero value');
  assert.equal(y.binlogType, 'remote');
  assert.equal(y.synced, false);
  const list = dmTaskList(doc);
  assert.equal(list.full, false);
  assertDmTaskList(list.doc);
  assert.deepEqual(list.doc.tasks, [{ taskName: 't1', taskStatus: 'Running', sources: ['src1'] }]);
});

test('a subtask paused by an error: ProcessError fields and the task list says Error', () => {
  const doc = dmStatusList([task('t1', [source({ stage: 'Paused', error: ERR })])], []);
  assertDmStatusList(doc);
  const st = doc.sources[0]!.subTaskStatus[0]!;
  assert.equal(st.stage, 'Paused');
  assert.deepEqual(st.result, {
    isCanceled: false,
    errors: [
      {
        ErrCode: 930007,
        ErrClass: 'sync-unit',
        ErrScope: 'downstream',
        ErrLevel: 'high',
        Message:
          'position mysql-bin.000003:4242, table shop.t: DDL failed downstream; origin SQL: [ALTER TABLE t DROP COLUMN x]',
        RawCause: "Unknown column 'x' (errno 1054)",
        Workaround: 'dmctl binlog skip TASK',
      },
    ],
    detail: null,
  });
  assert.equal(
    dmTaskList(doc).doc.tasks[0]!.taskStatus,
    'Error - Some error occurred in subtask. Please run `query-status t1` to get more details.',
  );
});

test('paused by request: isCanceled, no errors, task Paused; stopped and finished too', () => {
  const paused = dmStatusList([task('t1', [source({ stage: 'Paused' })])], []);
  assertDmStatusList(paused);
  assert.deepEqual(paused.sources[0]!.subTaskStatus[0]!.result, { isCanceled: true, errors: [], detail: null });
  assert.equal(dmTaskList(paused).doc.tasks[0]!.taskStatus, 'Paused');
  // One paused source and one running one: the task is Paused (DM: any paused without error).
  const mixed = dmStatusList([task('t1', [source({ source: 'a' }), source({ source: 'b', stage: 'Paused' })])], []);
  assert.equal(dmTaskList(mixed).doc.tasks[0]!.taskStatus, 'Paused');
  const stopped = dmStatusList([task('t1', [source({ stage: 'Stopped' })])], []);
  assert.equal(dmTaskList(stopped).doc.tasks[0]!.taskStatus, 'Stopped');
  const finished = dmStatusList([task('t1', [source({ stage: 'Finished', unit: 'load' })])], []);
  assert.deepEqual(finished.sources[0]!.subTaskStatus[0]!.result, { isCanceled: false, errors: [], detail: null });
  assert.equal(dmTaskList(finished).doc.tasks[0]!.taskStatus, 'Finished');
});

test('load and dump units: progress from rows, bytes are DM zero values', () => {
  const load = { totalChunks: 10, doneChunks: 3, totalRows: 1000, doneRows: 2544, tables: 2 };
  load.doneRows = 254;
  const doc = dmStatusList(
    [task('t1', [source({ unit: 'load', load }), source({ source: 'src2', unit: 'dump', load })])],
    [],
  );
  assertDmStatusList(doc);
  const l = (doc.sources[0]!.subTaskStatus[0] as unknown as { load: Record<string, unknown> }).load;
  assert.deepEqual(l, {
    finishedBytes: '0',
    totalBytes: '0',
    progress: '25.40 %',
    metaBinlog: '',
    metaBinlogGTID: '',
    bps: '0',
  });
  const d = (doc.sources[1]!.subTaskStatus[0] as unknown as { dump: Record<string, unknown> }).dump;
  assert.equal(d.totalTables, '2');
  assert.equal(d.estimateTotalRows, 1000);
  assert.equal(dmPercent(1, 3), '33.33 %');
  assert.equal(dmPercent(0, 0), '0.00 %');
});

test('relay: DM RelayStatus, binlogType local, a stopped relay makes a running sync task Error', () => {
  const relay: RelayStatus = {
    source: 'src1',
    agent: 'a1',
    stage: 'Stopped',
    master: { name: 'mysql-bin.000003', pos: 5000 },
    relayPos: { name: 'mysql-bin.000003', pos: 5000 },
    segment: 2,
    serverUuid: 'abc',
    lagSeconds: 0,
    firstSeq: 1,
    lastSeq: 9,
    readers: 1,
    size: { fileBytes: 1, usedBytes: 1, reusableBytes: 0, records: 9 },
    upstreamPaused: false,
    upstreamPauses: 0,
    eventsPerSecond: 0,
    updatedAt: new Date().toISOString(),
  };
  const doc = dmStatusList([task('t1', [source({})])], [relay]);
  assertDmStatusList(doc);
  const r = doc.sources[0]!.sourceStatus.relayStatus!;
  assert.equal(r.relaySubDir, 'abc.000002');
  assert.equal(r.relayCatchUpMaster, true);
  assert.equal(r.stage, 'Stopped');
  assert.equal(
    (doc.sources[0]!.subTaskStatus[0] as unknown as { sync: { binlogType: string } }).sync.binlogType,
    'local',
  );
  assert.equal(
    dmTaskList(doc).doc.tasks[0]!.taskStatus,
    'Error - Relay status is Stopped. Please run `query-status t1` to get more details.',
  );
});

test('an offline agent or an unreported source: result false, so the task list turns into the full list', () => {
  const doc = dmStatusList([task('t1', [source({ agentAlive: false })])], []);
  assertDmStatusList(doc);
  assert.equal(doc.sources[0]!.result, false);
  assert.match(doc.sources[0]!.msg, /offline/);
  assert.equal(dmTaskList(doc).full, true);
});

test('a pessimistic shard lock: unresolvedDDLLockID, blockingDDLs and unresolvedGroups of the source', () => {
  const t = task('t1', [source({})]);
  t.locks = [
    {
      id: 't1-`shop`.`orders`',
      task: 't1',
      target: 'shop.orders',
      mode: 'pessimistic',
      stage: 'waiting',
      owner: 'src1',
      ddls: ['ALTER TABLE `shop`.`orders` ADD COLUMN c INT'],
      reached: ['src1/shop_1.orders'],
      waiting: ['src1/shop_2.orders', 'src2/shop_3.orders'],
      createdAt: new Date().toISOString(),
    },
  ];
  const doc = dmStatusList([t], []);
  assertDmStatusList(doc);
  const st = doc.sources[0]!.subTaskStatus[0] as unknown as {
    unresolvedDDLLockID: string;
    sync: { blockingDDLs: string[]; unresolvedGroups: { target: string; synced: string[]; unsynced: string[] }[] };
  };
  assert.equal(st.unresolvedDDLLockID, 't1-`shop`.`orders`');
  assert.deepEqual(st.sync.blockingDDLs, ['ALTER TABLE `shop`.`orders` ADD COLUMN c INT']);
  assert.equal(st.sync.unresolvedGroups[0]!.target, '`shop`.`orders`');
  assert.deepEqual(st.sync.unresolvedGroups[0]!.synced, ['`shop_1`.`orders`']);
  assert.deepEqual(st.sync.unresolvedGroups[0]!.unsynced, ['`shop_2`.`orders`']);
});
