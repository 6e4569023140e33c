/** start-task --start-time in the relay (agent/relay/time-search.ts): LMDB in a temp dir, no servers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayStore, type RelayRecord } from '../../agent/relay/store.ts';
import { findInRelay } from '../../agent/relay/time-search.ts';

const at = (pos: number, g: number) => ({ name: 'binlog.000001', pos, gtid: `0-1-${g}` });

/**
 * Records: t(ts 100) t(100) p(agent clock 999) t(105) q(105) x x t-closing(120) p t(130); record i ends at 1000 + i.
 * Sequences 1 … 10.
 */
function records(): RelayRecord[] {
  const rows = [{ op: 'insert' as const, schema: 'd', table: 't', after: { id: '1' } }];
  return [
    { k: 't', end: at(1001, 1), ts: 100, seg: 1, rows },
    { k: 't', end: at(1002, 2), ts: 100, seg: 1, rows },
    { k: 'p', end: at(1003, 2), ts: 999, seg: 1 },
    { k: 't', end: at(1004, 3), ts: 105, seg: 1, rows },
    { k: 'q', end: at(1005, 4), ts: 105, seg: 1, schema: 'd', sql: 'CREATE TABLE u (a INT)' },
    { k: 'x', from: at(1005, 4), ts: 105, seg: 1, rows },
    { k: 'x', from: at(1005, 4), ts: 105, seg: 1, rows },
    { k: 't', end: at(1008, 5), ts: 120, seg: 1, rows, c: 1 },
    { k: 'p', end: at(1009, 5), ts: 121, seg: 1 },
    { k: 't', end: at(1010, 6), ts: 130, seg: 1, rows },
  ];
}

test('the first transaction or statement at or after the time, where it starts (GTID state included)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-relay-time-'));
  const s = RelayStore.open(dir, 'src');
  try {
    await s.init({ seq: 0, pos: at(1000, 0), seg: 1, uuid: '0-1', created: 'now' }, {});
    await s.append(records()).committed;
    // Before or at the first record's time: the relay may not reach back (the caller asks the upstream).
    assert.deepEqual(findInRelay(s, 10, 100), { kind: 'before', origin: at(1000, 0), firstTs: 100 });
    assert.deepEqual(findInRelay(s, 10, 50).kind, 'before');
    // 101 … 105: the transaction ending at 1004 starts at the end of the progress record before it.
    for (const t of [101, 104, 105])
      assert.deepEqual(findInRelay(s, 10, t), { kind: 'found', position: at(1003, 2), seq: 4 });
    // 106 … 120: the large transaction (two parts, then its closing record) starts at its first part's `from`.
    assert.deepEqual(findInRelay(s, 10, 106), { kind: 'found', position: at(1005, 4), seq: 8 });
    assert.deepEqual(findInRelay(s, 10, 120), { kind: 'found', position: at(1005, 4), seq: 8 });
    // A progress record's time (121, or the agent clock's 999) is not an event time.
    assert.deepEqual(findInRelay(s, 10, 121), { kind: 'found', position: at(1009, 5), seq: 10 });
    assert.deepEqual(findInRelay(s, 10, 131), { kind: 'after', lastTs: 130 });
    // Only up to the head: records after it are not complete yet.
    assert.deepEqual(findInRelay(s, 8, 121), { kind: 'after', lastTs: 120 });
    // After a purge, the first record still stored decides "before".
    await s.purgeBelow(4);
    assert.deepEqual(findInRelay(s, 10, 104), { kind: 'before', origin: at(1003, 2), firstTs: 105 });
    assert.deepEqual(findInRelay(s, 10, 106), { kind: 'found', position: at(1005, 4), seq: 8 });
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('many records: the binary search lands on the first one at or after the time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-relay-time-'));
  const s = RelayStore.open(dir, 'src');
  try {
    await s.init({ seq: 0, pos: at(4, 0), seg: 1, uuid: '0-1', created: 'now' }, {});
    // 5000 transactions, 10 per second from ts 1000, with a progress record (agent clock) after every 7th.
    const recs: RelayRecord[] = [];
    let pos = 4;
    for (let i = 0; i < 5000; i++) {
      recs.push({ k: 't', end: at((pos += 10), i + 1), ts: 1000 + Math.floor(i / 10), seg: 1, rows: [] });
      if (i % 7 === 0) recs.push({ k: 'p', end: at(pos, i + 1), ts: 5, seg: 1 });
    }
    await s.append(recs).committed;
    const head = recs.length;
    for (const t of [1001, 1250, 1499]) {
      const m = findInRelay(s, head, t);
      assert.equal(m.kind, 'found');
      if (m.kind !== 'found') continue;
      const rec = s.get(m.seq)!;
      assert.equal(rec.k === 't' && rec.ts, t);
      // The transaction before it (the first timed record before m.seq) is older.
      let prev = m.seq - 1;
      while (s.get(prev)?.k === 'p') prev--;
      assert.ok((s.get(prev) as { ts: number }).ts < t);
      assert.equal(m.position.gtid, `0-1-${(t - 1000) * 10}`);
    }
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
