/**
 * The binlog reader's queue (agent/binlog/event-queue.ts): once the stream failed, nothing more is queued, so a
 * transaction that was being read when it failed can never reach the sync unit without the rows that failed; what
 * was queued before the failure is handed out first, then the error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DmError } from '../../src/errors/index.ts';
import { EventQueue } from '../../agent/binlog/event-queue.ts';
import { type BinlogEvent, eventEnd } from '../../agent/binlog/events.ts';

const txn = (pos: number): BinlogEvent => ({ kind: 'txn', changes: [], end: { name: 'b.000001', pos }, timestamp: 0 });

test('events queued before a failure come out, then the error; nothing pushed after it is handed out', async () => {
  const q = new EventQueue(() => undefined, 100, 10);
  q.push(txn(100));
  q.fail(new DmError('UnsupportedEvent', 'table map failed'));
  q.push(txn(200)); // zongji kept emitting: the commit of the transaction that failed
  assert.deepEqual(eventEnd(await q.next(10)), { name: 'b.000001', pos: 100 });
  await assert.rejects(q.next(10), /table map failed/);
  assert.equal(q.length, 0);
});

test('events come out in order across the dropped prefix, interleaved with pushes', async () => {
  const q = new EventQueue(() => undefined, 1e9, 0);
  let pushed = 0;
  let taken = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3000; i++) q.push(txn(++pushed));
    for (let i = 0; i < 2500; i++) assert.equal(eventEnd(await q.next(0))?.pos, ++taken);
    assert.equal(q.length, pushed - taken);
  }
  while (taken < pushed) assert.equal(eventEnd(await q.next(0))?.pos, ++taken);
  assert.equal(await q.next(0), undefined);
  assert.equal(q.length, 0);
});

test("a large transaction's parts count toward backpressure: the connection pauses above high water, resumes below low", async () => {
  const calls: string[] = [];
  const q = new EventQueue(() => ({ pause: () => calls.push('pause'), resume: () => calls.push('resume') }), 25, 10);
  const part = (rows: number): BinlogEvent => ({
    kind: 'txn-part',
    changes: Array.from({ length: rows }, () => ({ op: 'insert', schema: 's', table: 't', info: {} }) as never),
  });
  q.push(part(10));
  q.push(part(10));
  assert.deepEqual(calls, []);
  q.push(part(10)); // 30 rows queued
  assert.deepEqual(calls, ['pause']);
  assert.equal((await q.next(0))?.kind, 'txn-part'); // 20: still above low water
  assert.deepEqual(calls, ['pause']);
  await q.next(0);
  await q.next(0); // 0
  assert.deepEqual(calls, ['pause', 'resume']);
});
