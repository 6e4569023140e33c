/** The relay store (LMDB in a temp dir), its seek and purge rules, and GTID coverage: no servers needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gtidCovers } from '../../agent/relay/gtid.ts';
import { RelayReader } from '../../agent/relay/reader.ts';
import { eventEnd } from '../../agent/binlog/events.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { autoPurge, neededSeq, purgeRelay, seqAfter } from '../../agent/relay/purge.ts';
import { RelayStore, type RelayTxn } from '../../agent/relay/store.ts';
import { parseSourceConfig } from '../../src/config/index.ts';
import { DmError } from '../../src/errors/index.ts';

async function withStore(fn: (s: RelayStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-relay-unit-'));
  const s = RelayStore.open(dir, 'src/1');
  try {
    await fn(s, dir);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Transaction i ends at binlog.00000F:(1000 + 100 i), file F = 1 + floor(i / 10); time 1000 + i. */
function txn(i: number): RelayTxn {
  return {
    k: 't',
    end: { name: `binlog.${String(1 + Math.floor(i / 10)).padStart(6, '0')}`, pos: 1000 + 100 * i, gtid: `0-1-${i}` },
    ts: 1000 + i,
    seg: 1,
    rows: [{ op: 'insert', schema: 'db', table: 't', after: { id: String(i), b: Buffer.from([i & 255]), n: null } }],
  };
}

async function fill(s: RelayStore, n: number): Promise<void> {
  await s.init(
    { seq: 0, pos: { name: 'binlog.000001', pos: 4, gtid: '0-1-0' }, seg: 1, uuid: '0-1', created: 'now' },
    { tracker: true },
  );
  const recs = Array.from({ length: n }, (_, i) => txn(i + 1));
  // Two appends queued before the first commits: both land, in order.
  const a = s.append(recs.slice(0, n / 2));
  const b = s.append(recs.slice(n / 2));
  await a.committed;
  await b.committed;
}

test('appends keep order and values (Buffers, NULLs); state and origin follow', async () => {
  await withStore(async (s) => {
    await fill(s, 40);
    assert.equal(s.state()!.seq, 40);
    assert.deepEqual(s.state()!.pos, txn(40).end);
    assert.deepEqual(s.origin(), { name: 'binlog.000001', pos: 4, gtid: '0-1-0' });
    const all = [...s.range(1, 40)];
    assert.deepEqual(
      all.map((r) => r.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const r7 = all[6]!.rec;
    assert.ok(r7.k === 't' && Buffer.isBuffer(r7.rows[0]!.after!.b) && r7.rows[0]!.after!.n === null);
    assert.deepEqual(s.tracker(), { tracker: true });
  });
});

test('a queued append that does not continue the stored state aborts instead of leaving a gap', async () => {
  await withStore(async (s) => {
    await fill(s, 10);
    const first = s.append([txn(11)]);
    await first.committed;
    s.resetPending();
    // Simulate a lost earlier commit: the store's pending state claims a sequence that is not stored.
    const bad = s.append([txn(12)]);
    await bad.committed;
    assert.equal(s.state()!.seq, 12);
    (s as unknown as { pending: { seq: number } }).pending = { ...s.state()!, seq: 20 };
    await assert.rejects(s.append([txn(13)]).committed, /relay state moved/);
    assert.equal(s.state()!.seq, 12, 'nothing written');
  });
});

test('seek: the first record ending after a position', async () => {
  await withStore(async (s) => {
    await fill(s, 40);
    assert.equal(seqAfter(s, { name: 'binlog.000001', pos: 4 }), 1);
    assert.equal(seqAfter(s, txn(5).end), 6);
    assert.equal(seqAfter(s, { name: txn(5).end.name, pos: txn(5).end.pos + 1 }), 6);
    assert.equal(seqAfter(s, txn(40).end), 41);
  });
});

test('purge never passes the slowest task; purge-relay refuses with TSDM-40005 and removes nothing', async () => {
  await withStore(async (s) => {
    await fill(s, 40);
    const tasks = [
      { task: 'fast', synced: txn(35).end },
      { task: 'slow', synced: txn(12).end },
    ];
    assert.deepEqual(neededSeq(s, tasks), { seq: 13, task: 'slow', pos: txn(12).end });
    assert.equal(
      neededSeq(s, [...tasks, { task: 'loading', synced: undefined }]).seq,
      1,
      'a task not in sync yet keeps everything',
    );
    // Files: records 1-9 in binlog.000001, 10-19 in .000002, 20-29 in .000003 …
    await assert.rejects(
      purgeRelay(s, tasks, 'binlog.000003'),
      (e: unknown) => e instanceof DmError && e.code === 'TSDM-40005' && /slow/.test(e.message),
    );
    assert.equal(s.firstSeq(), 1);
    const r = await purgeRelay(s, tasks, 'binlog.000002');
    assert.deepEqual(r, { purged: 9, upTo: 10 });
    assert.equal(s.firstSeq(), 10);
    assert.deepEqual(s.origin(), txn(9).end, 'origin moves to the end of the last purged record');
    assert.equal(s.get(9), undefined);
    assert.ok(s.get(10));
    // Without a file: everything no task needs.
    assert.deepEqual(await purgeRelay(s, tasks), { purged: 3, upTo: 13 });
  });
});

test('automatic purge: expires by age, remain-space by free disk, both below what tasks need', async () => {
  await withStore(async (s, dir) => {
    await fill(s, 40);
    const src = (purge: string) =>
      parseSourceConfig(`source-id: s\nfrom:\n  host: h\n  user: u\npurge:\n${purge}`, 's.yaml');
    const tasks = [{ task: 't', synced: txn(30).end }];
    assert.equal(
      await autoPurge(s, src('  expires: 0\n  remain-space: 0\n'), tasks, dir),
      undefined,
      'no age limit, enough space: nothing',
    );
    // Records have ts 1000 + i; "now" 1020 + 3600 s with expires 1 h: records older than ts 1020 go.
    const r = await autoPurge(s, src('  expires: 1\n  remain-space: 0\n'), tasks, dir, 1020 + 3600);
    assert.equal(r?.purged, 19);
    assert.equal(s.firstSeq(), 20);
    const r2 = await autoPurge(s, src('  expires: 0\n  remain-space: 100000000\n'), tasks, dir);
    assert.equal(r2?.purged, 11, 'low disk: everything below what the task needs');
    assert.equal(s.firstSeq(), 31);
    const size = s.size();
    assert.equal(size.records, 10);
    assert.ok(size.fileBytes >= size.usedBytes && size.usedBytes > 0);
  });
});

test('GTID coverage (MariaDB positions, MySQL sets)', () => {
  assert.ok(gtidCovers('0-1-10,1-2-5', '0-1-10'));
  assert.ok(gtidCovers('0-1-11', '0-2-10'), 'sequence per domain, whatever server wrote it');
  assert.ok(!gtidCovers('0-1-9', '0-1-10'));
  assert.ok(!gtidCovers('0-1-10', '0-1-10,1-1-1'), 'a domain missing is not covered');
  const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  assert.ok(gtidCovers(`${u}:1-10`, `${u}:3-7`));
  assert.ok(!gtidCovers(`${u}:1-5`, `${u}:3-7`));
  assert.ok(gtidCovers(`${u}:1-5:7-9`, `${u}:8`));
});

test('RelayReader seeks by file/pos or by GTID alone to the first record after the checkpoint', async () => {
  await withStore(async (s) => {
    await fill(s, 40);
    const feed = {
      store: s,
      head: () => s.state()!.seq,
      waitAppend: async () => undefined,
      track: () => () => undefined,
      failure: () => undefined,
    };
    const open = (start: { name: string; pos: number; gtid?: string }) =>
      new RelayReader({
        feed,
        start,
        allowTable: () => false,
        tracker: new SchemaTracker(),
        live: async () => undefined,
        warn: () => undefined,
      });
    for (const start of [txn(5).end, { name: '', pos: 0, gtid: '0-1-5' }]) {
      const r = open(start);
      r.start();
      const ev = await r.next(10);
      assert.deepEqual(eventEnd(ev), txn(6).end, `after ${JSON.stringify(start)}`);
      await r.stop();
    }
    const purged = await purgeRelay(s, [], 'binlog.000002');
    assert.equal(purged.upTo, 10);
    assert.throws(
      () => open(txn(3).end).start(),
      (e: unknown) => e instanceof DmError && e.code === 'TSDM-40002',
    );
    assert.throws(
      () => open({ name: '', pos: 0, gtid: '0-1-3' }).start(),
      (e: unknown) => e instanceof DmError && e.code === 'TSDM-40002',
    );
  });
});
