/**
 * The test harness itself: private servers start with the settings the design needs, passwords are enforced,
 * JetStream works, compareTables finds injected differences, crash + restart keeps data, stop() cleans up, and
 * the machine's own MariaDB (3306) and NATS (4222) are left alone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { connect, type NatsConnection } from 'nats';
import {
  compareTables,
  startNatsCluster,
  startSandbox,
  TEST_PASSWORD,
  waitFor,
  type MariaDBInstance,
  type Sandbox,
} from '../harness/index.ts';

/** Listening sockets on `ports`, as "port:inode" from /proc/net/tcp{,6}: a restarted service gets a new inode. */
function listeners(ports: number[]): string[] {
  const out: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const port = parseInt(cols[1]?.split(':')[1] ?? '', 16);
      if (cols[3] === '0A' && ports.includes(port)) out.push(`${port}:${cols[9]}`);
    }
  }
  return out.sort();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const SYSTEM_PORTS = [3306, 4222];
const systemBefore = listeners(SYSTEM_PORTS);
let sb: Sandbox;
let up: MariaDBInstance;
let down: MariaDBInstance;

before(async () => {
  const t0 = Date.now();
  sb = await startSandbox({ upstreams: 1 });
  console.log(`# sandbox (1 upstream + 1 downstream + nats) started in ${Date.now() - t0} ms`);
  up = sb.upstreams[0]!;
  down = sb.downstream;
});

after(async () => {
  await sb?.stop();
});

test('upstream has binlog ROW/FULL, downstream no binlog, server ids distinct', async () => {
  const vars = async (m: MariaDBInstance): Promise<Record<string, string>> => {
    const rows: Array<{ Variable_name: string; Value: string }> = await m.query(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'server_id', 'port', 'datadir')",
    );
    return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
  };
  const u = await vars(up);
  const d = await vars(down);
  assert.equal(u.log_bin, 'ON');
  assert.equal(u.binlog_format, 'ROW');
  assert.equal(u.binlog_row_image, 'FULL');
  assert.equal(d.log_bin, 'OFF');
  assert.equal(u.server_id, '101');
  assert.equal(d.server_id, '201');
  assert.equal(up.serverId, 101);
  assert.equal(down.serverId, 201);
  assert.equal(Number(u.port), up.port);
  assert.ok(u.datadir?.startsWith(up.dataDir), `upstream datadir ${u.datadir} is ours`);
  assert.ok(d.datadir?.startsWith(down.dataDir), `downstream datadir ${d.datadir} is ours`);
});

test('root needs the test password (wrong and empty passwords are rejected)', async () => {
  for (const password of ['wrong-password', '']) {
    await assert.rejects(
      mysql.createConnection({ host: up.host, port: up.port, user: 'root', password }),
      (err: { errno?: number }) => err.errno === 1045,
    );
  }
  const c = await mysql.createConnection({ host: up.host, port: up.port, user: 'root', password: TEST_PASSWORD });
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
  assert.equal(rows[0]?.u, 'root@127.0.0.1');
  await c.end();
  const c2 = await down.connect();
  await c2.query('SELECT 1');
  await c2.end();
});

test('NATS JetStream KV works (create fails on an existing key)', async () => {
  const nc = await connect({ servers: sb.nats.url });
  try {
    const kv = await nc.jetstream().views.kv('harness_test');
    const rev = await kv.create('leader', 'a');
    await assert.rejects(kv.create('leader', 'b'));
    await kv.update('leader', 'c', rev);
    assert.equal((await kv.get('leader'))?.string(), 'c');
  } finally {
    await nc.close();
  }
});

test('compareTables reports equal data as equal and finds injected differences', async () => {
  const setup = `CREATE DATABASE cmp;
    CREATE TABLE cmp.keyed (id INT PRIMARY KEY, name VARCHAR(20), amount DECIMAL(10,2), data BLOB, at DATETIME(6));
    INSERT INTO cmp.keyed VALUES (1, 'one', 1.50, x'0001', '2024-01-01 00:00:00.000001'),
      (2, 'two', NULL, x'ff', '2024-01-02 00:00:00'), (3, 'three', -3.00, NULL, NULL);
    CREATE TABLE cmp.keyless (a INT, b VARCHAR(10));
    INSERT INTO cmp.keyless VALUES (1, 'x'), (2, 'y'), (2, 'y'), (NULL, 'z');`;
  await up.query(setup);
  await down.query(setup);
  const keyed = { schema: 'cmp', table: 'keyed' };
  const keyless = { schema: 'cmp', table: 'keyless' };
  assert.deepEqual(await compareTables(up, keyed, down, keyed), { equal: true, upRows: 3, downRows: 3, diffs: [] });
  assert.deepEqual(await compareTables(up, keyless, down, keyless), { equal: true, upRows: 4, downRows: 4, diffs: [] });

  // One differing value: the diff names the table, the key and the column.
  await down.query("UPDATE cmp.keyed SET name = 'TWO' WHERE id = 2");
  let r = await compareTables(up, keyed, down, keyed);
  assert.equal(r.equal, false);
  assert.equal(r.diffs.length, 1);
  assert.match(r.diffs[0]!, /cmp\.keyed.*id=2.*`name`.*'two'.*'TWO'/);
  // A BLOB differing in one byte is a difference too.
  await down.query("UPDATE cmp.keyed SET name = 'two' WHERE id = 2; UPDATE cmp.keyed SET data = x'0002' WHERE id = 1");
  r = await compareTables(up, keyed, down, keyed);
  assert.deepEqual(r.diffs, ['cmp.keyed: key (id=1) column `data`: upstream 0x0001, downstream 0x0002']);
  await down.query("UPDATE cmp.keyed SET data = x'0001' WHERE id = 1");

  // One missing row.
  await down.query('DELETE FROM cmp.keyed WHERE id = 3');
  r = await compareTables(up, keyed, down, keyed);
  assert.equal(r.equal, false);
  assert.equal(r.downRows, 2);
  assert.deepEqual(r.diffs, ['cmp.keyed: key (id=3) missing downstream']);

  // A keyless table with one row duplicated downstream: same distinct rows, one extra copy.
  await down.query("INSERT INTO cmp.keyless VALUES (1, 'x')");
  r = await compareTables(up, keyless, down, keyless);
  assert.equal(r.equal, false);
  assert.equal(r.downRows, 5);
  assert.deepEqual(r.diffs, ["cmp.keyless: row (a=1, b='x') extra downstream (not upstream)"]);

  // ignoreColumns and where narrow the comparison.
  await down.query("UPDATE cmp.keyed SET name = 'uno' WHERE id = 1");
  assert.equal((await compareTables(up, keyed, down, keyed, { where: 'id < 3' })).equal, false);
  assert.equal((await compareTables(up, keyed, down, keyed, { where: 'id < 3', ignoreColumns: ['name'] })).equal, true);
});

test('kill -9 and restart of mariadb keeps committed data (same port and datadir)', async () => {
  await up.query(
    'CREATE DATABASE crash; CREATE TABLE crash.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO crash.t VALUES (1, "kept")',
  );
  const { pid, port, dataDir } = up;
  up.kill();
  await up.restart();
  assert.notEqual(up.pid, pid);
  assert.equal(up.port, port);
  assert.equal(up.dataDir, dataDir);
  assert.equal(alive(pid), false);
  assert.deepEqual(await up.query('SELECT * FROM crash.t'), [{ id: 1, v: 'kept' }]);
  // A clean restart too, and the password still holds.
  await up.restart();
  assert.deepEqual(await up.query('SELECT v FROM crash.t'), [{ v: 'kept' }]);
  await assert.rejects(mysql.createConnection({ host: up.host, port: up.port, user: 'root', password: 'x' }));
});

test('a 3-node NATS cluster serves replicated KV and survives one node down', async () => {
  const t0 = Date.now();
  const cluster = await startNatsCluster(3);
  console.log(`# 3-node NATS cluster ready in ${Date.now() - t0} ms`);
  const conns: NatsConnection[] = [];
  try {
    assert.equal(cluster.urls.length, 3);
    assert.equal(new Set(cluster.nodes.map((n) => n.port)).size, 3);
    const nc = await connect({ servers: cluster.urls });
    conns.push(nc);
    await (await nc.jetstream().views.kv('replicated', { replicas: 3 })).put('k', '1');
    cluster.nodes[0]!.kill();
    // If the killed node led the meta group or the stream, JetStream requests time out until a new leader is
    // elected (a few seconds): retry, as the agent must.
    const rest = await connect({ servers: cluster.urls.slice(1) });
    conns.push(rest);
    const t1 = Date.now();
    await waitFor(
      async () => {
        const kv = await rest.jetstream().views.kv('replicated', { timeout: 2_000 });
        await kv.put('k', '2');
        return (await kv.get('k'))?.string() === '2';
      },
      30_000,
      'a KV write with one node of three down',
    );
    console.log(`# KV writable again ${Date.now() - t1} ms after killing a node`);
    await cluster.nodes[0]!.restart();
    await cluster.waitReady();
  } finally {
    for (const c of conns) await c.close().catch(() => {});
    await cluster.stop();
  }
  for (const n of cluster.nodes) assert.equal(existsSync(n.baseDir), false);
});

test('stop() removes every process and temp dir; 3306 and 4222 were never touched', async () => {
  const ours = [...sb.upstreams, sb.downstream];
  for (const m of ours) assert.ok(!SYSTEM_PORTS.includes(m.port));
  assert.ok(!SYSTEM_PORTS.includes(sb.nats.port));
  const pids = [...ours.map((m) => m.pid), sb.nats.pid];
  const dirs = [...ours.map((m) => m.baseDir), sb.nats.baseDir];
  for (const d of dirs) assert.ok(existsSync(d));
  await sb.stop();
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still alive`);
  if (process.env.TSDM_KEEP_TEST_DATA !== '1')
    for (const d of dirs) assert.equal(existsSync(d), false, `${d} still exists`);
  assert.deepEqual(
    listeners(SYSTEM_PORTS),
    systemBefore,
    'the system services on 3306/4222 are the same sockets as before',
  );
});
