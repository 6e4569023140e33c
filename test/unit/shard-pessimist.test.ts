/**
 * Invariant protected (agent/shard/pessimist.ts, protocol steps 0–6 in its header): a shard DDL runs downstream once,
 * by the lock's owner, only after every source joined and every shard reached the same DDL (or `unlock` forced it);
 * a shard that reached it applies none of its later events until the lock is done and it released them; a shard
 * reaching a different DDL is refused (TSDM-50005) before anything is written; the lock is deleted only by the last
 * source to release its shards, and `unlock --action skip` releases every shard without running the DDL.
 *
 * The pessimist already reaches `dm_locks` through the ShardLocks interface (agent/unit.ts), so no production
 * change was needed: an in-memory ShardLocks (memory-shard-locks.ts) stands for the NATS KV one (agent/shard/locks.ts), shared by the
 * Pessimist of every source, and a Map stands for the downstream `<task>_shard_hold` rows.
 *
 * Not here: who acts on these decisions is ShardCoordinator.onDdl / tick in agent/shard/coordinator.ts (the seam
 * the sync unit calls; the downstream DDL, the barrier flush and the stream rewind are the sync unit's, behind it).
 * "The owner executes, the others only release" is asserted below as the predicate tick acts on (isOwnerReady) plus
 * the lock's stages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import pino from 'pino';
import { Pessimist } from '../../agent/shard/pessimist.ts';
import type { ShardHold } from '../../agent/checkpoint-holds.ts';
import type { SubtaskContext } from '../../agent/unit.ts';
import { unlockLock } from '../../src/shard/lock.ts';
import { MemoryShardLocks, trackerWith } from './memory-shard-locks.ts';
import { isDmError } from '../../src/errors/index.ts';

const TARGET = { schema: 'm', table: 't' };
const DDL = ['ALTER TABLE `m`.`t` ADD COLUMN `c` INT'];
/** Every shard table of every source routes to m.t. */
const SHARDS: Record<string, string[]> = { s1: ['d.t1', 'd.t2'], s2: ['d.t3'] };
/** A never-used connection: the pessimist passes it to the checkpoint store only, which is faked here. */
const DOWN = {} as Connection;
const pos = (p: number) => ({ name: 'b.000001', pos: p });

interface Source {
  p: Pessimist;
  holdRows: Map<string, ShardHold>;
  released: string[];
}

function source(id: string, locks: MemoryShardLocks, abort = new AbortController()): Source {
  const holdRows = new Map<string, ShardHold>();
  const released: string[] = [];
  const ckpt = {
    readHolds: () => Promise.resolve([...holdRows.values()].map((h) => ({ ...h }))),
    releaseHold: (_c: Connection, schema: string, table: string) => {
      released.push(`${schema}.${table}`);
      const h = holdRows.get(`${schema}.${table}`);
      if (h) h.blocked = false;
      return Promise.resolve();
    },
    deleteHold: (_c: Connection, schema: string, table: string) => {
      holdRows.delete(`${schema}.${table}`);
      return Promise.resolve();
    },
    holdAppliedSql: (schema: string, table: string) => ({ sql: 'applied', params: [schema, table] }),
  };
  const ctx = {
    task: { name: 'task', subtasks: Object.keys(SHARDS).map((sourceId) => ({ sourceId })) },
    spec: { sourceId: id },
    ckpt,
    rules: { allowTable: () => true, route: () => ({ ...TARGET }) },
    log: pino({ level: 'silent' }),
    signal: abort.signal,
  };
  // Only the members the pessimist uses are provided (task name and sources, source id, the hold rows of the
  // checkpoint store, allowTable/route, log, signal): a cast instead of a full SubtaskContext with servers behind it.
  return { p: new Pessimist(ctx as unknown as SubtaskContext, locks), holdRows, released };
}

/** Steps 0–2 for shard `table` of source `s` reaching `ddls` at `at`, as ShardCoordinator.onDdl and the barrier run them. */
async function reachDdl(s: Source, id: string, table: string, ddls: string[], at: number): Promise<ShardHold> {
  const [schema, name] = table.split('.') as [string, string];
  await s.p.check(DOWN, schema, name, TARGET, ddls, pos(at));
  const h = s.p.holdFor(schema, name, TARGET, ddls, pos(at), trackerWith(SHARDS[id]!).toJSON());
  s.p.holds.set(table, h);
  s.holdRows.set(table, { ...h }); // durable in the barrier transaction
  assert.equal(await s.p.reach(h), true);
  return h;
}

test('the first shard to reach a DDL creates the lock, owns it, and holds its table; the lock waits for the rest', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  await reachDdl(s1, 's1', 'd.t1', DDL, 100);
  const lock = locks.get(TARGET)!;
  assert.equal(lock.owner, 's1');
  assert.deepEqual(lock.ddls, DDL);
  assert.equal(lock.stage, 'waiting');
  assert.deepEqual(lock.sources, ['s1', 's2']);
  assert.deepEqual(lock.joined, ['s1']);
  assert.deepEqual(Object.fromEntries(Object.entries(lock.shards).map(([k, v]) => [k, v.reached])), {
    's1/d.t1': true,
    's1/d.t2': false,
  });
  assert.equal(s1.p.isOwnerReady(lock), false, 'not every shard reached it');
  // The held table's events wait; the other tables flow.
  assert.equal(s1.p.decide('d', 't1', pos(150)), 'skip');
  assert.equal(s1.p.decide('d', 't2', pos(150)), 'normal');
  // Reaching again (a retry after a crash between steps 1 and 2) changes nothing.
  const before = structuredClone(locks.get(TARGET));
  assert.equal(await s1.p.reach(s1.p.holds.get('d.t1')!), true);
  assert.deepEqual(locks.get(TARGET), before);
  assert.deepEqual(
    s1.p.blockedTargets().map((b) => [b.target, b.holds.map((h) => h.table)]),
    [[TARGET, ['t1']]],
  );
});

test('all shards of all sources arrive: only the owner is ready to execute; all release; the last ack deletes the lock', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  const s2 = source('s2', locks);
  await reachDdl(s1, 's1', 'd.t1', DDL, 100);
  await s2.p.joinAll(trackerWith(SHARDS['s2']!));
  assert.deepEqual(locks.get(TARGET)!.joined, ['s1', 's2']);
  assert.ok(Object.keys(locks.get(TARGET)!.shards).includes('s2/d.t3'));
  await reachDdl(s1, 's1', 'd.t2', ['alter table `m`.`t`  add column `c` int'], 120); // same DDL, other case/spacing
  assert.equal(s1.p.isOwnerReady(locks.get(TARGET)!), false, 's2/d.t3 has not reached it');
  await reachDdl(s2, 's2', 'd.t3', DDL, 300);
  const ready = locks.get(TARGET)!;
  assert.equal(s1.p.isOwnerReady(ready), true, 'owner: runs the DDL (ShardCoordinator.tick)');
  assert.equal(s2.p.isOwnerReady(ready), false, 'not the owner: never runs it');
  // Step 4 by the owner; a crash while executing leaves it ready to run again (accepting "already done").
  await s1.p.setStage(TARGET, 'executing');
  assert.equal(s1.p.isOwnerReady(locks.get(TARGET)!), true);
  assert.equal(s2.p.isOwnerReady(locks.get(TARGET)!), false);
  await s1.p.setStage(TARGET, 'done');
  assert.equal(s1.p.isOwnerReady(locks.get(TARGET)!), false, 'done: nothing to execute any more');
  // Step 5: s2 releases first; the lock stays until s1 acked too.
  const first2 = await s2.p.release(DOWN, TARGET, locks.get(TARGET));
  assert.deepEqual([first2?.table, s2.released], ['t3', ['d.t3']]);
  assert.deepEqual(locks.get(TARGET)!.acked, ['s2']);
  const first1 = await s1.p.release(DOWN, TARGET, locks.get(TARGET));
  assert.equal(first1?.table, 't1', 'the replay starts at the lowest hold start');
  assert.deepEqual(s1.released.sort(), ['d.t1', 'd.t2']);
  assert.equal(locks.get(TARGET), undefined, 'the last ack deleted the lock');
  // Step 6: released but not rewound yet → still skipped; after the rewind, events after `applied` are forced.
  assert.equal(s1.p.decide('d', 't1', pos(150)), 'skip');
  assert.equal(s1.p.resumeFrom(pos(400), pos(400))?.start.pos, 100, 'a restart now would resume at the hold start');
  s1.p.replayStarted(pos(100));
  assert.equal(s1.p.decide('d', 't1', pos(100)), 'skip', 'the DDL itself is already applied');
  assert.equal(s1.p.decide('d', 't1', pos(150)), 'forced');
  assert.equal(s1.p.behind(pos(150)), true);
  assert.deepEqual(
    s1.p.appliedSqls(pos(150)).map((x) => x.params),
    [
      ['d', 't1'],
      ['d', 't2'],
    ],
  );
  s1.p.markApplied(pos(400));
  await s1.p.afterFlush(DOWN, pos(400));
  assert.equal(s1.p.holds.size, 0, 'caught up with the writer checkpoints: holds deleted');
  assert.equal(s1.p.decide('d', 't1', pos(500)), 'normal');
});

test('a shard reaching a different DDL is refused before anything is written (TSDM-50005)', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  const s2 = source('s2', locks);
  await reachDdl(s1, 's1', 'd.t1', DDL, 100);
  const before = structuredClone(locks.get(TARGET));
  await assert.rejects(
    s2.p.check(DOWN, 'd', 't3', TARGET, ['ALTER TABLE `m`.`t` ADD COLUMN `c` BIGINT'], pos(300)),
    (e: unknown) => isDmError(e) && e.code === 'TSDM-50005' && /BIGINT/.test(e.message) && /s1 d\.t1/.test(e.message),
  );
  assert.deepEqual(locks.get(TARGET), before, 'the lock is unchanged');
  assert.equal(s2.p.holds.size, 0);
  // The same DDL passes the check.
  await s2.p.check(DOWN, 'd', 't3', TARGET, DDL, pos(300));
});

test('unlock --action exec: forced ready, the owner executes; --action skip: done at once, nobody executes, all release', async () => {
  for (const action of ['exec', 'skip'] as const) {
    const locks = new MemoryShardLocks();
    const s1 = source('s1', locks);
    await reachDdl(s1, 's1', 'd.t1', DDL, 100);
    assert.equal(s1.p.isOwnerReady(locks.get(TARGET)!), false);
    await locks.mutate(TARGET, (c) => unlockLock(c!, { action, forceRemove: ['s2', 's1/d.t2'] }, 'now'));
    const l = locks.get(TARGET)!;
    if (action === 'exec') {
      assert.equal(s1.p.isOwnerReady(l), true);
      await s1.p.setStage(TARGET, 'executing');
      await s1.p.setStage(TARGET, 'done');
    } else {
      assert.equal(l.stage, 'done');
      assert.equal(s1.p.isOwnerReady(l), false, 'skip: the DDL is never run');
    }
    await s1.p.release(DOWN, TARGET, locks.get(TARGET));
    assert.deepEqual(s1.released, ['d.t1']);
    assert.equal(locks.get(TARGET), undefined, `${action}: released and deleted`);
  }
});

test('a source reaching the next round waits until every source released the previous one', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  const s2 = source('s2', locks);
  await reachDdl(s1, 's1', 'd.t1', DDL, 100);
  await reachDdl(s1, 's1', 'd.t2', DDL, 110);
  await s2.p.joinAll(trackerWith(SHARDS['s2']!));
  await reachDdl(s2, 's2', 'd.t3', DDL, 300);
  await s1.p.setStage(TARGET, 'executing');
  await s1.p.setStage(TARGET, 'done');
  // s1's t1 reaches the next DDL before s1's loop saw `done`: check() releases s1's shards, then waits for s2.
  const next = ['ALTER TABLE `m`.`t` ADD COLUMN `d` INT'];
  let returned = false;
  const waiting = s1.p.check(DOWN, 'd', 't1', TARGET, next, pos(200)).then(() => {
    returned = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(s1.released.sort(), ['d.t1', 'd.t2'], "this source's shards of the done round released first");
  assert.equal(returned, false, 'the round is not deleted while s2 still holds its shard');
  assert.equal(s1.p.dirty(), true, 'a pending replay of the released shards is signalled to the loop');
  assert.equal(s1.p.takePendingReplay()?.table, 't1');
  await s2.p.release(DOWN, TARGET, locks.get(TARGET));
  await waiting;
  assert.equal(returned, true);
  assert.equal(locks.get(TARGET), undefined);
});

test('a wait for the previous round ends with an error when the subtask is stopped', async () => {
  const locks = new MemoryShardLocks();
  const abort = new AbortController();
  const s1 = source('s1', locks, abort);
  await locks.mutate(TARGET, () => ({
    ...unlockLock(
      {
        task: 'task',
        targetSchema: 'm',
        targetTable: 't',
        mode: 'pessimistic',
        ddls: DDL,
        owner: 's2',
        sources: ['s1', 's2'],
        joined: ['s1', 's2'],
        shards: { 's2/d.t3': { source: 's2', table: 'd.t3', reached: true, position: 'b.000001:300' } },
        stage: 'waiting',
        acked: [],
        createdAt: 'x',
        updatedAt: 'x',
      },
      { action: 'exec' },
      'x',
    ),
    stage: 'executing',
  }));
  const p = s1.p.check(DOWN, 'd', 't1', TARGET, DDL, pos(100));
  abort.abort();
  await locks.mutate(TARGET, (c) => ({ ...c!, updatedAt: 'y' })); // any change wakes the waiter
  await assert.rejects(p, (e: unknown) => isDmError(e) && e.code === 'TSDM-60001');
});

test('restart in the middle of step 5: an unblocked hold with its lock done is released and acked at load', async () => {
  const locks = new MemoryShardLocks();
  const s1 = source('s1', locks);
  const s2 = source('s2', locks);
  await reachDdl(s1, 's1', 'd.t1', DDL, 100);
  await reachDdl(s1, 's1', 'd.t2', DDL, 110);
  await s2.p.joinAll(trackerWith(SHARDS['s2']!));
  await reachDdl(s2, 's2', 'd.t3', DDL, 300);
  await s1.p.setStage(TARGET, 'executing');
  await s1.p.setStage(TARGET, 'done');
  await s2.p.release(DOWN, TARGET, locks.get(TARGET));
  // s1 crashed after unblocking t1's row, before t2's and before its ack.
  s1.holdRows.get('d.t1')!.blocked = false;
  const again = source('s1', locks);
  for (const [k, h] of s1.holdRows) again.holdRows.set(k, h);
  await again.p.load(DOWN);
  assert.deepEqual(again.released, ['d.t2'], 'the release is finished before the ack');
  assert.equal(locks.get(TARGET), undefined, 'acked: the lock is deleted');
  assert.equal(again.p.resumeFrom(pos(500), pos(500))?.start.pos, 100, 'the stream rewinds to the released holds');
});
