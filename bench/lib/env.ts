/**
 * The servers a bench workload runs on, started with the test harness: one upstream (binlog ROW/FULL), tsdm's
 * downstream, a third mariadbd for the baseline (a native replica, or the target of mydumper/myloader), NATS and
 * one dm-agent with the upstream registered as source `source1`.
 *
 * All three mariadbd get the harness's settings (128 MB buffer pool, innodb_flush_log_at_trx_commit=1), so tsdm's
 * downstream and the baseline's target are the same kind of server.
 */
import type mysql from 'mysql2/promise';
import { Bucket, Coord, Keys, type SubtaskStatus } from '../../src/coord/index.ts';
import { startMariaDB, startNats, type MariaDBInstance, type NatsInstance } from '../../test/harness/index.ts';
import {
  dmctl,
  sourceYaml,
  startAgent,
  writeTemp,
  type AgentProcess,
  type DmctlResult,
} from '../../test/harness/tsdm.ts';
import { RssSampler } from './rss.ts';

export interface Env {
  natsUrl: string;
  up: MariaDBInstance;
  down: MariaDBInstance;
  /** The baseline's server (native replica / myloader target). */
  base: MariaDBInstance;
  agent: AgentProcess;
  coord: Coord;
  rss: RssSampler;
  ctl(args: string[], timeoutMs?: number): Promise<DmctlResult>;
  /** `dmctl start-task` of a task file written from `yaml`; throws with dmctl's output when it fails. */
  startTask(yaml: string): Promise<void>;
  stopTask(name: string): Promise<void>;
  /** The status record the agent publishes for `task` (source1), or undefined before it has one. */
  status(task: string): Promise<SubtaskStatus | undefined>;
  stop(): Promise<void>;
}

export async function startEnv(
  opts: { relay?: boolean; agentEnv?: NodeJS.ProcessEnv; baseline?: boolean; downstreamArgs?: string[] } = {},
): Promise<Env> {
  const servers = await Promise.allSettled([
    startMariaDB({ name: 'up', upstream: true, serverId: 101 }),
    startMariaDB({ name: 'down', serverId: 201, ...(opts.downstreamArgs ? { extraArgs: opts.downstreamArgs } : {}) }),
    startNats({ name: 'nats' }),
    ...(opts.baseline === false ? [] : [startMariaDB({ name: 'base', serverId: 301 })]),
  ]);
  const started = servers.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  const failed = servers.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((x) => x.stop()));
    throw failed.reason;
  }
  const [up, down, nats, base] = started as [MariaDBInstance, MariaDBInstance, NatsInstance, MariaDBInstance?];
  const agent = startAgent({
    name: 'bench-agent',
    nats: nats.url,
    ...(opts.agentEnv ? { env: opts.agentEnv } : {}),
  });
  await agent.ready();
  const coord = await Coord.connect({ servers: nats.url, cluster: 'dm' });
  const ctl = (args: string[], timeoutMs = 120_000) => dmctl(nats.url, args, { timeoutMs });
  const r = await ctl([
    'operate-source',
    'create',
    writeTemp(
      'source1.yaml',
      sourceYaml('source1', up).replace('enable-relay: false', `enable-relay: ${opts.relay === true}`),
    ),
  ]);
  if (r.code !== 0) throw new Error(`operate-source create failed: ${r.stdout}${r.stderr}`);
  const rss = new RssSampler(() => agent.pid());
  // The harness kills its servers on SIGINT/SIGTERM but not the agent (only on a normal exit): kill it too, then exit.
  const onSignal = (sig: NodeJS.Signals) => {
    const pid = agent.pid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    natsUrl: nats.url,
    up,
    down,
    base: base ?? down,
    agent,
    coord,
    rss,
    ctl,
    async startTask(yaml) {
      const res = await ctl(['start-task', writeTemp('task.yaml', yaml)]);
      if (res.code !== 0) throw new Error(`start-task failed: ${res.stdout}${res.stderr}`);
    },
    async stopTask(name) {
      const res = await ctl(['stop-task', name]);
      if (res.code !== 0) throw new Error(`stop-task ${name} failed: ${res.stdout}${res.stderr}`);
    },
    async status(task) {
      return (await coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus(task, 'source1')))?.value;
    },
    async stop() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rss.stop();
      await agent.stop();
      await coord.close();
      await Promise.allSettled(started.map((x) => x.stop()));
    },
  };
}

/**
 * An incremental task's instance lines from `start` with no safe-mode window: the benches prepare the same rows on
 * every server without binlogging them, so the downstream is exactly at `meta` (what safe-mode-duration: 0s is for;
 * the native replica has no such window either). Goes with EXACT_META_RULES.
 */
export function exactMetaInstance(start: { file: string; pos: number }): string {
  return `block-allow-list: bal\nsyncer-config-name: exact\nmeta:\n  binlog-name: ${start.file}\n  binlog-pos: ${start.pos}`;
}
export const EXACT_META_RULES = 'syncers:\n  exact:\n    safe-mode-duration: 0s\n';

/** A task file for source1 into `down` (what a user writes); `body` adds mysql-instances options and rules. */
export function taskYaml(name: string, mode: string, down: MariaDBInstance, instance: string, rules = ''): string {
  return `name: ${name}
task-mode: ${mode}
target-database:
  host: 127.0.0.1
  port: ${down.port}
  user: root
  password: "${down.password}"
mysql-instances:
  - source-id: source1
${instance
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => `    ${l}`)
  .join('\n')}
${rules}`;
}

/** The upstream's binlog position now (file, pos and the GTID set). */
export async function masterPos(up: MariaDBInstance): Promise<{ file: string; pos: number; gtid: string }> {
  const [m] = await up.query('SHOW MASTER STATUS');
  const [g] = await up.query('SELECT @@gtid_binlog_pos AS g');
  return { file: String(m.File), pos: Number(m.Position), gtid: String(g.g) };
}

/**
 * Runs `sql` on each server without writing it to a binlog (the same starting data everywhere, not replicated):
 * a dedicated connection with sql_log_bin=0, closed afterwards.
 */
export async function onEach(servers: MariaDBInstance[], sql: string): Promise<void> {
  await Promise.all(
    servers.map(async (s) => {
      const c = await s.connect();
      try {
        await c.query('SET SESSION sql_log_bin = 0');
        await c.query(sql);
      } finally {
        await c.end();
      }
    }),
  );
}

/** Polls `sql` on a connection of its own every `everyMs` until it returns a row; resolves performance.now(). */
export async function waitRow(
  db: MariaDBInstance,
  sql: string,
  opts: { everyMs?: number; timeoutMs?: number; what: string; check?: () => Promise<void> },
): Promise<number> {
  const c = await db.connect();
  const t0 = performance.now();
  let lastCheck = t0;
  try {
    for (;;) {
      const [rows] = await c.query<mysql.RowDataPacket[]>(sql);
      const now = performance.now();
      if (rows.length > 0) return now;
      if (now - t0 > (opts.timeoutMs ?? 600_000)) throw new Error(`timed out waiting for ${opts.what}`);
      if (opts.check && now - lastCheck > 1000) {
        lastCheck = now;
        await opts.check();
      }
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 5));
    }
  } finally {
    await c.end();
  }
}

/** Throws when the task's subtask is paused with an error (so a bench never waits for a stuck task). */
export async function assertTaskHealthy(env: Env, task: string): Promise<void> {
  const s = await env.status(task);
  if (s?.error && s.stage === 'Paused') throw new Error(`task ${task} paused: ${s.error.code} ${s.error.message}`);
}
