import { parseSourceConfig, parseTaskConfig } from '../src/config/index.ts';
import { DmError, Errors } from '../src/errors/index.ts';
import { CheckRunner } from './verify/runner.ts';
import { agentNatsSettings, type AgentConfig } from '../src/config/agent-config.ts';
import {
  Bucket,
  Coord,
  eventsOf,
  resolveNatsAuth,
  Keys,
  LEASE_TTL_MS,
  Op,
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
import { setSecretKey } from './db/mysql.ts';
import { BUILTIN_KEY_WARNING, loadSecretKey } from '../src/config/secret.ts';
import { Subtask } from './subtask.ts';
import { logBindingChange, restartCause, whyNotHere } from './cluster/binding-log.ts';
import { syncHoldOp } from './verify/hold-op.ts';
import { validationErrorOp } from './verify/validator-op.ts';
import { Relays, type WantedRelay } from './relay/relays.ts';
import { RelayUpkeep } from './relay-upkeep.ts';
import type { AgentProbes } from './agent-metrics.ts';
import type { PurgeRelayRequest } from '../src/coord/index.ts';
import { startEvents } from './events.ts';

export const VERSION = '0.1.0';

/**
 * Self-fencing: an agent whose member key has not been renewed for this long stops every subtask (they stop
 * writing downstream), well before the key can expire (LEASE_TTL_MS after the last renewal) and the leader can
 * rebind its sources. It resumes when a renewal succeeds again and a fresh read of dm_bounds says it still owns them.
 */
export const FENCE_AFTER_MS = LEASE_TTL_MS / 2;

/**
 * Test hook: TSDM_FAULT_NO_SELF_FENCE=1 makes a zombie: no watchdog, and subtasks keep running after their binding
 * moved. It proves that the downstream term check alone keeps a stale agent from writing (fencing-scenario.ts).
 */
const ZOMBIE = process.env.TSDM_FAULT_NO_SELF_FENCE === '1';

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
  /** True while the member lease is not known to be alive: no subtask runs, no status is published. */
  private fenced = false;
  private watchdog: NodeJS.Timeout | undefined;
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
    // Credentials and TLS files are checked here: a missing or wrong one is a config error (exit 2) naming it.
    const { settings, origins } = agentNatsSettings(this.cfg);
    const auth = resolveNatsAuth(settings, origins);
    this.coord = await Coord.connect({
      auth,
      cluster: this.cfg.cluster,
      name: `dm-agent ${this.cfg.name}`,
      replicas: this.cfg.replicas,
    });
    // nats-server 2.9 can lose track of lease keys after an outage (docs/architecture.md "After a NATS outage"):
    // every inconsistency Coord meets and every repair is a warning with a stable message.
    this.coord.health.onAnomaly((a) =>
      this.log.warn({ bucket: a.bucket, key: a.key, kind: a.kind, detail: a.detail }, 'nats kv inconsistent'),
    );
    this.coord.health.onRepair((bucket, rewritten) => this.log.warn({ bucket, rewritten }, 'nats kv bucket repaired'));
    // A NATS cluster still electing its JetStream meta leader (all nodes just started, or one just lost) answers
    // bucket creation with timeouts (Coord.kv retries those for READ_RETRY_MS) and, while peers are still joining,
    // with errors that are not timeouts: 12 attempts 5 s apart before giving up.
    for (const b of Object.values(Bucket)) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.coord.kv(b);
          break;
        } catch (err) {
          // JetStream off is not a cluster still electing: exit now with the coded error (systemd restarts us).
          if (attempt >= 12 || (err instanceof DmError && err.code === Errors.JetStreamDisabled.code)) throw err;
          this.log.warn({ bucket: b, attempt, delayMs: 5000, err: String(err) }, 'cannot open KV bucket yet; retrying');
          await new Promise((r) => setTimeout(r, 5000));
        }
      }
    }
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
    if (!ZOMBIE)
      this.watchdog = setInterval(() => {
        void this.checkLease();
      }, 250);
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
      { op: Op.purgeRelay, to: 'agent', handle: (p) => this.relayUpkeep.purge(p as PurgeRelayRequest) },
      syncHoldOp(this.cfg.name, (task, source) =>
        this.fenced ? undefined : this.subtasks.get(`${task}\u0000${source}`)?.st,
      ),
      validationErrorOp(
        this.cfg.name,
        (task, source) => (this.fenced ? undefined : this.subtasks.get(`${task}\u0000${source}`)?.st),
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

  /** The self-fencing watchdog (see FENCE_AFTER_MS). */
  private async checkLease(): Promise<void> {
    if (this.stopping) return;
    const stale = Date.now() - this.membership.lastRenewed > FENCE_AFTER_MS;
    if (stale && !this.fenced) {
      this.fenced = true;
      this.log.warn(
        { lastRenewed: new Date(this.membership.lastRenewed).toISOString() },
        'member lease not renewed: fencing, all subtasks stop writing',
      );
      this.kick();
    } else if (!stale && this.fenced) {
      // Bindings may have moved while we were cut off: read them afresh before running anything again.
      try {
        const fresh = await this.coord.list<BoundRecord>(Bucket.bounds);
        this.bounds.clear();
        for (const e of fresh) this.bounds.set(e.key, e.value);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'cannot re-read bindings after fencing');
        return;
      }
      if (Date.now() - this.membership.lastRenewed > FENCE_AFTER_MS) return;
      this.fenced = false;
      this.log.info('member lease renewed: fencing lifted');
      this.kick();
    }
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
        task = parseTaskConfig(rec.yaml, rec.file);
      } catch (err) {
        this.log.error({ task: rec.name, err: String(err) }, 'stored task config is invalid');
        continue;
      }
      for (const spec of task.subtasks) {
        const bound = this.bounds.get(Keys.bound(spec.sourceId));
        const srcRec = this.sources.get(Keys.source(spec.sourceId));
        const key = `${task.name}\u0000${spec.sourceId}`;
        if (ZOMBIE && this.subtasks.has(key) && bound?.agent !== this.cfg.name) {
          want.add(key);
          continue;
        }
        if (!bound || bound.agent !== this.cfg.name || !srcRec || this.fenced) continue;
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
        const st = new Subtask({
          agent: this.cfg.name,
          task,
          spec,
          source,
          generation: rec.generation,
          term: bound.term,
          removeMeta: rec.removeMeta === true,
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
    const view = { fenced: this.fenced, tasks: this.tasks, sources: this.sources, bounds: this.bounds };
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
    if (!this.fenced) await this.checks?.rescan().catch(() => undefined);
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
    if (this.fenced || b?.agent !== this.cfg.name) return;
    await this.coord.put(Bucket.status, Keys.subtaskStatus(s.task, s.source), s);
  }

  /** Graceful stop (SIGTERM): subtasks stop at a safe point with checkpoints flushed, then the lease is released. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const u of this.unwatch) u();
    await this.reconciling.catch(() => undefined);
    await Promise.all([...this.subtasks.values()].map(({ st }) => st.stop('agent stopping')));
    await this.relays.close();
    await this.election.stop();
    await this.membership.stop();
    await this.events?.close();
    await this.coord.close();
    this.probes?.close();
  }
}

function baseStatus(task: string, source: string, agent: string, generation: number): SubtaskStatus {
  return { task, source, agent, stage: 'New', unit: 'check', generation, updatedAt: new Date().toISOString() };
}
