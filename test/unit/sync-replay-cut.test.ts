/**
 * Invariant protected (agent/sync/state.ts replayTo, resume.ts mayCut, unit.ts): after a stop with one writer's share
 * of a batch committed and another's not, the replay from the lower checkpoint cuts its first batch nowhere before the
 * higher one. The dispatcher's choice of writer for a change depends on the batch's earlier changes (a key one of
 * them owns pulls the change to its writer), so only the same batch from the same start gives every replayed change
 * the writer it had, and a writer's skip of what its checkpoint covers skips only what that writer committed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { causalityKeys, Dispatcher, type RoutedChange, type Txn } from '../../agent/sync/dispatcher.ts';
import { hash } from '../../agent/hash.ts';
import { mayCut } from '../../agent/sync/resume.ts';
import { col, table, upd } from './sync-fixtures.ts';

const T = table(
  't',
  [col('id', { nullable: false }), col('uk', { collation: 'utf8mb4_bin' }), col('v')],
  ['id'],
  [['uk']],
);
let seq = 0;
const txn = (...changes: RoutedChange[]): Txn => {
  const end = { name: 'b.000001', pos: ++seq * 100 };
  return { end, changes: changes.map((c) => ({ ...c, txnEnd: end })) };
};
const writerOf = (d: Dispatcher, rc: RoutedChange): number =>
  d.perWriter.findIndex((l) => l.some((c) => c.change === rc.change));
const pkWriter = (id: string) => hash(causalityKeys(upd(T, { id, uk: null }, { id, uk: null }))[0]!) % 2;

test('a unique value moving between rows: its writer depends on where the batch starts', () => {
  const a = '1';
  let b = '2';
  while (pkWriter(b) === pkWriter(a)) b = String(Number(b) + 1);
  const free = upd(T, { id: a, uk: 'w', v: '0' }, { id: a, uk: null, v: '1' });
  const take = upd(T, { id: b, uk: null, v: '0' }, { id: b, uk: 'w', v: '1' });
  const whole = new Dispatcher(2);
  assert.ok(whole.tryAdd(txn(free)));
  assert.ok(whole.tryAdd(txn(take)));
  assert.equal(writerOf(whole, take), pkWriter(a), "in the batch that freed 'w', the row taking it follows row a");
  const cut = new Dispatcher(2);
  assert.ok(cut.tryAdd(txn(take)));
  assert.equal(writerOf(cut, take), pkWriter(b), 'in a batch cut between them, its own key decides: another writer');
});

test('mayCut: no cut before the end of the batch being replayed, any cut from there on', () => {
  const st = { replayTo: { name: 'b.000002', pos: 500 } as { name: string; pos: number } | undefined };
  assert.equal(mayCut(st, undefined), false, 'nothing read yet');
  assert.equal(mayCut(st, { name: 'b.000001', pos: 900 }), false, 'an earlier file');
  assert.equal(mayCut(st, { name: 'b.000002', pos: 499 }), false);
  assert.ok(st.replayTo, 'still replaying');
  assert.equal(mayCut(st, { name: 'b.000002', pos: 500 }), true, 'at its end');
  assert.equal(st.replayTo, undefined, 'done: cleared');
  assert.equal(mayCut(st, { name: 'b.000001', pos: 4 }), true, 'no replay: every cut');
});
