/**
 * The tsdm side of a scenario, driven as a user drives it: one `dm-agent` process on a fresh cluster name, and
 * `dmctl` commands (operate-source create, start-task, query-status --json). Every wait is bounded and fails
 * with the last status it saw; a subtask paused with an error ends the wait at once with tsdm's error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MariaDBInstance, Sandbox } from '../harness/index.ts';
import { dmctl, startAgent, type AgentProcess, type DmctlResult } from '../harness/tsdm.ts';

export const TIMEOUTS = {
  agentReady: 30_000,
  dmctl: 60_000,
  /** Full load plus catching up with the increments of one step. */
  caughtUp: 120_000,
  /** DM pauses on an error within seconds. */
  paused: 30_000,
  /** A subtask that shows the same error this long while retrying is stuck, not recovering. */
  persistentError: 30_000,
  agentStop: 15_000,
} as const;

/** A failure caused by tsdm (its error, its status), as opposed to the runner or the environment. */
export class TsdmFailure extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface SubtaskView {
  source: string;
  stage: string;
  unit: string;
  sync?: { synced?: { name: string; pos: number }; master?: { name: string; pos: number }; caughtUp?: boolean };
  error?: { code: string; message: string; context?: { sql?: string; position?: string } };
}

export class Cluster {
  readonly agent: AgentProcess;
  private readonly dataDir: string;

  private constructor(
    readonly sb: Sandbox,
    readonly name: string,
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'tsdm-conf-agent-'));
    this.agent = startAgent({ name: 'agent-1', nats: sb.nats.url, cluster: name, dataDir: this.dataDir });
  }

  static async start(sb: Sandbox, name: string): Promise<Cluster> {
    const c = new Cluster(sb, name);
    try {
      await c.agent.ready(TIMEOUTS.agentReady);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  ctl(args: string[]): Promise<DmctlResult> {
    return dmctl(this.sb.nats.url, args, { cluster: this.name, timeoutMs: TIMEOUTS.dmctl });
  }

  async status(task: string): Promise<SubtaskView[]> {
    const r = await this.ctl(['query-status', task, '--json']);
    if (r.code !== 0 || !r.json?.result)
      throw new Error(`dmctl query-status ${task} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    return (r.json.tasks?.[0]?.sources ?? []) as SubtaskView[];
  }

  /** Last lines of the agent's log, for failure reports on the console. */
  logTail(lines = 40): string {
    return this.agent.log().trimEnd().split('\n').slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    // TSDM_CONFORMANCE_LOGS=DIR keeps every scenario's whole agent log there, for a post-mortem.
    const dir = process.env['TSDM_CONFORMANCE_LOGS'];
    if (dir) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${this.name}-${Date.now()}.log`), this.agent.log());
    }
    const stopped = this.agent.stop();
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), TIMEOUTS.agentStop).unref());
    if ((await Promise.race([stopped.then(() => 'ok' as const), timer])) === 'late') await this.agent.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function describeSubtasks(views: SubtaskView[]): string {
  return views
    .map((s) => {
      const syn = s.sync?.synced ? ` synced ${s.sync.synced.name}:${s.sync.synced.pos}` : '';
      const err = s.error ? ` error ${s.error.code} ${s.error.message}` : '';
      return `${s.source}: ${s.stage}/${s.unit}${syn}${err}`;
    })
    .join('; ');
}

export function formatTsdmError(s: SubtaskView): string {
  const e = s.error!;
  const ctx = [
    e.context?.position ? `at ${e.context.position}` : '',
    e.context?.sql ? `sql: ${e.context.sql.replace(/\s+/g, ' ').slice(0, 200)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const msg = e.message.length > 240 ? `${e.message.slice(0, 240)}…` : e.message;
  return `${s.source} paused in ${s.unit}: ${e.code} ${msg}${ctx ? ` (${ctx})` : ''}`;
}

export async function masterPosition(db: MariaDBInstance): Promise<{ name: string; pos: number }> {
  const [r] = await db.query('SHOW MASTER STATUS');
  if (!r) throw new Error(`${db.name}: SHOW MASTER STATUS returned nothing (binlog off?)`);
  return { name: String(r.File), pos: Number(r.Position) };
}

export function reached(p: { name: string; pos: number } | undefined, head: { name: string; pos: number }): boolean {
  return !!p && (p.name > head.name || (p.name === head.name && p.pos >= head.pos));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the task has applied everything its upstreams had when the wait began (mode all/incremental:
 * stage Running, unit sync, synced >= head, caught up with no shard held by a lock), or finished (mode full). `heads` maps source-id -> upstream.
 */
export async function waitCaughtUp(
  c: Cluster,
  task: string,
  mode: string,
  heads: Map<string, { name: string; pos: number }>,
): Promise<void> {
  const t0 = Date.now();
  let last: SubtaskView[] = [];
  const errorSince = new Map<string, number>();
  while (Date.now() - t0 < TIMEOUTS.caughtUp) {
    try {
      last = await c.status(task);
    } catch (err) {
      last = [];
      if (Date.now() - t0 > TIMEOUTS.caughtUp / 2) throw err;
    }
    const paused = last.find((s) => s.error && (s.stage === 'Paused' || s.stage === 'Stopped'));
    if (paused) throw new TsdmFailure(formatTsdmError(paused), c.logTail());
    // A retryable error shows between retries; the same one still coming back after 30 s means tsdm is stuck.
    for (const s of last) {
      if (!s.error) continue;
      const k = `${s.source}|${s.error.code}|${s.error.message}`;
      const since = errorSince.get(k) ?? Date.now();
      errorSince.set(k, since);
      if (Date.now() - since > TIMEOUTS.persistentError) {
        throw new TsdmFailure(
          `${formatTsdmError(s).replace(' paused in ', ' keeps retrying in ')} (the same error for ${Math.round((Date.now() - since) / 1000)} s, stage ${s.stage})`,
          c.logTail(),
        );
      }
    }
    const done =
      last.length > 0 &&
      last.every((s) =>
        mode === 'full'
          ? s.stage === 'Finished'
          : // caughtUp also says no shard is held by a shard-DDL lock (its events are not applied yet, whatever `synced`).
            s.stage === 'Running' &&
            s.unit === 'sync' &&
            heads.has(s.source) &&
            reached(s.sync?.synced, heads.get(s.source)!) &&
            s.sync?.caughtUp === true,
      );
    if (done) return;
    await sleep(700);
  }
  const want =
    mode === 'full'
      ? 'stage Finished'
      : `synced >= ${[...heads].map(([s, h]) => `${s} ${h.name}:${h.pos}`).join(', ')}`;
  throw new TsdmFailure(
    `task ${task} did not catch up within ${TIMEOUTS.caughtUp / 1000} s (want ${want}; last status: ${describeSubtasks(last) || 'none'})`,
    c.logTail(),
  );
}

/** Waits until some subtask is paused with an error; returns it. */
/** Every subtask of the task is Running in its sync unit (a paused one fails at once). */
export async function waitSyncUnit(c: Cluster, task: string): Promise<void> {
  const t0 = Date.now();
  let last: SubtaskView[] = [];
  while (Date.now() - t0 < TIMEOUTS.caughtUp) {
    last = await c.status(task).catch(() => [] as SubtaskView[]);
    const paused = last.find((s) => s.error && (s.stage === 'Paused' || s.stage === 'Stopped'));
    if (paused) throw new TsdmFailure(formatTsdmError(paused), c.logTail());
    if (last.length > 0 && last.every((s) => s.stage === 'Running' && s.unit === 'sync')) return;
    await sleep(300);
  }
  throw new TsdmFailure(
    `task ${task} did not reach its sync unit within ${TIMEOUTS.caughtUp / 1000} s (last status: ${describeSubtasks(last) || 'none'})`,
    c.logTail(),
  );
}

export async function waitPaused(c: Cluster, task: string): Promise<SubtaskView | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < TIMEOUTS.paused) {
    const views = await c.status(task).catch(() => [] as SubtaskView[]);
    const p = views.find((s) => s.error && s.stage === 'Paused');
    if (p) return p;
    await sleep(700);
  }
  return undefined;
}
