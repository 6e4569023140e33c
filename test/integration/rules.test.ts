/**
 * Acceptance 2 (issue #2): routing (many-to-one schema rename, table rename), block/allow lists (do-dbs,
 * ignore-tables with a regex) and binlog event filters (ignore deletes on one table; sql-pattern) give exactly
 * the expected downstream, in the full phase and in sync alike.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTables } from '../harness/index.ts';
import { startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const TASK = `mysql-instances:
  - source-id: source1
    block-allow-list: bal
    route-rules: [shards-to-one, rename-users]
    filter-rules: [keep-audit-deletes-out, no-add-column]
block-allow-list:
  bal:
    do-dbs: ["~^shard_[0-9]+$", "app"]
    ignore-tables:
      - db-name: "app"
        tbl-name: "~^tmp_"
routes:
  shards-to-one:
    schema-pattern: "shard_*"
    target-schema: "merged"
  rename-users:
    schema-pattern: "app"
    table-pattern: "users"
    target-schema: "app"
    target-table: "customers"
filters:
  keep-audit-deletes-out:
    schema-pattern: "app"
    table-pattern: "audit"
    events: ["delete"]
    action: Ignore
  no-add-column:
    schema-pattern: "app"
    sql-pattern: ["^ALTER TABLE .* ADD INDEX"]
    action: Ignore
`;

test('routes, block/allow lists and event filters give exactly the expected downstream', {
  timeout: 240_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(`CREATE DATABASE shard_1; CREATE DATABASE shard_2; CREATE DATABASE app; CREATE DATABASE other;
    CREATE TABLE shard_1.t1 (id INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE shard_2.t2 (id INT PRIMARY KEY, v VARCHAR(10));
    CREATE TABLE app.users (id INT PRIMARY KEY, name VARCHAR(20)); CREATE TABLE app.audit (id INT PRIMARY KEY, what VARCHAR(20));
    CREATE TABLE app.tmp_scratch (id INT PRIMARY KEY); CREATE TABLE other.x (id INT PRIMARY KEY);
    INSERT INTO shard_1.t1 VALUES (1,'a'),(2,'b'); INSERT INTO shard_2.t2 VALUES (1,'c');
    INSERT INTO app.users VALUES (1,'ann'),(2,'bob'); INSERT INTO app.audit VALUES (1,'x'),(2,'y'),(3,'z');
    INSERT INTO app.tmp_scratch VALUES (1); INSERT INTO other.x VALUES (1);`);
  await startTask(c, taskYaml('rules', down, TASK));
  await waitSynced(c, 'rules');
  // Changes in sync follow the same rules.
  await up.query(`INSERT INTO shard_1.t1 VALUES (3,'d'); UPDATE shard_2.t2 SET v='C' WHERE id=1; DELETE FROM shard_1.t1 WHERE id=2;
    INSERT INTO app.users VALUES (3,'cy'); UPDATE app.users SET name='ANN' WHERE id=1;
    DELETE FROM app.audit WHERE id IN (1,2); INSERT INTO app.audit VALUES (4,'w'); UPDATE app.audit SET what='Z' WHERE id=3;
    INSERT INTO app.tmp_scratch VALUES (2); INSERT INTO other.x VALUES (2);`);
  // DML before DDL is applied before the DDL is read (replaying across an ALTER needs the schema tracker: issue #3).
  await waitSynced(c, 'rules');
  await up.query(
    `ALTER TABLE app.users ADD INDEX idx_name (name); ALTER TABLE app.users ADD COLUMN email VARCHAR(50); CREATE TABLE shard_1.t3 (id INT PRIMARY KEY); INSERT INTO shard_1.t3 VALUES (7);`,
  );
  await waitSynced(c, 'rules');

  const dbs = (await down.query('SHOW DATABASES')).map((r: Record<string, string>) => r.Database);
  assert.ok(dbs.includes('merged') && dbs.includes('app'), `routed schemas exist: ${dbs}`);
  assert.ok(
    !dbs.includes('shard_1') && !dbs.includes('shard_2') && !dbs.includes('other'),
    `no unrouted or blocked schemas: ${dbs}`,
  );
  assert.deepEqual(
    (await down.query('SELECT id, v FROM merged.t1 ORDER BY id')).map(
      (r: { id: string; v: string }) => `${r.id}${r.v}`,
    ),
    ['1a', '3d'],
  );
  assert.deepEqual(
    (await down.query('SELECT id, v FROM merged.t2 ORDER BY id')).map(
      (r: { id: string; v: string }) => `${r.id}${r.v}`,
    ),
    ['1C'],
  );
  assert.deepEqual(
    (await down.query('SELECT id FROM merged.t3')).map((r: { id: unknown }) => String(r.id)),
    ['7'],
    'a table created in sync is routed too',
  );
  const cust = await compareTables(up, { schema: 'app', table: 'users' }, down, { schema: 'app', table: 'customers' });
  assert.ok(cust.equal, cust.diffs.join('; '));
  const idx = (
    await down.query(
      "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='app' AND TABLE_NAME='customers'",
    )
  ).map((r: { INDEX_NAME: string }) => r.INDEX_NAME);
  assert.ok(!idx.includes('idx_name'), `ALTER ... ADD INDEX matched the sql-pattern filter and was ignored (${idx})`);
  const tables = (await down.query('SHOW TABLES FROM app')).map((r: Record<string, string>) => Object.values(r)[0]);
  assert.deepEqual(tables.sort(), ['audit', 'customers'], 'tmp_ tables are blocked by the regex, users is renamed');
  assert.deepEqual(
    (await down.query('SELECT id, what FROM app.audit ORDER BY id')).map(
      (r: { id: string; what: string }) => `${r.id}${r.what}`,
    ),
    ['1x', '2y', '3Z', '4w'],
    'deletes on app.audit are ignored, inserts and updates applied',
  );
});
