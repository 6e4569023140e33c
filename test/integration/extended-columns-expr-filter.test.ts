/**
 * Issue #8, DM's extended columns and expression filters against real servers:
 * - extract-table / extract-schema / extract-source fill the merged table's columns in load and in sync; the
 *   downstream key includes them, so an UPDATE/DELETE on one shard never touches another shard's row with the
 *   same id; the precheck refuses a missing downstream table and missing columns, as DM does;
 * - expression filters discard exactly the row changes whose expression is true, in sync only (the full dump
 *   migrates every row, as DM's does); an UPDATE is discarded only when old AND new expressions hold.
 * Every check compares the downstream row by row with the upstream rows plus the expected differences.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeTemp } from '../harness/tsdm.ts';
import { startCluster, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

const BODY = `mysql-instances:
  - source-id: source1
    block-allow-list: shops
    route-rules: [orders]
    expression-filters: [cheap-inserts, voided, archived-deletes]
  - source-id: source2
    block-allow-list: shops
    route-rules: [orders]
block-allow-list:
  shops:
    do-dbs: ["~^shop_[0-9]+$"]
routes:
  orders:
    schema-pattern: "shop_*"
    table-pattern: "orders_*"
    target-schema: merged
    target-table: orders
    extract-table: { table-regexp: "orders_(.*)", target-column: c_table }
    extract-schema: { schema-regexp: "shop_(.*)", target-column: c_shop }
    extract-source: { source-regexp: "(source)([0-9]+)", target-column: c_src }
expression-filter:
  cheap-inserts:
    schema: shop_1
    table: orders_1
    insert-value-expr: "amount < 10 AND note IS NULL"
  voided:
    schema: shop_1
    table: orders_1
    update-old-value-expr: "status = 'new'"
    update-new-value-expr: "status = 'void'"
  archived-deletes:
    schema: shop_1
    table: orders_2
    delete-value-expr: "status = 'archived'"
`;

type Row = { id: number; amount: string; status: string; note: string | null };
const key = (r: Row) => `${r.id}|${r.amount}|${r.status}|${r.note ?? 'NULL'}`;

async function upRows(i: number, table: string): Promise<string[]> {
  return ((await c.sb.upstreams[i]!.query(`SELECT id, amount, status, note FROM ${table} ORDER BY id`)) as Row[]).map(
    key,
  );
}
async function downRows(cTable: string, cShop: string, cSrc: string): Promise<string[]> {
  return (
    (await c.sb.downstream.query(
      'SELECT id, amount, status, note FROM merged.orders WHERE c_table = ? AND c_shop = ? AND c_src = ? ORDER BY id',
      [cTable, cShop, cSrc],
    )) as Row[]
  ).map(key);
}

test('extended columns in load and sync, key scoping per shard, expression filters in sync only', {
  timeout: 300_000,
}, async () => {
  const [up1, up2] = c.sb.upstreams as [(typeof c.sb.upstreams)[0], (typeof c.sb.upstreams)[0]];
  const down = c.sb.downstream;
  const ddl = 'id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, status VARCHAR(10) NOT NULL, note VARCHAR(20) NULL';
  await up1!.query(`CREATE DATABASE shop_1; CREATE TABLE shop_1.orders_1 (${ddl}); CREATE TABLE shop_1.orders_2 (${ddl});
    INSERT INTO shop_1.orders_1 VALUES (1, 5.00, 'new', NULL), (2, 50.00, 'new', NULL), (3, 70.00, 'new', NULL);
    INSERT INTO shop_1.orders_2 VALUES (1, 8.00, 'archived', NULL), (2, 9.50, 'new', 'x');`);
  await up2!.query(`CREATE DATABASE shop_2; CREATE TABLE shop_2.orders_1 (${ddl});
    INSERT INTO shop_2.orders_1 VALUES (1, 1.00, 'new', NULL), (2, 2.00, 'new', NULL);`);
  const file = writeTemp('extend.yaml', taskYaml('extend', down, BODY));

  // 1. DM's precheck: the merged table must exist downstream, with every extended column.
  let r = await c.ctl(['check-task', file, '--json']);
  assert.notEqual(r.code, 0, 'check-task must fail without the downstream table');
  assert.match(r.stdout, /TSDM-30007/);
  assert.match(r.stdout, /does not exist in downstream/);
  await down.query(
    'CREATE DATABASE merged; CREATE TABLE merged.orders (id INT, amount DECIMAL(10,2), status VARCHAR(10), note VARCHAR(20), c_table VARCHAR(64), PRIMARY KEY (id, c_table))',
  );
  r = await c.ctl(['start-task', file, '--json']);
  assert.notEqual(r.code, 0, 'start-task must fail while columns are missing');
  assert.match(r.stdout, /must contain extended columns c_shop, c_src/);
  await down.query('DROP TABLE merged.orders');
  await down.query(`CREATE TABLE merged.orders (id INT NOT NULL, amount DECIMAL(10,2), status VARCHAR(10), note VARCHAR(20),
    c_table VARCHAR(64) NOT NULL, c_shop VARCHAR(64) NOT NULL, c_src VARCHAR(64) NOT NULL, PRIMARY KEY (id, c_table, c_shop, c_src))`);
  r = await c.ctl(['start-task', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitSynced(c, 'extend');

  // 2. Full phase: every row, including those the expression filters would discard in sync.
  assert.deepEqual(await downRows('1', '1', 'source1'), await upRows(0, 'shop_1.orders_1'));
  assert.deepEqual(await downRows('2', '1', 'source1'), await upRows(0, 'shop_1.orders_2'));
  assert.deepEqual(await downRows('1', '2', 'source2'), await upRows(1, 'shop_2.orders_1'));

  // 3. Sync: same ids on every shard; each change must reach only its own shard's row.
  await up1!.query(`INSERT INTO shop_1.orders_1 VALUES (4, 3.00, 'new', NULL), (5, 3.00, 'new', 'gift'), (6, 30.00, 'new', NULL);
    UPDATE shop_1.orders_1 SET status = 'void' WHERE id = 2;
    UPDATE shop_1.orders_1 SET status = 'paid' WHERE id = 3;
    UPDATE shop_1.orders_1 SET status = 'void' WHERE id = 6;
    DELETE FROM shop_1.orders_2 WHERE id = 1;
    DELETE FROM shop_1.orders_2 WHERE id = 2;
    INSERT INTO shop_1.orders_2 VALUES (7, 1.00, 'new', NULL);
    UPDATE shop_1.orders_2 SET id = 9 WHERE id = 7;`);
  await up2!.query(
    `INSERT INTO shop_2.orders_1 VALUES (7, 4.00, 'new', NULL); UPDATE shop_2.orders_1 SET amount = 20 WHERE id = 1; DELETE FROM shop_2.orders_1 WHERE id = 2;`,
  );
  await waitSynced(c, 'extend');

  // shop_1.orders_1: id 4 (cheap, no note) never arrives; ids 2 and 6 keep status 'new' (new -> void is discarded).
  const want11 = (await upRows(0, 'shop_1.orders_1'))
    .filter((k) => !k.startsWith('4|'))
    .map((k) => (/^(2|6)\|/.test(k) ? k.replace('|void|', '|new|') : k));
  assert.deepEqual(await downRows('1', '1', 'source1'), want11);
  // shop_1.orders_2: the delete of the archived row 1 is discarded, the other delete and the key change apply.
  assert.deepEqual(await downRows('2', '1', 'source1'), [
    '1|8.00|archived|NULL',
    ...(await upRows(0, 'shop_1.orders_2')),
  ]);
  // shop_2.orders_1 has no expression filter and shares ids 1, 2 and 7 with the others: exactly the upstream.
  assert.deepEqual(await downRows('1', '2', 'source2'), await upRows(1, 'shop_2.orders_1'));
  const [{ n }] = (await down.query('SELECT COUNT(*) AS n FROM merged.orders')) as [{ n: number }];
  const total =
    want11.length + 1 + (await upRows(0, 'shop_1.orders_2')).length + (await upRows(1, 'shop_2.orders_1')).length;
  assert.equal(Number(n), total, 'no row outside the three shards');
});
