/**
 * `npm run demo`: the whole product on a local sandbox, with the same harness the tests use. It starts an upstream
 * MariaDB seeded with a small shop schema and a steady writer, a downstream MariaDB, NATS and one dm-agent; creates
 * the source and starts a task in mode `all` with dmctl, exactly as a user would; then shows `dmctl query-status`
 * until the copy is in sync, and keeps showing lag while the writer runs. Ctrl-C stops everything it started.
 *
 * Headless (CI): TSDM_DEMO_SECONDS=N exits 0 N seconds after the task first reports synced, 1 if it does not sync
 * within TSDM_DEMO_TIMEOUT seconds (default 180).
 */
import { Coord, readStatus } from '../../src/coord/index.ts';
import { startSandbox } from './sandbox.ts';
import { ensureServers } from './servers.ts';
import { dmctl, sourceYaml, startAgent, writeTemp } from './tsdm.ts';
import { startWorkload } from './workload.ts';

const headlessSeconds = process.env.TSDM_DEMO_SECONDS ? Number(process.env.TSDM_DEMO_SECONDS) : undefined;
const timeoutSec = Number(process.env.TSDM_DEMO_TIMEOUT ?? 180);
const say = (s: string) => process.stdout.write(`\x1b[1m[demo]\x1b[0m ${s}\n`);

const SHOP = `CREATE DATABASE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(80) NOT NULL, email VARCHAR(120) UNIQUE, created DATETIME(6) NOT NULL);
CREATE TABLE shop.products (id INT PRIMARY KEY AUTO_INCREMENT, sku CHAR(12) NOT NULL UNIQUE, title VARCHAR(200), price DECIMAL(10,2), stock INT);
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, status ENUM('new','paid','shipped','cancelled'), total DECIMAL(12,2), created DATETIME(6));
CREATE TABLE shop.order_items (order_id BIGINT NOT NULL, product_id INT NOT NULL, qty INT, price DECIMAL(10,2), PRIMARY KEY (order_id, product_id));
INSERT INTO shop.customers SELECT seq, CONCAT('Customer ', seq), CONCAT('c', seq, '@example.com'), NOW(6) - INTERVAL seq MINUTE FROM mysql.seq_1_to_20000;
INSERT INTO shop.products SELECT seq, LPAD(seq, 12, '0'), CONCAT('Product ', seq), 1 + seq % 500 + 0.99, seq % 100 FROM mysql.seq_1_to_5000;
INSERT INTO shop.orders SELECT seq, 1 + seq % 20000, ELT(1 + seq % 4, 'new','paid','shipped','cancelled'), seq % 997 + 0.5, NOW(6) - INTERVAL seq SECOND FROM mysql.seq_1_to_50000;
INSERT INTO shop.order_items SELECT seq, 1 + seq % 5000, 1 + seq % 3, 9.99 FROM mysql.seq_1_to_50000;`;

async function main(): Promise<number> {
  ensureServers('npm run demo');
  say('starting sandbox: upstream + downstream MariaDB, NATS JetStream (private ports, temp dirs)…');
  const sb = await startSandbox();
  const up = sb.upstreams[0]!;
  let stopping = false;
  const cleanup: (() => Promise<unknown>)[] = [];
  const shutdown = async (code: number) => {
    if (stopping) return code;
    stopping = true;
    say('stopping everything…');
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    await sb.stop().catch(() => undefined);
    return code;
  };
  process.on('SIGINT', () => {
    void shutdown(0).then((c) => process.exit(c));
  });
  process.on('SIGTERM', () => {
    void shutdown(0).then((c) => process.exit(c));
  });
  try {
    say(`upstream 127.0.0.1:${up.port}, downstream 127.0.0.1:${sb.downstream.port}, NATS ${sb.nats.url}`);
    say('seeding shop schema (125k rows)…');
    await up.query(SHOP);
    const writer = startWorkload(
      up,
      [
        {
          schema: 'shop',
          table: 'orders',
          idCol: 'id',
          insert: (id) =>
            `(id, customer_id, status, total, created) VALUES (${id}, ${1 + (id % 20000)}, 'new', ${id % 300}.25, NOW(6))`,
          update: `status = 'paid', total = total + 1`,
        },
        {
          schema: 'shop',
          table: 'products',
          idCol: 'id',
          insert: (id) =>
            `(id, sku, title, price, stock) VALUES (${id}, '${String(id).padStart(12, '9')}', 'New product', 19.99, 10)`,
          update: 'stock = stock - 1',
        },
      ],
      { pauseMs: 20, maxMs: 24 * 3600_000 },
    );
    cleanup.push(() => writer.stop());
    const agent = startAgent({ name: 'demo-agent', nats: sb.nats.url });
    cleanup.push(() => agent.stop());
    await agent.ready();
    say(`dm-agent started (log: ${agent.logFile})`);
    const src = writeTemp('source1.yaml', sourceYaml('mariadb-shop', up));
    const task = writeTemp(
      'shop-task.yaml',
      `name: shop-migration
task-mode: all
target-database:
  host: 127.0.0.1
  port: ${sb.downstream.port}
  user: root
  password: "${sb.downstream.password}"
mysql-instances:
  - source-id: mariadb-shop
    block-allow-list: shop-only
block-allow-list:
  shop-only:
    do-dbs: ["shop"]
`,
    );
    for (const args of [
      ['operate-source', 'create', src],
      ['start-task', task],
    ]) {
      say(`$ dmctl ${args.join(' ')}`);
      const r = await dmctl(sb.nats.url, args);
      process.stdout.write(r.stdout + r.stderr);
      if (r.code !== 0) return await shutdown(1);
    }
    const coord = await Coord.connect({ servers: sb.nats.url, cluster: 'dm' });
    cleanup.push(() => coord.close());
    const t0 = Date.now();
    let syncedAt: number | undefined;
    while (!stopping) {
      const r = await dmctl(sb.nats.url, ['query-status']);
      say(`$ dmctl query-status   (${Math.round((Date.now() - t0) / 1000)}s)`);
      process.stdout.write(r.stdout);
      const [view] = await readStatus(coord, 'shop-migration').catch(() => []);
      const s = view?.sources[0];
      if (s?.sync?.caughtUp && syncedAt === undefined) {
        syncedAt = Date.now();
        say(
          `SYNCED: the downstream caught up with the upstream after ${Math.round((syncedAt - t0) / 1000)}s; the writer keeps running, lag is shown below. Ctrl-C to stop.`,
        );
      }
      if (s?.stage === 'Paused' && s.error) {
        say('task paused with an error (above)');
        return await shutdown(1);
      }
      if (syncedAt === undefined && Date.now() - t0 > timeoutSec * 1000) {
        say(`not synced after ${timeoutSec}s`);
        return await shutdown(1);
      }
      if (headlessSeconds !== undefined && syncedAt !== undefined && Date.now() - syncedAt > headlessSeconds * 1000)
        return await shutdown(0);
      await new Promise((res) => setTimeout(res, 2000));
    }
    return 0;
  } catch (err) {
    process.stderr.write(`demo failed: ${String(err)}\n`);
    return shutdown(1);
  }
}

main().then((code) => process.exit(code));
