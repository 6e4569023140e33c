/**
 * Issue #16 item 1: the rules that recognise an inconsistent lease bucket (nats-server 2.9 after an outage longer
 * than the lease), the in-memory counters, and the reads and repairs that do not trust the server's per-subject
 * index (src/coord/kv-health.ts, src/coord/kv-repair.ts) against a fake stream with the states measured there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  casRefusedAnomaly,
  createAnomaly,
  getMissedAnomaly,
  KvHealth,
  readBehindWriteAnomaly,
  subjectCountsAnomaly,
} from '../../src/coord/kv-health.ts';
import { decodeRaw, LeaseRepair, scanLatest } from '../../src/coord/kv-repair.ts';

test('subject counts: a consistent history-1 bucket passes; a doubled count or a sum off the message count does not', () => {
  assert.equal(subjectCountsAnomaly({ messages: 2, subjects: { a: 1, b: 1 }, complete: true }, 1), undefined);
  assert.equal(subjectCountsAnomaly({ messages: 0, subjects: {}, complete: true }, 1), undefined);
  // Measured on 2.9.10: the first write after the failure counts 2 for 1 message, then the history is not enforced.
  assert.match(subjectCountsAnomaly({ messages: 1, subjects: { leader: 2 }, complete: true }, 1)!, /leader: 2/);
  assert.match(subjectCountsAnomaly({ messages: 5, subjects: { a: 6 }, complete: true }, 1)!, /a: 6/);
  assert.match(subjectCountsAnomaly({ messages: 3, subjects: { a: 1, b: 1 }, complete: true }, 1)!, /count 2.*3/);
  // A paged or filtered subject list cannot be summed against the stream.
  assert.equal(subjectCountsAnomaly({ messages: 3, subjects: { a: 1 }, complete: false }, 1), undefined);
  assert.equal(subjectCountsAnomaly({ messages: 4, subjects: { a: 2, b: 2 }, complete: true }, 2), undefined);
});

test('get missed: only when the stream counts messages on the key and a second get still finds nothing', () => {
  assert.equal(getMissedAnomaly(0, false), undefined, 'expired or never written');
  assert.equal(getMissedAnomaly(1, true), undefined, 'created between the get and the info');
  assert.match(getMissedAnomaly(5, false)!, /5 message/);
});

test('create, CAS and read-after-write rules', () => {
  assert.equal(createAnomaly(1, false), undefined);
  assert.match(createAnomaly(1, true)!, /live message/);
  assert.match(createAnomaly(2, false)!, /2 messages/);
  assert.equal(casRefusedAnomaly(7, 9), undefined, 'someone else wrote revision 9: a real conflict');
  assert.equal(casRefusedAnomaly(7, undefined), undefined, 'the key expired: a real conflict');
  assert.match(casRefusedAnomaly(7, 7)!, /revision 7/);
  assert.equal(readBehindWriteAnomaly(7, 7), undefined);
  assert.equal(readBehindWriteAnomaly(7, 9), undefined, 'a newer write by another agent is fine');
  assert.match(readBehindWriteAnomaly(7, 5)!, /read revision 5/);
  assert.equal(readBehindWriteAnomaly(7, undefined), undefined, 'deleted, or purged by a repair that writes it back');
});

test('KvHealth counts by kind, marks the bucket until repaired, reports only once something happened', () => {
  const h = new KvHealth();
  const seen: string[] = [];
  h.onAnomaly((a) => seen.push(`${a.kind} ${a.bucket}/${a.key ?? ''}`));
  h.onRepair((b, n) => seen.push(`repaired ${b} ${n}`));
  assert.equal(h.report(), undefined);
  h.note({ kind: 'get-missed', bucket: 'dm_leader', key: 'leader', detail: 'x' });
  h.note({ kind: 'subject-counts', bucket: 'dm_members', detail: 'y' });
  assert.equal(h.needsRepair('dm_leader'), true);
  assert.equal(h.needsRepair('dm_members'), true);
  h.repaired('dm_leader', 0);
  assert.equal(h.needsRepair('dm_leader'), false);
  assert.equal(h.byKind['get-missed'], 1);
  assert.equal(h.byKind['subject-counts'], 1);
  const r = h.report()!;
  assert.deepEqual([r.anomalies, r.repairs, r.last?.kind, r.last?.bucket], [2, 1, 'subject-counts', 'dm_members']);
  assert.deepEqual(seen, ['get-missed dm_leader/leader', 'subject-counts dm_members/', 'repaired dm_leader 0']);
});

/** A fake KV stream: messages by sequence, and subject counts as the server reports them (possibly wrong). */
function fakeStream(
  bucket: string,
  msgs: { seq: number; key: string; v?: unknown; op?: string }[],
  counts?: Record<string, number>,
) {
  const prefix = `$KV.${bucket}.`;
  let live = [...msgs];
  const gets: number[] = [];
  let purged = 0;
  const jsm = {
    streams: {
      async info(_s: string, o: { subjects_filter: string }) {
        const want = o.subjects_filter.slice(prefix.length);
        const all = counts ?? Object.fromEntries(live.map((m) => [m.key, live.filter((x) => x.key === m.key).length]));
        const subjects = Object.fromEntries(
          Object.entries(all)
            .filter(([k]) => want === '>' || k === want)
            .map(([k, n]) => [prefix + k, n]),
        );
        const seqs = live.map((m) => m.seq);
        return {
          state: {
            messages: live.length,
            subjects,
            first_seq: seqs.length ? Math.min(...seqs) : 100,
            last_seq: seqs.length ? Math.max(...seqs) : 99,
          },
        };
      },
      async getMessage(_s: string, q: { seq: number }) {
        gets.push(q.seq);
        const m = live.find((x) => x.seq === q.seq);
        if (!m) throw Object.assign(new Error('no message found'), { code: '404' });
        const data = m.v === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(m.v));
        return {
          subject: prefix + m.key,
          seq: m.seq,
          data,
          header: { get: (h: string) => (h === 'KV-Operation' ? (m.op ?? '') : '') },
        };
      },
      async purge() {
        purged++;
        live = [];
        counts = undefined;
      },
    },
  };
  const puts: string[] = [];
  let next = 1000;
  const kv = {
    async put(key: string, data: Uint8Array) {
      puts.push(`${key}=${new TextDecoder().decode(data)}`);
      live.push({ seq: next, key, v: JSON.parse(new TextDecoder().decode(data)) });
      return next++;
    },
  };
  return { jsm, kv, gets, puts, purged: () => purged };
}

test('scanLatest reads the newest message of each key by sequence, skipping gaps, and stops at the wanted key', async () => {
  const f = fakeStream('dm_members', [
    { seq: 5, key: 'a', v: { n: 1 } },
    { seq: 7, key: 'b', v: { n: 2 } },
    { seq: 8, key: 'a', v: { n: 3 } },
    { seq: 10, key: 'b', op: 'DEL' },
  ]);
  const all = await scanLatest(f.jsm as never, 'dm_members', { first: 5, last: 10 });
  assert.deepEqual(
    [...all.values()].map((e) => decodeRaw(e)),
    [
      { key: 'b', value: undefined, revision: 10, deleted: true },
      { key: 'a', value: { n: 3 }, revision: 8, deleted: false },
    ],
  );
  f.gets.length = 0;
  const one = await scanLatest(f.jsm as never, 'dm_members', { first: 5, last: 10 }, 'a');
  assert.equal(one.get('a')?.revision, 8);
  assert.deepEqual(f.gets, [10, 9, 8], 'stops at the newest message of the wanted key');
});

test('LeaseRepair: a get that missed a key the stream holds returns its newest message and marks the bucket', async () => {
  // The state measured on 2.9.10: five messages of one key, counted six, and `get` finds none.
  const msgs = [6, 7, 8, 9, 10].map((seq) => ({ seq, key: 'agent-1', v: { hb: seq } }));
  const f = fakeStream('dm_members', msgs, { 'agent-1': 6 });
  const h = new KvHealth();
  const r = new LeaseRepair(f.jsm as never, h);
  const e = await r.missing('dm_members', 'agent-1', async () => false);
  assert.deepEqual(decodeRaw(e!), { key: 'agent-1', value: { hb: 10 }, revision: 10, deleted: false });
  assert.equal(h.byKind['get-missed'], 1);
  assert.equal(h.needsRepair('dm_members'), true);
  // Truly absent: nothing counted, nothing noted.
  assert.equal(await r.missing('dm_members', 'agent-2', async () => false), undefined);
  assert.equal(h.anomalies, 1);
});

test('LeaseRepair: create on a live key, and a CAS refused on the newest revision, are noted', async () => {
  const f = fakeStream('dm_leader', [
    { seq: 3, key: 'leader', v: { name: 'agent-2', term: 3 } },
    { seq: 4, key: 'leader', v: { name: 'agent-1', term: 4 } },
  ]);
  const h = new KvHealth();
  const r = new LeaseRepair(f.jsm as never, h);
  await r.created('dm_leader', 'leader', 4);
  assert.equal(h.byKind['create-on-live'], 1);
  await r.refused('dm_leader', 'leader', 3);
  assert.equal(h.byKind['cas-refused'], 0, 'revision 4 is newer: a real conflict');
  await r.refused('dm_leader', 'leader', 4);
  assert.equal(h.byKind['cas-refused'], 1);
});

test('LeaseRepair: list reads a bucket with wrong counts from its messages; a consistent one is left to the ordinary listing', async () => {
  const ok = fakeStream('dm_members', [
    { seq: 1, key: 'a', v: { name: 'a' } },
    { seq: 2, key: 'b', v: { name: 'b' } },
  ]);
  assert.equal(await new LeaseRepair(ok.jsm as never, new KvHealth()).list('dm_members'), undefined);
  const bad = fakeStream(
    'dm_members',
    [
      { seq: 1, key: 'a', v: { name: 'a' } },
      { seq: 2, key: 'b', v: { name: 'b' } },
      { seq: 3, key: 'a', v: { name: 'a' } },
    ],
    { a: 3, b: 1 },
  );
  const h = new KvHealth();
  const listed = await new LeaseRepair(bad.jsm as never, h).list('dm_members');
  assert.deepEqual(listed?.map((e) => [e.key, e.revision]).sort(), [
    ['a', 3],
    ['b', 2],
  ]);
  assert.equal(h.byKind['subject-counts'], 1);
});

test('LeaseRepair.rewrite purges and writes back live entries, but not twice an entry nobody renewed since', async () => {
  const f = fakeStream(
    'dm_members',
    [
      { seq: 1, key: 'a', v: { name: 'a' } },
      { seq: 2, key: 'b', v: { name: 'b' } },
      { seq: 3, key: 'c', op: 'DEL' },
    ],
    { a: 2, b: 1, c: 1 },
  );
  const h = new KvHealth();
  const r = new LeaseRepair(f.jsm as never, h);
  const first = await r.rewrite('dm_members', f.kv as never, () => true);
  assert.deepEqual(first.map((e) => e.key).sort(), ['a', 'b'], 'the deleted key is not written back');
  assert.equal(f.purged(), 1);
  assert.equal(h.repairs, 1);
  // Agent a renews (a new message), b is dead: the next repair writes back a only, so b's key can expire.
  await f.kv.put('a', new TextEncoder().encode(JSON.stringify({ name: 'a', again: true })));
  const second = await r.rewrite('dm_members', f.kv as never, () => true);
  assert.deepEqual(
    second.map((e) => e.key),
    ['a'],
  );
  const none = await r.rewrite('dm_leader', f.kv as never, () => false);
  assert.deepEqual(none, [], 'dm_leader is only purged: the election creates the key again');
});
