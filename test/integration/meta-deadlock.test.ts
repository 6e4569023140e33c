/**
 * Issue #12 item 6: the sources of one task start at the same moment and write the task's meta-schema tables
 * (owner rows, checkpoints of every writer, states, schema trackers) side by side. Those writes must never deadlock
 * with each other: a deadlock was retried, but the user saw `TSDM-30004 … 1213 Deadlock found` in the log and status.
 * An incremental task over two sources starts both at once, several rounds (start-task --remove-meta from the current
 * position, writes, stop-task), and ends equal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { CheckpointStore } from '../../agent/checkpoint.ts';
import type { ChunkRow } from '../../agent/checkpoint-load.ts';
import { connect } from '../../agent/db/mysql.ts';
import { writeTemp } from '../harness/tsdm.ts';
import { assertSame, startCluster, status, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

const ROUNDS = 2;
const SCHEMA = (db: string) => `CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT PRIMARY KEY, v VARCHAR(20))`;

test('two sources starting together never deadlock on the meta tables', { timeout: 180_000 }, async () => {
  for (const [i, up] of c.sb.upstreams.entries()) {
    await up.query(SCHEMA(`md${i + 1}`));
    await c.sb.downstream.query(SCHEMA(`md${i + 1}`));
  }
  for (let round = 1; round <= ROUNDS; round++) {
    // Each round starts over from where the upstreams are now (--remove-meta): both sources write their first
    // checkpoints of every writer at the same moment.
    const metas = await Promise.all(
      c.sb.upstreams.map(async (u) => {
        const [m] = await u.query('SHOW MASTER STATUS');
        return m as { File: string; Position: number };
      }),
    );
    const instances = metas
      .map(
        (m, i) =>
          `  - source-id: source${i + 1}\n    block-allow-list: b\n    meta:\n      binlog-name: ${m.File}\n      binlog-pos: ${m.Position}\n`,
      )
      .join('');
    const yaml = taskYaml(
      'md',
      c.sb.downstream,
      `mysql-instances:\n${instances}block-allow-list:\n  b:\n    do-dbs: ["md1", "md2"]\n`,
      'incremental',
    );
    const r = await c.ctl(['start-task', writeTemp('task.yaml', yaml), ...(round > 1 ? ['--remove-meta'] : [])]);
    assert.equal(r.code, 0, `start-task round ${round}: ${r.stdout}${r.stderr}`);
    for (const [i, up] of c.sb.upstreams.entries()) {
      await up.query(`INSERT INTO md${i + 1}.t SELECT ${round * 1000} + seq, 'r${round}' FROM mysql.seq_1_to_50`);
    }
    await waitSynced(c, 'md');
    const v = await status(c, 'md');
    const errs = v.sources.flatMap((s) => [...(s.error ? [s.error] : []), ...(s.recentErrors ?? [])]);
    assert.deepEqual(
      errs.map((e) => `${e.code} ${e.message}`),
      [],
      `round ${round}: no errors in status`,
    );
    const stop = await c.ctl(['stop-task', 'md']);
    assert.equal(stop.code, 0, stop.stderr);
    await waitStage(c, 'md', (s) => s.sources.every((x) => x.stage === 'Stopped'), `round ${round} stopped`);
  }
  const deadlocks = c.agent
    .log()
    .split('\n')
    .filter((l) => /1213|Deadlock|TSDM-30004/.test(l));
  assert.deepEqual(deadlocks.slice(0, 3), [], `${deadlocks.length} deadlock lines in the agent log`);
  for (const [i, up] of c.sb.upstreams.entries()) await assertSame(up, c.sb.downstream, [{ up: [`md${i + 1}`, 't'] }]);
});

/**
 * The same meta writes without the scheduling luck of a whole task: two sources' checkpoint stores run their start-up
 * writes (claim, forget old checkpoints, a chunk plan, every writer's first checkpoint, the DDL marker, the state)
 * at the same moment on two connections, many rounds. Every 1213 is counted.
 */
test('checkpoint writes of two sources at the same moment: no deadlock', { timeout: 120_000 }, async () => {
  const db = {
    host: '127.0.0.1',
    port: c.sb.downstream.port,
    user: 'root',
    password: c.sb.downstream.password,
    session: {},
  };
  const deadlocks: string[] = [];
  const pos = (n: number) => ({ name: 'binlog.000001', pos: 4 + n });
  const chunks = (src: string): ChunkRow[] =>
    Array.from({ length: 60 }, (_, i) => ({
      chunkId: `${src}-${String(i).padStart(4, '0')}`,
      schema: 's',
      table: 't',
      targetSchema: 's',
      targetTable: 't',
      keyColumn: 'id',
      lo: String(i * 10),
      hi: String(i * 10 + 10),
      estRows: 10,
      done: false,
      rows: 0,
    }));
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      const e = err as { message?: string; context?: { errno?: number } };
      if (e.context?.errno === 1213 || /1213|Deadlock/.test(e.message ?? '')) deadlocks.push(what);
      else throw err;
    }
  };
  for (let round = 1; round <= 40; round++) {
    // New connections each round: a claim ends the connections of the previous term (fencing).
    const conns: Connection[] = [await connect(db, 'downstream'), await connect(db, 'downstream')];
    try {
      await Promise.all(
        ['source1', 'source2'].map(async (src, i) => {
          const conn = conns[i]!;
          const ck = new CheckpointStore('dm_meta', 'mdx', src, { agent: 'agent-1', term: round });
          await step('init', () => ck.init(conn));
          await step('claim', () => ck.claim(conn));
          await step('remove', () => ck.removeOnce(conn, `round ${round}`));
          await step('plan', () =>
            ck.writePlan(
              conn,
              chunks(src),
              { phase: 'load', syncStart: pos(round), safeUntil: pos(round) },
              { tables: [] },
            ),
          );
          await step('state', () => ck.writeState(conn, { phase: 'sync', syncStart: pos(round) }));
          await step('writers', () => ck.writeAllWriters(conn, pos(round), 16, { tables: [] }));
          await step('ddl', async () => {
            await ck.markDdlPending(conn, `x:${round}`);
            await ck.clearDdlPending(conn);
          });
          await step('writers again', () =>
            ck.writeAllWriters(conn, pos(round + 1), 8 + (round % 2) * 8, { tables: [] }),
          );
        }),
      );
    } finally {
      for (const c2 of conns) c2.destroy();
    }
  }
  assert.deepEqual(deadlocks, [], `${deadlocks.length} deadlocks`);
});
