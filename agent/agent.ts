import { parseSourceConfig, parseTaskConfig } from '../src/config/index.ts';
import type { AgentConfig } from '../src/config/agent-config.ts';
import {
  Bucket, Coord, Keys, Op, Subjects,
  type BoundRecord, type CheckSourceRequest, type CheckTaskRequest, type SourceRecord, type SubtaskStatus, type TaskRecord,
} from '../src/coord/index.ts';
import { Election } from './cluster/election.ts';
import { Membership } from './cluster/membership.ts';
import { schedule } from './cluster/scheduler.ts';
import type { Logger } from './log.ts';
import { checkSource, checkTask } from './ops.ts';
import { Subtask } from './subtask.ts';

export const VERSION = '0.1.0';

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

  constructor(private readonly cfg: AgentConfig, private readonly log: Logger) {}

  async start(): Promise<void> {
    const servers = this.cfg.nats.split(',').map((s) => s.trim());
    this.coord = await Coord.connect({
      servers, cluster: this.cfg.cluster, name: `dm-agent ${this.cfg.name}`,
      ...(this.cfg.natsUser ? { user: this.cfg.natsUser, pass: this.cfg.natsPassword ?? '' } : {}),
      ...(this.cfg.natsToken ? { token: this.cfg.natsToken } : {}),
    });
    for (const b of Object.values(Bucket)) await this.coord.kv(b);
    this.membership = new Membership(this.coord, this.cfg.name, VERSION, this.log);
    await this.membership.start();
    this.election = new Election(this.coord, this.cfg.name, this.log, () => schedule(this.coord, this.election.term, this.log));
    this.election.start();
    this.unwatch.push(this.coord.watch<TaskRecord>(Bucket.tasks, (e) => { if (e.deleted) this.tasks.delete(e.key); else this.tasks.set(e.key, e.value); this.kick(); }));
    this.unwatch.push(this.coord.watch<SourceRecord>(Bucket.sources, (e) => { if (e.deleted) this.sources.delete(e.key); else this.sources.set(e.key, e.value); this.kick(); }));
    this.unwatch.push(this.coord.watch<BoundRecord>(Bucket.bounds, (e) => { if (e.deleted) this.bounds.delete(e.key); else this.bounds.set(e.key, e.value); this.kick(); }));
    this.unwatch.push(this.coord.subscribe(Subjects.anyOp(this.cfg.cluster, Op.checkSource), (p) => checkSource(p as CheckSourceRequest), 'agents'));
    this.unwatch.push(this.coord.subscribe(Subjects.anyOp(this.cfg.cluster, Op.checkTask), (p) => checkTask(p as CheckTaskRequest), 'agents'));
    this.log.info({ name: this.cfg.name, cluster: this.cfg.cluster, nats: servers.map((s) => s.replace(/\/\/[^@/]*@/, '//')) }, 'agent started');
  }

  /** Coalesces watch notifications into one reconcile at a time. */
  private kick(): void {
    if (this.stopping) return;
    if (this.pending) return;
    this.pending = true;
    this.reconciling = this.reconciling.then(async () => {
      this.pending = false;
      try { await this.reconcile(); } catch (err) { this.log.error({ err: String(err) }, 'reconcile failed'); }
    });
  }

  private async reconcile(): Promise<void> {
    const want = new Set<string>();
    for (const rec of this.tasks.values()) {
      let task;
      try { task = parseTaskConfig(rec.yaml, rec.file); }
      catch (err) { this.log.error({ task: rec.name, err: String(err) }, 'stored task config is invalid'); continue; }
      for (const spec of task.subtasks) {
        const bound = this.bounds.get(Keys.bound(spec.sourceId));
        const srcRec = this.sources.get(Keys.source(spec.sourceId));
        if (!bound || bound.agent !== this.cfg.name || !srcRec) continue;
        const key = `${task.name}\u0000${spec.sourceId}`;
        const stage = rec.sourceStages?.[spec.sourceId] ?? rec.stage;
        const cur = this.subtasks.get(key);
        if (stage === 'Stopped') {
          if (cur) { await cur.st.stop(); this.subtasks.delete(key); }
          await this.publish({ ...(cur?.st.status ?? baseStatus(task.name, spec.sourceId, this.cfg.name, rec.generation)), stage: 'Stopped', updatedAt: new Date().toISOString() });
          continue;
        }
        want.add(key);
        if (cur && cur.st.generation === rec.generation) {
          cur.st.setBinlogOps(rec.binlogOps);
          cur.st.setDesired(stage, cur.updatedAt !== rec.updatedAt);
          cur.updatedAt = rec.updatedAt;
          continue;
        }
        if (cur) await cur.st.stop();
        const source = parseSourceConfig(srcRec.yaml, srcRec.file);
        const st = new Subtask({
          agent: this.cfg.name, task, spec, source, generation: rec.generation, removeMeta: rec.removeMeta === true,
          log: this.log.child({ task: task.name, source: spec.sourceId }),
          publish: (s) => this.publish(s),
        });
        st.setBinlogOps(rec.binlogOps);
        this.subtasks.set(key, { st, updatedAt: rec.updatedAt });
        st.setDesired(stage);
        st.start();
      }
    }
    for (const [key, { st }] of this.subtasks) {
      if (want.has(key)) continue;
      await st.stop();
      this.subtasks.delete(key);
      const [task, source] = key.split('\u0000') as [string, string];
      if (!this.tasks.has(Keys.task(task))) await this.coord.delete(Bucket.status, Keys.subtaskStatus(task, source)).catch(() => undefined);
    }
  }

  private async publish(s: SubtaskStatus): Promise<void> {
    // During shutdown the last real status stays: the task is not stopped, its agent is (query-status shows that).
    if (this.stopping) return;
    await this.coord.put(Bucket.status, Keys.subtaskStatus(s.task, s.source), s);
  }

  /** Graceful stop (SIGTERM): subtasks stop at a safe point with checkpoints flushed, then the lease is released. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const u of this.unwatch) u();
    await this.reconciling.catch(() => undefined);
    await Promise.all([...this.subtasks.values()].map(({ st }) => st.stop()));
    await this.election.stop();
    await this.membership.stop();
    await this.coord.close();
  }
}

function baseStatus(task: string, source: string, agent: string, generation: number): SubtaskStatus {
  return { task, source, agent, stage: 'New', unit: 'check', generation, updatedAt: new Date().toISOString() };
}
