/**
 * Invariant protected (the sync hot path end to end, without servers: agent/sync/dispatcher.ts → writer-sql.ts →
 * sqlgen.ts): for any valid upstream history on a table with a primary key and a unique key, splitting it into
 * batches as the sync loop does (flush on a refused transaction and at a size limit), dispatching each batch over N
 * writers and running each writer's compacted statements as one transaction, in any order of the writers, leaves the
 * downstream exactly at the upstream's state at every batch end. Running a batch's statements again (safe mode after
 * a crash before the checkpoint moved) changes nothing.
 *
 * The downstream is a small model that executes the two statement forms keyed tables produce (DELETE … IN, REPLACE …
 * VALUES) with MySQL's REPLACE semantics (every row conflicting on the primary or a unique key is deleted first), with
 * exact keys and with case-insensitive ones ('A' and 'a' are one row, as a _ci collation compares them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher, type RoutedChange, type Txn } from '../../agent/sync/dispatcher.ts';
import { writerStatements } from '../../agent/sync/writer-sql.ts';
import { col, del, ins, table, text, upd } from './sync-fixtures.ts';
import { prng } from '../harness/prng.ts';

/** t(id PK, uk UNIQUE, v): exact keys, or case-insensitive ones (where DELETE-before-REPLACE matters). */
const EXACT = table(
  't',
  [col('id', { nullable: false }), col('uk', { collation: 'utf8mb4_bin' }), col('v')],
  ['id'],
  [['uk']],
);
const CI = table(
  't',
  [
    col('id', { nullable: false, collation: 'utf8mb4_general_ci' }),
    col('uk', { collation: 'utf8mb4_general_ci' }),
    col('v'),
  ],
  ['id'],
  [['uk']],
);

type Row = { id: string; uk: string | null; v: string };
/** Rows by folded primary key. */
type State = Map<string, Row>;
interface Kind {
  info: typeof EXACT;
  fold: (s: string) => string;
  ids: string[];
  uks: string[];
}
const KINDS: Kind[] = [
  {
    info: EXACT,
    fold: (s) => s,
    ids: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    uks: ['u0', 'u1', 'u2', 'u3', 'u4'],
  },
  { info: CI, fold: (s) => s.toLowerCase(), ids: ['a', 'A', 'b', 'B', 'c', 'C', 'd', 'D'], uks: ['x', 'X', 'y', 'Y'] },
];

const lit = (s: string): string | null => (s === 'NULL' ? null : s.replace(/^'|'$/g, ''));
const tuples = (s: string): (string | null)[][] =>
  [...s.matchAll(/\(([^()]*)\)/g)].map((m) => m[1]!.split(',').map(lit));

/** Executes the statements writerStatements produces for t (values in the test never contain quotes or commas),
 * comparing keys as the downstream's collation does. */
function execute(k: Kind, state: State, sql: string): void {
  let m = /^DELETE FROM `db`\.`t` WHERE `id` IN \((.*)\)$/.exec(sql);
  if (m) {
    for (const id of m[1]!.split(',').map(lit)) if (id !== null) state.delete(k.fold(id));
    return;
  }
  m = /^REPLACE INTO `db`\.`t` \(`id`,`uk`,`v`\) VALUES (.*)$/.exec(sql);
  assert.ok(m, `unexpected statement ${sql}`);
  for (const [id, uk, v] of tuples(m[1]!)) {
    for (const [key, r] of state)
      if (key === k.fold(id!) || (uk !== null && r.uk !== null && k.fold(r.uk) === k.fold(uk!))) state.delete(key);
    state.set(k.fold(id!), { id: id!, uk: uk ?? null, v: v! });
  }
}

/** The upstream, applying row changes serially; asserts the history is valid (no duplicate key ever). */
function applyUp(k: Kind, state: State, rc: RoutedChange): void {
  const { before, after } = rc.change;
  if (before) assert.ok(state.delete(k.fold(String(before['id']))));
  if (after) {
    const r = after as Row;
    assert.ok(!state.has(k.fold(r.id)));
    if (r.uk !== null) for (const x of state.values()) assert.ok(x.uk === null || k.fold(x.uk) !== k.fold(r.uk));
    state.set(k.fold(r.id), { ...r });
  }
}

function history(k: Kind, r: () => number, n: number): Txn[] {
  const up: State = new Map();
  const out: Txn[] = [];
  const pick = <X>(xs: X[]): X => xs[Math.floor(r() * xs.length)]!;
  for (let i = 0; i < n; i++) {
    const changes: RoutedChange[] = [];
    const size = 1 + Math.floor(r() * 3);
    for (let j = 0; j < size; j++) {
      const id = pick(k.ids);
      const uk = r() < 0.3 ? null : pick(k.uks);
      const ukFree = (except: string) =>
        uk === null ||
        ![...up.entries()].some(([key, x]) => key !== except && x.uk !== null && k.fold(x.uk) === k.fold(uk));
      const cur = up.get(k.fold(id));
      let c: RoutedChange | undefined;
      if (!cur) {
        if (ukFree(k.fold(id))) c = ins(k.info, { id, uk, v: `v${i}` });
      } else if (r() < 0.25) c = del(k.info, { ...cur });
      else {
        // A new key, or the same row with its key's case changed (one row to a _ci index).
        const nid = r() < 0.4 ? pick(k.ids) : cur.id;
        if ((k.fold(nid) === k.fold(cur.id) || !up.has(k.fold(nid))) && ukFree(k.fold(cur.id)))
          c = upd(k.info, { ...cur }, { id: nid, uk, v: `v${i}` });
      }
      if (c) {
        applyUp(k, up, c);
        changes.push(c);
      }
    }
    if (changes.length) {
      const end = { name: 'b.000001', pos: (i + 1) * 100 };
      out.push({ end, changes: changes.map((c) => ({ ...c, txnEnd: end })) });
    }
  }
  return out;
}

const sorted = (s: State) => [...s.entries()].sort((a, b) => a[0].localeCompare(b[0]));

test('model: dispatched and compacted batches reach the upstream state at every batch end, in any writer order', () => {
  for (const k of KINDS) {
    for (let seed = 1; seed <= 20; seed++) {
      const r = prng(seed);
      const writers = 1 + (seed % 4);
      const txns = history(k, r, 120);
      const up: State = new Map();
      const down: State = new Map();
      let batch = new Dispatcher(writers);
      const flush = () => {
        if (batch.empty) return;
        const order = batch.perWriter.map((_, w) => w).sort(() => r() - 0.5);
        const perWriter = order.map((w) => writerStatements(batch.perWriter[w]!));
        const what = `${k.info === CI ? '_ci' : 'exact'} keys, seed ${seed}, ${writers} writers, order ${order.join(',')}`;
        for (const stmts of perWriter) for (const s of stmts) execute(k, down, text(s));
        assert.deepEqual(sorted(down), sorted(up), what);
        // Safe mode: the same statements again leave the same state.
        for (const stmts of perWriter) for (const s of stmts) execute(k, down, text(s));
        assert.deepEqual(sorted(down), sorted(up), `${what}, replayed`);
        batch = new Dispatcher(writers);
      };
      for (const t of txns) {
        if (!batch.tryAdd(t)) {
          flush();
          assert.ok(batch.tryAdd(t));
        }
        for (const c of t.changes) applyUp(k, up, c);
        if (batch.rows >= 5 + (seed % 20)) flush();
      }
      flush();
    }
  }
});
