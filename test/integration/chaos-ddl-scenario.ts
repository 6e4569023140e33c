/**
 * Issue #12 acceptance 1: a mode-`all` load of 20+ tables (keyed, keyless, foreign-key parent and children) under a
 * steady writer, SIGKILLed 8 times, with DDL run upstream between the kills: ADD, DROP, MODIFY and RENAME COLUMN,
 * RENAME TABLE, CREATE TABLE and DROP TABLE, on tables still loading and on tables already loaded. Some DDL runs
 * while the agent is down, some while it loads (the live snapshot then sees the table change under it). The task
 * must end in sync, never paused, with every table equal row for row and no table left downstream that the
 * upstream no longer has.
 */
import assert from 'node:assert/strict';
import { compareSchemas } from '../harness/index.ts';
import { startWorkload, type WorkloadTable } from '../harness/workload.ts';
import { chunkedTaskBody, seed, WORKLOAD } from './fixtures.ts';
import { startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';
import { createRelaySource, waitRelayRunning } from './relay-helpers.ts';

const FK_SCHEMA = `CREATE DATABASE fkc;
  CREATE TABLE fkc.parent (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
  CREATE TABLE fkc.child (id INT PRIMARY KEY, pid INT NOT NULL, v INT,
    CONSTRAINT fk_c FOREIGN KEY (pid) REFERENCES fkc.parent (id) ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB;
  CREATE TABLE fkc.child_nokey (pid INT, note VARCHAR(10),
    CONSTRAINT fk_n FOREIGN KEY (pid) REFERENCES fkc.parent (id) ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB;
  INSERT INTO fkc.parent SELECT seq, CONCAT('p', seq) FROM mysql.seq_1_to_2000;
  INSERT INTO fkc.child SELECT seq, 1 + seq % 2000, seq FROM mysql.seq_1_to_6000;
  INSERT INTO fkc.child_nokey SELECT 1 + seq % 2000, 'n' FROM mysql.seq_1_to_3000;`;

/** The DDL run between kills, in order: each a whole change a user might make while a migration loads. */
const DDL: { name: string; sql: string[] }[] = [
  // The issue's own case: a column added to a table the writer writes, still loading.
  { name: 'ADD COLUMN', sql: ['ALTER TABLE shop.orders ADD COLUMN extra INT NULL DEFAULT 7'] },
  { name: 'DROP COLUMN', sql: ['ALTER TABLE shop.products DROP COLUMN note'] },
  {
    name: 'MODIFY COLUMN',
    sql: [
      'ALTER TABLE shop.shipments MODIFY COLUMN qty BIGINT NULL',
      'UPDATE shop.shipments SET qty = qty * 100000000 WHERE id % 50 = 0',
    ],
  },
  {
    name: 'RENAME TABLE',
    sql: [
      'RENAME TABLE shop.payments TO shop.payments_old',
      'CREATE TABLE shop.payments LIKE shop.payments_old',
      'INSERT INTO shop.payments SELECT * FROM shop.payments_old WHERE id % 2 = 0',
    ],
  },
  {
    name: 'CREATE TABLE',
    sql: [
      'CREATE TABLE logs.created_mid (id INT PRIMARY KEY, v VARCHAR(20))',
      "INSERT INTO logs.created_mid SELECT seq, CONCAT('m', seq) FROM mysql.seq_1_to_3000",
    ],
  },
  { name: 'DROP TABLE', sql: ['DROP TABLE shop.carts', 'DROP TABLE logs.metrics'] },
  {
    name: 'RENAME COLUMN + cascade',
    sql: [
      'ALTER TABLE fkc.child RENAME COLUMN v TO v2',
      'DELETE FROM fkc.parent WHERE id BETWEEN 100 AND 300',
      'UPDATE fkc.parent SET id = id + 100000 WHERE id BETWEEN 400 AND 450',
    ],
  },
  {
    name: 'ADD COLUMN to a keyless table + swap',
    sql: [
      'ALTER TABLE shop.order_items ADD COLUMN note2 VARCHAR(10) NULL',
      'RENAME TABLE crm.tasks TO crm.tmp_t, crm.leads TO crm.tasks, crm.tmp_t TO crm.leads',
    ],
  },
  {
    name: 'DROP and re-create',
    sql: [
      'DROP TABLE shop.customers',
      'CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(30))',
      "INSERT INTO shop.customers SELECT seq, CONCAT('again', seq) FROM mysql.seq_1_to_500",
    ],
  },
];

/** The writer touches tables no DDL above breaks (orders only gains a nullable column). */
const WRITER: WorkloadTable[] = [
  ...WORKLOAD.filter((t) => t.table !== 'events_nokey'),
  // Column v is renamed by one DDL: the writer names neither v nor v2.
  {
    schema: 'fkc',
    table: 'child',
    idCol: 'id',
    insert: (id) => `(id, pid) VALUES (${id}, ${1 + (id % 2000)})`,
    update: 'pid = 1 + (id * 7) % 2000',
  },
];

export async function chaosDdl(opts: { relay: boolean; kills: number; tag: string }): Promise<void> {
  // Each chunk takes >= 80 ms more than it would, so the load lasts long enough for every kill.
  const c: Cluster = await startCluster({ agentEnv: { TSDM_FAULT_CHUNK_DELAY_MS: '80' }, sources: !opts.relay });
  try {
    const up = c.sb.upstreams[0]!;
    if (opts.relay) {
      await createRelaySource(c, 'source1', up);
      await waitRelayRunning(c, 'source1');
    }
    await seed(up, 0.5);
    await up.query(FK_SCHEMA);
    const writer = startWorkload(up, WRITER, { pauseMs: 3, seed: 7, maxMs: 900_000 });
    await startTask(
      c,
      taskYaml(
        opts.tag,
        c.sb.downstream,
        chunkedTaskBody(300).replace('do-dbs: ["shop", "crm", "logs"]', 'do-dbs: ["shop", "crm", "logs", "fkc"]'),
      ),
    );
    let restartedAt = 0;
    let kills = 0;
    for (let i = 0; i < opts.kills; i++) {
      const ddl = DDL[i % DDL.length]!;
      const duringLoad = i % 2 === 1;
      const t0 = Date.now();
      let seen = (await status(c, opts.tag)).sources[0];
      while (Date.now() - t0 < 90_000) {
        seen = (await status(c, opts.tag)).sources[0];
        // Only a status written by the current agent process counts (the killed one's last record stays in KV).
        if (seen && seen.unit === 'load' && seen.stage === 'Running' && Date.parse(seen.updatedAt) > restartedAt) break;
        if (seen?.stage === 'Paused') assert.fail(`task paused during the load: ${JSON.stringify(seen.error)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (seen?.unit !== 'load') break;
      if (duringLoad) for (const sql of ddl.sql) await up.query(sql);
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 400)));
      await c.agent.kill();
      kills++;
      if (!duringLoad) for (const sql of ddl.sql) await up.query(sql);
      console.log(
        `kill ${kills} during load (${seen.load?.doneChunks}/${seen.load?.totalChunks} chunks), then ${ddl.name} ${duringLoad ? 'before' : 'after'} it`,
      );
      restartedAt = Date.now();
      await c.agent.restart();
      await c.agent.ready();
    }
    assert.equal(kills, opts.kills, `the agent was killed ${opts.kills} times while loading`);
    // What the loop did not run yet runs now, while the task syncs.
    for (const ddl of DDL.slice(opts.kills)) for (const sql of ddl.sql) await up.query(sql);
    const w = await writer.stop();
    assert.ok(w.txns > 100, `writer committed ${w.txns} transactions`);
    await waitSynced(c, opts.tag, 300_000);
    const v = await status(c, opts.tag);
    assert.ok(
      v.sources.every((s) => s.stage === 'Running' && !s.error),
      `task running without error: ${JSON.stringify(v.sources.map((s) => [s.stage, s.error]))}`,
    );
    const r = await compareSchemas(up, c.sb.downstream, ['shop', 'crm', 'logs', 'fkc']);
    assert.ok(r.equal, `downstream equals upstream: ${r.diffs.slice(0, 20).join('; ')}`);
    assert.ok(r.tables.length >= 20, `compared ${r.tables.length} tables`);
  } finally {
    await c.stop();
  }
}
