/**
 * check-data's consistent point (issue #15): while an upstream writer keeps inserting and updating, openViews (through
 * the agent op `sync-hold` over NATS) gives upstream and downstream snapshots whose table checksums are equal, for a
 * task reading the binlog directly and one reading the relay; sync resumes afterwards; a hold nobody releases
 * expires by itself; another holdId is refused while one holds; a position sync already passed is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { comparePos } from '../../src/binlog/position.ts';
import { Errors } from '../../src/errors/index.ts';
import type { DbConfig } from '../../src/config/types.ts';
import { connect } from '../../agent/db/mysql.ts';
import { natsHoldClient } from '../../agent/verify/hold-client.ts';
import { closeView, openViews, type ViewTimings } from '../../agent/verify/consistent-point.ts';
import { openUpstreamSnapshot } from '../../agent/verify/upstream-snapshot.ts';
import { sleep, waitFor, type MariaDBInstance } from '../harness/index.ts';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';
import { createRelaySource, waitRelayRunning } from './relay-helpers.ts';

let c: Cluster;
let stopWriter: (() => Promise<number>) | undefined;

/** Task name -> source-id and schema: one reads the upstream binlog, one the source's relay. */
const CASES = [
  { task: 'vh-direct', source: 'direct', schema: 'vh1' },
  { task: 'vh-relay', source: 'relayed', schema: 'vh2' },
] as const;

const db = (m: MariaDBInstance): DbConfig => ({
  host: '127.0.0.1',
  port: m.port,
  user: 'root',
  password: m.password,
  session: {},
});

before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  for (const { schema } of CASES)
    await up.query(
      `CREATE DATABASE ${schema}; CREATE TABLE ${schema}.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL);
       INSERT INTO ${schema}.t (v) SELECT seq FROM mysql.seq_1_to_2000`,
    );
  await up.query('CREATE DATABASE other; CREATE TABLE other.x (id INT AUTO_INCREMENT PRIMARY KEY, v INT)');
  const r = await c.ctl(['operate-source', 'create', writeTemp('direct.yaml', sourceYaml('direct', up))]);
  assert.equal(r.code, 0, r.stderr);
  await createRelaySource(c, 'relayed', up);
  await waitRelayRunning(c, 'relayed');
  for (const k of CASES)
    await startTask(
      c,
      taskYaml(
        k.task,
        c.sb.downstream,
        `mysql-instances:\n  - source-id: ${k.source}\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["${k.schema}"]\n`,
      ),
    );
  for (const k of CASES) await waitSynced(c, k.task, 60_000);
  stopWriter = startWriter(up);
});

after(async () => {
  await stopWriter?.().catch(() => 0);
  await c?.stop();
});

/** Inserts and updates both schemas (and a table no task replicates) in small transactions until stopped. */
function startWriter(up: MariaDBInstance): () => Promise<number> {
  let running = true;
  let txns = 0;
  const loop = (async () => {
    const conn = await up.connect();
    try {
      while (running) {
        const r = 1 + Math.floor(Math.random() * 2000);
        await conn.query(
          `BEGIN; INSERT INTO vh1.t (v) VALUES (${r}); UPDATE vh1.t SET v = v + 1 WHERE id = ${r};
           INSERT INTO vh2.t (v) VALUES (${r}); UPDATE vh2.t SET v = v + 1 WHERE id = ${r}; COMMIT;
           INSERT INTO other.x (v) VALUES (${r})`,
        );
        txns++;
        await sleep(3);
      }
    } finally {
      await conn.end();
    }
  })();
  return async () => {
    running = false;
    await loop;
    return txns;
  };
}

const SUM = (schema: string) => `SELECT COUNT(*) AS n, BIT_XOR(CRC32(CONCAT_WS(',', id, v))) AS x FROM ${schema}.t`;

async function checksum(conn: Connection, schema: string): Promise<string> {
  const [rows] = await conn.query(SUM(schema));
  const r = (rows as { n: unknown; x: unknown }[])[0]!;
  return `${r.n}/${r.x}`;
}

for (const k of CASES) {
  test(`${k.task}: views at one consistent point while the upstream writes`, { timeout: 60_000 }, async () => {
    const up = c.sb.upstreams[0]!;
    const seen = new Set<string>();
    const timings: ViewTimings[] = [];
    for (let round = 0; round < 5; round++) {
      // A rotation between views: positions of the next file compare after those of the last.
      if (round === 2) await up.query('FLUSH BINARY LOGS');
      const holds = natsHoldClient(c.coord, k.task, `test-${k.task}-${round}`);
      const views = await openViews({
        sources: [{ id: k.source, db: db(up), tables: [[k.schema, 't']], syncing: true }],
        downstream: () => connect(db(c.sb.downstream), 'downstream'),
        count: 2,
        holds,
        // One round on the MySQL path (LOCK TABLES on the compared table, then SHOW MASTER STATUS).
        lockTables: round === 4,
        onTimings: (t) => timings.push(t),
      });
      try {
        assert.equal(views.length, 2);
        const [p0, p1] = views.map((v) => v.positions.get(k.source)!);
        assert.ok(comparePos(p0!, p1!) <= 0, 'positions never decrease');
        for (const v of views) {
          const u = await checksum(v.upstream.get(k.source)!, k.schema);
          const d = await checksum(v.downstream, k.schema);
          assert.equal(d, u, `round ${round}: downstream at ${JSON.stringify(v.positions.get(k.source))}`);
          seen.add(u);
        }
      } finally {
        for (const v of views) closeView(v);
      }
      assert.ok((holds.heldMs.get(k.source) ?? -1) >= 0, 'the release reported how long sync stood still');
    }
    assert.ok(seen.size >= 3, `the writer changed the table between views (${seen.size} distinct checksums)`);
    const held = timings.map((t) => t.heldMs).sort((a, b) => a - b);
    const catchUp = timings.map((t) => t.catchUpMs).sort((a, b) => a - b);
    console.log(
      `${k.task}: sync held per view ms: median ${held[held.length >> 1]}, max ${held.at(-1)}; catch-up median ${catchUp[catchUp.length >> 1]}, max ${catchUp.at(-1)}; attempts ${timings.map((t) => t.attempts).join(',')}`,
    );
    // Sync resumed: a row written now arrives.
    await up.query(`INSERT INTO ${k.schema}.t (v) VALUES (-1)`);
    await waitFor(
      async () => {
        const [r] = await c.sb.downstream.query(`SELECT COUNT(*) AS n FROM ${k.schema}.t WHERE v = -1`);
        return Number(r.n) >= 1;
      },
      20_000,
      'sync resumed after the views',
    );
  });
}

test('holds: one holdId at a time, a passed position is refused, an unreleased hold expires, an unknown subtask is refused', {
  timeout: 60_000,
}, async () => {
  const k = CASES[0];
  const up = c.sb.upstreams[0]!;
  const a = natsHoldClient(c.coord, k.task, 'a', { ttlMs: 1500 });
  const b = natsHoldClient(c.coord, k.task, 'b');
  await assert.rejects(
    natsHoldClient(c.coord, 'no-such-task', 'z').hold(k.source),
    (e: Error & { code?: string }) => e.code === Errors.SyncHoldNotHere.code,
  );
  const held = await a.hold(k.source);
  await assert.rejects(b.hold(k.source), (e: Error & { code?: string }) => e.code === Errors.SyncHoldConflict.code);
  await assert.rejects(b.release(k.source), (e: Error & { code?: string }) => e.code === Errors.SyncHoldConflict.code);
  // While held nothing moves downstream; after the TTL (no release) sync resumes by itself.
  const [before] = await c.sb.downstream.query(SUM(k.schema));
  await sleep(500);
  const [still] = await c.sb.downstream.query(SUM(k.schema));
  assert.deepEqual(still, before, 'the downstream stands still while held');
  await up.query(`INSERT INTO ${k.schema}.t (v) VALUES (-2)`);
  await waitFor(
    async () => {
      const [r] = await c.sb.downstream.query(`SELECT COUNT(*) AS n FROM ${k.schema}.t WHERE v = -2`);
      return Number(r.n) >= 1;
    },
    15_000,
    'sync resumed after the hold expired',
  );
  assert.match(c.agent.log(), /sync hold expired/);
  // The position held before is now passed: asking to hold there is refused (the caller takes a newer snapshot).
  await assert.rejects(b.hold(k.source, held), (e: Error & { code?: string }) => e.code === Errors.SyncHoldPassed.code);
  await b.release(k.source);
  // Held first, a snapshot position taken then can be held at exactly.
  const c2 = natsHoldClient(c.coord, k.task, 'c');
  await c2.hold(k.source);
  const snap = await openUpstreamSnapshot(db(up), [[k.schema, 't']]);
  try {
    assert.deepEqual(await c2.hold(k.source, snap.position), snap.position);
  } finally {
    snap.conn.destroy();
    await c2.release(k.source);
  }
});

test('a pause ends a hold; a paused subtask cannot be held', { timeout: 60_000 }, async () => {
  const k = CASES[1];
  const h = natsHoldClient(c.coord, k.task, 'p');
  await h.hold(k.source);
  assert.equal((await c.ctl(['pause-task', k.task])).code, 0);
  await waitStage(c, k.task, (v) => v.sources[0]!.stage === 'Paused', 'task paused');
  await assert.rejects(h.hold(k.source), (e: Error & { code?: string }) => e.code === Errors.SyncNotRunning.code);
  await h.release(k.source); // nothing held any more: idempotent
  assert.equal((await c.ctl(['resume-task', k.task])).code, 0);
  await waitSynced(c, k.task, 30_000);
  // Held again by a new check once syncing.
  const h2 = natsHoldClient(c.coord, k.task, 'p2');
  await h2.hold(k.source);
  await h2.release(k.source);
});

test('after the writer stops every task catches up and the data is equal', { timeout: 90_000 }, async () => {
  const txns = await stopWriter!();
  stopWriter = undefined;
  assert.ok(txns > 50, `the writer ran (${txns} transactions)`);
  for (const k of CASES) await waitSynced(c, k.task, 60_000);
  await assertSame(
    c.sb.upstreams[0]!,
    c.sb.downstream,
    CASES.map((k) => ({ up: [k.schema, 't'] as [string, string] })),
  );
});
