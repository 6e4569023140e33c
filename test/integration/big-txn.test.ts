/**
 * Issue #16 item 4: one upstream transaction of BIG_ROWS rows, two agents. The bound agent streams it in chunks inside
 * one downstream transaction (agent/sync/big-txn.ts): its event loop keeps running (no fencing, no failover: the
 * source stays bound to the same agent with the same term), its peak RSS stays under a bound set by the chunk size,
 * and the data is equal. Then a kill -9 of the bound agent in the middle of another big transaction: the other agent
 * takes over, resumes from before that transaction (the downstream holds none of it) and the data is equal.
 *
 * BIG_ROWS is 1M (the figure); TSDM_BIG_TXN_ROWS and TSDM_BIG_TXN_CHUNK override it and the part size when
 * measuring.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/index.ts';
import { assertSame, startTask, status, taskYaml, waitSynced } from './helpers.ts';
import { bound, logLines, startMultiCluster, waitRebound, type MultiCluster } from './cluster-helpers.ts';
import { bigTaskBody, createBigSchema, peakRssMb, rssBoundMb } from './big-txn-helpers.ts';

const BIG_ROWS = Number(process.env.TSDM_BIG_TXN_ROWS ?? 1_000_000);
/** The task's `syncers.big.large-txn-rows` (rows per chunk of a streamed transaction). */
const CHUNK_ROWS = Number(process.env.TSDM_BIG_TXN_CHUNK ?? 5000);
/**
 * The bound on the agent's peak RSS (VmHWM), set by the part size, not by BIG_ROWS: 400 MB plus 10 KB per row of a
 * part. The agent itself (Node, tsx, the NATS and MariaDB clients) is ~150 MB after the small load here; while it
 * streams, the queue holds up to 4 parts of decoded rows and V8's heap grows between major collections (its live size
 * after each is 45-90 MB). Measured: 322 MB with parts of 5000 rows (281 MB for a 500k-row transaction), 427 MB with
 * 20000; before streaming, 1M rows took the agent to 1,823 MB.
 */
const RSS_BOUND_MB = rssBoundMb(CHUNK_ROWS);
/** Rows of the transaction the agent is killed in the middle of. */
const KILL_ROWS = Math.min(BIG_ROWS, 200_000);

const LOOP_DELAY = join(dirname(fileURLToPath(import.meta.url)), '..', 'harness', 'loop-delay.mjs');

let c: MultiCluster;
before(async () => {
  c = await startMultiCluster({ agents: 2, agentEnv: { NODE_OPTIONS: `--import ${LOOP_DELAY}` } });
  const up = c.sb.upstreams[0]!;
  await createBigSchema(up);
});
after(async () => {
  await c?.stop();
});

function maxLoopDelay(a: MultiCluster['agents'][number], fromLine: number): number {
  return Math.max(
    0,
    ...logLines(a, 'loop delay')
      .slice(fromLine)
      .map((l) => Number(l.maxMs)),
  );
}

test(`one ${BIG_ROWS}-row upstream transaction: no failover, bounded RSS, data equal; kill -9 in the middle of one: resumed, data equal`, {
  timeout: 900_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await startTask(c, taskYaml('bt', c.sb.downstream, bigTaskBody(CHUNK_ROWS)));
  await waitSynced(c, 'bt', 60_000);
  const b1 = (await bound(c.coord, 'source1'))!;
  const agent = c.byName(b1.agent);
  const leaders0 = c.agents.map((a) => logLines(a, 'became leader').length);
  const delays0 = logLines(agent, 'loop delay').length;
  const hwm0 = peakRssMb(agent.pid());

  // --- one transaction of BIG_ROWS rows (a single INSERT … SELECT commits as one transaction)
  const t0 = Date.now();
  await up.query(
    `INSERT INTO big.t SELECT seq, seq % 1000, CONCAT('row-', seq, '-', REPEAT('x', 30)), '2024-01-02 03:04:05.678' FROM mysql.seq_1_to_${BIG_ROWS}`,
  );
  const upMs = Date.now() - t0;
  await up.query('INSERT INTO big.small VALUES (1, 1)');
  await waitSynced(c, 'bt', 600_000);
  const syncMs = Date.now() - t0;
  const hwm = peakRssMb(agent.pid());
  const delay = maxLoopDelay(agent, delays0);
  console.log(
    `big txn ${BIG_ROWS} rows: upstream ${upMs} ms, synced after ${syncMs} ms; agent VmHWM ${hwm0} MB before, ${hwm} MB after (bound ${RSS_BOUND_MB} MB, chunk ${CHUNK_ROWS} rows); event loop max delay ${delay} ms`,
  );
  const b2 = (await bound(c.coord, 'source1'))!;
  assert.deepEqual({ agent: b2.agent, term: b2.term }, { agent: b1.agent, term: b1.term }, 'no failover');
  assert.deepEqual(
    c.agents.map((a) => logLines(a, 'became leader').length),
    leaders0,
    'no new leader election',
  );
  assert.equal(logLines(agent, 'member lease not renewed: fencing, all subtasks stop writing').length, 0, 'no fencing');
  await assertSame(up, c.sb.downstream, [{ up: ['big', 't'] }, { up: ['big', 'small'] }]);
  assert.ok(hwm < RSS_BOUND_MB, `agent peak RSS ${hwm} MB under ${RSS_BOUND_MB} MB`);

  const [committed] = logLines(agent, 'large transaction committed');
  assert.ok(Number(committed?.parts) > 1, `streamed in parts: ${JSON.stringify(committed)}`);

  // --- kill -9 of the bound agent while it applies another large transaction (an UPDATE of KILL_ROWS rows: smaller
  // than the first, for time, still KILL_ROWS / CHUNK_ROWS parts)
  const t1 = Date.now();
  await up.query(`UPDATE big.t SET a = a + 1, b = CONCAT(b, 'u') WHERE id <= ${KILL_ROWS}`);
  console.log(`update of ${KILL_ROWS} rows upstream: ${Date.now() - t1} ms`);
  // In the middle: the downstream has an open transaction that changed a few parts' rows (and not all of them).
  let modified = 0;
  await waitFor(
    async () => {
      const [r] = await c.sb.downstream.query('SELECT MAX(trx_rows_modified) AS m FROM information_schema.innodb_trx');
      modified = Number(r?.m ?? 0);
      return modified >= 3 * CHUNK_ROWS;
    },
    300_000,
    'the bound agent applied a few parts of the update downstream',
  );
  await agent.kill();
  console.log(`killed ${agent.name} with ${modified} rows changed in its open downstream transaction`);
  // The downstream holds none of the update: its transaction never committed.
  const [{ n }] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM big.t WHERE b LIKE "%u"');
  assert.equal(Number(n), 0, 'no row of the interrupted transaction is visible downstream');
  const b3 = await waitRebound(c.coord, 'source1', b2);
  await up.query('INSERT INTO big.small VALUES (2, 2)');
  await waitSynced(c, 'bt', 600_000);
  console.log(`killed ${agent.name}; ${b3.agent} resumed and synced ${Date.now() - t1} ms after the update`);
  await assertSame(up, c.sb.downstream, [{ up: ['big', 't'] }, { up: ['big', 'small'] }]);
  const v = await status(c, 'bt');
  assert.equal(v.sources[0]!.stage, 'Running');
});
