import { parseSourceConfig, parseTaskConfig, recordLoadOptions } from '../src/config/index.ts';
import { CheckRunner } from './verify/runner.ts';
import type { AgentConfig } from '../src/config/agent-config.ts';
import {
  Bucket,
  type Coord,
  eventsOf,
  Keys,
  Op,
  removeMetaRequest,
  type BoundRecord,
  type CheckSourceRequest,
  type CheckTaskRequest,
  type MemberRecord,
  type SourceRecord,
  type SubtaskStatus,
  type TaskRecord,
} from '../src/coord/index.ts';
import { Election } from './cluster/election.ts';
import { Membership } from './cluster/membership.ts';
import { clusterOps } from './cluster/ops.ts';
import { type OpHandler, serveOps } from './op-registry.ts';
import { schedule } from './cluster/scheduler.ts';
import type { Logger } from './log.ts';
import { checkSource, checkTask } from './ops.ts';
import { planTask } from './plan/plan-task.ts';
import { setSecretKey } from './db/mysql.ts';
import { BUILTIN_KEY_WARNING, loadSecretKey } from '../src/config/secret.ts';
import { Subtask } from './subtask.ts';
import { logBindingChange, restartCause, whyNotHere } from './cluster/binding-log.ts';
import { syncHoldOp } from './verify/hold-op.ts';
import { validationErrorOp } from './verify/validator-op.ts';
import { binlogSchemaOp } from './schema-op.ts';
import { Relays, type WantedRelay } from './relay/relays.ts';
import { RelayUpkeep } from './relay-upkeep.ts';
import type { AgentProbes } from './agent-metrics.ts';
import type { PurgeRelayRequest } from '../src/coord/index.ts';
import { startEvents } from './events.ts';
import { openCoord } from './open-coord.ts';
import { SelfFence, ZOMBIE } from './self-fence.ts';
import { VERSION } from './version.ts';

/**
 * dm-agent: membership, election (+ scheduling as leader), and the reconciler that runs the subtasks of the sources
 * bound to this agent. Everything it learns comes from watching KV buckets; everything it tells goes to dm_status.
 */
export class Agent {
  private coord!: Coord;
  private membership!: Membership;
  private election!: Election;
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly sources = new Map<string, SourceRecord>();
  private readonly bounds = new Map<string, BoundRecord>();
  private readonly subtasks = new Map<string, { st: Subtask; updatedAt: string }>();
  private readonly unwatch: (() => void)[] = [];
  private reconciling: Promise<void> = Promise.resolve();
  private pending = false;
  private stopping = false;
  private relays!: Relays;
  private readonly fence = new SelfFence({
    log: () => this.log,
    lastRenewed: () => this.membership.lastRenewed,
    stopping: () => this.stopping,
    rereadBindings: async () => {
      const fresh = await this.coord.list<BoundRecord>(Bucket.bounds);
      this.bounds.clear();
      for (const e of fresh) this.bounds.set(e.key, e.value);
    },
    changed: () => this.kick(),
  });
  private scheduling: Promise<void> = Promise.resolve();
  private checks: CheckRunner | undefined;
  private events: { close(): Promise<void> } | undefined;
  private readonly relayUpkeep = new RelayUpkeep({
    agent: () => this.cfg.name,
    log: () => this.log,
    tasks: () => this.tasks.values(),
    source: (id) => this.sources.get(Keys.source(id)),
    writer: (id) => this.relays.writer(id),
    synced: async (task, source) =>
      this.subtasks.get(`${task}\u0000${source}`)?.st.status.sync?.synced ??
      (await this.coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus(task, source)).catch(() => undefined))
        ?.value.sync?.synced,
  });

  constructor(
    private readonly cfg: AgentConfig,
    private readonly log: Logger,
    /** /metrics and /readyz (--metrics-addr; agent-metrics.ts); undefined: not served. */
    private readonly probes?: AgentProbes,
  ) {}

  async start(): Promise<void> {
    setSecretKey(loadSecretKey(this.cfg.secretKeyPath));
    if (!this.cfg.secretKeyPath) this.log.warn(BUILTIN_KEY_WARNING);
    const { coord, auth } = await openCoord(this.cfg, this.log);
    this.coord = coord;
    this.events = await startEvents(this.coord, this.cfg.name, this.log, this.cfg.replicas);
    this.relays = new Relays({
      agent: this.cfg.name,
      dataDir: this.cfg.dataDir,
      log: this.log,
      event: (e) => eventsOf(this.coord).emit(e),
      publish: async (s) => {
        this.probes?.relay(s.source, s);
        if (!this.stopping) await this.coord.put(Bucket.status, Keys.relayStatus(s.source), s);
      },
      tick: (w) => this.relayUpkeep.tick(w),
      unpublish: async (id) => {
        this.probes?.relay(id, undefined);
        if (!this.stopping) await this.coord.delete(Bucket.status, Keys.relayStatus(id));
      },
    });
    this.membership = new Membership(this.coord, this.cfg.name, VERSION, this.log);
    await this.membership.start();
    this.election = new Election(this.coord, this.cfg.name, this.log, () => this.schedule());
    this.election.start();
    this.probes?.attach({
      coord: this.coord,
      dataDir: this.cfg.dataDir,
      isLeader: () => this.election.isLeader,
      lastRenewed: () => this.membership.lastRenewed,
      bindings: () => [...this.bounds.values()].filter((b) => b.agent === this.cfg.name).length,
    });
    // A deleted member key (graceful stop, offline-member) is seen at once; an expired one only by the next tick.
    this.unwatch.push(
      this.coord.watch<MemberRecord>(Bucket.members, (e) => {
        if (e.deleted && this.election.isLeader) void this.schedule();
      }),
    );
    this.fence.start();
    this.unwatch.push(
      this.coord.watch<TaskRecord>(Bucket.tasks, (e) => {
        if (e.deleted) this.tasks.delete(e.key);
        else this.tasks.set(e.key, e.value);
        this.kick();
      }),
    );
    this.unwatch.push(
      this.coord.watch<SourceRecord>(Bucket.sources, (e) => {
        if (e.deleted) this.sources.delete(e.key);
        else this.sources.set(e.key, e.value);
        this.kick();
      }),
    );
    this.unwatch.push(
      this.coord.watch<BoundRecord>(Bucket.bounds, (e) => {
        logBindingChange(this.log, this.cfg.name, this.bounds.get(e.key), e.deleted ? undefined : e.value);
        if (e.deleted) this.bounds.delete(e.key);
        else this.bounds.set(e.key, e.value);
        this.kick();
      }),
    );
    // Every operation dmctl can ask of an agent, in one list (op-registry.ts).
    const ops: OpHandler[] = [
      ...clusterOps(this.coord, this.cfg.name, this.election, this.log, () => this.schedule()),
      { op: Op.checkSource, to: 'any', handle: (p) => checkSource(p as CheckSourceRequest) },
      { op: Op.checkTask, to: 'any', handle: (p) => checkTask(p as CheckTaskRequest) },
      { op: Op.planTask, to: 'any', handle: (p) => planTask(p as CheckTaskRequest) },
      { op: Op.purgeRelay, to: 'agent', handle: (p) => this.relayUpkeep.purge(p as PurgeRelayRequest) },
      syncHoldOp(this.cfg.name, (task, source) =>
        this.fence.fenced ? undefined : this.subtasks.get(`${task}\u0000${source}`)?.st,
      ),
      binlogSchemaOp(this.cfg.name, this.coord, (task, source) =>
        this.fence.fenced ? undefined : this.subtasks.get(`${task}\u0000${source}`)?.st,
      ),
      validationErrorOp(
        this.cfg.name,
        (task, source) => (this.fence.fenced ? undefined : this.subtasks.get(`${task}\u0000${source}`)?.st),
        (task) => [...this.subtasks].filter(([k]) => k.startsWith(`${task}\u0000`)).map(([, v]) => v.st),
      ),
    ];
    this.unwatch.push(serveOps(this.coord, this.cfg.name, ops));
    this.checks = new CheckRunner({
      agent: this.cfg.name,
      coord: this.coord,
      log: this.log,
      bound: (id) => this.bounds.get(Keys.bound(id)),
    });
    this.checks.start();
    this.unwatch.push(() => this.checks?.stop());
    this.log.info(
      { version: VERSION, cluster: this.cfg.cluster, nats: auth.servers, natsAuth: auth.method },
      'agent started',
    );
  }

  /** Leader only: one scheduling pass at a time. */
  private schedule(): Promise<void> {
    this.scheduling = this.scheduling.then(async () => {
      if (!this.election.isLeader || this.stopping) return;
      await schedule(this.coord, this.election.term, this.log).catch((err: unknown) =>
        this.log.warn({ err: String(err) }, 'scheduling failed'),
      );
    });
    return this.scheduling;
  }

  /** Coalesces watch notifications into one reconcile at a time. */
  private kick(): void {
    if (this.stopping) return;
    if (this.pending) return;
    this.pending = true;
    this.reconciling = this.reconciling.then(async () => {
      this.pending = false;
      try {
        await this.reconcile();
      } catch (err) {
        this.log.error({ err: String(err) }, 'reconcile failed');
      }
    });
  }

  private async reconcile(): Promise<void> {
    const relays = this.wantedRelays();
    await this.relays.reconcile(relays);
    const want = new Set<string>();
    for (const rec of this.tasks.values()) {
      let task;
      try {
        task = parseTaskConfig(rec.yaml, rec.file, recordLoadOptions(rec));
      } catch (err) {
        this.log.error({ task: rec.name, err: String(err) }, 'stored task config is invalid');
        continue;
      }
      for (const spec of task.subtasks) {
        // start-task -s: a source of the file the task was not started on has no subtask (as in DM).
        if (!rec.sources.includes(spec.sourceId)) continue;
        const bound = this.bounds.get(Keys.bound(spec.sourceId));
        const srcRec = this.sources.get(Keys.source(spec.sourceId));
        const key = `${task.name}\u0000${spec.sourceId}`;
        if (ZOMBIE && this.subtasks.has(key) && bound?.agent !== this.cfg.name) {
          want.add(key);
          continue;
        }
        if (!bound || bound.agent !== this.cfg.name || !srcRec || this.fence.fenced) continue;
        const stage = rec.sourceStages?.[spec.sourceId] ?? rec.stage;
        const cur = this.subtasks.get(key);
        if (stage === 'Stopped') {
          if (cur) {
            await cur.st.stop('stop-task', { ...(rec.by ? { by: rec.by } : {}) });
            this.subtasks.delete(key);
          }
          await this.publish({
            ...(cur?.st.status ?? baseStatus(task.name, spec.sourceId, this.cfg.name, rec.generation)),
            stage: 'Stopped',
            updatedAt: new Date().toISOString(),
          });
          continue;
        }
        want.add(key);
        if (cur && cur.st.generation === rec.generation && cur.st.term === bound.term) {
          cur.st.setBinlogOps(rec.binlogOps);
          cur.st.setValidation(rec.validation);
          cur.st.setDesired(stage, cur.updatedAt !== rec.updatedAt, rec.by);
          cur.updatedAt = rec.updatedAt;
          continue;
        }
        if (cur) await cur.st.stop(restartCause(cur.st, rec.generation, bound.term));
        const source = parseSourceConfig(srcRec.yaml, srcRec.file);
        const relay = this.relays.writer(spec.sourceId);
        const removeMeta = removeMetaRequest(rec, spec.sourceId);
        const st = new Subtask({
          agent: this.cfg.name,
          task,
          spec,
          source,
          generation: rec.generation,
          term: bound.term,
          ...(removeMeta ? { removeMeta } : {}),
          ...(rec.startTime?.[spec.sourceId] ? { startTime: rec.startTime[spec.sourceId] } : {}),
          ...(rec.startTimeAt?.[spec.sourceId] ? { startTimeAt: rec.startTimeAt[spec.sourceId] } : {}),
          ...(rec.startPosition?.[spec.sourceId] ? { startPosition: rec.startPosition[spec.sourceId] } : {}),
          log: this.log.child({ task: task.name, source: spec.sourceId }),
          publish: (s) => this.publish(s),
          coord: this.coord,
          ...(relay ? { relay } : {}),
          ...(this.probes ? { metrics: this.probes.metrics } : {}),
        });
        st.setBinlogOps(rec.binlogOps);
        st.setValidation(rec.validation);
        this.subtasks.set(key, { st, updatedAt: rec.updatedAt });
        st.setDesired(stage, false, rec.by);
        st.start();
      }
    }
    const view = { fenced: this.fence.fenced, tasks: this.tasks, sources: this.sources, bounds: this.bounds };
    for (const [key, { st }] of this.subtasks) {
      if (want.has(key)) continue;
      const [task, source] = key.split('\u0000') as [string, string];
      await st.stop(whyNotHere(this.cfg.name, task, source, view));
      this.subtasks.delete(key);
      if (!this.tasks.has(Keys.task(task)))
        await this.coord.delete(Bucket.status, Keys.subtaskStatus(task, source)).catch(() => undefined);
    }
    // After the subtasks that read them stopped.
    await this.relays.closeUnwanted(relays);
    // A check-data run this agent became responsible for (its task's first source was rebound here) resumes.
    if (!this.fence.fenced) await this.checks?.rescan().catch(() => undefined);
  }

  /** Relays of the sources bound to this agent: enable-relay, or the stage dmctl start/stop/pause/resume-relay set. */
  private wantedRelays(): Map<string, WantedRelay> {
    const out = new Map<string, WantedRelay>();
    for (const rec of this.sources.values()) {
      const bound = this.bounds.get(Keys.bound(rec.sourceId));
      if (!bound || bound.agent !== this.cfg.name) continue;
      let source;
      try {
        source = parseSourceConfig(rec.yaml, rec.file);
      } catch {
        continue;
      }
      const stage = rec.relayStage ?? (source.enableRelay ? 'Running' : undefined);
      if (stage)
        out.set(source.sourceId, { source, stage, ...(rec.relayStageAt ? { requestedAt: rec.relayStageAt } : {}) });
    }
    return out;
  }

  private async publish(s: SubtaskStatus): Promise<void> {
    // During shutdown the last real status stays: the task is not stopped, its agent is (query-status shows that).
    if (this.stopping) return;
    // Only the owner reports: a fenced agent, or one whose binding moved, must not overwrite the new owner's status.
    const b = this.bounds.get(Keys.bound(s.source));
    if (this.fence.fenced || b?.agent !== this.cfg.name) return;
    await this.coord.put(Bucket.status, Keys.subtaskStatus(s.task, s.source), s);
  }

  /** Graceful stop (SIGTERM): subtasks stop at a safe point with checkpoints flushed, then the lease is released. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.fence.stop();
    for (const u of this.unwatch) u();
    await this.reconciling.catch(() => undefined);
    await Promise.all([...this.subtasks.values()].map(({ st }) => st.stop('agent stopping')));
    await this.relays.close();
    // The rest only talks to NATS (resign, leave, flush events). A NATS that is gone would hold each call in its
    // retries (55 s measured, near systemd's TimeoutStopSec): past the grace the lease is left to expire instead.
    const nats = (async () => {
      await this.election.stop();
      await this.membership.stop();
      await this.events?.close();
    })();
    if ((await untilGrace(nats, STOP_NATS_GRACE_MS)) === 'late')
      this.log.warn({ graceMs: STOP_NATS_GRACE_MS }, 'NATS did not answer while stopping; the lease is left to expire');
    await untilGrace(this.coord.close(), STOP_NATS_GRACE_MS);
    this.probes?.close();
  }
}

/** How long a graceful stop waits for NATS once the subtasks have stopped. */
const STOP_NATS_GRACE_MS = 5_000;

/** `p`'s settling, or 'late' after `ms` (p's failure counts as settled: a stop goes on). */
function untilGrace(p: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((res) => {
    timer = setTimeout(() => res('late'), ms);
  });
  return Promise.race([
    p.then(
      () => 'done' as const,
      () => 'done' as const,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

function baseStatus(task: string, source: string, agent: string, generation: number): SubtaskStatus {
  return { task, source, agent, stage: 'New', unit: 'check', generation, updatedAt: new Date().toISOString() };
}
