import { parseSourceConfig, parseTaskConfig, recordLoadOptions } from '../../src/config/index.ts';
import type { SourceConfig } from '../../src/config/types.ts';
import {
  Bucket,
  type BoundRecord,
  type CheckRecord,
  type Coord,
  Keys,
  type SourceRecord,
  type SubtaskStatus,
  type TaskRecord,
} from '../../src/coord/index.ts';
import { asDmError, DmError } from '../../src/errors/index.ts';
import { showPos } from '../../src/binlog/position.ts';
import type { Logger } from '../log.ts';
import type { Connection } from 'mysql2/promise';
import { connect, query } from '../db/mysql.ts';
import { natsHoldClient } from './consistent-point.ts';
import { runCheck } from './job.ts';

/** A repair holds sync while it compares a differing table again and fixes it; a dead checker stalls sync this long
 * at most (repair.ts confirms the hold before it commits). */
const REPAIR_HOLD_TTL_MS = 300_000;

/** What the runner reads of the agent's watched state. */
export interface CheckRunnerHost {
  agent: string;
  coord: Coord;
  log: Logger;
  bound(sourceId: string): BoundRecord | undefined;
}

/**
 * Runs the check-data requests this agent is responsible for (src/coord/check-records.ts, steps 2-4): the agent bound
 * to the task's first source (by source-id) takes a `pending` record, or a `running` one whose owner is not this
 * process's run (an agent killed mid-check: its successor resumes from the stored progress).
 */
export class CheckRunner {
  private readonly running = new Map<string, AbortController>();
  private unwatch: (() => void) | undefined;

  constructor(private readonly host: CheckRunnerHost) {}

  start(): void {
    this.unwatch = this.host.coord.watch<CheckRecord>(Bucket.checks, (e) => {
      if (e.deleted || !e.key.startsWith('check.')) return;
      this.consider(e.value);
    });
  }

  /** Called by the agent when bindings change: a check this agent now owns may be waiting. */
  async rescan(): Promise<void> {
    for (const e of await this.host.coord.list<CheckRecord>(Bucket.checks, 'check.*')) this.consider(e.value);
  }

  stop(): void {
    this.unwatch?.();
    for (const a of this.running.values()) a.abort();
  }

  private consider(rec: CheckRecord): void {
    if (rec.state !== 'pending' && rec.state !== 'running') return;
    if (this.running.has(rec.task)) return;
    const abort = new AbortController();
    this.running.set(rec.task, abort);
    void this.run(rec.task, abort)
      .catch((err: unknown) => this.host.log.error({ task: rec.task, err: String(err) }, 'check-data failed'))
      .finally(() => {
        if (this.running.get(rec.task) === abort) this.running.delete(rec.task);
      });
  }

  private async run(taskName: string, abort: AbortController): Promise<void> {
    const { coord, log } = this.host;
    const key = Keys.check(taskName);
    const taskE = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(taskName));
    const first = taskE ? [...taskE.value.sources].sort()[0] : undefined;
    if (first === undefined || this.host.bound(first)?.agent !== this.host.agent) return;
    let entry = await coord.get<CheckRecord>(Bucket.checks, key);
    if (!entry || (entry.value.state !== 'pending' && entry.value.state !== 'running')) return;
    if (
      entry.value.state === 'running' &&
      entry.value.owner === this.host.agent &&
      this.running.get(taskName) !== abort
    )
      return;
    const now = new Date().toISOString();
    const taken: CheckRecord = {
      ...entry.value,
      state: 'running',
      owner: this.host.agent,
      startedAt: entry.value.startedAt ?? now,
      updatedAt: now,
      ...(entry.value.state === 'running' ? { resumed: (entry.value.resumed ?? 0) + 1 } : {}),
    };
    let revision = await coord.update(Bucket.checks, key, taken, entry.revision);
    if (revision === undefined) return; // somebody else changed it: the watch brings the new value
    const id = taken.id;
    let current = taken;
    // CAS read-modify-write; the record changing under us (another owner, a new check) ends this run.
    const update = async (fn: (r: CheckRecord) => CheckRecord): Promise<CheckRecord> => {
      for (;;) {
        if (first !== undefined && this.host.bound(first)?.agent !== this.host.agent) {
          abort.abort();
          throw new DmError('CheckLost', `task ${taskName}: its first source ${first} is bound to another agent now`);
        }
        const next = { ...fn(current), updatedAt: new Date().toISOString() };
        const rev = await coord.update(Bucket.checks, key, next, revision!);
        if (rev !== undefined) {
          revision = rev;
          current = next;
          return next;
        }
        entry = await coord.get<CheckRecord>(Bucket.checks, key);
        if (!entry || entry.value.id !== id || entry.value.owner !== this.host.agent) {
          abort.abort();
          throw new DmError('CheckLost', `the check ${id} of task ${taskName} was taken over or replaced`);
        }
        current = entry.value;
        revision = entry.revision;
      }
    };
    log.info({ task: taskName, check: id, resumed: taken.resumed ?? 0 }, 'check-data: started');
    let load = new Map<string, Connection>();
    try {
      const task = parseTaskConfig(taskE!.value.yaml, taskE!.value.file, recordLoadOptions(taskE!.value));
      const sources = new Map<string, SourceConfig>();
      const syncing = new Set<string>();
      const notes: string[] = [];
      // One connection per upstream for the throttle's Threads_running reads (closed when the run ends).
      load = new Map<string, Connection>();
      for (const spec of task.subtasks) {
        const s = await coord.get<SourceRecord>(Bucket.sources, Keys.source(spec.sourceId));
        if (!s) throw new DmError('SourceNotFound', `source ${spec.sourceId} does not exist`);
        sources.set(spec.sourceId, parseSourceConfig(s.value.yaml, s.value.file));
        // A subtask starting (an agent restarted, a resumed check) is in its check unit for a moment: wait for it.
        const deadline = Date.now() + STARTING_WAIT_MS;
        for (;;) {
          const st = (await coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus(taskName, spec.sourceId)))
            ?.value;
          const ready = readiness(task.taskMode, st);
          if (ready === 'syncing') syncing.add(spec.sourceId);
          else if (ready === 'still' && st && st.stage !== 'Finished')
            notes.push(
              `source ${spec.sourceId}'s sync is ${st.stage}${st.error ? ` by error ${st.error.code}` : ''}: the downstream is compared as it stands, so upstream changes after ${showPos(st.sync?.synced)} show as differences`,
            );
          else if (ready === 'starting' && Date.now() < deadline && !abort.signal.aborted) {
            await new Promise((r) => setTimeout(r, 500));
            continue;
          } else if (ready !== 'still')
            throw new DmError(
              'CheckNotReady',
              `task ${taskName} source ${spec.sourceId}: ${ready === 'starting' ? 'has not reached its sync unit' : ready}`,
              { context: { task: taskName, source: spec.sourceId } },
            );
          break;
        }
      }
      if (notes.length) current = await update((r) => ({ ...r, notes }));
      const done = await runCheck(current, {
        task,
        sources,
        syncing,
        holds: natsHoldClient(coord, taskName, id),
        repairHolds: natsHoldClient(coord, taskName, `${id}-repair`, { ttlMs: REPAIR_HOLD_TTL_MS }),
        update,
        putFix: async (n, fix) => {
          await coord.put(Bucket.checks, Keys.checkFix(taskName, id, n), fix);
        },
        lagSeconds: async () => {
          let max = 0;
          for (const source of syncing) {
            const st = (await coord.get<SubtaskStatus>(Bucket.status, Keys.subtaskStatus(taskName, source)))?.value;
            max = Math.max(max, st?.sync?.lagSeconds ?? 0);
          }
          return max;
        },
        threadsRunning: async () => {
          const out: { source: string; running: number }[] = [];
          for (const [source, cfg] of sources) {
            let c = load.get(source);
            if (!c) load.set(source, (c = await connect(cfg.from, 'upstream')));
            const [r] = await query<{ Value: string }[]>(c, 'upstream', "SHOW GLOBAL STATUS LIKE 'Threads_running'");
            out.push({ source, running: Number(r?.Value ?? 0) });
          }
          return out;
        },
        log: log.child({ task: taskName, check: id }),
        signal: abort.signal,
      });
      for (const c of load.values()) c.destroy();
      log.info({ task: taskName, check: id, differences: done.differences }, 'check-data: finished');
    } catch (err) {
      for (const c of load.values()) c.destroy();
      if (abort.signal.aborted) return; // taken over, or the agent stops: the record stays `running` for a successor
      const e = asDmError(err);
      log.warn({ task: taskName, check: id, err: e.message }, 'check-data: failed');
      await update((r) => ({ ...r, state: 'failed', error: e.toRecord(), finishedAt: new Date().toISOString() })).catch(
        () => undefined,
      );
    }
  }
}

/** How long a check waits for a subtask that is starting (New, or in its check unit) to reach sync. */
const STARTING_WAIT_MS = 60_000;

/** 'syncing': hold it; 'still': its downstream does not move (a finished full task); 'starting': wait a moment;
 * else why it cannot be checked. */
function readiness(mode: string, st: SubtaskStatus | undefined): 'syncing' | 'still' | 'starting' | string {
  if (!st || st.stage === 'New' || (st.stage === 'Running' && st.unit === 'check')) return 'starting';
  if (st.stage === 'Finished') return 'still';
  if (st.stage === 'Running' && st.unit === 'sync') return 'syncing';
  // A paused or stopped sync does not move the downstream: compared as it stands (the report notes that upstream
  // changes after its position show as differences). Paused in the load, the copy is partial: refused.
  if ((st.stage === 'Paused' || st.stage === 'Stopped') && st.unit === 'sync') return 'still';
  if (st.stage === 'Paused' && st.error)
    return `is paused by error ${st.error.code} in its ${st.unit} unit (resume it first)`;
  if (st.stage === 'Paused' || st.stage === 'Stopped') return `is ${st.stage} in its ${st.unit} unit (resume it first)`;
  return `is in its ${st.unit} unit (${mode} mode): check-data compares once the load finished`;
}
