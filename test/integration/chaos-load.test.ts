/**
 * SIGKILL during a maximum-speed load (issue #14): the load streams each chunk with LOAD DATA LOCAL INFILE from the
 * snapshot read, one downstream transaction per chunk that also marks the chunk done (agent/load/load.ts). No fault
 * delay slows it here: the agent is killed as soon as a status of its current process shows chunks done, up to three
 * times, while an upstream writer keeps writing. The task (mode all) must end with every table equal, the keyless
 * table (one chunk, reloaded whole or not at all) with exactly as many rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

test('SIGKILLs during a maximum-speed load lose and duplicate nothing', { timeout: 600_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE ld;
    CREATE TABLE ld.a (id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(40) NOT NULL, UNIQUE KEY (c), KEY (k));
    INSERT INTO ld.a SELECT seq, seq % 1000, CONCAT('c-', seq) FROM mysql.seq_1_to_120000;
    CREATE TABLE ld.b (id BIGINT UNSIGNED PRIMARY KEY, d DECIMAL(20,6), t DATETIME(6), v VARBINARY(16));
    INSERT INTO ld.b SELECT seq + 9000000000000000000, seq / 7, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, UNHEX(MD5(seq)) FROM mysql.seq_1_to_80000;
    CREATE TABLE ld.nokey (a INT, b VARCHAR(20));
    INSERT INTO ld.nokey SELECT seq % 500, CONCAT('n', seq) FROM mysql.seq_1_to_30000;`);
  let writing = true;
  let n = 0;
  const writer = (async () => {
    while (writing) {
      n++;
      await up.query(
        `UPDATE ld.a SET k = k + 1 WHERE id = ${1 + ((n * 7919) % 120000)}; INSERT INTO ld.b VALUES (${n}, ${n}.5, NOW(6), X'00${(n % 256).toString(16).padStart(2, '0')}'); INSERT INTO ld.nokey VALUES (${n}, 'w')`,
      );
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await startTask(
    c,
    taskYaml(
      'ld',
      c.sb.downstream,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: [ld]\n',
    ),
  );
  let kills = 0;
  let restartedAt = 0;
  let done = 0;
  let rowsAtKill = 0;
  /** Rows of ld.b committed downstream (chunk by chunk: it has no secondary index, so it is not bulk-loaded). */
  const loadedRows = async () => {
    const [r] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM ld.b').catch(() => [{ n: 0 }]);
    return Number(r.n);
  };
  try {
    for (let i = 0; i < 3; i++) {
      let s = (await status(c, 'ld')).sources[0]!;
      const t0 = Date.now();
      let loadingSince = 0;
      let kill = false;
      let rows = 0;
      // The current process (a killed process's last record stays in KV) is loading: its status shows the load unit
      // with more chunks done than before the last kill, or has shown it for 400 ms (a table loaded whole by one LOAD
      // DATA, agent/load/bulk.ts, marks all its chunks done at its commit: it is killed mid-statement); or, before
      // any status of it says sync, ld.b has more rows committed downstream than at the last kill (a load faster
      // than the status records can finish between two of them).
      for (;;) {
        const current = Date.parse(s.updatedAt) > restartedAt;
        if (current && s.unit === 'sync') break;
        if (current && s.unit === 'load') {
          if (loadingSince === 0) loadingSince = Date.now();
          if ((s.load?.doneChunks ?? 0) > done || Date.now() - loadingSince >= 400) kill = true;
        }
        rows = await loadedRows();
        if (kill || rows > rowsAtKill) {
          kill = true;
          break;
        }
        if (Date.now() - t0 >= 120_000) break;
        await new Promise((r) => setTimeout(r, 10));
        s = (await status(c, 'ld')).sources[0]!;
      }
      if (!kill) break;
      await c.agent.kill();
      restartedAt = Date.now();
      done = s.load?.doneChunks ?? 0;
      rowsAtKill = rows;
      kills++;
      console.log(
        `kill ${kills} during load: ${rows} rows of ld.b committed, status ${s.unit} ${s.load?.doneChunks} of ${s.load?.totalChunks} chunks done`,
      );
      await c.agent.restart();
      await c.agent.ready();
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.ok(kills >= 1, 'the agent was killed at least once while loading');
  assert.ok(n > 10, `the writer wrote ${n} rounds`);
  await waitSynced(c, 'ld', 240_000);
  await assertSame(up, c.sb.downstream, [{ up: ['ld', 'a'] }, { up: ['ld', 'b'] }, { up: ['ld', 'nokey'] }]);
  const [{ m }] = await up.query('SELECT COUNT(*) AS m FROM ld.nokey');
  const [{ k }] = await c.sb.downstream.query('SELECT COUNT(*) AS k FROM ld.nokey');
  assert.equal(Number(k), Number(m), 'the keyless table has exactly as many rows downstream');
});
