/**
 * Issue #16 item 4 with the source's relay log (enable-relay: true), the relay variant of big-txn.test.ts: the relay
 * writer stores a large upstream transaction as part records (agent/relay/store.ts) and the relay reader hands them to
 * the sync unit as parts, so neither holds the whole transaction: the agent's peak RSS stays under a bound set by the
 * part size, the data is equal, and the transaction was applied in parts.
 *
 * RELAY_ROWS is 300k (a whole 300k-row transaction held by the relay writer and again by the reader takes the agent
 * far past the bound); TSDM_BIG_TXN_RELAY_ROWS overrides it when measuring.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';
import { binlogDumps, createRelaySource, relayStatus, waitRelayRunning } from './relay-helpers.ts';
import { logLines } from './cluster-helpers.ts';
import { bigTaskBody, createBigSchema, peakRssMb, rssBoundMb } from './big-txn-helpers.ts';

const RELAY_ROWS = Number(process.env.TSDM_BIG_TXN_RELAY_ROWS ?? 300_000);
/** The task's `syncers.big.large-txn-rows`; the relay stores parts of RELAY_CHUNK_ROWS (10000) rows. */
const CHUNK_ROWS = 5000;
/** Same bound as big-txn.test.ts: 400 MB plus 10 KB per row of a part (here the relay's parts, 10000 rows). */
const RSS_BOUND_MB = rssBoundMb(10_000);

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  await createBigSchema(up);
  await createRelaySource(c, 'source1', up);
});
after(async () => {
  await c?.stop();
});

test(`one ${RELAY_ROWS}-row upstream transaction through the relay: stored and read in parts, bounded RSS, data equal`, {
  timeout: 300_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await waitRelayRunning(c, 'source1');
  await startTask(c, taskYaml('btr', c.sb.downstream, bigTaskBody(CHUNK_ROWS)));
  await waitSynced(c, 'btr', 60_000);
  assert.equal(await binlogDumps(up), 1, 'the task reads the relay: one binlog stream');
  const hwm0 = peakRssMb(c.agent.pid());
  const seq0 = (await relayStatus(c, 'source1'))!.lastSeq;

  const t0 = Date.now();
  await up.query(
    `INSERT INTO big.t SELECT seq, seq % 1000, CONCAT('row-', seq, '-', REPEAT('x', 30)), '2024-01-02 03:04:05.678' FROM mysql.seq_1_to_${RELAY_ROWS}`,
  );
  await up.query('INSERT INTO big.small VALUES (1, 1)');
  await waitSynced(c, 'btr', 240_000);
  const hwm = peakRssMb(c.agent.pid());
  const records = (await relayStatus(c, 'source1'))!.lastSeq - seq0;
  console.log(
    `big txn through the relay, ${RELAY_ROWS} rows: synced after ${Date.now() - t0} ms; ${records} relay records; agent VmHWM ${hwm0} MB before, ${hwm} MB after (bound ${RSS_BOUND_MB} MB)`,
  );
  await assertSame(up, c.sb.downstream, [{ up: ['big', 't'] }, { up: ['big', 'small'] }]);
  // Parts of 10000 rows (or 8 MB of binlog), the closing record, the small transaction.
  assert.ok(
    records >= Math.ceil(RELAY_ROWS / 10_000),
    `the relay stored the transaction in parts (${records} records)`,
  );
  const [committed] = logLines(c.agent, 'large transaction committed');
  assert.ok(Number(committed?.parts) > 1, `applied in parts: ${JSON.stringify(committed)}`);
  assert.ok(hwm < RSS_BOUND_MB, `agent peak RSS ${hwm} MB under ${RSS_BOUND_MB} MB`);
});
