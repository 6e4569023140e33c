/**
 * `npm run demo`: the whole product on a local sandbox, with the same harness the tests use. It starts an upstream
 * MariaDB seeded with a shop schema and a steady writer, a downstream MariaDB, NATS and one dm-agent; creates the
 * source and starts a task in mode `all` with dmctl, exactly as a user would; prints the command that opens the
 * dashboard in another terminal; shows the load's progress while it runs, then `dmctl query-status` and the lag while
 * the writer runs. Typing `e` + Enter once in sync makes a DDL the downstream rejects: the task pauses with the error,
 * the demo prints the dmctl commands that show and skip it and waits, running, until the task runs again. A task
 * error never ends the demo. Ctrl-C stops everything it started.
 *
 * Headless (CI): TSDM_DEMO_SECONDS=N exits 0 N seconds after the task is synced with no error pending (and, with
 * TSDM_DEMO_TRY_ERROR=1, which starts the `e` step by itself once in sync, after that error was resolved); exit 1 if
 * it does not sync, or stays paused by an error, for TSDM_DEMO_TIMEOUT seconds (default 180).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coord, percentText, readStatus, type SourceView } from '../../src/coord/index.ts';
import { formatRecord } from '../../src/errors/index.ts';
import { compareSchemas } from './compare.ts';
import { startSandbox } from './sandbox.ts';
import { ensureServers } from './servers.ts';
import { dmctl, sourceYaml, startAgent, writeTemp } from './tsdm.ts';
import { startWorkload } from './workload.ts';

const headlessSeconds = process.env.TSDM_DEMO_SECONDS ? Number(process.env.TSDM_DEMO_SECONDS) : undefined;
const timeoutSec = Number(process.env.TSDM_DEMO_TIMEOUT ?? 180);
const tryError = process.env.TSDM_DEMO_TRY_ERROR === '1';
const TASK = 'shop-migration';
const DMCTL = join(resolve(fileURLToPath(import.meta.url), '..', '..', '..'), 'bin', 'dmctl.js');
const say = (s: string) => process.stdout.write(`\x1b[1m[demo]\x1b[0m ${s}\n`);

const SHOP = `CREATE DATABASE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(80) NOT NULL, email VARCHAR(120) UNIQUE, created DATETIME(6) NOT NULL);
CREATE TABLE shop.products (id INT PRIMARY KEY AUTO_INCREMENT, sku CHAR(12) NOT NULL UNIQUE, title VARCHAR(200), price DECIMAL(10,2), stock INT);
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, status ENUM('new','paid','shipped','cancelled'), total DECIMAL(12,2), created DATETIME(6));
CREATE TABLE shop.order_items (order_id BIGINT NOT NULL, product_id INT NOT NULL, qty INT, price DECIMAL(10,2), PRIMARY KEY (order_id, product_id));
INSERT INTO shop.customers SELECT seq, CONCAT('Customer ', seq), CONCAT('c', seq, '@example.com'), NOW(6) - INTERVAL seq MINUTE FROM mysql.seq_1_to_40000;
INSERT INTO shop.products SELECT seq, LPAD(seq, 12, '0'), CONCAT('Product ', seq), 1 + seq % 500 + 0.99, seq % 100 FROM mysql.seq_1_to_5000;
INSERT INTO shop.orders SELECT seq, 1 + seq % 20000, ELT(1 + seq % 4, 'new','paid','shipped','cancelled'), seq % 997 + 0.5, NOW(6) - INTERVAL seq SECOND FROM mysql.seq_1_to_200000;
INSERT INTO shop.order_items SELECT seq, 1 + seq % 5000, 1 + seq % 3, 9.99 FROM mysql.seq_1_to_200000;`;
const SEEDED_ROWS = '445k';

/** One line of load progress, from the status the agent publishes (what query-status and the dashboard show). */
function loadLine(s: SourceView, t0: number): string {
  const secs = `(${((Date.now() - t0) / 1000).toFixed(1)}s)`;
  const l = s.load;
  if (!l || l.totalRows === 0) return `${s.unit}: taking the snapshot and planning chunks…  ${secs}`;
  return `load ${percentText(l.doneRows, l.totalRows).padStart(6)}  rows ${l.doneRows}/${l.totalRows}  chunks ${l.doneChunks}/${l.totalChunks}  tables ${l.tables}  ${secs}`;
}

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
  const ctl = `node ${DMCTL} --nats ${sb.nats.url} --cluster dm`;
  try {
    say(`upstream 127.0.0.1:${up.port}, downstream 127.0.0.1:${sb.downstream.port}, NATS ${sb.nats.url}`);
    say(`seeding shop schema (${SEEDED_ROWS} rows)…`);
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
      `name: ${TASK}
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
    say('open the dashboard in another terminal (q quits it; the demo keeps running):');
    process.stdout.write(`    ${ctl} dashboard\n`);
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
    // Headless end: the writer stops, the task catches up (dmctl's own wait), and the two sides must be equal.
    const finish = async (): Promise<number> => {
      await writer.stop();
      say(`writer stopped; $ dmctl query-status ${TASK} --wait-for synced --timeout 60`);
      const w = await dmctl(sb.nats.url, ['query-status', TASK, '--wait-for', 'synced', '--timeout', '60'], {
        timeoutMs: 120_000,
      });
      process.stdout.write(w.stdout + w.stderr);
      const r = await compareSchemas(up, sb.downstream, ['shop']);
      say(
        r.equal
          ? `CHECK: upstream and downstream are equal (${r.tables.length} tables)`
          : `CHECK FAILED: ${r.diffs.join('; ')}`,
      );
      return shutdown(w.code === 0 && r.equal ? 0 : 1);
    };

    // The `e` step: a constraint the downstream has already (by hand), then the same ALTER upstream: sync pauses on it.
    let steps = 0;
    /** running: from the ALTER until the task runs again after the error it causes. */
    let step: 'idle' | 'running' = 'idle';
    let inSync = false;
    const startErrorStep = async () => {
      if (step !== 'idle') return;
      if (!inSync) {
        say('the task is not in sync yet: type e again once it is');
        return;
      }
      step = 'running';
      const name = `ck_note${++steps}`;
      say(
        `error step: adding CHECK constraint ${name} to shop.customers downstream first, then the same ALTER TABLE upstream; the downstream will reject it (duplicate constraint name) when sync applies it`,
      );
      // Not a column: DM ignores "duplicate column" (and the like) for a DDL; a duplicate constraint name is an error.
      await sb.downstream.query(`ALTER TABLE shop.customers ADD CONSTRAINT ${name} CHECK (created > '2000-01-01')`);
      await up.query(`ALTER TABLE shop.customers ADD CONSTRAINT ${name} CHECK (created > '2000-01-01')`);
    };
    const rl = createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      if (line.trim() === 'e') void startErrorStep().catch((e: unknown) => say(`error step failed: ${String(e)}`));
    });
    cleanup.push(async () => rl.close());

    const t0 = Date.now();
    let syncedAt: number | undefined;
    let loadSeen = false;
    let lastLoad = '';
    let lastQuery = 0;
    let pausedSince: number | undefined;
    /** The error printed for the current pause: a different one (the retry met another) is printed too. */
    let pausedBy = '';
    let resolvedAt: number | undefined;
    while (!stopping) {
      const [view] = await readStatus(coord, TASK).catch(() => []);
      const s = view?.sources[0];
      const loading = s !== undefined && s.stage === 'Running' && (s.unit === 'dump' || s.unit === 'load');
      if (loading) {
        // The load as it happens, from the status the agent publishes twice a second.
        if (!loadSeen) say(`load phase (the same figures: dmctl query-status ${TASK}, or the dashboard):`);
        loadSeen = true;
        const line = loadLine(s, t0);
        if (line.replace(/\(.*\)$/, '') !== lastLoad.replace(/\(.*\)$/, '')) say(line);
        lastLoad = line;
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      if (loadSeen && lastLoad) {
        say(
          `load finished after ${Math.round((Date.now() - t0) / 1000)}s; the sync unit now replays what the writer did meanwhile`,
        );
        lastLoad = '';
      }
      const pausedByError = s?.stage === 'Paused' && s.error !== undefined;
      // Every 5 s the status as dmctl prints it; paused by an error, once (then the commands stay in sight).
      // (Not in the first 10 s while the task is still starting: dmctl's start-up would hold this loop while a short
      // load runs; stuck longer, the status shows why.)
      const starting =
        Date.now() - t0 < 10_000 && (s === undefined || s.stage === 'New' || s.unit === 'check' || s.unit === 'dump');
      if (pausedByError ? pausedSince === undefined : !starting && Date.now() - lastQuery > 5000) {
        lastQuery = Date.now();
        const r = await dmctl(sb.nats.url, ['query-status']);
        say(`$ dmctl query-status   (${Math.round((Date.now() - t0) / 1000)}s)`);
        process.stdout.write(r.stdout);
      }
      inSync = s?.sync?.caughtUp === true;
      if (inSync && syncedAt === undefined) {
        syncedAt = Date.now();
        say(
          `SYNCED: the downstream caught up with the upstream after ${Math.round((syncedAt - t0) / 1000)}s; the writer keeps running, lag is shown below.`,
        );
        say('try the error-and-skip workflow: type e and Enter (a DDL the downstream rejects). Ctrl-C stops the demo.');
        if (tryError) void startErrorStep();
      }
      if (pausedByError && s.error) {
        const text = formatRecord(s.error);
        if (pausedSince !== undefined && text !== pausedBy) {
          pausedBy = text;
          say('the task ran again and paused on another error:');
          process.stdout.write(`    ${text.split('\n').join('\n    ')}\n`);
        }
        if (pausedSince === undefined) {
          pausedSince = Date.now();
          pausedBy = text;
          say('TASK ERROR: the task paused; the writer keeps running and the task resumes from its checkpoint:');
          process.stdout.write(`    ${text.split('\n').join('\n    ')}\n`);
          say('resolve it in another terminal, then this demo goes on (it does not exit on a task error):');
          process.stdout.write(
            `    ${ctl} query-status ${TASK}     # the error, its binlog position and the suggestion\n`,
          );
          process.stdout.write(`    ${ctl} binlog skip ${TASK}      # skip the DDL the downstream rejects\n`);
          process.stdout.write(`    ${ctl} resume-task ${TASK}      # or: retry after fixing the cause downstream\n`);
          say('waiting for the task to run again…');
        } else if (Date.now() - lastQuery > 30_000) {
          lastQuery = Date.now();
          say(`still paused by the error above; waiting (${ctl} binlog skip ${TASK}, or Ctrl-C to stop)`);
        }
        if (headlessSeconds !== undefined && Date.now() - pausedSince > timeoutSec * 1000) {
          say(`still paused by an error after ${timeoutSec}s; the agent's last warnings (${agent.logFile}):`);
          process.stdout.write(warnings(agent.logFile));
          return await shutdown(1);
        }
      } else if (pausedSince !== undefined && s?.stage === 'Running' && !s.error) {
        pausedSince = undefined;
        resolvedAt = Date.now();
        step = 'idle';
        say('RESOLVED: the task runs again (type e to try again).');
      }
      if (syncedAt === undefined && Date.now() - t0 > timeoutSec * 1000) {
        say(`not synced after ${timeoutSec}s`);
        return await shutdown(1);
      }
      const settledAt = tryError ? resolvedAt : syncedAt;
      if (
        headlessSeconds !== undefined &&
        settledAt !== undefined &&
        pausedSince === undefined &&
        step === 'idle' &&
        Date.now() - settledAt > headlessSeconds * 1000
      )
        return await finish();
      // Until in sync, 100 ms: a load of a few seconds shows as it runs (the status is published once a second and
      // at each unit's start); then once a second.
      await new Promise((res) => setTimeout(res, syncedAt === undefined ? 100 : 1000));
    }
    return 0;
  } catch (err) {
    process.stderr.write(`demo failed: ${String(err)}\n`);
    return shutdown(1);
  }
}

/** The last 20 lines of a pino log file at level warn or above (headless failures: what the agent saw). */
function warnings(file: string): string {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const warn = lines.filter((l) => /"level":"(warn|error|fatal)"/.test(l)).slice(-20);
  return warn.map((l) => `    ${l.slice(0, 600)}\n`).join('');
}

main().then((code) => process.exit(code));
