/**
 * Issue #5 acceptance 3: a partitioned agent (SIGSTOP for longer than the lease, then SIGCONT) does not write after
 * its binding moved. Checked by the data (downstream equals upstream) and by a log of writes: with the test hook
 * TSDM_FAULT_WRITE_AUDIT=1 every fenced commit appends (agent, term) to `<task>_write_audit` inside the committing
 * transaction, so the audit holds exactly the commits that happened, in commit order (auto-increment ids).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LEASE_TTL_MS } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { startWorkload } from '../harness/workload.ts';
import { ALL_TABLES, seed, WORKLOAD } from './fixtures.ts';
import { assertSame, startTask, status, taskYaml, waitSynced } from './helpers.ts';
import { bound, logLines, startMultiCluster, waitRebound, type MultiCluster } from './cluster-helpers.ts';

/**
 * Run by failover-fencing.test.ts as is, and by failover-fencing-db.test.ts with TSDM_FAULT_NO_SELF_FENCE=1: the
 * agents' watchdog is off and an agent keeps running subtasks whose binding moved (a zombie that never learns it
 * lost), so that only the downstream term check stands between the woken agent and the data.
 */
export function fencingScenario(selfFence: boolean): void {
  let c: MultiCluster;
  before(async () => {
    c = await startMultiCluster({
      agents: 2,
      agentEnv: { TSDM_FAULT_WRITE_AUDIT: '1', ...(selfFence ? {} : { TSDM_FAULT_NO_SELF_FENCE: '1' }) },
    });
    await seed(c.sb.upstreams[0]!, 0.1);
  });
  after(async () => {
    await c?.stop();
  });

  test(`an agent stopped for longer than the lease does not write after its binding moved (${selfFence ? 'self-fencing and term check' : 'term check alone'})`, {
    timeout: 600_000,
  }, async () => {
    const up = c.sb.upstreams[0]!;
    const writer = startWorkload(up, WORKLOAD, { pauseMs: 5, seed: 11 });
    await startTask(
      c,
      taskYaml(
        'fence',
        c.sb.downstream,
        `mysql-instances:
  - source-id: source1
    block-allow-list: b
    syncer-thread: 4
block-allow-list:
  b:
    do-dbs: ["shop", "crm", "logs"]
`,
      ),
    );
    const t0 = Date.now();
    while ((await status(c, 'fence')).sources[0]!.unit !== 'sync' && Date.now() - t0 < 180_000)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000));
    const a = (await bound(c.coord, 'source1'))!;
    const stale = c.byName(a.agent);
    const pid = stale.pid()!;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    let b;
    try {
      b = await waitRebound(c.coord, 'source1', a);
      // The new owner claims the source in the downstream and commits under its own term.
      await waitFor(
        async () => {
          const [r] = await c.sb.downstream.query(
            'SELECT COUNT(*) AS n FROM dm_meta.fence_write_audit WHERE agent = ? AND term = ?',
            [b!.agent, b!.term],
          );
          return Number(r.n) > 5;
        },
        60_000,
        `${b.agent} writes under term ${b.term}`,
      );
      // Longer than the lease in total, then the stale agent wakes up with its old binding in memory.
      const left = LEASE_TTL_MS + 3000 - (Date.now() - stoppedAt);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    console.log(
      `${a.agent} stopped ${Date.now() - stoppedAt} ms; source moved to ${b.agent} (term ${a.term} -> ${b.term})`,
    );
    // Give the woken agent time to do whatever it would do, while the workload goes on.
    await new Promise((r) => setTimeout(r, 8000));
    if (selfFence)
      assert.ok(
        logLines(stale, 'member lease not renewed: fencing, all subtasks stop writing').length > 0,
        'the stale agent fenced itself',
      );
    else {
      const fencedErrors = stale
        .log()
        .split('\n')
        .filter((l) => l.includes('TSDM-50021')).length;
      console.log(`${a.agent} hit the downstream term check ${fencedErrors} times`);
      assert.ok(fencedErrors > 0, 'the woken agent tried to write and the term check refused');
    }
    const w = await writer.stop();
    assert.ok(w.txns > 100, `writer committed ${w.txns} transactions`);
    await waitSynced(c, 'fence', 240_000);

    // The log of writes: every commit of the stale agent comes before the first commit of the new owner.
    const [firstNew] = await c.sb.downstream.query(
      'SELECT MIN(id) AS id FROM dm_meta.fence_write_audit WHERE agent = ? AND term = ?',
      [b.agent, b.term],
    );
    const [lastOld] = await c.sb.downstream.query(
      'SELECT MAX(id) AS id, COUNT(*) AS n FROM dm_meta.fence_write_audit WHERE agent = ? AND term = ?',
      [a.agent, a.term],
    );
    const [after] = await c.sb.downstream.query(
      'SELECT COUNT(*) AS n FROM dm_meta.fence_write_audit WHERE term = ? AND id > ?',
      [a.term, firstNew.id],
    );
    console.log(
      `audit: ${a.agent} committed ${lastOld.n} times (last id ${lastOld.id}); ${b.agent}'s first commit id ${firstNew.id}; stale commits after it: ${after.n}`,
    );
    assert.ok(Number(lastOld.n) > 0, 'the first owner wrote before it was stopped');
    assert.ok(Number(lastOld.id) < Number(firstNew.id), 'no commit of the stale owner after the new owner started');
    assert.equal(Number(after.n), 0);
    const [own] = await c.sb.downstream.query('SELECT term, agent FROM dm_meta.fence_source_owner WHERE source = ?', [
      'source1',
    ]);
    assert.equal(String(own.agent), b.agent);
    assert.equal((await status(c, 'fence')).sources[0]!.agent, b.agent, 'only the owner reports status');
    await assertSame(
      up,
      c.sb.downstream,
      ALL_TABLES.map((t) => ({ up: t })),
    );
    const [{ n }] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM logs.events_nokey');
    const [{ m }] = await up.query('SELECT COUNT(*) AS m FROM logs.events_nokey');
    assert.equal(Number(n), Number(m), 'the keyless table has exactly as many rows downstream');
  });
}
