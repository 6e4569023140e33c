/**
 * check-data's consistent point over a pessimistic shard merge (2 sources x 2 tables -> 1 target): openViews holds
 * both sources' sync at their own snapshot positions, and the merged downstream table equals the union of the four
 * upstream shards in every view while a writer keeps changing all of them; a shard-DDL lock in progress makes the
 * hold wait (all sources are let go and held again) instead of deadlocking with it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Connection } from 'mysql2/promise';
import type { DbConfig } from '../../src/config/types.ts';
import { Bucket } from '../../src/coord/index.ts';
import { connect } from '../../agent/db/mysql.ts';
import { closeView, natsHoldClient, openViews, type ViewTimings } from '../../agent/verify/consistent-point.ts';
import type { View } from '../../agent/verify/types.ts';
import { sleep, waitFor, type MariaDBInstance } from '../harness/index.ts';
import { startCluster, type Cluster } from './helpers.ts';
import { startShardTask, unionRows, waitShardSynced, type Shard } from './shard-fixtures.ts';

const TASK = 'vhs';
let c: Cluster;
let shards: Shard[];
let stopWriter: (() => Promise<number>) | undefined;

const db = (m: MariaDBInstance): DbConfig => ({
  host: '127.0.0.1',
  port: m.port,
  user: 'root',
  password: m.password,
  session: {},
});

before(async () => {
  c = await startCluster({ upstreams: 2 });
  shards = await startShardTask(c, TASK, undefined, 200);
  stopWriter = startWriter();
});

after(async () => {
  await stopWriter?.().catch(() => 0);
  await c?.stop();
});

/** Inserts and updates a random shard per transaction until stopped. */
function startWriter(): () => Promise<number> {
  let running = true;
  let txns = 0;
  const loop = (async () => {
    const conns = new Map<MariaDBInstance, Connection>();
    for (const s of shards) if (!conns.has(s.up)) conns.set(s.up, await s.up.connect());
    try {
      while (running) {
        const s = shards[Math.floor(Math.random() * shards.length)]!;
        const id = s.base + s.next++;
        const upd = s.base + 1 + Math.floor(Math.random() * (s.next - 1));
        await conns
          .get(s.up)!
          .query(
            `BEGIN; INSERT INTO shard.${s.table} (id, name) VALUES (${id}, 'w${id}'); UPDATE shard.${s.table} SET name = CONCAT(name, 'u') WHERE id = ${upd}; COMMIT`,
          );
        txns++;
        await sleep(2);
      }
    } finally {
      for (const conn of conns.values()) await conn.end();
    }
  })();
  return async () => {
    running = false;
    await loop;
    return txns;
  };
}

const SUM = (t: string) => `SELECT COUNT(*) AS n, BIT_XOR(CRC32(CONCAT_WS(',', id, name))) AS x FROM ${t}`;

async function sum(conn: Connection, table: string): Promise<{ n: bigint; x: bigint }> {
  const [rows] = await conn.query(SUM(table));
  const r = (rows as { n: unknown; x: unknown }[])[0]!;
  return { n: BigInt(String(r.n)), x: BigInt(String(r.x)) };
}

/** The union of the four shards in the view's upstream snapshots vs the merged table in its downstream snapshot. */
async function assertViewEqual(v: View, what: string): Promise<void> {
  let n = 0n;
  let x = 0n;
  for (const [source, conn] of v.upstream)
    for (const t of ['t1', 't2']) {
      const s = await sum(conn, `shard.${t}`);
      assert.ok(source === 'source1' || source === 'source2');
      n += s.n;
      x ^= s.x;
    }
  const d = await sum(v.downstream, `${TASK}.t`);
  assert.deepEqual(d, { n, x }, `${what}: positions ${JSON.stringify(Object.fromEntries(v.positions))}`);
}

/** What openViews logged (its messages only). */
const logged: string[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line).msg) });

async function views(round: string, timings: ViewTimings[]): Promise<void> {
  const vs = await openViews({
    sources: c.sb.upstreams.map((up, i) => ({
      id: `source${i + 1}`,
      db: db(up),
      tables: [
        ['shard', 't1'],
        ['shard', 't2'],
      ],
      syncing: true,
    })),
    downstream: () => connect(db(c.sb.downstream), 'downstream'),
    count: 2,
    holds: natsHoldClient(c.coord, TASK, `test-${round}`),
    holdAllTimeoutMs: 2000,
    log,
    onTimings: (t) => timings.push(t),
  });
  try {
    for (const [i, v] of vs.entries()) await assertViewEqual(v, `${round} view ${i}`);
  } finally {
    for (const v of vs) closeView(v);
  }
}

test('views of a shard merge: the merged table equals the union of the shards at each view', {
  timeout: 60_000,
}, async () => {
  const timings: ViewTimings[] = [];
  for (let round = 0; round < 4; round++) await views(`round ${round}`, timings);
  const held = timings.map((t) => t.heldMs).sort((a, b) => a - b);
  console.log(`shard merge: sync held per view ms: median ${held[held.length >> 1]}, max ${held.at(-1)}`);
});

test('a shard-DDL lock in progress: the hold waits for it, then the views are equal', { timeout: 60_000 }, async () => {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  await up1.query('ALTER TABLE shard.t1 ADD COLUMN c INT NULL');
  await waitFor(
    async () => (await c.coord.list<{ task?: string }>(Bucket.locks)).some((e) => e.value?.task === TASK),
    20_000,
    'the shard-DDL lock exists',
  );
  const timings: ViewTimings[] = [];
  logged.length = 0;
  const opening = views('during the lock', timings);
  await sleep(500);
  await up1.query('ALTER TABLE shard.t2 ADD COLUMN c INT NULL');
  await up2.query('ALTER TABLE shard.t1 ADD COLUMN c INT NULL; ALTER TABLE shard.t2 ADD COLUMN c INT NULL');
  await opening;
  const [col] = await c.sb.downstream.query(
    `SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = '${TASK}' AND table_name = 't' AND column_name = 'c'`,
  );
  assert.equal(Number(col.n), 1, 'the DDL reached the merged table');
  assert.ok(
    logged.some((m) => m.startsWith('not every source could stand at once')),
    'source2 stood while source1 waited for the lock: all were let go and held again',
  );
});

test('after the writer stops the merge catches up and equals the union of the shards', {
  timeout: 90_000,
}, async () => {
  const txns = await stopWriter!();
  stopWriter = undefined;
  assert.ok(txns > 50, `the writer ran (${txns} transactions)`);
  await waitShardSynced(c, TASK, 60_000);
  const down = await c.sb.downstream.query(`SELECT id, name FROM ${TASK}.t`);
  const rows = down.map((r: Record<string, unknown>) => JSON.stringify([String(r.id), String(r.name)])).sort();
  assert.deepEqual(rows, await unionRows(shards, ['id', 'name']));
});
