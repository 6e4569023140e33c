import type { SourceConfig } from '../../src/config/types.ts';
import type { DesiredStage } from '../../src/coord/records.ts';
import type { RelayStatus } from '../../src/coord/relay-records.ts';
import type { Logger } from '../log.ts';
import { RelayWriter } from './writer.ts';
import type { EventInput } from '../../src/events/record.ts';

export interface WantedRelay {
  source: SourceConfig;
  stage: DesiredStage;
  requestedAt?: string;
}

const STATUS_INTERVAL_MS = 1000;

/**
 * Row changes the relay's upstream reader may queue before it pauses the binlog connection (resumes below a fifth).
 * Tuning only (env TSDM_RELAY_QUEUE_ROWS): the default bounds the queue to some tens of MB.
 */
function queueRows(): number {
  const n = Number(process.env.TSDM_RELAY_QUEUE_ROWS);
  return Number.isInteger(n) && n > 0 ? n : 50_000;
}

/**
 * The relays this agent runs: one RelayWriter per source bound to it whose relay is enabled (enable-relay or
 * start-relay), independent of tasks. The agent reconciles the set; subtasks get the feed of their source.
 */
export class Relays {
  private readonly writers = new Map<string, RelayWriter>();
  /** The stage last asked for per relay: an error parks a writer, and only a new request (resume-relay) restarts it. */
  private readonly asked = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      agent: string;
      dataDir: string;
      log: Logger;
      publish(status: RelayStatus): Promise<void>;
      /** The relay is gone from this agent (source removed, rebound elsewhere, relay no longer wanted). */
      unpublish(sourceId: string): Promise<void>;
      /** The relay's periodic work (purge), with its writer; errors are logged. */
      tick?(w: RelayWriter): Promise<void>;
      /** Events of the relays (dm_events). */
      event?(e: EventInput): void;
    },
  ) {}

  /** The relay of `sourceId` on this agent (a subtask reads it as its RelayFeed). */
  writer(sourceId: string): RelayWriter | undefined {
    return this.writers.get(sourceId);
  }

  /**
   * Starts the relays in `wanted` and applies their desired stage (closeUnwanted closes the others). A new relay
   * is given a few seconds to reach the upstream and fix its starting point before the caller starts the source's
   * subtasks, so a task's snapshot position is never older than the relay's start.
   */
  async reconcile(wanted: Map<string, WantedRelay>): Promise<void> {
    for (const [id, want] of wanted) {
      let w = this.writers.get(id);
      const asked = `${want.stage}@${want.requestedAt ?? ''}`;
      if (!w) {
        const high = queueRows();
        w = new RelayWriter({
          agent: this.o.agent,
          source: want.source,
          dataDir: this.o.dataDir,
          log: this.o.log.child({ source: id, unit: 'relay' }),
          highWater: high,
          lowWater: Math.max(1, Math.floor(high / 5)),
          ...(this.o.event ? { event: this.o.event } : {}),
        });
        this.writers.set(id, w);
        this.asked.set(id, asked);
        w.setDesired(want.stage);
        if (want.stage === 'Running') await w.whenReady(15_000);
      } else if (this.asked.get(id) !== asked) {
        this.asked.set(id, asked);
        w.setDesired(want.stage);
      }
    }
    if (!this.timer && this.writers.size > 0) {
      this.timer = setInterval(() => {
        void this.report();
      }, STATUS_INTERVAL_MS);
    }
  }

  /** Closes the relays not in `wanted`; called after the subtasks reading them were stopped. */
  async closeUnwanted(wanted: Map<string, WantedRelay>): Promise<void> {
    for (const [id, w] of this.writers) {
      if (wanted.has(id)) continue;
      this.writers.delete(id);
      this.asked.delete(id);
      await w.close().catch((err: unknown) => this.o.log.warn({ source: id, err: String(err) }, 'relay close failed'));
      this.o.log.info({ source: id }, 'relay closed: the source is no longer bound here or its relay is off');
      await this.o.unpublish(id).catch(() => undefined);
    }
  }

  private reporting = false;
  private async report(): Promise<void> {
    if (this.reporting) return;
    this.reporting = true;
    try {
      for (const w of this.writers.values()) {
        if (this.o.tick)
          await this.o
            .tick(w)
            .catch((err: unknown) => this.o.log.warn({ source: w.sourceId, err: String(err) }, 'relay purge failed'));
        await this.o
          .publish(w.status())
          .catch((err: unknown) =>
            this.o.log.warn({ source: w.sourceId, err: String(err) }, 'relay status publish failed'),
          );
      }
    } finally {
      this.reporting = false;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.writers.values()].map((w) => w.close()));
    this.writers.clear();
  }
}
