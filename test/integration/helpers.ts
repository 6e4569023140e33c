/** Shared steps of the end-to-end tests: a running cluster, a task, waiting for states, comparing data. */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Coord, natsSettingsFrom, readStatus, resolveNatsAuth, type TaskView } from '../../src/coord/index.ts';
import { compareTables, startSandbox, waitFor, type MariaDBInstance, type Sandbox } from '../harness/index.ts';
import { dmctl, sourceYaml, startAgent, writeTemp, type AgentProcess, type DmctlResult } from '../harness/tsdm.ts';

export interface Cluster {
  sb: Sandbox;
  agent: AgentProcess;
  coord: Coord;
  ctl(args: string[]): Promise<DmctlResult>;
  stop(): Promise<void>;
}

export async function startCluster(
  opts: {
    upstreams?: number;
    sources?: boolean;
    agentEnv?: NodeJS.ProcessEnv;
    /** More dm-agent flags (e.g. --metrics-addr). */
    agentArgs?: string[];
    upstreamArgs?: string[];
    downstreamArgs?: string[];
    /**
     * NATS with auth or TLS: the server's config, and the TSDM_NATS_* variables the agent, dmctl and this test's own
     * connection (through the same mapping, src/coord/nats-auth.ts) use.
     */
    nats?: { config: string; env: Record<string, string> };
  } = {},
): Promise<Cluster> {
  const natsEnv = opts.nats?.env ?? {};
  const natsAuth = (url: string) => resolveNatsAuth(natsSettingsFrom(url, '--nats', {}, natsEnv).settings);
  const sb = await startSandbox({
    upstreams: opts.upstreams ?? 1,
    ...(opts.upstreamArgs ? { upstreamArgs: opts.upstreamArgs } : {}),
    ...(opts.downstreamArgs ? { downstreamArgs: opts.downstreamArgs } : {}),
    ...(opts.nats ? { nats: { config: opts.nats.config, client: natsAuth('nats://127.0.0.1').options } } : {}),
  });
  const agent = startAgent({
    name: 'agent-1',
    nats: sb.nats.url,
    env: { ...natsEnv, ...opts.agentEnv },
    ...(opts.agentArgs ? { args: opts.agentArgs } : {}),
  });
  await agent.ready();
  const coord = await Coord.connect({ auth: natsAuth(sb.nats.url), cluster: 'dm' });
  const ctl = (args: string[]) => dmctl(sb.nats.url, args, { env: natsEnv });
  if (opts.sources !== false) {
    for (const [i, up] of sb.upstreams.entries()) {
      const r = await ctl([
        'operate-source',
        'create',
        writeTemp(`source${i + 1}.yaml`, sourceYaml(`source${i + 1}`, up)),
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
  }
  return {
    sb,
    agent,
    coord,
    ctl,
    async stop() {
      await agent.stop();
      await coord.close();
      await sb.stop();
    },
  };
}

/** A cluster started once for the test file (node:test before/after); the returned function gives it inside a test. */
export function fileCluster(opts: Parameters<typeof startCluster>[0] = {}): () => Cluster {
  let c: Cluster | undefined;
  before(async () => {
    c = await startCluster(opts);
  });
  after(async () => {
    await c?.stop();
  });
  return () => {
    assert.ok(c, 'the cluster started');
    return c;
  };
}

/** A task body that migrates the schemas `dbs` of source1 (one block-allow-list rule). */
export function schemasBody(...dbs: string[]): string {
  return instanceBody('', dbs);
}

/** schemasBody for a task that starts at `at` (SHOW MASTER STATUS's File and Position): task-mode incremental. */
export function fromPositionBody(at: { File: string; Position: number | string }, ...dbs: string[]): string {
  return instanceBody(`    meta:\n      binlog-name: ${at.File}\n      binlog-pos: ${at.Position}\n`, dbs);
}

/** source1 with `more` (its further instance lines), migrating the schemas `dbs`. */
function instanceBody(more: string, dbs: string[]): string {
  return `mysql-instances:\n  - source-id: source1\n    block-allow-list: bal\n${more}block-allow-list:\n  bal:\n    do-dbs: [${dbs.map((d) => JSON.stringify(d)).join(', ')}]\n`;
}

export function taskYaml(name: string, down: MariaDBInstance, body: string, mode = 'all'): string {
  return `name: ${name}\ntask-mode: ${mode}\ntarget-database:\n  host: 127.0.0.1\n  port: ${down.port}\n  user: root\n  password: "${down.password}"\n${body}`;
}

export async function startTask(c: Cluster, yaml: string, extra: string[] = []): Promise<void> {
  const r = await c.ctl(['start-task', writeTemp('task.yaml', yaml), ...extra]);
  assert.equal(r.code, 0, `start-task failed: ${r.stdout}${r.stderr}`);
}

export async function status(c: Cluster, task: string): Promise<TaskView> {
  const [v] = await readStatus(c.coord, task);
  return v!;
}

/** Waits until every source of the task has applied everything the upstream had when this was called. */
export async function waitSynced(c: Cluster, task: string, timeoutMs = 120_000): Promise<void> {
  const heads = await Promise.all(
    c.sb.upstreams.map(async (u) => {
      const [r] = await u.query('SHOW MASTER STATUS');
      return { name: String(r.File), pos: Number(r.Position) };
    }),
  );
  let last = '';
  await waitFor(
    async () => {
      const v = await status(c, task);
      last = JSON.stringify(
        v.sources.map((s) => ({ stage: s.stage, unit: s.unit, synced: s.sync?.synced, error: s.error?.message })),
      );
      if (v.sources.some((s) => s.error && s.stage === 'Paused')) throw new Error(`task paused with error: ${last}`);
      return v.sources.every((s, i) => {
        const head = heads[i];
        const syn = s.sync?.synced;
        return (
          s.stage === 'Running' &&
          s.unit === 'sync' &&
          syn !== undefined &&
          head !== undefined &&
          (syn.name > head.name || (syn.name === head.name && syn.pos >= head.pos))
        );
      });
    },
    timeoutMs,
    () => `task ${task} synced (last status ${last})`,
  );
}

/** For waitStage: the task's (first) source is paused with an error. */
export const pausedWithError = (v: TaskView): boolean =>
  v.sources[0]?.stage === 'Paused' && v.sources[0]?.error !== undefined;

export async function waitStage(
  c: Cluster,
  task: string,
  pred: (v: TaskView) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<TaskView> {
  let v!: TaskView;
  await waitFor(
    async () => {
      v = await status(c, task);
      return pred(v);
    },
    timeoutMs,
    () => `${what} (last ${JSON.stringify(v?.sources.map((s) => [s.stage, s.unit, s.error?.code]))})`,
  );
  return v;
}

/** Asserts that each upstream table equals its downstream counterpart row for row. */
export async function assertSame(
  up: MariaDBInstance,
  down: MariaDBInstance,
  pairs: { up: [string, string]; down?: [string, string] }[],
): Promise<void> {
  for (const p of pairs) {
    const d = p.down ?? p.up;
    const r = await compareTables(up, { schema: p.up[0], table: p.up[1] }, down, { schema: d[0], table: d[1] });
    assert.ok(
      r.equal,
      `${p.up.join('.')} -> ${d.join('.')}: up ${r.upRows} rows, down ${r.downRows}: ${r.diffs.join('; ')}`,
    );
  }
}

/**
 * PURGE BINARY LOGS TO `file`, until the upstream's oldest binlog is `file`. MariaDB keeps a file that a binlog reader
 * is still on, or that crash recovery still needs until its Binlog_checkpoint is written (asynchronously, later under
 * load), and only warns: one PURGE is not enough on a busy machine.
 */
export async function purgeBinlogsTo(up: MariaDBInstance, file: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      await up.query(`PURGE BINARY LOGS TO '${file}'`);
      return String((await up.query('SHOW BINARY LOGS'))[0].Log_name) === file;
    },
    timeoutMs,
    `the upstream's binlogs before ${file} purged`,
  );
}
