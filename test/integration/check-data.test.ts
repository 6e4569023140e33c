/**
 * Issue #15, `dmctl check-data` end to end against real servers, as a user runs it: a mode-all task over two sources
 * (a 2 x 2 shard merge with extended columns, a table of every type class, a table with an Ignore-delete filter)
 * is proved equal; differences planted downstream are each found with their key and columns, written as fix SQL,
 * repaired with --repair; a check while an upstream writer keeps writing reports no false difference.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: dmctl --json documents are indexed freely by the assertions
type J = any;

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

const BODY = `mysql-instances:
  - source-id: source1
    block-allow-list: bal
    route-rules: [orders]
    filter-rules: [keep-deletes]
  - source-id: source2
    block-allow-list: bal
    route-rules: [orders]
block-allow-list:
  bal:
    do-dbs: ["~^shop_[0-9]+$", "app"]
routes:
  orders:
    schema-pattern: "shop_*"
    table-pattern: "orders_*"
    target-schema: merged
    target-table: orders
    extract-table: { table-regexp: "orders_(.*)", target-column: c_table }
    extract-source: { source-regexp: "(source)([0-9]+)", target-column: c_src }
filters:
  keep-deletes:
    schema-pattern: app
    table-pattern: audit
    events: ["delete"]
    action: Ignore
`;

const TYPES = `CREATE TABLE app.items (
  id INT PRIMARY KEY, d DECIMAL(20,6), u BIGINT UNSIGNED, f FLOAT, t6 TIME(6), dt DATETIME(6), ts TIMESTAMP(3) NULL,
  b BIT(10), e ENUM('x','y','z'), s SET('p','q','r'), vb VARBINARY(16), bn BINARY(4), ch CHAR(8),
  j JSON, ci VARCHAR(20) COLLATE utf8mb4_general_ci, em VARCHAR(20) CHARACTER SET utf8mb4, n VARCHAR(10) NULL)`;

function typeRow(i: number): string {
  return `(${i}, ${i}.125000, ${18446744073709551615n - BigInt(i)}, ${i}.5, '-${i}:01:02.000003', '2024-02-29 23:59:59.${String(i).padStart(6, '0')}', FROM_UNIXTIME(1700000000 + ${i}), b'1010101010', 'y', 'p,r', X'00ff00${(i % 256).toString(16).padStart(2, '0')}', X'0102', 'ab  ', '{"k": ${i}, "a": [1, 2]}', 'abc${i}', 'x😀${i}', ${i % 3 === 0 ? 'NULL' : `'v${i}'`})`;
}

async function check(args: string[] = []): Promise<{ code: number; json: J; stderr: string }> {
  const r = await c.ctl(['check-data', 'chk', '--json', '--timeout', '30', '--chunk-rows', '100', ...args]);
  return { code: r.code, json: r.json, stderr: r.stderr };
}

test('check-data: equal, planted differences found with keys, fix SQL, repair, and no false difference under writes', {
  timeout: 300_000,
}, async () => {
  const [up1, up2] = c.sb.upstreams as [(typeof c.sb.upstreams)[0], (typeof c.sb.upstreams)[0]];
  const down = c.sb.downstream;
  for (const [i, up] of [up1, up2].entries()) {
    await up.query(`CREATE DATABASE shop_${i + 1}`);
    for (const t of [1, 2]) {
      await up.query(
        `CREATE TABLE shop_${i + 1}.orders_${t} (id INT PRIMARY KEY, amount DECIMAL(10,2), note VARCHAR(20))`,
      );
      await up.query(
        `INSERT INTO shop_${i + 1}.orders_${t} SELECT seq, seq * 1.5, IF(seq % 4 = 0, NULL, CONCAT('n', seq)) FROM mysql.seq_1_to_300`,
      );
    }
  }
  await up1.query('CREATE DATABASE app');
  await up1.query(TYPES);
  await up1.query(`INSERT INTO app.items VALUES ${Array.from({ length: 250 }, (_, i) => typeRow(i + 1)).join(',')}`);
  await up1.query('CREATE TABLE app.audit (id INT PRIMARY KEY, what VARCHAR(20))');
  await up1.query("INSERT INTO app.audit SELECT seq, 'x' FROM mysql.seq_1_to_20");
  await down.query('CREATE DATABASE merged');
  await down.query(
    'CREATE TABLE merged.orders (id INT, amount DECIMAL(10,2), note VARCHAR(20), c_table VARCHAR(10), c_src VARCHAR(10), extra INT DEFAULT 7, PRIMARY KEY (id, c_table, c_src))',
  );
  await startTask(c, taskYaml('chk', down, BODY));
  await up1.query('UPDATE app.items SET n = CONCAT(n, "!") WHERE id % 10 = 1');
  await waitSynced(c, 'chk');

  // 1. A clean migration: equal; the Ignore-delete table is not comparable, with its rule.
  let r = await check();
  assert.equal(r.code, 0, `${JSON.stringify(r.json)} ${r.stderr}`);
  assert.equal(r.json.result, true);
  assert.equal(r.json.differences, 0);
  const byTarget = (j: J) => new Map<string, J>(j.tables.map((t: J) => [t.target, t]));
  let tables = byTarget(r.json);
  assert.equal(tables.get('merged.orders').status, 'equal');
  assert.equal(tables.get('merged.orders').rows, 1200);
  assert.equal(tables.get('app.items').status, 'equal');
  assert.equal(tables.get('app.audit').status, 'not-comparable');
  assert.match(tables.get('app.audit').reason, /keep-deletes/);

  // 2. Planted differences, one per kind and type class.
  await down.query('DELETE FROM app.items WHERE id = 5'); // missing
  await down.query(`INSERT INTO app.items (id) VALUES (9999)`); // extra
  const changes: [number, string][] = [
    [10, 'd = 10.125001'],
    [11, 'u = 1'],
    [12, 'f = 12.25'],
    [13, "t6 = '-13:01:02.000004'"],
    [14, "dt = '2024-02-29 23:59:59.000015'"],
    [15, 'ts = FROM_UNIXTIME(1700000001)'],
    [16, "b = b'1010101011'"],
    [17, "e = 'z'"],
    [18, "s = 'q'"],
    [19, "vb = X'00ff0014'"],
    [20, "bn = X'0103'"],
    [21, "em = 'x😀21 '"], // trailing space in a VARCHAR: equal under PAD SPACE collations, still a different value
    [22, `j = '{"k": 22, "a": [1, 3]}'`],
    [23, "ci = 'ABC23'"],
    [24, "em = 'x😁24'"],
    [25, "n = ''"],
  ];
  for (const [id, set] of changes) await down.query(`UPDATE app.items SET ${set} WHERE id = ${id}`);
  // Not a difference: a CHAR value's trailing spaces are not part of it (the server pads and strips them).
  await down.query("UPDATE app.items SET ch = 'ab' WHERE id = 26");
  await down.query("UPDATE merged.orders SET note = 'changed' WHERE id = 7 AND c_table = '2' AND c_src = 'source2'");
  const planted = 2 + changes.length + 1;

  const dir = mkdtempSync(join(tmpdir(), 'tsdm-fix-'));
  r = await check(['--fix-sql', dir]);
  assert.equal(r.code, 1, JSON.stringify(r.json));
  assert.equal(r.json.result, false);
  assert.equal(r.json.differences, planted, JSON.stringify(r.json.tables, null, 1));
  tables = byTarget(r.json);
  const items = tables.get('app.items');
  const diff = (id: number) => items.differences.find((d: J) => String(d.key.id) === String(id));
  assert.equal(diff(5)?.kind, 'missing');
  assert.equal(diff(9999)?.kind, 'extra');
  const col = {
    10: 'd',
    11: 'u',
    12: 'f',
    13: 't6',
    14: 'dt',
    15: 'ts',
    16: 'b',
    17: 'e',
    18: 's',
    19: 'vb',
    20: 'bn',
    21: 'em',
    22: 'j',
    23: 'ci',
    24: 'em',
    25: 'n',
  } as Record<number, string>;
  for (const [id] of changes) {
    const d = diff(id);
    assert.equal(d?.kind, 'changed', `id ${id}: ${JSON.stringify(d)}`);
    assert.deepEqual(
      d.columns.map((x: J) => x.name),
      [col[id]],
      `id ${id}: ${JSON.stringify(d)}`,
    );
  }
  const merged = tables.get('merged.orders');
  assert.equal(merged.differenceCount, 1);
  assert.equal(String(merged.differences[0].key.id), '7');
  assert.deepEqual(
    merged.differences[0].columns.map((x: J) => x.name),
    ['note'],
  );
  assert.ok(existsSync(join(dir, 'app.items.sql')), readdirSync(dir).join(','));
  assert.match(readFileSync(join(dir, 'merged.orders.sql'), 'utf8'), /merged/);

  // 3. --repair makes it equal; a second check agrees; the downstream-only column kept its value.
  r = await check(['--repair']);
  assert.equal(r.code, 0, JSON.stringify(r.json.tables, null, 1));
  assert.equal(r.json.differences, 0);
  r = await check();
  assert.equal(r.code, 0, JSON.stringify(r.json));
  const [x] = await down.query("SELECT extra FROM merged.orders WHERE id = 7 AND c_table = '2' AND c_src = 'source2'");
  assert.equal(Number(x.extra), 7);

  // 4. While an upstream writer keeps writing: no false difference; sync goes on and ends equal.
  let writing = true;
  let n = 0;
  const writer = (async () => {
    while (writing) {
      n++;
      await up1.query(`UPDATE shop_1.orders_1 SET amount = amount + 1 WHERE id = ${1 + (n % 300)}`);
      await up2.query(`INSERT INTO shop_2.orders_2 VALUES (${1000 + n}, ${n}, 'w')`);
      await up1.query(`UPDATE app.items SET n = '${n}' WHERE id = ${1 + (n % 250)}`);
    }
  })();
  try {
    for (let i = 0; i < 2; i++) {
      r = await check();
      assert.equal(r.code, 0, `under writes, run ${i}: ${JSON.stringify(r.json?.tables ?? r.stderr, null, 1)}`);
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.ok(n > 10, `the writer wrote ${n} rounds`);
  await waitSynced(c, 'chk');
  r = await check();
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(byTarget(r.json).get('merged.orders').rows, 1200 + n);

  // 5. A target table missing downstream is no proof: every upstream row counts as a missing row.
  await up1.query('CREATE TABLE app.gone (id INT PRIMARY KEY); INSERT INTO app.gone VALUES (1), (2), (3)');
  await waitSynced(c, 'chk');
  await down.query('DROP TABLE app.gone');
  r = await check();
  assert.equal(r.code, 1, JSON.stringify(r.json));
  const gone = byTarget(r.json).get('app.gone');
  assert.equal(gone.status, 'different', JSON.stringify(gone));
  assert.equal(gone.differenceCount, 3);
  assert.match(gone.reason, /does not exist/);

  // 6. A paused task is compared as it stands, and the report says so.
  const p = await c.ctl(['pause-task', 'chk']);
  assert.equal(p.code, 0, p.stderr);
  r = await check(['--table', 'app.items']);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.match(r.json.notes.join('\n'), /source1's sync is Paused/);
});
