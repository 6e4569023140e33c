/**
 * Invariant protected (agent/sync/dispatcher.ts): within one batch every causality key (each downstream unique key
 * value of a change's before and after images, folded as its index compares; one key per keyless table) is owned by
 * exactly one writer, so all changes touching a key run in binlog order on one connection and no two writers can
 * collide on a downstream unique index, whatever order the writers commit in. A transaction whose keys are owned by
 * two writers is refused (the sync loop flushes and adds it to a fresh batch) and a refused tryAdd changes nothing.
 *
 * The flush itself (on conflict, at a DDL, at the batch size) is SyncUnit.loop in agent/sync/unit.ts (writers: agent/sync/apply.ts); here the
 * simulation at the end drives the dispatcher the way that loop does and checks the result against a serial apply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH_BYTES, causalityKeys, Dispatcher, type RoutedChange, type Txn } from '../../agent/sync/dispatcher.ts';
import { hash } from '../../agent/hash.ts';
import { identityFor } from '../../agent/sync/row-identity.ts';
import { mayCut } from '../../agent/sync/resume.ts';
import { col, del, downstream, ins, table, upd, type Img } from './sync-fixtures.ts';
import { prng } from '../harness/prng.ts';

/** t(id PK, uk UNIQUE nullable, v): the worked example's table. */
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
/** Which writer got `rc` (by identity of the change object's row images). */
const writerOf = (d: Dispatcher, rc: RoutedChange): number =>
  d.perWriter.findIndex((l) => l.some((c) => c.change === rc.change));
const firstKeyWriter = (rc: RoutedChange, writers: number) => hash(causalityKeys(rc)[0]!) % writers;
/** Two ids of table T whose primary-key causality keys hash to different writers. */
function idsOnTwoWriters(writers: number): [string, string] {
  const w1 = firstKeyWriter(ins(T, { id: '1' }), writers);
  for (let i = 2; ; i++) if (firstKeyWriter(ins(T, { id: String(i) }), writers) !== w1) return ['1', String(i)];
}

test('the worked example of the header comment: a key owned by a writer pulls later changes to it', () => {
  const d = new Dispatcher(2);
  const t1 = upd(T, { id: '1', uk: 'w', v: '0' }, { id: '1', uk: 'x', v: '0' });
  const t2 = ins(T, { id: '2', uk: 'w', v: '0' });
  const t3 = ins(T, { id: '3', uk: 'z', v: '0' });
  assert.deepEqual(
    causalityKeys(t1),
    ['db.t|pk|s1', 'db.t|uk:uk|sw', 'db.t|pk|s1', 'db.t|uk:uk|sx'],
    'before and after images, pk and uk',
  );
  assert.ok(d.tryAdd(txn(t1)));
  const w1 = writerOf(d, t1);
  assert.equal(w1, firstKeyWriter(t1, 2), 'new keys: the hash of the first key decides');
  assert.ok(d.tryAdd(txn(t2)));
  assert.equal(writerOf(d, t2), w1, "uk 'w' (txn1's old value) is owned by txn1's writer");
  assert.ok(d.tryAdd(txn(t3)));
  assert.equal(
    writerOf(d, t3),
    firstKeyWriter(t3, 2),
    "all new keys: hashed (the comment's writer numbers are illustrative)",
  );
  assert.equal(d.rows, 3);
});

test('an UPDATE that changes the primary key owns both the old and the new key', () => {
  for (const writers of [2, 3, 4, 8]) {
    const d = new Dispatcher(writers);
    const move = upd(T, { id: '1', uk: null, v: '0' }, { id: '100', uk: null, v: '0' });
    assert.ok(d.tryAdd(txn(move)));
    const w = writerOf(d, move);
    const reuseOld = ins(T, { id: '1', uk: null, v: '1' });
    const touchNew = del(T, { id: '100', uk: null, v: '0' });
    assert.ok(d.tryAdd(txn(reuseOld)));
    assert.ok(d.tryAdd(txn(touchNew)));
    assert.equal(writerOf(d, reuseOld), w, `${writers} writers: insert of the freed key follows the update`);
    assert.equal(writerOf(d, touchNew), w, `${writers} writers: delete of the new key follows the update`);
  }
});

test('downstream unique keys decide causality, not the upstream keys', () => {
  // Upstream keyed by id only; downstream also has a unique index on code (case-insensitive) and is keyed by id.
  const up = table('t', [col('id', { nullable: false }), col('code', { collation: 'utf8mb4_bin' })], ['id']);
  const id = identityFor(
    up,
    downstream(
      [
        ['id', false, null],
        ['code', true, 'utf8mb4_general_ci'],
      ],
      [
        ['PRIMARY', 'id', null],
        ['u_code', 'code', null],
      ],
    ),
  );
  const [a, b] = (() => {
    const W = 4;
    for (let i = 2; ; i++)
      if (
        firstKeyWriter(ins(up, { id: String(i) }, { identity: id }), W) !==
        firstKeyWriter(ins(up, { id: '1' }, { identity: id }), W)
      )
        return ['1', String(i)];
  })();
  const d = new Dispatcher(4);
  const x = ins(up, { id: a, code: 'Ab' }, { identity: id });
  const y = ins(up, { id: b, code: 'aB ' }, { identity: id }); // collides with 'Ab' under _ci with PAD SPACE
  assert.ok(d.tryAdd(txn(x)));
  assert.ok(d.tryAdd(txn(y)));
  assert.equal(writerOf(d, y), writerOf(d, x), 'rows whose ids hash apart meet on the downstream unique index');
  // Upstream identity alone (no downstream table yet) would have spread them.
  const e = new Dispatcher(4);
  e.tryAdd(txn(ins(up, { id: a, code: 'Ab' })));
  e.tryAdd(txn(ins(up, { id: b, code: 'aB ' })));
  assert.equal(e.perWriter.filter((l) => l.length > 0).length, 2);
  // NULL values of a unique index never collide: no key for them.
  assert.deepEqual(causalityKeys(ins(up, { id: '7', code: null }, { identity: id })), ['db.t|pk|s7']);
});

test('a change whose keys are owned by two writers is refused with its transaction, and the refusal changes nothing', () => {
  const [a, b] = idsOnTwoWriters(2);
  const d = new Dispatcher(2);
  const ca = ins(T, { id: a, uk: null, v: '0' });
  const cb = ins(T, { id: b, uk: 'kb', v: '0' });
  assert.ok(d.tryAdd(txn(ca)));
  assert.ok(d.tryAdd(txn(cb)));
  assert.ok(d.tryAdd(txn(upd(T, { id: b, uk: 'kb', v: '0' }, { id: b, uk: null, v: '0' })))); // b gives up 'kb'
  const snapshot = d.perWriter.map((l) => [...l]);
  // Row a takes 'kb': its keys are a's primary key (a's writer) and uk 'kb' (b's writer). A new row first, so a
  // partial assignment of the transaction would show.
  const fresh = ins(T, { id: '999', uk: null, v: '1' });
  const take = txn(fresh, upd(T, { id: a, uk: null, v: '0' }, { id: a, uk: 'kb', v: '0' }));
  assert.equal(d.tryAdd(take), false);
  assert.deepEqual(d.perWriter, snapshot, 'no change of the refused transaction was queued');
  assert.equal(d.rows, 3);
  // The key of its first change was not taken either: it may still go to any writer, by its own hash.
  const again = ins(T, { id: '999', uk: null, v: '2' });
  assert.ok(d.tryAdd(txn(again)));
  assert.equal(writerOf(d, again), firstKeyWriter(again, 2));
  // After the flush (a fresh batch) the transaction is accepted.
  const next = new Dispatcher(2);
  assert.ok(next.tryAdd(take));
  assert.equal(next.rows, 2);
});

test('a transaction is split per change: changes with disjoint keys may go to different writers', () => {
  // The header comment says "a transaction whose keys are owned by two writers cannot join the batch"; the code
  // decides per change (as DM's causality does): only a change whose own keys span two writers is a conflict.
  const [a, b] = idsOnTwoWriters(2);
  const d = new Dispatcher(2);
  d.tryAdd(txn(ins(T, { id: a, uk: null, v: '0' })));
  d.tryAdd(txn(ins(T, { id: b, uk: null, v: '0' })));
  const ua = upd(T, { id: a, uk: null, v: '0' }, { id: a, uk: null, v: '1' });
  const ub = upd(T, { id: b, uk: null, v: '0' }, { id: b, uk: null, v: '1' });
  assert.ok(d.tryAdd(txn(ua, ub)));
  assert.notEqual(writerOf(d, ua), writerOf(d, ub));
});

test('a transaction whose own changes conflict goes whole to one writer when the batch is empty', () => {
  const [a, b] = idsOnTwoWriters(2);
  // a and b hash apart; the third change links them through uk 'k'.
  const ca = ins(T, { id: a, uk: null, v: '0' });
  const cb = ins(T, { id: b, uk: 'k', v: '0' });
  const link = upd(T, { id: a, uk: null, v: '0' }, { id: a, uk: 'k2', v: '0' });
  const link2 = upd(T, { id: b, uk: 'k', v: '0' }, { id: b, uk: 'x', v: '0' });
  const relink = upd(T, { id: a, uk: 'k2', v: '0' }, { id: a, uk: 'k', v: '0' }); // a takes b's old 'k': keys on both writers
  const t = txn(ca, cb, link, link2, relink);
  const d = new Dispatcher(2);
  assert.ok(d.tryAdd(t));
  const w = d.perWriter.findIndex((l) => l.length > 0);
  assert.deepEqual(
    d.perWriter[w]!.map((c) => c.change),
    t.changes.map((c) => c.change),
    'binlog order kept',
  );
  assert.equal(d.perWriter[1 - w]!.length, 0);
  // Every key of it is now owned by that writer.
  const later = ins(T, { id: b, uk: null, v: '9' });
  d.tryAdd(txn(later));
  assert.equal(writerOf(d, later), w);
  // Not alone in its batch, the same transaction is refused.
  const busy = new Dispatcher(2);
  busy.tryAdd(txn(ins(T, { id: '12345', uk: null, v: '0' })));
  assert.equal(busy.tryAdd(t), false);
});

test('each writer keeps binlog order, across transactions and within one', () => {
  const d = new Dispatcher(3);
  const all: RoutedChange[] = [];
  for (let i = 0; i < 60; i++) {
    const id = String(i % 7);
    const c =
      i % 3 === 0
        ? ins(T, { id, uk: null, v: String(i) })
        : i % 3 === 1
          ? upd(T, { id, uk: null, v: String(i - 1) }, { id, uk: null, v: String(i) })
          : del(T, { id, uk: null, v: String(i - 1) });
    all.push(c);
    if (i % 2 === 1) assert.ok(d.tryAdd(txn(all[i - 1]!, c)));
  }
  for (const l of d.perWriter) {
    const idx = l.map((c) => all.findIndex((x) => x.change === c.change));
    assert.deepEqual(
      idx,
      [...idx].sort((x, y) => x - y),
    );
  }
  // Each id's changes sit on one writer.
  for (let k = 0; k < 7; k++) {
    const ws = new Set(
      d.perWriter.flatMap((l, w) =>
        l.some((c) => (c.change.after ?? c.change.before)!['id'] === String(k)) ? [w] : [],
      ),
    );
    assert.equal(ws.size, 1, `id ${k}`);
  }
});

test("keyless tables: one key per table, so all of a table's changes stay in order on one writer", () => {
  const K = table('k', [col('a'), col('b')]); // no key upstream, none downstream (stand-in identity)
  const keyOf = (rc: RoutedChange) => causalityKeys(rc);
  assert.deepEqual(keyOf(ins(K, { a: '1', b: '2' })), ['db.t|*']);
  assert.deepEqual(keyOf(ins(K, { a: '1' }, { target: { schema: 'db', table: 'k' } })), ['db.k|*'], 'per target table');
  // A unique index downstream that is nullable does not make a key: still one key per table (its changes stay on one
  // writer), plus the index's non-NULL values, which a keyed shard of the same target may share (next test).
  const nullableUk = identityFor(
    K,
    downstream(
      [
        ['a', true, null],
        ['b', true, null],
      ],
      [['ua', 'a', null]],
    ),
  );
  assert.deepEqual(causalityKeys(ins(K, { a: '1', b: '2' }, { identity: nullableUk })), ['db.t|*', 'db.t|uk:a|s1']);
  assert.deepEqual(causalityKeys(ins(K, { a: null, b: '2' }, { identity: nullableUk })), ['db.t|*']);
  const d = new Dispatcher(4);
  const changes = Array.from({ length: 20 }, (_, i) =>
    i % 2 ? del(K, { a: String(i - 1), b: null }) : ins(K, { a: String(i), b: null }),
  );
  for (const c of changes) assert.ok(d.tryAdd(txn(c)));
  const used = d.perWriter.filter((l) => l.length > 0);
  assert.equal(used.length, 1);
  assert.deepEqual(
    used[0]!.map((c) => c.change),
    changes.map((c) => c.change),
  );
  // The same key values on another target table are other keys.
  assert.notDeepEqual(
    causalityKeys(ins(T, { id: '1' })),
    causalityKeys(ins(T, { id: '1' }, { target: { schema: 'db', table: 'other' } })),
  );
});

test('a value of one downstream index is one key whichever identity the change carries (shards keyed differently)', () => {
  // Downstream t(id PK, u UNIQUE NOT NULL, w UNIQUE NULL). Shard C carries id, u and w (keyed by id); shard D lacks id
  // (keyed by u); shard E carries only w and v (keyless). The value u=4 leaves D and arrives in C: D's delete and C's
  // update must meet on one writer, or C's REPLACE could commit first and D's DELETE remove it. The same for w=7
  // between C and the keyless E.
  const dn = downstream(
    [
      ['id', false, null],
      ['u', false, null],
      ['w', true, null],
      ['v', true, null],
    ],
    [
      ['PRIMARY', 'id', null],
      ['uu', 'u', null],
      ['uw', 'w', null],
    ],
  );
  const C = table('c', [col('id', { nullable: false }), col('u', { nullable: false }), col('w')], ['id']);
  const D = table('d', [col('u', { nullable: false })], ['u']);
  const E = table('e', [col('w'), col('v')]);
  const [ic, id, ie] = [identityFor(C, dn), identityFor(D, dn), identityFor(E, dn)];
  assert.deepEqual([ic.key, id.key, ie.key], [['id'], ['u'], []]);
  const shared = (x: RoutedChange, y: RoutedChange) => causalityKeys(x).filter((k) => causalityKeys(y).includes(k));
  for (let i = 0; i < 30; i++) {
    const u = String(100 + i);
    const dDel = del(D, { u }, { identity: id });
    const cUpd = upd(C, { id: String(i), u: '1', w: null }, { id: String(i), u, w: null }, { identity: ic });
    assert.deepEqual(shared(dDel, cUpd), [`db.t|uk:u|s${u}`]);
    const d = new Dispatcher(4);
    assert.ok(d.tryAdd(txn(dDel)));
    assert.ok(d.tryAdd(txn(cUpd)));
    assert.equal(writerOf(d, cUpd), writerOf(d, dDel), `u=${u}: one writer`);
    const eDel = del(E, { w: u, v: '0' }, { identity: ie });
    const cIns = ins(C, { id: String(1000 + i), u: String(2000 + i), w: u }, { identity: ic });
    assert.deepEqual(shared(eDel, cIns), [`db.t|uk:w|s${u}`]);
    const e = new Dispatcher(4);
    assert.ok(e.tryAdd(txn(eDel)));
    assert.ok(e.tryAdd(txn(cIns)));
    assert.equal(writerOf(e, cIns), writerOf(e, eDel), `w=${u}: one writer`);
  }
});

test("a forced writer (a held shard's replayed change) pulls the change and its keys to that writer", () => {
  // Pick an id whose hash is not writer 0.
  let id = 1;
  while (firstKeyWriter(ins(T, { id: String(id) }), 4) === 0) id++;
  const d = new Dispatcher(4);
  const forced = ins(T, { id: String(id), uk: null, v: '0' }, { writer: 0 });
  assert.ok(d.tryAdd(txn(forced)));
  assert.equal(writerOf(d, forced), 0);
  const after = upd(T, { id: String(id), uk: null, v: '0' }, { id: String(id), uk: null, v: '1' });
  assert.ok(d.tryAdd(txn(after)));
  assert.equal(writerOf(d, after), 0, 'later changes of the key follow it to writer 0');
  // Forced to 0 while its key is owned by another writer: a conflict, flushed first.
  const e = new Dispatcher(4);
  e.tryAdd(txn(ins(T, { id: String(id), uk: null, v: '0' })));
  assert.equal(
    e.tryAdd(txn(upd(T, { id: String(id), uk: null, v: '0' }, { id: String(id), uk: null, v: '1' }, { writer: 0 }))),
    false,
  );
  // Alone in a batch, a self-conflicting transaction goes to the forced writer.
  const f = new Dispatcher(4);
  const t = txn(
    ins(T, { id: String(id), uk: null, v: '0' }),
    upd(T, { id: String(id), uk: null, v: '0' }, { id: String(id), uk: null, v: '1' }, { writer: 0 }),
  );
  assert.ok(f.tryAdd(t));
  assert.equal(f.perWriter[0]!.length, 2);
});

test('hash is FNV-1a 32: the same key reaches the same writer in every process', () => {
  assert.equal(hash(''), 0x811c9dc5);
  assert.equal(hash('a'), 0xe40c292c);
  assert.equal(hash('foobar'), 0xbf9cf968);
});

// ---- Simulation: the sync loop's use of the dispatcher against a serial apply.

/** Downstream model of t(id PK, uk UNIQUE): applies row changes by primary key, and fails on a duplicate like MySQL. */
class Model {
  rows = new Map<string, Img>();
  apply(rc: RoutedChange): void {
    const { before, after } = rc.change;
    if (before)
      assert.ok(this.rows.delete(String(before['id'])), `row ${String(before['id'])} exists before ${rc.change.op}`);
    if (after) {
      const id = String(after['id']);
      assert.ok(!this.rows.has(id), `duplicate primary key ${id}`);
      if (after['uk'] !== null)
        for (const r of this.rows.values())
          assert.notEqual(r['uk'], after['uk'], `duplicate uk ${String(after['uk'])}`);
      this.rows.set(id, after);
    }
  }
}

test('simulation: batches applied writer by writer, in any writer order, end where the binlog ends', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const r = prng(seed);
    const writers = 2 + (seed % 3);
    // Upstream: a serial history of transactions that is valid by construction.
    const up = new Model();
    const history: (Txn | 'ddl')[] = [];
    for (let n = 0; n < 300; n++) {
      if (r() < 0.03) {
        history.push('ddl');
        continue;
      }
      const changes: RoutedChange[] = [];
      const size = 1 + Math.floor(r() * 3);
      for (let i = 0; i < size; i++) {
        const id = String(Math.floor(r() * 12));
        const uk = r() < 0.3 ? null : `u${Math.floor(r() * 6)}`;
        const cur = up.rows.get(id);
        const ukFree = (v: string | null, except?: string) =>
          v === null || ![...up.rows.entries()].some(([k, x]) => k !== except && x['uk'] === v);
        let c: RoutedChange | undefined;
        if (!cur) {
          if (ukFree(uk)) c = ins(T, { id, uk, v: String(n) });
        } else if (r() < 0.3) c = del(T, cur);
        else if (r() < 0.5) {
          const nid = String(Math.floor(r() * 12)); // may move the row to another id
          if ((nid === id || !up.rows.has(nid)) && ukFree(uk, id)) c = upd(T, cur, { id: nid, uk, v: String(n) });
        } else if (ukFree(uk, id)) c = upd(T, cur, { id, uk, v: String(n) });
        if (c) {
          up.apply(c);
          changes.push(c);
        }
      }
      if (changes.length) history.push(txn(...changes));
    }
    // The sync loop: flush on conflict, at a DDL (barrier), and every 25 rows.
    const batches: Dispatcher[] = [];
    let batch = new Dispatcher(writers);
    const flush = () => {
      if (!batch.empty) batches.push(batch);
      batch = new Dispatcher(writers);
    };
    for (const h of history) {
      if (h === 'ddl') {
        flush();
        continue;
      }
      if (!batch.tryAdd(h)) {
        flush();
        assert.ok(batch.tryAdd(h), 'a fresh batch always accepts');
      }
      if (batch.rows >= 25) flush();
    }
    flush();
    const total = history.reduce((s, h) => s + (h === 'ddl' ? 0 : h.changes.length), 0);
    assert.equal(
      batches.reduce((s, b) => s + b.rows, 0),
      total,
      'every change dispatched once',
    );
    for (const order of ['forward', 'backward'] as const) {
      const down = new Model();
      for (const b of batches) {
        const ws = b.perWriter.map((_, i) => i);
        if (order === 'backward') ws.reverse();
        // Writers commit one after the other: no key is shared, so no order of writers can fail or differ.
        for (const w of ws) for (const c of b.perWriter[w]!) down.apply(c);
      }
      assert.deepEqual(
        [...down.rows.entries()].sort(),
        [...up.rows.entries()].sort(),
        `seed ${seed}, ${writers} writers, ${order}`,
      );
    }
  }
});

// A row's identity can change within a batch: SyncUnit.route refreshes the row-identity cache when the task's shard-DDL
// locks change (another source's DDL may have changed the merged table downstream). Changes of one row before and
// after that point carry two identities, so two causality keys: here a keyless target (one key per table) that gained
// a unique NOT NULL index. Split over two writers, the delete's writer could commit first and the row survive. The
// sync unit flushes before it refreshes the cache, and the dispatcher refuses a transaction whose rows carry another
// identity than the batch's rows of the same table (the caller flushes), so the two never share a batch.
test("one row's changes stay on one writer when its identity changes within a batch (or the batch is cut there)", () => {
  const K = table('k', [col('u', { nullable: false }), col('v')]);
  const before = identityFor(
    K,
    downstream(
      [
        ['u', false, null],
        ['v', true, null],
      ],
      [],
    ),
  );
  const after = identityFor(
    K,
    downstream(
      [
        ['u', false, null],
        ['v', true, null],
      ],
      [['uu', 'u', null]],
    ),
  );
  let split = false;
  for (let i = 0; i < 50 && !split; i++) {
    const d = new Dispatcher(4);
    const a = ins(K, { u: String(i), v: '0' }, { identity: before });
    const b = del(K, { u: String(i), v: '0' }, { identity: after });
    assert.equal(d.tryAdd(txn(a)), true);
    if (d.tryAdd(txn(b)) && writerOf(d, a) !== writerOf(d, b)) split = true;
  }
  assert.equal(split, false, 'a row inserted before and deleted after the identity change was split over two writers');
  // The refused transaction starts the next batch; an identity refreshed but unchanged (a new object, equal) does not
  // cut the batch, nor do other tables' or other shards' identities.
  const d = new Dispatcher(4);
  assert.equal(d.tryAdd(txn(ins(K, { u: '1', v: '0' }, { identity: before }))), true);
  assert.equal(d.tryAdd(txn(del(K, { u: '1', v: '0' }, { identity: after }))), false, 'refused: the caller flushes');
  assert.equal(d.rows, 1, 'nothing of the refused transaction was taken');
  const again = identityFor(
    K,
    downstream(
      [
        ['u', false, null],
        ['v', true, null],
      ],
      [],
    ),
  );
  assert.notEqual(again, before);
  assert.equal(d.tryAdd(txn(ins(K, { u: '2', v: '0' }, { identity: again }))), true, 'same identity, new object');
  const K2 = table('k2', [col('u', { nullable: false }), col('v')]);
  assert.equal(
    d.tryAdd(
      txn(
        ins(
          K2,
          { u: '3', v: '0' },
          {
            identity: identityFor(
              K2,
              downstream(
                [
                  ['u', false, null],
                  ['v', true, null],
                ],
                [['uu', 'u', null]],
              ),
            ),
          },
        ),
      ),
    ),
    true,
    'another shard of the target',
  );
  const fresh = new Dispatcher(4);
  assert.equal(fresh.tryAdd(txn(del(K, { u: '1', v: '0' }, { identity: after }))), true, 'a new batch takes it');
});

/*
 * Replay after a stop between two writers' commits (agent/sync/state.ts replayTo, resume.ts mayCut, unit.ts): the
 * replay from the lower checkpoint cuts its first batch nowhere before the higher one, because a change's writer
 * depends on the batch's earlier changes; only the same batch from the same start gives every replayed change the
 * writer it had, so that a writer's skip of what its checkpoint covers skips only what that writer committed.
 */
const pkWriter = (id: string) => firstKeyWriter(upd(T, { id, uk: null }, { id, uk: null }), 2);

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

test('a batch counts its transactions (one-change ones too) and the bytes of its row values', () => {
  const d = new Dispatcher(2);
  const [a, b] = idsOnTwoWriters(2);
  assert.ok(d.tryAdd(txn(ins(T, { id: a, uk: 'p', v: 'x'.repeat(1000) }))));
  assert.ok(d.tryAdd(txn(ins(T, { id: b, uk: 'q', v: 'y' }), del(T, { id: '77', uk: null, v: 'z'.repeat(10) }))));
  assert.equal(d.rows, 3);
  assert.equal(d.txns, 2, 'a one-change transaction counts as one (dm_syncer_finished_transaction_total)');
  // Strings by length, a NULL as 8: the insert's after images, the delete's before image.
  assert.equal(d.bytes, a.length + 1 + 1000 + (b.length + 1 + 1) + (2 + 8 + 10));
  assert.equal(d.full(3), true, 'full at its rows');
  assert.equal(d.full(4), false);
  d.bytes += BATCH_BYTES;
  assert.equal(d.full(6000), true, 'full at BATCH_BYTES whatever its rows');
  d.bytes -= BATCH_BYTES;
  const before = { rows: d.rows, bytes: d.bytes, txns: d.txns };
  // A refused transaction (its keys on two writers) counts nothing.
  assert.equal(d.tryAdd(txn(upd(T, { id: a, uk: 'p', v: '1' }, { id: a, uk: 'q', v: '1' }))), false);
  assert.deepEqual({ rows: d.rows, bytes: d.bytes, txns: d.txns }, before);
});
