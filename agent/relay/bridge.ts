import { DmError, Errors } from '../../src/errors/index.ts';
import type { EventSource } from '../binlog/event-source.ts';
import type { BinlogEvent } from '../binlog/events.ts';
import { comparePos, type BinlogPosition } from '../../src/binlog/position.ts';
import { RelayReader, type RelayReaderOptions } from './reader.ts';

/**
 * A task whose checkpoint is older than the relay's origin (the relay was created after the task's position, e.g.
 * on another agent after the source was rebound, or a relay enabled on a lagging task) reads the upstream binlog
 * directly until it reaches the origin, then switches to the relay at that transaction boundary. DM does the same
 * by starting its relay at the lowest subtask checkpoint; here the relay stays where it is and the task bridges.
 *
 * The switch happens right after handing out an event ending at or after the origin: every such end is a record
 * boundary in the relay (it stores every transaction and statement), so the relay reader continues with the next
 * record and the task's tracker, updated by the direct reader until then, carries on unchanged.
 */
export class BridgedReader implements EventSource {
  private cur: EventSource | undefined;
  private direct = false;

  constructor(
    private readonly relay: RelayReaderOptions,
    private readonly makeDirect: (start: BinlogPosition) => EventSource,
  ) {}

  start(): void {
    const r = new RelayReader(this.relay);
    try {
      r.start();
      this.cur = r;
    } catch (err) {
      const origin = this.relay.feed.store.origin();
      if (
        !(err instanceof DmError) ||
        err.code !== Errors.RelayPositionNotFound.code ||
        !origin?.name ||
        !this.relay.start.name
      )
        throw err;
      this.relay.warn('task position is older than the relay: reading the upstream binlog until the relay origin', {
        start: `${this.relay.start.name}:${this.relay.start.pos}`,
        origin: `${origin.name}:${origin.pos}`,
      });
      this.cur = this.makeDirect(this.relay.start);
      this.direct = true;
      this.cur.start();
    }
  }

  async next(timeoutMs?: number): Promise<BinlogEvent | undefined> {
    const ev = await this.cur!.next(timeoutMs);
    // A transaction's part has no position: the switch waits for the event that closes it.
    if (ev && this.direct && ev.kind !== 'txn-part') {
      const origin = this.relay.feed.store.origin();
      if (origin?.name && comparePos(ev.end, origin) >= 0) {
        await this.cur!.stop();
        const r = new RelayReader({ ...this.relay, start: ev.end });
        r.start();
        this.cur = r;
        this.direct = false;
        this.relay.warn('task reached the relay: reading the relay from here', {
          position: `${ev.end.name}:${ev.end.pos}`,
        });
      }
    }
    return ev;
  }

  streamPosition(): BinlogPosition | undefined {
    return this.cur?.streamPosition();
  }
  get idle(): boolean {
    return this.cur?.idle ?? true;
  }
  async stop(): Promise<void> {
    await this.cur?.stop();
  }
}
