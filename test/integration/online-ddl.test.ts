/**
 * Issue #8, online-ddl: true (DM semantics) against real servers. gh-ost and pt-online-schema-change are not
 * installed here, so the test runs the statements they run, in their order: shadow table, ALTER on it, row copy,
 * DML on the real table meanwhile (pt-osc's triggers copy it to the shadow table too), the swap RENAME, drop of the
 * old copy. Downstream, the ALTER must land on the real table, no shadow/trash table may appear, and the rows must be
 * exactly the upstream's. The agent restarts between the tool's ALTER and its swap: the remembered ALTER survives.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent } from '../harness/tsdm.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
/** The agent started in place of the first one (Cluster.stop() stops only the agent it started). */
let restarted: ReturnType<typeof startAgent> | undefined;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await restarted?.stop();
  await c?.stop();
});

const BODY = `online-ddl: true
mysql-instances:
  - source-id: source1
    block-allow-list: bal
block-allow-list:
  bal:
    do-dbs: ["shop"]
`;

async function downTables(): Promise<string[]> {
  return (
    (await c.sb.downstream.query(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY 1",
    )) as { t: string }[]
  ).map((r) => r.t);
}
async function columns(table: string): Promise<string[]> {
  return (
    (await c.sb.downstream.query(
      'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      ['shop', table],
    )) as { c: string }[]
  ).map((r) => r.c);
}

test('gh-ost and pt-osc flows: the ALTER reaches the real table, shadow and trash tables never do', {
  timeout: 300_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE shop;
    CREATE TABLE shop.users (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO shop.users VALUES (1, 'ann'), (2, 'bob');
    CREATE TABLE shop.items (id INT PRIMARY KEY, title VARCHAR(40)); INSERT INTO shop.items VALUES (1, 'pen'), (2, 'ink');
    CREATE TABLE shop._stale_gho (id INT PRIMARY KEY);`);
  await startTask(c, taskYaml('online', c.sb.downstream, BODY));
  await waitSynced(c, 'online');
  assert.deepEqual(await downTables(), ['items', 'users'], 'a shadow table present at the snapshot is not dumped');

  // gh-ost on shop.users: ghost + changelog tables, ALTER on the ghost, copy, concurrent DML.
  await up.query(`CREATE TABLE shop._users_ghc (id BIGINT AUTO_INCREMENT PRIMARY KEY, hint VARCHAR(64), value TEXT);
    INSERT INTO shop._users_ghc (hint, value) VALUES ('state', 'GhostTableMigrated');
    CREATE TABLE shop._users_gho LIKE shop.users;
    ALTER /* gh-ost */ TABLE shop._users_gho ADD COLUMN age INT NULL, ADD KEY idx_name (name);
    INSERT INTO shop._users_gho (id, name) SELECT id, name FROM shop.users;
    INSERT INTO shop.users VALUES (3, 'cy');
    REPLACE INTO shop._users_gho (id, name) VALUES (3, 'cy');
    UPDATE shop.users SET name = 'ANN' WHERE id = 1;
    UPDATE shop._users_gho SET name = 'ANN' WHERE id = 1;`);
  await waitSynced(c, 'online');
  assert.deepEqual(await downTables(), ['items', 'users'], 'no ghost/changelog table downstream');
  assert.deepEqual(await columns('users'), ['id', 'name'], 'the ALTER waits for the swap');

  // The agent restarts between the tool's ALTER and its swap: the remembered ALTER is read back.
  await c.agent.stop();
  restarted = startAgent({ name: 'agent-1', nats: c.sb.nats.url });
  await restarted.ready();

  await up.query(`RENAME /* gh-ost */ TABLE shop.users TO shop._users_del, shop._users_gho TO shop.users;
    DROP TABLE IF EXISTS shop._users_del; DROP TABLE IF EXISTS shop._users_ghc;
    INSERT INTO shop.users VALUES (4, 'dee', 40); UPDATE shop.users SET age = 20 WHERE id = 2;`);
  await waitSynced(c, 'online');
  assert.deepEqual(await columns('users'), ['id', 'name', 'age'], 'the ghost ALTER ran on the real table at the swap');
  const idx = (
    (await c.sb.downstream.query(
      "SELECT DISTINCT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'users' ORDER BY 1",
    )) as { i: string }[]
  ).map((r) => r.i);
  assert.deepEqual(idx, ['idx_name', 'PRIMARY']);

  // pt-online-schema-change on shop.items: _items_new, triggers' rows, swap with _items_old.
  await up.query(`CREATE TABLE shop._items_new (id INT PRIMARY KEY, title VARCHAR(40));
    ALTER TABLE shop._items_new MODIFY title VARCHAR(80) NOT NULL DEFAULT '';
    INSERT LOW_PRIORITY IGNORE INTO shop._items_new (id, title) SELECT id, title FROM shop.items;
    INSERT INTO shop.items VALUES (3, 'nib'); REPLACE INTO shop._items_new VALUES (3, 'nib');
    RENAME TABLE shop.items TO shop._items_old, shop._items_new TO shop.items;
    DROP TABLE IF EXISTS shop._items_old;
    INSERT INTO shop.items VALUES (4, 'a title longer than forty characters, which only fits now');`);
  await waitSynced(c, 'online');
  assert.deepEqual(await downTables(), ['items', 'users']);
  const [col] = (await c.sb.downstream.query(
    "SELECT COLUMN_TYPE AS t, IS_NULLABLE AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'items' AND COLUMN_NAME = 'title'",
  )) as { t: string; n: string }[];
  assert.deepEqual(col, { t: 'varchar(80)', n: 'NO' });
  await assertSame(up, c.sb.downstream, [{ up: ['shop', 'users'] }, { up: ['shop', 'items'] }]);
  const saved = (await c.sb.downstream.query('SELECT COUNT(*) AS n FROM dm_meta.online_onlineddl')) as { n: number }[];
  assert.equal(Number(saved[0]!.n), 0, 'nothing left remembered after the swaps');
});
