import type { BinlogPosition } from '../src/binlog/position.ts';
import { parseSourceConfig } from '../src/config/index.ts';
import type { PurgeRelayRequest, PurgeRelayResult, SourceRecord, TaskRecord } from '../src/coord/index.ts';
import { DmError } from '../src/errors/index.ts';
import type { Logger } from './log.ts';
import { autoPurge, neededSeq, purgeRelay, type TaskNeed } from './relay/purge.ts';
import type { RelayWriter } from './relay/writer.ts';

/** What relay upkeep reads of the agent. */
export interface RelayUpkeepHost {
  agent(): string;
  log(): Logger;
  tasks(): Iterable<TaskRecord>;
  source(id: string): SourceRecord | undefined;
  writer(id: string): RelayWriter | undefined;
  /** Where a task's subtask of this source stands: the running subtask's, else its last status in dm_status. */
  synced(task: string, source: string): Promise<BinlogPosition | undefined>;
}

/** The agent's relay upkeep: what its tasks still need, the automatic purge, and the purge-relay op. */
export class RelayUpkeep {
  private readonly lastPurge = new Map<string, number>();

  constructor(private readonly host: RelayUpkeepHost) {}

  /**
   * Where each task of the source will resume (what relay purge must keep): its last reported checkpoint, from the
   * running subtask or else from dm_status; undefined (keep everything) while a task has not reached sync.
   */
  async taskNeeds(sourceId: string): Promise<TaskNeed[]> {
    const out: TaskNeed[] = [];
    for (const rec of this.host.tasks()) {
      if (!rec.sources.includes(sourceId) || (rec.sourceStages?.[sourceId] ?? rec.stage) === 'Stopped') continue;
      out.push({ task: rec.name, synced: await this.host.synced(rec.name, sourceId) });
    }
    return out;
  }

  /** Every status tick of a relay: what tasks need, and the automatic purge every `purge.interval` seconds. */
  async tick(w: RelayWriter): Promise<void> {
    const needs = await this.taskNeeds(w.sourceId);
    const need = neededSeq(w.store, needs);
    w.needed = need.task ? { seq: need.seq, task: need.task } : { seq: need.seq };
    const src = this.host.source(w.sourceId);
    if (!src) return;
    const source = parseSourceConfig(src.yaml, src.file);
    const last = this.lastPurge.get(w.sourceId) ?? 0;
    if (Date.now() - last < source.purge.interval * 1000) return;
    this.lastPurge.set(w.sourceId, Date.now());
    const r = await autoPurge(w.store, source, needs, w.store.dir);
    if (r) {
      w.lastPurge = { at: new Date().toISOString(), records: r.purged, reason: r.reason };
      this.host.log().info({ source: w.sourceId, purged: r.purged, reason: r.reason }, 'relay purged');
    }
  }

  async purge(req: PurgeRelayRequest): Promise<PurgeRelayResult> {
    const w = this.host.writer(req.source);
    if (!w) throw new DmError('RelayNotEnabled', `source ${req.source} has no relay on agent ${this.host.agent()}`);
    const r = await purgeRelay(w.store, await this.taskNeeds(req.source), req.filename);
    w.lastPurge = {
      at: new Date().toISOString(),
      records: r.purged,
      reason: req.filename ? `purge-relay --filename ${req.filename}` : 'purge-relay',
    };
    this.host
      .log()
      .info({ source: req.source, purged: r.purged, filename: req.filename }, 'relay purged by purge-relay');
    const st = w.store.state();
    return {
      source: req.source,
      purged: r.purged,
      firstSeq: w.store.firstSeq(),
      lastSeq: st?.seq ?? 0,
      size: w.store.size(),
    };
  }
}
