/**
 * Invariant protected (agent/shard/coordinator.ts, the one seam between the sync unit and shard-DDL coordination):
 * for a DDL event the coordinator says `normal` (apply as without shards), `done` (nothing more to do) or `hold`
 * (run nothing; the rows to write with the barrier, then `reached`), following DM: CREATE passes, DROP/TRUNCATE never
 * reach the merged table, a RENAME TABLE within the shard group changes nothing downstream, a `binlog skip` decision goes the usual way, an event the writers are
 * past is done. On `tick`, only the lock's owner runs the DDL (once, through the sync unit's `exec`), every source
 * releases its shards, and the replay position is returned only when the stream has passed it.
 *
 * The sync unit is replaced by a SyncHost that records what it is asked to do; `dm_locks` is in memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import pino from 'pino';
import type { QueryEvent } from '../../agent/binlog/events.ts';
import type { ShardHold } from '../../agent/checkpoint-holds.ts';
import { ShardCoordinator, type SyncHost } from '../../agent/shard/coordinator.ts';
import type { SubtaskContext } from '../../agent/unit.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { isDmError } from '../../src/errors/index.ts';
import { MemoryShardLocks, trackerWith } from './memory-shard-locks.ts';

const TARGET = { schema: 'm', table: 't' };
/** Every shard table of every source routes to m.t. */
const SHARDS: Record<string, string[]> = { s1: ['d.t1', 'd.t2'], s2: ['d.t3'] };
const pos = (p: number): BinlogPosition => ({ name: 'b.000001', pos: p });
const routed = (sql: string) => sql.replace(/`d`\.`t\d`/, '`m`.`t`');

/** A DDL event; `trackerAfter` = the source's shard tables (what a hold saves, and the lock's shards come from). */
function ddl(sql: string, at: number, shards: string[] = []): QueryEvent {
  const trackerAfter = trackerWith(shards).toJSON();
  return { kind: 'query', schema: 'd', sql, trackerAfter, tablesBefore: [], end: pos(at), timestamp: 0 };
}

interface Source {
  id: string;
  c: ShardCoordinator;
  /** What the coordinator asked the sync unit to run downstream. */
  execs: { sql: string; again: boolean }[];
  flushes: number;
  flush: () => Promise<void>;
  /** The writers' checkpoints and the stream's read position, as the test sets them. */
  at: { writers: number; read: number };
  ops: Map<string, { op: 'skip' | 'replace'; sqls?: string[] }>;
}

function source(id: string, locks: MemoryShardLocks, mode: 'pessimistic' | 'optimistic' = 'pessimistic'): Source {
  const holdRows = new Map<string, ShardHold>();
  const ckpt = {
    readHolds: () => Promise.resolve([...holdRows.values()]),
    releaseHold: () => Promise.resolve(),
    deleteHold: () => Promise.resolve(),
    holdAppliedSql: (schema: string, table: string) => ({ sql: 'applied', params: [schema, table] }),
    holdSql: (h: ShardHold) => ({ sql: 'hold', params: [h.schema, h.table] }),
    checkFence: () => Promise.resolve(),
  };
  const ops = new Map<string, { op: 'skip' | 'replace'; sqls?: string[] }>();
  const ctx = {
    task: {
      name: 'task',
      shardMode: mode,
      subtasks: Object.keys(SHARDS).map((sourceId) => ({ sourceId })),
    },
    spec: { sourceId: id },
    ckpt,
    shardLocks: locks,
    rules: { allowTable: () => true, allowSchema: () => true, route: () => ({ ...TARGET }) },
    binlogOp: (p: string) => ops.get(p),
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
  };
  const s: Source = {
    id,
    c: undefined as unknown as ShardCoordinator,
    execs: [],
    flushes: 0,
    flush: () => {
      s.flushes++;
      return Promise.resolve();
    },
    at: { writers: 50, read: 50 },
    ops,
  };
  const host: SyncHost = {
    down: () => ({}) as Connection,
    writers: () => ({ min: pos(s.at.writers), max: pos(s.at.writers) }),
    tracker: () => trackerWith(SHARDS[id]!),
    readPos: () => pos(s.at.read),
    plan: (sql) => [routed(sql)],
    exec: (sql, opts) => {
      s.execs.push({ sql, again: opts.again });
      return Promise.resolve();
    },
  };
  // Only the members the coordinator and the pessimist use are provided: a cast instead of a full SubtaskContext.
  s.c = ShardCoordinator.create(ctx as unknown as SubtaskContext, host)!;
  return s;
}

/** The sync unit's part of steps 1–2: the barrier carrying the hold committed, then the lock counts the shard. */
async function reachDdl(s: Source, sql: string, at: number): Promise<ShardHold> {
  const r = await s.c.onDdl(ddl(sql, at, SHARDS[s.id]));
  assert.ok(typeof r === 'object' && r.reach, `a hold for ${sql}`);
  assert.deepEqual(
    r.hold.map((h) => h.sql),
    ['hold'],
  );
  await s.c.reached(r.reach);
  return r.reach;
}

const ALTER = (t: string) => `ALTER TABLE \`d\`.\`${t}\` ADD COLUMN \`c\` INT`;

test('no coordinator without a shard mode or a lock store', () => {
  const ctx = { task: { shardMode: undefined }, shardLocks: new MemoryShardLocks() };
  assert.equal(ShardCoordinator.create(ctx as unknown as SubtaskContext, {} as SyncHost), undefined);
  const noLocks = { task: { shardMode: 'pessimistic' } };
  assert.equal(ShardCoordinator.create(noLocks as unknown as SubtaskContext, {} as SyncHost), undefined);
});

test('onDdl: CREATE passes, DROP/TRUNCATE/RENAME within the group are held without running, past events are done', async () => {
  const s = source('s1', new MemoryShardLocks());
  assert.equal(await s.c.onDdl(ddl('CREATE TABLE `d`.`t9` (id INT PRIMARY KEY)', 100)), 'normal');
  assert.deepEqual(await s.c.onDdl(ddl('DROP TABLE `d`.`t1`', 100)), { hold: [] });
  assert.deepEqual(await s.c.onDdl(ddl('TRUNCATE TABLE `d`.`t1`', 100)), { hold: [] });
  // Both names route to m.t: DM's routed `RENAME TABLE m.t TO m.t` changes nothing; no lock, nothing runs.
  assert.deepEqual(await s.c.onDdl(ddl('RENAME TABLE `d`.`t1` TO `d`.`t8`', 100)), { hold: [] });
  await assert.rejects(s.c.onDdl(ddl('RENAME TABLE `d`.`t1` TO `d`.`t8`, `d`.`t2` TO `d`.`t7`', 100)), (e) =>
    isDmError(e) ? e.code === 'TSDM-50010' : false,
  );
  assert.deepEqual(s.execs, []);
  // The writers are already past the event (a replay after a restart): nothing more to do.
  assert.equal(await s.c.onDdl(ddl(ALTER('t1'), 40)), 'done');
  // `dmctl binlog skip` decided on this event: the usual path skips it.
  s.ops.set('b.000001:100', { op: 'skip' });
  assert.equal(await s.c.onDdl(ddl(ALTER('t1'), 100)), 'normal');
  assert.equal(s.c.held, 0);
  assert.equal(s.c.mergesCreateTable, true);
});

test('onDdl: an ALTER on a shard is held; its rows wait while the other shards flow', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  await reachDdl(s1, ALTER('t1'), 100);
  assert.equal(s1.c.held, 1);
  assert.equal(s1.c.rowDecision('d', 't1', pos(150)), 'skip');
  assert.equal(s1.c.rowDecision('d', 't2', pos(150)), 'normal');
  const lock = locks.get(TARGET)!;
  assert.equal(lock.owner, 's1');
  assert.deepEqual(lock.ddls, ['ALTER TABLE `m`.`t` ADD COLUMN `c` INT']);
  assert.equal(lock.stage, 'waiting');
  // Held and reached: the same event read again (the hold is blocked) needs nothing more.
  assert.equal(await s1.c.onDdl(ddl(ALTER('t1'), 100, SHARDS['s1'])), 'done');
});

test('tick: only the owner runs the DDL, once; every source releases; the replay starts only where the stream passed', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  const s2 = source('s2', locks);
  await reachDdl(s1, ALTER('t1'), 100);
  await reachDdl(s1, ALTER('t2'), 120);
  // s2 joins the lock at its first tick; nothing of its own is held, so nothing to replay.
  assert.equal(await s2.c.tick(s2.flush), undefined);
  assert.deepEqual(locks.get(TARGET)!.joined, ['s1', 's2']);
  await reachDdl(s2, ALTER('t3'), 300);
  // Not the owner: s2 never runs the DDL.
  assert.equal(await s2.c.tick(s2.flush), undefined);
  assert.deepEqual(s2.execs, []);
  // The owner: flush, run the DDL once, mark the lock done, release its shards; its stream (at 130) passed their
  // DDL (100), so it must rewind there.
  s1.at = { writers: 130, read: 130 };
  const replay = await s1.c.tick(s1.flush);
  assert.deepEqual(s1.execs, [{ sql: 'ALTER TABLE `m`.`t` ADD COLUMN `c` INT', again: false }]);
  assert.ok(s1.flushes >= 1, 'the batch is flushed before the DDL');
  assert.deepEqual(replay?.start, pos(100));
  // Released, but until the stream is rewound its rows come again with the replay.
  assert.equal(s1.c.rowDecision('d', 't1', pos(110)), 'skip');
  s1.c.replayStarted(pos(100));
  assert.equal(s1.c.rowDecision('d', 't1', pos(110)), 'forced');
  assert.equal(s1.c.rowDecision('d', 't1', pos(100)), 'skip', 'the DDL itself is not replayed');
  assert.equal(s1.c.behind(pos(110)), true);
  // s2's stream (at 200) has not reached its shard's DDL (300): no rewind, the stream reaches it in order.
  s2.at = { writers: 200, read: 200 };
  assert.equal(await s2.c.tick(s2.flush), undefined);
  assert.deepEqual(s2.execs, []);
  assert.equal(s2.c.rowDecision('d', 't3', pos(310)), 'forced');
  // The last ack deleted the lock.
  assert.equal(locks.get(TARGET), undefined);
});

test('optimistic mode: rows never wait and the merged CREATE TABLE is not special', () => {
  const s = source('s1', new MemoryShardLocks(), 'optimistic');
  assert.equal(s.c.rowDecision('d', 't1', pos(150)), 'normal');
  assert.equal(s.c.behind(pos(150)), false);
  assert.deepEqual(s.c.appliedSqls(pos(150)), []);
  assert.equal(s.c.mergesCreateTable, false);
  assert.equal(s.c.held, 0);
});

test('pessimistic RENAME TABLE: an open lock waits on the new name; a held shard cannot be renamed until its lock ran', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  const s2 = source('s2', locks);
  await reachDdl(s2, ALTER('t3'), 100);
  assert.equal(await s1.c.tick(s1.flush), undefined); // s1 joins with d.t1 and d.t2
  assert.deepEqual(Object.keys(locks.get(TARGET)!.shards).sort(), ['s1/d.t1', 's1/d.t2', 's2/d.t3']);
  assert.deepEqual(await s1.c.onDdl(ddl('RENAME TABLE `d`.`t1` TO `d`.`t8`', 120, ['d.t8', 'd.t2'])), { hold: [] });
  assert.deepEqual(Object.keys(locks.get(TARGET)!.shards).sort(), ['s1/d.t2', 's1/d.t8', 's2/d.t3']);
  // s2's shard is held by the lock: its rename would let rows under the new name pass the lock's DDL.
  const rename = ddl('RENAME TABLE `d`.`t3` TO `d`.`t6`', 150, ['d.t6']);
  await assert.rejects(s2.c.onDdl(rename), (e) =>
    isDmError(e)
      ? e.code === 'TSDM-50006' && e.context.sql === rename.sql && e.context.position === 'b.000001:150'
      : false,
  );
  s2.ops.set('b.000001:150', { op: 'skip' });
  assert.equal(await s2.c.onDdl(rename), 'done', "the user decided: skipped like the held shard's other events");
});

test('optimistic: RENAME TABLE pauses; its `binlog skip` moves the shard to its new name in the lock record', async () => {
  const locks = new MemoryShardLocks();
  const s = source('s1', locks, 'optimistic');
  await s.c.start(pos(50), trackerWith(SHARDS['s1']!));
  const rename = ddl('RENAME TABLE `d`.`t1` TO `d`.`t8`', 100, ['d.t8', 'd.t2']);
  await assert.rejects(s.c.onDdl(rename), (e) =>
    isDmError(e)
      ? e.code === 'TSDM-50006' && /^`RENAME TABLE` statement not supported in optimistic mode/.test(e.message)
      : false,
  );
  s.ops.set('b.000001:100', { op: 'skip' });
  assert.equal(await s.c.onDdl(rename), 'normal');
  assert.deepEqual(Object.keys(locks.get(TARGET)!.shards).sort(), ['s1/d.t2', 's1/d.t8']);
  await assert.rejects(s.c.onDdl(ddl('ALTER TABLE `d`.`t2` RENAME COLUMN `a` TO `b`', 200, ['d.t8', 'd.t2'])), (e) =>
    isDmError(e) ? e.code === 'TSDM-50008' : false,
  );
  assert.deepEqual(s.execs, []);
});
