/**
 * Issue #12 item 2: schemas with foreign keys migrate in every mode and end equal, cascades included.
 *
 * The upstream's binlog holds only the parent row of an ON DELETE/UPDATE CASCADE or SET NULL: the child rows the
 * server changed are not logged. So the downstream must cascade by itself, exactly where the upstream did, while
 * everything else (the load, which creates a child table before its parent, and the parallel writers) runs with
 * foreign-key checks off. Each scenario ends with every table compared row by row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MariaDBInstance } from '../harness/index.ts';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const TABLES = ['a_notes', 'audit', 'child', 'grandchild', 'parent'];

/** Tables in name order put children first: `a_notes` (keyless) and `child` sort before `parent`. */
function schemaSql(db: string): string {
  return `CREATE DATABASE ${db};
    CREATE TABLE ${db}.parent (id INT PRIMARY KEY, code VARCHAR(12) NOT NULL, name VARCHAR(20), UNIQUE KEY (code)) ENGINE=InnoDB;
    CREATE TABLE ${db}.child (id INT PRIMARY KEY, pid INT, pcode VARCHAR(12) NULL, v INT,
      CONSTRAINT fk_child_parent FOREIGN KEY (pid) REFERENCES ${db}.parent (id) ON DELETE CASCADE ON UPDATE CASCADE,
      CONSTRAINT fk_child_code FOREIGN KEY (pcode) REFERENCES ${db}.parent (code) ON DELETE SET NULL ON UPDATE CASCADE) ENGINE=InnoDB;
    CREATE TABLE ${db}.grandchild (id INT PRIMARY KEY, cid INT NULL, w INT,
      CONSTRAINT fk_gc FOREIGN KEY (cid) REFERENCES ${db}.child (id) ON DELETE SET NULL ON UPDATE CASCADE) ENGINE=InnoDB;
    CREATE TABLE ${db}.audit (id INT PRIMARY KEY, pid INT NOT NULL,
      CONSTRAINT fk_audit FOREIGN KEY (pid) REFERENCES ${db}.parent (id) ON DELETE RESTRICT ON UPDATE RESTRICT) ENGINE=InnoDB;
    CREATE TABLE ${db}.a_notes (pid INT, note VARCHAR(10),
      CONSTRAINT fk_notes FOREIGN KEY (pid) REFERENCES ${db}.parent (id) ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB;`;
}

async function seed(up: MariaDBInstance, db: string): Promise<void> {
  await up.query(schemaSql(db));
  await up.query(`INSERT INTO ${db}.parent SELECT seq, CONCAT('c', seq), CONCAT('p', seq) FROM mysql.seq_1_to_300`);
  await up.query(
    `INSERT INTO ${db}.child SELECT seq, 1 + seq % 300, CONCAT('c', 1 + (seq * 7) % 300), seq FROM mysql.seq_1_to_2000`,
  );
  await up.query(`INSERT INTO ${db}.grandchild SELECT seq, 1 + seq % 2000, seq FROM mysql.seq_1_to_1000`);
  await up.query(`INSERT INTO ${db}.audit SELECT seq, seq FROM mysql.seq_1_to_20`);
  await up.query(`INSERT INTO ${db}.a_notes SELECT 1 + seq % 300, 'n' FROM mysql.seq_1_to_600`);
}

/** Every kind of cascade, interleaved with plain changes the writers apply in parallel. */
async function cascades(up: MariaDBInstance, db: string): Promise<void> {
  const q = (sql: string) => up.query(sql);
  for (let i = 0; i < 3; i++) {
    const base = 10_000 + i * 100;
    // New parents and children (plain inserts, batched), then cascades that remove some of them again.
    await q(`INSERT INTO ${db}.parent SELECT ${base} + seq, CONCAT('n', ${base} + seq), 'new' FROM mysql.seq_1_to_50`);
    await q(
      `INSERT INTO ${db}.child SELECT ${base * 10} + seq, ${base} + 1 + seq % 50, CONCAT('n', ${base} + 1 + seq % 50), seq FROM mysql.seq_1_to_200`,
    );
    await q(`INSERT INTO ${db}.grandchild SELECT ${base * 10} + seq, ${base * 10} + seq, seq FROM mysql.seq_1_to_100`);
    await q(`INSERT INTO ${db}.a_notes SELECT ${base} + 1 + seq % 50, 'new' FROM mysql.seq_1_to_40`);
    await q(`UPDATE ${db}.child SET v = v + 1 WHERE id BETWEEN ${base * 10} AND ${base * 10 + 50}`);
    // ON DELETE CASCADE (child, a_notes) and SET NULL (child.pcode, grandchild.cid through the cascaded children).
    await q(`DELETE FROM ${db}.parent WHERE id BETWEEN ${base + 1} AND ${base + 10}`);
    // ON UPDATE CASCADE of the primary key and of a unique key.
    await q(`UPDATE ${db}.parent SET id = id + 500 WHERE id BETWEEN ${base + 20} AND ${base + 25}`);
    await q(`UPDATE ${db}.parent SET code = CONCAT(code, 'x') WHERE id BETWEEN ${base + 30} AND ${base + 35}`);
    // A non-key update of a parent does not cascade (and must not delete its children, e.g. through a REPLACE).
    await q(`UPDATE ${db}.parent SET name = 'renamed' WHERE id BETWEEN ${base + 40} AND ${base + 45}`);
  }
  // In one transaction: a child is added to a parent that is then deleted (the cascade must see the new child).
  await q(`BEGIN; INSERT INTO ${db}.parent VALUES (90001, 'tx', 'tx'); INSERT INTO ${db}.child VALUES (900010, 90001, 'tx', 1);
    INSERT INTO ${db}.grandchild VALUES (900010, 900010, 1); DELETE FROM ${db}.parent WHERE id = 90001; COMMIT`);
  // Old rows: cascade through two levels, SET NULL on a child's children, a keyless child, RESTRICT children kept.
  await q(`DELETE FROM ${db}.parent WHERE id BETWEEN 100 AND 140`);
  await q(`DELETE FROM ${db}.child WHERE id % 11 = 0`);
  await q(`UPDATE ${db}.child SET id = id + 100000 WHERE id BETWEEN 500 AND 520`);
  await q(`UPDATE ${db}.parent SET id = id + 1000, code = CONCAT('m', code) WHERE id BETWEEN 200 AND 210`);
  // A session with foreign_key_checks=0 deletes parents without cascading (DM's foreign_key case): the children stay.
  await q(
    `SET SESSION foreign_key_checks = 0; DELETE FROM ${db}.parent WHERE id BETWEEN 280 AND 285; SET SESSION foreign_key_checks = 1`,
  );
  // Replaced rows: REPLACE upstream deletes the parent (cascading) and inserts it again.
  await q(`REPLACE INTO ${db}.parent VALUES (250, 'c250', 'replaced')`);
  await q(`INSERT INTO ${db}.parent VALUES (260, 'c260', 'dup') ON DUPLICATE KEY UPDATE name = 'odku'`);
}

const body = (db: string, meta = '') =>
  `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    syncer-thread: 4\n${meta}block-allow-list:\n  b:\n    do-dbs: ["${db}"]\n`;
const pairs = (db: string) => TABLES.map((t) => ({ up: [db, t] as [string, string] }));

test('foreign keys: mode all loads a child before its parent and replicates every kind of cascade', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await seed(up, 'fk_all');
  await startTask(c, taskYaml('fk-all', c.sb.downstream, body('fk_all')));
  await waitSynced(c, 'fk-all');
  await assertSame(up, c.sb.downstream, pairs('fk_all'));
  await cascades(up, 'fk_all');
  await waitSynced(c, 'fk-all');
  await assertSame(up, c.sb.downstream, pairs('fk_all'));
  const [{ n }] = await c.sb.downstream.query(
    `SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'fk_all'`,
  );
  assert.equal(Number(n), 5, 'the downstream keeps the five foreign keys');
});

test('foreign keys: mode full copies the schema and finishes', { timeout: 180_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  await seed(up, 'fk_full');
  await startTask(c, taskYaml('fk-full', c.sb.downstream, body('fk_full'), 'full'));
  await waitStage(c, 'fk-full', (v) => v.sources[0]!.stage === 'Finished', 'full task finished');
  await assertSame(up, c.sb.downstream, pairs('fk_full'));
});

test('foreign keys: mode incremental replicates cascades from the meta position', { timeout: 180_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await seed(up, 'fk_inc');
  // As DM documents for incremental mode: the downstream already holds the data as of the meta position.
  await down.query(schemaSql('fk_inc'));
  await down.query('SET SESSION foreign_key_checks = 0');
  for (const t of TABLES) {
    const rows: Record<string, unknown>[] = await up.query(`SELECT * FROM fk_inc.${t}`);
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500);
      const cols = Object.keys(part[0]!);
      await down.query(`INSERT INTO fk_inc.${t} (${cols.join(',')}) VALUES ?`, [
        part.map((r) => cols.map((k) => r[k])),
      ]);
    }
  }
  const [ms] = await up.query('SHOW MASTER STATUS');
  await cascades(up, 'fk_inc');
  await startTask(
    c,
    taskYaml(
      'fk-inc',
      down,
      body('fk_inc', `    meta:\n      binlog-name: ${ms.File}\n      binlog-pos: ${ms.Position}\n`),
      'incremental',
    ),
  );
  await waitSynced(c, 'fk-inc');
  await assertSame(up, down, pairs('fk_inc'));
});
