/**
 * A large transaction in the relay store as part records followed by its closing record (issue #16 item 4): state
 * and readers move only at transaction ends, seek and purge never start inside one, a writer restart drops the parts
 * of a transaction whose end was never stored. LMDB in a temp dir: no servers needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayReader } from '../../agent/relay/reader.ts';
import { neededSeq, purgeRelay, seqAfter } from '../../agent/relay/purge.ts';
import { completeSeq, RelayStore, type RelayPart, type RelayTxn } from '../../agent/relay/store.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';

async function withStore(fn: (s: RelayStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-relay-parts-'));
  let s = RelayStore.open(dir, 'src');
  try {
    await fn(s);
    // Reopened (a process restart): the same records and state.
    const st = s.state();
    await s.close();
    s = RelayStore.open(dir, 'src');
    assert.deepEqual(s.state(), st);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const START: BinlogPosition = { name: 'binlog.000001', pos: 4, gtid: '0-1-0' };
const at = (i: number): BinlogPosition => ({ name: 'binlog.000001', pos: 1000 + 100 * i, gtid: `0-1-${i}` });
const row = (id: number) => ({ op: 'insert' as const, schema: 'db', table: 't', after: { id: String(id) } });

function txn(i: number, rows = 1, c = false): RelayTxn {
  const t: RelayTxn = {
    k: 't',
    end: at(i),
    ts: 1000 + i,
    seg: 1,
    rows: Array.from({ length: rows }, (_, j) => row(j)),
  };
  if (c) t.c = 1;
  return t;
}
function part(from: BinlogPosition, rows: number, first: number): RelayPart {
  return { k: 'x', from, ts: 1000, seg: 1, rows: Array.from({ length: rows }, (_, j) => row(first + j)) };
}

async function init(s: RelayStore): Promise<void> {
  await s.init({ seq: 0, pos: START, seg: 1, uuid: '0-1', created: 'now' }, {});
}

/** #1 txn 1; #2-#4 parts of txn 2, #5 its close; #6 txn 3. */
async function bigInTheMiddle(s: RelayStore): Promise<void> {
  await init(s);
  await s.append([txn(1), part(at(1), 3, 0)]).committed;
  assert.deepEqual(s.state()!.pos, at(1), 'the position stays at the transaction start while parts are stored');
  assert.equal(s.state()!.open, 1);
  assert.equal(completeSeq(s.state()), 1, 'readers see up to the last complete transaction');
  await s.append([part(at(1), 3, 3)]).committed;
  await s.append([part(at(1), 3, 6)]).committed;
  assert.deepEqual(
    { seq: s.state()!.seq, open: s.state()!.open, pos: s.state()!.pos },
    { seq: 4, open: 3, pos: at(1) },
  );
  await s.append([txn(2, 2, true), txn(3)]).committed;
  assert.deepEqual(
    { seq: s.state()!.seq, open: s.state()!.open, pos: s.state()!.pos },
    { seq: 6, open: undefined, pos: at(3) },
  );
}

function tracker(): SchemaTracker {
  const t = new SchemaTracker();
  assert.ok(applyDdl(t, 'CREATE DATABASE db', '').ok);
  assert.ok(applyDdl(t, 'CREATE TABLE db.t (id INT PRIMARY KEY)', 'db').ok);
  return t;
}

function reader(s: RelayStore, start: BinlogPosition, allow = true): RelayReader {
  return new RelayReader({
    feed: {
      store: s,
      head: () => completeSeq(s.state()),
      waitAppend: async () => undefined,
      track: () => () => undefined,
      failure: () => undefined,
    },
    start,
    allowTable: () => allow,
    tracker: tracker(),
    live: async () => undefined,
    warn: () => undefined,
  });
}

async function drain(r: RelayReader): Promise<string[]> {
  const out: string[] = [];
  for (let ev = await r.next(1); ev; ev = await r.next(1)) {
    if (ev.kind === 'txn-part') out.push(`part:${ev.changes.map((c) => c.after!.id).join(',')}`);
    else if (ev.kind === 'txn') out.push(`txn${ev.continued ? '+' : ''}:${ev.end.pos}:${ev.changes.length}`);
    else out.push(ev.kind);
  }
  return out;
}

test('parts and their close read back in order as TxnPartEvents and a continued TxnEvent; seek lands on the transaction start', async () => {
  await withStore(async (s) => {
    await bigInTheMiddle(s);
    const all = ['part:0,1,2', 'part:3,4,5', 'part:6,7,8', 'txn+:1200:2', 'txn:1300:1'];
    for (const start of [at(1), { name: '', pos: 0, gtid: '0-1-1' }]) {
      const r = reader(s, start);
      r.start();
      assert.deepEqual(await drain(r), all, `from ${JSON.stringify(start)}`);
      await r.stop();
    }
    const r = reader(s, at(2));
    r.start();
    assert.deepEqual(await drain(r), ['txn:1300:1'], 'a task past the transaction skips all of it');
    await r.stop();
    const none = reader(s, at(1), false);
    none.start();
    assert.deepEqual(
      await drain(none),
      ['txn:1200:0', 'txn:1300:0'],
      'a task replicating none of its tables gets no part, and the close as an ordinary transaction',
    );
    await none.stop();
    assert.equal(seqAfter(s, at(1)), 2);
    assert.equal(seqAfter(s, at(2)), 6);
  });
});

test('a reader never sees the parts of a transaction whose end is not stored', async () => {
  await withStore(async (s) => {
    await init(s);
    await s.append([txn(1), part(at(1), 3, 0), part(at(1), 3, 3)]).committed;
    const r = reader(s, START);
    r.start();
    assert.deepEqual(await drain(r), ['txn:1100:1']);
    await r.stop();
  });
});

test('restart after a crash between parts: the open parts are dropped, the transaction is stored again from its start', async () => {
  await withStore(async (s) => {
    await init(s);
    await s.append([txn(1), part(at(1), 3, 0)]).committed;
    await s.append([part(at(1), 3, 3)]).committed;
    // The writer restarts: it resumes the upstream at state.pos (the transaction's start) after dropping the parts.
    const st = (await s.dropOpen())!;
    assert.deepEqual({ seq: st.seq, open: st.open, pos: st.pos }, { seq: 1, open: undefined, pos: at(1) });
    assert.equal(s.get(2), undefined);
    assert.equal(s.get(3), undefined);
    await s.append([part(at(1), 2, 10)]).committed;
    await s.append([txn(2, 1, true)]).committed;
    const r = reader(s, START);
    r.start();
    assert.deepEqual(await drain(r), ['txn:1100:1', 'part:10,11', 'txn+:1200:1']);
    await r.stop();
    // Nothing open: dropOpen changes nothing.
    assert.equal((await s.dropOpen())!.seq, 3);
  });
});

test('purge keeps every part of a transaction whose end a task still needs, and never ends inside one', async () => {
  await withStore(async (s) => {
    await bigInTheMiddle(s);
    // A task at the transaction's start needs its parts.
    assert.equal(neededSeq(s, [{ task: 'a', synced: at(1) }]).seq, 2);
    assert.equal((await purgeRelay(s, [{ task: 'a', synced: at(1) }])).purged, 1);
    assert.equal(s.firstSeq(), 2);
    assert.deepEqual(s.origin(), at(1));
    // Asked to purge into the transaction (below its close, #5): nothing of it goes.
    assert.equal(await s.purgeBelow(5), 0);
    assert.equal(await s.purgeBelow(4), 0);
    assert.equal(s.firstSeq(), 2);
    // Past its end: all of it, and the origin is its end.
    assert.equal(await s.purgeBelow(6), 4);
    assert.deepEqual(s.origin(), at(2));
    // Open parts after the last complete record are never purged.
    await s.append([part(at(3), 1, 0)]).committed;
    assert.equal(await s.purgeBelow(100), 1);
    assert.equal(s.firstSeq(), 7);
    assert.ok(s.get(7)?.k === 'x');
  });
});
